"""Run inside a fresh interpreter of the target tree (source passed with `-c`, spec file as argv[1]).

Imports each module with its own source root first on `sys.path`, records one outcome per module
(imported, failed with an exception, or resolved to a file other than the tree's), optionally
configures the mappers, and prints the DDL of every table reachable from the given model classes,
as one JSON line. A finder placed first on `sys.meta_path` resolves the tree's top-level names
inside the tree, so an editable install of the project (a `.pth` path or an import hook pointing
at the user's checkout) cannot shadow the scratch copy.

With `runs` in the spec it serves many probes: it imports `preload` (SQLAlchemy; never a name the
tree defines) and compiles the runs' files (which executes none of their code), then forks one
child per run, `jobs` at a time. Each child writes its output to its run's files and its result
document to `result`, and is killed after `timeout` seconds; the server prints each run's exit.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.machinery
import json
import os
import signal
import sys
import time
from typing import Any

MARKER = "@@MODELFOLD-PROBE@@"


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write("\n" + MARKER + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


class TreeFinder:
    """Find the tree's top-level packages in the tree's roots only (never an installed copy)."""

    def __init__(self, tops: dict[str, str]) -> None:
        self.tops = tops  # top-level name -> the root it must come from

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        """A spec from the tree's root for a top-level name the tree defines; None otherwise."""
        if path is not None or name not in self.tops:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, [self.tops[name]])
        if spec is None or spec.origin is None:  # a namespace portion: the normal search merges it
            return None
        return spec


def _table_info(table: Any) -> dict[str, Any]:
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateColumn, CreateIndex, CreateTable

    dialect = sqlite.dialect()
    try:
        ddl = str(CreateTable(table).compile(dialect=dialect)).strip()
        columns = {
            c.name: str(CreateColumn(c).compile(dialect=dialect)).strip() for c in table.columns
        }
        indexes = sorted(
            str(CreateIndex(i).compile(dialect=dialect)).strip() for i in table.indexes
        )
    except Exception as exc:  # noqa: BLE001 -- a type sqlite cannot render, an unresolvable foreign key...
        return {"error": _error(exc)}
    specs = set(columns.values())
    body = ddl[ddl.find("(") + 1 : ddl.rfind(")")]
    lines = [line.strip().rstrip(",").strip() for line in body.split("\n")]
    constraints = sorted(line for line in lines if line and line not in specs)
    full = "\n".join([ddl, *indexes])
    return {"ddl": full, "columns": columns, "constraints": constraints, "indexes": indexes}


