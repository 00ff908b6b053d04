"""Decide, per binding and per import statement, how one file's references move to the new home.

The phases run in the order their inputs force: the uses phase (`_uses`) decides each use and hands
on a frozen `Decisions`; the import statements are rewritten by it (`ImportPhase`), lazy bindings
too; the string phase sees the nodes already replaced, so a string edited once is not edited twice.
Each phase returns its own Edits, merged in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper

from codemods import scan
from codemods.rewrite._edits import (
    Apply,
    Edits,
    from_import_code,
    from_statement,
    import_alias,
    keep_aliases,
    merged,
    name_node,
    relative_form,
    string_content,
    with_content,
)
from codemods.rewrite._refs import Binding, BindingLookup, Collector, Facts, FileContext
from codemods.rewrite._strings import StringRewriter
from codemods.rewrite._targets import Relocation
from codemods.rewrite._uses import Decisions, UsePhase


@dataclass(frozen=True)
class PhaseEdits:
    """One phase's edits and warnings."""

    edits: Edits
    warnings: tuple[str, ...] = ()


class DottedImports:
    """The `import old.mod` statements dotted uses went through, and the `import new.mod` they need."""

    def __init__(self, ctx: FileContext, relocation: Relocation, facts: Facts, decisions: Decisions) -> None:
        self.ctx, self.relocation, self.facts = ctx, relocation, facts
        self.dotted_needed = decisions.dotted_needed
        self.present = {
            a.evaluated_name for n in facts.imports if isinstance(n, cst.Import) for a in n.names if a.asname is None
        }
        self.produced: set[str] = set()  # modules an `import` was added for

    def alias(self, edits: Edits, line: cst.CSTNode, alias: cst.ImportAlias, location: str) -> list[cst.ImportAlias]:
        """`import old.mod` whose `old.mod.Class` uses were rewritten: retarget, drop or keep it."""
        others = self.facts.dotted_other.get(location, 0)
        if self.ctx.is_canonical:
            return [] if others == 0 else [alias]
        wanted = sorted(
            t.module for k, t in self.relocation.targets.items()
            if k.rsplit(".", 1)[0] == location and t.module in self.dotted_needed
        )
        out: list[cst.ImportAlias] = [alias] if others else []
        for module in dict.fromkeys(wanted):
            if module in self.produced or module in self.present:
                continue
            self.produced.add(module)
            if not out:
                out.append(alias.with_changes(name=name_node(module)))
            else:
                edits.insert_after(line, f"import {module}")
        return out

    def missing(self, edits: Edits) -> None:
        """`import new.mod` after the first binding line of dotted uses no statement imports yet."""
        for module, lines in self.dotted_needed.items():
            if module not in self.produced and module not in self.present:
                self.produced.add(module)
                edits.insert_after(lines[0], f"import {module}")


