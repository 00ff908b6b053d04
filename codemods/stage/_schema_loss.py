"""Schema a merge lost: the merged table against each original class's table (sqlite DDL from the probes).

A merge is a union: the merged table keeps every column, foreign key, index and server default
either class had. A loss is allowed only where the conflict policy decided it, and then the
conflict (with its resolution) is in the report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from codemods.types import ColumnChange, Migration, TableDiff

PARENS = re.compile(r"\(([^()]*)\)")


def table_diff(table: str, compared_to: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> TableDiff:
    """Column, constraint and index differences between two probe table records."""
    if "error" in old or "error" in new:
        return TableDiff(table, compared_to, before_ddl=str(old.get("ddl", old.get("error"))),
                         after_ddl=str(new.get("ddl", new.get("error"))))
    oc: Mapping[str, str] = old["columns"]
    nc: Mapping[str, str] = new["columns"]
    changed = tuple(ColumnChange(c, oc[c], nc[c]) for c in sorted(set(oc) & set(nc)) if oc[c] != nc[c])
    return TableDiff(
        table, compared_to,
        added=tuple(sorted(set(nc) - set(oc))), removed=tuple(sorted(set(oc) - set(nc))),
        changed=changed,
        constraints_added=tuple(sorted(set(new["constraints"]) - set(old["constraints"]))),
        constraints_removed=tuple(sorted(set(old["constraints"]) - set(new["constraints"]))),
        indexes_added=tuple(sorted(set(new["indexes"]) - set(old["indexes"]))),
        indexes_removed=tuple(sorted(set(old["indexes"]) - set(new["indexes"]))),
        before_ddl=old["ddl"], after_ddl=new["ddl"],
    )


def _columns_named(clause: str) -> set[str]:
    """The column names in the first parenthesised list of a constraint or index clause."""
    match = PARENS.search(clause)
    return {c.strip().strip('"') for c in match.group(1).split(",")} if match else set()


def _decided(migration: Migration) -> set[str]:
    """Attribute names the conflict policy decided on (their loss is reported as a conflict)."""
    return {c.attribute for c in migration.merge.conflicts}


def _lost_default(change: ColumnChange) -> bool:
    return " DEFAULT " in f" {change.before} " and " DEFAULT " not in f" {change.after} "


def _shape(clause: str) -> tuple[str, frozenset[str]]:
    """A constraint or index without its name: its kind and its columns."""
    text = re.sub(r"^CONSTRAINT \S+ ", "", clause)
    kind = text.split(" ON ")[0].rsplit(" ", 1)[0] if text.startswith("CREATE") else PARENS.sub("()", text)
    return kind, frozenset(_columns_named(text))


def lost_schema(diffs: Sequence[TableDiff], migration: Migration) -> list[str]:
    """One regression per column, foreign key, constraint, index or server default the merged table
    lost against an original class of `migration`, unless a conflict decision covers it."""
    originals = {m.ref for m in (migration.consolidation.canonical, *migration.consolidation.duplicates)}
    decided = _decided(migration)
    out: list[str] = []
    for diff in diffs:
        if diff.compared_to not in originals or "columns" not in _kinds(diff):
            continue
        where = f"schema: {diff.table} lost"
        source = f"(from {diff.compared_to}; no conflict decision covers it)"
        out += [f"{where} column {c} {source}" for c in diff.removed if c not in decided]
        for c in diff.changed:
            if c.name not in decided:
                what = f"the server default of {c.name}" if _lost_default(c) else f"column {c.name} as"
                out.append(f"{where} {what} `{c.before}` (now `{c.after}`) {source}")
        kept = {_shape(clause) for clause in (*diff.constraints_added, *diff.indexes_added)}
        for clause in (*diff.constraints_removed, *diff.indexes_removed):
            if not _columns_named(clause) & decided and _shape(clause) not in kept:
                kind = "foreign key" if clause.startswith("FOREIGN KEY") else (
                    "index" if clause.startswith("CREATE") else "constraint")
                out.append(f"{where} {kind} {clause} {source}")
    return out


def _kinds(diff: TableDiff) -> set[str]:
    """'columns' when the diff compares two rendered tables (not a render error on either side)."""
    return {"columns"} if diff.before_ddl.startswith("CREATE") and diff.after_ddl.startswith("CREATE") else set()
