"""[tool.modelfold] / modelfold.toml: each setting, unknown keys, and the command line winning.

branch_prefix, test_cmd and python through a staged run are in test_plan_batch.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.settings import load_settings
from codemods.types import ConflictPolicy, ModelfoldError

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "batch_shop"
runner = CliRunner()
PRODUCTS = ["shop.catalog.models:Product", "shop.legacy.product:Product"]


def shop(tmp_path: Path, settings: str = "", file: str = "pyproject.toml") -> Path:
    tree = tmp_path / "shop"
    shutil.copytree(SHOP, tree, ignore=shutil.ignore_patterns("__pycache__"))
    if settings:
        (tree / file).write_text(settings)
    return tree


def test_every_key_is_read(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.modelfold]\nexclude = ["legacy", "*_pb2.py"]\n'
        'on_conflict = "fail"\nbranch_prefix = "refactor/"\nwarn_on_import = true\n'
        'python = "bin/python"\ntest_cmd = "pytest -q"\n')
    found = load_settings(root)
    assert found.exclude == ("legacy", "*_pb2.py")
    assert found.on_conflict is ConflictPolicy.FAIL
    assert (found.branch_prefix, found.warn_on_import, found.test_cmd) == ("refactor/", True, "pytest -q")
    assert found.python == str((root / "bin/python").resolve())
    assert found.source == root / "pyproject.toml"


def test_modelfold_toml_wins_and_is_found_from_a_subfolder(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "pkg").mkdir()
    (root / "pyproject.toml").write_text('[tool.modelfold]\ntest_cmd = "a"\n')
    (root / "modelfold.toml").write_text('test_cmd = "b"\n')
    assert load_settings(root / "pkg").test_cmd == "b"
    (root / "modelfold.toml").unlink()
    assert load_settings(root / "pkg").test_cmd == "a"
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_settings(root / "pkg").source is None
    (tmp_path / "pyproject.toml").write_text('[tool.modelfold]\ntest_cmd = "outside the repository"\n')
    assert load_settings(root / "pkg").test_cmd is None


@pytest.mark.parametrize(("text", "message"), [
    ('[tool.modelfold]\nexcludes = ["x"]\n', "pyproject.toml: unknown key 'excludes' in [tool.modelfold] "),
    ('[tool.modelfold]\non_conflict = "merge"\n', "on_conflict must be one of keep-canonical, keep-duplicate, fail"),
    ('[tool.modelfold]\nwarn_on_import = "yes"\n', "warn_on_import must be true or false"),
    ('[tool.modelfold]\nexclude = [1]\n', "exclude must be a list of globs or directories"),
    ('[tool.modelfold]\nbranch_prefix = ""\n', "branch_prefix must be a non-empty string"),
    ('[tool.modelfold]\npython = 3\n', "python must be a non-empty string"),
    ('[tool.modelfold]\ntest_cmd = ["pytest"]\n', "test_cmd must be a non-empty string"),
])
def test_bad_settings_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(ModelfoldError, match=r"^.*pyproject\.toml: .*") as caught:
        load_settings(tmp_path)
    assert message in str(caught.value)


def test_unknown_key_stops_every_command_with_exit_2(tmp_path: Path) -> None:
    tree = shop(tmp_path, 'branch = "x"\n', "modelfold.toml")
    for args in (["check", str(tree)], ["migrate", *PRODUCTS, "--root", str(tree), "--dry-run"],
                 ["plan", str(tree), "-o", str(tmp_path / "p.toml")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "modelfold.toml: unknown key 'branch'" in result.stderr
    assert not (tmp_path / "p.toml").exists()


def test_exclude_setting_and_the_command_line_winning(tmp_path: Path) -> None:
    tree = shop(tmp_path, '[tool.modelfold]\nexclude = ["shop/legacy", "inventory"]\n')
    result = runner.invoke(app, ["check", str(tree)])
    assert result.exit_code == 0, result.output  # every duplicate sits in an excluded folder
    result = runner.invoke(app, ["check", str(tree), "--exclude", "shop/legacy/customer.py"])
    assert result.exit_code == 1 and "products" in result.stdout and "customers" not in result.stdout


def test_on_conflict_setting_and_the_command_line_winning(tmp_path: Path) -> None:
    tree = shop(tmp_path, '[tool.modelfold]\non_conflict = "fail"\n')
    result = runner.invoke(app, ["migrate", *PRODUCTS, "--root", str(tree), "--dry-run"])
    assert result.exit_code == 3, result.output  # title differs
    result = runner.invoke(app, ["migrate", *PRODUCTS, "--root", str(tree), "--dry-run",
                                 "--on-conflict", "keep-canonical"])
    assert result.exit_code == 0, result.output
    plan = tmp_path / "plan.toml"
    assert runner.invoke(app, ["plan", str(tree), "-o", str(plan)]).exit_code == 0
    active = [line for line in plan.read_text().splitlines() if line == 'on_conflict = "fail"']
    assert len(active) == 2  # customers, products; the orders pair across MetaData is left commented out


def test_warn_on_import_setting(tmp_path: Path) -> None:
    plain = runner.invoke(app, ["migrate", *PRODUCTS, "--root", str(shop(tmp_path / "a")), "--dry-run"])
    assert plain.exit_code == 0 and "DeprecationWarning" not in plain.stdout
    tree = shop(tmp_path / "b", '[tool.modelfold]\nwarn_on_import = true\n')
    warned = runner.invoke(app, ["migrate", *PRODUCTS, "--root", str(tree), "--dry-run"])
    assert warned.exit_code == 0 and "DeprecationWarning" in warned.stdout
