"""Check a migrated tree in fresh interpreters: imports in every order, mappers, schema, tests."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from codemods import scan
from codemods.index import build_index
from codemods.progress import NO_PROGRESS, Progress
from codemods.types import (
    BeforeSnapshot,
    ColumnChange,
    Migration,
    ModelfoldError,
    SourceFile,
    TableDiff,
    TestRun,
    Verification,
)

PROBE_SOURCE = (Path(__file__).with_name("_probe_script.py")).read_text(encoding="utf-8")
MARKER = "@@MODELFOLD-PROBE@@"
MAX_ORDERS = 24
PARALLEL_PROBES = 2  # fresh interpreters at once (each is one process, mostly CPU-bound imports)

__all__ = [
    "BeforeSnapshot", "Verification", "check_after", "import_orders", "import_roots",
    "run_probe", "run_tests", "snapshot_before", "table_diff", "verify",
]




def import_roots(files: Sequence[SourceFile]) -> list[str]:
    """The directories (relative POSIX, "" for the root) a file's module name is relative to."""
    roots: set[str] = set()
    for f in files:
        if not f.module:
            continue
        parts = PurePosixPath(f.path).with_suffix("").parts
        if f.is_package:
            parts = parts[:-1]
        depth = len(f.module.split("."))
        if tuple(parts[len(parts) - depth :]) == tuple(f.module.split(".")):
            roots.add("/".join(parts[: len(parts) - depth]))
    return sorted(roots)


def _valid_module(name: str) -> bool:
    return bool(name) and all(p.isidentifier() for p in name.split("."))


def target_python(root: Path) -> str:
    """The interpreter of the target project: the active virtualenv, a .venv/venv in root, or ours."""
    candidates = [Path(os.environ["VIRTUAL_ENV"])] if os.environ.get("VIRTUAL_ENV") else []
    for base in (root, *root.parents):
        candidates += [base / ".venv", base / "venv"]
        if (base / ".git").exists():
            break
    for env in candidates:
        exe = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if exe.is_file():
            return str(exe)
    return sys.executable


def run_probe(
    tree: Path, roots: Sequence[str], modules: Sequence[str], *, optional: Sequence[str] = (),
    models: Sequence[str] = (), configure: bool = True, timeout: float = 120.0,
    python: str | None = None,
) -> dict[str, Any]:
    """Import `modules` (in order) in a fresh interpreter rooted at tree; return the probe's JSON."""
    spec = {
        "path": [str((tree / r).resolve()) if r else str(tree.resolve()) for r in roots],
        "modules": list(modules), "optional": list(optional), "models": list(models),
        "configure": configure,
    }
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        proc = subprocess.run(
            [python or sys.executable, "-I", "-B", "-c", PROBE_SOURCE], input=json.dumps(spec),
            capture_output=True, text=True, cwd=tree, timeout=timeout, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        return {"failed": f"timed out after {timeout:g}s importing {', '.join(modules)}",
                "errors": [], "tables": {}, "owner": {}}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            return result
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"failed": f"interpreter exited {proc.returncode}: {tail}", "errors": [],
            "tables": {}, "owner": {}}


def run_tests(tree: Path, command: str, side: str, timeout: float = 1800.0) -> TestRun:
    """Run the user's test command in tree; keep its exit code and last lines."""
    start = time.monotonic()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        proc = subprocess.run(
            shlex.split(command), cwd=tree, capture_output=True, text=True, timeout=timeout,
            env=env, check=False,
        )
        code, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        code, output = -1, f"timed out after {timeout:g}s"
    except OSError as exc:
        code, output = 127, f"cannot run {command!r}: {exc}"
    lines = output.strip().splitlines()
    first_error = next((line for line in lines if line.startswith("E ")), None)
    kept = lines[-3:] if first_error is None or first_error in lines[-3:] else [first_error, *lines[-3:]]
    tail = "\n".join(kept)
    return TestRun(side, command, code, tail, round(time.monotonic() - start, 2))


def _model_modules(tree: Path, excludes: Sequence[str]) -> tuple[list[str], list[str]]:
    index = build_index(tree, excludes)
    refs = sorted(m.ref for m in index.models)
    modules = sorted({m.module for m in index.models if _valid_module(m.module)})
    return modules, refs


def snapshot_before(
    tree: Path, migrations: Sequence[Migration], *, excludes: Sequence[str] = (),
    test_cmd: str | None = None, timeout: float = 120.0, python: str | None = None,
    progress: Progress = NO_PROGRESS,
) -> BeforeSnapshot:
    """Each consolidated class's table DDL at HEAD, each from its own module in its own interpreter."""
    roots = import_roots(scan.source_files(tree, excludes))
    modules, refs = _model_modules(tree, excludes)
    classes: dict[str, Mapping[str, Any]] = {}
    tables: dict[str, Mapping[str, Any]] = {}
    errors: dict[str, str] = {}
    broken: dict[str, str] | None = None
    progress.phase("verify: probing the tree before", sum(1 + len(m.consolidation.duplicates) for m in migrations))
    for m in migrations:
        for model in (m.consolidation.canonical, *m.consolidation.duplicates):
            progress.advance(f"importing {model.module}")
            others = [x for x in modules if x != model.module]
            probe = run_probe(tree, roots, [model.module], optional=others, models=refs,
                              configure=False, timeout=timeout, python=python)
            if probe["failed"]:
                errors[model.ref] = probe["failed"]
                continue
            failed = {e.removeprefix("import ").split(": ", 1)[0]: e for e in probe["errors"]
                      if ": ModuleNotFoundError: " in e}  # a dependency missing here, not our doing
            broken = failed if broken is None else {k: v for k, v in broken.items() if k in failed}
            key = probe["owner"].get(model.ref)
            if key in probe["tables"]:
                classes[model.ref] = probe["tables"][key]
            for name, info in probe["tables"].items():
                tables.setdefault(name, info)
    if test_cmd:
        progress.phase("running the tests before", 1)
        progress.advance(test_cmd)
    tests = run_tests(tree, test_cmd, "before") if test_cmd else None
    return BeforeSnapshot(classes, tables, errors, tests, broken or {})


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


