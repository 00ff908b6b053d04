"""Line endings kept as each file has them: lone CRs (old Mac) are read as LF, and put back afterwards.

libcst cannot round-trip a file whose lines end with a lone CR (it joins them), and Python reads a
lone CR as a line break anyway, so `scan.read_text` hands every stage such a file with LF in
their place. `keep_endings` then gives each changed file its own endings back: a line the
migration kept or edited in place ends as it did in the file (CR, LF or CRLF, line by line in a
mixed file), a new line ends with the file's most common ending, and a file without a final
newline still has none.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter
from pathlib import Path

from codemods.types import Changeset, FileChange, ModelfoldError

LONE_CR = re.compile("\r(?!\n)")
LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


def lf_for_lone_cr(text: str) -> str:
    """The text with every lone CR read as LF (CRLF and LF left as they are)."""
    return LONE_CR.sub("\n", text) if "\r" in text else text


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
    from codemods import scan

    changes: list[FileChange] = []
    for change in changeset.changes:
        if change.before is None:
            changes.append(change)
            continue
        stored = scan.read_text(root, change.path, as_stored=True)
        if stored == change.before and "\r" not in stored:
            changes.append(change)
        elif lf_for_lone_cr(stored) != change.before:
            raise ModelfoldError(f"{change.path} changed since the migration was planned; run it again")
        else:
            changes.append(dataclasses.replace(change, before=stored, after=restore_endings(stored, change.after)))
    return dataclasses.replace(changeset, changes=tuple(changes))
