"""Registry strings that name a duplicate by its class name, renamed to the canonical's name.

SQLAlchemy evaluates some strings against the class registry, not the module: a relationship's
target and its `primaryjoin`/`secondaryjoin`/`order_by`/`foreign_keys`/`remote_side`/`secondary`
(a backref's too), and the names in a relationship's `Mapped["..."]` annotation; in a class body,
or assigned to a class attribute after it (`Customer.orders = relationship("Order")`). When the
duplicate has another class name than the canonical (`Account` folded into `Customer`), every
such string in a class of the duplicate's registry, and in the merged class, names the old class
whether or not its file imports the old module. Each string is parsed as a Python expression and
only Name nodes spelling the old class name change (`desc(Account.name)` -> `desc(Customer.name)`;
never `AccountType`, `x.Account` or a keyword). A string naming the old class where another live
class of that name shares the registry is refused with one line, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods import scan
from codemods.cst._imports import bindings
from codemods.cst._registry_exprs import renamed_expression
from codemods.rewrite._edits import string_content, with_content
from codemods.types import Changeset, Consolidation, FileChange, ModelDef, ModelfoldError, ModelIndex

__all__ = ["AmbiguousClassName", "rename_registry_strings", "renamed_expression"]

# keywords of relationship()/backref() whose strings SQLAlchemy evaluates against the registry
REGISTRY_KEYWORDS = frozenset(
    {"argument", "primaryjoin", "secondaryjoin", "order_by", "foreign_keys", "remote_side", "secondary"}
)


class AmbiguousClassName(ModelfoldError):
    """A registry string names the old class where another class of that name is live; nothing written."""


@dataclass(frozen=True)
class _Scope:
    """The classes of one file whose registry strings may name an old class, and what each may not."""

    classes: frozenset[str]
    # class -> old name -> another live class of that name in its registry (ambiguous)
    clashes: dict[str, dict[str, ModelDef]]


class _RegistryStrings(cst.CSTTransformer):
    """Edits the registry strings of the given top-level classes of one module."""

    def __init__(self, path: str, scope: _Scope, renames: dict[str, str], runtime_binds: set[str]) -> None:
        self.path = path
        self.scope = scope
        self.renames = renames
        # a name in an annotation (quoted or not) is the registry's when nothing binds it at run
        # time (unbound, or imported under TYPE_CHECKING only); a run-time binding (the rewrite's
        # `Customer as Account`) is what SQLAlchemy evaluates first, and type checkers read it too
        self.bare = {old: new for old, new in renames.items() if old not in runtime_binds}
        self.bare_renamed: set[str] = set()
        self.stack: list[str] = []
        self.attached: str | None = None  # `Customer.orders = relationship(...)` after the class
        self.changed = False

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.stack.pop()
        return updated_node

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.stack:
            self.attached = next((t.target.value.value for t in node.targets
                                  if isinstance(t.target, cst.Attribute) and isinstance(t.target.value, cst.Name)
                                  and t.target.value.value in self.scope.classes), None)

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if not self.stack:
            self.attached = None
        return updated_node

    def _owner(self) -> str | None:
        if not self.stack:
            return self.attached
        return self.stack[0] if self.stack[0] in self.scope.classes else None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        owner = self._owner()
        callee = (get_full_name_for_node(original_node.func) or "").rpartition(".")[2]
        if owner is None or callee not in {"relationship", "backref"}:
            return updated_node
        args = []
        for i, arg in enumerate(updated_node.args):
            keyword = arg.keyword.value if arg.keyword is not None else (
                "argument" if i == 0 and callee == "relationship" and arg.star == "" else "")
            if keyword in REGISTRY_KEYWORDS:
                arg = arg.with_changes(value=self._string(arg.value, owner, self.renames))
            args.append(arg)
        return updated_node.with_changes(args=args)

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        owner = self._owner()
        value = original_node.value
        if owner is None or not isinstance(value, cst.Call) or (
                get_full_name_for_node(value.func) or "").rpartition(".")[2] != "relationship":
            return updated_node
        annotation = updated_node.annotation.annotation
        if isinstance(annotation, cst.SimpleString):  # "Mapped[list[Account]]" as a whole
            new = self._string(annotation, owner, self.bare)
        else:  # Mapped[list["Account"]]: the quoted parts; Mapped[Account] under future annotations
            visited = annotation.visit(_AnnotationParts(self, owner))
            assert isinstance(visited, cst.BaseExpression)  # strings and names replaced one for one
            new = visited
        return updated_node.with_changes(annotation=updated_node.annotation.with_changes(annotation=new))

    def _string(self, node: cst.BaseExpression, owner: str, renames: dict[str, str]) -> cst.BaseExpression:
        """The string with old class names renamed; other expressions unchanged."""
        if isinstance(node, cst.ConcatenatedString) or (
                isinstance(node, cst.SimpleString) and string_content(node) is None):
            text = cst.Module([]).code_for_node(node)
            if any(re.search(rf"\b{re.escape(old)}\b", text) for old in renames):
                raise ModelfoldError(f"{self.path}: {owner}: cannot rename {', '.join(sorted(renames))} "
                                     f"inside {text} (escapes or implicit concatenation); write it plainly")
            return node
        if not isinstance(node, cst.SimpleString):
            return node
        raw = string_content(node) or ""
        done = renamed_expression(raw, renames)
        if done is None or not done[1]:
            return node
        for old in done[1]:
            self.refuse_ambiguous(owner, old, raw)
        if renames is self.bare:
            self.bare_renamed.update(done[1])
        self.changed = True
        return with_content(node, done[0])

    def refuse_ambiguous(self, owner: str, old: str, written: str) -> None:
        """Raise when another live class named `old` shares the owner's registry."""
        other = self.scope.clashes.get(owner, {}).get(old)
        if other is not None:
            raise AmbiguousClassName(
                f"{self.path}: {owner}: {written!r} names {old}, which is ambiguous: {other.ref} is "
                f"another class {old} in registry {other.registry}; write its module path")


