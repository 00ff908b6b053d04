"""Non-Python files (docs, config) that mention an old location: listed in the report, never edited."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from codemods import scan

TEXT_SUFFIXES = frozenset({".md", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".txt", ".rst"})


def text_files(root: Path) -> list[str]:
    """Relative POSIX paths of the tree's docs/config files: git's view in a repo, else a walk."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=root, capture_output=True, check=True,
        ).stdout
        paths = [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in scan.SKIP_DIRS)
            rel = Path(dirpath).relative_to(root)
            paths.extend((rel / name).as_posix() for name in filenames)
    return sorted(p for p in set(paths) if Path(p).suffix.lower() in TEXT_SUFFIXES and (root / p).is_file())


DOCS_PATHSPECS = tuple(f":(icase)*{suffix}" for suffix in sorted(TEXT_SUFFIXES))


def find_mentions(root: Path, needles: Iterable[str], candidates: Iterable[str] | None = None) -> tuple[str, ...]:
    """`path:line: needle` for each line of a docs/config file naming an old location.

    `candidates`: the docs/config files that may mention one (a superset, e.g. from a git grep the
    caller ran anyway); else, in a git work tree, git grep picks them, and outside one all are read.
    """
    wanted = sorted(set(needles), key=lambda n: (-len(n), n))
    if candidates is None:
        candidates = scan.grep_files(root, wanted, DOCS_PATHSPECS)
    found: list[str] = []
    for rel in text_files(root) if candidates is None else sorted(candidates):
        try:
            text = (root / rel).read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if not any(n in text for n in wanted):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            hits = [n for n in wanted if _mentions(line, n)]
            if hits:
                found.append(f"{rel}:{number}: {hits[0]}")
    return tuple(found)


def _mentions(line: str, needle: str) -> bool:
    """The needle appears as a whole dotted name (not as the prefix of a longer one)."""
    start = line.find(needle)
    while start != -1:
        end = start + len(needle)
        before = line[start - 1] if start else " "
        after = line[end] if end < len(line) else " "
        if not (before.isalnum() or before in "._") and not (after.isalnum() or after == "_"):
            return True
        start = line.find(needle, start + 1)
    return False
