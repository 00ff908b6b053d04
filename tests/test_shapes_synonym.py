"""Issue 12 item 5: one column under two attribute names is matched by column; the old name is a synonym."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.shapes import git, stage_and_test

pytestmark = pytest.mark.slow


def test_old_attribute_becomes_a_synonym(tmp_path: Path) -> None:
    staged, tests = stage_and_test("shape_synonym", tmp_path / "p")
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert tests is not None and tests.returncode == 0, tests.stdout[-3000:]
    merged = git(tmp_path / "p", "show", "HEAD:people/models.py")
    assert 'name = synonym("full_name")' in merged
    assert "full_name: Mapped[str]" in merged and '"full_name", String' not in merged
