"""The commit a staging run starts from, and the scratch worktree's submodules."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git

from codemods.types import Changeset, ModelfoldError


def head_commit(repo: git.Repo) -> str | None:
    """The commit HEAD points at, or None in a repository without one."""
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", "HEAD^{commit}")).strip() or None
    except git.GitCommandError:
        return None


def refuse_moved_since(repo: git.Repo, prefix: str, start: str, changeset: Changeset) -> None:
    """Refuse when a planned file, or any Python file, changed after planning started at `start`:
    in a commit made since (HEAD moved) or in the working tree."""
    head = head_commit(repo)
    root = Path(repo.working_tree_dir or ".") / prefix
    planned = {f"{prefix}/{c.path}" if prefix else c.path for c in changeset.changes}
    if head != start:
        try:
            names = repo.git.diff("--name-only", "-z", "--no-renames", start, head, "--", prefix or ".")
        except git.GitCommandError:
            raise ModelfoldError(f"the start commit {start} is not in this repository") from None
        moved = [n for n in names.split("\0") if n and (n in planned or n.endswith(".py"))]
        if moved:
            raise ModelfoldError(f"{moved[0]} changed in a commit made while modelfold planned "
                                 f"(HEAD moved from {start[:10]} to {(head or '?')[:10]}); run it again")
    from codemods.scan import encode_source

    for change in changeset.changes:
        target = root / change.path
        try:
            current = target.read_bytes() if not target.is_symlink() else None
        except FileNotFoundError:
            current = None
        except OSError as exc:
            raise ModelfoldError(f"{change.path}: cannot read it ({exc.strerror})") from None
        expected = None if change.before is None else encode_source(change.before)
        if current != expected:
            raise ModelfoldError(f"{change.path} changed since the migration was planned; run it again")


def init_submodules(source: Path, tree: Path) -> None:
    """Fill the scratch worktree's submodules from the user's checkouts of them (a shared local
    clone at the recorded commit, recursively); never the network, never the user's config."""
    listing = subprocess.run(["git", "ls-files", "-s", "-z"], cwd=tree, capture_output=True).stdout
    for entry in listing.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = entry.partition("\t")
        fields = meta.split()
        if len(fields) < 2 or fields[0] != "160000":
            continue
        origin, dest = source / path, tree / path
        if not (origin / ".git").exists():
            continue  # not initialised in the user's checkout either
        cloned = subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(origin), str(dest)],
                                capture_output=True)
        checked = subprocess.run(["git", "-c", "advice.detachedHead=false", "checkout", "--quiet", fields[1]],
                                 cwd=dest, capture_output=True) if cloned.returncode == 0 else cloned
        if checked.returncode != 0:
            raise ModelfoldError(f"submodule {path}: cannot check out {fields[1][:10]} from {origin}")
        init_submodules(origin, dest)
