"""Stage migrations as a git branch: scratch worktree of the start commit, write, verify, commit."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import git

from codemods.diff import combined_changeset, write_changes
from codemods.progress import NO_PROGRESS, Progress
from codemods.report import commit_message
from codemods.safety import _checks as checks
from codemods.safety import _faults as faults
from codemods.stage import _refs, _runs
from codemods.stage import _verify as verify_mod
from codemods.stage._cache import SnapshotCache, snapshot_cache
from codemods.stage._tree import head_commit, init_submodules, refuse_moved_since
from codemods.types import Changeset, Migration, ModelfoldError, StageResult, Verification

NO_HOOKS = "core.hooksPath=" + os.devnull
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "modelfold", "GIT_AUTHOR_EMAIL": "modelfold@localhost",
    "GIT_COMMITTER_NAME": "modelfold", "GIT_COMMITTER_EMAIL": "modelfold@localhost",
}
MAX_LABEL = 60  # of the table name in a default branch name (a ref component must fit a file name)


class VerificationFailed(ModelfoldError):
    """The migrated tree did not import, map or pass its tests; nothing was committed."""

    def __init__(self, message: str, verification: Verification) -> None:
        super().__init__(message)
        self.verification = verification


def open_repo(root: Path) -> tuple[git.Repo, str]:
    """The repository holding root and root's POSIX path inside it ("" at the top)."""
    probe = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True)
    if "dubious ownership" in probe.stderr:
        raise ModelfoldError(f"git refuses the repository at {root}: it is owned by another user "
                             "(see `git config --global --add safe.directory`)")
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


def start_commit(root: Path) -> str | None:
    """HEAD's commit now (record it before planning, pass it to `stage`); None outside git."""
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=root,
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def default_branch(migrations: Sequence[Migration]) -> str:
    """`modelfold/<table>-<8 hex of the change>` (`auto` instead of the table for several)."""
    combined = combined_changeset(migrations)
    digest = hashlib.sha256()
    for change in combined.changes:
        digest.update(change.path.encode() + b"\0" + change.after.encode() + b"\0")
    label = migrations[0].table if len(migrations) == 1 else "auto"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in label)[:MAX_LABEL]
    return f"modelfold/{safe.strip('.-') or 'model'}-{digest.hexdigest()[:8]}"


