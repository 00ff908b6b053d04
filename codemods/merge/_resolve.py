"""Static check of a planned change: every reference between mapped classes still resolves.

Nothing of the target is imported. The tree's index is compared with the same index where the
changed files are read as the changeset would leave them (stdlib `ast`), and each side's
references are resolved the way SQLAlchemy resolves them at configure time: a relationship
string within its class's registry, `back_populates` on the class it names, a foreign key or
`secondary` within its table's MetaData.
A reference that resolved before and does not after refuses the change (nothing is written);
what static reading could not resolve before (a lambda, a table defined elsewhere) is left alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codemods import scan
from codemods.index import index_texts
from codemods.types import Changeset, ModelDef, ModelfoldError, ModelIndex, SourceFile

__all__ = ["Unresolved", "UnresolvedReferences", "check_resolves", "unresolved", "unresolved_after"]


@dataclass(frozen=True)
class Unresolved:
    """One reference that SQLAlchemy could not resolve when it configures the mappers."""

    owner: str  # module:Class, or the MetaData for a table defined twice
    attribute: str
    kind: str  # "relationship", "back_populates", "foreign key", "secondary", "table"
    target: str
    why: str

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity across the change (a moved class keeps its name, not its module)."""
        return (self.owner.rpartition(":")[2], self.attribute, self.kind)

    def describe(self) -> str:
        """`UserProfile.user: relationship 'User' (no User in registry crm.db.Base)`."""
        name = self.owner.rpartition(":")[2]
        return f"{name}.{self.attribute}: {self.kind} {self.target!r} ({self.why})"


class UnresolvedReferences(ModelfoldError):
    """The planned change would leave references SQLAlchemy cannot resolve; nothing was written."""

    def __init__(self, refs: tuple[Unresolved, ...]) -> None:
        self.refs = refs
        more = f" and {len(refs) - 1} more" if len(refs) > 1 else ""
        super().__init__(f"refused, nothing written: after the change {refs[0].describe()}{more} "
                         "would not resolve when the mappers configure")


def _target_classes(models: Sequence[ModelDef], target: str) -> list[ModelDef] | None:
    """Classes of one registry a relationship target string names (None: not a plain name)."""
    target = target.strip()
    parts = target.split(".")
    if not target or not all(p.isidentifier() for p in parts):
        return None  # lambda, call, subscript: resolved by Python, not by the registry
    module, name = ".".join(parts[:-1]), parts[-1]
    return [m for m in models if m.class_name == name
            and (not module or m.module == module or m.module.endswith("." + module))]


def unresolved(index: ModelIndex) -> tuple[Unresolved, ...]:
    """Every reference of the index's classes that does not resolve in its registry or MetaData."""
    classes: dict[str, list[ModelDef]] = defaultdict(list)
    tables: dict[str, dict[str, list[ModelDef]]] = defaultdict(lambda: defaultdict(list))
    for m in index.models:
        if m.kind == "class" and m.registry is not None:
            classes[m.registry].append(m)
        if m.table and m.metadata is not None:
            tables[m.metadata][m.table].append(m)
    backrefs: dict[str, set[str]] = defaultdict(set)  # ref -> names other classes' backrefs add
    for m in index.models:
        for r in m.relationships:
            hits = _target_classes(classes.get(m.registry or "", []), r.target)
            if r.backref and hits and len(hits) == 1:
                backrefs[hits[0].ref].add(r.backref)
    found: list[Unresolved] = []
    for metadata, named in sorted(tables.items()):
        for table, owners in sorted(named.items()):
            if len(owners) > 1:
                found.append(Unresolved(f"{metadata}:{table}", "__table__", "table", table,
                                        f"defined {len(owners)} times in MetaData {metadata}"))
    for m in index.models:
        if m.registry is None and m.kind == "class":
            continue
        found += _class_refs(m, classes.get(m.registry or "", []), tables.get(m.metadata or "", {}),
                             backrefs)
    return tuple(found)


def _class_refs(
    m: ModelDef, registry: list[ModelDef], tables: dict[str, list[ModelDef]],
    backrefs: dict[str, set[str]],
) -> list[Unresolved]:
    found: list[Unresolved] = []
    where = f"registry {m.registry}"
    for r in m.relationships:
        hits = _target_classes(registry, r.target)
        if hits is not None and len(hits) != 1:
            why = f"no {r.target.rpartition('.')[2]} in {where}" if not hits else f"{len(hits)} classes in {where}"
            found.append(Unresolved(m.ref, r.name, "relationship", r.target, why))
            continue
        if hits and r.back_populates:
            partner = hits[0]
            names = {x.name for x in partner.relationships} | backrefs.get(partner.ref, set())
            if r.back_populates not in names:
                found.append(Unresolved(m.ref, r.name, "back_populates", r.back_populates,
                                        f"{partner.class_name} has no relationship {r.back_populates}"))
        if r.secondary and r.secondary.isidentifier() and r.secondary not in tables:
            found.append(Unresolved(m.ref, r.name, "secondary", r.secondary,
                                    f"no table {r.secondary} in MetaData {m.metadata}"))
    for c in m.columns:
        for fk in c.foreign_keys:
            parts = fk.split(".")
            if len(parts) >= 2 and parts[-2] not in tables:
                found.append(Unresolved(m.ref, c.name, "foreign key", fk,
                                        f"no table {parts[-2]} in MetaData {m.metadata}"))
    return found


def unresolved_after(
    root: Path, files: Sequence[SourceFile], changeset: Changeset, index: ModelIndex,
) -> tuple[Unresolved, ...]:
    """References that resolve in the tree as `index` read it and would not once the changeset is written.

    Only the changed files are read again: the other files' models are the index's.
    """
    changed = {c.path: c for c in changeset.changes}
    by_path = {f.path: f for f in files}
    for path in changed:
        if path not in by_path:
            module, is_package = scan.module_name(root, path)
            by_path[path] = SourceFile(path, module, is_package)
    rewritten = index_texts(root, [by_path[p] for p in sorted(changed)],
                            {p: c.after for p, c in changed.items()}, list(by_path.values()))
    after = replace(index, models=tuple(m for m in index.models if m.path not in changed) + rewritten.models)
    old = {u.key for u in unresolved(index)}
    return tuple(u for u in unresolved(after) if u.key not in old)


def check_resolves(root: Path, files: Sequence[SourceFile], changeset: Changeset, index: ModelIndex) -> None:
    """Raise UnresolvedReferences when the changeset would break a reference between models."""
    broken = unresolved_after(root, files, changeset, index)
    if broken:
        raise UnresolvedReferences(broken)
