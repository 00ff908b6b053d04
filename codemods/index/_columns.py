"""The one normalised definition of a column, relationship or other member, for detect and merge alike.

Two definitions are equal when they compile to the same DDL and the same ORM behaviour, as far as
the source shows it: quotes, whitespace, module prefixes (`sa.String`), `String()` vs `String`,
`String(length=5)` vs `String(5)`, an explicit `nullable=False` vs a non-optional `Mapped[int]`,
and a type given by the annotation vs spelled out are all equal. Every other keyword
(`comment=`, `ForeignKey(..., ondelete=...)`, `info=`) counts. Read with stdlib `ast`; merge hands
its libcst nodes over as source text (`column_spec_of_text`).
"""

from __future__ import annotations

import ast
import re
import textwrap

Spec = tuple[tuple[str, str], ...]

COLUMN_CALLS = frozenset({"Column", "mapped_column"})
SCHEMA_ITEMS = frozenset(
    {"ForeignKey", "Sequence", "Computed", "Identity", "CheckConstraint", "FetchedValue",
     "DefaultClause", "UniqueConstraint"}
)
# The SQL type SQLAlchemy's default type map gives a bare `Mapped[T]`.
ANNOTATION_SQL = {
    # float maps to Float on SQLAlchemy 2.0 and Double on 2.1: never equal to an explicit type
    "int": "Integer", "str": "String", "bool": "Boolean", "float": "Float-or-Double",
    "datetime": "DateTime", "datetime.datetime": "DateTime", "date": "Date",
    "datetime.date": "Date", "time": "Time", "datetime.time": "Time", "timedelta": "Interval",
    "datetime.timedelta": "Interval", "Decimal": "Numeric", "decimal.Decimal": "Numeric",
    "bytes": "LargeBinary", "uuid.UUID": "Uuid", "UUID": "Uuid",
}
# Positional parameters of common types, so `String(length=5)` is `String(5)`.
TYPE_PARAMS = {
    **dict.fromkeys(("String", "Text", "Unicode", "UnicodeText", "VARCHAR", "CHAR", "NVARCHAR", "LargeBinary"),
                    ("length", "collation")),
    **dict.fromkeys(("Numeric", "DECIMAL", "NUMERIC"), ("precision", "scale", "decimal_return_scale", "asdecimal")),
    "Float": ("precision", "asdecimal", "decimal_return_scale"),
    **dict.fromkeys(("DateTime", "Time", "TIMESTAMP"), ("timezone",)),
}
_PREFIX = re.compile(r"(?<![\w.])(?:[a-z_]\w*\.)+(?=[A-Z]|func\.)")
_NOT_FACTS = frozenset({"nullable", "primary_key", "name", "type_"})


def last_name(node: ast.expr) -> str | None:
    """`sa.orm.relationship` -> "relationship"; a call's callee name; None for anything else."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def expr_text(node: ast.expr) -> str:
    """Canonical source of an expression: one quote style, no whitespace, no module prefixes."""
    return _PREFIX.sub("", ast.unparse(node))


def _call_text(call: ast.Call, params: tuple[str, ...] = ()) -> str:
    """`ForeignKey('a.id', ondelete='CASCADE')`: keywords sorted, named positionals given by position."""
    name = last_name(call) or expr_text(call.func)
    args = [expr_text(a) for a in call.args]
    keywords = {k.arg: expr_text(k.value) for k in call.keywords if k.arg}
    for param in params[len(args):]:
        if param not in keywords:
            break
        args.append(keywords.pop(param))
    args += [f"{k}={v}" for k, v in sorted(keywords.items())]
    args += [f"**{expr_text(k.value)}" for k in call.keywords if not k.arg]
    return f"{name}({', '.join(args)})" if args else name


def type_text(node: ast.expr) -> str:
    """`sa.String(length=255)` -> `String(255)`; `Integer()` -> `Integer`."""
    if isinstance(node, ast.Call):
        return _call_text(node, TYPE_PARAMS.get(last_name(node) or "", ()))
    return last_name(node) or expr_text(node)


def mapped_inner(annotation: ast.expr | None) -> ast.expr | None:
    """The T of `Mapped[T]` (also `sa.orm.Mapped`, `DynamicMapped`, string annotations)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(annotation, ast.Subscript) and last_name(annotation.value) in {
        "Mapped", "DynamicMapped", "WriteOnlyMapped",
    }:
        return annotation.slice
    return None


