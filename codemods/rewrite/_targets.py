"""What the rewrite looks for: old qualified names, their re-exports, and which files to parse."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from codemods import scan
from codemods.index._facts import module_statements
from codemods.scan import absolute_module
from codemods.types import Consolidation, MergeResult, ModelfoldError, SourceFile

# how a referencing file is rewritten, decided once per file by `mode_of`
RewriteMode = Literal["scoped", "bound_once", "statements"]
RefNode = tuple[ast.Import | ast.ImportFrom | ast.Constant, ast.AST | None, str, int]
ANNOTATION_FIELDS = frozenset({"annotation", "returns"})


@dataclass(frozen=True)
class FileMode:
    """How one referencing file is rewritten, decided once from its ast (`mode_of`)."""

    mode: RewriteMode
    aliases: frozenset[str] = frozenset()  # "bound_once": the names bound, each once, to a location


@dataclass(frozen=True)
class Target:
    """Where an old name lives now: module and name."""

    module: str
    name: str


@dataclass(frozen=True)
class Relocation:
    """What one consolidation relocates: old qualified names, their new home, the modules they leave."""

    canonical_module: str
    canonical_path: str
    # old qualified name (a duplicate's module + name, or a package re-exporting it) -> new home
    targets: dict[str, Target] = field(default_factory=dict)
    # modules whose attributes are targets: duplicates' modules and re-exporting packages
    locations: frozenset[str] = frozenset()
    old_modules: frozenset[str] = frozenset()


def base_targets(consolidation: Consolidation, merged: MergeResult) -> dict[str, Target]:
    """Old qualified names of every duplicate class and every moved name, mapped to their new home."""
    canonical = consolidation.canonical
    targets: dict[str, Target] = {}
    for dup in consolidation.duplicates:
        if dup.module == canonical.module:
            raise ModelfoldError(
                f"duplicate {dup.ref} lives in the canonical module {canonical.module}; "
                "nothing to re-export"
            )
        targets[f"{dup.module}.{dup.class_name}"] = Target(canonical.module, canonical.class_name)
    for moved in merged.moved:
        targets[f"{moved.from_module}.{moved.name}"] = Target(moved.to_module, moved.name)
    return targets


def add_reexports(
    targets: dict[str, Target], root: Path, files: Sequence[SourceFile], texts: dict[str, str]
) -> None:
    """Follow chains of package `__init__` re-exports: `pkg.Name` becomes another key for a target."""
    inits = [f for f in files if f.is_package]
    trees: dict[str, ast.Module | None] = {}
    changed = True
    while changed:
        changed = False
        names = {key.rsplit(".", 1)[1] for key in targets}
        for f in inits:
            text = _text(root, f.path, texts)
            if not scan.mentions_any(text, names) and "*" not in text:
                continue
            if f.path not in trees:
                trees[f.path] = ast_parse(text)
            tree = trees[f.path]
            if tree is None:
                continue
            for node in module_statements(tree.body):  # guarded re-exports too
                if not isinstance(node, ast.ImportFrom):
                    continue
                mod = absolute_module(f.module, True, node.level, node.module)
                if [a.name for a in node.names] == ["*"]:
                    for key in [k for k in targets if k.rsplit(".", 1)[0] == mod]:
                        new_key = f"{f.module}.{key.rsplit('.', 1)[1]}"
                        if not key.rsplit(".", 1)[1].startswith("_") and new_key not in targets:
                            targets[new_key] = targets[key]
                            changed = True
                    continue
                for alias in node.names:
                    key = f"{mod}.{alias.name}"
                    new_key = f"{f.module}.{alias.asname or alias.name}"
                    if key in targets and new_key not in targets:
                        targets[new_key] = targets[key]
                        changed = True


def relocation_of(
    consolidation: Consolidation,
    merged: MergeResult,
    root: Path,
    files: Sequence[SourceFile],
    texts: dict[str, str],
) -> Relocation:
    """Targets (with re-exports followed) and the locations they live at."""
    targets = base_targets(consolidation, merged)
    old_modules = frozenset(key.rsplit(".", 1)[0] for key in targets)
    add_reexports(targets, root, files, texts)
    locations = frozenset(key.rsplit(".", 1)[0] for key in targets)
    return Relocation(
        canonical_module=consolidation.canonical.module,
        canonical_path=consolidation.canonical.path,
        targets=targets,
        locations=locations,
        old_modules=old_modules,
    )


def prefilter(relocation: Relocation, text: str) -> bool:
    """Cheap text test: could this file name a target at all (a name needle and a module needle).

    Module evidence is a location's dotted path, a `from`/`import` of a package above it that
    names the next component (`from a.b import c`, `import a as m` + `.b`), or a relative import
    of one of its components. Conservative: a miss here would be a missed reference.
    """
    if any(key in text for key in relocation.targets):
        return True
    names = {key.rsplit(".", 1)[1] for key in relocation.targets}
    if not scan.mentions_any(text, names) and "import *" not in text:
        return False
    if any(loc in text for loc in relocation.locations):
        return True
    relative, above = _module_patterns(relocation.locations)
    if "from ." in text and relative.search(text):
        return True
    return any(
        imported.search(text) or (module.search(text) and attribute.search(text))
        for imported, module, attribute in above
    )


_IMPORTED = r"\s+import\s+(?:\([^)]*|[^\n]*)\b"  # `import x, c` or `import (\n x,\n c`


@lru_cache(maxsize=16)
def _module_patterns(
    locations: frozenset[str],
) -> tuple[re.Pattern[str], tuple[tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]], ...]]:
    """(relative-import pattern, [(from-import, plain import, attribute) per package above])."""
    parts = "|".join(sorted({re.escape(p) for loc in locations for p in loc.split(".")[1:]}))
    relative = re.compile(
        rf"from\s+\.+(?:[\w.]*\.)?(?:{parts})\b|from\s+\.+{_IMPORTED}(?:{parts})\b"
    )
    above = set()
    for loc in locations:
        split = loc.split(".")
        for i in range(1, len(split)):
            prefix, nxt = re.escape(".".join(split[:i])), re.escape(split[i])
            above.add((rf"from\s+{prefix}{_IMPORTED}{nxt}\b", rf"import\s+{prefix}\b", rf"\.{nxt}\b"))
    return relative, tuple(tuple(re.compile(x) for x in trio) for trio in sorted(above))  # type: ignore[misc]


def ast_refs(tree: ast.Module) -> list[RefNode]:
    """Every import, from-import and constant of a file, in one walk: (node, parent, callee,
    argument index); what `mode_of` and the statement-level rewrite read.

    `callee` is the last name of the call a constant is a direct argument of, as libcst's
    get_full_name_for_node spells it ("" when none, or inside an annotation); `index` its position
    among the positional arguments (-1 for a keyword argument or none).
    """
    found: list[RefNode] = []
    stack: list[tuple[ast.AST, ast.AST | None, bool, str, int]] = [(tree, None, False, "", -1)]
    while stack:
        node, parent, annotation, callee, index = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Constant)):
            found.append((node, parent, callee, index))
            continue
        if isinstance(node, ast.Call) and not annotation:
            name = _callee(node.func)
            stack.append((node.func, node, False, "", -1))
            stack.extend((kw.value, kw, False, name, -1) for kw in reversed(node.keywords))
            stack.extend((arg, node, False, name, i) for i, arg in reversed(list(enumerate(node.args))))
            continue
        for key, value in ast.iter_fields(node):
            inner = annotation or key in ANNOTATION_FIELDS
            if isinstance(value, ast.AST):
                stack.append((value, node, inner, "", -1))
            elif isinstance(value, list):
                stack.extend((item, node, inner, "", -1) for item in reversed(value) if isinstance(item, ast.AST))
    return found


def _callee(func: ast.expr) -> str:
    """The last component libcst's get_full_name_for_node would give the callee ("" for none)."""
    while True:
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
        if isinstance(func, ast.Call):
            func = func.func
        elif isinstance(func, ast.Subscript):
            func = func.value
        else:
            return ""


