"""`modelfold migrate` refusals through typer's CliRunner: exit 2 (or 3), nothing left behind."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.mini_project import CANONICAL, DUPLICATE, git, repo_state, run, seed_repo, snapshot


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    dest = seed_repo(tmp_path / "seed")
    (dest / "scratch.txt").write_text("untracked user file\n")
    return dest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([CANONICAL, CANONICAL], "also given as a duplicate"),
        ([CANONICAL, "backend.app.nowhere.models:User"], "no module 'backend.app.nowhere.models'"),
        ([CANONICAL, "backend.app.users.models:Nobody"], "not a mapped model class"),
        ([CANONICAL, "backend.app.auth.models:UserRole"], "not a mapped model class"),
        ([CANONICAL, "backend.app.users.models.User"], "expected dotted.module:ClassName"),
        ([CANONICAL], "at least one DUPLICATE"),
        (["--auto", CANONICAL, DUPLICATE], "--auto takes no"),
        ([CANONICAL, DUPLICATE, "--dry-run", "--apply"], "exclude each other"),
    ],
)
def test_input_refusals(seed: Path, args: list[str], message: str) -> None:
    before = repo_state(seed)
    code, out, err = run(*args, "--root", str(seed))
    assert code == 2, (out, err)
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert repo_state(seed) == before


def test_refuses_outside_git_and_suggests_dry_run(seed: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(seed, plain, ignore=shutil.ignore_patterns(".git"))
    before = snapshot(plain)
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(plain))
    assert code == 2
    assert "not in a git repository" in err and "--dry-run" in err and "--apply" in err
    assert snapshot(plain) == before


def test_refuses_existing_branch(seed: Path) -> None:
    git(seed, "branch", "mf/taken")
    before = repo_state(seed)
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--branch", "mf/taken")
    assert code == 2 and "already exists" in err and "--force" in err
    assert repo_state(seed) == before


def test_refuses_uncommitted_change_in_a_file_it_would_change(seed: Path) -> None:
    conftest = seed / "backend/tests/conftest.py"
    conftest.write_text(conftest.read_text() + "# local edit\n")
    before = repo_state(seed)
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(seed))
    assert code == 2 and "uncommitted changes in backend/tests/conftest.py" in err
    assert repo_state(seed) == before


@pytest.mark.slow
def test_uncommitted_change_elsewhere_is_fine(seed: Path) -> None:
    pytest_ini = seed / "pytest.ini"
    pytest_ini.write_text(pytest_ini.read_text() + "# local edit\n")
    before = repo_state(seed)
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--branch", "mf/ok")
    assert code == 0, err
    assert repo_state(seed)[:3] == before[:3]
    assert git(seed, "show", "mf/ok:pytest.ini") == git(seed, "show", "HEAD:pytest.ini")


def test_conflict_policy_fail_exits_3_and_creates_nothing(seed: Path) -> None:
    before = repo_state(seed)
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--on-conflict", "fail")
    assert code == 3, err
    assert "email" in err  # String(320) vs String(255): a real conflict in the seed
    assert repo_state(seed) == before


LOCAL_APP = """
import sys
import typer
from cli import migrate_cmd
app = typer.Typer()
migrate_cmd.register(app)
@app.callback()
def _root() -> None:
    pass
app(args=["migrate", *sys.argv[1:]])
"""


def read_all(fd: int) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO once the child closed the pty
            return out
        if not chunk:
            return out
        out += chunk


@pytest.mark.slow
def test_dry_run_diff_is_coloured_on_a_terminal_only(seed: Path) -> None:
    args = [CANONICAL, DUPLICATE, "--root", str(seed), "--dry-run"]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", LOCAL_APP, *args], stdout=slave,
                            stderr=subprocess.PIPE, env=env)
    os.close(slave)
    shown = read_all(master)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    assert b"\x1b[" in shown and b"diff --git a/backend/app/users/models.py" in shown
    piped = subprocess.run([sys.executable, "-c", LOCAL_APP, *args], capture_output=True, env=env,
                           timeout=120, check=True)
    assert b"\x1b[" not in piped.stdout
    assert piped.stdout.startswith(b"diff --git a/")


@pytest.mark.slow
def test_failing_test_command_exits_3_without_branch(seed: Path, tmp_path: Path) -> None:
    before = repo_state(seed)
    report = tmp_path / "failed.md"
    failing = f"{sys.executable} -c 'import sys; sys.exit(7)'"
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--test-cmd", failing,
                         "--report", str(report))
    assert code == 3, err
    assert "test command failed after the migration (exit 7)" in err and "no branch was created" in err
    assert repo_state(seed) == before
    text = report.read_text()
    assert "Result: FAILED" in text and "Nothing was committed" in text
