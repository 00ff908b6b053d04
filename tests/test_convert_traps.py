"""Regression tests for the SQLAlchemy traps of Column -> Mapped conversion (issue 3)."""

from __future__ import annotations

import pytest
import sqlalchemy

from codemods.convert import convert_module_text
from codemods.index._lookup import sites_in_text

from support.ddl_probe import run_models

CLS_A = "class A(Base):\n    __tablename__ = 'a'\n    id = Column(Integer, primary_key=True)\n"
HEAD = (
    "from sqlalchemy import JSON, Column, Float, ForeignKey, Integer, String\n"
    "from sqlalchemy.orm import DeclarativeBase, relationship\n\n\n"
    "class Base(DeclarativeBase):\n    pass\n\n\n"
)


def convert(text: str, module: str = "m") -> str:
    new, _notes, _classes = convert_module_text(text, module, {s.class_name: [s] for s in sites_in_text(text, module)})
    return new


def same_ddl(before: str, after: str) -> dict[str, str]:
    old, old_error = run_models({"m.py": before}, ["m"])
    new, new_error = run_models({"m.py": after}, ["m"])
    assert old_error is None and new_error is None, (old_error, new_error)
    assert old and new == old
    return new


@pytest.mark.slow
def test_nullable_string_column_becomes_optional_not_not_null() -> None:
    before = HEAD + CLS_A + "    name = Column(String(50))\n"
    after = convert(before)
    assert "    name: Mapped[Optional[str]] = mapped_column(String(50))\n" in after
    ddl = same_ddl(before, after)
    assert "name VARCHAR(50)," in ddl["a [sqlite]"]
    assert "NOT NULL" not in ddl["a [sqlite]"].split("name VARCHAR(50)")[1].split(",")[0]


@pytest.mark.slow
def test_float_type_stays_explicit_because_annotation_alone_maps_differently_by_version() -> None:
    before = HEAD + CLS_A + "    x = Column(Float, nullable=False)\n"
    after = convert(before)
    assert "    x: Mapped[float] = mapped_column(Float)\n" in after
    ddl = same_ddl(before, after)
    assert "x FLOAT NOT NULL" in ddl["a [sqlite]"]
    # the trap itself: without the explicit type, 2.1 maps float to Double
    bare = after.replace("mapped_column(Float)", "mapped_column()")
    bare_ddl, _ = run_models({"m.py": bare}, ["m"])
    if sqlalchemy.__version__.startswith("2.1"):
        assert "x DOUBLE NOT NULL" in bare_ddl["a [sqlite]"]


@pytest.mark.slow
def test_json_keeps_its_type_because_mapped_dict_has_no_default_type() -> None:
    before = HEAD + CLS_A + "    data = Column(JSON)\n"
    after = convert(before)
    assert "    data: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)\n" in after
    same_ddl(before, after)


def test_type_checking_only_name_gets_a_runtime_import_under_future_annotations() -> None:
    before = (
        "from __future__ import annotations\n\nimport enum\nfrom typing import TYPE_CHECKING\n\n"
        "from sqlalchemy import Column, Enum, Integer, Numeric\n"
        "from sqlalchemy.orm import DeclarativeBase\n\n"
        "if TYPE_CHECKING:\n    from decimal import Decimal\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class A(Base):\n    __tablename__ = 'a'\n    id = Column(Integer, primary_key=True)\n"
        "    amount = Column(Numeric(10, 2), nullable=False)\n"
    )
    after = convert(before)
    assert "    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))\n" in after
    head = after.split("if TYPE_CHECKING:")[0]
    assert "from decimal import Decimal\n" in head
    same_ddl(before, after)


def test_one_to_one_parent_side_is_optional_scalar() -> None:
    before = HEAD + (
        "class P(Base):\n    __tablename__ = 'p'\n    id = Column(Integer, primary_key=True)\n"
        "    child = relationship('C', uselist=False, back_populates='parent')\n\n\n"
        "class C(Base):\n    __tablename__ = 'c'\n    id = Column(Integer, primary_key=True)\n"
        "    p_id = Column(ForeignKey('p.id'), unique=True)\n"
        "    parent = relationship('P', back_populates='child')\n"
    )
    after = convert(before)
    assert "    child: Mapped[Optional[\"C\"]] = relationship('C', uselist=False, back_populates='parent')\n" in after
    assert "    parent: Mapped[Optional[\"P\"]] = relationship('P', back_populates='child')\n" in after
    assert "    p_id: Mapped[Optional[int]] = mapped_column(ForeignKey('p.id'), unique=True)\n" in after
    same_ddl(before, after)


def test_one_to_many_from_fk_direction_is_a_list() -> None:
    before = HEAD + (
        "class P(Base):\n    __tablename__ = 'p'\n    id = Column(Integer, primary_key=True)\n"
        "    kids = relationship('C')\n\n\n"
        "class C(Base):\n    __tablename__ = 'c'\n    id = Column(Integer, primary_key=True)\n"
        "    p_id = Column(Integer, ForeignKey('p.id'), nullable=False)\n"
    )
    after = convert(before)
    assert "    kids: Mapped[list[\"C\"]] = relationship('C')\n" in after
    same_ddl(before, after)


def test_pipe_style_module_gets_pipe_none() -> None:
    before = "from __future__ import annotations\n" + HEAD + (
        "def f(x: int | None) -> None:\n    pass\n\n\n"
        + CLS_A + "    n = Column(String(5))\n"
    )
    after = convert(before)
    assert "    n: Mapped[str | None] = mapped_column(String(5))\n" in after
    same_ddl(before, after)


def test_model_sites_are_the_index_models_with_their_fk_tables() -> None:
    """One definition of "is a model": a plain class with a `__tablename__` is not one (the index's rule)."""
    text = HEAD + CLS_A + (
        "\n\nclass B(Base):\n    __tablename__ = 'b'\n    id = Column(Integer, primary_key=True)\n"
        "    a_id = Column(Integer, ForeignKey('a.id'))\n"
        "\n\nclass NotMapped:\n    __tablename__ = 'fake'\n"
    )
    sites = {s.class_name: (s.table, s.fk_tables) for s in sites_in_text(text, "m")}
    assert sites == {"A": ("a", frozenset()), "B": ("b", frozenset({"a"}))}
