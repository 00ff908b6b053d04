"""Per-file facts for the index, read with stdlib `ast`: small picklable values, no resolution."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codemods.index import _columns as c
from codemods.index import _members as m
from codemods.scan import absolute_module
from codemods.types import ColumnDef, MemberDef, RelationshipDef

# Text that a file defining or using a model or table must contain somewhere.
MARKERS = (
    "__tablename__", "__table__", "Table(", "Column(", "mapped_column(", "Mapped[",
    "DeclarativeBase", "declarative_base", "generate_base", "as_declarative", ".mapped",
    "SQLModel", ".Model", "registry(", "__abstract__", "SQLAlchemy(",
)


@dataclass(frozen=True)
class CallFact:
    """`name = callee(...)` at module level: what was called, and the arguments that matter."""

    callee: str
    first_arg: str | None = None
    metadata: str | None = None
    table_name: str | None = None
    schema: str | None = None  # `schema="x"` of a Table(...) or MetaData(...)
    metadata_schema: str | None = None  # `metadata=MetaData(schema="x")` given inline


@dataclass(frozen=True)
class ClassFact:
    """A class statement: its bases and decorators as dotted text, and its body's members."""

    name: str
    line: int
    bases: tuple[str, ...]
    keywords: tuple[tuple[str, str], ...]
    decorators: tuple[str, ...]
    tablename: str | None
    dynamic_tablename: bool
    abstract: bool
    table_call: CallFact | None
    metadata_attr: str | None
    metadata_schema: str | None  # `metadata = MetaData(schema="x")` in the body
    schema: str | None  # the "schema" option of a literal `__table_args__`
    tablename_parts: tuple[tuple[str, str], ...] | None  # `PREFIX + "users"`: ("name", "PREFIX"), ("text", ...)
    tablename_rule: tuple[str, ...] | None  # a `__tablename__` function of the class name (see tablename_rule)
    columns: tuple[ColumnDef, ...]
    relationships: tuple[RelationshipDef, ...]
    members: tuple[MemberDef, ...]
    annotated: tuple[str, ...]
    fk_tables: frozenset[str] = frozenset()  # tables (or `<class>Name`) its foreign keys reference


