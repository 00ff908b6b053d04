"""The batch flow on fixtures/batch_shop: plan, a hand edit (another canonical, a cross-base pair), apply.

Three groups: customers (a pair), products (three classes), orders (a pair on two declarative
bases, which `detect` does not group, so the reviewer adds it to the plan by hand). The
repository's own [tool.modelfold] settings give the branch prefix, the test command and the
interpreter. One branch, one commit per entry; the project's own tests fail before and pass after.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

pytestmark = pytest.mark.slow

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "batch_shop"
runner = CliRunner()
ORDERS_ENTRY = """
# added by the reviewer: detect does not group classes on two declarative bases
[[consolidate]]
canonical = "shop.orders.models:Order"
duplicates = ["shop/legacy/order.py:Order"]
"""


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def own_tests(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=path,
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


def copy_shop(dest: Path) -> Path:
    shutil.copytree(SHOP, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return dest


def hand_edit(plan: Path) -> None:
    """Keep the inventory Product instead of the catalog one; add the cross-base orders pair."""
    text = plan.read_text()
    old = ('canonical = "shop.catalog.models:Product"\n'
           'duplicates = ["shop.inventory.models:Product", "shop.legacy.product:Product"]')
    assert old in text
    text = text.replace(old, 'canonical = "shop.inventory.models:Product"\n'
                             'duplicates = ["shop.catalog.models:Product", "shop.legacy.product:Product"]')
    plan.write_text(text + ORDERS_ENTRY)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("batch")
    repo = copy_shop(base / "repo")
    wrapper = base / "bin" / "python-wrapper"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho used >> "{base}/python-used"\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    test_cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    (repo / "pyproject.toml").write_text(
        f'[tool.modelfold]\nbranch_prefix = "refactor/"\ntest_cmd = "{test_cmd}"\n'
        'python = "../bin/python-wrapper"\n')
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "shop")
    before = own_tests(repo)
    plan = base / "modelfold-plan.toml"
    planned = runner.invoke(app, ["plan", str(repo), "-o", str(plan)])
    assert planned.exit_code == 0, planned.output
    written = plan.read_text()
    hand_edit(plan)
    applied = runner.invoke(app, ["apply", str(plan), "--root", str(repo), "--format", "json"])
    assert applied.exit_code == 0, applied.output
    return {"base": base, "repo": repo, "before": before, "written": written,
            "doc": json.loads(applied.stdout), "test_cmd": test_cmd, "stderr": applied.stderr}


def test_own_tests_fail_before(batch: dict[str, object]) -> None:
    before = batch["before"]
    assert isinstance(before, subprocess.CompletedProcess)
    assert before.returncode != 0 and "Table 'products' is already defined" in before.stdout


def test_plan_lists_the_detected_groups(batch: dict[str, object]) -> None:
    written = str(batch["written"])
    assert written.count("\n[[consolidate]]\n") == 2
    assert 'canonical = "shop.catalog.models:Product"' in written


def test_one_branch_one_commit_per_entry_in_plan_order(batch: dict[str, object]) -> None:
    repo, doc = batch["repo"], batch["doc"]
    assert isinstance(repo, Path) and isinstance(doc, dict)
    assert doc["branch"].startswith("refactor/plan-")  # branch_prefix from [tool.modelfold]
    log = git(repo, "log", "--reverse", "--format=%s", f"main..{doc['branch']}").splitlines()
    assert log == [
        "Consolidate Customer models on customers into shop.customers.models:Customer",
        "Consolidate Product models on products into shop.inventory.models:Product",
        "Consolidate Order models on orders into shop.orders.models:Order",
    ]
    assert [e["status"] for e in doc["entries"]] == ["done", "done", "done"]
    assert [e["commit"] for e in doc["entries"]] == doc["commits"]
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_the_edited_canonical_is_kept(batch: dict[str, object]) -> None:
    repo, doc = batch["repo"], batch["doc"]
    assert isinstance(repo, Path) and isinstance(doc, dict)
    catalog = git(repo, "show", f"{doc['branch']}:shop/catalog/models.py")
    assert "from shop.inventory.models import Product" in catalog and "class Product" not in catalog
    inventory = git(repo, "show", f"{doc['branch']}:shop/inventory/models.py")
    assert "class Product(Base):" in inventory and "price" in inventory and "stock" in inventory


def test_settings_test_cmd_and_python_were_used(batch: dict[str, object]) -> None:
    doc, base = batch["doc"], batch["base"]
    assert isinstance(doc, dict) and isinstance(base, Path)
    runs = doc["verification"]["tests"]
    assert [(r["side"], r["command"]) for r in runs] == [("before", batch["test_cmd"]), ("after", batch["test_cmd"])]
    assert runs[0]["returncode"] != 0 and runs[1]["returncode"] == 0
    assert (base / "python-used").read_text().count("used") >= 2  # the interpreter of [tool.modelfold]


def test_each_phase_says_so_on_a_piped_stderr(batch: dict[str, object]) -> None:
    phases = [line for line in str(batch["stderr"]).splitlines() if line.startswith("modelfold: ")]
    assert phases == [
        "modelfold: planning entries (3)",
        "modelfold: verify: probing the tree before (7)",
        "modelfold: running the tests before (1)",
        "modelfold: verify: import orders after (8)",
        "modelfold: running the tests after (1)",
        "modelfold: committing (3)",
    ]


def test_own_tests_pass_on_the_branch(batch: dict[str, object], tmp_path: Path) -> None:
    repo, doc = batch["repo"], batch["doc"]
    assert isinstance(repo, Path) and isinstance(doc, dict)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", doc["branch"], str(repo), str(clone))
    result = own_tests(clone)
    assert result.returncode == 0, result.stdout[-3000:]
    check = runner.invoke(app, ["check", str(clone)])
    assert check.exit_code == 0, check.output


CONFLICTING = """[[consolidate]]
canonical = "shop.customers.models:Customer"
duplicates = ["shop.legacy.customer:Customer"]

[[consolidate]]
canonical = "shop.catalog.models:Product"
duplicates = ["shop.inventory.models:Product", "shop.legacy.product:Product"]
on_conflict = "fail"
""" + ORDERS_ENTRY


def test_first_failing_entry_stops_the_batch_and_keep_going_skips_it(tmp_path: Path) -> None:
    tree = copy_shop(tmp_path / "shop")
    plan = tmp_path / "plan.toml"
    plan.write_text(CONFLICTING)
    before = {p: p.read_bytes() for p in tree.rglob("*.py")}
    stopped = runner.invoke(app, ["apply", str(plan), "--root", str(tree), "--apply"])
    assert stopped.exit_code == 3, stopped.output
    assert f"{plan}:5:" in stopped.stderr and "nothing was staged or written" in stopped.stderr
    assert {p: p.read_bytes() for p in tree.rglob("*.py")} == before

    going = runner.invoke(app, ["apply", str(plan), "--root", str(tree), "--apply", "--keep-going",
                                "--format", "json"])
    assert going.exit_code == 0, going.output
    doc = json.loads(going.stdout)
    assert [(e["line"], e["status"]) for e in doc["entries"]] == [(1, "done"), (5, "skipped"), (11, "done")]
    assert "conflict" in doc["entries"][1]["reason"]
    assert "from shop.customers.models import Customer" in (tree / "shop/legacy/customer.py").read_text()
    assert "class Product" in (tree / "shop/legacy/product.py").read_text()
