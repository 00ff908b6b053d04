"""Issue 11 through the CLI: never merge what must not be merged, validate before acting, outputs to trust.

Each test is named after the defect it pins; all run the real app on small projects in tmp folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli import detect_cmd

from support.cli_projects import (
    ARCHIVE,
    DB,
    LEGACY_USERS,
    ORDERS,
    SERVICE,
    TAGS,
    TWICE,
    USERS,
    cli,
    cli_json,
    git,
    state,
    write_project,
)

DUPS = {"app/users.py": USERS, "app/legacy_users.py": LEGACY_USERS, "app/service.py": SERVICE}


# item 1: models of different tables are never merged; another MetaData only with a warning


@pytest.mark.parametrize("mode", [[], ["--dry-run"], ["--apply"]])
def test_two_models_on_different_tables_are_refused(tmp_path: Path, mode: list[str]) -> None:
    root = write_project(tmp_path / "p", {"app/users.py": USERS, "app/orders.py": ORDERS})
    before = state(root)
    code, out, err = cli("migrate", "app.users:User", "app.orders:Order", "--root", str(root), *mode)
    assert code == 2, err
    assert "app.orders:Order maps table 'orders' but app.users:User maps 'users'" in err
    assert len(err.strip().splitlines()) == 1 and out == ""
    assert state(root) == before


def test_a_model_on_another_metadata_is_detected_marked_and_merged_with_a_warning(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"app/users.py": USERS, "app/archive.py": ARCHIVE})
    _, detected = cli_json("detect", str(root))
    (group,) = detected["groups"]
    assert group["across_metadata"] is True
    assert [m["ref"] for m in group["models"]] == ["app.archive:User", "app.users:User"]
    code, out, err = cli("check", str(root))
    assert code == 0 and out == ""  # no clash at run time: listed, not failed
    assert "note: table 'users' mapped 2 times in different MetaData" in err
    report = tmp_path / "report.md"
    code, out, err = cli("migrate", "app.users:User", "app.archive:User", "--root", str(root), "--dry-run",
                         "--report", str(report))
    assert code == 0, err
    assert "warning: app.archive:User is on MetaData" in err
    assert "Warning: app.archive:User is on MetaData" in report.read_text()
    _, doc = cli_json("migrate", "app.users:User", "app.archive:User", "--root", str(root), "--dry-run")
    assert any("is on MetaData" in w for w in doc["warnings"])


def test_two_bases_with_their_own_metadata_differ_and_a_shared_one_clashes(tmp_path: Path) -> None:
    two_own = DB.replace("class ArchiveBase(DeclarativeBase):\n    metadata = MetaData()",
                         "class ArchiveBase(DeclarativeBase):\n    metadata = MetaData()\n\n\n"
                         "class ThirdBase(DeclarativeBase):\n    metadata = MetaData()")
    third = ARCHIVE.replace("ArchiveBase", "ThirdBase").replace("class User", "class Person")
    root = write_project(tmp_path / "own", {"app/db.py": two_own, "app/archive.py": ARCHIVE, "app/third.py": third},
                         commit=False)
    _, doc = cli_json("detect", str(root))
    assert [g["across_metadata"] for g in doc["groups"]] == [True]  # two MetaData() objects, not one
    shared = DB.replace("metadata = MetaData()", "metadata = Base.metadata")
    root = write_project(tmp_path / "shared", {"app/db.py": shared, "app/users.py": USERS, "app/archive.py": ARCHIVE},
                         commit=False)
    code, out, _ = cli("check", str(root))
    assert code == 1 and "table 'users' defined 2 times" in out
    code, _, err = cli("migrate", "app.users:User", "app.archive:User", "--root", str(root), "--dry-run")
    assert code == 0 and "warning: app.archive:User is in registry app.db.ArchiveBase" in err


# item 3: every path and option is checked before anything is created


def test_report_in_a_missing_directory_is_refused_before_any_branch(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", DUPS)
    before = state(root)
    code, out, err = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root),
                         "--report", str(tmp_path / "no/such/dir/r.md"))
    assert code == 2 and out == ""
    assert err.startswith("error: --report") and "does not exist" in err
    assert len(err.strip().splitlines()) == 1
    assert state(root) == before


def test_missing_python_is_refused_with_one_line(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", DUPS)
    before = state(root)
    code, _, err = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root),
                       "--python", str(tmp_path / "missing"))
    assert code == 2 and "--python" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert state(root) == before


def test_an_invalid_branch_name_is_refused_before_anything(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", DUPS)
    before = state(root)
    code, _, err = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root),
                       "--branch", "bad..name")
    assert code == 2 and "'bad..name' is not a valid branch name" in err
    assert state(root) == before


@pytest.mark.parametrize("mode", ["--dry-run", "--apply"])
@pytest.mark.parametrize("option", [["--test-cmd", "true"], ["--branch", "mf/x"], ["--python", sys.executable],
                                    ["--force"]])
def test_stage_only_options_are_refused_in_other_modes(tmp_path: Path, mode: str, option: list[str]) -> None:
    root = write_project(tmp_path / "p", DUPS)
    before = state(root)
    code, out, err = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root), mode, *option)
    assert code == 2 and out == ""
    assert f"{option[0]} has no effect with {mode}" in err
    assert state(root) == before


# item 4: check cannot vouch for a model file that does not parse


def test_check_fails_on_an_unparsable_model_file_and_detect_lists_it(tmp_path: Path) -> None:
    broken = "from sqlalchemy.orm import Mapped\n\nclass Broken(Base:\n    x: Mapped[int]\n"
    root = write_project(tmp_path / "p", {"app/users.py": USERS, "app/broken.py": broken}, commit=False)
    code, out, err = cli("check", str(root))
    assert code == 2, (out, err)
    assert "cannot check app/broken.py" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("detect", str(root))
    assert code == 0 and "skipped app/broken.py" in err


# item 5 (and issue 12 item 10): --auto handles or lists every group check reports


@pytest.fixture(scope="module")
def mixed_groups(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """users twice (migratable), post_tags as two imperative Tables, posts twice in one module."""
    files = {**DUPS, "app/tags.py": TAGS.format(extra=""),
             "app/more_tags.py": TAGS.format(extra="\n    extend_existing=True,"), "app/twice.py": TWICE}
    return write_project(tmp_path_factory.mktemp("mixed") / "p", files)


def test_auto_migrates_what_it_can_and_lists_every_other_group_check_reports(mixed_groups: Path) -> None:
    code, checked = cli_json("check", str(mixed_groups))
    assert code == 1 and len(checked["groups"]) == 3
    code, out, err = cli("migrate", "--auto", "--root", str(mixed_groups), "--dry-run")
    assert code == 1, err  # groups remain, as check will say
    assert "nothing to do" not in err
    assert "diff --git a/app/legacy_users.py b/app/legacy_users.py" in out
    assert "skipped table 'post_tags' (app.more_tags:post_tags, app.tags:post_tags): imperative Table" in err
    assert "skipped table 'posts' (app.twice:Post, app.twice:Post): class Post is defined twice in module" in err
    _, doc = cli_json("migrate", "--auto", "--root", str(mixed_groups), "--dry-run")
    handled = {c["table"] for c in doc["consolidations"]} | {s["title"].split("'")[1] for s in doc["skipped"]}
    assert handled == {g["table"] for g in checked["groups"]}


def test_auto_strict_refuses_the_run_when_a_group_cannot_be_migrated(mixed_groups: Path) -> None:
    before = state(mixed_groups)
    code, out, err = cli("migrate", "--auto", "--strict", "--root", str(mixed_groups), "--dry-run")
    assert code == 2 and out == ""
    assert "table 'post_tags' cannot be migrated: imperative Table" in err
    assert state(mixed_groups) == before


def test_auto_lists_two_classes_of_one_table_in_one_module_and_other_metadata(tmp_path: Path) -> None:
    two = TWICE.replace("class Post(Base):  # noqa: F811", "class Article(Base):")
    root = write_project(tmp_path / "p", {"app/users.py": USERS, "app/archive.py": ARCHIVE, "app/twice.py": two},
                         commit=False)
    code, out, err = cli("migrate", "--auto", "--root", str(root), "--dry-run")
    assert code == 1 and out == "", err
    assert "Article and Post map one table in module app.twice; folding classes within one module" in err
    assert "skipped table 'users' (app.archive:User, app.users:User): one table name in different MetaData" in err
    root_across = write_project(tmp_path / "q", {"app/users.py": USERS, "app/archive.py": ARCHIVE}, commit=False)
    code, _, err = cli("migrate", "--auto", "--root", str(root_across), "--dry-run")
    assert code == 0 and "skipped table 'users'" in err  # listed, but no clash: check passes too


MAPPED_TABLE = """from sqlalchemy import Column, Integer, String, Table

