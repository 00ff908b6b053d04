"""Issue 12 item 13: a SQLModel table class inheriting fields from a non-table base keeps inheriting them.

(SQLModel is not installed here: the plan is checked through the CLI's dry run.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.shapes import modelfold, project

pytestmark = pytest.mark.slow


def test_inherited_fields_are_counted_and_never_redeclared(tmp_path: Path) -> None:
    tree = project("shape_sqlmodel", tmp_path / "p")
    detect = modelfold(tree, "detect", "--format", "json")
    assert '"canonical": "heroes.models:Hero"' in detect.stdout, detect.stdout
    run = modelfold(tree, "migrate", "--auto", "--dry-run")
    assert run.returncode == 0, run.stdout + run.stderr
    models = run.stdout.split("b/heroes/models.py", 1)[1]
    added = [line for line in models.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["+    power: Optional[str] = None"], models
    assert "conflict: name (constant) -> kept canonical" in run.stderr
