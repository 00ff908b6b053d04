"""report.py: commit message, Markdown report and JSON shapes of a hand-made migration."""

from __future__ import annotations

import json
from dataclasses import replace

from codemods.report import changes_json, commit_message, dumps, markdown_report, staged_json
from codemods.types import ColumnChange, Skipped, StageResult, TableDiff, TestRun, Verification

from support.mini_project import migration


def verification() -> Verification:
    same = TableDiff("users", "pkg.legacy:User", before_ddl="X", after_ddl="X")
    grown = TableDiff("users", "pkg.modern:User", added=("nickname",),
                      changed=(ColumnChange("email", "email VARCHAR(255)", "email VARCHAR(320)"),),
                      before_ddl="X", after_ddl="Y")
    runs = (TestRun("before", "pytest", 2, "1 error", 0.5), TestRun("after", "pytest", 0, "1 passed", 0.4))
    return Verification(True, (("pkg.modern", "pkg.legacy"),), (same, grown), runs, ("note one",))


def test_commit_message_short_form() -> None:
    text = commit_message(migration())
    lines = text.splitlines()
    assert lines[0] == "Consolidate User models on users into pkg.modern:User"
    assert lines[1] == ""
    assert "Folded in: pkg.legacy:User" in lines
    assert "Conflict policy: keep-canonical" in lines
    assert "Conflicts (1):" in lines
    assert ("- email (column): canonical String(255) vs String(255), nullable=False "
            "from pkg.legacy:User -> kept canonical") in lines
    assert "Files changed (3):" in lines
    assert "- pkg/legacy.py: re-export shim" in lines


def test_markdown_report_sections() -> None:
    staged = StageResult("modelfold/users-abc", "f" * 40, ("f" * 40,), ("pkg/legacy.py",), verification())
    text = markdown_report([migration()], staged)
    for heading in ("## The problem", "## What was merged", "## Conflicts and resolutions",
                    "## Files changed", "## Verification", "## How to verify", "## How to roll back"):
        assert heading in text
    assert "Table 'users' is already defined for this MetaData instance" in text
    assert "- columns only it had: `nickname`" in text
    assert "| `pkg/service.py` | import rewritten |" in text
    assert "`users` compared to `pkg.legacy:User` before: DDL identical, no schema change" in text
    assert "added column `nickname`" in text
    assert "changed `email`: `email VARCHAR(255)` -> `email VARCHAR(320)`" in text
    assert "git branch -D modelfold/users-abc" in text
    assert "git diff HEAD...modelfold/users-abc" in text
    assert "Tests before: `pytest` exited 2" in text


def test_changes_json_shape() -> None:
    doc = json.loads(dumps(changes_json([migration()])))
    assert {"changes", "conflicts", "warnings", "moved_names"} <= set(doc)
    assert [c["path"] for c in doc["changes"]] == ["pkg/legacy.py", "pkg/modern.py", "pkg/service.py"]
    assert doc["changes"][2]["diff"].startswith("diff --git a/pkg/service.py b/pkg/service.py\n")
    assert "+from pkg.modern import User\n" in doc["changes"][2]["diff"]
    assert doc["conflicts"][0]["attribute"] == "email"
    assert doc["moved_names"] == [{"name": "Nothing", "from_module": "pkg.legacy", "to_module": "pkg.modern"}]


def test_skipped_files_are_listed_in_the_report_and_the_json() -> None:
    m = migration()
    m = replace(m, changeset=replace(m.changeset, skipped=(Skipped("pkg/odd.py", "not UTF-8"),)))
    assert "Skipped `pkg/odd.py`: not UTF-8" in markdown_report([m])
    assert changes_json([m])["skipped_files"] == [{"path": "pkg/odd.py", "reason": "not UTF-8"}]


def test_staged_json_has_branch_and_verification() -> None:
    staged = StageResult("b", "c" * 40, ("c" * 40,), (), verification())
    doc = staged_json([migration()], staged)
    assert doc["branch"] == "b" and doc["commit"] == "c" * 40
    assert doc["verification"]["ok"] is True
    assert doc["verification"]["schema"][1]["added"] == ("nickname",)


def test_output_is_deterministic() -> None:
    assert dumps(changes_json([migration()])) == dumps(changes_json([migration()]))
    assert markdown_report([migration()]) == markdown_report([migration()])
