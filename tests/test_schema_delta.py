"""schema.py: the merged table against each original class, from the normalised definitions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.app import app
from codemods.migrate import plan_migration
from codemods.report import changes_json, markdown_report, schema_text
from codemods.types import Migration

BASE = "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n"
MODERN = '''from typing import Optional

from sqlalchemy import Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from pkg.db import Base


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("name", "queue", name="uq_tasks_name_queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(50), server_default="default")
    note: Mapped[Optional[str]] = mapped_column(String(100), default="n/a")
'''
LEGACY = '''from sqlalchemy import Column, Index, Integer, String

from pkg.db import Base


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_queue", "queue"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=True)
    queue = Column(String(50), nullable=False)
    note = Column(String(100))
    worker_host = Column(String(255), index=True)
'''
SAME = '''from sqlalchemy import Column, Integer, String

from pkg.db import Base


class Task(Base):
    __tablename__ = "tasks"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
'''
MODERN_SAME = '''from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pkg.db import Base


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))

    def label(self) -> str:
        return self.name
'''


def tree(tmp_path: Path, modern: str, legacy: str) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "db.py").write_text(BASE)
    (pkg / "modern.py").write_text(modern)
    (pkg / "legacy.py").write_text(legacy)
    return tmp_path


def plan(root: Path) -> Migration:
    return plan_migration(root, "pkg.modern:Task", ["pkg.legacy:Task"])


def test_delta_lists_added_columns_changes_constraints_and_indexes(tmp_path: Path) -> None:
    m = plan(tree(tmp_path, MODERN, LEGACY))
    canonical, legacy = m.schema
    assert canonical.original == "pkg.modern:Task" and legacy.original == "pkg.legacy:Task"
    assert legacy.path == "pkg/legacy.py" and legacy.table == "tasks"
    # the canonical class lacked worker_host: a database created from it needs the column
    assert canonical.added == ("worker_host",) and canonical.needs_migration
    assert canonical.dropped == () and legacy.dropped == ()
    assert canonical.indexes_added == ("Index('ix_tasks_queue', 'queue')",)
    changes = {(c.column, c.field): (c.before, c.after, c.ddl) for c in legacy.changed}
    assert changes[("name", "length")] == ("String(120)", "String(200)", True)
    assert changes[("name", "nullable")] == ("True", "False", True)
    assert changes[("queue", "server_default")] == ("none", "'default'", True)
    assert changes[("note", "default")] == ("none", "'n/a'", False)
    assert legacy.constraints_added == ("UniqueConstraint('name', 'queue', name='uq_tasks_name_queue')",)
    assert legacy.added == () and legacy.needs_migration


def test_identical_tables_need_no_migration(tmp_path: Path) -> None:
    m = plan(tree(tmp_path, MODERN_SAME, SAME))
    assert [d.needs_migration for d in m.schema] == [False, False]
    assert all(d.added == () and d.changed == () for d in m.schema)
    assert "no database migration needed" in schema_text([m])
    assert ": database migration needed" not in schema_text([m])


def test_text_markdown_and_json_carry_the_delta(tmp_path: Path) -> None:
    m = plan(tree(tmp_path, MODERN, LEGACY))
    text = schema_text([m])
    assert "from pkg.modern:Task (pkg/modern.py): database migration needed" in text
    assert "added column worker_host" in text
    assert "name length String(120) -> String(200)" in text
    assert "dropped columns: none" in text
    md = markdown_report([m])
    assert "## Schema delta" in md
    assert "| column | `worker_host` | added |  |  |" in md
    assert "| column | `name` | length | `String(120)` | `String(200)` |" in md
    assert "**a database created from it needs a migration**" in md
    doc = json.loads(json.dumps(changes_json([m])))
    first = doc["schema"][0]
    assert first["original"] == "pkg.modern:Task" and first["added"] == ["worker_host"]
    assert first["needs_migration"] is True and first["dropped"] == []


def test_dry_run_prints_the_block_on_stderr_and_keeps_the_diff_clean(tmp_path: Path) -> None:
    root = tree(tmp_path, MODERN, LEGACY)
    result = CliRunner().invoke(app, ["migrate", "pkg.modern:Task", "pkg.legacy:Task", "--root", str(root),
                                      "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "schema delta of table tasks" in result.stderr
    assert "schema delta" not in result.stdout


def test_report_tabulates_test_runs_before_and_after(tmp_path: Path) -> None:
    from codemods.types import TestRun, Verification

    runs = (TestRun("before", "pytest -q", 2, "1 error", 0.5), TestRun("after", "pytest -q", 0, "3 passed", 0.4))
    md = markdown_report([plan(tree(tmp_path, MODERN, LEGACY))], verification=Verification(True, (), (), runs, ()))
    assert "| before | `pytest -q` | 2 | 0.5 | failed |" in md
    assert "| after | `pytest -q` | 0 | 0.4 | passed |" in md