from app.db import Base


class User(Base):
    __table__ = Table(
        "users", Base.metadata,
        Column("id", Integer, primary_key=True), Column("email", String(255)),
        extend_existing=True,
    )
"""


def test_a_class_mapping_an_imperative_table_is_refused_with_the_group_named(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"app/users.py": USERS, "app/mapped.py": MAPPED_TABLE}, commit=False)
    before = state_files(root)
    code, out, err = cli("migrate", "app.users:User", "app.mapped:User", "--root", str(root), "--apply")
    assert code == 2 and out == ""
    assert "cannot fold app.mapped:User into app.users:User: app.mapped:User maps an imperative Table" in err
    assert state_files(root) == before
    code, _, err = cli("migrate", "--auto", "--root", str(root), "--dry-run")
    assert code == 1 and "skipped table 'users' (app.mapped:User, app.users:User): app.mapped:User maps" in err


def state_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# item 6: a dry-run diff of a subdirectory applies from the git top level


def test_dry_run_paths_are_relative_to_the_git_top_level(tmp_path: Path) -> None:
    top = tmp_path / "repo"
    write_project(top / "svc", DUPS, commit=False)
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    git(top, "-c", "user.name=T", "-c", "user.email=t@e.x", "commit", "-q", "-m", "p")
    code, diff, err = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(top / "svc"),
                          "--dry-run")
    assert code == 0, err
    assert "diff --git a/svc/app/legacy_users.py b/svc/app/legacy_users.py" in diff
    patch = tmp_path / "change.diff"
    patch.write_text(diff)
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=top, check=True, capture_output=True)
    plain = write_project(tmp_path / "plain", DUPS, commit=False)
    code, diff, _ = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(plain), "--dry-run")
    assert code == 0 and "diff --git a/app/legacy_users.py b/app/legacy_users.py" in diff


# item 7: --test-cmd runs in the platform shell


@pytest.mark.slow
def test_test_cmd_runs_in_the_shell(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", DUPS)
    code, doc = cli_json("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root),
                         "--test-cmd", "true && echo shell-ok", "--branch", "mf/shell")
    assert code == 0, doc
    tests = doc["verification"]["tests"]
    assert [t["side"] for t in tests] == ["before", "after"]
    assert all(t["returncode"] == 0 and "shell-ok" in t["tail"] for t in tests)


# exit codes and crashes


def test_an_internal_error_is_exit_4_with_one_line_and_a_traceback_only_when_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(*_: object) -> None:
        raise RuntimeError("index exploded\nsecond line")

    monkeypatch.setattr(detect_cmd, "detect", crash)
    code, out, err = cli("detect", str(tmp_path))
    assert code == 4 and out == ""
    assert err == "error: internal error: RuntimeError: index exploded (rerun with --verbose for the traceback)\n"
    code, _, err = cli("detect", str(tmp_path), "--verbose")
    assert code == 4 and "Traceback (most recent call last)" in err
    code, doc = cli_json("check", str(tmp_path))
    assert code == 4 and doc["error"]["code"] == "internal" and doc["exit_code"] == 4


@pytest.mark.slow
def test_json_is_never_coloured_even_with_force_color(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", DUPS, commit=False)
    env = {**os.environ, "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    for args in (["detect", str(root)], ["migrate", "app.users:User", "app.legacy_users:User", "--root", str(root),
                                          "--dry-run"]):
        proc = subprocess.run([sys.executable, "-c", "from cli.app import main; main()", *args, "--format", "json"],
                              capture_output=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert b"\x1b[" not in proc.stdout and proc.stdout.startswith(b"{")


# the cosmetic defects


def test_nothing_to_do_is_said_once(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", DUPS, commit=False)
    assert cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root), "--apply")[0] == 0
    code, out, err = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root), "--apply")
    assert code == 0 and out == ""
    assert err.count("nothing to do") == 1


def test_text_output_lists_non_python_files_naming_the_old_path(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {**DUPS, "docs/models.md": "Import app.legacy_users.User.\n"})
    code, _, err = cli("migrate", "app.users:User", "app.legacy_users:User", "--root", str(root), "--dry-run")
    assert code == 0, err
    assert "not edited, but they name the old location: docs/models.md:1: app.legacy_users.User" in err


def test_auto_file_summaries_are_not_doubled(tmp_path: Path) -> None:
    orders_legacy = LEGACY_USERS.replace("User", "Order").replace('"users"', '"orders"')
    service = SERVICE + "from app.legacy_orders import Order\n"
    root = write_project(tmp_path / "p", {**DUPS, "app/service.py": service, "app/orders.py": ORDERS,
                                          "app/legacy_orders.py": orders_legacy}, commit=False)
    code, doc = cli_json("migrate", "--auto", "--root", str(root), "--dry-run")
    assert code == 0 and len(doc["consolidations"]) == 2, doc
    (service_change,) = [c for c in doc["changes"] if c["path"] == "app/service.py"]
    parts = service_change["summary"].split("; ")
    assert len(parts) == len(set(parts)), service_change["summary"]


def test_detect_table_keeps_numbers_whole_at_120_columns() -> None:
    seed = Path(__file__).resolve().parents[1] / "fixtures" / "seed_backend"
    code, out, _ = cli("detect", str(seed), env={"COLUMNS": "120"})
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("│")]
    cells = [[c.strip() for c in row.strip("│").split("│")] for row in rows]
    line_numbers = [row[2] for row in cells if row[2]]
    assert line_numbers == ["31", "26"]


def test_modernize_on_an_enum_says_not_a_model(tmp_path: Path) -> None:
    enums = "import enum\n\n\nclass Status(enum.Enum):\n    ACTIVE = 'active'\n"
    root = write_project(tmp_path / "p", {"app/users.py": USERS, "app/enums.py": enums}, commit=False)
    code, _, err = cli("modernize", "app.enums:Status", "--root", str(root))
    assert code == 2
    assert "app.enums:Status is not a mapped model class" in err and "nothing to convert" not in err
