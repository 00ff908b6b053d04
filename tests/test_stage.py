"""stage.py on a real git repo with a hand-made plan: branch, isolation, refusals, cleanup."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from codemods.stage import VerificationFailed, default_branch, stage
from codemods.types import ModelfoldError

from support.mini_project import (
    LEGACY,
    MODERN_MERGED,
    SERVICE_AFTER,
    SHIM,
    git,
    make_repo,
    migration,
    snapshot,
)


def state(repo: Path) -> tuple[dict[str, bytes], str, str, str, str]:
    """Everything staging must not touch: files, status, current branch, index, worktrees."""
    return (
        snapshot(repo),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "rev-parse", "--abbrev-ref", "HEAD"),
        git(repo, "ls-files", "--stage"),
        git(repo, "worktree", "list", "--porcelain"),
    )


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = make_repo(tmp_path / "proj")
    # user work that must survive: an untracked file and a staged edit of an unrelated file
    (path / "notes.txt").write_text("my notes\n")
    (path / "README.md").write_text("edited readme\n")
    git(path, "add", "README.md")
    return path


@pytest.mark.slow
def test_stage_creates_branch_and_leaves_checkout_untouched(repo: Path) -> None:
    before = state(repo)
    result = stage(repo, [migration()], branch="modelfold/users-test")
    assert state(repo) == before
    assert branches(repo) == ["main", "modelfold/users-test"]
    assert result.commit == git(repo, "rev-parse", "modelfold/users-test").strip()
    assert git(repo, "rev-parse", "modelfold/users-test~1").strip() == git(repo, "rev-parse", "main").strip()
    assert git(repo, "show", "modelfold/users-test:pkg/legacy.py") == SHIM
    assert git(repo, "show", "modelfold/users-test:pkg/modern.py") == MODERN_MERGED
    assert git(repo, "show", "modelfold/users-test:pkg/service.py") == SERVICE_AFTER
    changed = git(repo, "diff", "--name-only", "main...modelfold/users-test").split()
    assert changed == ["pkg/legacy.py", "pkg/modern.py", "pkg/service.py"]
    message = git(repo, "log", "-1", "--format=%B", "modelfold/users-test")
    assert message.startswith("Consolidate User models on users into pkg.modern:User")
    assert "Folded in: pkg.legacy:User" in message
    assert result.files == ("pkg/legacy.py", "pkg/modern.py", "pkg/service.py")


@pytest.mark.slow
def test_verification_checks_imports_and_schema(repo: Path) -> None:
    result = stage(repo, [migration()], branch="b1", test_cmd=f"{sys.executable} -m pytest -q tests")
    v = result.verification
    assert v is not None and v.ok, v
    firsts = {order[0] for order in v.import_orders}
    assert firsts == {"pkg.modern", "pkg.legacy", "pkg.service"}
    by_side = {d.compared_to: d for d in v.schema}
    # the legacy class already had every column the merged class has: identical DDL
    assert by_side["pkg.legacy:User"].identical
    # the modern class alone lacked nickname
    modern = by_side["pkg.modern:User"]
    assert modern.added == ("nickname",) and not modern.removed and not modern.changed
    tests = {t.side: t for t in v.tests}
    assert tests["before"].returncode != 0 and "already defined" in tests["before"].tail
    assert tests["after"].returncode == 0


def test_default_branch_name_is_table_and_hash(repo: Path) -> None:
    name = default_branch([migration()])
    assert name.startswith("modelfold/users-") and len(name) == len("modelfold/users-") + 8
    assert default_branch([migration()]) == name
    assert default_branch([migration(SHIM + "# other\n")]) != name


@pytest.mark.slow
def test_verification_failure_leaves_no_branch(repo: Path) -> None:
    before = state(repo)
    broken = SHIM.replace("import User", "import Userr")
    with pytest.raises(VerificationFailed) as info:
        stage(repo, [migration(broken)], branch="b2")
    assert "Userr" in str(info.value)
    assert branches(repo) == ["main"]
    assert state(repo) == before


def test_refuses_outside_git(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    make_repo(plain)
    git(plain, "rev-parse", "HEAD")
    import shutil

    shutil.rmtree(plain / ".git")
    before = snapshot(plain)
    with pytest.raises(ModelfoldError, match="not in a git repository.*--dry-run.*--apply"):
        stage(plain, [migration()])
    assert snapshot(plain) == before


def test_refuses_existing_branch_unless_forced(repo: Path) -> None:
    git(repo, "branch", "taken")
    old = git(repo, "rev-parse", "taken").strip()
    before = state(repo)
    with pytest.raises(ModelfoldError, match="already exists"):
        stage(repo, [migration()], branch="taken")
    assert state(repo) == before and git(repo, "rev-parse", "taken").strip() == old
    result = stage(repo, [migration()], branch="taken", force=True, run_verify=False)
    assert git(repo, "rev-parse", "taken").strip() == result.commit != old


def test_refuses_to_replace_the_checked_out_branch(repo: Path) -> None:
    with pytest.raises(ModelfoldError, match="checked out"):
        stage(repo, [migration()], branch="main", force=True)


def test_refuses_uncommitted_change_in_a_migrated_file(repo: Path) -> None:
    (repo / "pkg/service.py").write_text(SERVICE_AFTER + "# wip\n")
    before = state(repo)
    with pytest.raises(ModelfoldError, match="uncommitted changes in pkg/service.py"):
        stage(repo, [migration()], branch="b3")
    assert state(repo) == before and branches(repo) == ["main"]


def test_refuses_staged_change_in_a_migrated_file(repo: Path) -> None:
    (repo / "pkg/legacy.py").write_text(LEGACY + "# staged\n")
    git(repo, "add", "pkg/legacy.py")
    with pytest.raises(ModelfoldError, match="uncommitted changes in pkg/legacy.py"):
        stage(repo, [migration()], branch="b4")
    assert branches(repo) == ["main"]


def test_refuses_repo_without_commit(tmp_path: Path) -> None:
    path = make_repo(tmp_path / "empty", commit=False)
    with pytest.raises(ModelfoldError, match="HEAD is missing"):
        stage(path, [migration()], branch="b5")
    assert branches(path) == []


def test_refuses_bad_branch_name(repo: Path) -> None:
    with pytest.raises(ModelfoldError, match="not a valid branch name"):
        stage(repo, [migration()], branch="bad..name")


@pytest.mark.slow
def test_root_below_repo_top(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    make_repo(top / "service")
    (top / "service" / ".git").rename(top / ".git")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "move")
    result = stage(top / "service", [migration()], branch="sub")
    assert git(top, "show", f"{result.branch}:service/pkg/legacy.py") == SHIM
    assert git(top, "status", "--porcelain") == ""


def test_ctrl_c_during_verification_removes_worktree(repo: Path) -> None:
    before = state(repo)
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            stage(repo, [migration()], branch="b6", test_cmd="sleep 30")
    finally:
        timer.cancel()
    assert state(repo) == before
    assert branches(repo) == ["main"]
    assert not list((repo / ".git").glob("worktrees/*"))


def test_commits_without_a_configured_identity(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    git(repo, "config", "user.useConfigOnly", "true")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    result = stage(repo, [migration()], branch="anon", run_verify=False)
    assert git(repo, "log", "-1", "--format=%an <%ae>", result.commit).strip() == "modelfold <modelfold@localhost>"
