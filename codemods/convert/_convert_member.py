"""Convert one legacy class member (`Column(...)`, bare `relationship(...)`) to Mapped style."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from codemods.convert._pytypes import python_type
from codemods.cst._classbody import (
    SCHEMA_ITEMS,
    Member,
    Resolver,
    assignment,
    code,
    kwarg,
    literal_bool,
    positional,
    string_value,
)
from codemods.cst._imports import ImportPlanner
from codemods.index._lookup import ModelSite


@dataclass
class ConvertContext:
    """What converting a member needs: its source module's names, the target's imports, FK facts."""

    resolver: Resolver
    imports: ImportPlanner
    class_name: str
    table: str | None
    own_fk_tables: frozenset[str]
    sites: dict[str, list[ModelSite]]
    local_impls: dict[str, cst.BaseExpression] = field(default_factory=dict)
    module: str = ""


def needs_conversion(member: Member) -> bool:
    """A column or relationship assignment without a `Mapped[...]` annotation."""
    return member.kind in ("column", "relationship") and not member.annotated


def convert_member(member: Member, ctx: ConvertContext) -> tuple[Member, list[str]]:
    """The member in Mapped style (unchanged when it already is), with notes."""
    if not needs_conversion(member):
        return member, []
    if member.kind == "column":
        stmt, notes = _convert_column(member, ctx)
    else:
        stmt, notes = _convert_relationship(member, ctx)
    call = "mapped_column" if member.kind == "column" else member.call
    return Member(member.name, member.kind, (stmt,), call, True), notes


LINE_LENGTH = 99
INDENT = "    "


def _with_annotation(
    stmt: cst.BaseStatement, annotation: str, value: cst.BaseExpression, line_length: int = LINE_LENGTH
) -> cst.BaseStatement:
    assert isinstance(stmt, cst.SimpleStatementLine)
    small = stmt.body[0]
    assert isinstance(small, cst.Assign)
    new = cst.AnnAssign(
        target=small.targets[0].target,
        annotation=cst.Annotation(cst.parse_expression(annotation)),
        value=value,
        semicolon=small.semicolon,
    )
    line = stmt.with_changes(body=[new], leading_lines=[])
    return _wrap(line, line_length).with_changes(leading_lines=stmt.leading_lines)


def _wrap(stmt: cst.SimpleStatementLine, line_length: int = LINE_LENGTH) -> cst.SimpleStatementLine:
    """Put a too-long one-line call's arguments on their own line, or one per line with a
    trailing comma when they do not fit on one, as black and ruff format would."""
    text = code(stmt)
    first = text.split("\n", 1)[0]
    small = stmt.body[0]
    if (len(INDENT + first) <= line_length or "\n" in text.rstrip("\n") or not isinstance(small, cst.AnnAssign)
            or not isinstance(small.value, cst.Call) or not small.value.args):
        return stmt
    call = small.value
    head = code(small.target) + ": " + code(small.annotation.annotation) + " = " + code(call.func)
    args = "".join(code(a) for a in call.args).strip().rstrip(",")
    # continuation lines are relative: libcst adds the enclosing block's indentation
    wrapped = f"{head}(\n{INDENT}{args}\n)\n"
    if len(INDENT * 2 + args) > line_length:
        each = "".join(f"{INDENT}{code(a.with_changes(comma=cst.MaybeSentinel.DEFAULT)).strip()},\n"
                       for a in call.args)
        wrapped = f"{head}(\n{each})\n"
    parsed = cst.parse_statement(wrapped)
    assert isinstance(parsed, cst.SimpleStatementLine)
    return parsed.with_changes(trailing_whitespace=stmt.trailing_whitespace)


def _drop_kwarg(call: cst.Call, name: str) -> cst.Call:
    args = list(call.args)
    kept = [a for a in args if not (a.keyword is not None and a.keyword.value == name)]
    if len(kept) == len(args) or not kept:
        return call.with_changes(args=kept)
    if args[-1] is not kept[-1]:
        kept[-1] = kept[-1].with_changes(comma=args[-1].comma)
    return call.with_changes(args=kept)


def _fk_python_type(call: cst.Call, ctx: ConvertContext) -> tuple[str, str | None]:
    """Type of a column typed only by its ForeignKey: the annotation does not change the DDL."""
    for arg in positional(call):
        if ctx.resolver.func_name(arg) == "ForeignKey" and isinstance(arg, cst.Call) and arg.args:
            target = string_value(arg.args[0].value) or code(arg.args[0].value)
            column = target.rsplit(".", 1)[-1]
            if column == "id" or column.endswith("_id"):
                return "int", None
    return ctx.imports.ref("typing", "Any"), "foreign-key column without a visible type, annotated Any"


def _convert_column(member: Member, ctx: ConvertContext) -> tuple[cst.BaseStatement, list[str]]:
    call, _ = assignment(member)
    assert call is not None
    notes: list[str] = []
    args = positional(call)
    if args and string_value(args[0]) is not None:
        args = args[1:]
    type_node = kwarg(call, "type_")
    if args and ctx.resolver.func_name(args[0]) not in SCHEMA_ITEMS:
        type_node = args[0]
    if type_node is not None:
        inferred = python_type(type_node, ctx.resolver.qualname, ctx.local_impls, ctx.imports.ref, code,
                               kwarg(call, "default"))
        py, note = inferred.text, inferred.note
    else:
        py, note = _fk_python_type(call, ctx)
    if note:
        notes.append(f"{ctx.class_name}.{member.name}: {note}")
    pk = literal_bool(kwarg(call, "primary_key")) is True
    null_node = kwarg(call, "nullable")
    explicit = literal_bool(null_node)
    if null_node is not None and explicit is None:
        optional = True  # a non-literal nullable= stays and decides
    elif explicit is not None:
        optional = explicit
        if not pk or explicit is False:
            call = _drop_kwarg(call, "nullable")
    else:
        optional = not pk
    if member.call == "Column":
        call = call.with_changes(func=cst.parse_expression(ctx.imports.ref("sqlalchemy.orm", "mapped_column")))
    inner = ctx.imports.optional(py) if optional else py
    mapped = ctx.imports.ref("sqlalchemy.orm", "Mapped")
    return _with_annotation(member.stmts[0], f"{mapped}[{inner}]", call, ctx.imports.line_length), notes


def _target_name(call: cst.Call) -> str | None:
    args = positional(call)
    if not args:
        return None
    if isinstance(args[0], cst.Lambda):  # relationship(lambda: Account)
        args = [args[0].body]
    value = string_value(args[0])
    if value is not None:
        return value.strip().rsplit(".", 1)[-1]
    if isinstance(args[0], (cst.Name, cst.Attribute)):
        return code(args[0]).rsplit(".", 1)[-1]
    return None


def _is_collection(call: cst.Call, target: str | None, ctx: ConvertContext) -> tuple[bool, str | None]:
    """Whether the relationship holds a collection, from uselist/secondary/remote_side/FK direction."""
    uselist = literal_bool(kwarg(call, "uselist"))
    if uselist is not None:
        return uselist, None
    if kwarg(call, "secondary") is not None:
        return True, None
    if kwarg(call, "remote_side") is not None:
        return False, None
    if target is None:
        return True, "target not visible, assumed a collection"
    if target == ctx.class_name:
        return True, None
    candidates = ctx.sites.get(target, [])
    site = next((s for s in candidates if s.module == ctx.module), candidates[0] if candidates else None)
    if site is None:
        return True, f"model {target} not found, assumed one-to-many"
    own = site.table in ctx.own_fk_tables or f"<class>{target}" in ctx.own_fk_tables
    theirs = ctx.table in site.fk_tables or f"<class>{ctx.class_name}" in site.fk_tables
    if own and not theirs:
        return False, None
    if theirs and not own:
        return True, None
    if own and theirs:
        # a list annotation leaves uselist to SQLAlchemy's direction; a scalar one would force it
        return True, f"FKs both ways with {target}, annotated as a collection (uselist decided by SQLAlchemy)"
    return True, f"no foreign key between {ctx.class_name} and {target} found, assumed one-to-many"


def _convert_relationship(member: Member, ctx: ConvertContext) -> tuple[cst.BaseStatement, list[str]]:
    call, _ = assignment(member)
    assert call is not None
    notes: list[str] = []
    target = _target_name(call)
    if target is None:
        quoted = ctx.imports.ref("typing", "Any")
    else:
        quoted = target if target != ctx.class_name and ctx.imports.bare(target) else f'"{target}"'
        if target == ctx.class_name and ctx.imports.future_annotations:
            quoted = target
    lazy = string_value(kwarg(call, "lazy"))
    backref = kwarg(call, "backref")
    if backref is not None:
        notes.append(f"{ctx.class_name}.{member.name}: backref={code(backref)} kept")
    if lazy == "dynamic":
        annotation = f"{ctx.imports.ref('sqlalchemy.orm', 'DynamicMapped')}[{quoted}]"
        return _with_annotation(member.stmts[0], annotation, call, ctx.imports.line_length), notes
    if lazy == "write_only":
        annotation = f"{ctx.imports.ref('sqlalchemy.orm', 'WriteOnlyMapped')}[{quoted}]"
        return _with_annotation(member.stmts[0], annotation, call, ctx.imports.line_length), notes
    mapped = ctx.imports.ref("sqlalchemy.orm", "Mapped")
    collection_class = kwarg(call, "collection_class")
    if collection_class is not None:
        cc = code(collection_class)
        if cc in ("set", "list"):
            inner = f"{cc}[{quoted}]"
        elif "keyed_dict" in cc or "mapped_collection" in cc:
            inner = f"dict[{ctx.imports.ref('typing', 'Any')}, {quoted}]"
        else:
            inner = ctx.imports.ref("typing", "Any")
        return _with_annotation(member.stmts[0], f"{mapped}[{inner}]", call, ctx.imports.line_length), notes
    many, note = _is_collection(call, target, ctx)
    if note:
        notes.append(f"{ctx.class_name}.{member.name}: {note}")
    if many:
        inner = f"{ctx.imports.ref('', 'list')}[{quoted}]"
    else:
        inner = ctx.imports.optional(quoted)
    return _with_annotation(member.stmts[0], f"{mapped}[{inner}]", call, ctx.imports.line_length), notes
