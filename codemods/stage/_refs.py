"""Branch names and the branch ref: git's own rules, never a checked-out branch, no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

from codemods.types import ModelfoldError

HEADS = "refs/heads/"


def normalise_branch(name: str) -> str:
    """The branch name `refs/heads/x` or `x` stands for, validated with `git check-ref-format --branch`.

    `@{-N}` and `@{upstream}` forms are refused: they name another branch, not a new one.
    """
    short = name[len(HEADS):] if name.startswith(HEADS) else name
    if not short or "@{" in short or short.startswith("-") or short == "HEAD" or "\n" in short:
        raise ModelfoldError(f"{name!r} is not a valid branch name")
    done = subprocess.run(["git", "check-ref-format", "--branch", short],
                          capture_output=True, text=True, cwd="/")
    if done.returncode != 0 or done.stdout.strip() != short:
        raise ModelfoldError(f"{name!r} is not a valid branch name")
    return short


def _run(git_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True)


def check_branch(git_dir: Path, common_dir: Path, name: str, force: bool) -> str | None:
    """Refuse a branch that is checked out anywhere, exists (without force), or collides with a
    ref directory; return the commit it points at now (None when new)."""
    listing = _run(git_dir, "worktree", "list", "--porcelain").stdout.splitlines()
    if f"branch {HEADS}{name}" in listing:
        raise ModelfoldError(f"branch {name} is checked out in a worktree; modelfold never moves it")
    refs = _run(git_dir, "for-each-ref", "--format=%(refname)", HEADS).stdout.splitlines()
    full = HEADS + name
    below = [r for r in refs if r.startswith(full + "/")]
    above = [r for r in refs if full.startswith(r + "/")]
    if below or above:
        other = (below or above)[0][len(HEADS):]
        raise ModelfoldError(f"branch name {name} collides with the existing branch {other}")
    _refuse_lock(common_dir, name)
    if full not in refs:
        return None
    if not force:
        raise ModelfoldError(f"branch {name} already exists (use --force to replace it)")
    return _run(git_dir, "rev-parse", "--verify", "--quiet", full).stdout.strip() or None


def update_branch(git_dir: Path, common_dir: Path, name: str, commit: str, old: str | None) -> None:
    """Point the branch at commit only if it still points at `old` (None: does not exist)."""
    expected = old or "0" * len(commit)
    done = _run(git_dir, "update-ref", "-m", "modelfold: stage migration", HEADS + name, commit, expected)
    if done.returncode == 0:
        return
    _refuse_lock(common_dir, name)
    first = (done.stderr.strip().splitlines() or ["update-ref failed"])[-1].removeprefix("fatal: ")
    raise ModelfoldError(f"cannot update branch {name}: {first}")


def points_at(git_dir: Path, name: str, commit: str) -> bool:
    """True when branch `name` points at commit."""
    return _run(git_dir, "rev-parse", "--verify", "--quiet", HEADS + name).stdout.strip() == commit


def _refuse_lock(common_dir: Path, name: str) -> None:
    lock = common_dir / (HEADS + name + ".lock")
    if lock.exists():
        raise ModelfoldError(f"{lock} exists: another git command is updating {name}, or one was "
                             "killed; remove the file if no git command is running")
