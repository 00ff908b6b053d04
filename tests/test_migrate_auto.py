"""`migrate --auto` with two groups touching one file: planned one after another, one commit each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.diff import combine
from codemods.migrate import plan_auto

from support.mini_project import FILES, git, make_repo, repo_state, run

pytestmark = pytest.mark.slow

ORDERS_OLD = """from sqlalchemy import Column, Integer, String

from pkg.db import Base


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    ref = Column(String(20))
    note = Column(String(200))
"""

ORDERS = """from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pkg.db import Base


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[Optional[str]] = mapped_column(String(20))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
"""

SERVICE = """from pkg.legacy import User
from pkg.orders_old import Order


def make(email):
    return User(email=email)


def order(ref):
    return Order(ref=ref, note="n")
"""

ALL_MODELS = "import pkg.legacy  # noqa: F401\nimport pkg.modern  # noqa: F401\n" \
    "import pkg.orders  # noqa: F401\nimport pkg.orders_old  # noqa: F401\n"

PROJECT_TEST = """import pkg.all_models  # noqa: F401
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from pkg.db import Base
from pkg.service import make, order


def test_store_both():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([make("a@example.com"), order("r1")])
        session.commit()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = dict(FILES, **{
        "pkg/orders_old.py": ORDERS_OLD, "pkg/orders.py": ORDERS, "pkg/service.py": SERVICE,
        "pkg/all_models.py": ALL_MODELS, "tests/test_app.py": PROJECT_TEST,
    })
    return make_repo(tmp_path / "proj", files)


def project_tests(path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=path, capture_output=True, text=True, timeout=300, env=env)


def test_plan_auto_chains_groups_on_a_shared_file(project: Path) -> None:
    before = repo_state(project)
    migrations = plan_auto(project)
    assert repo_state(project) == before
    assert sorted(m.table for m in migrations) == ["orders", "users"]
    assert {m.consolidation.canonical.ref for m in migrations} == {"pkg.modern:User", "pkg.orders:Order"}
    combined = combine([m.changeset for m in migrations])
    service = next(c for c in combined.changes if c.path == "pkg/service.py")
    assert service.before == SERVICE
    assert "pkg.legacy" not in service.after and "pkg.orders_old" not in service.after


def test_auto_stages_one_branch_with_one_commit_per_group(project: Path, tmp_path: Path) -> None:
    assert project_tests(project).returncode != 0
    code, out, err = run("--auto", "--root", str(project), "--branch", "mf/auto")
    assert code == 0, err
    log = git(project, "log", "--format=%s", "main..mf/auto").splitlines()
    assert sorted(log) == [
        "Consolidate Order models on orders into pkg.orders:Order",
        "Consolidate User models on users into pkg.modern:User",
    ]
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", "mf/auto", str(project), str(clone))
    result = project_tests(clone)
    assert result.returncode == 0, result.stdout + result.stderr
    code, out, err = run("--auto", "--root", str(clone), "--dry-run")
    assert (code, out) == (0, "") and "nothing to do" in err