def _in_repo(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path


def check_stageable(
    repo: git.Repo, prefix: str, changeset: Changeset, branch: str, force: bool,
) -> str | None:
    """Refuse (ModelfoldError) when staging would lose work or clobber a ref; creates nothing.
    Returns the commit the branch points at now (None when it is new)."""
    if head_commit(repo) is None:
        raise ModelfoldError("the repository has no commit yet (HEAD is missing); commit first")
    old = _refs.check_branch(Path(repo.git_dir), Path(repo.common_dir), branch, force)
    paths = {_in_repo(prefix, c.path) for c in changeset.changes}
    if paths:
        status = repo.git.status("--porcelain", "-z", "--untracked-files=all", "--", prefix or ".")
        for entry in status.split("\0"):
            if entry[3:] in paths:
                raise ModelfoldError(
                    f"uncommitted changes in {entry[3:]} (and the migration changes it); commit or stash first"
                )
    return old


def _moved_names(migrations: Sequence[Migration]) -> list[str]:
    return sorted({d.class_name for m in migrations for d in m.consolidation.duplicates})


def stage(
    root: Path, migrations: Sequence[Migration], *, branch: str | None = None, force: bool = False,
    excludes: Sequence[str] = (), test_cmd: str | None = None, run_verify: bool = True,
    timeout: float = 120.0, python: str | None = None, base: str | None = None,
    note: Callable[[str], None] | None = None, progress: Progress = NO_PROGRESS,
) -> StageResult:
    """Commit the migrations (one commit each) on a new branch built, in a scratch worktree, from
    `base` (the commit HEAD was at when planning started; default HEAD now)."""
    if not migrations:
        raise ModelfoldError("nothing to stage")
    checks.validate_test_cmd(test_cmd)
    checks.validate_python(python)
    checks.validate_excludes(excludes)
    repo, prefix = open_repo(root)
    git_dir, common = Path(repo.git_dir), Path(repo.common_dir)
    for line in _runs.prune_stale(git_dir, common):
        (note or _stderr_note)(line)
    combined = combined_changeset(migrations)
    name = _refs.normalise_branch(branch or default_branch(migrations))
    old = check_stageable(repo, prefix, combined, name, force)
    start = base or head_commit(repo)
    assert start is not None  # check_stageable refused a repository without a commit
    refuse_moved_since(repo, prefix, start, combined)
    checks.refuse_hidden(Path(root), [*(c.path for c in combined.changes), *combined.parsed],
                         _moved_names(migrations))
    interpreter = verify_mod.find_python(Path(root).resolve(), python)
    if run_verify:
        (note or _stderr_note)(f"verify: python {interpreter.path} ({interpreter.reason})")
    python = interpreter.path
    scratch = Path(tempfile.mkdtemp(prefix="modelfold-"))
    commits: list[str] = []
    with faults.terminate_as_interrupt(), _runs.marked_run(common, scratch) as run:
        try:
            faults.checkpoint("stage.worktree")
            repo.git(c=NO_HOOKS).worktree("add", "--detach", "--quiet", str(run.tree), start)
            init_submodules(Path(repo.working_tree_dir or root), run.tree)
            base_dir = run.tree / prefix if prefix else run.tree
            cache = snapshot_cache(common, Path(repo.working_tree_dir or root), start, prefix, migrations,
                                   excludes, python, timeout) if run_verify else None
            verification = _verify(base_dir, migrations, combined, excludes, test_cmd, timeout,
                                   python, progress, cache) if run_verify else None
            progress.phase("committing", len(migrations))
            commits = _commit_each(run.tree, prefix, base_dir, migrations, scratch, progress)
            _runs.note_lock(run, _refs.HEADS + name)
            faults.checkpoint("stage.ref")
            _refs.update_branch(git_dir, common, name, commits[-1], old)
            faults.checkpoint("stage.done")
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: say what is left (the CLI prints it)
            made = bool(commits) and _refs.points_at(git_dir, name, commits[-1])
            exc.add_note(f"branch {name} was staged in full" if made else f"branch {name} was not created or moved")
            raise
        finally:
            _remove_worktree(repo, scratch)
    return StageResult(name, commits[-1], tuple(commits), tuple(c.path for c in combined.changes),
                       verification)


def _stderr_note(line: str) -> None:
    sys.stderr.write(line + "\n")


def _verify(
    base: Path, migrations: Sequence[Migration], combined: Changeset, excludes: Sequence[str],
    test_cmd: str | None, timeout: float, python: str, progress: Progress, cache: SnapshotCache | None,
) -> Verification:
    before = verify_mod.snapshot_before(base, migrations, excludes=excludes, test_cmd=test_cmd,
                                        timeout=timeout, python=python, progress=progress, cache=cache)
    for m in migrations:
        write_changes(base, m.changeset)
    faults.checkpoint("stage.verify")
    verification = verify_mod.check_after(base, migrations, before, excludes=excludes,
                                          test_cmd=test_cmd, timeout=timeout, python=python,
                                          progress=progress)
    if not verification.ok:
        first = (verification.regressions or verification.messages or ("check failed",))[0]
        raise VerificationFailed(f"verification failed: {first}", verification)
    _restore(base, combined)
    return verification


def _restore(base: Path, combined: Changeset) -> None:
    """Put the scratch tree back at HEAD's text for every file the migrations touch."""
    for change in combined.changes:
        if change.before is None:
            (base / change.path).unlink(missing_ok=True)
        else:
            from codemods.scan import encode_source, writable_path

            writable_path(base, change.path).write_bytes(encode_source(change.before))


def _git(tree: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-c", NO_HOOKS, *args], cwd=tree, input=stdin, capture_output=True)


def _commit_each(
    tree: Path, prefix: str, base: Path, migrations: Sequence[Migration], scratch: Path,
    progress: Progress = NO_PROGRESS,
) -> list[str]:
    """One commit per migration; paths and message go through stdin and a file, never argv."""
    commits: list[str] = []
    for i, m in enumerate(migrations):
        progress.advance(m.table)
        write_changes(base, m.changeset)
        paths = [_in_repo(prefix, c.path) for c in m.changeset.changes]
        if not paths:
            continue
        listing = "\0".join(paths).encode("utf-8", "surrogateescape")
        added = _git(tree, "add", "--pathspec-from-file=-", "--pathspec-file-nul", stdin=listing)
        if added.returncode != 0:
            raise ModelfoldError(f"git add failed in the scratch worktree: {added.stderr.decode().strip()}")
        message = scratch / "message.txt"
        message.write_text(commit_message(m), encoding="utf-8")
        args = ("commit", "--no-verify", "--quiet", "-F", str(message))
        done = _git(tree, *args)
        if done.returncode != 0:
            error = done.stderr.decode("utf-8", "replace")
            if "identity" not in error and "tell me who you are" not in error:
                raise ModelfoldError(f"git commit failed in the scratch worktree: {error.strip()}")
            done = subprocess.run(["git", "-c", NO_HOOKS, *args], cwd=tree, capture_output=True,
                                  env={**os.environ, **FALLBACK_IDENTITY})
            if done.returncode != 0:
                raise ModelfoldError(f"git commit failed: {done.stderr.decode().strip()}")
        commits.append(_git(tree, "rev-parse", "HEAD").stdout.decode().strip())
        faults.checkpoint(f"stage.commit.{i}")
    if not commits:
        raise ModelfoldError("the migrations change no file; nothing to commit")
    return commits


def _remove_worktree(repo: git.Repo, scratch: Path) -> None:
    """Move the scratch folder aside and drop the worktree's bookkeeping, whatever happened before;
    the files are deleted by a detached `rm -rf` (on 10,000 files a busy disk takes seconds), or
    here when the folder cannot be moved or there is no POSIX shell. (`git worktree remove` checks
    every file for changes: twenty seconds on 5,000 files.)"""
    trash = scratch.with_name(scratch.name + "-removed")
    try:
        os.rename(scratch, trash)
    except OSError:
        trash = scratch
    if trash == scratch or not _discard_detached(trash):
        shutil.rmtree(trash, ignore_errors=True)
    repo.git.worktree("prune")


def _discard_detached(folder: Path) -> bool:
    """Start `rm -rf folder` outside our process group, without waiting for it; False when it cannot."""
    shell = shutil.which("sh") if os.name == "posix" else None
    if shell is None:
        return False
    done = subprocess.run([shell, "-c", 'rm -rf -- "$1" >/dev/null 2>&1 </dev/null &', "sh", str(folder)],
                          start_new_session=True, capture_output=True)
    return done.returncode == 0
