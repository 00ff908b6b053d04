"""Issue 12 item 3: a merged table that lost a column, foreign key, index or server default against
an original class fails verification, unless a conflict decision covers it (real SQLAlchemy DDL)."""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, func

from codemods.diff import write_changes
from codemods.stage._probe_script import _table_info
from codemods.stage._schema_loss import lost_schema, table_diff
from codemods.stage._verify import verify
from codemods.types import Changeset, Conflict, FileChange, Migration

from support.mini_project import FILES, MODERN_MERGED, migration

LOSSES = ["column", "foreign key", "index", "server default"]


def users(drop: str | None = None) -> dict[str, object]:
    """The users table as the legacy class declares it, with one piece `drop`ped (the broken merge)."""
    metadata = MetaData()
    Table("orgs", metadata, Column("id", Integer, primary_key=True))
    columns = [
        Column("id", Integer, primary_key=True),
        Column("email", String(255), nullable=False),
        Column("handle", String(40), index=drop != "index"),
        Column("org_id", Integer, *([] if drop == "foreign key" else [ForeignKey("orgs.id")])),
        Column("created_at", DateTime, **({} if drop == "server default" else {"server_default": func.now()})),
    ]
    if drop != "column":
        columns.append(Column("nickname", String(50)))
    return _table_info(Table("users", metadata, *columns))


def with_conflict(attribute: str) -> Migration:
    m = migration()
    conflict = Conflict(attribute, "column", "-", "-", "pkg.legacy:User", "kept canonical")
    return replace(m, merge=replace(m.merge, conflicts=(conflict,)))


@pytest.mark.parametrize("loss", LOSSES)
def test_each_lost_piece_of_schema_is_a_regression(loss: str) -> None:
    diff = table_diff("users", "pkg.legacy:User", users(), users(drop=loss))
    found = lost_schema([diff], migration())
    what = f"the {loss}" if loss == "server default" else loss
    assert len(found) == 1 and found[0].startswith(f"schema: users lost {what}"), found
    assert "pkg.legacy:User" in found[0]


@pytest.mark.parametrize(("loss", "attribute"), [("column", "nickname"), ("foreign key", "org_id"),
                                                  ("index", "handle"), ("server default", "created_at")])
def test_a_loss_the_conflict_policy_decided_is_allowed(loss: str, attribute: str) -> None:
    diff = table_diff("users", "pkg.legacy:User", users(), users(drop=loss))
    assert lost_schema([diff], with_conflict(attribute)) == []


def test_an_index_renamed_on_the_same_columns_is_not_lost() -> None:
    old = users()
    new = dict(old, indexes=[i.replace("ix_users_handle", "ix_user_handle") for i in old["indexes"]])  # type: ignore[attr-defined]
    new["ddl"] = str(new["ddl"]) + " "
    assert lost_schema([table_diff("users", "pkg.legacy:User", old, new)], migration()) == []


@pytest.mark.slow
def test_verification_fails_on_a_merge_that_dropped_a_column(tmp_path: Path) -> None:
    before = tmp_path / "before"
    for rel, text in FILES.items():
        (before / rel).parent.mkdir(parents=True, exist_ok=True)
        (before / rel).write_text(text)
    after = tmp_path / "after"
    shutil.copytree(before, after)
    m = migration()
    lossy = MODERN_MERGED.replace("    nickname: Mapped[Optional[str]] = mapped_column(String(50))\n", "")
    changes = tuple(FileChange(c.path, c.before, lossy, c.summary) if c.path == "pkg/modern.py" else c
                    for c in m.changeset.changes)
    m = replace(m, changeset=Changeset(changes))
    write_changes(after, m.changeset)
    v = verify(before, after, [m], python=sys.executable)
    assert not v.ok
    assert v.regressions[0].startswith("schema: users lost column nickname (from pkg.legacy:User")


ORDERS = """from sqlalchemy import Column, ForeignKey, Integer

from pkg.db import Base


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"))
"""


@pytest.mark.slow
def test_verification_fails_when_a_table_no_consolidation_is_on_changes(tmp_path: Path) -> None:
    before = tmp_path / "before"
    for rel, text in dict(FILES, **{"pkg/orders.py": ORDERS}).items():
        (before / rel).parent.mkdir(parents=True, exist_ok=True)
        (before / rel).write_text(text)
    after = tmp_path / "after"
    shutil.copytree(before, after)
    m = migration()
    write_changes(after, m.changeset)
    (after / "pkg" / "orders.py").write_text(ORDERS.replace('"users.id"))', '"users.id"), nullable=False)'))
    v = verify(before, after, [m], python=sys.executable)
    assert v.regressions == ("schema: orders changed, and no consolidation is on it",), v.messages
