"""Issue 12 item 8: validators of one attribute in both classes are a conflict, never both kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.shapes import git, modelfold, project, stage_and_test

pytestmark = pytest.mark.slow


def test_keep_canonical_keeps_one_validator(tmp_path: Path) -> None:
    staged, tests = stage_and_test("shape_validators", tmp_path / "p")
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert "email (validator): kept canonical" in staged.stdout
    assert tests is not None and tests.returncode == 0, tests.stdout[-3000:]
    merged = git(tmp_path / "p", "show", "HEAD:accounts/models.py")
    assert "def check_email" not in merged and "def check_phone" in merged


def test_policy_fail_refuses_with_exit_3(tmp_path: Path) -> None:
    tree = project("shape_validators", tmp_path / "p")
    run = modelfold(tree, "migrate", "--auto", "--on-conflict", "fail")
    assert run.returncode == 3, run.stdout + run.stderr
    assert "email (validator)" in run.stderr
    assert git(tree, "status", "--porcelain") == ""
