"""Rewrite stage: the canonical module, a re-export shim per duplicate module, every reference.

Only files that could reference a duplicate are parsed: git grep (in a git work tree) and a text
prefilter (module path or its last component, and a moved name), then stdlib `ast` (does it
import a location or name a target in a string). What then happens to a referencing file
depends on how it binds the old module (`_targets.mode_of`):
- not at all (it imports moved names, names them in strings): statement by statement;
- each such name bound once ("bound_once"): no scope metadata, and libcst sees only the top-level
  statements that can matter (both in `_statements`);
- otherwise ("scoped"): the whole file with libcst's ScopeProvider.
Flat and full files go to worker processes when there are many.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import libcst as cst

from codemods import scan
from codemods.cst._isort import load_style
from codemods.cst._placement import place_imports
from codemods.rewrite._mentions import DOCS_PATHSPECS, find_mentions
from codemods.rewrite._planner import rewrite_source
from codemods.rewrite._refs import FileContext
from codemods.rewrite._shim import ShimSpec, build_shim
from codemods.rewrite._statements import rewrite_reduced, rewrite_statements
from codemods.rewrite._targets import (
    RefNode,
    Relocation,
    Target,
    ast_parse,
    ast_refs,
    mode_of,
    prefilter,
    relocation_of,
)
from codemods.scan import absolute_module
from codemods.types import (
    Changeset,
    Consolidation,
    FileChange,
    MergeResult,
    ModelfoldError,
    Skipped,
    SourceFile,
)

__all__ = ["rewrite"]

PARALLEL_FROM = 64  # files to parse before worker processes pay for themselves
RELATIVE_IMPORT = re.compile(r"^\s*from\s+\.+[\w.]*\s+import\b", re.MULTILINE)


def rewrite(
    consolidation: Consolidation,
    merged: MergeResult,
    root: Path,
    files: Sequence[SourceFile],
    *,
    warn_on_import: bool = False,
    jobs: int = 0,
    texts: dict[str, str] | None = None,
) -> Changeset:
    """The Changeset of one consolidation: canonical module, shims, and every referencing file.

    `jobs`: worker processes for the libcst pass (0: one per CPU, up to 8, when there are at
    least PARALLEL_FROM files to parse; 1: in this process). The output does not depend on it.
    `texts`: the files' texts already read (path -> text), so the tree is read only once.
    """
    texts = {} if texts is None else texts
    relocation = relocation_of(consolidation, merged, root, files, texts)
    by_path = {f.path: f for f in files}
    canonical_path = merged.canonical_path or consolidation.canonical.path
    shim_paths = sorted({d.path for d in consolidation.duplicates})
    changes: list[FileChange] = []
    warnings: list[str] = []
    parsed: list[str] = []
    skipped: list[Skipped] = []

    canonical = by_path.get(canonical_path)
    ctx = FileContext(
        canonical_path, consolidation.canonical.module, bool(canonical and canonical.is_package), True
    )
    after = _rewrite_text(merged.canonical_text, ctx, relocation, warnings)
    parsed.append(canonical_path)
    before = _read(root, canonical_path, texts)
    if after != before:
        changes.append(FileChange(canonical_path, before, after, "canonical model merged, references"))

    for path in shim_paths:
        change = _shim(consolidation, merged, relocation, root, path, texts, warn_on_import, warnings)
        parsed.append(path)
        if change is not None:
            changes.append(change)

    work: list[tuple[FileContext, str, ast.Module]] = []  # "bound_once" and "scoped" files
    rewritten: list[tuple[str, str, str, list[str]]] = []  # path, text, new text, warnings
    # every file `prefilter` can pass names a moved name or star-imports: let git grep find them
    # (and, in the same call, the docs/config files that may mention an old location)
    names = [key.rsplit(".", 1)[1] for key in relocation.targets]
    hits = scan.grep_files(root, [*names, "import *"], ["*.py", *DOCS_PATHSPECS])
    candidates = files if hits is None else [by_path[path] for path in hits if path in by_path]
    for f in sorted(candidates, key=lambda f: f.path):
        if f.path == canonical_path or f.path in shim_paths:
            continue
        try:
            text = texts.get(f.path) or scan.read_text(root, f.path)
        except UnicodeDecodeError:
            raw = (root / f.path).read_bytes().decode("latin-1")
            if _may_reference(relocation, raw):
                raise ModelfoldError(f"{f.path}: not UTF-8, and it references a moved name") from None
            skipped.append(Skipped(f.path, "not UTF-8, and no reference to a moved name seen"))
            continue
        if not prefilter(relocation, text):
            continue
        tree = ast_parse(text)
        if tree is None:
            if _may_reference(relocation, text):
                raise ModelfoldError(f"{f.path}: cannot parse it, and it references a moved name")
            skipped.append(Skipped(f.path, "cannot parse it, and no reference to a moved name seen"))
            continue
        refs = ast_refs(tree)
        mode = mode_of(relocation, f, tree, refs)
        if mode is None:
            continue
        ctx = FileContext(f.path, f.module, f.is_package, False, mode.mode, mode.aliases)
        if mode.mode == "statements":  # cheap, and most files: here, not in a worker
            rewritten.append((ctx.path, text, *_rewrite_file(text, ctx, relocation, tree, refs)))
        else:
            work.append((ctx, text, tree))
    rewritten.extend(
        (ctx.path, text, *result)
        for (ctx, text, _), result in zip(work, _rewrite_many(work, relocation, jobs), strict=True)
    )
    for path, text, new, found in sorted(rewritten):
        warnings.extend(found)
        parsed.append(path)
        if new != text:
            changes.append(FileChange(path, text, new, "references rewritten to the canonical module"))

    style = load_style(root, {f.module.split(".")[0] for f in files if f.module})
    changes = [
        replace(c, after=place_imports(c.before or "", c.after, style)) if c.path.endswith(".py") else c
        for c in changes
    ]
    needles = [n for key in relocation.targets for n in (key, ":".join(key.rsplit(".", 1)))]
    return Changeset(
        changes=tuple(sorted(changes, key=lambda c: c.path)),
        warnings=tuple(warnings),
        mentions=find_mentions(root, needles, None if hits is None else {h for h in hits if not h.endswith(".py")}),
        parsed=tuple(sorted(set(parsed))),
        skipped=tuple(skipped),
    )


def _rewrite_many(
    work: Sequence[tuple[FileContext, str, ast.Module]], relocation: Relocation, jobs: int
) -> list[tuple[str, list[str]]]:
    """(new text, warnings) per file, in order; in worker processes when the batch is large
    (they parse the ast again rather than receive it)."""
    workers = jobs or (min(os.cpu_count() or 1, 8) if len(work) >= PARALLEL_FROM else 1)
    if workers <= 1 or len(work) < 2:
        return [_rewrite_file(text, ctx, relocation, tree) for ctx, text, tree in work]
    from concurrent.futures import ProcessPoolExecutor  # multiprocessing loads only when used

    chunk = max(1, len(work) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        texts = [text for _, text, _ in work]
        ctxs = [ctx for ctx, _, _ in work]
        return list(pool.map(_rewrite_file, texts, ctxs, [relocation] * len(work), chunksize=chunk))


def _rewrite_file(
    text: str, ctx: FileContext, relocation: Relocation, tree: ast.Module | None = None,
    refs: list[RefNode] | None = None,
) -> tuple[str, list[str]]:
    """(new text, warnings) of one file in the mode decided for it (`ctx.mode`): the shortcut that
    mode allows, else (the shortcut declines, or "scoped") the whole-file libcst pass. `tree` and
    `refs` spare parsing again; a worker process gets neither and parses only for a shortcut."""
    done = None
    if ctx.mode == "statements":
        tree = tree or ast_parse(text)
        if tree is not None:
            done = rewrite_statements(text, ctx, relocation, ast_refs(tree) if refs is None else refs)
    elif ctx.mode == "bound_once":
        tree = tree or ast_parse(text)
        done = rewrite_reduced(text, ctx, relocation, tree, ctx.aliases) if tree is not None else None
    if done is not None:
        return done
    found: list[str] = []
    return _rewrite_parsed(text, ctx, relocation, found), found


def _rewrite_text(text: str, ctx: FileContext, relocation: Relocation, warnings: list[str]) -> str:
    """One file (the canonical module, a shim) rewritten here and now, in its mode (`mode_of`)."""
    tree = ast_parse(text)
    if tree is None:
        return _rewrite_parsed(text, ctx, relocation, warnings)
    refs = ast_refs(tree)
    mode = mode_of(relocation, SourceFile(ctx.path, ctx.module, ctx.is_package), tree, refs)
    if mode is None:
        return text
    new, found = _rewrite_file(text, replace(ctx, mode=mode.mode, aliases=mode.aliases), relocation, tree, refs)
    warnings.extend(found)
    return new


def _rewrite_parsed(text: str, ctx: FileContext, relocation: Relocation, warnings: list[str]) -> str:
    try:
        new, found = rewrite_source(text, ctx, relocation)
    except cst.ParserSyntaxError as exc:
        line = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise ModelfoldError(f"{ctx.path}: cannot parse it ({line}), and it must change") from None
    warnings.extend(found)
    return new


def _shim(
    consolidation: Consolidation,
    merged: MergeResult,
    relocation: Relocation,
    root: Path,
    path: str,
    texts: dict[str, str],
    warn_on_import: bool,
    warnings: list[str],
) -> FileChange | None:
    """The old module as a shim re-exporting the duplicate class and the names moved out of it."""
    dups = [d for d in consolidation.duplicates if d.path == path]
    module = dups[0].module
    canonical = consolidation.canonical
    names = {d.class_name: Target(canonical.module, canonical.class_name) for d in dups}
    for moved in merged.moved:
        if moved.from_module == module:
            names[moved.name] = Target(moved.to_module, moved.name)
    still = _imports_from(merged.canonical_text, canonical.module, module) - set(names)
    if still:
        warnings.append(
            f"{merged.canonical_path} still imports {', '.join(sorted(still))} from {module}: "
            "an import cycle with the shim; move those names to the canonical module too"
        )
    models = tuple(sorted(d.class_name for d in dups))
    spec = ShimSpec(module, names, models, warn_on_import, cycle=bool(still))
    before = _read(root, path, texts)
    if before is None:
        raise ModelfoldError(f"{path}: the duplicate's module does not exist")
    try:
        after, found = build_shim(before, spec)
    except cst.ParserSyntaxError:
        raise ModelfoldError(f"{path}: cannot parse the duplicate's module") from None
    warnings.extend(found)
    if after == before:
        if canonical.module not in before:
            warnings.append(f"{path}: {', '.join(spec.models)} not defined here; no shim written")
        return None
    ctx = FileContext(path, module, path.endswith("__init__.py"), False)
    after = _rewrite_text(after, ctx, relocation, warnings)
    return FileChange(path, before, after, f"re-export shim for {', '.join(sorted(names))}")


def _imports_from(text: str, module: str, source: str) -> set[str]:
    """Names the (canonical) module's text imports from `source` (absolute or relative)."""
    tree = ast_parse(text)
    found: set[str] = set()
    for node in ast.walk(tree) if tree is not None else []:
        if isinstance(node, ast.ImportFrom):
            if absolute_module(module, False, node.level, node.module) == source:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import) and any(a.name == source for a in node.names):
            found.add(source)
    return found


def _read(root: Path, rel: str, texts: dict[str, str]) -> str | None:
    if rel not in texts:
        if not (root / rel).is_file():
            return None
        try:
            texts[rel] = scan.read_text(root, rel)
        except UnicodeDecodeError:
            raise ModelfoldError(f"{rel}: not UTF-8, and the consolidation must change it") from None
    return texts[rel]


def _may_reference(relocation: Relocation, text: str) -> bool:
    """For a file that cannot be parsed: does its text name a target or import a location."""
    if any(key in text for key in relocation.targets) or any(loc in text for loc in relocation.locations):
        return True
    names = {key.rsplit(".", 1)[1] for key in relocation.targets}
    return bool(RELATIVE_IMPORT.search(text)) and scan.mentions_any(text, names)
