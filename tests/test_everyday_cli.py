"""What users of ruff, black and alembic expect: --version, -h, -q/-v everywhere, examples, paths."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from codemods.scan import list_python_files

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "batch_shop"
COMMANDS = ["detect", "check", "migrate", "modernize", "verify", "plan", "apply"]
runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"modelfold {metadata.version('modelfold')}\n"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_short_help_quiet_verbose_and_examples(command: str) -> None:
    long, short = runner.invoke(app, [command, "--help"]), runner.invoke(app, [command, "-h"])
    assert long.exit_code == short.exit_code == 0
    assert long.stdout == short.stdout
    for flag in ("--quiet", "-q", "--verbose", "-v", "Examples:", f"$ modelfold {command}"):
        assert flag in long.stdout, flag


def test_app_help_offers_shell_completion() -> None:
    result = runner.invoke(app, ["-h"])
    assert result.exit_code == 0
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    tree = tmp_path / "shop"
    shutil.copytree(SHOP, tree, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_quiet_drops_the_notes_and_keeps_the_result(shop: Path, tmp_path: Path) -> None:
    for args in (["plan", str(shop), "-o", str(tmp_path / "a.toml")],
                 ["-q", "plan", str(shop), "-o", str(tmp_path / "b.toml")],
                 ["plan", "-q", str(shop), "-o", str(tmp_path / "c.toml")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0
        quiet = "-q" in args
        assert (result.stderr == "") is quiet, result.stderr
        assert result.stdout.strip().endswith(".toml")


def test_quiet_silences_every_commands_notes_but_not_its_errors(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SHOP.parent / "merge_legacy_corpus", corpus, ignore=shutil.ignore_patterns("__pycache__"))
    loud = runner.invoke(app, ["modernize", "legacy_corpus.shop", "--root", str(corpus), "--apply"])
    assert loud.exit_code == 0 and "converted legacy_corpus/shop.py" in loud.stderr
    for args in (["-q", "modernize"], ["modernize", "-q"]):
        again = runner.invoke(app, [*args, "legacy_corpus.shop", "--root", str(corpus)])
        assert again.exit_code == 0 and again.stderr == "", again.stderr  # no "nothing to convert"
        wrong = runner.invoke(app, [*args, "legacy_corpus.nowhere", "--root", str(corpus)])
        assert wrong.exit_code == 2 and wrong.stderr.startswith("error: "), wrong.stderr


def test_detect_and_check_take_several_files_and_folders(shop: Path) -> None:
    one = runner.invoke(app, ["check", str(shop / "shop/legacy/product.py")])
    assert one.exit_code == 1 and one.stdout.count("\n") == 1 and "'products' defined 3 times" in one.stdout
    both = runner.invoke(app, ["check", str(shop / "shop/legacy/customer.py"), str(shop / "shop/inventory")])
    assert both.exit_code == 1 and "customers" in both.stdout and "products" in both.stdout
    none = runner.invoke(app, ["check", str(shop / "shop/restock.py"), str(shop / "shop/orders")])
    assert none.exit_code == 0, none.output  # no group has a member there
    json_out = runner.invoke(app, ["detect", str(shop / "shop/customers"), str(shop / "shop/db.py"),
                                   "--format", "json"])
    assert json_out.exit_code == 0 and '"table": "customers"' in json_out.stdout
    assert '"table": "products"' not in json_out.stdout


def test_exclude_takes_a_directory_as_well_as_a_glob(shop: Path) -> None:
    every = list_python_files(shop)
    assert "shop/legacy/order.py" in every
    for exclude in ("shop/legacy", "shop/legacy/", "legacy", "./shop/legacy", "shop/leg*"):
        kept = list_python_files(shop, [exclude])
        assert not any(p.startswith("shop/legacy/") for p in kept), exclude
        assert "shop/catalog/models.py" in kept
    assert list_python_files(shop, ["legacy/order.py"]) == [p for p in every if p != "shop/legacy/order.py"]
    assert list_python_files(shop, ["*/models.py"]) == [p for p in every if not p.endswith("/models.py")]
    assert list_python_files(shop, ["cat"]) == every  # a name is a whole folder, not a prefix