def _named(f: SourceFile, refs: list[RefNode]) -> Iterator[tuple[str, str]]:
    """(kind, dotted name) for each module imported, name imported from a module, and string."""
    for node, *_ in refs:
        if isinstance(node, ast.Import):
            yield from (("module", alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = absolute_module(f.module, f.is_package, node.level, node.module)
            if mod is not None:
                yield from (("from", f"{mod}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield "string", node.value


def mode_of(relocation: Relocation, f: SourceFile, tree: ast.Module, refs: list[RefNode]) -> FileMode | None:
    """How a parsed file must be rewritten (stdlib ast): None when it references no target at all
    (imports no location or target, names none in a string); "statements" when it binds no location
    (or a package above one) to a name, so only its import statements and strings can change;
    else "bound_once" (see `bound_once`) or "scoped" (libcst's ScopeProvider) name resolution."""
    named = list(_named(f, refs))
    if not any(_references(relocation, kind, name) for kind, name in named):
        return None
    if not any(_binds_location(relocation, kind, name) for kind, name in named):
        return FileMode("statements")
    aliases = bound_once(relocation, f, tree)
    return FileMode("scoped") if aliases is None else FileMode("bound_once", aliases)


def _references(relocation: Relocation, kind: str, name: str) -> bool:
    if kind == "module":
        return _related(name, relocation.locations)
    if kind == "from":
        return (
            name in relocation.targets or _related(name, relocation.locations)
            or (name.endswith(".*") and name[:-2] in relocation.locations)
        )
    return name in relocation.locations or any(key in name for key in relocation.targets)


def _binds_location(relocation: Relocation, kind: str, name: str) -> bool:
    """Only a binding of a location lets an attribute chain or a string annotation reach a target
    (importing the moved names themselves is rewritten from the import statement alone)."""
    if kind == "module":
        return _related(name, relocation.locations)
    if kind == "from":
        return any(name == loc or loc.startswith(name + ".") for loc in relocation.locations)
    return name in relocation.locations


def bound_once(relocation: Relocation, f: SourceFile, tree: ast.Module) -> frozenset[str] | None:
    """The names imports bind to a location (or a package above one), when each is bound exactly
    once in the whole file, by that import, and no string names a location (a lazy import);
    else None.

    Then every use of such a name is that import, and the libcst pass needs no scope metadata
    (FileContext.mode "bound_once"); uses of it where that import is not visible would be NameErrors.
    """
    relevant: set[str] = set()
    bound: dict[str, int] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.append(alias.asname or alias.name.split(".")[0])
                if _related(alias.name, relocation.locations):
                    relevant.add(names[-1])
        elif isinstance(node, ast.ImportFrom):
            mod = absolute_module(f.module, f.is_package, node.level, node.module)
            for alias in node.names:
                full = f"{mod}.{alias.name}"
                if alias.name == "*" and mod is not None and _related(mod, relocation.locations):
                    return None  # may bind a location's name
                names.append(alias.asname or alias.name)
                if any(full == loc or loc.startswith(full + ".") for loc in relocation.locations):
                    relevant.add(names[-1])
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.append(node.id)
        elif isinstance(node, ast.arg):
            names.append(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.extend(node.names)
        elif isinstance(node, ast.MatchMapping):
            names.extend([node.rest] if node.rest else [])
        elif isinstance(node, ast.Constant) and node.value in relocation.locations:
            return None
        elif not isinstance(node, ast.alias):  # defs, classes, `except E as e`, match captures, type parameters
            name = getattr(node, "name", None)
            names.extend([name] if isinstance(name, str) else [])
        for name in names:
            bound[name] = bound.get(name, 0) + 1
    return frozenset(relevant) if all(bound[name] == 1 for name in relevant) else None


def _related(name: str, locations: Iterable[str]) -> bool:
    """`name` is a location, a package above one, or a module below one."""
    return any(
        name == loc or loc.startswith(name + ".") or name.startswith(loc + ".") for loc in locations
    )


def ast_parse(text: str) -> ast.Module | None:
    """Parse with stdlib ast (the cheap "does it reference it" question); None when it fails."""
    try:
        return ast.parse(text.lstrip("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # MemoryError: nested too deep
        return None


def _text(root: Path, rel: str, texts: dict[str, str]) -> str:
    if rel not in texts:
        texts[rel] = scan.read_text(root, rel)
    return texts[rel]
