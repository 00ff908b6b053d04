"""Small projects for the CLI contract tests (issue 11): written to tmp folders, optionally committed.

No tests here; test_cli_contract.py and test_cli_json.py import it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.app import app

from support.mini_project import git, init_repo

DB = """from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class ArchiveBase(DeclarativeBase):
    metadata = MetaData()
"""

USERS = """from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
"""

ORDERS = """from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""

ARCHIVE = """from sqlalchemy import Column, Integer, String

from app.db import ArchiveBase


class User(ArchiveBase):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    email = Column(String(255), nullable=False)
    archived_at = Column(String(40))
"""

LEGACY_USERS = """from sqlalchemy import Column, Integer, String

from app.db import Base


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"extend_existing": True}

    id = Column(Integer, primary_key=True)
    email = Column(String(255), nullable=False)
    nickname = Column(String(50))
"""

TAGS = """from sqlalchemy import Column, ForeignKey, Integer, Table

from app.db import Base

post_tags = Table(
    "post_tags", Base.metadata,
    Column("post_id", Integer, ForeignKey("posts.id"), primary_key=True),{extra}
)
"""

TWICE = """from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)


class Post(Base):  # noqa: F811
    __tablename__ = "posts"
    __table_args__ = {"extend_existing": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
"""

SERVICE = """from app.legacy_users import User


def make(email: str) -> User:
    return User(email=email)
"""


def write_project(root: Path, files: dict[str, str], *, commit: bool = True) -> Path:
    """Write `files` (path: text) below root, `app/__init__.py` included; commit them when asked."""
    for rel, text in {"app/__init__.py": "", "app/db.py": DB, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if commit:
        init_repo(root, "project")
    return root


def state(root: Path) -> tuple[dict[str, bytes], str, str]:
    """Files, refs and worktrees: what a refusal must leave as it was."""
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
             if p.is_file() and ".git" not in p.relative_to(root).parts}
    return files, git(root, "for-each-ref"), git(root, "worktree", "list", "--porcelain")


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`modelfold ARGS` through the real app and CliRunner: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def cli_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """`modelfold ARGS --format json`: (exit code, the parsed document)."""
    code, out, _ = cli(*args, "--format", "json", env=env)
    doc: dict[str, Any] = json.loads(out)
    return code, doc
