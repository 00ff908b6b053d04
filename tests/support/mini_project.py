"""Shared helpers for the migrate/stage/verify/report tests: a tiny git project and a hand-made plan.

No tests here; the other test modules import it. The plan (Changeset) is written by hand, so
stage/verify/report are tested independently of merge and rewrite.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from codemods.types import (
    Changeset,
    Conflict,
    Consolidation,
    FileChange,
    MergeResult,
    Migration,
    MovedName,
)

from support.models import model

DB = """from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
"""

LEGACY = """from sqlalchemy import Column, Integer, String

from pkg.db import Base


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    email = Column(String(255), nullable=False)
    nickname = Column(String(50))
"""

MODERN = """from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pkg.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
"""

MODERN_MERGED = """from typing import Optional

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pkg.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    nickname: Mapped[Optional[str]] = mapped_column(String(50))
"""

SHIM = '''"""Deprecated location: User lives in pkg.modern."""
from pkg.modern import User  # noqa: F401

__all__ = ["User"]
'''

SERVICE = """from pkg.legacy import User


def make(email):
    return User(email=email)
"""

SERVICE_AFTER = SERVICE.replace("pkg.legacy", "pkg.modern")

ALL_MODELS = """import pkg.legacy  # noqa: F401
import pkg.modern  # noqa: F401
"""

PROJECT_TEST = """import pkg.all_models  # noqa: F401
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from pkg.db import Base
from pkg.service import make


def test_make_and_store():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(make("a@example.com"))
        session.commit()
"""

FILES = {
    "pkg/__init__.py": "",
    "pkg/db.py": DB,
    "pkg/legacy.py": LEGACY,
    "pkg/modern.py": MODERN,
    "pkg/service.py": SERVICE,
    "pkg/all_models.py": ALL_MODELS,
    "tests/test_app.py": PROJECT_TEST,
    "README.md": "mini project\n",
}


def git(cwd: Path, *args: str) -> str:
    """Run real git in cwd and return stdout."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def init_repo(root: Path, message: str | None = "initial") -> Path:
    """A git repo on branch main in root, with a test identity; everything committed under message
    (nothing committed when message is None)."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    if message is not None:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", message)
    return root


def make_repo(path: Path, files: dict[str, str] | None = None, commit: bool = True) -> Path:
    """A git repo on branch main holding the mini project (committed unless commit=False)."""
    path.mkdir(parents=True, exist_ok=True)
    for rel, text in (FILES if files is None else files).items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(text.encode())
    return init_repo(path, "initial" if commit else None)


PKG: dict[str, Any] = {"base": "pkg.db.Base", "metadata": "pkg.db.Base.metadata", "line": 7}


def migration(shim: str = SHIM) -> Migration:
    """The hand-written correct plan folding pkg.legacy:User into pkg.modern:User."""
    canonical = model("pkg.modern:User", "pkg/modern.py", style="mapped", columns=("id", "email"), **PKG)
    duplicate = model("pkg.legacy:User", "pkg/legacy.py", columns=("id", "email", "nickname"), **PKG)
    conflict = Conflict("email", "column", "String(255)", "String(255), nullable=False",
                        "pkg.legacy:User", "kept canonical")
    merged = MergeResult("pkg/modern.py", MODERN_MERGED, (conflict,),
                         (MovedName("Nothing", "pkg.legacy", "pkg.modern"),), ())
    changes = (
        FileChange("pkg/legacy.py", LEGACY, shim, "re-export shim"),
        FileChange("pkg/modern.py", MODERN, MODERN_MERGED, "merged class"),
        FileChange("pkg/service.py", SERVICE, SERVICE_AFTER, "import rewritten"),
    )
    return Migration(Consolidation(canonical, (duplicate,)), merged, Changeset(changes))


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file below path (the .git directory left out) with its bytes."""
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*")) if p.is_file() and ".git" not in p.relative_to(path).parts
    }


SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed_backend"
CANONICAL = "backend.app.auth.models:User"
DUPLICATE = "backend.app.users.models:User"


def seed_repo(dest: Path) -> Path:
    """A git repo (branch main, one commit) holding a copy of fixtures/seed_backend."""
    shutil.copytree(SEED, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
    init_repo(dest, "seed")
    return dest


def repo_state(repo: Path) -> tuple[dict[str, bytes], str, str, str, str]:
    """Files, status, current branch, refs and worktrees: what a refusal must leave alone."""
    return (snapshot(repo), git(repo, "status", "--porcelain", "--untracked-files=all"),
            git(repo, "rev-parse", "--abbrev-ref", "HEAD"), git(repo, "for-each-ref"),
            git(repo, "worktree", "list", "--porcelain"))


def cli_app() -> typer.Typer:
    """A local typer app with only `migrate` registered (as cli/app.py will do)."""
    from cli import migrate_cmd

    application = typer.Typer()
    migrate_cmd.register(application)

    @application.callback()
    def _root() -> None:
        """Keep `migrate` a named subcommand."""

    return application


def run(*args: str) -> tuple[int, str, str]:
    """Invoke `migrate ARGS` through CliRunner; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli_app(), ["migrate", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr
