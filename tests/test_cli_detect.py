"""`modelfold detect` / `check` through the real typer app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli.app import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED = FIXTURES / "seed_backend"
runner = CliRunner()


def merged_seed(tmp_path: Path) -> Path:
    """The seed project with the hand-merged overlay: what a correct consolidation looks like."""
    tree = tmp_path / "seed"
    shutil.copytree(SEED, tree, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(FIXTURES / "seed_backend_merged", tree, dirs_exist_ok=True)
    return tree


def test_detect_json_reports_the_seed_users_group() -> None:
    result = runner.invoke(app, ["detect", str(SEED), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (group,) = data["groups"]
    assert group["table"] == "users"
    assert group["class_name"] == "User"
    assert group["canonical"] == "backend.app.auth.models:User"
    assert [m["ref"] for m in group["models"]] == [
        "backend.app.auth.models:User",
        "backend.app.users.models:User",
    ]
    legacy = group["models"][1]
    assert legacy["style"] == "legacy"
    assert legacy["path"] == "backend/app/users/models.py"
    assert set(legacy["columns"]) >= {"full_name", "is_active", "last_login_at", "status"}
    assert legacy["relationships"] == ["api_keys"]
    # email differs in length (255 vs 320); telegram_user_id is spelled differently but equal.
    assert group["differing"] == ["email"]
    assert any(r.startswith("modern Mapped[] style") for r in group["reasons"])
    assert data["skipped"] == []
    assert data["files_scanned"] >= 30


def test_detect_table_output_names_the_canonical() -> None:
    result = runner.invoke(app, ["detect", str(SEED)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "table 'users' defined 2 times" in result.stdout
    assert "why keep backend.app.auth.models:User" in result.stdout


def test_check_fails_on_the_seed_and_passes_after_a_correct_merge(tmp_path: Path) -> None:
    found = runner.invoke(app, ["check", str(SEED)])
    assert found.exit_code == 1
    assert found.stdout.count("\n") == 1
    assert "table 'users' defined 2 times" in found.stdout

    clean = runner.invoke(app, ["check", str(merged_seed(tmp_path))])
    assert clean.exit_code == 0, clean.output
    assert clean.stdout == ""


def test_bad_paths_exit_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "file.py").write_text("x = 1\n")
    for paths in ([tmp_path / "missing"], [tmp_path / "file.py", tmp_path / "missing"]):
        result = runner.invoke(app, ["detect", *map(str, paths)])
        assert result.exit_code == 2
        assert "path does not exist" in result.stderr
        assert result.stdout == ""
    assert runner.invoke(app, ["detect", str(tmp_path / "file.py")]).exit_code == 0  # a file is a path too


def test_exclude_option_drops_a_member(tmp_path: Path) -> None:
    tree = tmp_path / "seed"
    shutil.copytree(SEED, tree, ignore=shutil.ignore_patterns("__pycache__"))
    result = runner.invoke(app, ["check", str(tree), "--exclude", "backend/app/users/*"])
    assert result.exit_code == 0, result.output
