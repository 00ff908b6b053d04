"""Merge rules on small trees: equivalence vs real difference, backref collisions, several duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.merge import MergeConflictError, merge
from codemods.types import ConflictPolicy, Consolidation, ModelfoldError

from support.ddl_probe import probe_tree
from support.models import model

BASE = "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n"
CANON = '''from typing import Optional

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tg: Mapped[Optional[int]] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(320), default="x")
'''
LEGACY = '''import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

LegacyBase = declarative_base()


class User(LegacyBase):
    __tablename__ = "users"

    id = sa.Column(sa.Integer, primary_key=True)
    tg = sa.Column(sa.BigInteger, nullable=True, unique=True)
    name = sa.Column(sa.String(320), nullable=False, default="x")
    posts = sa.Column(sa.Integer)  # a counter column, named like Post's backref
    nick = sa.Column(sa.String(30))
'''
POST = '''from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import mapped_column, relationship

from app.db import Base


class Post(Base):
    __tablename__ = "posts"

    id = mapped_column(Integer, primary_key=True)
    user_id = mapped_column(ForeignKey("users.id"))
    author = relationship("User", backref="posts")
'''


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


CORE_USER = model("app.core:User", style="mapped")
LEGACY_USER = model("app.legacy:User", style="mapped")


def project(tmp_path: Path, legacy: str = LEGACY, extra: dict[str, str] | None = None) -> Path:
    files = {"app/__init__.py": "", "app/db.py": BASE, "app/core.py": CANON, "app/legacy.py": legacy,
             "app/posts.py": POST, **(extra or {})}
    return write(tmp_path / "proj", files)


def test_equivalent_spellings_are_not_conflicts(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = merge(Consolidation(CORE_USER, (LEGACY_USER,)), root)
    assert [c.attribute for c in result.conflicts if c.kind == "column"] == []


@pytest.mark.parametrize(("legacy_line", "canonical_part"), [
    ('    name = sa.Column(sa.String(255), nullable=False, default="x")\n', "String(320)"),
    ('    name = sa.Column(sa.String(320), nullable=False, default="y")\n', 'default="x"'),
    ('    name = sa.Column(sa.String(320), default="x")\n', "Mapped[str]"),
    ('    name = sa.Column(sa.String(320), nullable=False, default="x", server_default="x")\n', "String(320)"),
])
def test_real_differences_are_conflicts(tmp_path: Path, legacy_line: str, canonical_part: str) -> None:
    legacy = LEGACY.replace('    name = sa.Column(sa.String(320), nullable=False, default="x")\n', legacy_line)
    root = project(tmp_path, legacy)
    result = merge(Consolidation(CORE_USER, (LEGACY_USER,)), root)
    columns = [c for c in result.conflicts if c.kind == "column"]
    assert [c.attribute for c in columns] == ["name"]
    assert canonical_part in columns[0].canonical and legacy_line.strip() == columns[0].duplicate


def test_backref_from_another_model_onto_a_merged_attribute_is_a_conflict(tmp_path: Path) -> None:
    root = project(tmp_path)
    plan = Consolidation(CORE_USER, (LEGACY_USER,))
    result = merge(plan, root)
    backrefs = [c for c in result.conflicts if c.kind == "backref"]
    assert [(c.attribute, c.canonical) for c in backrefs] == [("posts", "app.posts:Post.author backref='posts'")]
    assert "posts" not in result.canonical_text.split("class User")[1]
    assert "    nick: Mapped[Optional[str]] = mapped_column(sa.String(30))\n" in result.canonical_text
    with pytest.raises(MergeConflictError):
        merge(Consolidation(plan.canonical, plan.duplicates, ConflictPolicy.FAIL), root)
    write(root, {"app/core.py": result.canonical_text, "app/legacy.py": "from app.core import User  # noqa\n"})
    ddl, error = probe_tree(root, ["app.legacy", "app.posts", "app.db"])
    assert error is None
    assert "nick VARCHAR(30)" in ddl["users [sqlite]"]


def test_several_duplicates_fold_in_order(tmp_path: Path) -> None:
    third = '''import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

OtherBase = declarative_base()


class User(OtherBase):
    __tablename__ = "users"

    id = sa.Column(sa.Integer, primary_key=True)
    nick = sa.Column(sa.String(40))
    karma = sa.Column(sa.Integer, nullable=False, server_default="0")
'''
    root = project(tmp_path, extra={"app/older.py": third})
    plan = Consolidation(CORE_USER, (LEGACY_USER, model("app.older:User", style="mapped")))
    result = merge(plan, root)
    assert [(c.attribute, c.duplicate_ref) for c in result.conflicts if c.kind == "column"] == [
        ("nick", "app.older:User")
    ]
    text = result.canonical_text
    assert text.index("    nick: Mapped[Optional[str]] = mapped_column(sa.String(30))") < text.index(
        "    karma: Mapped[int] = mapped_column(sa.Integer, server_default=\"0\")")
    again = merge(plan, root)
    assert again == result  # deterministic


def test_crlf_and_bom_survive(tmp_path: Path) -> None:
    canon = "\ufeff" + CANON.replace("\n", "\r\n")
    root = project(tmp_path, extra={"app/core.py": canon})
    text = merge(Consolidation(CORE_USER, (LEGACY_USER,)), root).canonical_text
    assert text.startswith("\ufeff")
    assert "\n" not in text.replace("\r\n", "")
    assert "    nick: Mapped[Optional[str]] = mapped_column(sa.String(30))\r\n" in text


def test_unknown_class_is_a_clear_error(tmp_path: Path) -> None:
    root = project(tmp_path)
    with pytest.raises(ModelfoldError, match="no top-level class Nope in app/legacy.py"):
        merge(Consolidation(CORE_USER, (model("app.legacy:Nope", style="mapped"),)), root)


def test_bare_mapped_float_is_not_assumed_equal_to_float(tmp_path: Path) -> None:
    canon = CANON.replace('    name: Mapped[str] = mapped_column(String(320), default="x")\n',
                          '    name: Mapped[str] = mapped_column(String(320), default="x")\n'
                          "    score: Mapped[float] = mapped_column()\n")
    legacy = LEGACY + "    score = sa.Column(sa.Float, nullable=False)\n"
    root = project(tmp_path, legacy, {"app/core.py": canon})
    result = merge(Consolidation(CORE_USER, (LEGACY_USER,)), root)
    assert [c.attribute for c in result.conflicts if c.kind == "column"] == ["score"]
