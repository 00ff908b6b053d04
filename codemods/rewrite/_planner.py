"""Decide, per binding and per import statement, how one file's references move to the new home."""

from __future__ import annotations

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
    name_node,
    relative_form,
    string_content,
    with_content,
)
from codemods.rewrite._refs import Binding, BindingLookup, Collector, Facts, FileContext, Group, Use
from codemods.rewrite._strings import StringRewriter
from codemods.rewrite._targets import Relocation, Target


class Planner:
    """Turn the collected facts of one file into Edits."""

    def __init__(self, ctx: FileContext, relocation: Relocation, resolver: BindingLookup, facts: Facts) -> None:
        self.ctx, self.relocation, self.r, self.facts = ctx, relocation, resolver, facts
        self.edits = Edits()
        self.warnings: list[str] = []
        self.retarget: dict[Binding, str] = {}
        # retargeted bindings whose local name changes: new name, or None when the file already
        # binds the new module under that name (the old import goes, its uses take that name)
        self.renamed: dict[Binding, str | None] = {}
        self.dropped: set[Binding] = set()
        self.local: dict[Target, str] = {}
        self.dotted_needed: dict[str, list[cst.CSTNode]] = {}
        self.produced: set[str] = set()
        self.added: dict[
            tuple[int, str, tuple[int, str] | None], tuple[cst.CSTNode, list[tuple[str, str | None]]]
        ] = {}
        self.by_alias = {id(b.alias): b for g in facts.groups.values() for b in g.bindings if b.alias}

    def run(self) -> Edits:
        """Relocation every edit of the file."""
        for group in self.facts.groups.values():
            if group.uses:
                self._decide(group)
        self._flush_added()
        for node in self.facts.imports:
            if isinstance(node, cst.ImportFrom):
                self._from_import(node)
            else:
                self._import(node)
        self._lazy_bindings()
        self._missing_dotted_imports()
        self._strings()
        self._call_attrs()
        self._attr_patches()
        for module in sorted(set(self.facts.star)):
            self.warnings.append(
                f"{self.ctx.path}: `from {module} import *` left as is (the shim keeps it working)"
            )
        return self.edits

    def _attr_patches(self) -> None:
        """`patch.object(old_module, "Class")` patches the shim, not the class: say so."""
        for expr, name in self.facts.attr_patches:
            dotted_name = get_full_name_for_node(expr)
            if dotted_name is None:
                continue
            head, *attrs = dotted_name.split(".")
            for b in self.r.visible(expr, head):
                full = ".".join([b.path, *attrs])
                target = self.relocation.targets.get(f"{full}.{name}")
                if target is not None:
                    self.warnings.append(
                        f"{self.ctx.path}: patches {name!r} on {full} (now a shim); "
                        f"patch it on {target.module} instead"
                    )
                    break

    # -- uses -------------------------------------------------------------------------------
    def _decide(self, group: Group) -> None:
        kinds = {b.kind for b in group.bindings}
        modules = {u.target.module for u in group.uses}
        if self.ctx.is_canonical:
            for u in group.uses:
                here = u.target.module == self.ctx.module
                self._use_text(u, u.target.name if here else self._local_name(u.target, group))
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
            self._use_text(u, self._local_name(u.target, group))
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
        existing = self._binds_module(module, name, lines)
        if existing:
            for b in group.bindings:
                self.renamed[b] = None
            return name
        if name in self.facts.names and name not in old_names:
            parent = module.rpartition(".")[0].rpartition(".")[2]
            alias = f"{parent}_{name}" if parent else f"{name}_module"
            n = 2
            while alias in self.facts.names:
                alias = f"{parent or name}_{name if parent else 'module'}{n}"
                n += 1
            self.facts.names.add(alias)
            self.warnings.append(
                f"{self.ctx.path}: `{name}` already names something else here; "
                f"{module} is imported as `{alias}` instead of `{group.bindings[0].name}`"
            )
            name = alias
        for b in group.bindings:
            self.renamed[b] = name
        return name

    def _binds_module(self, module: str, name: str, blocks: set[int]) -> bool:
        """An import in the same block(s) as the old binding binds `module` to `name`."""
        for node in self.facts.imports:
            if id(self.r.parents.get(self.r.line_of(node))) not in blocks:
                continue
            if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
                source = self.r.from_module(node)
                for alias in node.names:
                    local = alias.evaluated_alias or alias.evaluated_name
                    if local == name and f"{source}.{alias.evaluated_name}" == module:
                        return True
            elif isinstance(node, cst.Import):
                for alias in node.names:
                    if alias.evaluated_alias == name and alias.evaluated_name == module:
                        return True
        return False

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

    def _local_name(self, target: Target, group: Group) -> str:
        """A name for the class in this file that shadows nothing; imported next to the binding."""
        if target not in self.local:
            name = target.name
            if self._imported_globally(target):
                self.local[target] = name
                return name
            n = 1
            while name in self.facts.names:
                name = f"Canonical{target.name}" + (str(n) if n > 1 else "")
                n += 1
            self.facts.names.add(name)
            self.local[target] = name
        local = self.local[target]
        foreign = not self.ctx.is_canonical or target.module != self.ctx.module
        if foreign and (local != target.name or not self._imported_globally(target)):
            for b in group.bindings:
                rel = self._mirror(b.statement, target.module)
                key = (id(b.line), target.module, rel)
                _, names = self.added.setdefault(key, (b.line, []))
                item = (target.name, None if local == target.name else local)
                if item not in names:
                    names.append(item)
        return local

    def _flush_added(self) -> None:
        """One `from module import a, b` per binding line and module for the names added."""
        for (_, module, rel), (line, names) in self.added.items():
            ordered = sorted(names, key=lambda n: (n[0], n[1] or ""))
            self.edits.insert_after(line, from_import_code(module, ordered, rel))

    def _imported_globally(self, target: Target) -> bool:
        """The module scope already binds target.name to the target (maybe via an old import)."""
        for node in self.facts.imports:
            if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
                continue
            if not isinstance(self.r.parents.get(self.r.line_of(node)), cst.Module):
                continue  # guarded (TYPE_CHECKING, try, if) or local: not bound for every use
            module = self.r.from_module(node)
            for alias in node.names:
                if (alias.evaluated_alias or alias.evaluated_name) != target.name:
                    continue
                full = f"{module}.{alias.evaluated_name}"
                if full == f"{target.module}.{target.name}" or self.relocation.targets.get(full) == target:
                    return True
        return False

    def _mirror(self, statement: cst.CSTNode, module: str) -> tuple[int, str] | None:
        """Relative form of `module` when the statement being replaced was relative."""
        if isinstance(statement, cst.ImportFrom) and statement.relative:
            return relative_form(self.ctx.module, self.ctx.is_package, module)
        return None

    # -- import statements ------------------------------------------------------------------
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
                out.extend(self._dotted_alias(node, alias, full))
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

    def _dotted_alias(
        self, node: cst.Import, alias: cst.ImportAlias, location: str
    ) -> list[cst.ImportAlias]:
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
            if module in self.produced or self._has_import(module):
                continue
            self.produced.add(module)
            if not out:
                out.append(alias.with_changes(name=name_node(module)))
            else:
                self.edits.insert_after(self.r.line_of(node), f"import {module}")
        return out

    def _has_import(self, module: str) -> bool:
        return any(
            isinstance(n, cst.Import) and a.asname is None and a.evaluated_name == module
            for n in self.facts.imports for a in (n.names if isinstance(n, cst.Import) else [])
        )

    def _missing_dotted_imports(self) -> None:
        for module, lines in self.dotted_needed.items():
            if module not in self.produced and not self._has_import(module):
                self.produced.add(module)
                self.edits.insert_after(lines[0], f"import {module}")

    def _lazy_bindings(self) -> None:
        for b, module in self.retarget.items():
            if b.kind == "lazy" and b.string is not None:
                self.edits.replace[b.string] = with_content(b.string, module)
        for b in self.dropped:
            if b.kind == "lazy":
                self.edits.remove.add(b.statement)

    # -- strings ----------------------------------------------------------------------------
    def _strings(self) -> None:
        strings = StringRewriter(self.relocation)
        for node, call_name, index in self.facts.strings:
            raw = string_content(node)
            if raw is None or node in self.edits.replace:
                continue
            new = strings.rewrite(raw, (call_name or "").rsplit(".", 1)[-1], index)
            if new is not None and new != raw:
                self.edits.replace[node] = with_content(node, new)

    def _call_attrs(self) -> None:
        """`importlib.import_module("old").Class`: point the string at the new module."""
        for attr, string, location in self.facts.call_attrs:
            target = self.relocation.targets.get(f"{location}.{attr.attr.value}")
            if target is None:
                continue
            if self.ctx.is_canonical and target.module == self.ctx.module:
                self.edits.replace[attr] = cst.Name(target.name)
                continue
            self.edits.replace[string] = with_content(string, target.module)
            if attr.attr.value != target.name:
                self.edits.replace[attr.attr] = cst.Name(target.name)


def rewrite_source(text: str, ctx: FileContext, relocation: Relocation) -> tuple[str, list[str]]:
    """Rewrite every reference to a target in one file's text; (new text, warnings)."""
    wrapper = MetadataWrapper(scan.parse_module(text), unsafe_skip_copy=True)  # a fresh tree
    resolver = BindingLookup(ctx, relocation, wrapper)
    collector = Collector(resolver)
    wrapper.module.visit(collector)
    planner = Planner(ctx, relocation, resolver, collector.finish())
    edits = planner.run()
    if not edits:
        return text, planner.warnings
    return scan.module_text(wrapper.module.visit(Apply(edits, resolver.parents))), planner.warnings