class ImportPhase:
    """Rewrite the import statements by the uses' decisions: retarget, rename, drop or keep each alias."""

    def __init__(
        self, ctx: FileContext, relocation: Relocation, resolver: BindingLookup, facts: Facts, decisions: Decisions
    ) -> None:
        self.ctx, self.relocation, self.r, self.facts = ctx, relocation, resolver, facts
        self.retarget, self.renamed, self.dropped = decisions.retarget, decisions.renamed, decisions.dropped
        self.edits = Edits()
        self.warnings: list[str] = []
        self.dotted = DottedImports(ctx, relocation, facts, decisions)
        self.by_alias = {id(b.alias): b for g in facts.groups.values() for b in g.bindings if b.alias}

    def run(self) -> PhaseEdits:
        """Every import statement rewritten, then the `import module` lines dotted uses still need."""
        for node in self.facts.imports:
            if isinstance(node, cst.ImportFrom):
                self._from_import(node)
            else:
                self._import(node)
        self.dotted.missing(self.edits)
        return PhaseEdits(self.edits, tuple(self.warnings))

    def _from_import(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = self.r.from_module(node)
        if module is None:
            return
        aliases = list(node.names)
        kept: list[cst.ImportAlias] = []
        dests: dict[str, list[tuple[str, str | None, cst.ImportAlias]]] = {}
        for alias in aliases:
            local = alias.evaluated_alias or alias.evaluated_name
            full = f"{module}.{alias.evaluated_name}"
            b = self.by_alias.get(id(alias))
            target = self.relocation.targets.get(full)
            if target is not None:
                if self.ctx.is_canonical and target.module == self.ctx.module:
                    if local != target.name:
                        self.warnings.append(f"{self.ctx.path}: kept `{full} as {local}`")
                        kept.append(alias)
                    continue
                asname = None if local == target.name else local
                dests.setdefault(target.module, []).append((target.name, asname, alias))
            elif b is not None and b in self.retarget:
                if b in self.renamed:
                    if self.renamed[b] is None:
                        continue  # the file already imports the new module under that name
                    local = str(self.renamed[b])
                parent, _, last = self.retarget[b].rpartition(".")
                if not parent:
                    self.edits.insert_after(self.r.line_of(node), f"import {last} as {local}")
                    continue
                dests.setdefault(parent, []).append((last, None if local == last else local, alias))
            elif b is None or b not in self.dropped:
                kept.append(alias)
        if len(kept) == len(aliases):
            return
        relative = node.relative
        if not kept and len(dests) == 1:
            dest, items = next(iter(dests.items()))
            rel = relative_form(self.ctx.module, self.ctx.is_package, dest) if relative else None
            names = [import_alias(n, a, like) for n, a, like in items]
            self.edits.replace[node] = from_statement(node, dest, rel).with_changes(names=names)
            return
        if kept:
            self.edits.replace[node] = node.with_changes(names=keep_aliases(aliases, kept, bool(node.lpar)))
        else:
            self.edits.remove.add(node)
        for dest, items in dests.items():
            rel = relative_form(self.ctx.module, self.ctx.is_package, dest) if relative else None
            code = from_import_code(dest, [(n, a) for n, a, _ in items], rel)
            self.edits.insert_after(self.r.line_of(node), code)

    def _import(self, node: cst.Import) -> None:
        aliases = list(node.names)
        out: list[cst.ImportAlias] = []
        for alias in aliases:
            full = alias.evaluated_name
            b = self.by_alias.get(id(alias))
            if alias.asname is not None and b is not None and b in self.retarget:
                if b in self.renamed:
                    out.extend(self._renamed_import(node, b))
                    continue
                out.append(alias.with_changes(name=name_node(self.retarget[b])))
            elif alias.asname is not None and b is not None and b in self.dropped:
                continue
            elif alias.asname is None and self.facts.dotted_target.get(full):
                out.extend(self.dotted.alias(self.edits, self.r.line_of(node), alias, full))
            else:
                out.append(alias)
        if len(out) == len(aliases) and all(a is b for a, b in zip(out, aliases, strict=True)):
            return
        if out:
            self.edits.replace[node] = node.with_changes(names=keep_aliases(aliases, out, False))
        else:
            self.edits.remove.add(node)

    def _renamed_import(self, node: cst.Import, b: Binding) -> list[cst.ImportAlias]:
        """`import pkg.old_mod as old_mod` retargeted: `from pkg import new_mod` next to it (or
        nothing, when the file already binds the new module under its name)."""
        local = self.renamed[b]
        if local is None:
            return []
        parent, _, last = self.retarget[b].rpartition(".")
        asname = "" if local == last else f" as {local}"
        code = f"from {parent} import {last}{asname}" if parent else f"import {last}{asname}"
        self.edits.insert_after(self.r.line_of(node), code)
        return []


def lazy_binding_edits(decisions: Decisions) -> Edits:
    """Lazy bindings (`m = import_module("old")`) point at the new module, or go when dropped."""
    edits = Edits()
    for b, module in decisions.retarget.items():
        if b.kind == "lazy" and b.string is not None:
            edits.replace[b.string] = with_content(b.string, module)
    for b in decisions.dropped:
        if b.kind == "lazy":
            edits.remove.add(b.statement)
    return edits


def string_edits(relocation: Relocation, facts: Facts, done: Edits) -> Edits:
    """Dotted paths in strings (`relationship("old.Class")`) not replaced already by `done`."""
    strings = StringRewriter(relocation)
    edits = Edits()
    for node, call_name, index in facts.strings:
        raw = string_content(node)
        if raw is None or node in done.replace:
            continue
        new = strings.rewrite(raw, (call_name or "").rsplit(".", 1)[-1], index)
        if new is not None and new != raw:
            edits.replace[node] = with_content(node, new)
    return edits


def call_attr_edits(ctx: FileContext, relocation: Relocation, facts: Facts) -> Edits:
    """`importlib.import_module("old").Class`: point the string at the new module."""
    edits = Edits()
    for attr, string, location in facts.call_attrs:
        target = relocation.targets.get(f"{location}.{attr.attr.value}")
        if target is None:
            continue
        if ctx.is_canonical and target.module == ctx.module:
            edits.replace[attr] = cst.Name(target.name)
            continue
        edits.replace[string] = with_content(string, target.module)
        if attr.attr.value != target.name:
            edits.replace[attr.attr] = cst.Name(target.name)
    return edits


def attr_patch_warnings(ctx: FileContext, relocation: Relocation, r: BindingLookup, facts: Facts) -> list[str]:
    """`patch.object(old_module, "Class")` patches the shim, not the class: say so."""
    warnings = []
    for expr, name in facts.attr_patches:
        dotted_name = get_full_name_for_node(expr)
        if dotted_name is None:
            continue
        head, *attrs = dotted_name.split(".")
        for b in r.visible(expr, head):
            full = ".".join([b.path, *attrs])
            target = relocation.targets.get(f"{full}.{name}")
            if target is not None:
                warnings.append(
                    f"{ctx.path}: patches {name!r} on {full} (now a shim); patch it on {target.module} instead"
                )
                break
    return warnings


def plan_edits(ctx: FileContext, relocation: Relocation, r: BindingLookup, facts: Facts) -> PhaseEdits:
    """Every edit of the file, phase by phase, and the warnings in the same order."""
    uses = UsePhase(ctx, relocation, r, facts).run()
    imports = ImportPhase(ctx, relocation, r, facts, uses.decisions).run()
    done = merged(uses.edits, imports.edits, lazy_binding_edits(uses.decisions))
    strings = string_edits(relocation, facts, done)
    edits = merged(done, strings, call_attr_edits(ctx, relocation, facts))
    stars = [f"{ctx.path}: `from {module} import *` left as is (the shim keeps it working)"
             for module in sorted(set(facts.star))]
    warnings = (*uses.warnings, *imports.warnings, *attr_patch_warnings(ctx, relocation, r, facts), *stars)
    return PhaseEdits(edits, warnings)


def rewrite_source(text: str, ctx: FileContext, relocation: Relocation) -> tuple[str, list[str]]:
    """Rewrite every reference to a target in one file's text; (new text, warnings)."""
    wrapper = MetadataWrapper(scan.parse_module(text), unsafe_skip_copy=True)  # a fresh tree
    resolver = BindingLookup(ctx, relocation, wrapper)
    collector = Collector(resolver)
    wrapper.module.visit(collector)
    planned = plan_edits(ctx, relocation, resolver, collector.finish())
    if not planned.edits:
        return text, list(planned.warnings)
    return scan.module_text(wrapper.module.visit(Apply(planned.edits, resolver.parents))), list(planned.warnings)
