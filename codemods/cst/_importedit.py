"""Add needed imports without libcst's codemod machinery (`_importremove` drops unused ones).

`add_imports` does what libcst's `AddImportsVisitor` does for the imports we queue: a name already
imported by the module's top import block is left alone; a `from m import x [as y]` merges into the
first top-level `from m import ...` of that block, else it becomes a new statement at the end of the
block (after a docstring; `__future__` imports right after the docstring), `import m [as a]` too.

It only walks statements, never expressions, and does not import `libcst.codemod` or
`libcst.matchers` (a quarter second to import, and the visitors run scope analysis).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods.cst._namelists import keep_sorted
from codemods.types import ImportSpec

__all__ = ["ImportSpec", "add_imports", "alias_names", "from_module"]
_Stmt = cst.SimpleStatementLine | cst.BaseCompoundStatement

def _name(node: cst.CSTNode | None) -> str:
    return (get_full_name_for_node(node) or "") if node is not None else ""


def alias_names(alias: cst.ImportAlias) -> tuple[str, str | None]:
    """(imported name, local alias or None) of an import alias."""
    asname = alias.asname
    local = _name(asname.name) if asname is not None else None
    return _name(alias.name), local


def from_module(node: cst.ImportFrom) -> str | None:
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
                name, local = alias_names(alias)
                if local is not None:
                    have.aliases[name] = local
                else:
                    have.modules.add(name)
            continue
        mod = from_module(imp)
        if mod is None:
            continue
        if isinstance(imp.names, cst.ImportStar):
            have.objects[mod] = {"*"}
            continue
        pairs = [alias_names(a) for a in imp.names]
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
        mod = from_module(found)
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
