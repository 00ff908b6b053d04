"""Plan a migration: validate the refs, merge the classes, rewrite every reference."""

from __future__ import annotations

import ast
import dataclasses
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from codemods import scan
from codemods.detect import detect
from codemods.diff import keep_endings, trim_added_whitespace, write_changes
from codemods.index import find_model, index_files
from codemods.merge import merge
from codemods.progress import NO_PROGRESS, Progress
from codemods.rewrite import rewrite
from codemods.safety._checks import refuse_unreadable
from codemods.schema._delta import schema_delta
from codemods.types import (
    AutoPlan,
    ConflictPolicy,
    Consolidation,
    DuplicateGroup,
    Migration,
    ModelDef,
    ModelfoldError,
    ModelIndex,
    SkippedGroup,
    SourceFile,
)

__all__ = ["AutoPlan", "Migration", "NothingToDo", "plan_auto", "plan_consolidation", "plan_groups",
           "plan_migration"]


class NothingToDo(ModelfoldError):
    """The duplicates are already folded into the canonical class (a second run)."""


def plan_consolidation(
    root: Path, consolidation: Consolidation, *, excludes: Sequence[str] = (),
    warn_on_import: bool = False, files: Sequence[SourceFile] | None = None,
    index: ModelIndex | None = None, texts: dict[str, str] | None = None,
) -> Migration:
    """Merge and rewrite one consolidation on the tree below root (nothing is written).

    `files`, `index` and the `texts` read for it, when the caller has them, spare a second scan
    and a second reading of the tree.
    """
    files = scan.source_files(root, excludes) if files is None else files
    merged = merge(consolidation, root, index)
    changeset = rewrite(consolidation, merged, root, files, warn_on_import=warn_on_import, texts=texts)
    warnings = metadata_warnings(consolidation)
    if warnings:
        changeset = dataclasses.replace(changeset, warnings=(*warnings, *changeset.warnings))
    migration = Migration(consolidation, merged, changeset, schema_delta(consolidation, merged))
    return _one_registry(root, migration, files, index)


def _one_registry(root: Path, migration: Migration, files: Sequence[SourceFile],
                  index: ModelIndex | None) -> Migration:
    """Rename registry strings naming a renamed duplicate, move the duplicate's dependents to the
    canonical registry, then prove every reference resolves.

    Raises CannotMove or UnresolvedReferences (nothing written) when the change cannot configure.
    """
    from codemods.merge._rebase import rebase_dependents
    from codemods.merge._resolve import check_resolves
    from codemods.rewrite._registry_names import rename_registry_strings

    index = index_files(root, files, importers=False) if index is None else index
    consolidation = migration.consolidation
    changeset = rename_registry_strings(consolidation, migration.changeset, root, index,
                                        migration.merge.canonical_path or consolidation.canonical.path)
    changeset, moves = rebase_dependents(consolidation, migration.merge, changeset, root, files, index)
    changeset = replace(changeset, changes=tuple(trim_added_whitespace(c) for c in changeset.changes))
    if moves:  # the dependents' modules changed too: their imports where the project's sorter puts them
        from codemods.cst._isort import load_style
        from codemods.cst._placement import place_imports

        style = load_style(root, {f.module.split(".")[0] for f in files if f.module})
        changeset = replace(changeset, changes=tuple(
            replace(c, after=place_imports(c.before or "", c.after, style)) if c.path.endswith(".py") else c
            for c in changeset.changes
        ))
    check_resolves(root, files, changeset, index)
    return replace(migration, changeset=keep_endings(root, changeset), registry_moves=moves)


def metadata_warnings(consolidation: Consolidation) -> tuple[str, ...]:
    """One warning per duplicate mapped on another MetaData (or registry) than the canonical class."""
    canon = consolidation.canonical
    out = []
    for dup in consolidation.duplicates:
        if dup.metadata is not None and canon.metadata is not None and dup.metadata != canon.metadata:
            out.append(f"{dup.ref} is on MetaData {dup.metadata} and {canon.ref} on {canon.metadata}: the "
                       f"tables did not clash at run time; after the merge only {canon.metadata} has "
                       f"{canon.table!r}")
        elif dup.registry is not None and canon.registry is not None and dup.registry != canon.registry:
            out.append(f"{dup.ref} is in registry {dup.registry} and {canon.ref} in {canon.registry}: "
                       f"relationships naming {dup.class_name!r} now resolve in {canon.registry}")
    return tuple(out)


