"""Render a Changeset as a git-style unified diff, combine changesets, and write one atomically."""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from codemods.types import Changeset, FileChange, ModelfoldError

NO_NEWLINE = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    """Split on "\\n" only (keeping it), so "\\r" and form feeds stay inside their line."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def file_diff(change: FileChange) -> str:
    """The git-style unified diff of one file (`a/` `b/` headers; `new file` for a new one)."""
    path = change.path
    before = _lines(change.before or "")
    after = _lines(change.after)
    header = [f"diff --git a/{path} b/{path}\n"]
    if change.before is None:
        header.append("new file mode 100644\n")
        fromfile = "/dev/null"
    else:
        fromfile = f"a/{path}"
    if before == after:
        return "" if change.before is not None else "".join(header)
    out = list(header)
    body = difflib.unified_diff(before, after, fromfile=fromfile, tofile=f"b/{path}", n=3)
    for i, line in enumerate(body):
        if i < 2:  # the ---/+++ lines: difflib appends no newline when lineterm is given as "\n"
            out.append(line if line.endswith("\n") else line + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)


def render_diff(changeset: Changeset) -> str:
    """The whole Changeset as one patch that `git apply` accepts, files in path order."""
    return "".join(file_diff(c) for c in sorted(changeset.changes, key=lambda c: c.path))


def combine(changesets: Sequence[Changeset]) -> Changeset:
    """Fold changesets applied one after another into one: first `before`, last `after`."""
    merged: dict[str, FileChange] = {}
    warnings: list[str] = []
    mentions: list[str] = []
    parsed: list[str] = []
    for cs in changesets:
        for change in cs.changes:
            prior = merged.get(change.path)
            if prior is None:
                merged[change.path] = change
                continue
            if prior.after != (change.before or ""):
                raise ModelfoldError(f"changesets disagree on the text of {change.path}")
            parts = [p for p in (*prior.summary.split("; "), *change.summary.split("; ")) if p]
            summary = "; ".join(dict.fromkeys(parts))  # --auto: one summary per kind of edit, not per group
            merged[change.path] = FileChange(change.path, prior.before, change.after, summary)
        warnings += [w for w in cs.warnings if w not in warnings]
        mentions += [m for m in cs.mentions if m not in mentions]
        parsed += [p for p in cs.parsed if p not in parsed]
    changes = tuple(
        c for _, c in sorted(merged.items()) if c.before is None or c.before != c.after
    )
    return Changeset(changes, tuple(warnings), tuple(sorted(mentions)), tuple(sorted(parsed)))


def write_changes(root: Path, changeset: Changeset) -> None:
    """Write every file's `after` text under root, byte for byte (no newline translation)."""
    for change in changeset.changes:
        target = root / change.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(change.after.encode("utf-8"))


def apply_changeset(root: Path, changeset: Changeset) -> list[str]:
    """Write the Changeset into root atomically: all temp files first, then os.replace each.

    Refuses (ModelfoldError, nothing written) when a file no longer holds its `before`
    text or a new file already exists. Returns the paths written.
    """
    for change in changeset.changes:
        target = root / change.path
        if change.before is None:
            if target.exists():
                raise ModelfoldError(f"{change.path} already exists; refusing to overwrite it")
        elif not target.is_file() or target.read_bytes() != change.before.encode("utf-8"):
            raise ModelfoldError(f"{change.path} changed since the migration was planned")
    staged: list[tuple[str, Path]] = []
    try:
        for change in changeset.changes:
            target = root / change.path
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".modelfold", dir=target.parent)
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(change.after.encode("utf-8"))
            mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
            os.chmod(tmp, mode)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    return [c.path for c in changeset.changes]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
