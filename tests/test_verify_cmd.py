"""`modelfold verify`: runtime checks in fresh interpreters, on the seed before and after a migration."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

from support.mini_project import CANONICAL, DUPLICATE, git, run, seed_repo


def verify(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["verify", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


BASE = "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n"
EXTEND = '''from sqlalchemy import Column, Integer, String

from app.db import Base


class Account(Base):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)


class LegacyAccount(Base):
    __tablename__ = "accounts"
    __table_args__ = {"extend_existing": True}
    id = Column(Integer, primary_key=True)
    name = Column(String(20))
'''
ARRAY = '''from sqlalchemy import Column, Integer
from sqlalchemy.dialects.postgresql import ARRAY

from app.db import Base


class Tagged(Base):
    __tablename__ = "tagged"
    id = Column(Integer, primary_key=True)
    tags = Column(ARRAY(Integer))
'''


@pytest.fixture(scope="module")
def seed_and_branch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The unfixed seed repo, a clone of its staged branch, and the Markdown report of the run."""
    tmp = tmp_path_factory.mktemp("verify")
    seed = seed_repo(tmp / "seed")
    report = tmp / "report.md"
    test_cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider backend/tests/test_models.py"
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(seed), "--branch", "mf/users",
                         "--report", str(report), "--test-cmd", test_cmd)
    assert code == 0, err
    clone = tmp / "branch"
    git(tmp, "clone", "-q", "--branch", "mf/users", str(seed), str(clone))
    return seed, clone, report


@pytest.mark.slow
def test_verify_fails_on_the_unfixed_seed_naming_both_classes(seed_and_branch: tuple[Path, Path, Path]) -> None:
    code, out, _ = verify("--root", str(seed_and_branch[0]))
    assert code == 3, out
    assert "InvalidRequestError: Table 'users' is already defined for this MetaData instance" in out
    assert "backend.app.auth.models:User (backend/app/auth/models.py:" in out
    assert "backend.app.users.models:User (backend/app/users/models.py:" in out
    assert "  at backend/app/auth/models.py:31\n" in out  # the class statement SQLAlchemy refused
    assert "FAILED configure_mappers() (first import: backend.app.endorsements.models; after a failed import" in out
    assert out.rstrip().endswith("problem(s))")


@pytest.mark.slow
def test_verify_passes_on_the_staged_branch(seed_and_branch: tuple[Path, Path, Path]) -> None:
    code, out, err = verify("--root", str(seed_and_branch[1]), "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["ok"] is True and doc["failures"] == []
    assert "users" in doc["tables"]
    assert sum(c.startswith("backend.app.auth.models:User ") for c in doc["classes"]) == 1


@pytest.mark.slow
def test_branch_report_shows_schema_delta_and_test_table(seed_and_branch: tuple[Path, Path, Path]) -> None:
    text = seed_and_branch[2].read_text()
    assert "## Schema delta" in text
    assert "`backend.app.users.models:User` (backend/app/users/models.py), table `users`" in text
    assert "`backend.app.auth.models:User` (backend/app/auth/models.py), table `users`" in text
    assert "| column | `email` | length | `String(255)` | `String(320)` |" in text
    assert "| before | " in text and "| after | " in text and "| passed |" in text


def test_named_module_only_and_extend_existing_is_one_table_two_classes(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/__init__.py": "", "app/db.py": BASE, "app/accounts.py": EXTEND,
                            "app/tagged.py": ARRAY})
    code, out, _ = verify("--root", str(root), "app.accounts")
    assert code == 3, out
    assert "one class per table" in out and "table 'accounts' of MetaData #0 is mapped by 2 classes" in out
    assert "app.accounts:Account (app/accounts.py:6)" in out
    assert "app.accounts:LegacyAccount (app/accounts.py:11)" in out
    assert "tagged" not in out  # only the named module was imported


def test_createtable_failure_names_the_dialect(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/__init__.py": "", "app/db.py": BASE, "app/tagged.py": ARRAY})
    code, out, _ = verify("--root", str(root))
    assert code == 3, out
    assert "FAILED CreateTable(tagged) for sqlite" in out and "ARRAY" in out
    assert "for postgresql" not in out


def test_help_says_it_imports_user_code_and_bad_input_exits_2(tmp_path: Path) -> None:
    code, out, _ = verify("--help")
    assert code == 0 and "IMPORTS YOUR CODE" in out
    root = write(tmp_path, {"app/__init__.py": "", "app/db.py": BASE})
    code, _, err = verify("--root", str(root), "app.nope")
    assert code == 2 and "no module app.nope" in err
    code, _, err = verify("--root", str(root / "app"))
    assert code == 2 and "no module defining SQLAlchemy models" in err


def test_refusal_prints_paths_and_brackets_as_they_are(tmp_path: Path) -> None:
    root = tmp_path / "p[alembic]"
    root.mkdir()
    code, out, err = verify("--root", str(root))
    assert (code, out) == (2, "")
    assert err == f"error: no module defining SQLAlchemy models under {root}\n"  # no markup escape

