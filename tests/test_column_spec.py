"""Detect and merge judge "defined differently" by one normalised definition, and the DDL agrees (issue 11 item 2)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import CreateTable

from codemods.detect import detect
from codemods.index._columns import column_spec
from codemods.merge import merge
from codemods.migrate import unmigratable
from codemods.types import Consolidation, DuplicateGroup

from support.cli_projects import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SPELLINGS = FIXTURES / "column_spellings"
PROJECTS = [SPELLINGS, FIXTURES / "seed_backend", FIXTURES / "merge_two_classes", FIXTURES / "src_layout_invoices",
            FIXTURES / "merge_legacy_corpus", FIXTURES / "rewrite_forms" / "_base"]
# merge unites __table_args__ item by item; detect compares whole members, so table args stay out
TABLE_LEVEL = {"__table_args__"}


def conflicts_of(root: Path, group: DuplicateGroup) -> set[str]:
    canon = next(m for m in group.models if m.ref == group.canonical)
    dups = tuple(m for m in group.models if m.ref != group.canonical)
    result = merge(Consolidation(canon, dups), root)
    return {c.attribute for c in result.conflicts if c.kind not in ("table_args", "constraint", "index")}


def fixture_groups() -> list[tuple[Path, DuplicateGroup]]:
    return [(root, g) for root in PROJECTS if root.is_dir() for g in detect(root).groups if unmigratable(g) is None]


def test_the_spellings_fixture_differs_in_comment_and_ondelete_only_for_both() -> None:
    (group,) = detect(SPELLINGS).groups
    assert group.differing == ("note", "org_id")
    assert conflicts_of(SPELLINGS, group) == {"note", "org_id"}
    code, _, err = cli("migrate", "shop.accounts:Account", "shop.legacy_accounts:Account", "--root", str(SPELLINGS),
                       "--dry-run", "--on-conflict", "fail")
    assert code == 3 and "owner_id" not in err and "status" not in err and "email" not in err


def test_detect_differing_equals_merge_conflicts_on_every_fixture_group() -> None:
    groups = fixture_groups()
    assert len(groups) >= 4
    for root, group in groups:
        assert set(group.differing) - TABLE_LEVEL == conflicts_of(root, group) - TABLE_LEVEL, (root.name, group.table)


def _columns(path: Path) -> dict[str, str]:
    """attribute -> the column statement's source, from the fixture class."""
    tree = ast.parse(path.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    return {ast.unparse(s.targets[0] if isinstance(s, ast.Assign) else s.target): ast.unparse(s)
            for s in cls.body if isinstance(s, (ast.Assign, ast.AnnAssign))
            and not ast.unparse(s).startswith("__")}


def _judge(statement: str) -> tuple[str, Any]:
    """The column's MySQL DDL (comments and ON DELETE render there) and its Python-side default."""

    class Base(DeclarativeBase):
        pass

    sa.Table("orgs", Base.metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("users", Base.metadata, sa.Column("id", sa.Integer, primary_key=True))
    names: dict[str, Any] = {**vars(sa), "sa": sa, "Base": Base, "Mapped": Mapped, "mapped_column": mapped_column,
                             "Optional": __import__("typing").Optional}
    body = "    id_: Mapped[int] = mapped_column(primary_key=True)\n" if not statement.startswith("id") else ""
    source = f"class T(Base):\n    __tablename__ = 't'\n{body}    {statement}\n"
    exec(compile(source, "<column>", "exec", dont_inherit=True), names)  # annotations evaluated, not strings
    table = names["T"].__table__
    column = table.c[statement.split(":")[0].split("=")[0].strip()]
    ddl = str(CreateTable(table).compile(dialect=mysql.dialect()))
    return ddl, column.default.arg if column.default is not None else None


def _spec(statement: str) -> tuple[tuple[str, str], ...]:
    node = ast.parse(statement).body[0]
    assert isinstance(node, (ast.Assign, ast.AnnAssign))
    name = ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
    call = node.value if isinstance(node.value, ast.Call) else None
    return column_spec(name, call, node.annotation if isinstance(node, ast.AnnAssign) else None)


@pytest.mark.parametrize("attribute", ["id", "status", "org_id", "owner_id", "note", "email"])
def test_the_ddl_is_the_judge(attribute: str) -> None:
    ours = _columns(SPELLINGS / "shop" / "accounts.py")[attribute]
    theirs = _columns(SPELLINGS / "shop" / "legacy_accounts.py")[attribute]
    assert (_spec(ours) == _spec(theirs)) == (_judge(ours) == _judge(theirs)), (ours, theirs)
