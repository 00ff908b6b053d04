"""Fold duplicate model classes into the canonical one: union of members, Mapped style, conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from codemods import scan
from codemods.convert import class_table, drop_unused_imports, local_type_impls, own_fk_tables
from codemods.convert._convert_member import ConvertContext, convert_member
from codemods.cst._classbody import (
    Member,
    Resolver,
    class_statements,
    member_key,
    members,
)
from codemods.cst._imports import ImportPlanner
from codemods.index._lookup import backrefs_to, model_sites
from codemods.merge._bases import (
    Inherited,
    TreeClasses,
    base_qualnames,
    declares_mapping,
    inherited_members,
    with_bases,
)
from codemods.merge._merge_support import (
    Slot as _Slot,
)
from codemods.merge._merge_support import (
    add_type_checking_imports,
    after_named_members,
    relationship_targets,
    target_imports,
    unite_table_args,
    validated_attributes,
)
from codemods.merge._merge_support import (
    differences as _differences,
)
from codemods.merge._merge_support import (
    place as _place,
)
from codemods.merge._merge_support import (
    resolution as _resolution,
)
from codemods.merge._moves import Carrier, drop_moved_imports, insert_moved
from codemods.merge._names import Rebinder
from codemods.merge._tableargs import parse_table_args, single_column_index, without_options
from codemods.types import (
    Conflict,
    ConflictPolicy,
    Consolidation,
    MergeResult,
    ModelDef,
    ModelfoldError,
    ModelIndex,
    MovedName,
    SourceFile,
)

__all__ = ["MergeConflictError", "merge"]


class MergeConflictError(ModelfoldError):
    """Policy `fail` met real differences; `.conflicts` lists them. Nothing was written."""

    def __init__(self, conflicts: tuple[Conflict, ...]) -> None:
        self.conflicts = conflicts
        names = ", ".join(f"{c.attribute} ({c.kind})" for c in conflicts)
        super().__init__(f"{len(conflicts)} merge conflict(s), nothing written: {names}")


@dataclass(frozen=True)
class _Source:
    """One parsed model module: the class and what converting its members needs."""

    model: ModelDef
    tree: cst.Module
    resolver: Resolver
    cls: cst.ClassDef
    impls: dict[str, cst.BaseExpression]


def _load(root: Path, model: ModelDef) -> _Source:
    try:
        text = scan.read_text(root, model.path)
    except OSError as exc:
        raise ModelfoldError(f"cannot read {model.path}: {exc.strerror}") from exc
    try:
        tree = scan.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise ModelfoldError(f"cannot parse {model.path}: {exc.message}") from exc
    cls = next((s for s in tree.body if isinstance(s, cst.ClassDef) and s.name.value == model.class_name), None)
    if cls is None:
        raise ModelfoldError(f"no top-level class {model.class_name} in {model.path}")
    return _Source(model, tree, Resolver(tree), cls, local_type_impls(tree))


@dataclass
class _Merger:
    consolidation: Consolidation
    root: Path
    model_files: tuple[SourceFile, ...] | None  # the files to read for other models; None: the whole tree

    def __post_init__(self) -> None:
        c = self.consolidation
        self.sources = [_load(self.root, c.canonical)] + [_load(self.root, d) for d in c.duplicates]
        canon = self.sources[0]
        self.planner = ImportPlanner(canon.tree)
        self.slots = [_Slot(m, 0) for m in self._members(0)]
        self.conflicts: list[Conflict] = []
        self.notes: list[str] = []
        self.carriers: dict[int, Carrier] = {}
        self.tree_classes = TreeClasses(self.root, canon.model)
        ancestry = self.tree_classes.ancestry(canon.model, canon.cls, canon.resolver)
        self.inherited: dict[str, Inherited] = inherited_members(ancestry)
        self.base_keys = {c.qualname for c in ancestry} | self._base_keys(0)
        self.added_bases: list[cst.BaseExpression] = []
        self.rebinders: dict[int, Rebinder] = {}

    def _members(self, index: int) -> list[Member]:
        source = self.sources[index]
        return members(class_statements(source.cls), source.resolver)

    def _find(self, name: str) -> int | None:
        return next((i for i, s in enumerate(self.slots) if s.member.name == name), None)

    def _key(self, member: Member, index: int) -> object:
        """member_key, counting a one-column Index in __table_args__ as index=True."""
        key = member_key(member, self.sources[index].resolver)
        if member.kind != "column" or not isinstance(key, tuple):
            return key
        facts = dict(key)
        if facts.get("index") != "True" and {member.name, facts.get("column_name")} & self._table_indexed(index):
            facts["index"] = "True"
        return tuple(sorted(facts.items()))

    def _table_indexed(self, index: int) -> set[str]:
        source = self.sources[index]
        args = next((m for m in self._members(index) if m.name == "__table_args__"), None)
        parsed = parse_table_args(args) if args is not None else None
        if parsed is None:
            return set()
        found = (single_column_index(item, source.resolver) for item in parsed.items)
        return {c for c in found if c is not None}

    def _conflict(self, attribute: str, kind: str, canonical: str, duplicate: str, dup: int,
                  resolution: str | None = None) -> None:
        self.conflicts.append(Conflict(
            attribute=attribute, kind=kind, canonical=canonical, duplicate=duplicate,
            duplicate_ref=self.sources[dup].model.ref,
            resolution=resolution or _resolution(self.consolidation.policy),
        ))

    def fold(self, dup: int) -> None:
        """Fold one duplicate's members into the slots."""
        source = self.sources[dup]
        carrier = Carrier(source.tree, source.model.module, source.model.path.endswith("__init__.py"),
                          source.model.class_name, self.sources[0].model.module, self.planner)
        carrier.seed_from_canonical_imports()
        self.carriers[dup] = carrier
        self.rebinders[dup] = Rebinder(source.tree, source.model.module, source.model.path.endswith("__init__.py"),
                                       self.sources[0].tree, self.sources[0].model.module, self.planner)
        self._fold_bases(dup)
        for member in self._members(dup):
            if member.name in ("__tablename__", "__table_args__"):
                continue
            if self._validator_clash(member, dup):
                continue
            at = self._find(member.name)
            if at is None and member.name in self.inherited:
                self._fold_over_inherited(member, dup)
                continue
            if at is None:
                _place(self.slots, _Slot(member, dup))
                continue
            mine = self.slots[at]
            if member.kind == "docstring":
                continue  # the canonical docstring stays
            ours = self._key(mine.member, mine.source)
            theirs = self._key(member, dup)
            if mine.member.kind == member.kind and ours == theirs:
                continue
            kind = member.kind if mine.member.kind == member.kind else f"{mine.member.kind}/{member.kind}"
            if member.name == "__mapper_args__":
                kind = "mapper_args"
            self._conflict(member.name, kind, mine.member.text(), member.text(), dup)
            if member.kind == "column" and isinstance(ours, tuple) and isinstance(theirs, tuple):
                self.notes.append(f"{member.name} differs in {_differences(dict(ours), dict(theirs))}")
            if self.consolidation.policy is ConflictPolicy.KEEP_DUPLICATE:
                self.slots[at] = _Slot(member, dup)
        self._table_args(dup)

    def _base_keys(self, index: int) -> set[str]:
        """The class's direct bases, each keyed by the tree class it names (else its qualified name)."""
        source = self.sources[index]
        keys = set()
        for qualname in base_qualnames(source.model, source.cls, source.resolver):
            found = self.tree_classes.find(qualname)
            keys.add(found.qualname if found is not None else qualname)
        return keys

    def _fold_bases(self, dup: int) -> None:
        """The duplicate's mixins the canonical lacks join its bases; their members count as the duplicate's."""
        source = self.sources[dup]
        fresh: list[cst.ClassDef] = []
        for arg in source.cls.bases:
            if arg.keyword is not None or arg.star:
                continue
            qualname = source.resolver.qualname(arg.value)
            if qualname is None:
                continue
            [absolute] = base_qualnames(source.model, source.cls.with_changes(bases=[arg]), source.resolver)
            found = self.tree_classes.find(absolute)
            key = found.qualname if found is not None else absolute
            if key in self.base_keys:
                continue
            if found is None:
                if arg is not source.cls.bases[-1]:
                    self.notes.append(f"{source.model.ref} inherits {absolute}, which is not a class of the "
                                      "tree: not added to the canonical's bases; check its members")
                continue
            chain = [found, *self.tree_classes.ancestry(source.model, source.cls.with_changes(bases=[arg]),
                                                         source.resolver)]
            if any(declares_mapping(c) and c.qualname not in self.base_keys for c in chain):
                continue  # the duplicate's own declarative base or a mapped parent
            self.base_keys.add(key)
            self.added_bases.append(arg.value)
            self.carriers[dup].carry([arg.value])
            fresh.append(found.cls)
            self.notes.append(f"{source.model.ref} inherits {key}: added to the canonical's bases")
        if not fresh:
            return
        added = self.tree_classes.ancestry(source.model, source.cls.with_changes(
            bases=[cst.Arg(b) for b in self.added_bases]), source.resolver)
        for name, theirs in inherited_members(added).items():
            at = self._find(name)
            ours = self.inherited.get(name)
            if at is not None:
                mine = self.slots[at]
                same = member_key(theirs.member, theirs.resolver) == self._key(mine.member, mine.source)
                text = mine.member.text()
            elif ours is not None:
                same = member_key(theirs.member, theirs.resolver) == member_key(ours.member, ours.resolver)
                text = ours.member.text()
            else:
                continue
            if not same:
                self._conflict(name, theirs.member.kind, text, theirs.member.text(), dup,
                               f"kept canonical: its {name} comes before {theirs.owner} in the MRO")

    def _validator_clash(self, member: Member, dup: int) -> bool:
        """A duplicate validator of an attribute the merged class already validates: a conflict."""
        theirs = validated_attributes(member, self.sources[dup].resolver)
        for at, slot in enumerate(self.slots) if theirs else ():
            both = theirs & validated_attributes(slot.member, self.sources[slot.source].resolver)
            if not both or slot.member.name == member.name:
                continue
            self._conflict(", ".join(sorted(both)), "validator", slot.member.text(), member.text(), dup)
            if self.consolidation.policy is ConflictPolicy.KEEP_DUPLICATE:
                self.slots[at] = _Slot(member, dup)
            return True
        return False

    def _fold_over_inherited(self, member: Member, dup: int) -> None:
        """A duplicate's body member that the canonical inherits: the inherited one is canonical."""
        inherited = self.inherited[member.name]
        if member.kind == "docstring":
            return
        if member_key(inherited.member, inherited.resolver) == self._key(member, dup):
            return
        self._conflict(member.name, member.kind, inherited.member.text(), member.text(), dup)
        if self.consolidation.policy is ConflictPolicy.KEEP_DUPLICATE:
            _place(self.slots, _Slot(member, dup))

    def _table_args(self, dup: int) -> None:
        at = self._find("__table_args__")
        theirs = next((m for m in self._members(dup) if m.name == "__table_args__"), None)
        if theirs is None:
            return
        mine = self.slots[at].member if at is not None else None
        columns = [(s.member, self.sources[s.source].resolver) for s in self.slots if s.member.kind == "column"]
        merged, conflicts, note = unite_table_args(
            mine, theirs, self.sources[0].resolver, self.sources[dup].resolver, columns,
            self.sources[0].tree.default_indent,
        )
        for attribute, kind, ours, other, resolution in conflicts:
            self._conflict(attribute, kind, ours, other, dup, resolution)
        if note:
            self.notes.append(note)
        if merged is None:
            return
        if at is None:
            _place(self.slots, _Slot(merged, dup))
        else:
            self.slots[at] = _Slot(merged, 0 if merged is mine else dup)

    def drop_extend_existing(self) -> None:
        """`extend_existing` only let the duplicate redefine the table: with it gone, it goes too."""
        at = self._find("__table_args__")
        if at is None:
            return
        slot = self.slots[at]
        kept = without_options(slot.member, frozenset({"extend_existing"}), self.sources[0].tree.default_indent)
        if kept is slot.member:
            return
        self.notes.append("dropped extend_existing from __table_args__: the duplicate class is gone")
        if kept is None:
            del self.slots[at]
        else:
            self.slots[at] = _Slot(kept, slot.source)

    def _rebound(self, slot: _Slot) -> tuple[Member, Resolver]:
        """A duplicate's member with names its module binds differently renamed to aliases."""
        source = self.sources[slot.source]
        if not slot.source:
            return slot.member, source.resolver
        rebinder = self.rebinders[slot.source]
        stmts = rebinder.rebind(slot.member.stmts)
        if stmts is None:
            return slot.member, source.resolver
        m = slot.member
        return Member(m.name, m.kind, stmts, m.call, m.annotated), rebinder.resolver()

    def check_backrefs(self) -> None:
        """A backref from another model onto a name the merged class defines collides at configure time."""
        names = {s.member.name: s for s in self.slots}
        classes = {s.model.class_name for s in self.sources}
        refs = {s.model.ref for s in self.sources}
        for owner, attribute, backref in backrefs_to(self.root, classes, self.model_files):
            if owner in refs or backref not in names:
                continue
            slot = names[backref]
            defined = f"{owner}.{attribute} backref={backref!r}"
            if slot.source == 0:
                self.notes.append(f"{defined} collides with canonical attribute {backref} (already before the merge)")
                continue
            self._conflict(backref, "backref", defined, slot.member.text(), slot.source,
                           "failed: nothing written" if self.consolidation.policy is ConflictPolicy.FAIL
                           else f"dropped the duplicate's {backref}: {owner}.{attribute} already provides it")
            self.slots.remove(slot)

    def render(self) -> cst.Module:
        """The canonical module with the merged class, moved names and imports."""
        canon = self.sources[0]
        table = class_table(canon.cls)
        fks = own_fk_tables([s.cls for s in self.sources])
        sites = model_sites(self.root, sources=self.model_files)
        body: list[cst.BaseStatement] = []
        converted: list[Member] = []
        for slot in after_named_members(self.slots):
            source = self.sources[slot.source]
            member, resolver = self._rebound(slot)
            ctx = ConvertContext(resolver, self.planner, canon.model.class_name, table, fks, sites,
                                 source.impls, canon.model.module)
            new, notes = convert_member(member, ctx)
            self.notes.extend(notes)
            converted.append(new)
            body.extend(new.stmts)
            if slot.source:
                self.carriers[slot.source].carry(new.stmts)
        cls = with_bases(canon.cls.with_changes(body=canon.cls.body.with_changes(body=body)), self.added_bases)
        tree = canon.tree.with_changes(body=[cls if s is canon.cls else s for s in canon.tree.body])
        for position, carrier in self.carriers.items():
            rebinder = self.rebinders[position]
            moved = carrier.moved_statements()
            tree = drop_moved_imports(tree, carrier)
            tree = insert_moved(tree, list(rebinder.rebind(moved) or moved))
            self.notes.extend(n for n in carrier.notes if rebinder.keeps_note(n))
            self.notes.extend(rebinder.notes)
        tree = self.planner.apply(tree)
        targets = relationship_targets(converted, canon.model.class_name)
        imports = target_imports(targets, sites, canon.model.module)
        for carrier in self.carriers.values():
            imports += [i for i in carrier.type_only if i not in imports]
        tree = add_type_checking_imports(tree, imports)
        return drop_unused_imports(tree, [("sqlalchemy", "Column")])


def merge(consolidation: Consolidation, root: Path, index: ModelIndex | None = None) -> MergeResult:
    """Merge the duplicates into the canonical class; pure: returns the new canonical module text.

    With the tree's `index`, only its model files are read for relationship targets and backrefs
    instead of the whole tree.
    """
    files = None if index is None else tuple(
        SourceFile(path, module, path.endswith("__init__.py"))
        for path, module in sorted({(m.path, m.module) for m in index.models})
    )
    merger = _Merger(consolidation, root, files)
    for position in range(1, len(merger.sources)):
        merger.fold(position)
    merger.check_backrefs()
    merger.drop_extend_existing()
    conflicts = tuple(merger.conflicts)
    if consolidation.policy is ConflictPolicy.FAIL and conflicts:
        raise MergeConflictError(conflicts)
    tree = merger.render()
    canon = consolidation.canonical
    moved = tuple(
        MovedName(name, merger.sources[i].model.module, canon.module)
        for i, carrier in sorted(merger.carriers.items())
        for name in carrier.moved_in_order()
    )
    return MergeResult(
        canonical_path=canon.path,
        canonical_text=scan.module_text(tree),
        conflicts=conflicts,
        moved=moved,
        notes=tuple(dict.fromkeys(merger.notes)),
    )
