"""Class-body members read with stdlib `ast`; each carries the shared normalised spec (`_columns`)."""

from __future__ import annotations

import ast

from codemods.index._columns import (
    code_spec,
    column_spec,
    last_name,
    mapped_inner,
    optional_inner,
    relationship_spec,
    type_text,
)
from codemods.types import ColumnDef, MemberDef, RelationshipDef

COLUMN_CALLS = frozenset({"Column", "mapped_column"})
RELATIONSHIP_CALLS = frozenset({"relationship", "relation", "dynamic_loader"})
PROPERTY_CALLS = frozenset(
    {"column_property", "synonym", "composite", "deferred", "query_expression", "association_proxy"}
)
# The type SQLAlchemy's default type map gives a bare `Mapped[T]` annotation.
ANNOTATION_TYPES = {
    "int": "Integer", "str": "String", "bool": "Boolean", "float": "Float", "bytes": "LargeBinary",
    "datetime": "DateTime", "date": "Date", "time": "Time", "timedelta": "Interval",
    "Decimal": "Numeric", "UUID": "Uuid", "uuid": "Uuid",
}
FUNCTION_KINDS = {
    "property": "property", "hybrid_property": "hybrid_property", "hybrid_method": "hybrid_method",
    "validates": "validator", "classmethod": "classmethod", "staticmethod": "staticmethod",
    "declared_attr": "declared_attr", "cached_property": "property",
}


def _annotation_type(inner: ast.expr) -> str | None:
    base = inner.id if isinstance(inner, ast.Name) else last_name(inner)
    if base is None:
        return None
    return ANNOTATION_TYPES.get(base, f"Enum({base})" if base[:1].isupper() else None)


def _kw(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords if k.arg}


def _const(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _text(node: ast.expr | None) -> str | None:
    return None if node is None else ast.unparse(node)


def column_def(
    name: str, stmt: ast.stmt, call: ast.Call | None, annotation: ast.expr | None
) -> ColumnDef:
    """Normalise `x = Column(...)`, `x: Mapped[T] = mapped_column(...)` or a bare `x: Mapped[T]`."""
    kw = _kw(call) if call else {}
    column_name, sql_type, fks = name, None, []
    for arg in call.args if call else []:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            column_name = arg.value
        elif last_name(arg) == "ForeignKey" and isinstance(arg, ast.Call) and arg.args:
            fks.append(str(_const(arg.args[0]) or ast.unparse(arg.args[0])))
        elif last_name(arg) not in {"Sequence", "Identity", "Computed", "CheckConstraint"}:
            sql_type = sql_type or type_text(arg)
    if isinstance(kw.get("name"), ast.Constant):
        column_name = str(_const(kw["name"]))
    if "type_" in kw:
        sql_type = type_text(kw["type_"])
    primary_key = _const(kw.get("primary_key")) is True
    inner = mapped_inner(annotation)
    optional = False
    if inner is not None:
        inner, optional = optional_inner(inner)
        sql_type = sql_type or _annotation_type(inner)
    if "nullable" in kw and isinstance(kw["nullable"], ast.Constant):
        nullable = bool(kw["nullable"].value)
    elif primary_key:
        nullable = False
    elif inner is not None:
        nullable = optional
    else:
        nullable = True
    return ColumnDef(
        name=name, column_name=column_name, type=sql_type, nullable=nullable,
        primary_key=primary_key, unique=_const(kw.get("unique")) is True,
        index=_const(kw.get("index")) is True, foreign_keys=tuple(fks),
        default=_text(kw.get("default")), server_default=_text(kw.get("server_default")),
        onupdate=_text(kw.get("onupdate")),
        style="mapped" if annotation is not None else "legacy",
        source=ast.unparse(stmt), line=stmt.lineno, spec=column_spec(name, call, annotation),
    )


def relationship_def(
    name: str, stmt: ast.stmt, call: ast.Call, annotation: ast.expr | None
) -> RelationshipDef:
    """Normalise a `relationship(...)` attribute, legacy or annotated."""
    kw = _kw(call)
    target = ""
    if call.args:
        value = _const(call.args[0])
        target = value if isinstance(value, str) else ast.unparse(call.args[0])
    backref = kw.get("backref")
    if isinstance(backref, ast.Call) and backref.args:
        backref = backref.args[0]
    secondary = kw.get("secondary")
    return RelationshipDef(
        name=name, target=target,
        back_populates=_str_or_none(kw.get("back_populates")),
        backref=_str_or_none(backref),
        secondary=None if secondary is None else str(_const(secondary) or ast.unparse(secondary)),
        uselist=_const(kw.get("uselist")) if isinstance(_const(kw.get("uselist")), bool) else None,  # type: ignore[arg-type]
        lazy=_str_or_none(kw.get("lazy")),
        style="mapped" if annotation is not None else "legacy",
        source=ast.unparse(stmt), line=stmt.lineno, spec=relationship_spec(call, annotation),
    )


def _str_or_none(node: ast.expr | None) -> str | None:
    value = _const(node)
    return value if isinstance(value, str) else _text(node)


def function_kind(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """Classify a method by its decorators."""
    for dec in fn.decorator_list:
        name = last_name(dec)
        if name in FUNCTION_KINDS:
            return FUNCTION_KINDS[name]
        if isinstance(dec, ast.Attribute) and dec.attr in {"setter", "expression", "deleter"}:
            return "property"
    return "method"


def member_def(name: str, kind: str, stmt: ast.stmt) -> MemberDef:
    """Any non-column, non-relationship member."""
    source = ast.unparse(stmt)
    return MemberDef(name=name, kind=kind, source=source, line=stmt.lineno, spec=code_spec(source))
