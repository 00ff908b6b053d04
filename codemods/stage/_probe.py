"""Run the target's code contained: fresh interpreters that import modules and say, per module, what happened.

Every child (probe or test command) runs with the scratch tree as working directory and `PWD`,
`GIT_DIR`/`GIT_WORK_TREE` on a throwaway repository (user code cannot tag, configure or commit
in the user's repository), in its own process group killed as a group when it ends or times out,
and with stdout/stderr written to files (a grandchild holding a pipe cannot stall the run).
Many import orders share one such interpreter: it imports SQLAlchemy (never the tree's modules)
and forks a child per order, each with its own output files and timeout, in the same group.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codemods.types import SourceFile

PROBE_SOURCE = (Path(__file__).with_name("_probe_script.py")).read_text(encoding="utf-8")
MARKER = "@@MODELFOLD-PROBE@@"
# imported once before forking: every probe imports them anyway (the tree's own modules never are)
PRELOAD = ("sqlalchemy", "sqlalchemy.orm", "sqlalchemy.schema", "sqlalchemy.dialects.sqlite")


@dataclass(frozen=True)
class ModuleTarget:
    """A module of the tree to import: its dotted name, its file and the source root it is relative to."""

    name: str
    path: str  # POSIX, relative to the tree
    root: str  # POSIX, relative to the tree ("" for the tree itself)

    @property
    def top(self) -> str:
        """The top-level package (or module) name."""
        return self.name.partition(".")[0]


@dataclass(frozen=True)
class ModuleOutcome:
    """What importing one module did: `ok`, `error` (with the exception) or `elsewhere` (another file)."""

    name: str
    status: str
    error: str | None = None
    file: str | None = None

    @property
    def ok(self) -> bool:
        """True when the module imported from the expected file."""
        return self.status == "ok"


@dataclass(frozen=True)
class ProbeResult:
    """One fresh interpreter's run: per-module outcomes (in import order), mappers, tables."""

    outcomes: tuple[ModuleOutcome, ...] = ()
    configure: str | None = None  # configure_mappers()'s exception, None when it passed or was not run
    tables: Mapping[str, Any] = field(default_factory=dict)
    owner: Mapping[str, str] = field(default_factory=dict)
    failed: str | None = None  # the interpreter itself failed (timeout, crash, no SQLAlchemy)


