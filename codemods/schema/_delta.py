"""The schema delta of a merge: the merged table against each original class's table, read statically.

Both sides come from the index's normalised definitions (`ColumnDef`, `__table_args__`), so the
delta needs no import of the target: it answers "does the database need a migration?" for a
database created from either original class.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from codemods.index._facts import ClassFact, file_facts
from codemods.types import (
    ClassDelta,
    ColumnDef,
    ColumnDelta,
    Consolidation,
    MemberDef,
    MergeResult,
    Migration,
    ModelDef,
)

__all__ = ["class_delta", "needs_migration", "schema_delta", "table_items"]

CONSTRAINT_CALLS = frozenset({"UniqueConstraint", "CheckConstraint", "ForeignKeyConstraint", "PrimaryKeyConstraint"})
LENGTH_TYPES = frozenset({"String", "VARCHAR", "CHAR", "Unicode", "NVARCHAR", "Text", "LargeBinary", "Numeric"})
# (field, ColumnDef attribute, part of the DDL?)
FIELDS = (
    ("primary_key", "primary_key", True), ("nullable", "nullable", True),
    ("server_default", "server_default", True), ("unique", "unique", True), ("index", "index", True),
    ("foreign_key", "foreign_keys", True), ("default", "default", False), ("onupdate", "onupdate", False),
)


def merged_class(consolidation: Consolidation, merged: MergeResult) -> ClassFact | None:
    """The canonical class as the merged module text defines it (None when it cannot be read)."""
    canonical = consolidation.canonical
    try:
        tree = ast.parse(merged.canonical_text.lstrip("\ufeff"))
    except SyntaxError:
        return None
    facts = file_facts(canonical.module, merged.canonical_path, merged.canonical_path.endswith("__init__.py"), tree)
    return next((c for c in facts.classes if c.name == canonical.class_name), None)


def table_items(members: Sequence[MemberDef]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(constraints, indexes) of a class's `__table_args__`, each normalised by `ast.unparse`."""
    source = next((m.source for m in members if m.name == "__table_args__"), None)
    if source is None:
        return (), ()
    try:
        stmt = ast.parse(source).body[0]
    except (SyntaxError, IndexError):
        return (), ()
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
    elements = value.elts if isinstance(value, (ast.Tuple, ast.List)) else []
    constraints: list[str] = []
    indexes: list[str] = []
    for node in elements:
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        text = ast.unparse(ast.Call(ast.Name(name), node.args, node.keywords))
        if name == "Index":
            indexes.append(text)
        elif name in CONSTRAINT_CALLS:
            constraints.append(text)
    return tuple(sorted(constraints)), tuple(sorted(indexes))


def _type_field(before: str | None, after: str | None) -> str:
    base_before, base_after = (before or "").split("(")[0], (after or "").split("(")[0]
    return "length" if base_before == base_after and base_before in LENGTH_TYPES else "type"


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return "none" if value is None else str(value)


def _column_changes(old: ColumnDef, new: ColumnDef) -> list[ColumnDelta]:
    changes: list[ColumnDelta] = []
    if (old.type or "") != (new.type or "") and old.type is not None and new.type is not None:
        changes.append(ColumnDelta(new.column_name, _type_field(old.type, new.type), old.type, new.type, True))
    for name, attr, ddl in FIELDS:
        a, b = getattr(old, attr), getattr(new, attr)
        if a != b:
            changes.append(ColumnDelta(new.column_name, name, _show(a), _show(b), ddl))
    return changes


def class_delta(
    original: ModelDef, columns: Sequence[ColumnDef], members: Sequence[MemberDef], table: str
) -> ClassDelta:
    """The merged table (`columns`, `members`) against the table `original` declared."""
    old = {c.column_name: c for c in original.columns}
    new = {c.column_name: c for c in columns}
    changed = [d for name in sorted(old.keys() & new.keys()) for d in _column_changes(old[name], new[name])]
    old_constraints, old_indexes = table_items(original.members)
    new_constraints, new_indexes = table_items(members)
    return ClassDelta(
        original=original.ref, path=original.path, table=table,
        added=tuple(sorted(new.keys() - old.keys())), dropped=tuple(sorted(old.keys() - new.keys())),
        changed=tuple(changed),
        constraints_added=tuple(sorted(set(new_constraints) - set(old_constraints))),
        constraints_removed=tuple(sorted(set(old_constraints) - set(new_constraints))),
        indexes_added=tuple(sorted(set(new_indexes) - set(old_indexes))),
        indexes_removed=tuple(sorted(set(old_indexes) - set(new_indexes))),
    )


def schema_delta(consolidation: Consolidation, merged: MergeResult) -> tuple[ClassDelta, ...]:
    """The merged table against each original class (canonical first, then each duplicate)."""
    cls = merged_class(consolidation, merged)
    if cls is None:
        return ()
    table = cls.tablename or consolidation.canonical.table or consolidation.canonical.class_name
    return tuple(class_delta(model, cls.columns, cls.members, table)
                 for model in (consolidation.canonical, *consolidation.duplicates))


def needs_migration(migrations: Sequence[Migration]) -> bool:
    """True when some original class's table differs in DDL from its merged table."""
    return any(d.needs_migration for m in migrations for d in m.schema)
