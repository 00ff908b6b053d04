"""Group the index's models into duplicates and recommend a canonical member for each group."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from codemods import scan
from codemods.index import build_index
from codemods.index._columns import renamed_spec, table_indexed_columns, with_table_index
from codemods.types import Detection, DuplicateGroup, ModelDef, ModelIndex

STYLE_RANK = {"mapped": 2, "mixed": 1, "legacy": 0}
UNRESOLVED_NOTE = (
    "the declarative base or MetaData of {refs} could not be resolved statically; "
    "grouped by table name alone"
)
ACROSS_NOTE = (
    "one table name in different MetaData objects: no clash at run time, but two models of one "
    "table; `migrate` merges them only when asked, with a warning"
)


def detect(root: str | os.PathLike[str], excludes: Sequence[str] = ()) -> Detection:
    """Index the tree below root and return every duplicate group, sorted."""
    index = build_index(scan.resolve_root(root), excludes)
    return Detection(index=index, groups=tuple(find_groups(index)))


def find_groups(index: ModelIndex) -> list[DuplicateGroup]:
    """Tables claimed twice in one MetaData and schema, then class names mapped twice in one registry."""
    by_table: dict[tuple[str, str | None], dict[str | None, list[ModelDef]]] = defaultdict(
        lambda: defaultdict(list))
    for model in index.models:
        if model.table is not None:
            by_table[(model.table, model.schema)][model.metadata].append(model)
    groups: list[DuplicateGroup] = []
    for (table, _schema), by_meta in by_table.items():
        unresolved = by_meta.pop(None, [])
        scopes = list(by_meta.items()) or [(None, [])]
        for scope, members in scopes:
            members = members + unresolved
            if len(members) > 1:
                groups.append(_group("table", table, scope, members, index))
        if len(by_meta) > 1:  # one table name in several MetaData objects: shown, marked as such
            spread = [m for members in by_meta.values() for m in members]
            group = _group("table", table, ", ".join(sorted(str(k) for k in by_meta)), spread, index)
            groups.append(dataclasses.replace(group, across_metadata=True, note=ACROSS_NOTE))
    seen = {frozenset(m.ref for m in g.models) for g in groups}
    by_name: dict[tuple[str, str], list[ModelDef]] = defaultdict(list)
    for model in index.models:
        if model.kind == "class" and model.registry is not None:
            by_name[(model.registry, model.class_name)].append(model)
    for (registry, _name), members in by_name.items():
        if len(members) > 1 and frozenset(m.ref for m in members) not in seen:
            groups.append(_group("class_name", None, registry, members, index))
    return sorted(groups, key=lambda g: (g.key, g.table or "", g.class_name, g.scope or ""))


def _group(
    key: str, table: str | None, scope: str | None, members: list[ModelDef], index: ModelIndex
) -> DuplicateGroup:
    members = sorted(members, key=lambda m: m.ref)
    canonical, reasons = choose_canonical(members, index.importers)
    unresolved = [m.ref for m in members if m.metadata is None]
    names = Counter(m.class_name for m in members)
    return DuplicateGroup(
        key="table" if key == "table" else "class_name",
        table=table,
        class_name=canonical.class_name if names[canonical.class_name] > 1 else names.most_common(1)[0][0],
        scope=scope,
        resolved=not unresolved,
        models=tuple(members),
        canonical=canonical.ref,
        reasons=tuple(reasons),
        only_in=_only_in(members),
        differing=_differing(members, canonical),
        note=UNRESOLVED_NOTE.format(refs=", ".join(unresolved)) if unresolved else None,
    )


def _size(model: ModelDef) -> int:
    return len(model.columns) + len(model.relationships)


def _legacy(model: ModelDef) -> int:
    return sum(1 for c in model.columns if c.style == "legacy") + sum(
        1 for r in model.relationships if r.style == "legacy"
    )


def choose_canonical(
    members: Sequence[ModelDef], importers: dict[str, int]
) -> tuple[ModelDef, list[str]]:
    """The member to keep, by style, completeness, importers, fewest legacy constructs; and why."""
    criteria: list[tuple[str, Callable[[ModelDef], int], Callable[[ModelDef], object]]] = [
        ("modern Mapped[] style", lambda m: STYLE_RANK[m.style], lambda m: m.style),
        ("most columns and relationships", _size, _size),
        ("most importing files", lambda m: importers.get(m.module, 0), lambda m: importers.get(m.module, 0)),
        ("fewest legacy Column/relationship assignments", lambda m: -_legacy(m), _legacy),
    ]
    ranked = sorted(members, key=lambda m: (tuple(-c[1](m) for c in criteria), m.ref))
    best, others = ranked[0], ranked[1:]
    reasons = []
    for label, score, shown in criteria:
        if all(score(best) > score(o) for o in others):
            theirs = ", ".join(str(shown(o)) for o in others)
            reasons.append(f"{label}: {shown(best)} (others: {theirs})")
    if not reasons:
        reasons.append("members are alike on every criterion; first by module name")
    return best, reasons


def _attributes(model: ModelDef, class_name: str = "") -> dict[str, object]:
    """Each attribute's normalised definition (the one merge compares: `index._columns`), the
    model's own class name read as `class_name` in its relationships (as the merge renames it)."""
    out: dict[str, object] = {}
    table_args = next((m.source for m in model.members if m.name == "__table_args__"), "")
    indexed = table_indexed_columns(table_args)
    for col in model.columns:
        out[col.name] = ("column", with_table_index(col.name, col.spec, indexed))
    for rel in model.relationships:
        out[rel.name] = ("relationship", renamed_spec(rel.spec, {model.class_name: class_name or model.class_name}))
    for member in model.members:
        if member.kind not in {"docstring", "statement"} and member.name not in {*out, "__tablename__"}:
            out[member.name] = ("member", member.spec)
    return out


def _only_in(members: Sequence[ModelDef]) -> dict[str, tuple[str, ...]]:
    attrs = {m.ref: _attributes(m) for m in members}
    counts = Counter(name for a in attrs.values() for name in a)
    return {
        ref: tuple(n for n in a if counts[n] == 1)
        for ref, a in attrs.items() if any(counts[n] == 1 for n in a)
    }


def _differing(members: Sequence[ModelDef], canonical: ModelDef) -> tuple[str, ...]:
    attrs = [_attributes(m, canonical.class_name) for m in members]
    names = sorted({n for a in attrs for n in a})
    return tuple(
        n for n in names
        if len([a[n] for a in attrs if n in a]) > 1
        and any(a[n] != b[n] for a in attrs for b in attrs if n in a and n in b)
    )
