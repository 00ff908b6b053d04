"""Names inside copied code keep the meaning they had in the duplicate's module.

A default `lambda: datetime.date.today()` copied from a module where `datetime` is the module into
one where it is the class, or a moved `class Plan(Enum)` where the two modules bind `Enum`
differently, would silently change meaning. Each such name is bound in the canonical module under
an alias (`import datetime as _datetime`) and the copied code is renamed to use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from codemods.cst._classbody import Resolver
from codemods.cst._imports import ImportPlanner, NameOrigin, bindings
from codemods.merge._moves import names_used, resolve_relative


class _Rename(cst.CSTTransformer):
    """Rename read names; attribute names, keywords, parameters and definitions keep theirs."""

    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.renames.get(original_node.value)
        return updated_node.with_changes(value=new) if new else updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)

    def leave_Param(self, original_node: cst.Param, updated_node: cst.Param) -> cst.Param:
        return updated_node.with_changes(name=original_node.name)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        return updated_node.with_changes(name=original_node.name)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        return updated_node.with_changes(name=original_node.name)


@dataclass
class Rebinder:
    """Decides, per name a copied statement reads, whether it needs an alias in the canonical module."""

    dup_tree: cst.Module
    dup_module: str
    dup_is_package: bool
    canon_tree: cst.Module
    canon_module: str
    planner: ImportPlanner
    aliases: dict[str, str] = field(default_factory=dict)  # name in the duplicate -> alias
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._dup = bindings(self.dup_tree)
        self._canon = bindings(self.canon_tree)

    def _origin(self, bind: NameOrigin, module: str, is_package: bool) -> tuple[str, str | None]:
        where = resolve_relative(module, is_package, bind.module) if bind.module.startswith(".") else bind.module
        return where, bind.obj

    def _clash(self, name: str) -> NameOrigin | None:
        """The duplicate's import of `name` when the canonical binds `name` to something else
        (in its text, or by an import the conversion of an earlier member queued)."""
        dup = [b for b in self._dup.get(name, []) if b.runtime and b.how in ("from", "import")]
        canon = [b for b in self.planner.known.get(name, []) if b.runtime]
        if not dup or not canon:
            return None
        theirs = self._origin(dup[0], self.dup_module, self.dup_is_package)
        for b in canon:
            ours = self._origin(b, self.canon_module, False)
            if ours == theirs or (b.how == "from" and ours[0] == self.dup_module):
                return None  # the same object, or the canonical imports it from the duplicate's module
        return dup[0]

    def _alias(self, name: str, bind: NameOrigin) -> str:
        if name in self.aliases:
            return self.aliases[name]
        taken = set(self._canon) | set(self.planner.known) | set(self._dup) | set(self.aliases.values())
        alias = f"_{name}"
        while alias in taken:
            alias = f"_{alias}"
        module, obj = self._origin(bind, self.dup_module, self.dup_is_package)
        if bind.how == "from":
            self.planner.require(module, obj, alias)
        else:
            self.planner.require(bind.module, None, alias)
        self.aliases[name] = alias
        shown = f"{module}.{obj}" if bind.how == "from" else module
        self.notes.append(f"{name} means {shown} in {self.dup_module} but not in {self.canon_module}: "
                          f"the copied code uses it as {alias}")
        return alias

    def rebind(self, stmts: Sequence[cst.BaseStatement]) -> tuple[cst.BaseStatement, ...] | None:
        """The statements with every clashing name renamed to its alias (imports queued); None: no clash."""
        renames: dict[str, str] = {}
        for name in names_used(stmts):
            bind = self._clash(name)
            if bind is not None:
                renames[name] = self._alias(name, bind)
            else:
                self._claim(name)
        if not renames:
            return None
        rename = _Rename(renames)
        out: list[cst.BaseStatement] = []
        for stmt in stmts:
            new = stmt.visit(rename)
            assert isinstance(new, cst.BaseStatement)  # a statement renamed stays a statement
            out.append(new)
        return tuple(out)

    def _claim(self, name: str) -> None:
        """Bind an imported name the copied code reads, unbound in the canonical, as the duplicate
        binds it: the conversion then spells other objects around it (`datetime.datetime`, not a
        second `from datetime import datetime` that would shadow `import datetime`)."""
        dup = [b for b in self._dup.get(name, []) if b.runtime and b.how in ("from", "import")]
        if not dup or name in self.planner.known:
            return
        module, obj = self._origin(dup[0], self.dup_module, self.dup_is_package)
        if dup[0].how == "from":
            self.planner.require(module, obj, name if name != obj else None)
        else:
            self.planner.require(module, None, name if name != module.split(".")[0] else None)
        self.planner.known[name] = [NameOrigin(dup[0].how, module, obj, True)]

    def keeps_note(self, note: str) -> bool:
        """False for the carrier's "means different things" note on a name this rebinder aliased."""
        return not any(note.startswith(f"name {name} means different things") for name in self.aliases)

    def resolver(self) -> Resolver:
        """A resolver of the duplicate's module that also knows the aliases."""
        lines = []
        for name, alias in self.aliases.items():
            bind = self._clash(name)
            if bind is None:
                continue
            module, obj = self._origin(bind, self.dup_module, self.dup_is_package)
            text = f"from {module} import {obj} as {alias}\n" if bind.how == "from" \
                else f"import {bind.module} as {alias}\n"
            lines.append(cst.parse_statement(text))
        return Resolver(cst.Module(body=[*lines, *self.dup_tree.body]))
