"""Real `--format json` outputs of every command, each mode and each refusal, against docs/schemas/."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from support.cli_projects import ARCHIVE, LEGACY_USERS, ORDERS, SERVICE, TAGS, TWICE, USERS, cli, write_project

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED = FIXTURES / "seed_backend"
DUPS = {"app/users.py": USERS, "app/legacy_users.py": LEGACY_USERS, "app/service.py": SERVICE}
BROKEN = "from sqlalchemy.orm import Mapped\n\nclass Broken(Base:\n    x: Mapped[int]\n"


def validated(command: str, *args: str) -> tuple[int, dict[str, Any]]:
    """Run `modelfold COMMAND ARGS --format json`; the document, validated against its schema."""
    code, out, err = cli(command, *args, "--format", "json")
    doc: dict[str, Any] = json.loads(out)
    schema = json.loads((SCHEMAS / f"{command}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert doc["exit_code"] == code and doc["schema_version"] == 1, (doc, err)
    assert doc["command"] == command
    return code, doc


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("json")
    return {
        "dups": write_project(base / "dups", DUPS),
        "tables": write_project(base / "tables", {"app/users.py": USERS, "app/orders.py": ORDERS}),
        "across": write_project(base / "across", {"app/users.py": USERS, "app/archive.py": ARCHIVE}),
        "broken": write_project(base / "broken", {**DUPS, "app/broken.py": BROKEN}, commit=False),
        "mixed": write_project(base / "mixed", {**DUPS, "app/tags.py": TAGS.format(extra=""),
                                                "app/more_tags.py": TAGS.format(extra="\n    extend_existing=True,"),
                                                "app/twice.py": TWICE}),
        "clean": write_project(base / "clean", {"app/users.py": USERS}, commit=False),
    }


def test_detect_documents(projects: dict[str, Path]) -> None:
    assert validated("detect", str(SEED))[1]["groups"][0]["table"] == "users"
    assert validated("detect", str(projects["across"]))[1]["groups"][0]["across_metadata"] is True
    assert validated("detect", str(projects["broken"]))[1]["skipped"][0]["path"] == "app/broken.py"
    code, doc = validated("detect", str(projects["clean"] / "missing"))
    assert code == 2 and doc["error"]["code"] == "input"


def test_check_documents(projects: dict[str, Path]) -> None:
    assert validated("check", str(SEED))[0] == 1
    code, doc = validated("check", str(projects["clean"]))
    assert code == 0 and doc["groups"] == []
    code, doc = validated("check", str(projects["across"]))
    assert code == 0 and doc["groups"][0]["across_metadata"]
    code, doc = validated("check", str(projects["broken"]))
    assert code == 2 and doc["error"]["code"] == "unparsable_file"
    assert doc["error"]["details"]["skipped"][0]["path"] == "app/broken.py"


def test_migrate_documents_of_each_mode(projects: dict[str, Path], tmp_path: Path) -> None:
    refs = ("app.users:User", "app.legacy_users:User")
    code, doc = validated("migrate", *refs, "--root", str(projects["dups"]), "--dry-run")
    assert code == 0 and doc["mode"] == "dry-run" and doc["changes"]
    copy = tmp_path / "copy"
    shutil.copytree(projects["dups"], copy, ignore=shutil.ignore_patterns(".git"))
    code, doc = validated("migrate", *refs, "--root", str(copy), "--apply")
    assert code == 0 and doc["written"]
    code, doc = validated("migrate", *refs, "--root", str(copy), "--apply")
    assert code == 0 and doc["nothing_to_do"] is True and doc["changes"] == []
    code, doc = validated("migrate", "--auto", "--root", str(projects["mixed"]), "--dry-run")
    assert code == 1 and len(doc["skipped"]) == 2 and len(doc["consolidations"]) == 1
    code, doc = validated("migrate", "--auto", "--root", str(projects["clean"]), "--dry-run")
    assert code == 0 and doc["nothing_to_do"] is True


def test_migrate_lists_the_files_it_skipped_as_values(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {**DUPS, "app/half.py": "from app import legacy_users\nUser = (\n"})
    refs = ("app.users:User", "app.legacy_users:User", "--root", str(root), "--dry-run")
    code, doc = validated("migrate", *refs)
    reason = "cannot parse it, and no reference to a moved name seen"
    assert code == 0 and doc["skipped_files"] == [{"path": "app/half.py", "reason": reason}]
    assert not any("app/half.py" in w for w in doc["warnings"])
    code, _, err = cli("migrate", *refs)
    assert code == 0 and f"skipped app/half.py: {reason}" in err


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["app.users:User", "app.legacy_users:User", "--dry-run", "--apply"], 2, "usage"),
        (["app.users:User", "app.legacy_users:User", "--dry-run", "--branch", "x"], 2, "usage"),
        (["app.users:User", "app.legacy_users:User", "--bogus"], 2, "usage"),
        (["app.users:User", "app.nowhere:User", "--dry-run"], 2, "input"),
        (["app.users:User", "app.legacy_users:User", "--python", "/no/such/python"], 2, "input"),
        (["--auto", "--strict", "--dry-run"], 2, "input"),
    ],
)
def test_migrate_refusals(projects: dict[str, Path], args: list[str], code: int, error: str) -> None:
    root = projects["mixed"]
    got, doc = validated("migrate", *args, "--root", str(root))
    assert (got, doc["error"]["code"], doc["ok"]) == (code, error, False)
    assert doc["error"]["message"]


def test_migrate_refuses_other_tables_and_conflicts(projects: dict[str, Path]) -> None:
    code, doc = validated("migrate", "app.users:User", "app.orders:Order", "--root", str(projects["tables"]))
    assert code == 2 and "only models of one table" in doc["error"]["message"]
    code, doc = validated("migrate", "backend.app.auth.models:User", "backend.app.users.models:User",
                          "--root", str(SEED), "--dry-run", "--on-conflict", "fail")
    assert code == 3 and doc["error"]["code"] == "conflict"
    assert any(c["attribute"] == "email" for c in doc["error"]["details"]["conflicts"])


@pytest.mark.slow
def test_migrate_documents_of_staging(projects: dict[str, Path], tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", DUPS)
    refs = ("app.users:User", "app.legacy_users:User", "--root", str(root))
    failing = f"{sys.executable} -c 'import sys; sys.exit(7)'"
    code, doc = validated("migrate", *refs, "--test-cmd", failing)
    assert code == 3 and doc["error"]["code"] == "verification_failed"
    assert doc["error"]["details"]["verification"]["ok"] is False
    code, doc = validated("migrate", *refs, "--branch", "mf/json")
    assert code == 0 and doc["mode"] == "stage" and doc["branch"] == "mf/json"
    assert doc["verification"]["ok"] is True


def test_modernize_documents(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "merge_legacy_corpus", corpus, ignore=shutil.ignore_patterns("__pycache__"))
    code, doc = validated("modernize", "legacy_corpus.shop", "--root", str(corpus))
    assert code == 0 and doc["mode"] == "dry-run" and doc["changes"] and doc["written"] == []
    code, doc = validated("modernize", "legacy_corpus.shop", "--root", str(corpus), "--apply")
    assert code == 0 and doc["written"] == ["legacy_corpus/shop.py"]
    code, doc = validated("modernize", "legacy_corpus.shop", "--root", str(corpus))
    assert code == 0 and doc["nothing_to_do"] is True
    code, doc = validated("modernize", "legacy_corpus.nowhere", "--root", str(corpus))
    assert code == 2 and doc["error"]["code"] == "input"


def test_verify_documents(tmp_path: Path) -> None:
    root = write_project(tmp_path / "v", {"app/users.py": USERS}, commit=False)
    code, doc = validated("verify", "--root", str(root))
    assert code == 0 and doc["ok"] is True and doc["tables"] == ["users"] and doc["failures"] == []
    root = write_project(tmp_path / "twice", {"app/users.py": USERS, "app/legacy_users.py": USERS}, commit=False)
    code, doc = validated("verify", "--root", str(root))
    assert code == 3 and doc["ok"] is False and doc["failures"]
    code, doc = validated("verify", "--root", str(tmp_path / "v"), "app.nope")
    assert code == 2 and doc["error"]["code"] == "input" and "no module app.nope" in doc["error"]["message"]
