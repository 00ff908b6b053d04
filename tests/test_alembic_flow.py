"""Alembic awareness on fixtures/alembic_tasks: detection, "a revision is needed", --alembic-revision."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.schema._alembic import find_alembic

from support.mini_project import git, init_repo, run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "alembic_tasks"
CANONICAL, DUPLICATE = "taskq.models:Task", "taskq.workers.models:Task"


def project_repo(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    init_repo(dest, "taskq")
    return dest


def project_suite(tree: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tree,
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **env))


def test_finds_alembic_ini_and_env_py_inside_a_package(tmp_path: Path) -> None:
    setup = find_alembic(FIXTURE)
    assert setup is not None
    assert (setup.ini, setup.script_location, setup.versions) == (
        "alembic.ini", "taskq/migrations", "taskq/migrations/versions")
    lib = tmp_path / "lib" / "src" / "mylib"
    (lib / "db_migrations" / "versions").mkdir(parents=True)
    (lib / "__init__.py").write_text("")
    (lib / "db_migrations" / "env.py").write_text("from alembic import context\n")
    found = find_alembic(tmp_path / "lib")
    assert found is not None and found.ini is None
    assert found.versions == "src/mylib/db_migrations/versions"
    (lib / "db_migrations" / "versions").rmdir()
    assert find_alembic(tmp_path / "lib") is None


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """The project staged with --alembic-revision; a clone of the branch."""
    tmp = tmp_path_factory.mktemp("alembic")
    repo = project_repo(tmp / "taskq")
    failing = project_suite(repo)
    assert failing.returncode != 0 and "Table 'tasks' is already defined" in failing.stdout
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(repo), "--branch", "mf/tasks", "--alembic-revision")
    assert code == 0, out + err
    clone = tmp / "branch"
    git(tmp, "clone", "-q", "--branch", "mf/tasks", str(repo), str(clone))
    return repo, clone, out, err


@pytest.mark.slow
def test_revision_is_committed_and_the_projects_migration_test_passes(staged: tuple[Path, Path, str, str]) -> None:
    repo, clone, out, err = staged
    added = git(repo, "diff", "--name-status", "main...mf/tasks").split("\n")
    revision = next(line.split("\t")[1] for line in added if line.startswith("A\t"))
    # the project's file_template (%%(rev)s_%%(slug)s) and its script.py.mako
    assert revision.startswith("taskq/migrations/versions/") and revision.endswith("_consolidate_task_models.py")
    text = (clone / revision).read_text()
    assert "down_revision: Union[str, None] = '0003'" in text
    assert "batch_op.add_column(sa.Column('worker_host', sa.String(length=255), nullable=True))" in text
    assert "queues" not in text  # only the consolidated table's operations
    assert f"alembic: wrote {revision} (add_column tasks.worker_host; create_index ix_tasks_worker_host)" in err
    passing = project_suite(clone)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "3 passed" in passing.stdout


@pytest.mark.slow
def test_without_the_option_the_output_says_a_revision_is_needed(tmp_path: Path) -> None:
    repo = project_repo(tmp_path / "taskq")
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(repo), "--dry-run")
    assert code == 0, err
    assert ("ALEMBIC: this project manages its schema with alembic (alembic.ini) and the merge changes "
            "table(s) tasks: a new revision is needed in taskq/migrations/versions") in err
    assert "from taskq.models:Task (taskq/models.py): database migration needed" in err
    # and the migration alone leaves the project's migration test failing, as the issue reported
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(repo), "--branch", "mf/plain")
    assert code == 0, err
    clone = tmp_path / "plain"
    git(tmp_path, "clone", "-q", "--branch", "mf/plain", str(repo), str(clone))
    result = project_suite(clone)
    assert result.returncode != 0 and "worker_host" in result.stdout


@pytest.mark.slow
def test_env_py_that_cannot_run_offline_falls_back_to_the_delta(tmp_path: Path) -> None:
    repo = tmp_path / "taskq"
    shutil.copytree(FIXTURE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    env_py = repo / "taskq" / "migrations" / "env.py"
    env_py.write_text('import os\n\nassert os.environ.get("TASKQ_MIGRATE") == "1", "run through make migrate"\n'
                      + env_py.read_text())
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(repo), "--apply", "--alembic-revision")
    assert code == 0, out + err
    assert "env.py could not run offline against a scratch SQLite database (AssertionError: run through" in err
    assert "written from the schema delta" in err
    written = sorted((repo / "taskq" / "migrations" / "versions").glob("*_consolidate_task_models.py"))
    assert len(written) == 1
    text = written[0].read_text()
    assert "op.add_column('tasks', sa.Column('worker_host', sa.String(length=255), nullable=True))" in text
    assert "op.create_index(op.f('ix_tasks_worker_host'), 'tasks', ['worker_host'], unique=False)" in text
    passing = project_suite(repo, TASKQ_MIGRATE="1")
    assert passing.returncode == 0, passing.stdout + passing.stderr


def test_option_without_alembic_fails_with_one_line_naming_the_extra(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    repo = tmp_path / "taskq"
    shutil.copytree(FIXTURE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    before = sorted(p.name for p in (repo / "taskq" / "migrations" / "versions").iterdir())
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(repo), "--apply", "--alembic-revision",
                         "--python", str(bare / "bin" / "python"))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "modelfold[alembic]" in err
    assert sorted(p.name for p in (repo / "taskq" / "migrations" / "versions").iterdir()) == before
    assert "worker_host" not in (repo / "taskq" / "models.py").read_text()  # nothing written


def test_option_without_an_alembic_setup_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "taskq"
    shutil.copytree(FIXTURE, repo, ignore=shutil.ignore_patterns("__pycache__", "migrations", "alembic.ini"))
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(repo), "--dry-run", "--alembic-revision")
    assert code == 2 and "no alembic setup under the root" in err


def test_several_alembic_setups_are_refused_not_guessed(tmp_path: Path) -> None:
    repo = tmp_path / "taskq"
    shutil.copytree(FIXTURE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "reporting").mkdir()
    (repo / "reporting" / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(repo), "--dry-run", "--alembic-revision")
    assert code == 2 and out == ""
    assert "several alembic setups under the root (alembic.ini, reporting/alembic.ini)" in err
