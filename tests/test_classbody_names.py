"""merge's name resolver gives what libcst's QualifiedNameProvider gives, where merge asks.

Merge and convert ask for the qualified names of the callees and arguments of class-level
statements (`Column(sa.String(5))`, `relationship(...)`, `Index(...)`). The resolver reads only
module-level bindings; libcst's provider (the reference here) runs a full scope analysis.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, QualifiedNameProvider

from codemods.cst._classbody import Resolver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

TRICKY = '''
from __future__ import annotations
import enum
import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
from sqlalchemy import Column as Col, ForeignKey, Integer
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import relationship
from . import types
from .types import JSONText
from ..shared import mixins as mx
try:
    from sqlalchemy import JSON
except ImportError:
    JSON = None
if sa.__version__ > "2":
    from sqlalchemy import Double as Real
else:
    Real = sa.Float
for _name in ("a",):
    Loop = sa.Text
with open(__file__) as handle:
    pass
Short = sa.String(5)


class Color(enum.Enum):
    RED = "red"


class Thing(mx.Base):
    __tablename__ = "things"
    id = Col(Integer, primary_key=True)
    a = Col(sa.String(5), nullable=True)
    b = Col(sqlalchemy.dialects.postgresql.JSONB)
    c = Col(pg.ARRAY(sa.Integer), default=list)
    d = Col(JSON().with_variant(pg.JSONB(), "postgresql"))
    e = Col(Real, sa.ForeignKey("x.id"))
    f = Col(types.Money(2), server_default=sa.text("0"))
    g = Col(JSONText, default=dict)
    h = Col(Loop, Short)
    i = Col(sa.Enum(Color), default=Color.RED)
    j = Col(ForeignKey("y.id"), unknown_name(1), str(2))
    rel = relationship("Other", primaryjoin=lambda: Thing.id == 1)
    __table_args__ = (sa.Index("ix", "a"), sa.UniqueConstraint("b"))

    def method(self, value):
        return value.strip()
'''


def queried(module: cst.Module) -> list[cst.CSTNode]:
    """Callees and name arguments of every call in class-level statements (not in methods)."""
    found: list[cst.CSTNode] = []

    class Visitor(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Call(self, node: cst.Call) -> None:
            found.append(node.func)
            found.extend(a.value for a in node.args if isinstance(a.value, (cst.Name, cst.Attribute)))

    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            stmt.visit(Visitor())
    return found


def reference(wrapper: MetadataWrapper, node: cst.CSTNode) -> str | None:
    value = wrapper.resolve(QualifiedNameProvider).get(node)
    names = sorted(q.name for q in (value() if callable(value) else value or ()))
    return names[0] if names else None


SOURCES = {"tricky": TRICKY} | {
    p.relative_to(FIXTURES).as_posix(): p.read_text()
    for p in sorted(FIXTURES.rglob("*.py"))
    if "__tablename__" in p.read_text() and "monorepo_gen" not in p.parts  # (the generator's templates)
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_resolver_agrees_with_qualified_name_provider(name: str) -> None:
    module = cst.parse_module(SOURCES[name])
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    resolver = Resolver(module)
    nodes = queried(module)
    assert nodes
    got = {cst.Module([]).code_for_node(n): resolver.qualname(n) for n in nodes}
    want = {cst.Module([]).code_for_node(n): reference(wrapper, n) for n in nodes}
    assert got == want


def test_resolver_spot_checks() -> None:
    """Independent of libcst: a few answers written out."""
    module = cst.parse_module(TRICKY)
    resolver = Resolver(module)
    calls = {cst.Module([]).code_for_node(n): n for n in queried(module)}
    assert resolver.qualname(calls["sa.String"]) == "sqlalchemy.String"
    assert resolver.qualname(calls["pg.ARRAY"]) == "sqlalchemy.dialects.postgresql.ARRAY"
    assert resolver.qualname(calls["Col"]) == "sqlalchemy.Column"
    assert resolver.qualname(calls["JSONText"]) == ".types.JSONText"
    assert resolver.qualname(calls["Real"]) == "Real"  # bound twice: the sorted first, as libcst
    assert resolver.qualname(calls["unknown_name"]) is None
    assert resolver.qualname(calls["str"]) == "builtins.str"
