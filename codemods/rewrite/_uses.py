"""The uses phase of one file's rewrite: what each use becomes, and what its bindings' imports must do.

It runs first and hands the import phase a frozen `Decisions`; the edits it makes itself are the
uses' new text and the `from module import name` lines added next to the bindings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst

from codemods.rewrite._edits import Edits, from_import_code, name_node, relative_form, string_content
from codemods.rewrite._refs import Binding, BindingLookup, Facts, FileContext, Group, Use
from codemods.rewrite._targets import Relocation, Target


@dataclass(frozen=True)
class Decisions:
    """What the uses decided for the bindings: the import phase rewrites the statements by it."""

    retarget: Mapping[Binding, str]  # binding -> the module it now binds
    # retargeted bindings whose local name changes: new name, or None when the file already
    # binds the new module under that name (the old import goes, its uses take that name)
    renamed: Mapping[Binding, str | None]
    dropped: frozenset[Binding]  # bindings no use needs any more
    dotted_needed: Mapping[str, tuple[cst.CSTNode, ...]]  # module `import`ed for dotted uses -> binding lines


@dataclass(frozen=True)
class UseOutcome:
    """The uses phase's result: its decisions, its edits and its warnings."""

    decisions: Decisions
    edits: Edits
    warnings: tuple[str, ...]


AddedKey = tuple[int, str, tuple[int, str] | None]


class UsePhase:
    """Decide, group by group, the new text of each use and what becomes of its bindings."""

    def __init__(self, ctx: FileContext, relocation: Relocation, resolver: BindingLookup, facts: Facts) -> None:
        self.ctx, self.relocation, self.r, self.facts = ctx, relocation, resolver, facts
        self.names = LocalNames(ctx, relocation, resolver, facts)
        self.edits = Edits()
        self.warnings: list[str] = []
        self.retarget: dict[Binding, str] = {}
        self.renamed: dict[Binding, str | None] = {}
        self.dropped: set[Binding] = set()
        self.dotted_needed: dict[str, list[cst.CSTNode]] = {}

    def run(self) -> UseOutcome:
        """Every group with uses decided, and the names they need imported next to their bindings."""
        for group in self.facts.groups.values():
            if group.uses:
                self._decide(group)
        self.names.import_lines(self.edits)
        decisions = Decisions(
            dict(self.retarget), dict(self.renamed), frozenset(self.dropped),
            {module: tuple(lines) for module, lines in self.dotted_needed.items()},
        )
        return UseOutcome(decisions, self.edits, tuple(self.warnings))

    def _decide(self, group: Group) -> None:
        kinds = {b.kind for b in group.bindings}
        modules = {u.target.module for u in group.uses}
        if self.ctx.is_canonical:
            for u in group.uses:
                here = u.target.module == self.ctx.module
                self._use_text(u, u.target.name if here else self.names.of(u.target, group))
            if group.other_uses == 0 and "dotted" not in kinds:
                self.dropped.update(b for b in group.bindings if b.path in self.relocation.locations)
            return
        aliases_only = kinds <= {"import", "from", "lazy"} and all(
            b.path in self.relocation.locations for b in group.bindings
        )
        if aliases_only and group.other_uses == 0 and len(modules) == 1:
            module = modules.pop()
            for b in group.bindings:
                self.retarget[b] = module
            local = self._module_name(group, module)
            for u in group.uses:
                if local is None:
                    self._rename_attr(u)
                else:
                    self._use_text(u, f"{local}.{u.target.name}")
            return
        if kinds == {"dotted"}:
            for u in group.uses:
                self._use_text(u, f"{u.target.module}.{u.target.name}")
                lines = self.dotted_needed.setdefault(u.target.module, [])
                lines.extend(b.line for b in group.bindings)
            return
        for u in group.uses:
            self._use_text(u, self.names.of(u.target, group))
        for b in group.bindings:
            if b.kind == "lazy":
                self.warnings.append(
                    f"{self.ctx.path}: `{b.name}` lazily imports {b.path}, which is still used for "
                    "other names; the moved names are now imported eagerly next to it"
                )

    def _module_name(self, group: Group, module: str) -> str | None:
        """The name uses of a retargeted module binding take; None when the binding keeps its name.

        A binding named after the old module (`from pkg import old_mod`, `import pkg.old_mod as
        old_mod`) takes the new module's own name, or the binding of the new module the file
        already has (whose import then makes the old one redundant). When that name is taken by
        something else here, the binding gets an alias and the output says so.
        """
        old_names = {b.path.rpartition(".")[2] for b in group.bindings}
        if any(b.kind == "lazy" or b.name not in old_names for b in group.bindings):
            return None  # an alias the author chose: keep it
        name = module.rpartition(".")[2]
        lines = {id(self.r.parents.get(b.line)) for b in group.bindings}
        if binds_module(self.facts, self.r, module, name, lines):
            for b in group.bindings:
                self.renamed[b] = None
            return name
        if name in self.names.taken and name not in old_names:
            alias = self.names.module_alias(module, name)
            self.warnings.append(
                f"{self.ctx.path}: `{name}` already names something else here; "
                f"{module} is imported as `{alias}` instead of `{group.bindings[0].name}`"
            )
            name = alias
        for b in group.bindings:
            self.renamed[b] = name
        return name

    def _use_text(self, u: Use, text: str) -> None:
        if u.node is not None:
            self.edits.replace[u.node] = name_node(text)
        elif u.string is not None:
            self.edits.splice(u.string, u.span[0], u.span[1], text)

    def _rename_attr(self, u: Use) -> None:
        """A retargeted module alias keeps its uses, unless the class is named differently there."""
        if u.attr is not None and u.attr.value != u.target.name:
            self.edits.replace[u.attr] = cst.Name(u.target.name)
        elif u.string is not None:
            raw = string_content(u.string) or ""
            if raw[u.attr_span[0] : u.attr_span[1]] != u.target.name:
                self.edits.splice(u.string, *u.attr_span, u.target.name)