def check_after(
    tree: Path, migrations: Sequence[Migration], before: BeforeSnapshot, *,
    excludes: Sequence[str] = (), test_cmd: str | None = None, timeout: float = 120.0,
    python: str | None = None, progress: Progress = NO_PROGRESS,
) -> Verification:
    """Import the migrated tree in every order that matters, configure mappers, diff the schema."""
    roots = import_roots(scan.source_files(tree, excludes))
    modules, refs = _model_modules(tree, excludes)
    core, rest = affected_modules(tree, migrations)
    orders = import_orders(core, rest)
    messages = [f"before: {ref} could not be loaded: {err}" for ref, err in sorted(before.errors.items())]
    if len(core) + len(rest) > len(orders):
        messages.append(f"checked {len(orders)} of {len(core) + len(rest)} import orders")
    ok = True
    after: dict[str, Any] = {}
    # model modules that failed to import at HEAD too (a missing dependency...) cannot fail us now
    tolerated = [x for x in modules if x in before.broken and x not in core and x not in rest]
    messages += [f"{x} did not import before the migration either: {before.broken[x]}" for x in tolerated]
    progress.phase("verify: import orders after", len(orders))

    def probe_order(order: list[str]) -> dict[str, Any]:
        progress.advance(f"importing from {order[0]}")
        full = [*order, *[x for x in modules if x not in order and x not in tolerated]]
        return run_probe(tree, roots, full, optional=tolerated, models=refs, configure=True,
                         timeout=timeout, python=python)

    pool = ThreadPoolExecutor(max_workers=PARALLEL_PROBES)
    try:
        probes = list(pool.map(probe_order, orders))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for order, probe in zip(orders, probes, strict=True):
        if probe["failed"]:
            ok = False
            messages.append(f"import order starting with {order[0]}: {probe['failed']}")
        elif not after:
            after = probe
    schema = _schema(migrations, before, after) if after else ()
    tests: list[TestRun] = [before.tests] if before.tests else []
    if test_cmd:
        progress.phase("running the tests after", 1)
        progress.advance(test_cmd)
        run = run_tests(tree, test_cmd, "after")
        tests.append(run)
        if run.returncode != 0:
            ok = False
            messages.append(f"test command failed after the migration (exit {run.returncode})")
    return Verification(ok, tuple(tuple(o) for o in orders), schema, tuple(tests), tuple(messages))


def _schema(
    migrations: Sequence[Migration], before: BeforeSnapshot, after: Mapping[str, Any]
) -> tuple[TableDiff, ...]:
    diffs: list[TableDiff] = []
    consolidated: set[str] = set()
    for m in migrations:
        canonical = m.consolidation.canonical
        key = after["owner"].get(canonical.ref, canonical.table or "")
        consolidated.add(key)
        now = after["tables"].get(key)
        if now is None:
            continue
        for model in (*m.consolidation.duplicates, canonical):
            if model.ref in before.classes:
                diffs.append(table_diff(key, model.ref, before.classes[model.ref], now))
    for name in sorted(set(before.tables) & set(after["tables"]) - consolidated):
        diff = table_diff(name, "HEAD", before.tables[name], after["tables"][name])
        if not diff.identical:
            diffs.append(diff)
    return tuple(diffs)


def table_diff(table: str, compared_to: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> TableDiff:
    """Column, constraint and index differences between two probe table records."""
    if "error" in old or "error" in new:
        return TableDiff(table, compared_to, before_ddl=str(old.get("ddl", old.get("error"))),
                         after_ddl=str(new.get("ddl", new.get("error"))))
    oc: Mapping[str, str] = old["columns"]
    nc: Mapping[str, str] = new["columns"]
    changed = tuple(ColumnChange(c, oc[c], nc[c]) for c in sorted(set(oc) & set(nc)) if oc[c] != nc[c])
    return TableDiff(
        table, compared_to,
        added=tuple(sorted(set(nc) - set(oc))), removed=tuple(sorted(set(oc) - set(nc))),
        changed=changed,
        constraints_added=tuple(sorted(set(new["constraints"]) - set(old["constraints"]))),
        constraints_removed=tuple(sorted(set(old["constraints"]) - set(new["constraints"]))),
        indexes_added=tuple(sorted(set(new["indexes"]) - set(old["indexes"]))),
        indexes_removed=tuple(sorted(set(old["indexes"]) - set(new["indexes"]))),
        before_ddl=old["ddl"], after_ddl=new["ddl"],
    )


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
