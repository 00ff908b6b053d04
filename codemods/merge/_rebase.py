"""Classes that must follow the duplicate onto the canonical registry, rebased and converted.

When canonical and duplicate live on different registries, every class of the duplicate's
registry that is tied to it (a relationship target by string or class, a `back_populates` or
`backref` partner, a foreign key to its table, a `secondary` table), and transitively every
class tied to those, would be left pointing at a class and a table its registry and MetaData no
longer hold. They move: `class UserProfile(Base)` becomes `class UserProfile(ModernBase)`, in
`Mapped[...]` style like the merged class. What cannot follow is refused with one line.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods import scan
from codemods.convert import convert_module_text, drop_unused_imports
from codemods.cst._imports import ImportPlanner, NameOrigin, bindings
from codemods.index._index import index_texts
from codemods.index._lookup import ModelSite, model_sites
from codemods.types import (
    Changeset,
    Consolidation,
    FileChange,
    MergeResult,
    ModelDef,
    ModelfoldError,
    ModelIndex,
    RegistryMove,
    SourceFile,
)

__all__ = ["CannotMove", "dependents", "rebase_dependents"]


class CannotMove(ModelfoldError):
    """A class tied to the duplicate cannot move to the canonical registry; nothing was written."""


@dataclass(frozen=True)
class _Dependent:
    """A model of the duplicate's registry and the class that ties it to the duplicate."""

    model: ModelDef
    relates_to: str


def _links(m: ModelDef, by_name: dict[str, list[ModelDef]], by_table: dict[str, list[ModelDef]]) -> list[ModelDef]:
    """Models of the same registry that `m` names: relationship targets, secondary and FK tables."""
    found: list[ModelDef] = []
    for r in m.relationships:
        name = r.target.replace("lambda:", "").strip().rpartition(".")[2]
        found += by_name.get(name, [])
        if r.secondary:
            found += by_table.get(r.secondary.strip().rpartition(".")[2], [])
    for c in m.columns:
        for fk in c.foreign_keys:
            parts = fk.split(".")
            if len(parts) >= 2:
                found += by_table.get(parts[-2], []) + by_name.get(parts[-2], [])
    return found


