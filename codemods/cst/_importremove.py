"""Drop unused imports without libcst's codemod machinery.

`remove_unused_imports` does what `RemoveImportsVisitor` does: each listed `ImportSpec`
is removed from every import statement that spells it exactly, unless the name is still used, and a
statement that becomes empty goes. "Used" is read with stdlib `ast` from the module's text: a
loaded name anywhere (a local that shadows it counts too, so an import is kept rather than lost),
a string in `__all__`, or a name inside a string annotation. Relative and `__future__` imports are
never removed; star imports are never touched.

It only walks statements, never expressions, and imports neither `libcst.codemod` nor
`libcst.matchers` (a quarter second to import, and the visitors run scope analysis).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

import libcst as cst

from codemods.cst._importedit import alias_names, from_module
from codemods.types import ImportSpec

__all__ = ["remove_unused_imports", "used_names"]

# statement containers: the only nodes whose children are walked when removing imports
_CONTAINERS = (
    cst.Module, cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.IndentedBlock, cst.If,
    cst.Else, cst.Try, cst.TryStar, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.For,
    cst.While, cst.With, cst.FunctionDef, cst.ClassDef, cst.Match, cst.MatchCase,
)


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
    name, local = alias_names(alias)
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
            name, local = alias_names(alias)
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
        module = from_module(original_node)
        if isinstance(names, cst.ImportStar) or module is None or module == "__future__":
            return updated_node
        wanted = self.objects.get(module)
        if not wanted:
            return updated_node
        keep: list[cst.ImportAlias] = []
        lpar = updated_node.lpar
        for alias in names:
            if alias_names(alias) not in wanted or not self._unused(alias):
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
