"""Plan files: what `write_plan` writes, and each validation error with the plan's line (exit 2)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from codemods.detect import detect
from codemods.plan import PlanError, read_plan, write_plan
from codemods.types import ConflictPolicy

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "batch_shop"
runner = CliRunner()

CUSTOMERS = """[[consolidate]]
canonical = "shop.customers.models:Customer"
duplicates = ["shop.legacy.customer:Customer"]
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("plan") / "shop"
    shutil.copytree(SHOP, tree, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def issues(shop: Path, text: str) -> list[tuple[int, str]]:
    plan = shop.parent / "plan.toml"
    plan.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        read_plan(plan, shop)
    return [(i.line, i.message) for i in caught.value.issues]


def test_written_plan_has_one_entry_per_group_with_reasons(shop: Path) -> None:
    text = write_plan(detect(shop), ConflictPolicy.FAIL)
    doc = tomllib.loads(text)
    assert [e["canonical"] for e in doc["consolidate"]] == [
        "shop.customers.models:Customer", "shop.catalog.models:Product"]
    assert doc["consolidate"][1]["duplicates"] == ["shop.inventory.models:Product", "shop.legacy.product:Product"]
    assert {e["on_conflict"] for e in doc["consolidate"]} == {"fail"}
    assert "# why keep shop.catalog.models:Product: modern Mapped[] style" in text
    assert "# differs: title" in text and "title = Column(String(120))" in text
    assert "# only in shop.inventory.models:Product: stock" in text
    plan = shop.parent / "written.toml"
    plan.write_text(text)
    assert [e.line for e in read_plan(plan, shop).entries] == [
        n + 1 for n, line in enumerate(text.splitlines()) if line == "[[consolidate]]"]


def test_unknown_keys_in_an_entry_and_at_the_top(shop: Path) -> None:
    text = 'title = "x"\n\n' + CUSTOMERS + 'strategy = "merge"\n'
    assert issues(shop, text) == [
        (1, "unknown key 'title' (a plan has only [[consolidate]] tables)"),
        (6, "unknown key 'strategy' (expected canonical, duplicates, on_conflict)"),
    ]


def test_missing_module_and_missing_class(shop: Path) -> None:
    text = CUSTOMERS + '\n[[consolidate]]\ncanonical = "shop.catalog.models:Product"\n' \
        'duplicates = [\n  "shop.nowhere:Product",\n  "shop.legacy.product:Produkt",\n]\n'
    assert issues(shop, text) == [
        (8, "no module 'shop.nowhere' under the root"),
        (9, "shop.legacy.product:Produkt is not a mapped model class found under the root"),
    ]


def test_canonical_that_another_entry_folds_away(shop: Path) -> None:
    text = CUSTOMERS + '\n[[consolidate]]\ncanonical = "shop.legacy.customer:Customer"\n' \
        'duplicates = ["shop.customers.models:Customer"]\n'
    found = issues(shop, text)
    assert (6, "canonical shop.legacy.customer:Customer is a duplicate in the entry at line 1") in found
    assert (2, "canonical shop.customers.models:Customer is a duplicate in the entry at line 5") in found


def test_a_class_in_two_entries(shop: Path) -> None:
    text = """[[consolidate]]
canonical = "shop.catalog.models:Product"
duplicates = ["shop.legacy.product:Product"]

[[consolidate]]
canonical = "shop.inventory.models:Product"
duplicates = ["shop.legacy.product:Product"]
"""
    assert issues(shop, text) == [(7, "shop.legacy.product:Product is also in the entry at line 1")]


def test_classes_on_different_tables(shop: Path) -> None:
    text = '[[consolidate]]\ncanonical = "shop.customers.models:Customer"\n' \
        'duplicates = ["shop.catalog.models:Product"]\n'
    assert issues(shop, text) == [(1, "classes on different tables: shop.customers.models:Customer (customers), "
                                      "shop.catalog.models:Product (products)")]


def test_paths_outside_the_root(shop: Path) -> None:
    (shop.parent / "elsewhere.py").write_text("class Customer:\n    pass\n")
    text = '[[consolidate]]\ncanonical = "shop.customers.models:Customer"\n' \
        'duplicates = ["../elsewhere.py:Customer"]\n'
    assert issues(shop, text) == [(3, f"../elsewhere.py is outside the root {shop.resolve()}")]


def test_a_path_inside_the_root_names_its_module(shop: Path) -> None:
    plan = shop.parent / "paths.toml"
    plan.write_text('[[consolidate]]\ncanonical = "shop.customers.models:Customer"\n'
                    'duplicates = ["shop/legacy/customer.py:Customer"]\n')
    assert read_plan(plan, shop).entries[0].duplicates == ("shop.legacy.customer:Customer",)


def test_shape_errors_not_toml_bad_policy_no_entries(shop: Path) -> None:
    assert issues(shop, CUSTOMERS + "on_conflict = keep\n")[0][0] == 4
    assert issues(shop, CUSTOMERS + 'on_conflict = "merge"\n') == [
        (4, "on_conflict must be one of keep-canonical, keep-duplicate, fail, not 'merge'")]
    assert issues(shop, "# nothing\n") == [(1, "no [[consolidate]] entries")]
    assert issues(shop, '[[consolidate]]\ncanonical = "shop.customers.models:Customer"\nduplicates = []\n') == [
        (3, "duplicates must be a non-empty list of dotted.module:ClassName strings")]


def test_apply_prints_every_error_with_its_line_and_exits_2(shop: Path) -> None:
    plan = shop.parent / "bad.toml"
    plan.write_text(CUSTOMERS + 'strategy = "x"\n\n[[consolidate]]\ncanonical = "shop.gone:Product"\n'
                    'duplicates = ["shop.legacy.product:Product"]\n')
    before = {p: p.read_bytes() for p in shop.rglob("*.py")}
    result = runner.invoke(app, ["apply", str(plan), "--root", str(shop), "--apply"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {plan}:4: unknown key 'strategy' "
                                          "(expected canonical, duplicates, on_conflict)"]
    plan.write_text(CUSTOMERS + '\n[[consolidate]]\ncanonical = "shop.gone:Product"\n'
                    'duplicates = ["shop.legacy.product:Produkt"]\n')
    result = runner.invoke(app, ["apply", str(plan), "--root", str(shop), "--apply"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {plan}:6: no module 'shop.gone' under the root",
        f"error: {plan}:7: shop.legacy.product:Produkt is not a mapped model class found under the root",
    ]
    assert {p: p.read_bytes() for p in shop.rglob("*.py")} == before


def test_plan_command_refuses_to_overwrite_and_writes_nothing_without_groups(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.toml"
    out.write_text("kept\n")
    result = runner.invoke(app, ["plan", str(shop), "-o", str(out)])
    assert result.exit_code == 2 and "exists (use --force" in result.stderr
    assert out.read_text() == "kept\n"
    assert runner.invoke(app, ["plan", str(shop), "-o", str(out), "--force"]).exit_code == 0
    assert out.read_text().count("\n[[consolidate]]\n") == 2
    clean = tmp_path / "clean"
    (clean / "pkg").mkdir(parents=True)
    (clean / "pkg" / "__init__.py").write_text("")
    result = runner.invoke(app, ["plan", str(clean), "-o", str(tmp_path / "none.toml")])
    assert result.exit_code == 0 and "no duplicate models found" in result.stderr
    assert not (tmp_path / "none.toml").exists()


@pytest.mark.parametrize("flag", [["--branch", "b"], ["--test-cmd", "pytest"], ["--python", "python3"], ["--force"]])
def test_apply_refuses_staging_options_with_dry_run(shop: Path, tmp_path: Path, flag: list[str]) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(CUSTOMERS)
    result = runner.invoke(app, ["apply", str(plan), "--root", str(shop), "--dry-run", *flag])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {flag[0]} has no effect with --dry-run or --apply"
