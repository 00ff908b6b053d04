"""Checks made before any work: option values (for the CLI) and files git hides from `status`."""

from __future__ import annotations

import errno
import os
import shlex
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from codemods.types import ModelfoldError, Skipped

UNREADABLE = "cannot read it"  # the reason the index gives a file it may not read
HIDDEN_TAGS = {"S": "skip-worktree", "s": "skip-worktree", "h": "assume-unchanged"}


def validate_test_cmd(command: str | None) -> None:
    """Refuse a --test-cmd the shell-like split cannot read (an unbalanced quote, nothing)."""
    if command is None:
        return
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise ModelfoldError(f"--test-cmd {command!r}: {exc}") from None
    if not words:
        raise ModelfoldError("--test-cmd is empty")


def validate_python(python: str | None) -> None:
    """Refuse a --python that is no interpreter, by the rule `find_python` uses (a virtualenv folder is one)."""
    from codemods.stage._python import explicit_python  # one rule for the check and the choice

    if python is not None:
        explicit_python(python)


def validate_excludes(excludes: Sequence[str]) -> None:
    """Refuse an empty --exclude glob (it would match nothing, or everything)."""
    if any(not glob.strip() for glob in excludes):
        raise ModelfoldError("--exclude needs a non-empty glob")


def validate_report_path(report: Path | None) -> None:
    """Refuse a --report path in a missing folder, onto a folder, or onto a file git tracks."""
    if report is None:
        return
    path = Path(report)
    if path.is_dir():
        raise ModelfoldError(f"--report {report}: is a folder; give a file name")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ModelfoldError(f"--report {report}: folder {parent} does not exist")
    if path.exists():
        done = subprocess.run(["git", "ls-files", "--error-unmatch", "--", path.name],
                              cwd=parent, capture_output=True)
        if done.returncode == 0:
            raise ModelfoldError(f"--report {report}: a file git tracks; refusing to overwrite it")


def hidden_files(root: Path) -> dict[str, str]:
    """Files below root git hides from `status` (root-relative path -> flag): skip-worktree
    (sparse checkout) or assume-unchanged; empty outside git."""
    try:
        out = subprocess.run(["git", "ls-files", "-v", "-z", "--", "."], cwd=root,
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    hidden: dict[str, str] = {}
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        if entry and entry[0] in HIDDEN_TAGS:
            hidden[entry[2:]] = HIDDEN_TAGS[entry[0]]
    return hidden


def refuse_hidden(root: Path, paths: Iterable[str], names: Iterable[str]) -> None:
    """Refuse when a file the migration reads or changes is hidden from `git status`, or a file
    left out of the checkout names one of the moved classes (it would stay unrewritten)."""
    hidden = hidden_files(root)
    for path in sorted(set(paths)):
        if path in hidden:
            raise ModelfoldError(f"{path} is marked {hidden[path]} in git, and the migration reads or "
                                 "changes it; clear the flag (git update-index) first")
    tracked = _tracked_python(root)
    absent = [p for p in tracked if not os.path.isfile(root / p) or os.path.islink(root / p)]
    needles = sorted(set(names))
    if not absent or not needles:
        return
    args = ["git", "grep", "--cached", "-l", "-z", "-F", *[a for n in needles for a in ("-e", n)]]
    done = subprocess.run([*args, "--", "*.py"], cwd=root, capture_output=True)
    found = set(done.stdout.decode("utf-8", "surrogateescape").split("\0"))
    named = [p for p in absent if p in found]
    if named:
        first = sorted(named)[0]
        why = "is outside the sparse checkout" if first in hidden else "is missing from the working tree"
        raise ModelfoldError(f"{first} is not checked out ({why}) and names a moved class; "
                             "check it out first so it can be rewritten")


def _tracked_python(root: Path) -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--", "*.py"], cwd=root, capture_output=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def preflight(
    root: Path, *, branch: str | None = None, report: Path | None = None, test_cmd: str | None = None,
    python: str | None = None, excludes: Sequence[str] = (),
) -> list[str]:
    """Validate a migrate run's options before any work and roll back an interrupted --apply
    in root; returns the lines to tell the user (what was rolled back)."""
    from codemods.safety._journal import recover
    from codemods.stage._refs import normalise_branch

    validate_excludes(excludes)
    validate_test_cmd(test_cmd)
    validate_python(python)
    validate_report_path(report)
    if branch is not None:
        normalise_branch(branch)
    line = recover(Path(root)) if Path(root).is_dir() else None
    return [line] if line else []


def unreadable_files(root: Path, paths: Iterable[str]) -> dict[str, str]:
    """The files among paths (relative to root) this process may not read -> why (one access(2)
    each, no read). `git grep` skips such files without a word, so the listing is checked too."""
    found: dict[str, str] = {}
    base = str(root) + os.sep
    for rel in paths:
        if not os.access(base + rel, os.R_OK, follow_symlinks=False):
            found[rel] = os.strerror(errno.EACCES if os.path.lexists(base + rel) else errno.ENOENT)
    return found


def refuse_unreadable(skipped: Iterable[Skipped]) -> None:
    """Refuse a migration while a file of the tree cannot be read: it may name a moved class."""
    for item in skipped:
        if item.reason.startswith(UNREADABLE):
            raise ModelfoldError(f"{item.path}: {item.reason}; the migration must read every file to "
                                 "rewrite its references (fix its permissions or --exclude it)")