def optional_inner(node: ast.expr) -> tuple[ast.expr, bool]:
    """Strip `Optional[T]`, `T | None`, `Union[T, None]`; say whether it was optional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return node, False
    if isinstance(node, ast.Subscript) and last_name(node.value) == "Optional":
        return node.slice, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(b, ast.Constant) and b.value is None:
                return a, True
    if isinstance(node, ast.Subscript) and last_name(node.value) == "Union":
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        rest = [e for e in elts if not (isinstance(e, ast.Constant) and e.value is None)]
        if len(rest) == 1 and len(rest) < len(elts):
            return rest[0], True
    return node, False


def annotation_type(inner: ast.expr) -> str:
    """The SQL type of a `Mapped[T]` without an explicit type: the default type map, else Enum(T)."""
    text = ast.unparse(inner)
    return ANNOTATION_SQL.get(text, f"Enum({text})")


def column_spec(
    attribute: str, call: ast.Call | None, annotation: ast.expr | None, callee: str | None = None,
) -> Spec:
    """The normalised definition of `Column(...)`, `mapped_column(...)` or a bare `Mapped[T]`.

    `callee` is the constructor when the caller resolved an alias (`mapped_column as mc`).
    """
    callee = callee or (last_name(call) if call is not None else "mapped_column")
    args = list(call.args) if call is not None else []
    keywords = {k.arg: k.value for k in call.keywords if k.arg} if call is not None else {}
    column_name = attribute
    if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
        column_name, args = args[0].value, args[1:]
    name_node = keywords.get("name")
    if isinstance(name_node, ast.Constant):
        column_name = str(name_node.value)
    sql_type: str | None = type_text(keywords["type_"]) if "type_" in keywords else None
    if args and last_name(args[0]) not in SCHEMA_ITEMS:
        sql_type, args = sql_type or type_text(args[0]), args[1:]
    fks = sorted(_call_text(a) for a in args if isinstance(a, ast.Call) and last_name(a) == "ForeignKey")
    items = sorted(type_text(a) for a in args if last_name(a) != "ForeignKey")
    inner = mapped_inner(annotation) if callee == "mapped_column" else None
    optional = False
    if inner is not None:
        inner, optional = optional_inner(inner)
        sql_type = sql_type or annotation_type(inner)
    primary_key = _literal(keywords.get("primary_key")) is True
    explicit = keywords.get("nullable")
    if explicit is not None:
        nullable = expr_text(explicit)
    else:
        nullable = str(False if primary_key else optional if inner is not None else True)
    facts = {"column_name": column_name, "type": sql_type or ("<from foreign key>" if fks else "<none>"),
             "nullable": nullable, "primary_key": str(primary_key), "foreign_keys": "; ".join(fks),
             "schema_items": "; ".join(items)}
    for key, value in keywords.items():
        if key in _NOT_FACTS:
            continue
        text = expr_text(value)
        if key in ("unique", "index") and text in ("False", "None"):
            continue
        facts["default" if key == "insert_default" else key] = text
    return tuple(sorted((k, v) for k, v in facts.items() if v != ""))


def table_indexed_columns(table_args: str) -> frozenset[str]:
    """Columns a `__table_args__` statement indexes alone (`Index("ix", "col")`): index=True in effect."""
    try:
        node = ast.parse(textwrap.dedent(table_args)).body[0]
    except (SyntaxError, IndexError):
        return frozenset()
    value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
    items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else []
    found = set()
    for item in items:
        if isinstance(item, ast.Call) and last_name(item) == "Index" and len(item.args) == 2:
            column = item.args[1]
            name = _string(column) or (column.attr if isinstance(column, ast.Attribute) else None)
            if name:
                found.add(name)
    return frozenset(found)


def with_table_index(attribute: str, spec: Spec, indexed: frozenset[str]) -> Spec:
    """The spec with `index=True` when `__table_args__` indexes the column alone (the same DDL)."""
    facts = dict(spec)
    if facts.get("index") != "True" and {attribute, facts.get("column_name")} & indexed:
        facts["index"] = "True"
    return tuple(sorted(facts.items()))


def relationship_spec(call: ast.Call, annotation: ast.expr | None) -> Spec:
    """The normalised definition of a relationship: target class name and options (uselist aside)."""
    target = ""
    if call.args:
        first = call.args[0]
        target = _string(first) or ast.unparse(first)
    else:
        inner = mapped_inner(annotation)
        if inner is not None:
            inner, _ = optional_inner(inner)
            if isinstance(inner, ast.Subscript):  # list["Post"], Set[Post]
                inner = inner.slice.elts[-1] if isinstance(inner.slice, ast.Tuple) else inner.slice
            target = _string(inner) or ast.unparse(inner)
    facts = {"target": target.strip().rsplit(".", 1)[-1]}
    for k in call.keywords:
        if k.arg and k.arg != "uselist":
            facts[k.arg] = expr_text(k.value)
    return tuple(sorted(facts.items()))


class _Rename(ast.NodeTransformer):
    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.renames.get(node.id, node.id), node.ctx)


def renamed_spec(spec: Spec, renames: dict[str, str]) -> Spec:
    """A relationship's definition as it reads once classes are renamed (`Account` folded into
    `Customer`): its target, and the registry expressions among its string options (parsed, so
    only Name nodes change and spacing inside the string does not count)."""
    out: dict[str, str] = {}
    for key, value in spec:
        if key == "target":
            value = renames.get(value, value)
        elif value[:1] in "'\"":
            raw = _literal(_parse_expr(value))
            expr = _parse_expr(raw) if isinstance(raw, str) and raw.strip() else None
            value = repr(ast.unparse(_Rename(renames).visit(expr))) if expr is not None else value
        out[key] = value
    return tuple(sorted(out.items()))


def code_spec(source: str) -> str:
    """Formatting-, comment- and type-hint-blind key of a member's code (an ast dump)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return re.sub(r"\s+", "", source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
    return ast.dump(tree)


def _parse_expr(text: str) -> ast.expr | None:
    try:
        return ast.parse(textwrap.dedent(text).strip(), mode="eval").body
    except SyntaxError:
        return None


def column_spec_of_text(
    attribute: str, call: str | None, annotation: str | None, callee: str | None = None,
) -> Spec | None:
    """`column_spec` of source text (merge reads libcst nodes and passes their code)."""
    node = _parse_expr(call) if call is not None else None
    if node is not None and not isinstance(node, ast.Call) or call is not None and node is None:
        return None
    return column_spec(attribute, node if isinstance(node, ast.Call) else None,
                       _parse_expr(annotation) if annotation is not None else None, callee)


def relationship_spec_of_text(call: str, annotation: str | None) -> Spec | None:
    """`relationship_spec` of source text."""
    node = _parse_expr(call)
    if not isinstance(node, ast.Call):
        return None
    return relationship_spec(node, _parse_expr(annotation) if annotation is not None else None)


def _literal(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
