"""Python annotation types for SQL column types (the Column -> Mapped[...] type inference)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

# Python type per SQLAlchemy type name (last component of the resolved qualified name).
_BY_NAME: dict[str, tuple[str, str] | None] = {}
for _names, _py in (
    ("Integer BigInteger SmallInteger INTEGER BIGINT SMALLINT INT TINYINT MEDIUMINT", ("", "int")),
    ("String Text Unicode UnicodeText CHAR VARCHAR NVARCHAR NCHAR TEXT CLOB CITEXT", ("", "str")),
    ("TINYTEXT MEDIUMTEXT LONGTEXT INET CIDR MACADDR", ("", "str")),
    ("Boolean BOOLEAN BIT", ("", "bool")),
    ("DateTime TIMESTAMP DATETIME", ("datetime", "datetime")),
    ("Date DATE", ("datetime", "date")),
    ("Time TIME", ("datetime", "time")),
    ("Interval INTERVAL", ("datetime", "timedelta")),
    ("Float Double REAL FLOAT DOUBLE DOUBLE_PRECISION", ("", "float")),
    ("Numeric DECIMAL NUMERIC", ("decimal", "Decimal")),
    ("LargeBinary BLOB BINARY VARBINARY BYTEA LONGBLOB MEDIUMBLOB", ("", "bytes")),
    ("Uuid UUID", ("uuid", "UUID")),
):
    for _n in _names.split():
        _BY_NAME[_n] = _py

_JSON = frozenset({"JSON", "JSONB"})
_FLOATISH = frozenset({"Float", "Double", "REAL", "FLOAT", "DOUBLE", "DOUBLE_PRECISION"})
_DECIMALISH = frozenset({"Numeric", "DECIMAL", "NUMERIC"})


@dataclass(frozen=True)
class PyType:
    """An inferred annotation: `text` uses placeholders resolved by the caller's `ref`."""

    text: str
    known: bool
    note: str | None = None


Ref = Callable[[str, str], str]  # (module, name) -> expression text usable in the module


def _kwarg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _is_false(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def sql_type_name(node: cst.BaseExpression, qualname: Callable[[cst.CSTNode], str | None]) -> str:
    """The SQLAlchemy type's class name for `String`, `sa.String(5)`, `postgresql.JSONB`, ..."""
    func = node.func if isinstance(node, cst.Call) else node
    name = qualname(func)
    if name is None:
        if isinstance(func, cst.Attribute):
            return func.attr.value
        return func.value if isinstance(func, cst.Name) else ""
    return name.rsplit(".", 1)[-1]


def python_type(
    node: cst.BaseExpression,
    qualname: Callable[[cst.CSTNode], str | None],
    local_impls: dict[str, cst.BaseExpression],
    ref: Ref,
    code: Callable[[cst.CSTNode], str],
    default: cst.BaseExpression | None = None,
) -> PyType:
    """The Python type an SQL type expression maps to, as annotation text (`default=` refines JSON)."""
    inferred = _infer(node, qualname, local_impls, ref, code, depth=0)
    if inferred.text.startswith("dict[") and _makes_list(default):
        return PyType(f"{ref('', 'list')}[{ref('typing', 'Any')}]", True)
    return inferred


def _makes_list(default: cst.BaseExpression | None) -> bool:
    """`default=list`, `default=[]` or `default=lambda: [...]`: the JSON value is a list."""
    if isinstance(default, cst.Lambda):
        default = default.body
    return (isinstance(default, cst.Name) and default.value == "list") or isinstance(default, cst.List)


def _flask_type(full: str) -> bool:
    """`db.Integer` on a Flask-SQLAlchemy `db`: the SQLAlchemy type it re-exports."""
    owner, _, name = full.rpartition(".")
    known = name in _BY_NAME or name in _JSON or name in ("Enum", "ARRAY")
    return known and (owner.rsplit(".", 1)[-1] == "db" or owner.startswith("flask_sqlalchemy"))


def _infer(
    node: cst.BaseExpression,
    qualname: Callable[[cst.CSTNode], str | None],
    local_impls: dict[str, cst.BaseExpression],
    ref: Ref,
    code: Callable[[cst.CSTNode], str],
    depth: int,
) -> PyType:
    call = node if isinstance(node, cst.Call) else None
    func = call.func if call is not None else node
    if isinstance(func, cst.Attribute) and func.attr.value == "with_variant":
        return _infer(func.value, qualname, local_impls, ref, code, depth + 1)
    full = qualname(func) or ""
    name = sql_type_name(node, qualname)
    local = isinstance(func, cst.Name) and func.value in local_impls
    if isinstance(func, cst.Name) and local and depth < 5:
        # TypeDecorator subclass with a visible `impl`: follow it.
        inner = _infer(local_impls[func.value], qualname, local_impls, ref, code, depth + 1)
        if inner.known:
            return inner
        return PyType(ref("typing", "Any"), False, f"type {code(node)} unknown, annotated Any")
    sqlalchemy_type = full.startswith("sqlalchemy") or (not full and not local) or _flask_type(full)
    if not sqlalchemy_type:
        return PyType(ref("typing", "Any"), False, f"type {code(node)} unknown, annotated Any")
    if name == "Enum":
        return _enum_type(call, code, ref)
    if name == "ARRAY" and call is not None and call.args:
        item = _infer(call.args[0].value, qualname, local_impls, ref, code, depth + 1)
        return PyType(f"{ref('', 'list')}[{item.text}]", item.known, item.note)
    if name in _JSON:
        return PyType(f"dict[str, {ref('typing', 'Any')}]", True)
    if name in _DECIMALISH and call is not None and _is_false(_kwarg(call, "asdecimal")):
        return PyType("float", True)
    if name in _FLOATISH and call is not None and _is_true(_kwarg(call, "asdecimal")):
        return PyType(ref("decimal", "Decimal"), True)
    if name in ("UUID", "Uuid") and call is not None and _is_false(_kwarg(call, "as_uuid")):
        return PyType("str", True)
    py = _BY_NAME.get(name)
    if py is None:
        return PyType(ref("typing", "Any"), False, f"type {code(node)} unknown, annotated Any")
    return PyType(ref(*py) if py[0] else py[1], True)


def _enum_type(call: cst.Call | None, code: Callable[[cst.CSTNode], str], ref: Ref) -> PyType:
    """`Enum(PyEnum)` -> PyEnum; `Enum("a", "b")` or `Enum(*VALUES)` -> str."""
    positional = [a for a in call.args if a.keyword is None] if call is not None else []
    if not positional:
        return PyType("str", True)
    first = positional[0]
    if first.star or isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString)):
        return PyType("str", True)
    if isinstance(first.value, (cst.Name, cst.Attribute)):
        return PyType(code(first.value), True)
    return PyType(ref("typing", "Any"), False, f"enum {code(call) if call else ''} unknown, annotated Any")
