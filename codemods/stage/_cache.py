"""The "before" probes of a start commit, kept in the repository's git dir for the next run.

A staging run probes HEAD's tree before it writes anything; the outcome depends only on that
commit's files, the interpreter and its installed packages, and what is probed. The entry's key
covers them all: the start commit, the folder inside the repository, the excludes, the migrations'
classes and files, the timeout, the interpreter (its real path and file, and every entry of its
site-packages with its modification time and, for `.pth` files, their text), and modelfold's own
probe and verification code. An entry is neither read nor written when the user's working tree
has changes or untracked files (an editable install of another package of the repository would
import them), when the repository has submodules (the scratch tree fills them from the user's
checkouts), when the interpreter is not a virtualenv of its own (a system interpreter's
packages are not fingerprinted), or when a probe failed (a timeout may not happen again). The
source folder of an editable install outside the repository is not watched.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codemods.types import BeforeSnapshot, Migration

CACHE_DIR = ("modelfold-cache",)  # beside modelfold/, which holds only the markers of running runs
KEEP = 8  # entries kept per repository, newest first
TREE = "@@MODELFOLD-TREE@@"  # the scratch tree's path in messages: each run has its own
CODE = [Path(__file__).with_name(name) for name in ("_probe_script.py", "_verify.py", "_probe.py", "_cache.py")]


@dataclass(frozen=True)
class SnapshotCache:
    """Where one run's "before" probes are read from and written to."""

    path: Path

    def load(self, tree: Path) -> BeforeSnapshot | None:
        """The cached probes (no test run) as if run in tree, or None when there is no usable entry."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8").replace(TREE, _escaped(tree)))
            snapshot = BeforeSnapshot(doc["classes"], doc["tables"], {}, None, outcomes=doc["outcomes"],
                                      configure=tuple(doc["configure"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        os.utime(self.path)  # recently used: pruned last
        return snapshot

    def store(self, snapshot: BeforeSnapshot, tree: Path) -> None:
        """Keep the snapshot's probes made in tree (never one with a failed probe); drop the oldest entries."""
        if snapshot.errors:
            return
        doc = {"classes": snapshot.classes, "tables": snapshot.tables, "outcomes": snapshot.outcomes,
               "configure": list(snapshot.configure)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(doc, sort_keys=True).replace(_escaped(tree), TREE), encoding="utf-8")
            os.replace(tmp, self.path)
            entries = sorted(self.path.parent.glob("before-*.json"), key=lambda p: p.stat().st_mtime_ns,
                             reverse=True)
            for old in entries[KEEP:]:
                old.unlink(missing_ok=True)
        except OSError:
            return  # a cache that cannot be written is only slower


def _escaped(tree: Path) -> str:
    return json.dumps(str(tree.resolve()))[1:-1]


def interpreter_fingerprint(python: str) -> list[Any] | None:
    """What the interpreter's imports depend on: its binary and its site-packages listing; None
    when it is not a virtualenv of its own (or its system packages are visible)."""
    exe = Path(python)
    env = exe.parent.parent
    try:
        config = (env / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return None
    if "include-system-site-packages = true" in config.lower():
        return None
    sites = sorted([*env.glob("lib/python*/site-packages"), *env.glob("Lib/site-packages")])
    if not sites:
        return None
    real = exe.resolve()
    stat = real.stat()
    entries: list[Any] = [str(real), stat.st_mtime_ns, stat.st_size, config]
    for site in sites:
        for entry in sorted(os.scandir(site), key=lambda e: e.name):
            mtime = entry.stat(follow_symlinks=False).st_mtime_ns
            text = Path(entry.path).read_text("utf-8", "replace") if entry.name.endswith(".pth") else None
            entries.append([str(site), entry.name, mtime, text])
    return entries


def _clean(repo_top: Path) -> bool:
    done = subprocess.run(["git", "status", "--porcelain", "-z", "--untracked-files=normal"], cwd=repo_top,
                          capture_output=True)
    return done.returncode == 0 and not done.stdout


def snapshot_cache(
    common_dir: Path, repo_top: Path, start: str, prefix: str, migrations: Sequence[Migration],
    excludes: Sequence[str], python: str, timeout: float,
) -> SnapshotCache | None:
    """The cache entry for this run, or None when no entry can be trusted (see the module doc)."""
    if (repo_top / ".gitmodules").exists():
        return None  # the scratch tree's submodules come from the user's checkouts of them
    interpreter = interpreter_fingerprint(python)
    if interpreter is None or not _clean(repo_top):
        return None
    classes = [[model.ref, model.module, model.path] for m in migrations
               for model in (m.consolidation.canonical, *m.consolidation.duplicates)]
    files = [[c.path, c.before is None] for m in migrations for c in m.changeset.changes]
    key = json.dumps([start, prefix, list(excludes), classes, files, timeout, interpreter,
                      [hashlib.sha256(p.read_bytes()).hexdigest() for p in CODE]])
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return SnapshotCache(common_dir.joinpath(*CACHE_DIR, f"before-{digest}.json"))
