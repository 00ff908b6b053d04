"""In a git work tree, `git grep` chooses the files to read; outside one, every file is read.

Both must give the same index and the same migration: each project is run twice, as a plain
directory and as a git repository, and the results compared.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from codemods import scan
from codemods.index import build_index
from codemods.migrate import plan_migration

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "fixtures" / "monorepo_gen"))

import generate  # noqa: E402


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def as_repo(root: Path) -> Path:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init")
    return root


def test_grep_files_lists_tracked_and_untracked_not_ignored(tmp_path: Path) -> None:
    files = {
        "a.py": "from app import User\n",
        "pkg/b.py": "x = 'User'\n",
        "ignored/c.py": "User = 1\n",
        "d.py": "nothing here\n",
        "notes.md": "User\n",
        ".gitignore": "ignored/\n",
    }
    write(tmp_path, files)
    assert scan.grep_files(tmp_path, ["User"]) is None  # not a repository yet
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "a.py", ".gitignore")
    assert scan.grep_files(tmp_path, ["User"]) == {"a.py", "pkg/b.py"}
    assert scan.grep_files(tmp_path, ["Nobody"]) == set()
    assert scan.grep_files(tmp_path / "pkg", ["User", "nothing"]) == {"b.py"}  # relative to root


def _pair(tmp_path: Path, source: Path) -> tuple[Path, Path]:
    plain, repo = tmp_path / "plain", tmp_path / "repo"
    for dest in (plain, repo):
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return plain, as_repo(repo)


@pytest.mark.parametrize("case", ["seed_backend", "src_layout_invoices"])
def test_index_and_migration_do_not_depend_on_git(tmp_path: Path, case: str) -> None:
    plain, repo = _pair(tmp_path, REPO / "fixtures" / case)
    assert build_index(plain) == build_index(repo)
    with (REPO / "fixtures" / case / "case.toml").open("rb") as handle:
        spec = tomllib.load(handle)
    a, b = (plan_migration(root, spec["canonical"], spec["duplicates"]) for root in (plain, repo))
    assert [(c.path, c.after) for c in a.changeset.changes] == [(c.path, c.after) for c in b.changeset.changes]
    assert a.changeset.warnings == b.changeset.warnings
    assert a.changeset.parsed == b.changeset.parsed
    assert a.changeset.mentions == b.changeset.mentions  # docs and config files: git grep vs reading
    assert a.changeset.changes  # a real migration, not two empty ones


def test_docs_mentions_found_by_git_grep_match_reading_every_file(tmp_path: Path) -> None:
    plain, repo = _pair(tmp_path, REPO / "fixtures" / "seed_backend")
    for root in (plain, repo):
        (root / "NOTES.MD").write_text("see backend.app.users.models.User\n")  # suffix case differs
        (root / "setup.cfg").write_text("x = backend.app.users.models:User\n")
        (root / "data.json").write_text('"backend.app.users.models.User"\n')  # not a docs/config file
    refs = ("backend.app.auth.models:User", ["backend.app.users.models:User"])
    a, b = plan_migration(plain, *refs), plan_migration(repo, *refs)
    assert a.changeset.mentions == b.changeset.mentions
    assert {m.split(":")[0] for m in b.changeset.mentions} >= {"NOTES.MD", "setup.cfg"}
    assert not any(m.startswith("data.json") for m in b.changeset.mentions)


def test_a_module_without_markers_is_read_when_followed(tmp_path: Path) -> None:
    """`app/db/__init__.py` only re-exports Base: git grep skips it, the index reads it on demand."""
    files = {
        "app/__init__.py": "",
        "app/db/__init__.py": "from .base import Base\n",
        "app/db/base.py": "from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n",
        "app/models.py": "from app.db import Base\n\nclass User(Base):\n    __tablename__ = 'users'\n",
    }
    write(tmp_path / "plain", files)
    plain, repo = _pair(tmp_path / "pair", tmp_path / "plain")
    assert scan.grep_files(repo, ["DeclarativeBase", "__tablename__"]) == {"app/db/base.py", "app/models.py"}
    index = build_index(repo)
    assert index == build_index(plain)
    assert [(m.ref, m.metadata) for m in index.models] == [("app.models:User", "app.db.base.Base")]


def test_generated_monorepo_does_not_depend_on_git(tmp_path: Path) -> None:
    expected = generate.generate(tmp_path / "plain", 400, seed=5, importers=13)
    shutil.copytree(tmp_path / "plain", tmp_path / "repo")
    as_repo(tmp_path / "repo")
    plain, repo = (
        plan_migration(tmp_path / name, expected.canonical_ref, [expected.old_ref]) for name in ("plain", "repo")
    )
    assert plain.changeset == repo.changeset
    assert {r.path for r in expected.references} <= {c.path for c in repo.changeset.changes}


def test_grep_after_a_listing_sees_untracked_files_the_listing_saw(tmp_path: Path) -> None:
    """git grep skips its untracked-file walk after a listing found none; a new listing resets that."""
    write(tmp_path, {"a.py": "User = 1\n"})
    as_repo(tmp_path)
    assert [f.path for f in scan.source_files(tmp_path)] == ["a.py"]
    assert scan.grep_files(tmp_path, ["User"]) == {"a.py"}
    write(tmp_path, {"b.py": "User = 2\n", "docs/notes.md": "User\n"})
    assert [f.path for f in scan.source_files(tmp_path)] == ["a.py", "b.py"]
    assert scan.grep_files(tmp_path, ["User"]) == {"a.py", "b.py"}
    assert scan.grep_files(tmp_path, ["User"], ["*.md"]) == {"docs/notes.md"}


def test_files_named_finds_what_the_full_listing_would(tmp_path: Path) -> None:
    files = {"env.py": "", "a/migrations/env.py": "", "a/migrations/versions/r1.py": "", "d/env.py": "",
             "c/node_modules/m/env.py": "", "c/ignored/env.py": "", "e/not_env.py": "", "f/env.py.txt": "",
             ".gitignore": "c/ignored\n", "b/.venv/lib/env.py": ""}
    plain = tmp_path / "plain"
    write(plain, files)
    repo = tmp_path / "repo"
    write(repo, files)
    as_repo(repo)
    write(repo, {"g/env.py": "", "h/.venv/env.py": ""})  # untracked: one counts, one is in a skipped folder

    def listed(root: Path) -> list[str]:
        return [p for p in scan.list_python_files(root) if p.rpartition("/")[2] == "env.py"]

    assert scan.files_named(repo, "env.py") == listed(repo) == [  # tracked files count, even in skipped folders
        "a/migrations/env.py", "b/.venv/lib/env.py", "c/node_modules/m/env.py", "d/env.py", "env.py", "g/env.py"]
    assert scan.files_named(plain, "env.py") == listed(plain)
