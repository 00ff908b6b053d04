"""Issue 12 item 7: a copied __mapper_args__ that names columns comes after them."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.shapes import git, stage_and_test

pytestmark = pytest.mark.slow


def test_mapper_args_follow_the_columns_they_name(tmp_path: Path) -> None:
    staged, tests = stage_and_test("shape_mapper_args", tmp_path / "p")
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert tests is not None and tests.returncode == 0, tests.stdout[-3000:]
    merged = git(tmp_path / "p", "show", "HEAD:docs/models.py")
    assert merged.index("version: Mapped[int]") < merged.index("__mapper_args__")
