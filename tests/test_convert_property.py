"""Property test: any legacy column spec converts to Mapped style with byte-identical DDL."""

from __future__ import annotations

import itertools
import sys
import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from codemods.convert import convert_module_text
from codemods.index._lookup import sites_in_text

TYPES = ["Integer", "BigInteger", "SmallInteger", "String(40)", "Text", "Unicode(20)", "Boolean", "DateTime",
         "DateTime(timezone=True)", "Date", "Time", "Interval", "Float", "Double", "Numeric(10, 2)",
         "Numeric(8, 3, asdecimal=False)", "LargeBinary", "JSON", "Uuid", "Enum('a', 'b', name='ab')",
         "Enum(Color)", "PickleType", "CHAR(3)", "VARCHAR(9)", "TIMESTAMP"]
HEAD = """import enum

from sqlalchemy import *
from sqlalchemy.orm import DeclarativeBase


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Base(DeclarativeBase):
    pass


"""
counter = itertools.count()


@st.composite
def column(draw: st.DrawFn, index: int) -> str:
    args = [draw(st.sampled_from(TYPES))]
    if draw(st.booleans()):
        args.insert(0, f"'db_col_{index}'")
    nullable = draw(st.sampled_from([None, True, False]))
    if nullable is not None:
        args.append(f"nullable={nullable}")
    for flag in ("unique", "index"):
        if draw(st.integers(0, 4)) == 0:
            args.append(f"{flag}=True")
    if draw(st.integers(0, 3)) == 0:
        args.append("server_default=text('0')")
    if draw(st.integers(0, 3)) == 0:
        args.append("comment='c'")
    return f"    c{index} = Column({', '.join(args)})\n"


@st.composite
def legacy_class(draw: st.DrawFn) -> str:
    pk = draw(st.sampled_from(["Integer, primary_key=True", "String(10), primary_key=True",
                               "BigInteger, primary_key=True, autoincrement=False"]))
    n = draw(st.integers(1, 6))
    body = "".join(draw(column(i)) for i in range(n))
    return HEAD + f"class T(Base):\n    __tablename__ = 't'\n\n    id = Column({pk})\n{body}"


def ddl(text: str) -> dict[str, str]:
    module = types.ModuleType(f"_modelfold_prop_{next(counter)}")
    sys.modules[module.__name__] = module  # SQLAlchemy resolves Mapped[...] in the class's module
    try:
        exec(compile(text, module.__name__, "exec"), module.__dict__)  # noqa: S102 - generated test model
        table = module.T.__table__
    finally:
        del sys.modules[module.__name__]
    out = {}
    for name, dialect in (("sqlite", sqlite.dialect()), ("postgresql", postgresql.dialect()),
                          ("mysql", mysql.dialect())):
        out[name] = str(CreateTable(table).compile(dialect=dialect)) + "".join(
            sorted(str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes))
    return out


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(legacy_class())
def test_any_legacy_class_converts_with_identical_ddl(text: str) -> None:
    new, _notes, classes = convert_module_text(text, "m", {"T": sites_in_text(text, "m")})
    assert classes == ["T"]
    assert " = Column(" not in new
    assert ddl(new) == ddl(text)