@dataclass(frozen=True)
class Completed:
    """A contained child's exit code and captured output."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


@dataclass(frozen=True)
class Containment:
    """Where user code runs: the scratch tree, and a throwaway git repository for GIT_DIR."""

    tree: Path
    git_dir: Path

    def environ(self, probe: bool) -> dict[str, str]:
        """The child's environment: ours without GIT_* (and, for a probe, without PYTHONPATH/PYTHONHOME),
        with PWD and GIT_DIR set (the user's test command keeps its PYTHONPATH)."""
        drop = ("PWD", "OLDPWD", *(("PYTHONPATH", "PYTHONHOME") if probe else ()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in drop}
        env.update({"PWD": str(self.tree), "GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.tree),
                    "GIT_CEILING_DIRECTORIES": str(self.tree.parent), "PYTHONDONTWRITEBYTECODE": "1"})
        return env


@contextlib.contextmanager
def contained(tree: Path) -> Iterator[Containment]:
    """A Containment for tree, with a throwaway repository removed on exit."""
    with tempfile.TemporaryDirectory(prefix="modelfold-jail-") as jail:
        git_dir = Path(jail) / "git"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=False, env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        yield Containment(tree.resolve(), git_dir)


def run_contained(argv: Sequence[str], box: Containment, timeout: float, probe: bool = True) -> Completed:
    """Run argv in box's tree in its own process group; kill the group at the end and on timeout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(list(argv), cwd=box.tree, env=box.environ(probe), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.seek(0)
        err.seek(0)
        return Completed(proc.returncode, out.read().decode("utf-8", "replace"),
                         err.read().decode("utf-8", "replace"), timed_out)


def module_root(f: SourceFile) -> str | None:
    """The directory (relative POSIX, "" for the tree) that f's module name is relative to."""
    if not f.module:
        return None
    parts = [p for p in f.path.split("/") if p and p != "."]  # as PurePosixPath parts (string ops: 10k files)
    stem, dot, suffix = parts[-1].rpartition(".") if parts else ("", "", "")
    if dot and stem.strip(".") and suffix:  # with_suffix(""): only a real suffix goes
        parts[-1] = stem
    if f.is_package:
        parts = parts[:-1]
    names = f.module.split(".")
    if parts[len(parts) - len(names):] != names:
        return None
    return "/".join(parts[: len(parts) - len(names)])


def import_roots(files: Sequence[SourceFile]) -> list[str]:
    """The directories (relative POSIX, "" for the root) the files' module names are relative to."""
    return sorted({r for f in files if (r := module_root(f)) is not None})


def _targets_spec(tree: Path, targets: Sequence[ModuleTarget]) -> dict[str, Any]:
    tops: dict[str, str] = {}
    for t in targets:
        tops.setdefault(t.top, str(tree / t.root) if t.root else str(tree))
    return {"tops": tops, "modules": [{"name": t.name, "file": str(tree / t.path),
                                       "root": str(tree / t.root) if t.root else str(tree)} for t in targets]}


def run_probe(
    box: Containment, targets: Sequence[ModuleTarget], roots: Sequence[str], *,
    models: Sequence[str] = (), configure: bool = True, timeout: float = 120.0, python: str | None = None,
) -> ProbeResult:
    """Import targets (in order, each from its own root) in a fresh interpreter; per-module outcomes."""
    tree = box.tree
    spec = {"path": [str(tree / r) if r else str(tree) for r in roots], **_targets_spec(tree, targets),
            "models": list(models), "configure": configure}
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="modelfold-probe-", delete=False) as fh:
        json.dump(spec, fh)
    try:
        done = run_contained([python or sys.executable, "-I", "-B", "-c", PROBE_SOURCE, fh.name], box, timeout)
    finally:
        os.unlink(fh.name)
    if done.timed_out:
        return _timed_out(targets, timeout)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            return _result(json.loads(line[len(MARKER):]), targets)
    return ProbeResult(failed=f"interpreter exited {done.returncode}: {_tail(done.stderr)}")


def _timed_out(targets: Sequence[ModuleTarget], timeout: float) -> ProbeResult:
    return ProbeResult(failed=f"timed out after {timeout:g}s importing {', '.join(t.name for t in targets)}")


def _tail(stderr: str) -> str:
    return (stderr.strip().splitlines() or ["no output"])[-1]


def run_probes(
    box: Containment, plans: Sequence[Sequence[ModuleTarget]], roots: Sequence[str], *,
    models: Sequence[str] = (), configure: bool = True, timeout: float = 120.0, python: str | None = None,
    jobs: int | None = None,
) -> list[ProbeResult]:
    """`run_probe` for each plan, as if each ran in a fresh interpreter: one contained interpreter
    imports SQLAlchemy (never the tree's modules) once, then forks a child per plan, `jobs` at a time."""
    if not hasattr(os, "fork"):
        return [run_probe(box, p, roots, models=models, configure=configure, timeout=timeout, python=python)
                for p in plans]
    jobs = max(1, jobs or os.cpu_count() or 1)
    tree = box.tree
    with tempfile.TemporaryDirectory(prefix="modelfold-probes-") as folder:
        out = Path(folder)
        runs = [{**_targets_spec(tree, p), "result": str(out / f"{n}.json"), "stdout": str(out / f"{n}.out"),
                 "stderr": str(out / f"{n}.err")} for n, p in enumerate(plans)]
        spec = {"path": [str(tree / r) if r else str(tree) for r in roots], "models": list(models),
                "configure": configure, "preload": list(PRELOAD), "jobs": jobs, "timeout": timeout, "runs": runs}
        (out / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        rounds = -(-len(plans) // jobs)
        done = run_contained([python or sys.executable, "-I", "-B", "-c", PROBE_SOURCE, str(out / "spec.json")],
                             box, timeout * (rounds + 1))
        status: list[Mapping[str, Any]] = []
        for line in reversed(done.stdout.splitlines()):
            if line.startswith(MARKER):
                status = json.loads(line[len(MARKER):])["runs"]
                break
        results: list[ProbeResult] = []
        for n, plan in enumerate(plans):
            result = out / f"{n}.json"
            if result.exists():
                results.append(_result(json.loads(result.read_text(encoding="utf-8")), plan))
            elif n < len(status) and status[n]["timed_out"]:
                results.append(_timed_out(plan, timeout))
            elif n < len(status):
                err = out / f"{n}.err"
                tail = _tail(err.read_text(encoding="utf-8", errors="replace") if err.exists() else "")
                results.append(ProbeResult(failed=f"interpreter exited {status[n]['code']}: {tail}"))
            elif done.timed_out:
                results.append(_timed_out(plan, timeout))
            else:
                results.append(ProbeResult(failed=f"interpreter exited {done.returncode}: {_tail(done.stderr)}"))
        return results


def _result(raw: Mapping[str, Any], targets: Sequence[ModuleTarget]) -> ProbeResult:
    seen: Mapping[str, Mapping[str, Any]] = raw["modules"]
    outcomes = tuple(ModuleOutcome(t.name, str(seen[t.name]["status"]), seen[t.name].get("error"),
                                   seen[t.name].get("file")) for t in targets if t.name in seen)
    return ProbeResult(outcomes, raw["configure"], raw["tables"], raw["owner"], raw["failed"])


def explain(outcome: ModuleOutcome, box: Containment) -> str:
    """One phrase: the outcome's exception, or which file the module resolved to and why."""
    if outcome.status != "elsewhere":
        return outcome.error or "imported"
    where = Path(outcome.file or "?")
    if where.is_relative_to(box.tree):
        why = "a second source root in the tree defines the same package"
        return f"resolved to {where.relative_to(box.tree).as_posix()} ({why})"
    return f"resolved to {where} (an installed copy or an editable install shadows the tree)"
