"""`modelfold verify`: the runtime checks alone, on any tree, in fresh interpreters of the target.

Each model module is imported first in its own interpreter, then the others; `configure_mappers()`
runs; each table of each MetaData must be mapped by one class; `CreateTable` compiles for sqlite,
postgresql and mysql. With a database URL, alembic compares the metadata with the live tables.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from codemods import scan
from codemods.index import build_index
from codemods.stage._verify import target_python
from codemods.types import ModelfoldError, ModelIndex, SourceFile

__all__ = ["RuntimeCheck", "RuntimeFailure", "check_tree"]

PROBE_SOURCE = Path(__file__).with_name("_runtime_probe.py").read_text(encoding="utf-8")
MARKER = "@@MODELFOLD-RUNTIME@@"
MAX_ORDERS = 24
PARALLEL = 2


@dataclass(frozen=True)
class RuntimeFailure:
    """One failed check: where it happened, SQLAlchemy's error, and the classes involved."""

    stage: str
    error: str
    where: str | None
    classes: tuple[str, ...]
    first_module: str
    after_import_failure: bool = False  # configure_mappers() after a failed import: maybe only its consequence


@dataclass(frozen=True)
class RuntimeCheck:
    """The outcome of `verify`: modules imported, tables seen, failures, live-database operations."""

    root: str
    python: str
    modules: tuple[str, ...]
    orders: int
    tables: tuple[str, ...]
    classes: tuple[str, ...]
    failures: tuple[RuntimeFailure, ...]
    database_ops: tuple[str, ...] | None = None

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.failures


def source_roots(files: Sequence[SourceFile]) -> list[str]:
    """The directories (relative POSIX, "" for the root) module names are relative to."""
    roots: set[str] = set()
    for f in files:
        parts = PurePosixPath(f.path).with_suffix("").parts
        if f.is_package:
            parts = parts[:-1]
        names = tuple(f.module.split(".")) if f.module else ()
        if names and parts[len(parts) - len(names):] == names:
            roots.add("/".join(parts[: len(parts) - len(names)]))
    return sorted(roots)


def _model_modules(index: ModelIndex) -> list[str]:
    return sorted({m.module for m in index.models if m.module and all(p.isidentifier() for p in m.module.split("."))})


def run_marked_script(
    python: str, source: str, marker: str, spec: dict[str, Any], cwd: Path, timeout: float,
) -> tuple[dict[str, Any] | None, str]:
    """Run source in an isolated `python` with spec as JSON on stdin; the JSON the script printed
    after `marker`, else None and why (the exit code and stderr's last line). Raises
    ModelfoldError when python cannot run; subprocess.TimeoutExpired on timeout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        proc = subprocess.run([python, "-I", "-B", "-c", source], input=json.dumps(spec), capture_output=True,
                              text=True, cwd=cwd, timeout=timeout, env=env, check=False)
    except OSError as exc:
        raise ModelfoldError(f"cannot run {python}: {exc.strerror}") from None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(marker):
            result: dict[str, Any] = json.loads(line[len(marker):])
            return result, ""
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return None, f"exited {proc.returncode}: {tail}"


def _run(tree: Path, python: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        result, why = run_marked_script(python, PROBE_SOURCE, MARKER, spec, tree, timeout)
    except subprocess.TimeoutExpired:
        return {"failures": [{"stage": "interpreter", "error": f"timed out after {timeout:g}s"}]}
    return result if result is not None else {"failures": [{"stage": "interpreter", "error": why}]}


def _claimants(error: str, index: ModelIndex) -> tuple[str, ...]:
    """The classes the static index finds on the table an error names (`Table 'users' ...`)."""
    if "Table '" not in error:
        return ()
    table = error.split("Table '", 1)[1].split("'", 1)[0].rpartition(".")[2]
    return tuple(f"{m.ref} ({m.path}:{m.line})" for m in index.models if m.table == table and m.kind == "class")


def check_tree(
    root: Path, modules: Sequence[str] = (), *, python: str | None = None, excludes: Sequence[str] = (),
    database_url: str | None = None, timeout: float = 120.0,
) -> RuntimeCheck:
    """Import the tree's model modules (or `modules`) in fresh interpreters and check them."""
    root = scan.resolve_root(root)
    files = scan.source_files(root, excludes)
    index = build_index(root, excludes)
    known = {f.module for f in files}
    unknown = [m for m in modules if m not in known]
    if unknown:
        raise ModelfoldError(f"no module {unknown[0]} under {root}")
    chosen = list(modules) or _model_modules(index)
    if not chosen:
        raise ModelfoldError(f"no module defining SQLAlchemy models under {root}")
    exe = python or target_python(root)
    paths = [str((root / r).resolve()) if r else str(root) for r in source_roots(files)] or [str(root)]
    orders = [[first, *[m for m in chosen if m != first]] for first in chosen][:MAX_ORDERS]

    def probe(order: list[str]) -> dict[str, Any]:
        spec = {"path": paths, "modules": order, "database_url": database_url if order is orders[0] else None}
        return _run(root, exe, spec, timeout)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(probe, orders))
    failures: list[RuntimeFailure] = []
    seen: set[tuple[str, str]] = set()
    for order, result in zip(orders, results, strict=True):
        for f in result.get("failures", []):
            if f["stage"] == "database comparison":
                raise ModelfoldError(_database_error(f["error"]))
            key = (f["stage"], f["error"])
            if key in seen:
                continue
            seen.add(key)
            classes = tuple(f.get("classes") or ()) or _claimants(f["error"], index)
            after_import = f["stage"] == "configure_mappers()" and any(
                g["stage"].startswith("import ") for g in result.get("failures", []))
            failures.append(RuntimeFailure(f["stage"], f["error"], f.get("where"), classes, order[0], after_import))
    first = results[0]
    ops = first.get("database")
    return RuntimeCheck(
        root=str(root), python=exe, modules=tuple(chosen), orders=len(orders),
        tables=tuple(first.get("tables", ())),
        classes=tuple(sorted({f"{c['class']} ({c['where']})" for r in results for c in r.get("classes", [])})),
        failures=tuple(failures), database_ops=None if ops is None else tuple(ops),
    )


