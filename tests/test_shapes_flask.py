"""Issue 12 item 14: Flask-SQLAlchemy `db.Integer`/`db.String(80)` are typed like SQLAlchemy's; a JSON
column defaulting to a list is typed list. (Flask-SQLAlchemy is not installed here: the merged
module is checked as text through the CLI's dry run.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.shapes import modelfold, project

pytestmark = pytest.mark.slow


def test_flask_columns_get_real_annotations(tmp_path: Path) -> None:
    tree = project("shape_flask", tmp_path / "p")
    run = modelfold(tree, "migrate", "--auto", "--dry-run")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Mapped[Any]" not in run.stdout
    assert "+    username: Mapped[Optional[str]] = mapped_column(db.String(80), unique=True)" in run.stdout
    assert "+    login_count: Mapped[int] = mapped_column(db.Integer, default=0)" in run.stdout
    assert "+    tags: Mapped[Optional[list[Any]]] = mapped_column(db.JSON, default=list)" in run.stdout
    assert "+    settings: Mapped[Optional[dict[str, Any]]] = mapped_column(db.JSON, default=dict)" in run.stdout
