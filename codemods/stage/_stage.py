"""Stage migrations as a git branch: scratch worktree of HEAD, write, verify, commit (gitpython)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import git

from codemods.diff import combine, write_changes
from codemods.report import commit_message
from codemods.stage import _verify as verify_mod
from codemods.types import Changeset, Migration, ModelfoldError, StageResult, Verification

NO_HOOKS = "core.hooksPath=" + os.devnull
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "modelfold", "GIT_AUTHOR_EMAIL": "modelfold@localhost",
    "GIT_COMMITTER_NAME": "modelfold", "GIT_COMMITTER_EMAIL": "modelfold@localhost",
}


class VerificationFailed(ModelfoldError):
    """The migrated tree did not import, map or pass its tests; nothing was committed."""

    def __init__(self, message: str, verification: Verification) -> None:
        super().__init__(message)
        self.verification = verification


def open_repo(root: Path) -> tuple[git.Repo, str]:
    """The repository holding root and root's POSIX path inside it ("" at the top)."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ModelfoldError(
            f"{root} is not in a git repository; use --dry-run to preview or --apply to write files"
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        raise ModelfoldError(f"{root} is in a bare repository; use --dry-run or --apply")
    top = Path(repo.working_tree_dir).resolve()
    rel = Path(root).resolve().relative_to(top).as_posix()
    return repo, "" if rel == "." else rel


def default_branch(migrations: Sequence[Migration]) -> str:
    """`modelfold/<table>-<8 hex of the change>` (`auto` instead of the table for several)."""
    combined = combine([m.changeset for m in migrations])
    digest = hashlib.sha256()
    for change in combined.changes:
        digest.update(change.path.encode() + b"\0" + change.after.encode() + b"\0")
    label = migrations[0].table if len(migrations) == 1 else "auto"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in label).strip(".-") or "model"
    return f"modelfold/{safe}-{digest.hexdigest()[:8]}"


def _in_repo(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path


def check_stageable(repo: git.Repo, prefix: str, changeset: Changeset, branch: str, force: bool) -> None:
    """Refuse (ModelfoldError) when staging would lose work or clobber a ref; creates nothing."""
    if not repo.head.is_valid():
        raise ModelfoldError("the repository has no commit yet (HEAD is missing); commit first")
    try:
        repo.git.check_ref_format("--branch", branch)
    except git.GitCommandError:
        raise ModelfoldError(f"{branch!r} is not a valid branch name") from None
    if branch in [h.name for h in repo.heads]:
        if not force:
            raise ModelfoldError(f"branch {branch} already exists (use --force to replace it)")
        checked_out = repo.git.worktree("list", "--porcelain").splitlines()
        if f"branch refs/heads/{branch}" in checked_out:
            raise ModelfoldError(f"branch {branch} is checked out; switch away before replacing it")
    paths = [_in_repo(prefix, c.path) for c in changeset.changes]
    if paths:
        dirty = repo.git.status("--porcelain", "--untracked-files=all", "--", *paths)
        if dirty.strip():
            first = dirty.strip().splitlines()[0].split(maxsplit=1)[-1]
            raise ModelfoldError(
                f"uncommitted changes in {first} (and the migration changes it); commit or stash first"
            )


def stage(
    root: Path, migrations: Sequence[Migration], *, branch: str | None = None, force: bool = False,
    excludes: Sequence[str] = (), test_cmd: str | None = None, run_verify: bool = True,
    timeout: float = 120.0, python: str | None = None,
) -> StageResult:
    """Commit the migrations (one commit each) on a new branch built from HEAD in a scratch worktree."""
    if not migrations:
        raise ModelfoldError("nothing to stage")
    repo, prefix = open_repo(root)
    combined = combine([m.changeset for m in migrations])
    name = branch or default_branch(migrations)
    check_stageable(repo, prefix, combined, name, force)
    python = python or verify_mod.target_python(Path(root).resolve())
    scratch = Path(tempfile.mkdtemp(prefix="modelfold-"))
    tree = scratch / "tree"
    added = False
    try:
        repo.git(c=NO_HOOKS).worktree("add", "--detach", "--quiet", str(tree), "HEAD")
        added = True
        base = tree / prefix if prefix else tree
        verification = None
        if run_verify:
            before = verify_mod.snapshot_before(base, migrations, excludes=excludes,
                                                test_cmd=test_cmd, timeout=timeout, python=python)
            for m in migrations:
                write_changes(base, m.changeset)
            verification = verify_mod.check_after(base, migrations, before, excludes=excludes,
                                                  test_cmd=test_cmd, timeout=timeout, python=python)
            if not verification.ok:
                first = verification.messages[0] if verification.messages else "check failed"
                raise VerificationFailed(f"verification failed: {first}", verification)
            _restore(base, combined)
        commits = _commit_each(git.Repo(tree), prefix, base, migrations)
        repo.create_head(name, commits[-1], force=force)
    finally:
        _remove_worktree(repo, tree, scratch, added)
    return StageResult(name, commits[-1], tuple(commits), tuple(c.path for c in combined.changes),
                       verification)


def _restore(base: Path, combined: Changeset) -> None:
    """Put the scratch tree back at HEAD's text for every file the migrations touch."""
    for change in combined.changes:
        if change.before is None:
            (base / change.path).unlink(missing_ok=True)
        else:
            (base / change.path).write_bytes(change.before.encode("utf-8"))


def _commit_each(wt: git.Repo, prefix: str, base: Path, migrations: Sequence[Migration]) -> list[str]:
    commits: list[str] = []
    for m in migrations:
        write_changes(base, m.changeset)
        paths = [_in_repo(prefix, c.path) for c in m.changeset.changes]
        if not paths:
            continue
        wt.git(c=NO_HOOKS).add("--", *paths)
        message = commit_message(m)
        try:
            wt.git(c=NO_HOOKS).commit("--no-verify", "--quiet", "-m", message)
        except git.GitCommandError as exc:
            if "identity" not in str(exc) and "tell me who you are" not in str(exc):
                raise
            with wt.git.custom_environment(**FALLBACK_IDENTITY):
                wt.git(c=NO_HOOKS).commit("--no-verify", "--quiet", "-m", message)
        commits.append(wt.head.commit.hexsha)
    if not commits:
        raise ModelfoldError("the migrations change no file; nothing to commit")
    return commits


def _remove_worktree(repo: git.Repo, tree: Path, scratch: Path, added: bool) -> None:
    """Remove the scratch worktree and its bookkeeping, whatever happened before."""
    try:
        if added:
            repo.git.worktree("remove", "--force", str(tree))
    except git.GitCommandError:
        pass
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        repo.git.worktree("prune")
