"""Class-body analysis over libcst: members, their kinds, and normalised column/relationship keys.

Members are read on libcst nodes because merge and convert must render from the very same nodes;
their comparison keys come from the one normaliser detect uses too (`index._columns`).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods.index._columns import code_spec, column_spec_of_text, relationship_spec_of_text

_EMPTY = cst.Module(body=[])
_BUILTINS = frozenset(dir(builtins))

COLUMN_FUNCS = frozenset({"Column", "mapped_column"})
RELATIONSHIP_FUNCS = frozenset({"relationship", "relation"})
ATTRIBUTE_FUNCS = frozenset(
    {"column_property", "synonym", "composite", "deferred", "query_expression",
     "association_proxy", "dynamic_loader", "with_expression"}
)
SCHEMA_ITEMS = frozenset(
    {"ForeignKey", "Sequence", "Computed", "Identity", "CheckConstraint", "FetchedValue",
     "DefaultClause", "UniqueConstraint"}
)
_ACCESSORS = frozenset({"setter", "getter", "deleter", "expression", "comparator", "inplace",
                        "update_expression", "overrides"})
# Placement order of member kinds inside a class body.
KIND_ORDER = ("docstring", "dunder", "constant", "column", "relationship", "attribute", "method")
_PREFIX = re.compile(r"(?<![\w.])(?:[a-z_]\w*\.)+(?=[A-Z]|func\.)")


def _compound_targets(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Names a compound statement binds in its own scope: `for x in`, `with a as x`, `except E as x`."""
    if isinstance(node, cst.For):
        return [node.target]
    if isinstance(node, cst.With):
        return [item.asname.name for item in node.items if item.asname is not None]
    if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)) and node.name is not None:
        return [node.name.name]
    return []


def code(node: cst.CSTNode) -> str:
    """Source text of a node."""
    return _EMPTY.code_for_node(node)


def norm(text: str) -> str:
    """Whitespace-free text with module prefixes dropped: `sa.String( 5 )` -> `String(5)`."""
    return _PREFIX.sub("", re.sub(r"\s+", "", text))


