"""Find every reference to a target in one file, resolved through libcst scope metadata."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import cast

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    Assignment,
    BaseAssignment,
    ExpressionContext,
    ExpressionContextProvider,
    ImportAssignment,
    MetadataWrapper,
    Scope,
    ScopeProvider,
)

from codemods.rewrite._targets import Relocation, RewriteMode, Target
from codemods.scan import absolute_module


@dataclass(frozen=True)
class FileContext:
    """The file being rewritten: path, dotted module name, and whether it is the canonical module."""

    path: str
    module: str
    is_package: bool
    is_canonical: bool
    # how names are resolved to the imports that bind them: "scoped": libcst's ScopeProvider;
    # "bound_once": every relevant name is bound once in the file, by an import, so each use of it
    # is that import (no scope metadata); "statements": nothing binds a location (_targets.mode_of)
    mode: RewriteMode = "scoped"
    aliases: frozenset[str] = frozenset()  # "bound_once": the names bound, each once, to a location


@dataclass(eq=False)
class Binding:
    """A name bound to a dotted path: `import a.b as m`, `from a import b`, `import a.b`, `m = f("a.b")`."""

    name: str
    path: str
    kind: str  # "import" | "dotted" | "from" | "lazy"
    statement: cst.CSTNode  # the Import / ImportFrom / Assign
    alias: cst.ImportAlias | None
    string: cst.SimpleString | None
    line: cst.CSTNode
    scope: Scope | None  # None in a "bound_once" file


@dataclass(eq=False)
class Use:
    """One use of a target through a binding: a node to replace, or a span of a string annotation."""

    target: Target
    node: cst.CSTNode | None  # Name / Attribute, None for a string-annotation use
    attr: cst.Name | None  # the Name naming the target (renamed when the class name changes)
    string: cst.SimpleString | None = None
    span: tuple[int, int] = (0, 0)
    attr_span: tuple[int, int] = (0, 0)


@dataclass(eq=False)
class Group:
    """All bindings of one name in one scope, with what their uses reach."""

    bindings: list[Binding] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    other_uses: int = 0


@dataclass(eq=False)
class Facts:
    """What the analysis pass collected from one file."""

    imports: list[cst.Import | cst.ImportFrom] = field(default_factory=list)
    groups: dict[tuple[int, str], Group] = field(default_factory=dict)
    # location imported by `import a.b.c` -> number of non-target uses of it
    dotted_other: dict[str, int] = field(default_factory=dict)
    # location imported by `import a.b.c` -> number of target uses through it
    dotted_target: dict[str, int] = field(default_factory=dict)
    strings: list[tuple[cst.SimpleString, str | None, int]] = field(default_factory=list)
    call_attrs: list[tuple[cst.Attribute, cst.SimpleString, str]] = field(default_factory=list)
    # `patch.object(old_module, "Class")`, `setattr(old_module, "Class", x)`: (module expr, name)
    attr_patches: list[tuple[cst.BaseExpression, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    star: list[str] = field(default_factory=list)


CHAIN = re.compile(r"(?<![\w.])([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)")


class BindingLookup:
    """Binding lookup with libcst's ScopeProvider (relative imports resolved with the file's module)."""

    def __init__(self, ctx: FileContext, relocation: Relocation, wrapper: MetadataWrapper) -> None:
        self.ctx = ctx
        self.relocation = relocation
        # one batched traversal for both providers; parents come from the Collector's own pass
        providers = [ScopeProvider, ExpressionContextProvider] if ctx.mode == "scoped" else []
        found = wrapper.resolve_many(providers)
        self.scopes = cast(Mapping[cst.CSTNode, Scope | None], found.get(ScopeProvider, {}))
        self.contexts = cast(
            Mapping[cst.CSTNode, ExpressionContext], found.get(ExpressionContextProvider, {})
        )
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.module = wrapper.module
        self._cache: dict[int, Binding | None] = {}
        self.bound_once: dict[str, list[Binding]] = {}  # "bound_once" files: name -> its one import

    def index_imports(self, imports: list[cst.Import | cst.ImportFrom]) -> None:
        """A "bound_once" file's bindings, from its import statements (once the parents are known)."""
        for node in imports:
            aliases = node.names if not isinstance(node.names, cst.ImportStar) else []
            for alias in aliases:
                name = alias.evaluated_alias or alias.evaluated_name.split(".")[0]
                b = self._import_binding(name, node, None)
                if b is not None and self.relevant(b.path):
                    self.bound_once.setdefault(name, []).append(b)

    def relevant(self, path: str) -> bool:
        """The path is a target, a location, or a package above a location."""
        if path in self.relocation.targets or path in self.relocation.locations:
            return True
        return any(loc.startswith(path + ".") for loc in self.relocation.locations)

    def visible(self, node: cst.CSTNode, name: str) -> list[Binding]:
        """Relevant bindings of `name` visible at `node`."""
        if self.ctx.mode == "bound_once":
            return self.bound_once.get(name, [])
        scope = self.scopes.get(node)
        if scope is None:
            return []
        found = [self._binding(a) for a in scope[name]]
        return sorted((b for b in found if b is not None), key=lambda b: id(b))

    def line_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The statement line (SimpleStatementLine) that holds a small statement."""
        cur = node
        while not isinstance(cur, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            cur = self.parents[cur]
        return cur

    def from_module(self, node: cst.ImportFrom) -> str | None:
        """Absolute module of a from-import."""
        name = get_full_name_for_node(node.module) if node.module is not None else None
        return absolute_module(self.ctx.module, self.ctx.is_package, len(node.relative), name)

    def _binding(self, a: BaseAssignment) -> Binding | None:
        key = id(a)
        if key not in self._cache:
            self._cache[key] = self._make_binding(a)
        return self._cache[key]

    def _make_binding(self, a: BaseAssignment) -> Binding | None:
        if isinstance(a, ImportAssignment):
            b = self._import_binding(a.name, a.node, a.scope)
        elif isinstance(a, Assignment) and isinstance(a.node, cst.Name):
            b = self._lazy_binding(a, a.node)
        else:
            return None
        return b if b is not None and self.relevant(b.path) else None

    def _import_binding(self, name: str, node: cst.CSTNode, scope: Scope | None) -> Binding | None:
        """The binding of `name` by an import statement."""
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = get_full_name_for_node(alias.name) or ""
                if alias.asname is not None:
                    if get_full_name_for_node(alias.asname.name) == name:
                        return Binding(name, full, "import", node, alias, None, self.line_of(node), scope)
                elif full.split(".")[0] == name:
                    return Binding(name, name, "dotted", node, alias, None, self.line_of(node), scope)
        elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            module = self.from_module(node)
            for alias in node.names:
                local = alias.evaluated_alias or alias.evaluated_name
                if module is not None and local == name:
                    path = f"{module}.{alias.evaluated_name}"
                    return Binding(name, path, "from", node, alias, None, self.line_of(node), scope)
        return None

    def _lazy_binding(self, a: Assignment, name: cst.Name) -> Binding | None:
        """`m = importlib.import_module("old")` / `m = LazyImport("old")`: an alias of the module."""
        target = self.parents.get(name)
        stmt = self.parents.get(target) if isinstance(target, cst.AssignTarget) else target
        if isinstance(stmt, cst.Assign) and len(stmt.targets) != 1:
            return None
        if not isinstance(stmt, (cst.Assign, cst.AnnAssign)) or not isinstance(stmt.value, cst.Call):
            return None
        string = module_string(stmt.value)
        if string is None or string.evaluated_value not in self.relocation.locations:
            return None
        value = str(string.evaluated_value)
        return Binding(a.name, value, "lazy", stmt, None, string, self.line_of(stmt), a.scope)


def module_string(call: cst.Call) -> cst.SimpleString | None:
    """The first positional argument of a call, when it is a plain string literal."""
    if not call.args or call.args[0].keyword is not None:
        return None
    value = call.args[0].value
    if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
        return value
    return None


def hit(relocation: Relocation, path: str, attrs: list[str]) -> tuple[int, Target | None, str | None]:
    """Walk `path.attrs...`: (depth, target) at the first target, and the last location passed."""
    seq = [path] + [".".join([path, *attrs[:i]]) for i in range(1, len(attrs) + 1)]
    through: str | None = None
    for depth, q in enumerate(seq):
        if depth > 0 and q in relocation.targets:
            return depth, relocation.targets[q], through
        if q in relocation.locations:
            through = q
    return 0, None, through


class Collector(cst.CSTVisitor):
    """One pass over the tree: imports, attribute chains, strings, names in use."""

    def __init__(self, resolver: BindingLookup) -> None:
        super().__init__()
        self.r = resolver
        self.facts = Facts()
        self._annotation = 0
        self._stack: list[cst.CSTNode] = []
        # resolved after the pass, once every node's parent is known
        self._chains: list[tuple[cst.Name, list[cst.Attribute]]] = []
        self._annotations: list[cst.SimpleString] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.r.parents[node] = self._stack[-1]
        self._stack.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self._stack.pop()

    def finish(self) -> Facts:
        """Resolve the recorded chains and string annotations against their bindings."""
        if self.r.ctx.mode == "bound_once":
            self.r.index_imports(self.facts.imports)
        for head, chain in self._chains:
            self._chain(head, chain)
        for node in self._annotations:
            self._annotation_string(node)
        return self.facts

    def visit_Import(self, node: cst.Import) -> bool:
        self.facts.imports.append(node)
        for alias in node.names:
            local = alias.evaluated_alias or alias.evaluated_name
            self.facts.names.add(local.split(".")[0])
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.facts.imports.append(node)
        if isinstance(node.names, cst.ImportStar):
            module = self.r.from_module(node)
            if module in self.r.relocation.locations:
                self.facts.star.append(str(module))
            return False
        for alias in node.names:
            self.facts.names.add(alias.evaluated_alias or alias.evaluated_name)
        return False

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._annotation += 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self._annotation -= 1

    def visit_Name(self, node: cst.Name) -> None:
        parent = self.r.parents.get(node)
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return
        if isinstance(parent, cst.Arg) and parent.keyword is node:
            return
        self.facts.names.add(node.value)
        if self.r.ctx.mode == "bound_once":
            if isinstance(parent, cst.MatchKeywordElement):
                return  # `case C(key=...)`: an attribute name (a relevant name is never stored)
        elif self.r.contexts.get(node) is not ExpressionContext.LOAD:
            return
        chain: list[cst.Attribute] = []
        cur: cst.CSTNode = node
        while isinstance(up := self.r.parents.get(cur), cst.Attribute) and up.value is cur:
            chain.append(up)
            cur = up
        self._chains.append((node, chain))

    def _chain(self, head: cst.Name, chain: list[cst.Attribute]) -> None:
        bindings = self.r.visible(head, head.value)
        if not bindings:
            return
        attrs = [a.attr.value for a in chain]
        self._reach(bindings, attrs, lambda depth, target: Use(target, chain[depth - 1], chain[depth - 1].attr))

    def _reach(self, bindings: list[Binding], attrs: list[str], use: Callable[[int, Target], Use]) -> None:
        """What `name.attrs...` reaches through the first of its bindings that reaches a location: a
        target (`use(depth, target)` is recorded), another name of a location, or nothing."""
        group = self._group(bindings)
        for b in bindings:
            depth, target, through = hit(self.r.relocation, b.path, attrs)
            if target is not None:
                group.uses.append(use(depth, target))
                self._dotted_target(b, through)
                return
            if through is not None:
                self._other(group, b, through)
                return
        group.other_uses += 1  # a use of the binding that reaches no location (`pkg.other`)

    def _other(self, group: Group, b: Binding, location: str) -> None:
        group.other_uses += 1
        if b.kind == "dotted":
            self.facts.dotted_other[location] = self.facts.dotted_other.get(location, 0) + 1

    def _dotted_target(self, b: Binding, location: str | None) -> None:
        if b.kind == "dotted" and location is not None:
            self.facts.dotted_target[location] = self.facts.dotted_target.get(location, 0) + 1

    def _group(self, bindings: list[Binding]) -> Group:
        first = bindings[0]
        group = self.facts.groups.setdefault((id(first.scope), first.name), Group())
        for b in bindings:
            if b not in group.bindings:
                group.bindings.append(b)
        return group

    def visit_Call(self, node: cst.Call) -> None:
        callee = (get_full_name_for_node(node.func) or "").rsplit(".", 1)[-1]
        if callee in ("object", "setattr", "delattr") and len(node.args) >= 2:
            name = node.args[1].value
            if isinstance(name, cst.SimpleString) and isinstance(name.evaluated_value, str):
                self.facts.attr_patches.append((node.args[0].value, name.evaluated_value))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Call):
            string = module_string(node.value)
            if string is not None and string.evaluated_value in self.r.relocation.locations:
                self.facts.call_attrs.append((node, string, str(string.evaluated_value)))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        parent = self.r.parents.get(node)
        if isinstance(parent, cst.Expr):
            return  # docstrings and bare string statements are never references
        if self._annotation:
            self._annotations.append(node)
            return
        call_name: str | None = None
        index = -1
        if isinstance(parent, cst.Arg):
            call = self.r.parents.get(parent)
            if isinstance(call, cst.Call):
                call_name = get_full_name_for_node(call.func)
                index = list(call.args).index(parent) if parent.keyword is None else -1
        self.facts.strings.append((node, call_name, index))

    @staticmethod
    def _string_use(node: cst.SimpleString, start: int, head: str, rest: str, depth: int, target: Target) -> Use:
        """A use inside a string annotation: the span of `head.attrs` up to the target, and of its last name."""
        attrs = rest.split(".")[1:]
        end = start + len(".".join([head, *attrs[:depth]]))
        return Use(target, None, None, node, (start, end), (end - len(attrs[depth - 1]), end))

    def _annotation_string(self, node: cst.SimpleString) -> None:
        """String annotations: resolve each dotted chain in the string in the enclosing scope."""
        from codemods.rewrite._edits import string_content

        raw = string_content(node)
        if raw is None:
            return
        resolved_any = False
        for m in CHAIN.finditer(raw):
            head, rest = m.group(1), m.group(2)
            self.facts.names.add(head)
            bindings = self.r.visible(node, head)
            if not bindings:
                continue
            resolved_any = True
            self._reach(bindings, rest.split(".")[1:], partial(self._string_use, node, m.start(), head, rest))
        if not resolved_any:
            self.facts.strings.append((node, None, -1))
