"""Do no harm when staging: races, branch names, hidden files, killed runs, odd repositories.

Issue 17, items 2, 3, 5, 7, 12, 13 and 14 (ownership message). Verification is off unless the
item is about it, so these stay fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.migrate import plan_migration
from codemods.stage import stage
from codemods.stage._stage import start_commit
from codemods.types import ModelfoldError

from support.mini_project import SERVICE, SERVICE_AFTER, git, make_repo, migration, repo_state, run

REFS = ("pkg.modern:User", "pkg.legacy:User")


def heads(repo: Path) -> str:
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def commit_edit(repo: Path, rel: str, text: str) -> None:
    (repo / rel).write_text(text)
    git(repo, "commit", "-q", "-am", f"user edits {rel}")


def test_commit_made_while_planning_is_not_reverted_on_the_branch(repo: Path) -> None:
    planned = plan_migration(repo, *REFS[:1], [REFS[1]])
    commit_edit(repo, "pkg/service.py", SERVICE + "\n\ndef extra():\n    return 1\n")
    before = repo_state(repo)
    with pytest.raises(ModelfoldError, match="pkg/service.py changed since the migration was planned"):
        stage(repo, [planned], branch="mf/race", run_verify=False)
    assert repo_state(repo) == before


def test_commit_to_a_file_read_while_planning_aborts_and_the_start_commit_is_used(repo: Path) -> None:
    start = start_commit(repo)
    planned = plan_migration(repo, *REFS[:1], [REFS[1]])
    commit_edit(repo, "pkg/db.py", (repo / "pkg/db.py").read_text() + "# user edit\n")
    with pytest.raises(ModelfoldError, match="pkg/db.py changed in a commit made while modelfold planned"):
        stage(repo, [planned], branch="mf/race", run_verify=False, base=start)
    git(repo, "commit", "-q", "--allow-empty", "-m", "unrelated, no Python file")
    start = start_commit(repo)
    planned = plan_migration(repo, *REFS[:1], [REFS[1]])
    commit_edit(repo, "README.md", "edited while planning\n")
    result = stage(repo, [planned], branch="mf/ok", run_verify=False, base=start)
    assert git(repo, "rev-parse", f"{result.branch}~1").strip() == start  # built from the start


@pytest.mark.parametrize("force", [False, True])
def test_full_ref_name_of_the_checked_out_branch_is_refused(repo: Path, force: bool) -> None:
    before = repo_state(repo)
    with pytest.raises(ModelfoldError, match="branch main is checked out"):
        stage(repo, [migration()], branch="refs/heads/main", force=force, run_verify=False)
    assert repo_state(repo) == before


def test_branch_checked_out_in_another_worktree_is_refused_even_with_force(repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "other"))
    before = heads(repo)
    with pytest.raises(ModelfoldError, match="branch feature is checked out"):
        stage(repo, [migration()], branch="feature", force=True, run_verify=False)
    assert heads(repo) == before


@pytest.mark.parametrize(("branch", "message"), [
    ("@{-1}", "not a valid branch name"),
    ("-x", "not a valid branch name"),
    ("main/sub", "collides with the existing branch main"),
    ("mf", "collides with the existing branch mf/a"),
])
def test_branch_names_refused_in_one_line(repo: Path, branch: str, message: str) -> None:
    git(repo, "checkout", "-q", "-b", "mf/a")
    git(repo, "checkout", "-q", "main")
    before = repo_state(repo)
    code, out, err = run(*REFS, "--root", str(repo), "--branch", branch)
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert repo_state(repo) == before


def test_assume_unchanged_edit_is_refused_not_committed(repo: Path) -> None:
    git(repo, "update-index", "--assume-unchanged", "pkg/service.py")
    (repo / "pkg/service.py").write_text(SERVICE + "# hidden edit\n")
    planned = plan_migration(repo, *REFS[:1], [REFS[1]])
    with pytest.raises(ModelfoldError, match="pkg/service.py is marked assume-unchanged"):
        stage(repo, [planned], branch="mf/hidden", run_verify=False)
    with pytest.raises(ModelfoldError, match="pkg/service.py is marked assume-unchanged"):
        from codemods.safety._journal import apply_migrations

        apply_migrations(repo, [planned.changeset], ["User"])
    assert "hidden edit" in (repo / "pkg/service.py").read_text()


@pytest.mark.parametrize("mode", [["--dry-run"], ["--apply"], ["--branch", "mf/sparse"]])
def test_file_outside_the_sparse_checkout_naming_the_class_is_refused(repo: Path, mode: list[str]) -> None:
    git(repo, "update-index", "--skip-worktree", "pkg/service.py")
    (repo / "pkg/service.py").unlink()
    before = repo_state(repo)
    code, out, err = run(*REFS, "--root", str(repo), *mode)
    assert code == 2 and out == "", (out, err)
    assert err == ("error: pkg/service.py is not checked out (is outside the sparse checkout) and names a moved "
                   "class; check it out first so it can be rewritten\n")
    assert repo_state(repo) == before


KILLED_STAGE = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from support.mini_project import migration
from codemods.stage import stage
stage(Path({root!r}), [migration()], branch={branch!r}, run_verify=False)
"""


