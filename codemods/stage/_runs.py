"""Runs marked in the repository, so the next run can clean up after one that was killed.

Each staging run writes `<git common dir>/modelfold/run-<pid>-<token>.json` naming its scratch
worktree and the branch it may lock; it removes the marker when it ends. A marker whose process
is gone belongs to a killed run: the next run removes its worktree, the branch lock it left
(`refs/heads/<branch>.lock`, only when that run had reached the ref update), and the marker.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

RUNS_DIR = "modelfold"


@dataclass(frozen=True)
class Run:
    """One staging run: its marker file, scratch folder and worktree."""

    marker: Path
    scratch: Path
    tree: Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(marker: Path, doc: dict[str, object]) -> None:
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(tmp, marker)


def prune_stale(git_dir: Path, common_dir: Path) -> list[str]:
    """Clean up after killed runs; one line per run cleaned."""
    folder = common_dir / RUNS_DIR
    lines: list[str] = []
    for marker in sorted(folder.glob("run-*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(marker.read_text(encoding="utf-8"))
            pid = int(doc["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            marker.unlink(missing_ok=True)
            continue
        if _alive(pid) and pid != os.getpid():
            continue
        removed = [f"scratch worktree {doc.get('tree')}"]
        scratch = Path(str(doc.get("scratch", "")))
        if scratch.is_absolute() and scratch.name.startswith("modelfold-"):  # only what we create
            shutil.rmtree(scratch, ignore_errors=True)
        lock = doc.get("lock")
        if isinstance(lock, str) and _owned_lock(lock) and (common_dir / lock).exists():
            (common_dir / lock).unlink()
            removed.append(f"the lock {lock}")
        marker.unlink(missing_ok=True)
        lines.append(f"modelfold: removed {' and '.join(removed)} left by a killed run (pid {pid})")
    for tmp in folder.glob("run-*.json.tmp") if folder.is_dir() else []:
        tmp.unlink(missing_ok=True)
    if lines:
        subprocess.run(["git", f"--git-dir={git_dir}", "worktree", "prune"], capture_output=True)
    return lines


def _owned_lock(lock: str) -> bool:
    """A branch lock path as `note_lock` writes it: below refs/heads/, no way out of it."""
    return lock.startswith("refs/heads/") and lock.endswith(".lock") and ".." not in lock.split("/")


@contextmanager
def marked_run(common_dir: Path, scratch: Path) -> Iterator[Run]:
    """Mark a run for its lifetime (the marker goes when the block exits, however it exits)."""
    folder = common_dir / RUNS_DIR
    folder.mkdir(exist_ok=True)
    marker = folder / f"run-{os.getpid()}-{secrets.token_hex(4)}.json"
    run = Run(marker, scratch, scratch / "tree")
    _write(marker, {"pid": os.getpid(), "scratch": str(scratch), "tree": str(run.tree)})
    try:
        yield run
    finally:
        marker.unlink(missing_ok=True)
        with suppress(OSError):
            folder.rmdir()


def note_lock(run: Run, ref: str) -> None:
    """Record that the run is about to update `ref` (so a kill leaves a lock the next run owns)."""
    doc = json.loads(run.marker.read_text(encoding="utf-8"))
    doc["lock"] = ref + ".lock"
    _write(run.marker, doc)