def plan_migration(
    root: Path, canonical: str, duplicates: Sequence[str], *,
    policy: ConflictPolicy = ConflictPolicy.KEEP_CANONICAL, excludes: Sequence[str] = (),
    warn_on_import: bool = False, progress: Progress = NO_PROGRESS,
) -> Migration:
    """Validate `module:Class` refs and plan folding each duplicate into canonical."""
    root = scan.resolve_root(root)
    if not duplicates:
        raise ModelfoldError("give at least one DUPLICATE model (dotted.module:ClassName)")
    if canonical in duplicates:
        raise ModelfoldError(f"the canonical class {canonical} is also given as a duplicate")
    repeated = sorted({d for d in duplicates if list(duplicates).count(d) > 1})
    if repeated:
        raise ModelfoldError(f"duplicate given twice: {repeated[0]}")
    scan.refuse_linked_refs(root, [canonical, *duplicates])
    progress.phase(f"scanning for {canonical}", None)
    files = scan.source_files(root, excludes)
    texts: dict[str, str] = {}
    index = index_files(root, files, texts, importers=False)
    refuse_unreadable(index.skipped)
    canon = _class_model(find_model(index, canonical))
    found: list[ModelDef] = []
    done: list[str] = []
    for ref in duplicates:
        try:
            found.append(_class_model(find_model(index, ref)))
        except ModelfoldError:
            if not _reexports(root, index, ref, canon):
                raise
            done.append(ref)
    if not found:
        raise NothingToDo(f"{', '.join(done)} already re-exports {canonical}")
    same = [d.ref for d in found if (d.path, d.line) == (canon.path, canon.line)]
    if same:
        raise ModelfoldError(f"{same[0]} is the canonical class itself, imported under another name")
    for dup in found:
        if dup.table != canon.table:
            raise ModelfoldError(
                f"{dup.ref} maps table {dup.table!r} but {canon.ref} maps {canon.table!r}: "
                "only models of one table are merged")
    reason = unmergeable([canon, *found])
    if reason is not None:
        raise ModelfoldError(f"cannot fold {', '.join(d.ref for d in found)} into {canon.ref}: {reason}")
    progress.phase(f"merging and rewriting references to {', '.join(d.ref for d in found)}", None)
    return plan_consolidation(root, Consolidation(canon, tuple(found), policy), excludes=excludes,
                              warn_on_import=warn_on_import, files=files, index=index, texts=texts)


def _class_model(model: ModelDef) -> ModelDef:
    if model.kind != "class":
        raise ModelfoldError(f"{model.ref} is an imperative Table, not a model class")
    return model


def _reexports(root: Path, index: ModelIndex, ref: str, canon: ModelDef) -> bool:
    """True when module `ref` names only re-exports the canonical class (a finished migration)."""
    module, _, name = ref.partition(":")
    files = [f for f in scan.source_files(root) if f.module == module]
    if not files:
        return False
    try:
        tree = ast.parse(scan.read_text(root, files[0].path).lstrip("\ufeff"))
    except (SyntaxError, ValueError, OSError):
        return False
    package = module if files[0].is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = node.module or ""
        if node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            source = ".".join([*base, source] if source else base)
        if source == canon.module and any(
            a.name == canon.class_name and (a.asname or a.name) == name for a in node.names
        ):
            return True
    return False


def _group_key(group: DuplicateGroup) -> tuple[str, str, str, str]:
    return (group.key, group.table or "", group.class_name, group.scope or "")


def group_label(group: DuplicateGroup) -> str:
    """A group named in one line: `table 'users'` or `class 'User' in <registry>`."""
    if group.key == "table":
        return f"table {group.table!r}"
    return f"class {group.class_name!r} in {group.scope}"


def unmigratable(group: DuplicateGroup) -> str | None:
    """Why `--auto` cannot fold this group (None when it can): the shapes it refuses rather than guesses."""
    if group.across_metadata:
        return ("one table name in different MetaData objects (no clash at run time); "
                "migrate it explicitly if they model one table")
    return unmergeable(group.models)


def unmergeable(models: Sequence[ModelDef]) -> str | None:
    """Why these models cannot be folded into one class (None when they can), in one line."""
    tables = [m.ref for m in models if m.kind == "table"]
    if tables:
        return (f"imperative Table(...) definitions ({', '.join(tables)}) are not merged; "
                "keep one Table and import it where the others are")
    mapped = [m.ref for m in models if any(x.name == "__table__" for x in m.members)]
    if mapped:
        return (f"{', '.join(mapped)} maps an imperative Table through __table__; such classes are "
                "not merged: fold the Table's columns in by hand")
    modules = Counter(m.module for m in models)
    twice = sorted(mod for mod, count in modules.items() if count > 1)
    if twice:
        names = {m.class_name for m in models if m.module == twice[0]}
        if len(names) == 1:
            return (f"class {names.pop()} is defined twice in module {twice[0]}; the later definition "
                    "replaces the earlier one at import: delete one by hand")
        return (f"{' and '.join(sorted(names))} map one table in module {twice[0]}; folding classes "
                "within one module is not supported: keep one by hand")
    if len({m.table for m in models}) > 1:
        return "the classes map different tables; only models of one table are merged"
    return None


