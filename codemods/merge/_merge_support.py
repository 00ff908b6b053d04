"""Merge helpers: slots and their placement, `__table_args__` union, relationship targets, TYPE_CHECKING imports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from codemods.cst._classbody import (
    KIND_ORDER,
    Member,
    Resolver,
    assignment,
    code,
    column_key,
    kwarg,
    leading_lines,
    literal_bool,
    positional,
    string_value,
)
from codemods.cst._imports import bindings, is_type_checking
from codemods.index._lookup import ModelSite
from codemods.merge._moves import names_used
from codemods.merge._tableargs import item_key, option_key, parse_table_args, render, single_column_index
from codemods.types import ConflictPolicy, TableConflict


@dataclass
class Slot:
    """A member of the merged class and the module it comes from (0 = canonical)."""

    member: Member
    source: int


def place(slots: list[Slot], slot: Slot) -> None:
    """Insert after the last member of the same kind, else after the nearest earlier kind."""
    order = KIND_ORDER.index(slot.member.kind)
    same = [i for i, s in enumerate(slots) if s.member.kind == slot.member.kind]
    if same and slot.member.kind in ("column", "relationship"):
        # joining a group: drop the blank lines that separated it from another group (comments stay)
        first = slot.member.stmts[0]
        lines = leading_lines(first)
        while lines and lines[0].comment is None:
            lines.pop(0)
        stmts = (first.with_changes(leading_lines=lines), *slot.member.stmts[1:])
        member = slot.member
        slot = Slot(Member(member.name, member.kind, stmts, member.call, member.annotated), slot.source)
        slots.insert(same[-1] + 1, slot)
        return
    if same:
        slots.insert(same[-1] + 1, slot)
        return
    lower = [i for i, s in enumerate(slots) if KIND_ORDER.index(s.member.kind) < order]
    at = lower[-1] + 1 if lower else 0
    slots.insert(at, slot)
    if slot.member.kind == "docstring" and at + 1 < len(slots):
        nxt = slots[at + 1]
        first = nxt.member.stmts[0]
        if not leading_lines(first):
            stmts = (first.with_changes(leading_lines=[cst.EmptyLine(indent=False)]), *nxt.member.stmts[1:])
            slots[at + 1] = Slot(Member(nxt.member.name, nxt.member.kind, stmts, nxt.member.call,
                                         nxt.member.annotated), nxt.source)


def differences(ours: dict[str, str], theirs: dict[str, str]) -> str:
    """`type String(320) vs String(255), default 'x' vs -` for two normalised column facts."""
    keys = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
    return ", ".join(f"{k} {ours.get(k) or '-'} vs {theirs.get(k) or '-'}" for k in keys)


def resolution_of(policy: ConflictPolicy) -> str:
    """How a conflict was resolved under the policy, in words."""
    return {
        ConflictPolicy.KEEP_CANONICAL: "kept canonical",
        ConflictPolicy.KEEP_DUPLICATE: "kept duplicate",
        ConflictPolicy.FAIL: "failed: nothing written",
    }[policy]


def after_named_members(slots: list[Slot]) -> list[Slot]:
    """The slots with `__mapper_args__` moved after the members it names (`version_id_col: version`)."""
    at = next((i for i, s in enumerate(slots) if s.member.name == "__mapper_args__"), None)
    if at is None:
        return slots
    used = set(names_used(slots[at].member.stmts))
    last = max((i for i, s in enumerate(slots) if s.member.name in used), default=-1)
    if last < at:
        return slots
    moved = slots[at]
    stmt = moved.member.stmts[0]
    stmts = (stmt.with_changes(leading_lines=[cst.EmptyLine(indent=False)]), *moved.member.stmts[1:])
    member = Member(moved.member.name, moved.member.kind, stmts, moved.member.call, moved.member.annotated)
    rest = slots[:at] + slots[at + 1:]
    return [*rest[:last], Slot(member, moved.source), *rest[last:]]


def validated_attributes(member: Member, resolver: Resolver) -> frozenset[str]:
    """Attributes a `@validates("a", "b")` method validates (empty for anything else)."""
    found: set[str] = set()
    for stmt in member.stmts:
        if not isinstance(stmt, cst.FunctionDef):
            continue
        for deco in stmt.decorators:
            call = deco.decorator
            if isinstance(call, cst.Call) and resolver.func_name(call) == "validates":
                found.update(v for v in map(string_value, positional(call)) if v is not None)
    return frozenset(found)


def _indexed_columns(columns: Sequence[tuple[Member, Resolver]]) -> set[str]:
    """Attribute and column names of columns declared with index=True."""
    found: set[str] = set()
    for member, resolver in columns:
        call, _ = assignment(member)
        if call is None or literal_bool(kwarg(call, "index")) is not True:
            continue
        found.add(member.name)
        facts = dict(column_key(member, resolver) or ())
        found.add(facts.get("column_name", member.name))
    return found


def unite_table_args(
    mine: Member | None,
    theirs: Member,
    canon_resolver: Resolver,
    dup_resolver: Resolver,
    columns: Sequence[tuple[Member, Resolver]],
    indent: str,
) -> tuple[Member | None, list[TableConflict], str | None]:
    """The united `__table_args__` member (None: keep as is), conflicts, and a note."""
    ours, other = parse_table_args(mine), parse_table_args(theirs)
    if ours is None or other is None:
        if mine is not None and code(mine.stmts[0]).strip() != code(theirs.stmts[0]).strip():
            kept = TableConflict("__table_args__", "table_args", mine.text(), theirs.text(), "kept canonical")
            return None, [kept], None
        return (theirs if mine is None else None), [], None
    conflicts: list[TableConflict] = []
    indexed = _indexed_columns(columns)
    items = list(ours.items)
    seen = {item_key(i) for i in items}
    for item in other.items:
        key = item_key(item)
        if key in seen:
            continue
        column = single_column_index(item, dup_resolver)
        if column is not None and column in indexed:
            conflicts.append(TableConflict(column, "index", f"{column} = ...(index=True)", code(item),
                                            "kept the column's index=True; dropped the duplicate Index"))
            continue
        seen.add(key)
        items.append(item)
    options = list(ours.options)
    keys = {option_key(o): o for o in options}
    for option in other.options:
        key = option_key(option)
        if key not in keys:
            options.append(option)
            keys[key] = option
        elif code(keys[key].value).strip() != code(option.value).strip():
            conflicts.append(TableConflict("__table_args__", "table_args", code(keys[key]), code(option),
                                            "kept canonical"))
    if len(items) == len(ours.items) and len(options) == len(ours.options) and mine is not None:
        return None, conflicts, None
    text = render(items, options, indent)
    template = (mine or theirs).stmts[0]
    stmt = cst.parse_statement(text)
    stmt = stmt.with_changes(leading_lines=leading_lines(template))
    return Member("__table_args__", "dunder", (stmt,)), conflicts, None


def relationship_targets(converted: Sequence[Member], class_name: str) -> list[str]:
    """Class names the merged class's relationships point at (first positional string)."""
    found: list[str] = []
    for member in converted:
        if member.kind != "relationship":
            continue
        call, _ = assignment(member)
        args = positional(call) if call is not None else []
        target = string_value(args[0]) if args else None
        if target is not None and "." not in target and target != class_name and target not in found:
            found.append(target)
    return found


