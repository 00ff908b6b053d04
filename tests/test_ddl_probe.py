"""The DDL probe the merge/convert tests rely on reports mapping errors instead of hiding them."""

from __future__ import annotations

from support.ddl_probe import run_models


def test_run_models_reports_a_mapping_error() -> None:
    broken = (
        "from sqlalchemy.orm import DeclarativeBase, Mapped\n"
        "class Base(DeclarativeBase):\n    pass\n"
        "class A(Base):\n    __tablename__ = 'a'\n    data: Mapped[dict]\n"
    )
    ddl, error = run_models({"m.py": broken}, ["m"])
    assert ddl == {}
    assert error is not None