def _plan_group(
    root: Path, group: DuplicateGroup, policy: ConflictPolicy, excludes: Sequence[str],
    warn_on_import: bool,
) -> Migration:
    canon = next(m for m in group.models if m.ref == group.canonical)
    dups = tuple(m for m in group.models if m.ref != group.canonical)
    return plan_consolidation(root, Consolidation(canon, dups, policy), excludes=excludes,
                              warn_on_import=warn_on_import)


def plan_groups(
    root: Path, *, policy: ConflictPolicy = ConflictPolicy.KEEP_CANONICAL,
    excludes: Sequence[str] = (), warn_on_import: bool = False, strict: bool = False,
    progress: Progress = NO_PROGRESS,
) -> AutoPlan:
    """Plan every detected group (recommended canonical); skip, with the reason, those it cannot fold.

    Each group after the first is planned on a scratch copy of the tree as the previous
    migrations left it, so their changesets chain (combine them with `diff.combine`). A group
    that cannot be folded is skipped and the others go on; with `strict` it is refused instead.
    A merge conflict under the `fail` policy always stops the run.
    """
    from codemods.merge import MergeConflictError
    from codemods.merge._target import refuse_before_2

    root = scan.resolve_root(root)
    refuse_before_2(root)  # a project-wide refusal, not a reason to skip each group
    progress.phase("scanning for duplicate models", None)
    detection = detect(root, excludes)
    refuse_unreadable(detection.index.skipped)  # a file it cannot read may name any group's class
    groups = detection.groups
    migrations: list[Migration] = []
    skipped: list[SkippedGroup] = []

    def attempt(tree: Path, group: DuplicateGroup) -> Migration | None:
        reason = unmigratable(group)
        if reason is None:
            try:
                return _plan_group(tree, group, policy, excludes, warn_on_import)
            except MergeConflictError:
                raise
            except ModelfoldError as exc:
                reason = str(exc)
        if strict:
            raise ModelfoldError(f"{group_label(group)} cannot be migrated: {reason}")
        skipped.append(SkippedGroup(group_label(group), tuple(m.ref for m in group.models), reason,
                                    group.across_metadata))
        return None

    progress.phase("planning each group", len(groups))
    if len(groups) <= 1:
        planned = [attempt(root, g) for g in groups]
        return AutoPlan(tuple(m for m in planned if m is not None), tuple(skipped))
    with tempfile.TemporaryDirectory(prefix="modelfold-auto-") as tmp:
        scratch = Path(tmp) / "tree"
        _copy_tree(root, scratch)
        for key in [_group_key(g) for g in groups]:
            progress.advance(f"table {key[1]}" if key[1] else f"class {key[2]}")
            current = {_group_key(g): g for g in detect(scratch, excludes).groups}
            group = current.get(key)
            if group is None:  # folded away by an earlier migration
                continue
            migration = attempt(scratch, group)
            if migration is not None:
                write_changes(scratch, migration.changeset)
                migrations.append(migration)
    return AutoPlan(tuple(migrations), tuple(skipped))


def plan_auto(
    root: Path, *, policy: ConflictPolicy = ConflictPolicy.KEEP_CANONICAL,
    excludes: Sequence[str] = (), warn_on_import: bool = False,
) -> list[Migration]:
    """The migrations of `plan_groups` (the groups it skips are dropped)."""
    plan = plan_groups(root, policy=policy, excludes=excludes, warn_on_import=warn_on_import)
    return list(plan.migrations)


def repo_prefix(root: Path) -> str:
    """root's POSIX path inside its git work tree ("" at the top, or outside git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--show-prefix"], cwd=root, capture_output=True,
                             check=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.rstrip("/")


def _copy_tree(root: Path, dest: Path) -> None:
    """Copy the files git would list (or the whole walkable tree outside git) to dest."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=root, capture_output=True, check=True,
        ).stdout.decode("utf-8", "surrogateescape")
        paths = [p for p in out.split("\0") if p and ((root / p).is_symlink() or (root / p).is_file())]
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(root, dest, symlinks=True,
                        ignore=shutil.ignore_patterns(*sorted(scan.SKIP_DIRS)))
        return
    for rel in sorted(paths):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target, follow_symlinks=False)  # a link stays a link
