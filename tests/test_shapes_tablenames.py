"""Issue 12 item 12: table names computed by a declared_attr on the Base or from a module constant."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.index._naming import apply_rule

from support.shapes import modelfold, project, stage_and_test


def test_the_projects_own_re_sub_names_the_table() -> None:
    rule = ("name", "sub:(?<!^)(?=[A-Z])\0_", "lower", "suffix:s")
    assert apply_rule(rule, "HTTPLogEntry") == "h_t_t_p_log_entrys"  # as the project's own code would
    assert apply_rule(("name", "lower"), "Invoice") == "invoice"


@pytest.mark.slow
def test_check_groups_computed_names(tmp_path: Path) -> None:
    tree = project("shape_tablenames", tmp_path / "p")
    run = modelfold(tree, "check")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "contact_persons" in run.stdout and "crm_notes" in run.stdout


@pytest.mark.slow
def test_both_groups_migrate(tmp_path: Path) -> None:
    staged, tests = stage_and_test("shape_tablenames", tmp_path / "p")
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert tests is not None and tests.returncode == 0, tests.stdout[-3000:]
