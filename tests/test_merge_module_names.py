"""A copied member reads `datetime` as the module while the merged class also needs the class."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.cli_projects import cli, write_project

USERS = """from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
"""
# the canonical's own legacy column needs the datetime class when it is converted
LEGACY_CANONICAL = """from sqlalchemy import Column, DateTime, Integer, String

from app.db import Base


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    email = Column(String(255))
    seen_at = Column(DateTime)
"""
DUPLICATE = """import datetime

from sqlalchemy import Column, DateTime, Integer, String

from app.db import Base


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"extend_existing": True}

    id = Column(Integer, primary_key=True)
    email = Column(String(255))
    created_at = Column(DateTime, default=datetime.datetime.utcnow)
"""
CHECK = """import datetime as stdlib
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, configure_mappers

from app.db import Base
from app.users import User

configure_mappers()
engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
with Session(engine) as session:
    session.add(User(id=1, email="a@example.com"))
    session.commit()
    assert isinstance(session.get(User, 1).created_at, stdlib.datetime)
print("ok")
"""


@pytest.mark.parametrize("canonical", [USERS, LEGACY_CANONICAL], ids=["unbound", "converted-first"])
def test_merged_module_imports_and_the_copied_default_still_works(tmp_path: Path, canonical: str) -> None:
    root = write_project(tmp_path / "p", {"app/users.py": canonical, "app/legacy_users.py": DUPLICATE})
    code, _, err = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root), "--apply")
    assert code == 0, err
    merged = (root / "app" / "users.py").read_text()
    lines = merged.splitlines()
    assert not ("import datetime" in lines and "from datetime import datetime" in lines), merged
    run = subprocess.run([sys.executable, "-c", CHECK], cwd=root, capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout == "ok\n", merged + run.stderr[-2000:]
