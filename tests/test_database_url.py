"""`--database-url` on verify and migrate: alembic compares the merged models with live tables.

Against a real SQLite file and a real PostgreSQL server this module starts (initdb and pg_ctl in
a temporary folder, on 127.0.0.1); skipped with the reason when PostgreSQL is not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_verify_cmd import verify

from support.mini_project import run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "alembic_tasks"
CANONICAL, DUPLICATE = "taskq.models:Task", "taskq.workers.models:Task"
pytestmark = pytest.mark.slow


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).resolve().parent if which else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (as the postgres user when run as root), stopped afterwards."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)")
    pytest.importorskip("pg8000", reason="the pg8000 driver is not installed (it is in the test extra)")
    tmp = Path(tempfile.mkdtemp(prefix="modelfold-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = tmp / "data", free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
    options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -F"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(tmp / "log"),
                    "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+pg8000://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


UPGRADE = """
import sys
from alembic import command
from alembic.config import Config
config = Config("alembic.ini")
config.set_main_option("sqlalchemy.url", sys.argv[1])
command.upgrade(config, "head")
"""


def upgrade_to_head(url: str, tree: Path) -> None:
    """The live database as the project's own migrations (0001..0003) built it: no worker_host."""
    subprocess.run([sys.executable, "-c", UPGRADE, url], cwd=tree, check=True, capture_output=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixture project before, and a copy with the migration applied."""
    tmp = tmp_path_factory.mktemp("dburl")
    before, after = tmp / "before", tmp / "after"
    for dest in (before, after):
        shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(after), "--apply")
    assert code == 0, err
    return before, after


def check_reports_missing_column(url: str, project: tuple[Path, Path]) -> None:
    before, after = project
    code, _, err = run(CANONICAL, DUPLICATE, "--root", str(before), "--dry-run", "--database-url", url)
    assert code == 0, err
    assert "database: 2 operation(s) needed to match the merged models" in err
    assert "add_column tasks.worker_host VARCHAR(255)" in err
    assert "add_index ix_tasks_worker_host on tasks" in err
    code, out, err = verify("--root", str(after), "--database-url", url)
    assert code == 0, out + err
    assert "database: 2 operation(s) needed to match the models:\n  add_column tasks.worker_host" in out


def test_sqlite_file_reports_the_missing_column(tmp_path: Path, project: tuple[Path, Path]) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade_to_head(url, project[1])
    check_reports_missing_column(url, project)


def test_postgresql_reports_the_missing_column(postgres_url: str, project: tuple[Path, Path]) -> None:
    upgrade_to_head(postgres_url, project[1])
    check_reports_missing_column(postgres_url, project)


def test_unreachable_database_is_a_one_line_input_error(project: tuple[Path, Path]) -> None:
    url = f"postgresql+pg8000://postgres@127.0.0.1:{free_port()}/postgres"
    code, _, err = verify("--root", str(project[1]), "--database-url", url)
    assert code == 2 and err.startswith("error: cannot compare with the database:")
    assert err.strip().count("\n") == 0
