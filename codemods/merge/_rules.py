"""The merge's state and its rules for the shapes real code takes: mixins, one column under two
names, validators, names that mean different things, extend_existing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from codemods import scan
from codemods.convert import local_type_impls
from codemods.cst._classbody import Member, Resolver, class_statements, member_key, members
from codemods.cst._imports import ImportPlanner
from codemods.cst._isort import load_style
from codemods.index._columns import renamed_spec
from codemods.merge._bases import (
    Inherited,
    TreeClasses,
    base_qualnames,
    declares_mapping,
    inherited_members,
)
from codemods.merge._dataclass import dataclass_mapped
from codemods.merge._merge_support import Slot, place, resolution_of, validated_attributes
from codemods.merge._moves import Carrier
from codemods.merge._names import Rebinder
from codemods.merge._tableargs import parse_table_args, single_column_index, without_options
from codemods.types import Conflict, ConflictPolicy, Consolidation, ModelDef, ModelfoldError, ModelIndex


@dataclass(frozen=True)
class Source:
    """One parsed model module: the class and what converting its members needs."""

    model: ModelDef
    tree: cst.Module
    resolver: Resolver
    cls: cst.ClassDef
    impls: dict[str, cst.BaseExpression]


def load_source(root: Path, model: ModelDef) -> Source:
    """Read and parse the module of a model and find its class."""
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
    return Source(model, tree, Resolver(tree), cls, local_type_impls(tree))


@dataclass
class MergeState:
    """The slots of the merged class, the sources, conflicts and notes; the rules that fill them."""

    consolidation: Consolidation
    root: Path
    index: ModelIndex  # the tree's models: relationship targets' tables and FKs, backrefs onto the class

    def __post_init__(self) -> None:
        c = self.consolidation
        self.sources = [load_source(self.root, c.canonical)] + [load_source(self.root, d) for d in c.duplicates]
        canon = self.sources[0]
        style = load_style(self.root)
        length = style.line_length if style.configured else 99
        self.planner = ImportPlanner(canon.tree, pep604=style.allows_pep604(), line_length=length)
        self.slots = [Slot(m, 0) for m in self._members(0)]
        self.conflicts: list[Conflict] = []
        self.notes: list[str] = []
        self.carriers: dict[int, Carrier] = {}
        self.tree_classes = TreeClasses(self.root, canon.model)
        ancestry = self.tree_classes.ancestry(canon.model, canon.cls, canon.resolver)
        self.inherited: dict[str, Inherited] = inherited_members(ancestry)
        self.base_keys = {c.qualname for c in ancestry} | self._base_keys(0)
        names = base_qualnames(canon.model, canon.cls, canon.resolver)
        self.is_dataclass = dataclass_mapped(canon.cls, names, ancestry)
        self.added_bases: list[cst.BaseExpression] = []
        self.rebinders: dict[int, Rebinder] = {}
        self.indexed: dict[int, set[str]] = {}  # per source: columns a one-column Index covers

    def _members(self, index: int) -> list[Member]:
        source = self.sources[index]
        return members(class_statements(source.cls), source.resolver)

    def _find(self, name: str) -> int | None:
        return next((i for i, s in enumerate(self.slots) if s.member.name == name), None)

    def _key(self, member: Member, index: int) -> object:
        """member_key, counting a one-column Index in __table_args__ as index=True."""
        key = member_key(member, self.sources[index].resolver)
        if member.kind == "relationship" and isinstance(key, tuple):
            # `relationship("Account", remote_side="Account.id")` of Account folded into Customer
            name, canonical = self.sources[index].model.class_name, self.sources[0].model.class_name
            return renamed_spec(key, {name: canonical})
        if member.kind != "column" or not isinstance(key, tuple):
            return key
        facts = dict(key)
        if facts.get("index") != "True" and {member.name, facts.get("column_name")} & self._table_indexed(index):
            facts["index"] = "True"
        return tuple(sorted(facts.items()))

    def _table_indexed(self, index: int) -> set[str]:
        if index in self.indexed:
            return self.indexed[index]
        source = self.sources[index]
        args = next((m for m in self._members(index) if m.name == "__table_args__"), None)
        parsed = parse_table_args(args) if args is not None else None
        found = (single_column_index(item, source.resolver) for item in parsed.items) if parsed else ()
        self.indexed[index] = {c for c in found if c is not None}
        return self.indexed[index]

    def _conflict(self, attribute: str, kind: str, canonical: str, duplicate: str, dup: int,
                  resolution: str | None = None) -> None:
        self.conflicts.append(Conflict(
            attribute=attribute, kind=kind, canonical=canonical, duplicate=duplicate,
            duplicate_ref=self.sources[dup].model.ref,
            resolution=resolution or resolution_of(self.consolidation.policy),
        ))

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

    def _same_column(self, member: Member, dup: int) -> bool:
        """The duplicate's column is a canonical column under another attribute name: add a synonym."""
        if member.kind != "column" or self._find(member.name) is not None:
            return False
        theirs = self._key(member, dup)
        if not isinstance(theirs, tuple):
            return False
        column = dict(theirs).get("column_name")
        for slot in self.slots:
            ours = self._key(slot.member, slot.source) if slot.member.kind == "column" else None
            if not isinstance(ours, tuple) or dict(ours).get("column_name") != column:
                continue
            if ours != theirs:
                self._conflict(member.name, "column", slot.member.text(), member.text(), dup,
                               f"kept canonical {slot.member.name}; {member.name} became a synonym of it")
            synonym = self.planner.ref("sqlalchemy.orm", "synonym")
            stmt = cst.parse_statement(f'{member.name} = {synonym}("{slot.member.name}")\n')
            place(self.slots, Slot(Member(member.name, "attribute", (stmt,), "synonym"), 0))
            self.notes.append(f"{member.name} and {slot.member.name} map one column {column}: "
                              f'{member.name} = synonym("{slot.member.name}") keeps the old attribute')
            return True
        return False

    def _validator_clash(self, member: Member, dup: int) -> bool:
        """A duplicate validator of an attribute the merged class already validates: a conflict."""
        theirs = validated_attributes(member, self.sources[dup].resolver)
        for at, slot in enumerate(self.slots) if theirs else ():
            both = theirs & validated_attributes(slot.member, self.sources[slot.source].resolver)
            if not both or slot.member.name == member.name:
                continue
            self._conflict(", ".join(sorted(both)), "validator", slot.member.text(), member.text(), dup)
            if self.consolidation.policy is ConflictPolicy.KEEP_DUPLICATE:
                self.slots[at] = Slot(member, dup)
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
            place(self.slots, Slot(member, dup))

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
            self.slots[at] = Slot(kept, slot.source)

    def rebound(self, slot: Slot) -> tuple[Member, Resolver]:
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