def compare_database(
    tree: Path, url: str, modules: Sequence[str], *, python: str, timeout: float = 120.0,
) -> tuple[str, ...]:
    """Import `modules` (and every other model module) in tree, then alembic-compare with the database."""
    files = scan.source_files(tree)
    others = [m for m in _model_modules(build_index(tree)) if m not in modules]
    paths = [str((tree / r).resolve()) if r else str(tree) for r in source_roots(files)] or [str(tree)]
    result = _run(tree, python, {"path": paths, "modules": [*modules, *others], "database_url": url}, timeout)
    failures = result.get("failures", [])
    database = [f for f in failures if f["stage"] == "database comparison"]
    if database:
        raise ModelfoldError(_database_error(database[0]["error"]))
    if result.get("database") is None:
        first = failures[0] if failures else {"stage": "probe", "error": "no result"}
        raise ModelfoldError(f"cannot compare with the database: {first['stage']}: {first['error']}")
    return tuple(result["database"])


def _database_error(error: str) -> str:
    if "No module named 'alembic" in error:
        return "--database-url needs alembic in the target interpreter: install modelfold[alembic]"
    return f"cannot compare with the database: {error}"


def check_text(check: RuntimeCheck) -> str:
    """The human report: what was imported and checked, then each failure with SQLAlchemy's words."""
    lines = [f"imported {len(check.modules)} model module(s) in {check.orders} fresh interpreter(s) "
             f"with {check.python}; {len(check.tables)} table(s), {len(check.classes)} mapped class(es)"]
    for f in check.failures:
        after = "; after a failed import, maybe its consequence" if f.after_import_failure else ""
        lines.append(f"FAILED {f.stage} (first import: {f.first_module}{after})")
        lines.append(f"  {f.error}")
        if f.where:
            lines.append(f"  at {f.where}")
        lines += [f"  claims the table: {c}" for c in f.classes]
    if check.database_ops is not None:
        if check.database_ops:
            lines.append(f"database: {len(check.database_ops)} operation(s) needed to match the models:")
            lines += [f"  {op}" for op in check.database_ops]
        else:
            lines.append("database: the live tables match the models")
    lines.append("verify: passed" if check.ok else f"verify: FAILED ({len(check.failures)} problem(s))")
    return "\n".join(lines) + "\n"


def check_json(check: RuntimeCheck) -> dict[str, Any]:
    """The `--format json` document."""
    from dataclasses import asdict

    return dict(asdict(check), ok=check.ok)
