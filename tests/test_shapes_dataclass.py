"""Issue 12 item 6: a dataclass-mapped canonical keeps its __init__; added fields are kw_only or defaulted."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.shapes import git, stage_and_test

pytestmark = pytest.mark.slow


def test_added_fields_keep_init_valid(tmp_path: Path) -> None:
    staged, tests = stage_and_test("shape_dataclass", tmp_path / "p", "members.models:Member", "members.legacy:Member")
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert tests is not None and tests.returncode == 0, tests.stdout[-3000:]
    merged = git(tmp_path / "p", "show", "HEAD:members/models.py")
    assert "mapped_column(String(2), kw_only=True)" in merged
    assert "mapped_column(String(30), default=None)" in merged