@dataclass(frozen=True)
class FileFacts:
    """What one module defines and imports at its top level."""

    module: str
    path: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)
    calls: dict[str, CallFact] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    classes: tuple[ClassFact, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)  # `NAME = "text"` at module level


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` -> "a.b.c"; a call's callee for `a.b()`; None for anything else."""
    if isinstance(node, ast.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def file_facts(module: str, path: str, is_package: bool, tree: ast.Module) -> FileFacts:
    """Collect imports, module-level calls/aliases and classes of one parsed module."""
    facts = FileFacts(module=module, path=path, is_package=is_package)
    for stmt in module_statements(tree.body):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    facts.imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    facts.imports[top] = top
        elif isinstance(stmt, ast.ImportFrom):
            source = absolute_module(module, is_package, stmt.level, stmt.module)
            if source is None:
                continue
            for alias in stmt.names:
                if alias.name != "*":
                    facts.imports[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            _assignment(stmt, facts)
    classes = tuple(
        _class_fact(s) for s in module_statements(tree.body) if isinstance(s, ast.ClassDef)
    )
    return FileFacts(
        module=module, path=path, is_package=is_package, imports=facts.imports,
        calls=facts.calls, aliases=facts.aliases, classes=classes, constants=facts.constants,
    )


def module_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements at module level, looking into `if`/`try` blocks (TYPE_CHECKING, fallbacks, a
    try's `else`); the blocks themselves are not listed. Every stage that reads a module's
    top-level imports and definitions with stdlib `ast` uses this one definition."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If):
            out += module_statements(stmt.body) + module_statements(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            out += module_statements(stmt.body)
            for handler in stmt.handlers:
                out += module_statements(handler.body)
            out += module_statements(stmt.orelse)
        else:
            out.append(stmt)
    return out


def _assignment(stmt: ast.Assign | ast.AnnAssign, facts: FileFacts) -> None:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    names = [t.id for t in targets if isinstance(t, ast.Name)]
    value = stmt.value
    if not names or value is None:
        return
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        for name in names:
            facts.constants[name] = value.value
    if isinstance(value, ast.Call) and (callee := dotted(value.func)):
        fact = _call_fact(callee, value)
        for name in names:
            facts.calls[name] = fact
    elif (target := dotted(value)) is not None:
        for name in names:
            facts.aliases[name] = target


def _call_fact(callee: str, call: ast.Call) -> CallFact:
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    first = call.args[0] if call.args else None
    table_name = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
    meta_node = kw.get("metadata") or (call.args[1] if len(call.args) > 1 else None)
    inline = isinstance(meta_node, ast.Call)
    return CallFact(
        callee=callee,
        first_arg=dotted(first) if first is not None else None,
        metadata=dotted(meta_node) if meta_node is not None and not inline else None,
        table_name=table_name,
        schema=_schema_kw(call),
        metadata_schema=_schema_kw(meta_node) if isinstance(meta_node, ast.Call) else None,
    )


def _schema_kw(call: ast.Call) -> str | None:
    """The literal `schema=` keyword of a call."""
    value = next((k.value for k in call.keywords if k.arg == "schema"), None)
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None


def table_args_schema(value: ast.expr | None) -> str | None:
    """The "schema" entry of a literal `__table_args__` dict (alone or last in a tuple)."""
    if isinstance(value, ast.Tuple) and value.elts:
        value = value.elts[-1]
    if not isinstance(value, ast.Dict):
        return None
    for key, item in zip(value.keys, value.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == "schema":
            return item.value if isinstance(item, ast.Constant) and isinstance(item.value, str) else None
    return None


def fk_tables(cls: ast.ClassDef) -> frozenset[str]:
    """Tables (or `<class>Name` for attribute FKs) referenced by the class's foreign keys."""
    found: set[str] = set()
    for node in ast.walk(cls):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        targets: list[ast.expr] = []
        if name == "ForeignKey" and node.args:
            targets = [node.args[0]]
        elif name == "ForeignKeyConstraint" and len(node.args) > 1:
            second = node.args[1]
            targets = list(second.elts) if isinstance(second, (ast.List, ast.Tuple)) else []
        for t in targets:
            if isinstance(t, ast.Constant) and isinstance(t.value, str) and "." in t.value:
                found.add(t.value.rsplit(".", 1)[0].split(".")[-1])
            elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                found.add("<class>" + t.value.id)
    return frozenset(found)


def _class_fact(node: ast.ClassDef) -> ClassFact:
    body = _ClassBody()
    for stmt in node.body:
        body.add(stmt)
    return ClassFact(
        name=node.name, line=node.lineno,
        bases=tuple(d for b in node.bases if (d := dotted(b))),
        keywords=tuple((k.arg, ast.unparse(k.value)) for k in node.keywords if k.arg),
        decorators=tuple(d for dec in node.decorator_list if (d := dotted(dec))),
        tablename=body.tablename, dynamic_tablename=body.dynamic_tablename,
        abstract=body.abstract, table_call=body.table_call, metadata_attr=body.metadata_attr,
        metadata_schema=body.metadata_schema, schema=body.schema,
        tablename_parts=body.tablename_parts, tablename_rule=body.tablename_rule,
        columns=tuple(body.columns), relationships=tuple(body.relationships),
        members=tuple(body.members), annotated=tuple(body.annotated), fk_tables=fk_tables(node),
    )


class _ClassBody:
    """Sorts one class body's statements into columns, relationships and other members."""

    def __init__(self) -> None:
        self.tablename: str | None = None
        self.dynamic_tablename = False
        self.abstract = False
        self.table_call: CallFact | None = None
        self.metadata_attr: str | None = None
        self.metadata_schema: str | None = None
        self.schema: str | None = None
        self.tablename_parts: tuple[tuple[str, str], ...] | None = None
        self.tablename_rule: tuple[str, ...] | None = None
        self.columns: list[ColumnDef] = []
        self.relationships: list[RelationshipDef] = []
        self.members: list[MemberDef] = []
        self.annotated: list[str] = []

    def add(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind = m.function_kind(stmt)
            if stmt.name == "__tablename__":
                self.dynamic_tablename = True
                self.tablename_rule = tablename_rule(stmt)
            self.members.append(m.member_def(stmt.name, kind, stmt))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(
            stmt.value.value, str
        ):
            self.members.append(m.member_def("__doc__", "docstring", stmt))
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
            stmt.targets[0], ast.Name
        ):
            self._attribute(stmt.targets[0].id, stmt, stmt.value, None)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            self._attribute(stmt.target.id, stmt, stmt.value, stmt.annotation)
        elif not isinstance(stmt, ast.Pass):
            self.members.append(m.member_def(type(stmt).__name__.lower(), "statement", stmt))

    def _attribute(
        self, name: str, stmt: ast.stmt, value: ast.expr | None, annotation: ast.expr | None
    ) -> None:
        callee = c.last_name(value) if isinstance(value, ast.Call) else None
        if name == "__tablename__":
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.tablename = value.value
            else:
                self.dynamic_tablename = True
                self.tablename_parts = _text_parts(value)
        elif name == "__abstract__":
            self.abstract = isinstance(value, ast.Constant) and value.value is True
        elif name == "__table__" and isinstance(value, ast.Call) and callee == "Table":
            self.table_call = _call_fact("Table", value)
        elif name == "metadata" and isinstance(value, ast.Call):
            self.metadata_schema = _schema_kw(value)  # a MetaData of its own: keyed by the class
        elif name == "metadata" and value is not None and dotted(value):
            # a reference (`Base.metadata`, a module's MetaData); `MetaData()` is the class's own
            self.metadata_attr = dotted(value)
        elif name == "__table_args__":
            self.schema = table_args_schema(value)
        if name.startswith("__") or name == "metadata":
            self.members.append(m.member_def(name, "dunder", stmt))
        elif isinstance(value, ast.Call) and callee in m.COLUMN_CALLS:
            self.columns.append(m.column_def(name, stmt, value, annotation))
        elif isinstance(value, ast.Call) and callee in m.RELATIONSHIP_CALLS:
            self.relationships.append(m.relationship_def(name, stmt, value, annotation))
        elif value is None and c.mapped_inner(annotation) is not None:
            self.columns.append(m.column_def(name, stmt, None, annotation))
        elif isinstance(value, ast.Call) and callee in m.PROPERTY_CALLS:
            self.members.append(m.member_def(name, callee or "property", stmt))
        else:
            if annotation is not None:
                self.annotated.append(name)
            self.members.append(m.member_def(name, "constant", stmt))


def _text_parts(node: ast.expr | None) -> tuple[tuple[str, str], ...] | None:
    """`PREFIX + "users"` or f"{PREFIX}users" as literal and name parts; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (("text", node.value),)
    if isinstance(node, (ast.Name, ast.Attribute)) and (name := dotted(node)):
        return (("name", name),)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text_parts(node.left), _text_parts(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts: tuple[tuple[str, str], ...] = ()
        for value in node.values:
            inner = value.value if isinstance(value, ast.FormattedValue) and value.format_spec is None \
                and value.conversion == -1 else value
            found = _text_parts(inner) if isinstance(inner, ast.expr) else None
            if found is None:
                return None
            parts += found
        return parts
    return None


def tablename_rule(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...] | None:
    """A `__tablename__` function as steps over the class name ("name", "lower", "sub:<pattern>\\0<repl>",
    "suffix:s", "prefix:x"); None when it is anything but those."""
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    return _rule(body[0].value)


def _rule(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, ast.Attribute) and node.attr == "__name__" and isinstance(node.value, ast.Name):
        return ("name",)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
        inner = _rule(node.func.value)
        return inner + ("lower",) if inner is not None and node.func.attr == "lower" else None
    if isinstance(node, ast.Call) and dotted(node.func) in {"re.sub", "sub"} and len(node.args) == 3:
        pattern, repl, inner = node.args[0], node.args[1], _rule(node.args[2])
        literal = [a.value for a in (pattern, repl) if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        return inner + ("sub:" + "\0".join(literal),) if inner is not None and len(literal) == 2 else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        if isinstance(node.right, ast.Constant) and isinstance(node.right.value, str):
            inner = _rule(node.left)
            return inner + (f"suffix:{node.right.value}",) if inner is not None else None
        if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            inner = _rule(node.right)
            return inner + (f"prefix:{node.left.value}",) if inner is not None else None
    if isinstance(node, ast.JoinedStr):
        texts = [v for v in node.values if isinstance(v, ast.Constant)]
        values = [v for v in node.values if isinstance(v, ast.FormattedValue)]
        if len(values) != 1 or values[0].format_spec is not None:
            return None
        inner = _rule(values[0].value)
        if inner is None:
            return None
        at = node.values.index(values[0])
        before = "".join(str(v.value) for v in texts if node.values.index(v) < at)
        after = "".join(str(v.value) for v in texts if node.values.index(v) > at)
        return inner + ((f"prefix:{before}",) if before else ()) + ((f"suffix:{after}",) if after else ())
    return None
