"""Union of two `__table_args__` (constraints, indexes, dict options; the dict stays last)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from codemods.cst._classbody import (
    Member,
    Resolver,
    assignment_value,
    code,
    leading_lines,
    norm,
    positional,
    string_value,
)


@dataclass(frozen=True)
class TableArgs:
    """`__table_args__` split into positional items and dict entries (None: not a literal)."""

    items: tuple[cst.BaseExpression, ...]
    options: tuple[cst.DictElement, ...]


def parse_table_args(member: Member | None) -> TableArgs | None:
    """Items and options of a literal tuple/dict `__table_args__`; empty when absent."""
    if member is None:
        return TableArgs((), ())
    value = assignment_value(member)
    if isinstance(value, cst.Dict):
        return TableArgs((), tuple(e for e in value.elements if isinstance(e, cst.DictElement)))
    if isinstance(value, cst.Tuple):
        elements = [e.value for e in value.elements]
        if elements and isinstance(elements[-1], cst.Dict):
            last = elements.pop()
            assert isinstance(last, cst.Dict)
            options = tuple(e for e in last.elements if isinstance(e, cst.DictElement))
            return TableArgs(tuple(elements), options)
        return TableArgs(tuple(elements), ())
    return None


def single_column_index(item: cst.BaseExpression, resolver: Resolver) -> str | None:
    """`Index("ix", "col")` -> "col" (an Index on exactly one named column)."""
    if not isinstance(item, cst.Call) or resolver.func_name(item) != "Index":
        return None
    args = positional(item)
    if len(args) != 2:
        return None
    column = string_value(args[1])
    if column is None and isinstance(args[1], cst.Attribute):
        column = args[1].attr.value
    return column


def render(items: list[cst.BaseExpression], options: list[cst.DictElement], indent: str) -> str:
    """Source of a `__table_args__` assignment: a dict alone, else a tuple with the dict last.

    Continuation lines are relative: libcst adds the class body's indentation when rendering.
    """
    dict_text = ""
    if options:
        dict_text = "{" + ", ".join(f"{code(e.key)}: {code(e.value)}" for e in options) + "}"
    if not items:
        return f"__table_args__ = {dict_text}\n"
    lines = [f"{indent}{code(i)}," for i in items]
    if dict_text:
        lines.append(f"{indent}{dict_text},")
    return "__table_args__ = (\n" + "\n".join(lines) + "\n)\n"


def option_key(element: cst.DictElement) -> str:
    """Normalised key of a dict entry."""
    return norm(code(element.key))


def item_key(item: cst.BaseExpression) -> str:
    """Normalised text of a table-args item."""
    return norm(code(item))


def without_options(member: Member, keys: frozenset[str], indent: str) -> Member | None:
    """The `__table_args__` member without the dict entries named in keys (None: nothing left)."""
    parsed = parse_table_args(member)
    if parsed is None:
        return member
    kept = [o for o in parsed.options if string_value(o.key) not in keys]
    if len(kept) == len(parsed.options):
        return member
    if not kept and not parsed.items:
        return None
    stmt = cst.parse_statement(render(list(parsed.items), kept, indent))
    return Member("__table_args__", "dunder", (stmt.with_changes(leading_lines=leading_lines(member.stmts[0])),))