class _AnnotationParts(cst.CSTTransformer):
    """Old names in an annotation, quoted or bare, where the module binds none at run time."""

    def __init__(self, outer: _RegistryStrings, owner: str) -> None:
        self.outer = outer
        self.owner = owner

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString
                           ) -> cst.BaseExpression:
        return self.outer._string(updated_node, self.owner, self.outer.bare)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.outer.bare.get(original_node.value)
        if new is None:
            return updated_node
        self.outer.refuse_ambiguous(self.owner, original_node.value, original_node.value)
        self.outer.changed = True
        self.outer.bare_renamed.add(original_node.value)
        return updated_node.with_changes(value=new)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)


class _Uses(cst.CSTVisitor):
    """Counts the Name nodes reading `name` (import aliases and attribute names are not uses)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.count += node.value == self.name


class _Unalias(cst.CSTTransformer):
    """`from m import New as Old` -> `from m import New`; while Old is still used, `from m import New`
    on its own line before it (the sorters keep `as` imports apart)."""

    def __init__(self, old: str, new: str, keep: bool) -> None:
        self.old, self.new, self.keep = old, new, keep

    def _match(self, alias: cst.ImportAlias) -> bool:
        asname = alias.asname.name if alias.asname is not None else None
        return (isinstance(asname, cst.Name) and asname.value == self.old
                and get_full_name_for_node(alias.name) == self.new)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        [small, *rest] = updated_node.body
        if rest or not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar) or not any(
                self._match(a) for a in small.names):
            return updated_node
        if self.keep:
            alone = small.with_changes(names=[cst.ImportAlias(cst.Name(self.new))], lpar=None, rpar=None)
            return cst.FlattenSentinel([updated_node.with_changes(body=[alone]),
                                        updated_node.with_changes(leading_lines=[])])
        names = [a.with_changes(asname=None) if self._match(a) else a for a in small.names]
        return updated_node.with_changes(body=[small.with_changes(names=names)])


def _type_checking_name(tree: cst.Module, old: str, new: str) -> cst.Module:
    """Where an annotation now names `new` and the module imported the canonical class as `old`
    for type checkers only, bind `new` there too (dropping `as old` when nothing else uses it)."""
    binds = bindings(tree)
    if new in binds or not any(b.how == "from" and b.obj == new and not b.runtime for b in binds.get(old, [])):
        return tree
    uses = _Uses(old)
    tree.visit(uses)
    return tree.visit(_Unalias(old, new, keep=uses.count > 0))


def _scopes(consolidation: Consolidation, index: ModelIndex, renames: dict[str, str]) -> dict[str, _Scope]:
    """Per file, the classes whose registry strings resolve where a duplicate did."""
    canon = consolidation.canonical
    dups = {d.ref for d in consolidation.duplicates}
    registries = {d.registry for d in consolidation.duplicates if d.class_name in renames and d.registry}
    classes: dict[str, set[str]] = {}
    owners: list[ModelDef] = [canon]
    for m in index.models:
        if m.kind == "class" and m.registry in registries and m.ref not in dups and m.ref != canon.ref:
            owners.append(m)
    clashes: dict[str, dict[str, dict[str, ModelDef]]] = {}
    for m in owners:
        classes.setdefault(m.path, set()).add(m.class_name)
        for other in index.models:
            if (other.kind == "class" and other.class_name in renames and other.ref not in dups
                    and other.registry in {m.registry, *registries}):
                clashes.setdefault(m.path, {}).setdefault(m.class_name, {})[other.class_name] = other
    return {path: _Scope(frozenset(names), clashes.get(path, {})) for path, names in classes.items()}


def rename_registry_strings(
    consolidation: Consolidation, changeset: Changeset, root: Path, index: ModelIndex,
    canonical_path: str,
) -> Changeset:
    """The changeset with every registry string naming a renamed duplicate naming the canonical class."""
    canon = consolidation.canonical
    renames = {d.class_name: canon.class_name for d in consolidation.duplicates if d.class_name != canon.class_name}
    if not renames:
        return changeset
    scopes = _scopes(consolidation, index, renames)
    if canon.path != canonical_path and canon.path in scopes:
        scopes[canonical_path] = scopes.pop(canon.path)
    word = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(renames))) + r")\b")
    changes = {c.path: c for c in changeset.changes}
    for path, scope in sorted(scopes.items()):
        before = changes[path].after if path in changes else scan.read_text(root, path)
        if not word.search(before):
            continue
        tree = scan.parse_module(before)
        runtime = {name for name, binds in bindings(tree).items() if any(b.runtime for b in binds)}
        edit = _RegistryStrings(path, scope, renames, runtime)
        tree = tree.visit(edit)
        for old_name in sorted(edit.bare_renamed):
            tree = _type_checking_name(tree, old_name, renames[old_name])
        after = scan.module_text(tree)
        if not edit.changed or after == before:
            continue
        old = changes.get(path)
        note = "registry strings name " + ", ".join(sorted(set(renames.values())))
        changes[path] = (replace(old, after=after, summary=f"{old.summary}; {note}") if old is not None
                         else FileChange(path, before, after, note))
    return replace(changeset, changes=tuple(changes[p] for p in sorted(changes)))