def _table_fks(root: Path, table: ModelDef) -> list[str]:
    """`users.id` of every ForeignKey in an imperative `Table("name", ...)` call (read with ast)."""
    try:
        tree = ast.parse(scan.read_text(root, table.path).lstrip("\ufeff"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == table.table):
            found += [str(c.args[0].value) for c in ast.walk(node)
                      if isinstance(c, ast.Call) and c.args and isinstance(c.args[0], ast.Constant)
                      and isinstance(c.args[0].value, str) and (get_name(c.func) == "ForeignKey")]
    return found


def get_name(func: ast.expr) -> str:
    """The called name of `ForeignKey(...)` or `sa.ForeignKey(...)`."""
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def dependents(index: ModelIndex, duplicate: ModelDef, root: Path | None = None) -> list[_Dependent]:
    """Every model of the duplicate's registry (or MetaData) tied to it, directly or transitively.

    With `root`, the foreign keys of imperative tables are read from their files too.
    """
    same = [m for m in index.models if (m.kind == "class" and m.registry == duplicate.registry)
            or (m.kind == "table" and m.metadata == duplicate.metadata)]
    if duplicate.ref not in {m.ref for m in same}:
        same.append(duplicate)
    by_name: dict[str, list[ModelDef]] = {}
    by_table: dict[str, list[ModelDef]] = {}
    for m in same:
        if m.kind == "class":
            by_name.setdefault(m.class_name, []).append(m)
        if m.table:
            by_table.setdefault(m.table, []).append(m)
    neighbours: dict[str, list[ModelDef]] = {m.ref: [] for m in same}
    for m in same:
        linked = _links(m, by_name, by_table)
        if m.kind == "table" and root is not None:
            linked += [t for fk in _table_fks(root, m) for t in by_table.get(fk.split(".")[-2], [])]
        for other in linked:
            if other.ref != m.ref:
                neighbours[m.ref].append(other)
                neighbours[other.ref].append(m)
    seen = {duplicate.ref}
    queue = deque([duplicate])
    found: list[_Dependent] = []
    while queue:
        current = queue.popleft()
        for other in sorted(neighbours[current.ref], key=lambda x: (x.path, x.line)):
            if other.ref not in seen:
                seen.add(other.ref)
                found.append(_Dependent(other, current.class_name))
                queue.append(other)
    return found


def _qualname(name: str, binds: dict[str, list[NameOrigin]], module: SourceFile) -> str:
    """`Base` or `db.Base` in a module -> the qualified name it is bound to."""
    head, _, rest = name.partition(".")
    bind = next((b for b in binds.get(head, []) if b.runtime), None)
    if bind is None or bind.how == "def":
        base = f"{module.module}.{head}"
    else:
        source = bind.module
        if source.startswith("."):
            dots = len(source) - len(source.lstrip("."))
            source = scan.absolute_module(module.module, module.is_package, dots, source[dots:] or None) or source
        base = f"{source}.{bind.obj}" if bind.how == "from" else source
    return f"{base}.{rest}" if rest else base


@dataclass
class _Rebaser:
    """Edits the changeset's texts: rebases the dependents and converts them to Mapped style."""

    consolidation: Consolidation
    merged: MergeResult
    changeset: Changeset
    root: Path
    index: ModelIndex
    files: dict[str, SourceFile]

    def __post_init__(self) -> None:
        self.texts = {c.path: c.after for c in self.changeset.changes}
        self.summaries = {c.path: c.summary for c in self.changeset.changes}
        self.befores: dict[str, str | None] = {c.path: c.before for c in self.changeset.changes}
        self.moves: list[RegistryMove] = []
        self.sites: dict[str, list[ModelSite]] | None = None

    def text(self, path: str) -> str:
        if path not in self.texts:
            text = scan.read_text(self.root, path)
            self.texts[path], self.befores[path] = text, text
        return self.texts[path]

    def canonical_base(self) -> tuple[str, str, str]:
        """(module, name, qualname) of the canonical class's declarative base."""
        canon = self.consolidation.canonical
        source = self.files[canon.path]
        tree = scan.parse_module(self.text(canon.path))
        binds = bindings(tree)
        cls = next(s for s in tree.body if isinstance(s, cst.ClassDef) and s.name.value == canon.class_name)
        registry = {b.qualname for b in self.index.bases if b.registry == canon.registry}
        written = [get_full_name_for_node(a.value) or "" for a in cls.bases if a.keyword is None]
        quals = [_qualname(n, binds, source) for n in written if n]
        qual = next((q for q in quals if q in registry), None)
        if qual is None:
            raise CannotMove(f"{canon.ref}: cannot tell which declarative base gives it its registry; "
                             "dependent classes of the duplicate cannot be moved")
        module, _, name = qual.rpartition(".")
        return module, name, qual

    def location(self, m: ModelDef) -> SourceFile:
        moved = any(x.name == m.class_name and x.from_module == m.module for x in self.merged.moved)
        if moved:
            return self.files[self.merged.canonical_path]
        return self.files[m.path]

    def rebase_file(self, source: SourceFile, deps: list[_Dependent], legacy: set[str],
                    canonical: tuple[str, str, str], duplicate: ModelDef) -> None:
        tree = scan.parse_module(self.text(source.path))
        binds = bindings(tree)
        planner = ImportPlanner(tree)
        moving = {d.model.class_name for d in deps}
        base_expr = cst.parse_expression(planner.ref(canonical[0], canonical[1]))
        dropped: list[tuple[str, str]] = []
        body: list[cst.BaseStatement] = []
        for stmt in tree.body:
            if isinstance(stmt, cst.ClassDef) and stmt.name.value in moving:
                stmt = self._rebase_class(stmt, binds, source, legacy, moving, base_expr, dropped)
            body.append(stmt)
        tree = planner.apply(tree.with_changes(body=body))
        text = scan.module_text(drop_unused_imports(tree, dropped))
        sites = self._sites()
        for dep in deps:
            text, _notes, _converted = convert_module_text(text, source.module, sites, dep.model.class_name)
            self.moves.append(RegistryMove(
                class_name=dep.model.class_name, module=source.module, path=source.path,
                table=dep.model.table, relates_to=dep.relates_to,
                from_base=next(iter(sorted(legacy))), to_base=canonical[2],
                from_metadata=duplicate.metadata or "", to_metadata=self.consolidation.canonical.metadata or "",
            ))
        self.texts[source.path] = text
        names = ", ".join(d.model.class_name for d in deps)
        note = f"moved to the canonical registry: {names}"
        old = self.summaries.get(source.path)
        self.summaries[source.path] = f"{old}; {note}" if old else note

    def _rebase_class(self, cls: cst.ClassDef, binds: dict[str, list[NameOrigin]], source: SourceFile,
                      legacy: set[str], moving: set[str], base_expr: cst.BaseExpression,
                      dropped: list[tuple[str, str]]) -> cst.ClassDef:
        bases: list[cst.Arg] = []
        rebased = False
        for arg in cls.bases:
            name = get_full_name_for_node(arg.value) if arg.keyword is None else None
            if name and _qualname(name, binds, source) in legacy:
                bases.append(arg.with_changes(value=base_expr))
                rebased = True
                bind = next((b for b in binds.get(name.partition(".")[0], []) if b.runtime), None)
                if bind is not None and bind.how == "from" and bind.obj:
                    dropped.append((bind.module, bind.obj))
                continue
            if name in moving:
                rebased = True
            bases.append(arg)
        if not rebased:
            written = ", ".join(get_full_name_for_node(a.value) or "?" for a in cls.bases)
            raise CannotMove(f"{source.path}: {cls.name.value} cannot move to the canonical registry: "
                             f"it inherits {written or 'nothing'}, not the duplicate's declarative base")
        return cls.with_changes(bases=bases)

    def _sites(self) -> dict[str, list[ModelSite]]:
        """Where each model class lives after the change (rebasing moves no class), read once."""
        if self.sites is None:
            changed = [self.files[p] for p in sorted(self.texts) if p in self.files]
            after = index_texts(self.root, changed, {f.path: self.texts[f.path] for f in changed},
                                list(self.files.values()))
            kept = [m for m in self.index.models if m.path not in self.texts]
            self.sites = model_sites([*kept, *after.models])
        return self.sites

    def changeset_out(self) -> Changeset:
        changes = [FileChange(p, self.befores.get(p), t, self.summaries.get(p, ""))
                   for p, t in sorted(self.texts.items()) if t != self.befores.get(p) or p in self.summaries]
        return replace(self.changeset, changes=tuple(changes))


def _metadata_readers(root: Path, files: Sequence[SourceFile], tables: Sequence[str]) -> dict[str, str]:
    """Table -> a file that reads it by name through a MetaData (`metadata.tables["t"]`)."""
    hits = scan.grep_files(root, ["tables["])
    paths = sorted(hits) if hits is not None else [f.path for f in files]
    found: dict[str, str] = {}
    for path in paths:
        try:
            text = scan.read_text(root, path)
        except (OSError, UnicodeDecodeError):
            continue
        for t in tables:
            if t not in found and (f'tables["{t}"]' in text or f"tables['{t}']" in text):
                found[t] = path
    return found


def rebase_dependents(
    consolidation: Consolidation, merged: MergeResult, changeset: Changeset, root: Path,
    files: Sequence[SourceFile], index: ModelIndex,
) -> tuple[Changeset, tuple[RegistryMove, ...]]:
    """The changeset with every class tied to a duplicate of another registry moved to the canonical one."""
    canon = consolidation.canonical
    rebaser = _Rebaser(consolidation, merged, changeset, root, index, {f.path: f for f in files})
    for dup in consolidation.duplicates:
        if dup.registry is None or canon.registry is None or (dup.registry, dup.metadata) == (
                canon.registry, canon.metadata):
            continue
        deps = [d for d in dependents(index, dup, root) if d.model.ref not in {x.ref for x in consolidation.duplicates}]
        if not deps:
            continue
        _refuse_unmovable(root, files, deps, canon)
        legacy = {b.qualname for b in index.bases if b.registry == dup.registry}
        canonical = rebaser.canonical_base()
        by_file: dict[str, list[_Dependent]] = {}
        for dep in deps:
            by_file.setdefault(rebaser.location(dep.model).path, []).append(dep)
        for path, group in sorted(by_file.items()):
            rebaser.rebase_file(rebaser.files[path], group, legacy, canonical, dup)
    if not rebaser.moves:
        return changeset, ()
    return rebaser.changeset_out(), tuple(rebaser.moves)


def _refuse_unmovable(root: Path, files: Sequence[SourceFile], deps: list[_Dependent], canon: ModelDef) -> None:
    for dep in deps:
        m = dep.model
        if m.kind == "table":
            raise CannotMove(f"{m.path}: Table {m.table!r} ({m.class_name}) cannot move to the canonical "
                             f"MetaData with {dep.relates_to}: it is an imperative Table on the duplicate's "
                             f"MetaData; put it on {canon.metadata} by hand")
        if m.registry is None:
            raise CannotMove(f"{m.path}: {m.class_name} cannot move to the canonical registry: its "
                             "declarative base could not be resolved")
    readers = _metadata_readers(root, files, [d.model.table for d in deps if d.model.table])
    for dep in deps:
        path = readers.get(dep.model.table or "")
        if path is not None:
            raise CannotMove(f"{dep.model.path}: {dep.model.class_name} cannot move to the canonical "
                             f"registry: {path} reads table {dep.model.table!r} through the old MetaData")