def _type_checking_block(tree: cst.Module) -> int | None:
    for i, stmt in enumerate(tree.body):
        if isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock) and is_type_checking(stmt.test):
            return i
    return None


def target_imports(
    targets: Sequence[str], sites: dict[str, list[ModelSite]], module: str
) -> list[tuple[str, str]]:
    """(module, class) to import for type checkers, for targets defined in exactly one other module."""
    found: list[tuple[str, str]] = []
    for target in targets:
        candidates = [s for s in sites.get(target, []) if s.module != module]
        if len(candidates) == 1:
            found.append((candidates[0].module, target))
    return found


def add_type_checking_imports(tree: cst.Module, imports: Sequence[tuple[str, str]]) -> cst.Module:
    """Add `from module import name` to the module's existing `if TYPE_CHECKING:` block."""
    at = _type_checking_block(tree)
    if at is None:
        return tree
    known = bindings(tree)
    block = tree.body[at]
    assert isinstance(block, cst.If) and isinstance(block.body, cst.IndentedBlock)
    body = list(block.body.body)
    texts = [code(s).strip() for s in body]
    was_sorted = texts == sorted(texts)
    added = False
    for module, name in imports:
        if name in known:
            continue
        known[name] = []
        body.append(cst.parse_statement(f"from {module} import {name}\n"))
        added = True
    if not added:
        return tree
    if was_sorted:
        body.sort(key=lambda s: code(s).strip())
    new_block = block.with_changes(body=block.body.with_changes(body=body))
    return tree.with_changes(body=[new_block if i == at else s for i, s in enumerate(tree.body)])
