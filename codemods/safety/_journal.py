"""`--apply` made recoverable: a journal of every target, its temp file and its original bytes.

The journal is written (atomically) before the first temp file and removed after the last
rename. Any failure, Ctrl-C or SIGTERM on the way rolls the tree back in-process; a run killed
outright leaves the journal, and the next run rolls it back (`recover`) before it plans.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codemods import scan
from codemods.safety import _faults as faults
from codemods.types import Changeset, ModelfoldError

JOURNAL = ".modelfold-journal"


def pending(root: Path) -> Path | None:
    """The journal an interrupted --apply left in root, if any."""
    path = root / JOURNAL
    return path if path.exists() or (root / (JOURNAL + ".tmp")).exists() else None


def refuse_pending(root: Path) -> None:
    """Refuse to plan on a tree an interrupted --apply left half-written."""
    if pending(root) is not None:
        raise ModelfoldError(
            f"an interrupted --apply left {JOURNAL} in {root}; run `modelfold migrate` on this "
            "root to roll it back first"
        )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _check_before(root: Path, changeset: Changeset) -> None:
    for change in changeset.changes:
        target = scan.writable_path(root, change.path)
        if change.before is None:
            if target.exists():
                raise ModelfoldError(f"{change.path} already exists; refusing to overwrite it")
            continue
        try:
            current = target.read_bytes() if target.is_file() else None
        except OSError as exc:
            raise ModelfoldError(f"{change.path}: cannot read it ({exc.strerror})") from None
        if current != scan.encode_source(change.before):
            raise ModelfoldError(f"{change.path} changed since the migration was planned")


def _plan_entries(root: Path, changeset: Changeset) -> tuple[list[dict[str, Any]], list[str]]:
    token = secrets.token_hex(4)
    entries: list[dict[str, Any]] = []
    dirs: list[str] = []
    for i, change in enumerate(changeset.changes):
        parent = Path(change.path).parent
        missing = [p for p in [parent, *parent.parents] if str(p) != "." and not (root / p).exists()]
        dirs += [p.as_posix() for p in reversed(missing) if p.as_posix() not in dirs]
        before = None if change.before is None else scan.encode_source(change.before)
        entries.append({
            "path": change.path,
            "temp": (parent / f".modelfold-{token}-{i}.tmp").as_posix(),
            "before": None if before is None else base64.b64encode(before).decode("ascii"),
            "after": _digest(scan.encode_source(change.after)),
        })
    return entries, dirs


def apply_journaled(root: Path, changeset: Changeset) -> list[str]:
    """Write the Changeset into root all or nothing, recoverable if the process is killed.

    Refuses (ModelfoldError, nothing written) when a file no longer holds its `before` text,
    a new file already exists, or a path goes through a symlink. Returns the paths written.
    """
    refuse_pending(root)
    _check_before(root, changeset)
    entries, dirs = _plan_entries(root, changeset)
    journal = {"version": 1, "entries": entries, "dirs": dirs}
    with faults.terminate_as_interrupt():
        _write_atomic(root / JOURNAL, json.dumps(journal).encode("utf-8"))
        try:
            faults.checkpoint("apply.journal")
            _write_temps(root, changeset, entries, dirs)
            for i, entry in enumerate(entries):
                os.replace(root / entry["temp"], root / entry["path"])
                faults.checkpoint(f"apply.rename.{i}")
        except BaseException as exc:
            restored = _roll_back(root, journal)
            if isinstance(exc, KeyboardInterrupt):  # Ctrl-C or SIGTERM: say what is left (the CLI prints it)
                exc.add_note(f"--apply was rolled back ({restored} file(s) restored); the tree is as it was")
            raise
        (root / JOURNAL).unlink()
        try:
            faults.checkpoint("apply.done")
        except KeyboardInterrupt as exc:
            exc.add_note(f"--apply had written all {len(entries)} file(s)")
            raise
    return [c.path for c in changeset.changes]


def _write_temps(root: Path, changeset: Changeset, entries: list[dict[str, Any]], dirs: list[str]) -> None:
    for d in dirs:
        (root / d).mkdir()
    mask = os.umask(0)
    os.umask(mask)
    for i, (change, entry) in enumerate(zip(changeset.changes, entries, strict=False)):
        target = root / change.path
        mode = target.stat().st_mode & 0o7777 if change.before is not None else 0o666 & ~mask
        fd = os.open(root / entry["temp"], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(scan.encode_source(change.after))
        os.chmod(root / entry["temp"], mode)
        faults.checkpoint(f"apply.temp.{i}")


def _roll_back(root: Path, journal: dict[str, Any]) -> int:
    """Put every journalled file back as it was; remove temps, new directories, the journal."""
    entries: Sequence[dict[str, Any]] = journal["entries"]
    try:  # a journal committed by a hostile repository must not write outside the root
        for rel in [*(e[k] for e in entries for k in ("path", "temp")), *journal.get("dirs", [])]:
            scan.writable_path(root, str(rel))
    except (ModelfoldError, KeyError, TypeError) as exc:
        raise ModelfoldError(f"{root / JOURNAL} is not a journal modelfold wrote ({exc}); "
                             "remove it by hand") from None
    for entry in entries:
        target = root / entry["path"]
        current = None if scan.symlink_in(root, entry["path"]) else _read(target)
        if entry["before"] is None:
            if current is not None and _digest(current) != entry["after"]:
                raise ModelfoldError(f"{entry['path']} changed since the interrupted --apply; "
                                     f"resolve it by hand, then remove {JOURNAL}")
        elif current is not None and current != base64.b64decode(entry["before"]) \
                and _digest(current) != entry["after"]:
            raise ModelfoldError(f"{entry['path']} changed since the interrupted --apply; its "
                                 f"original is in {JOURNAL}: resolve it by hand, then remove the journal")
    restored = 0
    for entry in entries:
        target = root / entry["path"]
        (root / entry["temp"]).unlink(missing_ok=True)
        if entry["before"] is None:
            if target.exists():
                target.unlink()
                restored += 1
            continue
        original = base64.b64decode(entry["before"])
        if _read(target) != original:
            mode = target.stat().st_mode & 0o7777 if target.exists() else None
            _write_atomic(target, original)
            if mode is not None:
                os.chmod(target, mode)
            restored += 1
    for d in reversed(journal.get("dirs", [])):
        with contextlib.suppress(OSError):
            (root / d).rmdir()
    (root / JOURNAL).unlink(missing_ok=True)
    (root / (JOURNAL + ".tmp")).unlink(missing_ok=True)
    return restored


def recover(root: Path) -> str | None:
    """Roll back what an interrupted --apply left in root; one line saying so, or None."""
    path = pending(root)
    if path is None:
        return None
    if not path.exists():  # killed while writing the journal: nothing was written yet
        (root / (JOURNAL + ".tmp")).unlink()
        return f"removed {JOURNAL}.tmp left by an --apply killed before it wrote anything"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", "--", JOURNAL], cwd=root,
                             capture_output=True)
    if tracked.returncode == 0:
        raise ModelfoldError(f"{path} is tracked by git, so modelfold did not leave it; remove it "
                             "from the repository (modelfold never rolls back from a committed journal)")
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelfoldError(f"{path} is unreadable ({exc}); restore the files by hand") from None
    restored = _roll_back(root, journal)
    return (f"rolled back an interrupted --apply: {restored} of {len(journal['entries'])} "
            f"file(s) restored from {JOURNAL}")


def apply_migrations(root: Path, changesets: Sequence[Changeset], moved: Sequence[str]) -> list[str]:
    """Apply chained changesets as one (`apply_journaled`), refusing files git hides from status."""
    from codemods.diff import combine
    from codemods.safety._checks import refuse_hidden

    combined = combine(changesets)
    refuse_hidden(root, [*(c.path for c in combined.changes), *combined.parsed], moved)
    return apply_journaled(root, combined)
