"""`modelfold migrate` end to end on a temporary git copy of fixtures/seed_backend.

Needs the real merge and rewrite stages: these tests are the issue's "done when" list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.mini_project import CANONICAL, DUPLICATE, git, repo_state, run, seed_repo

pytestmark = pytest.mark.slow

# SCENARIO.md: the files a correct consolidation must change (importers of the old path,
# the canonical module, the shim, and the string relationship in api_keys)
MUST_CHANGE = {
    "backend/app/auth/models.py",
    "backend/app/users/models.py",
    "backend/app/api_keys/models.py",
    "backend/tests/conftest.py",
    "backend/schedulers/reports_runner.py",
}


def suite(project: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=project, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    return seed_repo(tmp_path / "seed")


def test_dry_run_changes_nothing_and_its_diff_is_the_branch(seed: Path, tmp_path: Path) -> None:
    before = repo_state(seed)
    code, diff, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--dry-run")
    assert code == 0, err
    assert repo_state(seed) == before
    assert "nothing was written" in err
    changed = {line.split(" b/")[-1] for line in diff.splitlines() if line.startswith("diff --git ")}
    assert changed >= MUST_CHANGE
    assert "\x1b[" not in diff  # plain when piped

    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--branch", "mf/users")
    assert code == 0, err
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(seed), str(clone))
    (tmp_path / "change.diff").write_text(diff)
    git(clone, "apply", str(tmp_path / "change.diff"))
    git(clone, "add", "-A")
    assert git(clone, "write-tree") == git(seed, "rev-parse", "mf/users^{tree}")


def test_stage_branch_fixes_the_suite_and_second_run_has_nothing_to_do(
    seed: Path, tmp_path: Path
) -> None:
    failing = suite(seed)
    assert failing.returncode != 0 and "already defined" in failing.stdout + failing.stderr
    before = repo_state(seed)
    report = tmp_path / "report.md"
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--report", str(report))
    assert code == 0, err
    assert repo_state(seed)[0] == before[0]  # byte-identical checkout
    assert repo_state(seed)[1:3] == before[1:3]  # same status, still on main
    branch = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("branch: "))
    assert branch.startswith("modelfold/users-")
    assert git(seed, "worktree", "list", "--porcelain").count("worktree ") == 1
    changed = set(git(seed, "diff", "--name-only", f"HEAD...{branch}").split())
    assert changed >= MUST_CHANGE
    text = report.read_text()
    assert "Table 'users' is already defined" in text and f"git branch -D {branch}" in text

    clone = tmp_path / "on-branch"
    git(tmp_path, "clone", "-q", "--branch", branch, str(seed), str(clone))
    passing = suite(clone)
    assert passing.returncode == 0, passing.stdout + passing.stderr

    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(clone), "--dry-run")
    assert (code, out) == (0, ""), err
    assert "nothing to do" in err
    code, out, err = run("--auto", "--root", str(clone), "--dry-run")
    assert (code, out) == (0, ""), err
    assert "nothing to do" in err


def test_auto_stages_the_seed_group(seed: Path) -> None:
    code, out, err = run("--auto", "--root", str(seed), "--branch", "mf/auto")
    assert code == 0, err
    assert git(seed, "log", "-1", "--format=%s", "mf/auto").startswith(
        f"Consolidate User models on users into {CANONICAL}")


def test_json_dry_run(seed: Path) -> None:
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--dry-run", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert {"changes", "conflicts", "warnings", "moved_names"} <= set(doc)
    assert {c["path"] for c in doc["changes"]} >= MUST_CHANGE
    assert all(c["diff"].startswith(f"diff --git a/{c['path']} ") for c in doc["changes"])
    assert any(m["name"] == "UserStatus" for m in doc["moved_names"])


def test_apply_outside_git_writes_the_branch_tree(seed: Path, tmp_path: Path) -> None:
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--branch", "mf/x")
    assert code == 0, err
    plain = tmp_path / "plain"
    shutil.copytree(seed, plain, ignore=shutil.ignore_patterns(".git"))
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(plain), "--apply")
    assert code == 0, err
    for path in git(seed, "diff", "--name-only", "main...mf/x").split():
        assert (plain / path).read_text() == git(seed, "show", f"mf/x:{path}"), path
    assert suite(plain).returncode == 0


def test_console_script_in_a_real_subprocess(seed: Path) -> None:
    exe = shutil.which("modelfold") or str(Path(sys.executable).with_name("modelfold"))
    proc = subprocess.run([exe, "migrate", CANONICAL, DUPLICATE, "--root", str(seed), "--dry-run"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "diff --git a/backend/app/users/models.py b/backend/app/users/models.py" in proc.stdout
    assert "nothing was written" in proc.stderr


def test_stage_json_output(seed: Path) -> None:
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--format", "json", "--branch", "mf/j")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["branch"] == "mf/j"
    assert doc["commit"] == git(seed, "rev-parse", "mf/j").strip()
    assert doc["verification"]["ok"] is True
    assert {"backend.app.auth.models", "backend.app.users.models"} <= {
        order[0] for order in doc["verification"]["import_orders"]}
    legacy = next(d for d in doc["verification"]["schema"] if d["compared_to"] == DUPLICATE)
    # the merged class keeps the legacy columns and adds the canonical-only ones
    assert set(legacy["added"]) == {"created_at", "password_hash", "role", "updated_at"}
    assert legacy["removed"] == []
