"""Issue 12 item 1: one table name in different schemas (class, base, MetaData, Table) is no duplicate."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.shapes import git, modelfold, own_tests, project


@pytest.mark.slow
def test_check_finds_nothing_and_auto_changes_nothing(tmp_path: Path) -> None:
    tree = project("shape_schemas", tmp_path / "p")
    check = modelfold(tree, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    head = git(tree, "rev-parse", "HEAD")
    auto = modelfold(tree, "migrate", "--auto")
    assert auto.returncode == 0, auto.stdout + auto.stderr
    assert "nothing to do" in auto.stderr
    assert git(tree, "branch", "--list", "modelfold/*") == ""
    assert git(tree, "rev-parse", "HEAD") == head
    run = own_tests(tree)
    assert run.returncode == 0, run.stdout[-3000:]


SAME_SCHEMA = {
    "pkg/__init__.py": "",
    "pkg/db.py": "from sqlalchemy import MetaData\nfrom sqlalchemy.orm import DeclarativeBase\n\n\n"
                 "class Base(DeclarativeBase):\n    metadata = MetaData(schema='audit')\n\n\n"
                 "class AuditModel(Base):\n    __abstract__ = True\n    __table_args__ = {'schema': 'audit'}\n",
    "pkg/a.py": "from sqlalchemy import Column, Integer\nfrom pkg.db import AuditModel\n\n\n"
                "class Entry(AuditModel):\n    __tablename__ = 'entries'\n    id = Column(Integer, primary_key=True)\n",
    "pkg/b.py": "from sqlalchemy import Column, Integer\nfrom pkg.db import Base\n\n\n"
                "class Entry(Base):\n    __tablename__ = 'entries'\n    __table_args__ = ({'schema': 'audit'},)\n"
                "    id = Column(Integer, primary_key=True)\n",
    "pkg/c.py": "from sqlalchemy import Column, Integer\nfrom pkg.db import Base\n\n\n"
                "class Other(Base):\n    __tablename__ = 'entries'\n    id = Column(Integer, primary_key=True)\n",
}


def test_one_schema_reached_three_ways_is_one_group(tmp_path: Path) -> None:
    from codemods.detect import detect

    for rel, text in SAME_SCHEMA.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    groups = detect(tmp_path).groups
    assert [sorted(m.ref for m in g.models) for g in groups if g.key == "table"] == [
        ["pkg.a:Entry", "pkg.b:Entry", "pkg.c:Other"]
    ]
    assert {m.schema for g in groups for m in g.models} == {"audit"}
