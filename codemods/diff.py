"""Render a Changeset as a git-style unified diff, combine changesets, and write one atomically."""

from __future__ import annotations

import difflib
import io
import tokenize
from collections.abc import Sequence
from pathlib import Path

from codemods import scan
from codemods.newlines import LONE_CR, split_endings
from codemods.types import Changeset, FileChange, Migration, ModelfoldError, Skipped

NO_NEWLINE = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    """Split on "\\n" only (keeping it), so "\\r" and form feeds stay inside their line; in a file
    with lone CRs (old Mac) a lone CR ends a line too, shown as CR LF, so the diff reads line by line
    (git sees such a file as one line: the patch is for reading, `git apply` refuses it)."""
    if "\r" in text and LONE_CR.search(text):
        return [content + end + ("\n" if end == "\r" else "") for content, end in split_endings(text)]
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def quote_path(prefixed: str) -> str:
    """A path as git prints it in a diff header: C-quoted when it holds a quote, a backslash, a
    control character or a non-ASCII byte (so a newline in a name cannot break the header)."""
    raw = prefixed.encode("utf-8", "surrogateescape")
    if not any(b < 0x20 or b >= 0x7F or b in (0x22, 0x5C) for b in raw):
        return prefixed
    named = {0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r",
             0x22: '"', 0x5C: "\\"}
    out = []
    for b in raw:
        if b in named:
            out.append("\\" + named[b])
        elif b < 0x20 or b >= 0x7F:
            out.append(f"\\{b:03o}")
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'


def file_diff(change: FileChange) -> str:
    """The git-style unified diff of one file (`a/` `b/` headers; `new file` for a new one)."""
    path = change.path
    before = _lines(change.before or "")
    after = _lines(change.after)
    old, new = quote_path(f"a/{path}"), quote_path(f"b/{path}")
    header = [f"diff --git {old} {new}\n"]
    if change.before is None:
        header.append("new file mode 100644\n")
        fromfile = "/dev/null"
    else:
        fromfile = old
    if before == after:
        return "" if change.before is not None else "".join(header)
    out = list(header)
    body = difflib.unified_diff(before, after, fromfile=fromfile, tofile=new, n=3)
    for i, line in enumerate(body):
        if i < 2:  # the ---/+++ lines: difflib appends no newline when lineterm is given as "\n"
            out.append(line if line.endswith("\n") else line + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)


def render_diff(changeset: Changeset) -> str:
    """The whole Changeset as one patch that `git apply` accepts (lone-CR files aside), files in path order."""
    return "".join(file_diff(c) for c in sorted(changeset.changes, key=lambda c: c.path))


def combine(changesets: Sequence[Changeset]) -> Changeset:
    """Fold changesets applied one after another into one: first `before`, last `after`."""
    merged: dict[str, FileChange] = {}
    warnings: list[str] = []
    mentions: list[str] = []
    parsed: list[str] = []
    skipped: dict[str, Skipped] = {}
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
        skipped.update((s.path, s) for s in cs.skipped if s.path not in skipped)
    changes = tuple(
        c for _, c in sorted(merged.items()) if c.before is None or c.before != c.after
    )
    return Changeset(changes, tuple(warnings), tuple(sorted(mentions)), tuple(sorted(parsed)),
                     tuple(s for _, s in sorted(skipped.items())))


def combined_changeset(migrations: Sequence[Migration]) -> Changeset:
    """Every file the migrations change, as one changeset (they were planned one after another)."""
    return combine([m.changeset for m in migrations])


def write_changes(root: Path, changeset: Changeset) -> None:
    """Write every file's `after` text under root, byte for byte (no newline translation), in
    the encoding its `coding:` line declares; never through a symlink."""
    for change in changeset.changes:
        target = scan.writable_path(root, change.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(scan.encode_source(change.after))


def apply_changeset(root: Path, changeset: Changeset) -> list[str]:
    """Write the Changeset into root all or nothing, through a journal (`codemods.safety._journal`).

    Refuses (ModelfoldError, nothing written) when a file no longer holds its `before`
    text or a new file already exists. Returns the paths written.
    """
    from codemods.safety._journal import apply_journaled

    return apply_journaled(root, changeset)


def _string_rows(text: str) -> set[int] | None:
    """1-based rows inside a multi-line string token (their whitespace is data); None: untokenizable."""
    rows: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                rows.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return None
    return rows


def trim_added_whitespace(change: FileChange) -> FileChange:
    """The change without trailing whitespace on the lines it adds (`git diff --check` clean).

    Lines the file already had, and lines inside multi-line strings, are left as they are.
    """
    if not change.path.endswith(".py"):
        return change
    old = set((change.before or "").split("\n"))
    lines = change.after.split("\n")
    added = [i for i, line in enumerate(lines) if line != line.rstrip(" \t") and line not in old]
    if not added:
        return change
    inside = _string_rows(change.after)
    if inside is None:
        return change
    for i in added:
        if i + 1 not in inside:
            lines[i] = lines[i].rstrip(" \t")
    return FileChange(change.path, change.before, "\n".join(lines), change.summary)
