"""Fold duplicate model classes into the canonical one: union of members, Mapped style, conflicts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import libcst as cst

from codemods import scan
from codemods.convert import class_table, drop_unused_imports, own_fk_tables
from codemods.convert._convert_member import ConvertContext, convert_member
from codemods.cst._classbody import Member
from codemods.index import build_index
from codemods.index._lookup import backrefs_to, model_sites
from codemods.merge._bases import with_bases
from codemods.merge._dataclass import dataclass_field
from codemods.merge._merge_support import (
    Slot,
    add_type_checking_imports,
    after_named_members,
    differences,
    place,
    relationship_targets,
    target_imports,
    unite_table_args,
)
from codemods.merge._moves import Carrier, drop_moved_imports, insert_moved
from codemods.merge._names import Rebinder
from codemods.merge._rules import MergeState
from codemods.merge._target import refuse_before_2
from codemods.types import (
    Conflict,
    ConflictPolicy,
    Consolidation,
    MergeResult,
    ModelfoldError,
    ModelIndex,
    MovedName,
)

__all__ = ["MergeConflictError", "merge"]


class MergeConflictError(ModelfoldError):
    """Policy `fail` met real differences; `.conflicts` lists them. Nothing was written."""

    def __init__(self, conflicts: tuple[Conflict, ...]) -> None:
        self.conflicts = conflicts
        names = ", ".join(f"{c.attribute} ({c.kind})" for c in conflicts)
        super().__init__(f"{len(conflicts)} merge conflict(s), nothing written: {names}")


@dataclass
class _Merger(MergeState):
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
            if self._validator_clash(member, dup) or self._same_column(member, dup):
                continue
            at = self._find(member.name)
            if at is None and member.name in self.inherited:
                self._fold_over_inherited(member, dup)
                continue
            if at is None:
                place(self.slots, Slot(member, dup))
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
                self.notes.append(f"{member.name} differs in {differences(dict(ours), dict(theirs))}")
            if self.consolidation.policy is ConflictPolicy.KEEP_DUPLICATE:
                self.slots[at] = Slot(member, dup)
        self._table_args(dup)

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
        for c in conflicts:
            self._conflict(c.attribute, c.kind, c.canonical, c.duplicate, dup, c.resolution)
        if note:
            self.notes.append(note)
        if merged is None:
            return
        if at is None:
            place(self.slots, Slot(merged, dup))
        else:
            self.slots[at] = Slot(merged, 0 if merged is mine else dup)

    def check_backrefs(self) -> None:
        """A backref from another model onto a name the merged class defines collides at configure time."""
        names = {s.member.name: s for s in self.slots}
        classes = {s.model.class_name for s in self.sources}
        refs = {s.model.ref for s in self.sources}
        for owner, attribute, backref in backrefs_to(self.index, classes):
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
        sites = model_sites(self.index.models)
        body: list[cst.BaseStatement] = []
        converted: list[Member] = []
        for slot in after_named_members(self.slots):
            source = self.sources[slot.source]
            member, resolver = self.rebound(slot)
            ctx = ConvertContext(resolver, self.planner, canon.model.class_name, table, fks, sites,
                                 source.impls, canon.model.module)
            new, notes = convert_member(member, ctx)
            if slot.source:
                new = replace(new, stmts=self.carriers[slot.source].quote_models(new.stmts))
            if slot.source and self.is_dataclass:
                new, note = dataclass_field(new)
                notes += [note] if note else []
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

    Other models (relationship targets' tables and FKs, backrefs onto the merged class) come from
    the tree's `index`, built here when the caller has none.
    """
    refuse_before_2(root)
    merger = _Merger(consolidation, root, build_index(root) if index is None else index)
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
