"""Issue 13's four projects, end to end through the CLI in branch mode (fixtures/verify_*).

Each stages (or refuses) for real: scratch worktree, probes in fresh interpreters, the project's
own tests before and after. Every test here failed on the main of the day it was written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support.mini_project import git, repo_state, run
from support.verify_env import fixture_repo, make_venv, sqlalchemy_only

pytestmark = pytest.mark.slow
PYTEST = f"{sys.executable} -m pytest -q"


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


@pytest.fixture(autouse=True)
def no_active_virtualenv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)


def test_two_source_roots_sharing_a_package_stage(tmp_path: Path) -> None:
    repo = fixture_repo("verify_two_roots", tmp_path / "mono")
    code, out, err = run("acme._internal.server.models:User", "acme._internal.server.accounts:User",
                         "--root", str(repo), "--test-cmd", PYTEST)
    assert code == 0, err
    assert "branch: modelfold/users-" in out
    assert "No module named 'acme._internal'" not in err
    branch = next(b for b in branches(repo) if b.startswith("modelfold/"))
    shim = git(repo, "show", f"{branch}:src/acme/_internal/server/accounts.py")
    assert "from acme._internal.server.models import User" in shim


def test_optional_dependency_missing_before_and_after_is_reported_not_blocking(tmp_path: Path) -> None:
    repo = fixture_repo("verify_optional_dep", tmp_path / "ledger")
    code, out, err = run("ledger.models:Customer", "ledger.customers:Customer", "--root", str(repo),
                         "--test-cmd", PYTEST)
    assert code == 0, err
    assert ("verify: already failing before: ledger.exports.parquet "
            "(ModuleNotFoundError: No module named 'parquet_sink')") in err.splitlines()
    assert any(b.startswith("modelfold/customers-") for b in branches(repo))


def test_a_test_that_passed_before_and_fails_after_is_named_last(tmp_path: Path) -> None:
    repo = fixture_repo("verify_test_regression", tmp_path / "shop")
    before = repo_state(repo)
    code, _, err = run("shop.models:User", "shop.legacy:User", "--root", str(repo), "--test-cmd", PYTEST)
    assert code == 3, err
    last = err.strip().splitlines()[-1]
    assert "tests/test_a_signup.py::test_new_users_are_active[ada@example.com]" in last, last
    assert "AssertionError: assert 'pending' == 'active'" in last, last
    assert "no branch was created" in last
    assert "assert 'pending' == 'active'" in err  # the output tail is shown, not only in --report
    assert "already failing before" not in last
    assert repo_state(repo) == before


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The clinic repo with its own .venv (SQLAlchemy and practice_settings only); (repo, its python)."""
    base = tmp_path_factory.mktemp("clinic")
    repo = fixture_repo("verify_separate_venv", base / "clinic")
    deps = sqlalchemy_only(base / "deps")
    python = make_venv(repo / ".venv", {"sqlalchemy_only.pth": f"{deps}\n",
                                        "practice_settings.py": 'SETTINGS = {"timezone": "UTC"}\n'})
    return repo, python


def test_separate_virtualenv_is_found_named_and_used(clinic: tuple[Path, Path]) -> None:
    repo, python = clinic
    tests = f"{python} -m unittest discover -s tests -t ."
    code, out, err = run("clinic.patients:Patient", "clinic.records:Patient", "--root", str(repo),
                         "--test-cmd", tests, "--branch", "clinic-merged")
    assert code == 0, err
    assert f"verify: python {python} (.venv in {repo})" in err.splitlines()
    assert "branch: clinic-merged" in out


@pytest.mark.parametrize("which", ["ours", "no-sqlalchemy", "missing"])
def test_an_interpreter_that_cannot_import_the_project_stops_with_exit_2(
    clinic: tuple[Path, Path], tmp_path: Path, which: str
) -> None:
    repo, _ = clinic
    python = {"ours": sys.executable, "missing": str(tmp_path / "no" / "python"),
              "no-sqlalchemy": str(make_venv(tmp_path / "bare", {}) if which == "no-sqlalchemy" else "")}[which]
    before = repo_state(repo)
    code, _, err = run("clinic.patients:Patient", "clinic.records:Patient", "--root", str(repo),
                       "--python", python)
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    expected = {"ours": "cannot import clinic (No module named 'practice_settings')",
                "no-sqlalchemy": "cannot import SQLAlchemy", "missing": "no such interpreter"}[which]
    assert expected in last and python in last, last
    assert "--python" in last
    assert "Traceback" not in err
    assert repo_state(repo) == before
