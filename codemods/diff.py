"""Render a Changeset as a git-style unified diff, combine changesets, and write one atomically.

Line endings are kept as each file has them. libcst cannot round-trip a file whose lines end with a
lone CR (old Mac: it joins them), and Python reads a lone CR as a line break anyway, so
`scan.read_text` hands every stage such a file with LF in their place. `keep_endings` then gives
each changed file its own endings back: a line the migration kept or edited in place ends as it
did in the file (CR, LF or CRLF, line by line in a mixed file), a new line ends with the file's
most common ending, and a file without a final newline still has none.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import re
import tokenize
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from codemods import scan
from codemods.types import Changeset, FileChange, Migration, ModelfoldError, Skipped

NO_NEWLINE = "\\ No newline at end of file\n"
LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


def _lines(text: str) -> list[str]:
    """Split on "\\n" only (keeping it), so "\\r" and form feeds stay inside their line; in a file
    with lone CRs (old Mac) a lone CR ends a line too, shown as CR LF, so the diff reads line by line
    (git sees such a file as one line: the patch is for reading, `git apply` refuses it)."""
    if "\r" in text and scan.LONE_CR.search(text):
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


def split_endings(text: str) -> list[tuple[str, str]]:
    """(content, ending) per line; the ending of an unterminated last line is ""."""
    lines = [(m.group(1), m.group(2)) for m in LINE.finditer(text)]
    if lines and lines[-1] == ("", ""):
        lines.pop()
    return lines


def main_ending(text: str) -> str:
    """The file's most common line ending (LF for a file of one line)."""
    counts = Counter(end for _, end in split_endings(text) if end)
    return max(counts, key=lambda end: (counts[end], end == "\n")) if counts else "\n"


def restore_endings(original: str, after: str) -> str:
    """`after` (edited from `original` read with LF for lone CRs) with the original's line endings."""
    if "\r" not in original:
        return after
    old, new = split_endings(original), split_endings(after)
    usual = main_ending(original)
    matcher = difflib.SequenceMatcher(None, [c for c, _ in old], [c for c, _ in new], autojunk=False)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(j2 - j1):
            content, end = new[j1 + k]
            if end and (tag == "equal" or (tag == "replace" and i1 + k < i2)):  # kept, or edited in place
                end = old[i1 + k][1] or usual
            elif end:
                end = usual
            out.append(content + end)
    return "".join(out)


def keep_endings(root: Path, changeset: Changeset) -> Changeset:
    """The changeset with each changed file's own line endings (its `before` as stored on disk)."""
    changes: list[FileChange] = []
    for change in changeset.changes:
        if change.before is None:
            changes.append(change)
            continue
        stored = scan.read_text(root, change.path, as_stored=True)
        if stored == change.before and "\r" not in stored:
            changes.append(change)
        elif scan.lf_for_lone_cr(stored) != change.before:
            raise ModelfoldError(f"{change.path} changed since the migration was planned; run it again")
        else:
            changes.append(dataclasses.replace(change, before=stored, after=restore_endings(stored, change.after)))
    return dataclasses.replace(changeset, changes=tuple(changes))