def _tables(refs: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    from sqlalchemy import Table

    metadatas: list[Any] = []
    owner: dict[str, str] = {}
    pending: list[tuple[str, Any]] = []
    for ref in refs:
        module_name, _, attr = ref.partition(":")
        obj = getattr(sys.modules.get(module_name), attr, None)
        table = obj if isinstance(obj, Table) else getattr(obj, "__table__", None)
        if not isinstance(table, Table):
            continue
        if table.metadata not in metadatas:
            metadatas.append(table.metadata)
        pending.append((ref, table))
    tables: dict[str, Any] = {}
    keys: dict[int, str] = {}
    for n, metadata in enumerate(metadatas):
        for table in metadata.sorted_tables:
            key = table.fullname if table.fullname not in tables else f"{table.fullname}@{n}"
            keys[id(table)] = key
            tables[key] = _table_info(table)
    for ref, table in pending:
        owner[ref] = keys.get(id(table), table.fullname)
    return tables, owner


def _import(target: dict[str, str]) -> dict[str, Any]:
    """Import one module with its root first on sys.path; where it came from, or why it failed."""
    root = target["root"]
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    try:
        module = importlib.import_module(target["name"])
    except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
        return {"status": "error", "error": _error(exc)}
    found = getattr(module, "__file__", None)
    if found and found != target["file"] and os.path.realpath(found) != os.path.realpath(target["file"]):
        return {"status": "elsewhere", "error": None, "file": os.path.realpath(found)}
    return {"status": "ok", "error": None}


def probe(spec: dict[str, Any]) -> dict[str, Any]:
    """Import the spec's modules in order, configure, read the tables: the result document."""
    sys.meta_path.insert(0, TreeFinder(spec["tops"]))
    result: dict[str, Any] = {"failed": None, "modules": {}, "configure": None, "tables": {}, "owner": {}}
    for target in spec["modules"]:
        result["modules"][target["name"]] = _import(target)
    if spec["configure"]:
        try:
            from sqlalchemy.orm import configure_mappers

            configure_mappers()
        except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
            result["configure"] = _error(exc)
    try:
        result["tables"], result["owner"] = _tables(spec["models"])
    except BaseException as exc:  # noqa: BLE001 -- SQLAlchemy missing, a broken metadata...
        result["failed"] = f"reading the tables: {_error(exc)}"
    return result


def _preload(names: list[str], tops: set[str]) -> None:
    """Import third-party modules every run imports anyway; undo a failed one (a run reports it)."""
    for name in names:
        if name.partition(".")[0] in tops:
            continue  # the tree defines it: each run must import its own copy
        before = set(sys.modules)
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 -- missing or broken: every run will say so itself
            for added in set(sys.modules) - before:
                del sys.modules[added]
            return


def _precompile(files: list[str]) -> None:
    """Compile the tree's files once, before forking (compiling runs none of their code); a child's
    import uses the code object while the file is unchanged, as if it had compiled the file itself."""
    compiled: dict[str, tuple[tuple[int, int], Any]] = {}
    for path in files:
        try:
            stat = os.stat(path)
            with open(path, "rb") as handle:
                compiled[path] = ((stat.st_mtime_ns, stat.st_size), compile(handle.read(), path, "exec",
                                                                             dont_inherit=True))
        except (OSError, SyntaxError, ValueError):
            continue  # the child compiles it and reports the error itself
    loader = importlib.machinery.SourceFileLoader
    original = loader.get_code

    def get_code(self: Any, fullname: str) -> Any:
        path = self.get_filename(fullname)
        entry = compiled.get(path)
        if entry is not None:
            try:
                stat = os.stat(path)
            except OSError:
                stat = None
            if stat is not None and (stat.st_mtime_ns, stat.st_size) == entry[0]:
                return entry[1]
        return original(self, fullname)

    loader.get_code = get_code  # type: ignore[method-assign]


def _child(run: dict[str, Any], spec: dict[str, Any]) -> None:
    """In a forked child: output to the run's own files, probe, write the result file, exit."""
    code = 1
    try:
        for fd, name in ((1, run["stdout"]), (2, run["stderr"])):
            opened = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        result = probe({**spec, "modules": run["modules"], "tops": run["tops"]})
        with open(run["result"] + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(result, handle, sort_keys=True)
        os.replace(run["result"] + ".tmp", run["result"])
        code = 0
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):  # user code may have replaced or closed it
                stream.flush()
        os._exit(code)


def _status(raw: int) -> int:
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def serve(spec: dict[str, Any]) -> None:
    """Preload the common prefix once, then fork one child per run (up to `jobs` at once), each
    with the tree's own modules still unimported; print each run's exit code and timeout."""
    sys.path[:0] = spec["path"]
    _preload(spec["preload"], {t for run in spec["runs"] for t in run["tops"]})
    _precompile(sorted({m["file"] for run in spec["runs"] for m in run["modules"]}))
    gc.freeze()  # what is imported so far is never collected: a child's collections skip it
    pending = list(enumerate(spec["runs"]))
    running: dict[int, tuple[int, float]] = {}  # pid -> (run number, deadline)
    done: dict[int, dict[str, Any]] = {}
    while pending or running:
        while pending and len(running) < spec["jobs"]:
            n, run = pending.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(run, spec)
            running[pid] = (n, time.monotonic() + spec["timeout"])
        pid, raw = os.waitpid(-1, os.WNOHANG)
        if pid:
            n, _ = running.pop(pid)
            done[n] = {"code": _status(raw), "timed_out": False}
            continue
        now = time.monotonic()
        for pid, (n, deadline) in list(running.items()):
            if now > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                del running[pid]
                done[n] = {"code": -signal.SIGKILL, "timed_out": True}
        time.sleep(0.005)
    _emit({"runs": [done[n] for n in range(len(spec["runs"]))]})


def main() -> None:
    """Read the spec; serve its runs, or probe once in this interpreter; always print one result line."""
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    if "runs" in spec:
        serve(spec)
    else:
        sys.path[:0] = spec["path"]
        _emit(probe(spec))


if __name__ == "__main__":
    main()