def killed_stage(repo: Path, step: str, branch: str) -> None:
    script = KILLED_STAGE.format(tests=str(Path(__file__).parent), root=str(repo), branch=branch)
    env = dict(os.environ, MODELFOLD_FAULT=f"{step}=kill")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert done.returncode == -9, done.stderr


def test_next_run_prunes_the_worktree_of_a_killed_run_in_one_line(repo: Path) -> None:
    killed_stage(repo, "stage.commit.0", "mf/killed")
    assert len(git(repo, "worktree", "list").splitlines()) == 2
    notes: list[str] = []
    result = stage(repo, [migration()], branch="mf/next", run_verify=False, note=notes.append)
    assert len(notes) == 1 and "removed scratch worktree" in notes[0] and "killed run" in notes[0]
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert not (repo / ".git" / "modelfold").exists()
    assert git(repo, "show", f"{result.branch}:pkg/service.py") == SERVICE_AFTER


def test_branch_lock_left_by_a_killed_run_is_removed_and_a_foreign_one_refused(repo: Path) -> None:
    killed_stage(repo, "stage.ref", "mf/locked")
    lock = repo / ".git" / "refs" / "heads" / "mf" / "locked.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("0" * 40 + "\n")  # as git leaves it when killed during the update
    notes: list[str] = []
    stage(repo, [migration()], branch="mf/locked", run_verify=False, note=notes.append)
    assert len(notes) == 1 and "refs/heads/mf/locked.lock" in notes[0]
    foreign = repo / ".git" / "refs" / "heads" / "mf" / "other.lock"
    foreign.write_text("0" * 40 + "\n")
    code, _, err = run(*REFS, "--root", str(repo), "--branch", "mf/other")
    assert code == 2 and "other.lock exists" in err and len(err.strip().splitlines()) == 1
    assert foreign.exists()


def test_repository_owned_by_another_user_says_so(repo: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the repository to another user")
    for path in [repo, *repo.rglob("*")]:
        os.chown(path, 65534, 65534, follow_symlinks=False)
    with pytest.raises(ModelfoldError, match="owned by another user"):
        stage(repo, [migration()], branch="mf/owner", run_verify=False)


def test_long_table_name_gives_a_usable_default_branch(repo: Path) -> None:
    from codemods.stage import default_branch

    m = migration()
    long = m.consolidation.canonical.__class__(**{**m.consolidation.canonical.__dict__, "table": "t" * 300})
    m = m.__class__(m.consolidation.__class__(long, m.consolidation.duplicates), m.merge, m.changeset)
    result = stage(repo, [m], run_verify=False)
    assert result.branch == default_branch([m]) and len(result.branch) < 100


@pytest.mark.parametrize(("args", "message"), [
    (["--python", "/nowhere/python"], "--python /nowhere/python: no such interpreter"),
    (["--test-cmd", "pytest 'unbalanced"], "--test-cmd"),
    (["--exclude", ""], "--exclude needs a non-empty glob"),
    (["--report", "/nowhere/at/all/r.md"], "does not exist"),
    (["--report", "."], "is a folder"),
])
def test_bad_options_refused_in_one_line_before_any_work(repo: Path, args: list[str], message: str) -> None:
    before = repo_state(repo)
    code, out, err = run(*REFS, "--root", str(repo), *args)
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert repo_state(repo) == before


def test_a_virtualenv_folder_is_a_python_for_migrate_as_for_verify(repo: Path, tmp_path: Path) -> None:
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    (env / "bin" / "python").chmod(0o755)
    code, _, err = run(*REFS, "--root", str(repo), "--python", str(env), "--report", "/nowhere/at/all/r.md")
    assert code == 2 and "does not exist" in err, err  # --python passed; the next check refused
    code, _, err = run(*REFS, "--root", str(repo), "--python", str(tmp_path), "--report", "/nowhere/at/all/r.md")
    assert code == 2 and f"--python {tmp_path}: not an executable file" in err, err  # a folder without bin/python


def test_report_refuses_to_overwrite_a_tracked_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    code, _, err = run(*REFS, "--root", str(repo), "--dry-run", "--report", "README.md")
    assert code == 2 and "a file git tracks" in err
    assert (repo / "README.md").read_text() == "mini project\n"