class Resolver:
    """Qualified names of the names and attributes a module uses, from its module-level bindings.

    What libcst's QualifiedNameProvider gives for a name bound at module level (`String` after
    `from sqlalchemy import String` is `sqlalchemy.String`; `sa.Integer` after `import sqlalchemy
    as sa` is `sqlalchemy.Integer`; a module-level definition is its own name), without its
    scope pass over the whole module, which cost more than the rest of a merge. Names bound only
    in a class or function body have none here; callers fall back to the name as written.
    """

    def __init__(self, module: cst.Module) -> None:
        self._bound: dict[str, set[str]] = {}
        # module-level names for a column/relationship constructor: `_Column = mapped_column`
        self._aliases: dict[str, str] = {}
        self._collect(module.body)

    def qualname(self, node: cst.CSTNode) -> str | None:
        """The first (sorted) qualified name of a name chain, or None when it has none."""
        parts: list[str] = []
        while isinstance(node, (cst.Attribute, cst.Call)):  # `JSON().with_variant` is JSON's
            if isinstance(node, cst.Attribute):
                parts.append(node.attr.value)
            node = node.value if isinstance(node, cst.Attribute) else node.func
        if not isinstance(node, cst.Name):
            return None  # `", ".join`: not a name chain
        head, rest = node.value, ".".join(reversed(parts))
        dotted, dot = head + ("." + rest if rest else ""), "." if rest else ""
        bound = self._bound.get(head)
        if bound is None:
            return f"builtins.{dotted}" if head in _BUILTINS else None
        return min(name + dot + rest for name in bound)

    def _bind(self, name: str, qualified: str) -> None:
        self._bound.setdefault(name, set()).add(qualified)

    def _collect(self, body: Iterable[cst.CSTNode]) -> None:
        """Module-level bindings, looking into every block that is not a def or class body."""
        for stmt in body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self._bind(stmt.name.value, stmt.name.value)
            elif isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in stmt.body:
                    self._small(small)
            elif isinstance(stmt, cst.BaseCompoundStatement):
                self._compound(stmt)

    def _compound(self, node: cst.CSTNode) -> None:
        for target in _compound_targets(node):
            self._targets(target)
        for child in node.children:
            if isinstance(child, cst.BaseSuite):
                self._collect(child.body)
            elif isinstance(child, (cst.If, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally)):
                self._compound(child)
            elif isinstance(child, cst.MatchCase):
                self._collect(child.body.body)

    def _small(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, cst.Import):
            for alias in small.names:
                full = get_full_name_for_node(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._bind(alias.asname.name.value, full)
                else:
                    self._bind(full.split(".")[0], full.split(".")[0])
        elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
            module = "." * len(small.relative) + (get_full_name_for_node(small.module) or "" if small.module else "")
            for alias in small.names:
                name = get_full_name_for_node(alias.name) or ""
                local = alias.evaluated_alias or name
                self._bind(local, f"{module}.{name}" if not module.endswith(".") else module + name)
        elif isinstance(small, cst.Assign):
            constructor = self._constructor_alias(small)
            for target in small.targets:
                self._targets(target.target)
                if constructor is not None and isinstance(target.target, cst.Name):
                    self._aliases[target.target.value] = constructor  # `_Column = mapped_column`
        elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
            self._targets(small.target)

    def _constructor_alias(self, small: cst.Assign) -> str | None:
        """What `_Column = mapped_column` (a local name for a column or relationship constructor)
        stands for; None for any other assignment."""
        if not isinstance(small.value, (cst.Name, cst.Attribute)):
            return None
        name = self.qualname(small.value)
        if name is None or name.rsplit(".", 1)[-1] not in COLUMN_FUNCS | RELATIONSHIP_FUNCS:
            return None
        return name

    def _targets(self, node: cst.CSTNode | None) -> None:
        if isinstance(node, cst.Name):
            self._bind(node.value, node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._targets(element.value)
        elif isinstance(node, cst.StarredElement):
            self._targets(node.value)

    def func_name(self, node: cst.BaseExpression) -> str:
        """Last component of what a call/name resolves to: `sa.Column` -> `Column`."""
        func = node.func if isinstance(node, cst.Call) else node
        if isinstance(func, cst.Name) and func.value in self._aliases:
            return self._aliases[func.value].rsplit(".", 1)[-1]
        name = self.qualname(func)
        if name is not None and "<" not in name:
            return name.rsplit(".", 1)[-1]
        if isinstance(func, cst.Attribute):
            return func.attr.value
        return func.value if isinstance(func, cst.Name) else ""


@dataclass(frozen=True)
class Member:
    """One named member of a class body (a method with its setters is one member)."""

    name: str
    kind: str
    stmts: tuple[cst.BaseStatement, ...]
    call: str = ""  # constructor for assignments: Column, mapped_column, relationship, ...
    annotated: bool = False

    def text(self) -> str:
        """The member's source, as in its module."""
        return "".join(code(s) for s in self.stmts).strip("\n")


def class_statements(cls: cst.ClassDef) -> list[cst.BaseStatement]:
    """The statements of a class body (empty for a one-line `class A: pass`)."""
    return [s for s in cls.body.body if isinstance(s, cst.BaseStatement)]


def leading_lines(stmt: cst.BaseStatement) -> list[cst.EmptyLine]:
    """The blank and comment lines above a statement."""
    return list(getattr(stmt, "leading_lines", ()))


def kwarg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    """A keyword argument's value node, or None."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def positional(call: cst.Call) -> list[cst.BaseExpression]:
    """Positional (non-star) argument values."""
    return [a.value for a in call.args if a.keyword is None and not a.star]


def literal_bool(node: cst.BaseExpression | None) -> bool | None:
    """True/False for a literal, None otherwise."""
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def string_value(node: cst.BaseExpression | None) -> str | None:
    """The value of a simple string literal."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _assign_parts(stmt: cst.BaseStatement) -> tuple[str, cst.BaseExpression | None, cst.Annotation | None] | None:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        if isinstance(target, cst.Name):
            return target.value, small.value, None
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
        return small.target.value, small.value, small.annotation
    return None


def _decorated_target(node: cst.FunctionDef) -> str:
    """`@x.setter def x` belongs to member x; otherwise the function's name."""
    for deco in node.decorators:
        d = deco.decorator
        if (isinstance(d, cst.Attribute) and isinstance(d.value, cst.Name)
                and d.attr.value in _ACCESSORS):
            return d.value.value
    return node.name.value


def members(body: Iterable[cst.BaseStatement], resolver: Resolver) -> list[Member]:
    """The class body as members in source order, grouping setters and overloads by name."""
    found: list[Member] = []
    by_name: dict[str, int] = {}
    for i, stmt in enumerate(body):
        member = member_of(stmt, resolver, i)
        if member.kind == "method" and member.name in by_name:
            j = by_name[member.name]
            old = found[j]
            found[j] = Member(old.name, old.kind, old.stmts + member.stmts)
            continue
        by_name[member.name] = len(found)
        found.append(member)
    return found


def member_of(stmt: cst.BaseStatement, resolver: Resolver, index: int) -> Member:
    """Classify one class-body statement (index 0 may be the docstring)."""
    if index == 0 and isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
            return Member("__doc__", "docstring", (stmt,))
    if isinstance(stmt, cst.FunctionDef):
        return Member(_decorated_target(stmt), "method", (stmt,))
    if isinstance(stmt, cst.ClassDef):
        return Member(stmt.name.value, "method", (stmt,))
    parts = _assign_parts(stmt)
    if parts is None:
        return Member(f"<stmt {index}: {code(stmt).strip()[:40]}>", "constant", (stmt,))
    name, value, annotation = parts
    if name.startswith("__") and name.endswith("__"):
        return Member(name, "dunder", (stmt,))
    called = resolver.func_name(value) if isinstance(value, cst.Call) else ""
    annotated = annotation is not None
    if value is None and mapped_inner(annotation) is not None:  # a bare `x: Mapped[int]` is a column
        return Member(name, "column", (stmt,), "mapped_column", True)
    if called in COLUMN_FUNCS:
        return Member(name, "column", (stmt,), called, annotated)
    if called in RELATIONSHIP_FUNCS:
        return Member(name, "relationship", (stmt,), called, annotated)
    if called in ATTRIBUTE_FUNCS:
        return Member(name, "attribute", (stmt,), called, annotated)
    return Member(name, "constant", (stmt,), called, annotated)


def assignment(member: Member) -> tuple[cst.Call | None, cst.Annotation | None]:
    """The value call and annotation of an assignment member."""
    parts = _assign_parts(member.stmts[0])
    if parts is None:
        return None, None
    _, value, annotation = parts
    return (value if isinstance(value, cst.Call) else None), annotation


def assignment_value(member: Member) -> cst.BaseExpression | None:
    """The assigned value of an assignment member."""
    parts = _assign_parts(member.stmts[0])
    return parts[1] if parts is not None else None


def mapped_inner(annotation: cst.Annotation | None) -> cst.BaseExpression | None:
    """`Mapped[X]` -> X (also DynamicMapped/WriteOnlyMapped); string annotations parsed."""
    if annotation is None:
        return None
    ann = annotation.annotation
    value = string_value(ann)
    if value is not None:
        try:
            ann = cst.parse_expression(value)
        except cst.ParserSyntaxError:
            return None
    if isinstance(ann, cst.Subscript) and len(ann.slice) == 1:
        element = ann.slice[0].slice
        if isinstance(element, cst.Index):
            return element.value
    return None


def optional_inner(node: cst.BaseExpression) -> tuple[cst.BaseExpression, bool]:
    """`Optional[X]` / `X | None` / `Union[X, None]` -> (X, True); anything else -> (node, False)."""
    if isinstance(node, cst.Subscript):
        head = code(node.value).rsplit(".", 1)[-1]
        items = [s.slice.value for s in node.slice if isinstance(s.slice, cst.Index)]
        if head == "Optional" and len(items) == 1:
            return items[0], True
        if head == "Union" and any(code(i) == "None" for i in items):
            rest = [i for i in items if code(i) != "None"]
            return (rest[0], True) if len(rest) == 1 else (node, True)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        if code(node.right).strip() == "None":
            return node.left, True
        if code(node.left).strip() == "None":
            return node.right, True
    return node, False


def column_key(member: Member, resolver: Resolver) -> tuple[tuple[str, str], ...] | None:
    """The shared normalised column definition (`index._columns.column_spec`), for comparison."""
    call, annotation = assignment(member)
    if call is None and not (member.kind == "column" and annotation is not None):
        return None
    return column_spec_of_text(member.name, code(call) if call is not None else None,
                               code(annotation.annotation) if annotation is not None else None,
                               callee=member.call or None)


def relationship_key(member: Member) -> tuple[tuple[str, str], ...] | None:
    """The shared normalised relationship definition (`index._columns.relationship_spec`)."""
    call, annotation = assignment(member)
    if call is None:
        return None
    return relationship_spec_of_text(code(call), code(annotation.annotation) if annotation is not None else None)


def code_key(member: Member) -> str:
    """Formatting-, comment- and type-hint-blind key of a member's code (`index._columns.code_spec`)."""
    return code_spec(member.text())


def member_key(member: Member, resolver: Resolver) -> object:
    """What must match for two same-named members to be equivalent."""
    if member.kind == "column":
        return column_key(member, resolver)
    if member.kind == "relationship":
        return relationship_key(member)
    return code_key(member)