class LocalNames:
    """The names the moved classes and modules take in the file, none shadowing another binding."""

    def __init__(self, ctx: FileContext, relocation: Relocation, resolver: BindingLookup, facts: Facts) -> None:
        self.ctx, self.relocation, self.r, self.facts = ctx, relocation, resolver, facts
        self.taken = set(facts.names)  # names bound in the file, and those handed out here
        self.local: dict[Target, str] = {}
        # (binding line, module, relative form) -> the line, the (name, alias) pairs to import after it
        self.added: dict[AddedKey, tuple[cst.CSTNode, list[tuple[str, str | None]]]] = {}

    def module_alias(self, module: str, name: str) -> str:
        """An alias for `module` whose own name `name` is taken here (`parent_name`, `name_module`)."""
        parent = module.rpartition(".")[0].rpartition(".")[2]
        alias = f"{parent}_{name}" if parent else f"{name}_module"
        n = 2
        while alias in self.taken:
            alias = f"{parent or name}_{name if parent else 'module'}{n}"
            n += 1
        self.taken.add(alias)
        return alias

    def import_lines(self, edits: Edits) -> None:
        """One `from module import a, b` per binding line and module for the names handed out."""
        for (_, module, rel), (line, names) in self.added.items():
            ordered = sorted(names, key=lambda n: (n[0], n[1] or ""))
            edits.insert_after(line, from_import_code(module, ordered, rel))

    def of(self, target: Target, group: Group) -> str:
        """A name for the class in this file that shadows nothing; imported next to the binding."""
        if target not in self.local:
            name = target.name
            if imported_globally(self.facts, self.r, self.relocation, target):
                self.local[target] = name
                return name
            n = 1
            while name in self.taken:
                name = f"Canonical{target.name}" + (str(n) if n > 1 else "")
                n += 1
            self.taken.add(name)
            self.local[target] = name
        local = self.local[target]
        foreign = not self.ctx.is_canonical or target.module != self.ctx.module
        if foreign and (local != target.name or not imported_globally(self.facts, self.r, self.relocation, target)):
            for b in group.bindings:
                rel = self._mirror(b.statement, target.module)
                key = (id(b.line), target.module, rel)
                _, names = self.added.setdefault(key, (b.line, []))
                item = (target.name, None if local == target.name else local)
                if item not in names:
                    names.append(item)
        return local

    def _mirror(self, statement: cst.CSTNode, module: str) -> tuple[int, str] | None:
        """Relative form of `module` when the statement being replaced was relative."""
        if isinstance(statement, cst.ImportFrom) and statement.relative:
            return relative_form(self.ctx.module, self.ctx.is_package, module)
        return None


def binds_module(facts: Facts, r: BindingLookup, module: str, name: str, blocks: set[int]) -> bool:
    """An import in the same block(s) as the old binding binds `module` to `name`."""
    for node in facts.imports:
        if id(r.parents.get(r.line_of(node))) not in blocks:
            continue
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            source = r.from_module(node)
            for alias in node.names:
                local = alias.evaluated_alias or alias.evaluated_name
                if local == name and f"{source}.{alias.evaluated_name}" == module:
                    return True
        elif isinstance(node, cst.Import):
            for alias in node.names:
                if alias.evaluated_alias == name and alias.evaluated_name == module:
                    return True
    return False


def imported_globally(facts: Facts, r: BindingLookup, relocation: Relocation, target: Target) -> bool:
    """The module scope already binds target.name to the target (maybe via an old import)."""
    for node in facts.imports:
        if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
            continue
        if not isinstance(r.parents.get(r.line_of(node)), cst.Module):
            continue  # guarded (TYPE_CHECKING, try, if) or local: not bound for every use
        module = r.from_module(node)
        for alias in node.names:
            if (alias.evaluated_alias or alias.evaluated_name) != target.name:
                continue
            full = f"{module}.{alias.evaluated_name}"
            if full == f"{target.module}.{target.name}" or relocation.targets.get(full) == target:
                return True
    return False
