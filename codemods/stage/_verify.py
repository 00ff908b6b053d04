"""Check a migrated tree against HEAD in fresh interpreters, module by module; block only on regressions.

Before the change each module's outcome is recorded (the duplicate's own SQLAlchemy error is the
expected one); after it, every order that matters is imported and the mappers configured. A
module that imported before and does not after, an error naming a consolidated class or table,
schema lost against an original class that no conflict decision explains, or a test that passed
before and fails after, is a regression. A failure that was there before is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codemods import scan
from codemods.index import build_index
from codemods.progress import NO_PROGRESS, Progress
from codemods.stage._cache import SnapshotCache
from codemods.stage._probe import (
    Containment,
    ModuleOutcome,
    ModuleTarget,
    ProbeResult,
    contained,
    explain,
    import_roots,
    module_root,
    run_probe,
    run_probes,
)
from codemods.stage._python import Interpreter, check_python, find_python
from codemods.stage._schema_loss import lost_schema, table_diff
from codemods.stage._testrun import compare_tests, run_tests
from codemods.types import BeforeSnapshot, Migration, ModelfoldError, TableDiff, TestRun, Verification

MAX_ORDERS = 24
ALEMBIC_TEXT = re.compile(r"^\s*(from\s+alembic\b|import\s+alembic\b)", re.MULTILINE)

__all__ = [
    "BeforeSnapshot", "Interpreter", "Verification", "check_after", "find_python", "import_orders",
    "import_roots", "probe_modules", "run_probe", "run_tests", "snapshot_before", "table_diff", "target_python",
    "verify",
]


@dataclass(frozen=True)
class TreeModules:
    """The importable modules of a tree: targets by module name, roots, conflicting top-level names."""

    targets: Mapping[str, ModuleTarget]
    roots: tuple[str, ...]
    conflicted: frozenset[str]  # top-level names two source roots both define
    alembic: tuple[str, ...]  # files never imported: alembic env.py and migration scripts
    refs: tuple[str, ...]  # every model class ("module:Class")
    models: tuple[str, ...]  # modules defining models


def _valid_module(name: str) -> bool:
    return bool(name) and all(p.isidentifier() for p in name.split("."))


def _is_alembic(tree: Path, rel: str) -> bool:
    path = tree / rel
    if path.name == "env.py" and ((path.parent / "script.py.mako").exists() or (path.parent / "versions").is_dir()):
        return True
    if any(p.name == "versions" and (p.parent / "env.py").exists() for p in path.parents):
        return True
    try:
        return ALEMBIC_TEXT.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False


def tree_modules(tree: Path, excludes: Sequence[str] = (), wanted: Sequence[str] = ()) -> TreeModules:
    """Scan tree once: where every module lives, which roots clash, which files are alembic's.

    `wanted` are paths (the migration's files): when two roots hold the same module name, the
    target is the wanted file, else one in the root of a wanted file of the same top-level package.
    """
    files = scan.source_files(tree, excludes)
    index = build_index(tree, excludes)
    keep = {m.path for m in index.models} | set(wanted)
    by_root: dict[str, set[str]] = {}
    regular: set[tuple[str, str]] = set()
    candidates: dict[str, list[ModuleTarget]] = {}
    alembic: list[str] = []
    all_roots: set[str] = set()
    for f in files:
        root = module_root(f)
        if root is not None:
            all_roots.add(root)
        if root is None or not _valid_module(f.module):
            continue
        top = f.module.partition(".")[0]
        by_root.setdefault(top, set()).add(root)
        if f.module == top:
            regular.add((top, root))
        if f.path in keep:
            if _is_alembic(tree, f.path):
                alembic.append(f.path)
            else:
                candidates.setdefault(f.module, []).append(ModuleTarget(f.module, f.path, root))
    home = {t.top: t.root for ts in candidates.values() for t in ts if t.path in wanted}
    targets = {name: next((t for t in ts if t.path in wanted), None)
               or next((t for t in ts if home.get(t.top) == t.root), ts[0])
               for name, ts in candidates.items()}
    conflicted = frozenset(t for t, roots in by_root.items()
                           if len(roots) > 1 and any((t, r) in regular for r in roots))
    return TreeModules(targets, tuple(sorted(all_roots)), conflicted, tuple(alembic),
                       tuple(sorted(m.ref for m in index.models)),
                       tuple(sorted({m.module for m in index.models})))


def compatible(targets: Sequence[ModuleTarget], conflicted: frozenset[str]) -> list[ModuleTarget]:
    """Keep, in order, the targets that can share an interpreter with those before them
    (a top-level package two roots define comes from the root of its first target)."""
    chosen: dict[str, str] = {}
    kept: list[ModuleTarget] = []
    for t in targets:
        if t.top not in conflicted or chosen.setdefault(t.top, t.root) == t.root:
            kept.append(t)
    return kept


def probe_modules(
    tree: Path, modules: Sequence[str], *, excludes: Sequence[str] = (), configure: bool = True,
    timeout: float = 120.0, python: str | None = None,
) -> dict[str, ModuleOutcome]:
    """Import `modules` (in order) from tree in one contained interpreter; the outcome of each."""
    files = {f.module: f.path for f in scan.source_files(tree, excludes)}
    found = tree_modules(tree, excludes, [files[m] for m in modules if m in files])
    missing = [m for m in modules if m not in found.targets]
    if missing:
        raise ModelfoldError(f"no importable module {missing[0]!r} in {tree}")
    targets = compatible([found.targets[m] for m in modules], found.conflicted)
    with contained(tree) as box:
        probe = run_probe(box, targets, found.roots, configure=configure, timeout=timeout, python=python)
    if probe.failed:
        raise ModelfoldError(probe.failed)
    return {o.name: o for o in probe.outcomes}


def migration_paths(migrations: Sequence[Migration]) -> list[str]:
    """The files of the migrations: every consolidated class's module and every changed .py file."""
    paths = [model.path for m in migrations for model in (m.consolidation.canonical, *m.consolidation.duplicates)]
    paths += [c.path for m in migrations for c in m.changeset.changes if c.path.endswith(".py")]
    return list(dict.fromkeys(paths))


def affected_modules(tree: Path, migrations: Sequence[Migration]) -> tuple[list[str], list[str]]:
    """(canonical and shim modules, other changed modules) of the migrations, deduplicated."""
    core: list[str] = []
    for m in migrations:
        for model in (m.consolidation.canonical, *m.consolidation.duplicates):
            if model.module not in core:
                core.append(model.module)
    rest: list[str] = []
    for m in migrations:
        for change in m.changeset.changes:
            if not change.path.endswith(".py"):
                continue
            name, _ = scan.module_name(tree, change.path)
            if _valid_module(name) and name not in core and name not in rest:
                rest.append(name)
    return core, sorted(rest)


def import_orders(core: Sequence[str], rest: Sequence[str], limit: int = MAX_ORDERS) -> list[list[str]]:
    """Each affected module once as the first import, the others after it in a fixed order."""
    every = [*core, *rest]
    orders = [[first, *[m for m in every if m != first]] for first in every]
    return orders[:limit]


def _plan(found: TreeModules, order: Sequence[str]) -> list[ModuleTarget]:
    names = [*order, *[m for m in found.models if m not in order]]
    return compatible([found.targets[n] for n in names if n in found.targets], found.conflicted)


def target_python(root: Path) -> str:
    """The interpreter that imports the tree at root (`find_python` without --python)."""
    return find_python(root).path


def _interpreter(tree: Path, python: str | None) -> Interpreter:
    return Interpreter(python, "given") if python else find_python(tree)


def snapshot_before(
    tree: Path, migrations: Sequence[Migration], *, excludes: Sequence[str] = (),
    test_cmd: str | None = None, timeout: float = 120.0, python: str | None = None,
    progress: Progress = NO_PROGRESS, cache: SnapshotCache | None = None,
) -> BeforeSnapshot:
    """Each module's outcome and each consolidated class's table at HEAD (from `cache` when it holds
    them); the test command's run."""
    probed = cache.load(tree) if cache else None
    if probed is not None and cache is not None:
        progress.phase("verify: the tree before, probed by an earlier run at this commit", 1)
        progress.advance(f"read {cache.path.name}")
    if probed is None:
        probed = _probe_before(tree, migrations, excludes, timeout, _interpreter(tree, python), progress)
        if cache:
            cache.store(probed, tree)
    if not test_cmd:
        return probed
    with contained(tree) as box:
        progress.phase("running the tests before", 1)
        progress.advance(test_cmd)
        tests = run_tests(box, test_cmd, "before")
    return replace(probed, tests=tests)


def _probe_before(
    tree: Path, migrations: Sequence[Migration], excludes: Sequence[str], timeout: float,
    interpreter: Interpreter, progress: Progress,
) -> BeforeSnapshot:
    core, rest = affected_modules(tree, migrations)
    found = tree_modules(tree, excludes, migration_paths(migrations))
    classes: dict[str, Mapping[str, Any]] = {}
    tables: dict[str, Mapping[str, Any]] = {}
    errors: dict[str, str] = {}
    outcomes: dict[str, str | None] = {}
    configure: list[str] = []
    with contained(tree) as box:
        homes = [found.targets[m] for m in core if m in found.targets]  # their roots first
        roots = list(dict.fromkeys([*(t.root for t in homes), *found.roots]))
        check_python(interpreter, box, roots, sorted({t.top for t in homes}),
                     sorted({t.top for t in found.targets.values()}), timeout)
        progress.phase("verify: probing the tree before", sum(1 + len(m.consolidation.duplicates) for m in migrations))
        models = [model for m in migrations for model in (m.consolidation.canonical, *m.consolidation.duplicates)]
        probes = run_probes(box, [_plan(found, [model.module, *core, *rest]) for model in models], found.roots,
                            models=found.refs, configure=True, timeout=timeout, python=interpreter.path)
        for model, probe in zip(models, probes, strict=True):
            progress.advance(f"imported {model.module}")
            if probe.failed:
                errors[model.ref] = probe.failed
                continue
            for o in probe.outcomes:  # a module that imported in any probe imported before
                if o.ok:
                    outcomes[o.name] = None
                elif o.name not in outcomes:
                    outcomes[o.name] = explain(o, box)
            configure += [probe.configure] if probe.configure else []
            key = probe.owner.get(model.ref)
            if key is not None and key in probe.tables:
                classes[model.ref] = probe.tables[key]
            for name, info in probe.tables.items():
                tables.setdefault(name, info)
    return BeforeSnapshot(classes, tables, errors, None, outcomes=outcomes, configure=tuple(configure))


def _names(migrations: Sequence[Migration]) -> re.Pattern[str]:
    words: set[str] = set()
    for m in migrations:
        for model in (m.consolidation.canonical, *m.consolidation.duplicates):
            words.add(model.class_name)
            if model.table:
                words.add(model.table)
    return re.compile(r"(?<![\w.])(" + "|".join(sorted(map(re.escape, words))) + r")(?![\w])")


def _external(error: str, found: TreeModules) -> bool:
    """True for a ModuleNotFoundError naming a module outside the tree (a missing dependency)."""
    match = re.match(r"ModuleNotFoundError: No module named '([^']+)'", error)
    return match is not None and match.group(1).partition(".")[0] not in {t.top for t in found.targets.values()}


def _judge(
    outcome: ModuleOutcome, first: str, before: BeforeSnapshot, box: Containment, found: TreeModules,
    ours: re.Pattern[str],
) -> tuple[str | None, str | None]:
    """(regression, pre-existing note) for one module outcome after the change."""
    now = explain(outcome, box)
    where = f"import {outcome.name}" + (f" (order starting with {first})" if first != outcome.name else "")
    was = before.outcomes.get(outcome.name)
    if outcome.name not in before.outcomes or was is None or ours.search(now):
        return f"{where}: {now}", None
    if now == was or _external(now, found):
        return None, f"already failing before: {outcome.name} ({was})"
    return f"{where}: {now} (before: {was})", None


def check_after(
    tree: Path, migrations: Sequence[Migration], before: BeforeSnapshot, *,
    excludes: Sequence[str] = (), test_cmd: str | None = None, timeout: float = 120.0,
    python: str | None = None, progress: Progress = NO_PROGRESS,
) -> Verification:
    """Import the migrated tree in every order that matters, configure mappers, diff the schema."""
    core, rest = affected_modules(tree, migrations)
    found = tree_modules(tree, excludes, migration_paths(migrations))
    rest = [r for r in rest if r in found.targets]  # not alembic's scripts, not files outside any root
    orders = import_orders(core, rest)
    ours = _names(migrations)
    interpreter = _interpreter(tree, python)
    regressions: list[str] = []
    notes: list[str] = [f"not imported (alembic script): {p}" for p in found.alembic]
    notes += [f"schema of {ref} not compared: it did not load before ({err})"
              for ref, err in sorted(before.errors.items())]
    if len(core) + len(rest) > len(orders):
        notes.append(f"checked {len(orders)} of {len(core) + len(rest)} import orders")
    with contained(tree) as box:
        progress.phase("verify: import orders after", len(orders))

        probes = run_probes(box, [_plan(found, order) for order in orders], found.roots, models=found.refs,
                            configure=True, timeout=timeout, python=interpreter.path)
        for order in orders:
            progress.advance(f"imported from {order[0]}")
        after: ProbeResult | None = None
        for order, probe in zip(orders, probes, strict=True):
            if probe.failed:
                regressions.append(f"import order starting with {order[0]}: {probe.failed}")
                continue
            for outcome in probe.outcomes:
                if not outcome.ok:
                    bad, note = _judge(outcome, order[0], before, box, found, ours)
                    regressions += [bad] if bad and bad not in regressions else []
                    notes += [note] if note and note not in notes else []
            if probe.configure and (probe.configure not in before.configure or ours.search(probe.configure)):
                regressions.append(f"configure_mappers() (order starting with {order[0]}): {probe.configure}")
            elif probe.configure:
                notes.append(f"already failing before: configure_mappers() ({probe.configure})")
            after = after or probe
        schema = _schema(migrations, before, after) if after else ()
        for m in migrations:
            regressions += [r for r in lost_schema(schema, m) if r not in regressions]
        regressions += [f"schema: {d.table} changed, and no consolidation is on it" for d in schema
                        if d.compared_to == "HEAD" and d.before_ddl.startswith("CREATE")
                        and d.after_ddl.startswith("CREATE")]
        tests: list[TestRun] = [before.tests] if before.tests else []
        if test_cmd:
            progress.phase("running the tests after", 1)
            progress.advance(test_cmd)
            run = run_tests(box, test_cmd, "after")
            tests.append(run)
            bad_tests, test_notes = compare_tests(before.tests, run)
            regressions += bad_tests
            notes += test_notes
    messages = tuple(dict.fromkeys([*notes, *regressions]))
    return Verification(not regressions, tuple(tuple(o) for o in orders), schema, tuple(tests), messages,
                        tuple(dict.fromkeys(regressions)))


def _schema(migrations: Sequence[Migration], before: BeforeSnapshot, after: ProbeResult) -> tuple[TableDiff, ...]:
    diffs: list[TableDiff] = []
    consolidated: set[str] = set()
    for m in migrations:
        canonical = m.consolidation.canonical
        key = after.owner.get(canonical.ref, canonical.table or "")
        consolidated.add(key)
        now = after.tables.get(key)
        if now is None:
            continue
        for model in (*m.consolidation.duplicates, canonical):
            if model.ref in before.classes:
                diffs.append(table_diff(key, model.ref, before.classes[model.ref], now))
    for name in sorted(set(before.tables) & set(after.tables) - consolidated):
        diff = table_diff(name, "HEAD", before.tables[name], after.tables[name])
        if not diff.identical:
            diffs.append(diff)
    return tuple(diffs)


def verify(
    before_tree: Path, after_tree: Path, migrations: Sequence[Migration], *,
    excludes: Sequence[str] = (), test_cmd: str | None = None, timeout: float = 120.0,
    python: str | None = None,
) -> Verification:
    """Snapshot before_tree (HEAD), then check after_tree (the migrated copy) against it."""
    if not before_tree.is_dir() or not after_tree.is_dir():
        raise ModelfoldError("verify needs two existing directories")
    before = snapshot_before(before_tree, migrations, excludes=excludes, test_cmd=test_cmd,
                             timeout=timeout, python=python)
    return check_after(after_tree, migrations, before, excludes=excludes, test_cmd=test_cmd,
                       timeout=timeout, python=python)
