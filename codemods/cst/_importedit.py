"""Add needed imports and drop unused ones, without libcst's codemod machinery.

`add_imports` does what libcst's `AddImportsVisitor` does for the imports we queue: a name already
imported by the module's top import block is left alone; a `from m import x [as y]` merges into the
first top-level `from m import ...` of that block, else it becomes a new statement at the end of the
block (after a docstring; `__future__` imports right after the docstring), `import m [as a]` too.

`remove_unused_imports` does what `RemoveImportsVisitor` does: each listed `ImportSpec`
is removed from every import statement that spells it exactly, unless the name is still used, and a
statement that becomes empty goes. "Used" is read with stdlib `ast` from the module's text: a
loaded name anywhere (a local that shadows it counts too, so an import is kept rather than lost),
a string in `__all__`, or a name inside a string annotation. Relative and `__future__` imports are
never removed; star imports are never touched.

Both only walk statements, never expressions, and neither imports `libcst.codemod` or
`libcst.matchers` (a quarter second to import, and the visitors run scope analysis).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods.cst._namelists import keep_sorted
from codemods.types import ImportSpec

__all__ = ["ImportSpec", "add_imports", "remove_unused_imports", "used_names"]
_Stmt = cst.SimpleStatementLine | cst.BaseCompoundStatement

# statement containers: the only nodes whose children are walked when removing imports
_CONTAINERS = (
    cst.Module, cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.IndentedBlock, cst.If,
    cst.Else, cst.Try, cst.TryStar, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.For,
    cst.While, cst.With, cst.FunctionDef, cst.ClassDef, cst.Match, cst.MatchCase,
)


def _name(node: cst.CSTNode | None) -> str:
    return (get_full_name_for_node(node) or "") if node is not None else ""


def _alias_names(alias: cst.ImportAlias) -> tuple[str, str | None]:
    asname = alias.asname
    local = _name(asname.name) if asname is not None else None
    return _name(alias.name), local


def _from_module(node: cst.ImportFrom) -> str | None:
    """The absolute module of a from-import; None when relative (no package to resolve against)."""
    if node.relative:
        return None
    return _name(node.module)


# ---------------------------------------------------------------- adding


def _single_import(stmt: cst.CSTNode) -> cst.Import | cst.ImportFrom | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            return small
    return None


def _skip_first(module: cst.Module) -> bool:
    """A docstring or a `__strict__` flag comes first (imports never go above it)."""
    if not module.body:
        return False
    first = module.body[0]
    if not isinstance(first, cst.SimpleStatementLine) or len(first.body) != 1:
        return False
    small = first.body[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.SimpleString)
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        return isinstance(target, cst.Name) and target.value == "__strict__"
    return False


def _top_block(module: cst.Module) -> tuple[int, int]:
    """(start, end) of the leading block of one-import statements, after a docstring."""
    start = 1 if _skip_first(module) else 0
    end = start
    for stmt in module.body[start:]:
        if _single_import(stmt) is None:
            break
        end += 1
    return start, end


def _with_leading_gap(stmt: _Stmt) -> _Stmt:
    """At least one empty line before the first statement after the imports."""
    if not stmt.leading_lines:
        return stmt.with_changes(leading_lines=(cst.EmptyLine(),))
    if stmt.leading_lines[0].comment is None:
        return stmt
    return stmt.with_changes(leading_lines=(cst.EmptyLine(), *stmt.leading_lines))


@dataclass
class _ImportSet:
    """Imports by shape: `import m`, `import m as a`, `from m import o`, `from m import o as a`."""

    modules: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)  # module -> alias
    objects: dict[str, set[str]] = field(default_factory=dict)  # module -> names ("*": a star import)
    aliased: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # module -> (name, alias)

    def empty(self) -> bool:
        """Nothing left to import."""
        return not (self.modules or self.aliases or self.objects or self.aliased)


def _wanted(items: Sequence[ImportSpec]) -> _ImportSet:
    """The queued imports by shape (from-imports in module order)."""
    wanted = _ImportSet()
    for spec in items:
        if spec.module == "__future__" and (spec.obj is None or spec.asname is not None):
            raise ValueError("Cannot import __future__ directly or with an alias")
        if spec.obj is None and spec.asname is None:
            wanted.modules.add(spec.module)
        elif spec.obj is None and spec.asname is not None:
            wanted.aliases[spec.module] = spec.asname
    for spec in sorted(items, key=lambda s: s.module):
        if spec.obj is not None and spec.asname is None:
            wanted.objects.setdefault(spec.module, set()).add(spec.obj)
        elif spec.obj is not None:
            wanted.aliased.setdefault(spec.module, []).append((spec.obj, spec.asname))
    return wanted


def _present(block: Sequence[cst.Import | cst.ImportFrom]) -> _ImportSet:
    """What the top import block already imports (relative imports are not compared)."""
    have = _ImportSet()
    for imp in block:
        if isinstance(imp, cst.Import):
            for alias in imp.names:
                name, local = _alias_names(alias)
                if local is not None:
                    have.aliases[name] = local
                else:
                    have.modules.add(name)
            continue
        mod = _from_module(imp)
        if mod is None:
            continue
        if isinstance(imp.names, cst.ImportStar):
            have.objects[mod] = {"*"}
            continue
        pairs = [_alias_names(a) for a in imp.names]
        with_as = [(n, local) for n, local in pairs if local is not None]
        if with_as:
            have.aliased.setdefault(mod, []).extend(with_as)
        plain = {n for n, local in pairs if local is None}
        if plain and "*" not in have.objects.get(mod, set()):
            have.objects.setdefault(mod, set()).update(plain)
    return have


def _drop_present(wanted: _ImportSet, have: _ImportSet) -> None:
    """Leave in `wanted` only what `have` does not import yet."""
    wanted.modules -= have.modules
    for mod, local in have.aliases.items():
        if wanted.aliases.get(mod) == local:
            del wanted.aliases[mod]
    for mod, pairs in have.aliased.items():
        for pair in pairs:
            if pair in wanted.aliased.get(mod, []):
                wanted.aliased[mod].remove(pair)
                if not wanted.aliased[mod]:
                    del wanted.aliased[mod]
    for mod, names in have.objects.items():
        if mod not in wanted.objects:
            continue
        if "*" in names:
            del wanted.objects[mod]
        else:
            wanted.objects[mod] -= names
            if not wanted.objects[mod]:
                del wanted.objects[mod]


def _merge_into_block(body: list[_Stmt], start: int, end: int, wanted: _ImportSet) -> None:
    """Merge wanted from-imports into the first top-block `from m import ...` of each module
    (taking them out of `wanted`); sorted name lists stay sorted."""
    for i in range(start, end):
        found = _single_import(body[i])
        if not isinstance(found, cst.ImportFrom) or isinstance(found.names, cst.ImportStar):
            continue
        mod = _from_module(found)
        if mod is None or (mod not in wanted.objects and mod not in wanted.aliased):
            continue
        new_names = [cst.ImportAlias(name=cst.Name(o)) for o in sorted(wanted.objects.pop(mod, set()))]
        new_names += [
            cst.ImportAlias(name=cst.Name(o), asname=cst.AsName(name=cst.Name(a)))
            for o, a in sorted(wanted.aliased.pop(mod, []), key=lambda p: (p[0], p[1] or ""))
            if a is not None
        ]
        merged = keep_sorted(found, found.with_changes(names=[*new_names, *found.names]))
        line = body[i]
        assert isinstance(line, cst.SimpleStatementLine)
        body[i] = line.with_changes(body=[merged])


def _with_new_statements(
    body: list[_Stmt], start: int, end: int, wanted: _ImportSet, config: cst.PartialParserConfig
) -> list[_Stmt]:
    """The body with a statement for each import still wanted: `__future__` ones right after the
    docstring, the rest at the end of the top block."""
    before = body[: 1 if start else 0]
    until = body[len(before):end]
    after = body[end:]
    if after:
        after[0] = _with_leading_gap(after[0])
    froms: dict[str, list[tuple[str, str | None]]] = {}
    for mod, pairs in wanted.aliased.items():
        froms.setdefault(mod, []).extend(pairs)
    for mod, names in wanted.objects.items():
        froms.setdefault(mod, []).extend((o, None) for o in names)

    def from_line(mod: str, pairs: list[tuple[str, str | None]]) -> _Stmt:
        ordered = sorted(pairs, key=lambda p: (p[0], p[1] or ""))
        listed = ", ".join(o if a is None else f"{o} as {a}" for o, a in ordered)
        return cst.parse_statement(f"from {mod} import {listed}", config=config)

    return [
        *before,
        *(from_line(mod, pairs) for mod, pairs in froms.items() if mod == "__future__"),
        *until,
        *(cst.parse_statement(f"import {mod}", config=config) for mod in sorted(wanted.modules)),
        *(cst.parse_statement(f"import {mod} as {a}", config=config) for mod, a in wanted.aliases.items()),
        *(from_line(mod, pairs) for mod, pairs in froms.items() if mod != "__future__"),
        *after,
    ]


def add_imports(tree: cst.Module, needed: Iterable[ImportSpec]) -> cst.Module:
    """The module with `needed` imports present (AddImportsVisitor's placement and merging)."""
    wanted = _wanted(list(needed))
    start, end = _top_block(tree)
    _drop_present(wanted, _present([i for i in (_single_import(s) for s in tree.body[start:end]) if i is not None]))
    body = list(tree.body)
    _merge_into_block(body, start, end, wanted)
    if wanted.empty():
        return tree.with_changes(body=body)
    return tree.with_changes(body=_with_new_statements(body, start, end, wanted, tree.config_for_parsing))


# ---------------------------------------------------------------- removing


def used_names(text: str) -> set[str] | None:
    """Names a module still uses (loaded names, `__all__` strings, string annotations); None if
    `ast` cannot read it."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    used: set[str] = set()
    annotations: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Store):
                used.add(node.id)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                used |= _strings(node.value)
            if isinstance(node, ast.AnnAssign):
                annotations.append(node.annotation)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            annotations.append(node.returns)
        elif isinstance(node, ast.Call) and _name_of(node.func).endswith("TypeVar"):
            annotations.extend([*node.args, *(k.value for k in node.keywords)])
    for annotation in annotations:
        for inner in ast.walk(annotation):
            if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                used |= _string_annotation_names(inner.value)
    return used


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _strings(node: ast.expr) -> set[str]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def _string_annotation_names(value: str) -> set[str]:
    try:
        expr = ast.parse(value.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return set()
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _local_top(alias: cst.ImportAlias) -> str:
    """The name an import alias binds (`import a.b` binds `a`)."""
    name, local = _alias_names(alias)
    return local if local is not None else name.split(".")[0]


class _Remover(cst.CSTTransformer):
    def __init__(self, items: Sequence[ImportSpec], used: set[str] | None) -> None:
        super().__init__()
        self.modules: dict[str, str | None] = {s.module: s.asname for s in items if s.obj is None}
        self.objects: dict[str, set[tuple[str, str | None]]] = {}
        for spec in items:
            if spec.obj is not None:
                self.objects.setdefault(spec.module, set()).add((spec.obj, spec.asname))
        self.used = used
        self.found = False  # a candidate exists (used is None on the dry pass)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return isinstance(node, _CONTAINERS)

    def _unused(self, alias: cst.ImportAlias) -> bool:
        self.found = True
        return self.used is not None and _local_top(alias) not in self.used

    def leave_Import(
        self, original_node: cst.Import, updated_node: cst.Import
    ) -> cst.Import | cst.RemovalSentinel:
        keep = []
        for alias in original_node.names:
            name, local = _alias_names(alias)
            if name not in self.modules or self.modules[name] != local or not self._unused(alias):
                keep.append(alias)
        if len(keep) == len(original_node.names):
            return updated_node
        if not keep:
            return cst.RemoveFromParent()
        if keep[-1] is not original_node.names[-1]:
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=keep)

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        names = original_node.names
        module = _from_module(original_node)
        if isinstance(names, cst.ImportStar) or module is None or module == "__future__":
            return updated_node
        wanted = self.objects.get(module)
        if not wanted:
            return updated_node
        keep: list[cst.ImportAlias] = []
        lpar = updated_node.lpar
        for alias in names:
            if _alias_names(alias) not in wanted or not self._unused(alias):
                keep.append(alias)
                continue
            # comments after the removed alias's comma move to the previous alias (or the paren)
            comma = alias.comma
            if not isinstance(comma, cst.Comma):
                continue
            if keep:
                prev = keep[-1]
                if isinstance(prev.comma, cst.Comma):
                    prev = prev.with_deep_changes(
                        prev.comma, whitespace_after=_merge_whitespace_after(
                            prev.comma.whitespace_after, comma.whitespace_after))
                else:
                    prev = prev.with_changes(comma=comma)
                keep[-1] = prev
            elif isinstance(lpar, cst.LeftParen):
                lpar = lpar.with_changes(
                    whitespace_after=_merge_whitespace_after(lpar.whitespace_after, comma.whitespace_after))
        if len(keep) == len(names):
            return updated_node
        if not keep:
            return cst.RemoveFromParent()
        if keep[-1] is not names[-1]:
            # the last alias went: no trailing comma (a comment moved onto that comma goes too)
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=keep, lpar=lpar)


def _merge_whitespace_after(
    left: cst.BaseParenthesizableWhitespace, right: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    if not isinstance(right, cst.ParenthesizedWhitespace):
        return left
    if not isinstance(left, cst.ParenthesizedWhitespace):
        return right
    return left.with_changes(empty_lines=tuple(line for line in right.empty_lines if line.comment is not None))


def remove_unused_imports(tree: cst.Module, unused: Iterable[ImportSpec]) -> cst.Module:
    """The module without the listed imports that nothing uses any more (RemoveImportsVisitor)."""
    items = list(unused)
    if not items:
        return tree
    probe = _Remover(items, None)
    tree.visit(probe)
    if not probe.found:
        return tree
    used = used_names(tree.code)
    if used is None:
        return tree
    return tree.visit(_Remover(items, used))
