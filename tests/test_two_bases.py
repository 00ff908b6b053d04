"""Issue 19: duplicates on two declarative bases end on one registry, and the result configures.

fixtures/two_bases is the incident's shape. The static check (codemods/resolve.py) must refuse
today's output (merge + rewrite alone), and that verdict must match what SQLAlchemy does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods import scan
from codemods.diff import apply_changeset, trim_added_whitespace
from codemods.index import find_model, index_files
from codemods.merge import merge
from codemods.merge._rebase import dependents
from codemods.merge._resolve import UnresolvedReferences, check_resolves, unresolved_after
from codemods.migrate import plan_migration
from codemods.rewrite import rewrite
from codemods.types import Changeset, Consolidation, FileChange

from support.mini_project import git, init_repo, run, snapshot

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "two_bases"
CANONICAL = "crm.accounts.models:User"
DUPLICATE = "crm.legacy.models:User"


def copy_fixture(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("case.toml", "__pycache__"))
    return dest


def todays_changeset(root: Path) -> Changeset:
    """What merge and rewrite produce without moving the dependents (the output of issue 19)."""
    files = scan.source_files(root)
    index = index_files(root, files)
    consolidation = Consolidation(find_model(index, CANONICAL), (find_model(index, DUPLICATE),))
    return rewrite(consolidation, merge(consolidation, root, index), root, files)


def test_static_check_fails_on_todays_output(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    files = scan.source_files(root)
    index = index_files(root, files)
    broken = {u.describe() for u in unresolved_after(root, files, todays_changeset(root), index)}
    assert "UserProfile.user: relationship 'User' (no User in registry crm.db.Base)" in broken
    assert "Order.user_id: foreign key 'users.id' (no table users in MetaData crm.db.Base)" in broken
    assert "User.profile: relationship 'UserProfile' (no UserProfile in registry crm.db.ModernBase)" in broken
    with pytest.raises(UnresolvedReferences, match="refused, nothing written: after the change"):
        check_resolves(root, files, todays_changeset(root), index)


def test_static_check_passes_on_the_untouched_tree(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    files = scan.source_files(root)
    assert unresolved_after(root, files, Changeset(()), index_files(root, files)) == ()


@pytest.mark.slow
def test_todays_output_really_does_not_configure(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    apply_changeset(root, todays_changeset(root))
    fetch = "import sys; sys.path.insert(0, 'tests'); from test_import_orders import PROBE; print(PROBE)"
    script = subprocess.run([sys.executable, "-c", fetch], cwd=root, capture_output=True, text=True).stdout
    probe = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True)
    assert probe.returncode != 0
    assert "failed to locate a name ('User')" in probe.stdout, probe.stdout + probe.stderr


def test_dependents_are_everything_tied_to_the_duplicate(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    index = index_files(root, scan.source_files(root))
    found = {d.model.class_name: d.relates_to for d in dependents(index, find_model(index, DUPLICATE))}
    assert found == {"UserProfile": "User", "Order": "User", "AuditEntry": "User", "OrderLine": "Order"}


def test_plan_rebases_and_converts_the_dependents(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    migration = plan_migration(root, CANONICAL, [DUPLICATE])
    assert [m.describe() for m in migration.registry_moves] == [
        "AuditEntry (relates to User)", "UserProfile (relates to User)",
        "Order (relates to User)", "OrderLine (relates to Order)"]
    after = {c.path: c.after for c in migration.changeset.changes}
    # the legacy User names its profile only in a string: the profile is rebased where it is (item 15)
    assert "class UserProfile(ModernBase):" in after["crm/legacy/models.py"]
    assert "UserProfile(" not in after["crm/accounts/models.py"]
    assert "from crm.db import ModernBase\n" in after["crm/accounts/models.py"]  # no legacy Base left
    orders = after["crm/orders/models.py"]
    assert "class Order(ModernBase):" in orders and "class OrderLine(ModernBase):" in orders
    assert "Column(" not in orders and "user_id: Mapped[int] = mapped_column(" in orders
    audit = after["crm/audit/models.py"]
    assert "class AuditEntry(ModernBase):" in audit and "class Setting(Base):" in audit
    summary = {c.path: c.summary for c in migration.changeset.changes}["crm/orders/models.py"]
    assert "moved to the canonical registry: Order, OrderLine" in summary


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, object], str]:
    """The fixture migrated in branch mode through the CLI, its own tests as --test-cmd."""
    root = copy_fixture(tmp_path_factory.mktemp("staged") / "tree")
    init_repo(root)
    report = root.parent / "report.md"
    test_cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(root), "--format", "json",
                         "--test-cmd", test_cmd, "--report", str(report))
    return root, code, json.loads(out) if code == 0 else {"stderr": err}, report.read_text()


@pytest.mark.slow
def test_branch_mode_end_to_end(staged: tuple[Path, int, dict[str, object], str]) -> None:
    root, code, doc, report = staged
    assert code == 0, doc
    verification = doc["verification"]
    assert isinstance(verification, dict) and verification["ok"]
    assert [t["returncode"] for t in verification["tests"]] == [1, 0]  # fails before, passes after
    moves = doc["registry_moves"]
    assert isinstance(moves, list)
    assert "moved to the canonical registry: UserProfile (relates to User)" in [m["summary"] for m in moves]
    assert "## Moved to the canonical registry" in report
    assert "- `orders`: `crm.db.Base` -> `crm.db.ModernBase`" in report
    from codemods.report import metadata_move_lines
    migration = plan_migration(copy_fixture(root.parent / "again"), CANONICAL, [DUPLICATE])
    assert "  orders (Order, crm/orders/models.py)" in metadata_move_lines([migration])
    branch = str(doc["branch"])
    check = subprocess.run(["git", "diff", "--check", f"main...{branch}"], cwd=root, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def _cli_refusal(root: Path) -> tuple[int, str, str]:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "initial")
    before = snapshot(root)
    code, out, err = run(CANONICAL, DUPLICATE, "--root", str(root), "--dry-run")
    assert snapshot(root) == before
    return code, out, err


def test_refuses_a_class_whose_table_is_read_through_the_old_metadata(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    (root / "crm" / "services" / "raw.py").write_text(
        'from crm.db import Base\n\n\ndef orders_table():\n    return Base.metadata.tables["orders"]\n')
    code, out, err = _cli_refusal(root)
    assert code == 3 and out == ""
    assert err.strip().splitlines() == [
        "error: crm/orders/models.py: Order cannot move to the canonical registry: "
        "crm/services/raw.py reads table 'orders' through the old MetaData"]


def test_refuses_an_imperative_table_tied_to_the_duplicate(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    (root / "crm" / "legacy" / "tags.py").write_text(
        "from sqlalchemy import Column, ForeignKey, Integer, String, Table\n\nfrom crm.db import Base\n\n"
        'user_tags = Table("user_tags", Base.metadata, Column("user_id", ForeignKey("users.id")), '
        'Column("tag", String(20)))\n')
    code, _, err = _cli_refusal(root)
    assert code == 3
    assert "Table 'user_tags' (user_tags) cannot move to the canonical MetaData with User" in err


def test_refuses_a_dependent_on_a_legacy_abstract_base(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    path = root / "crm" / "audit" / "models.py"
    text = path.read_text().replace(
        "class AuditEntry(Base):",
        "class Stamped(Base):\n    __abstract__ = True\n\n\nclass AuditEntry(Stamped):")
    path.write_text(text)
    code, _, err = _cli_refusal(root)
    assert code == 3
    assert "AuditEntry cannot move to the canonical registry: it inherits Stamped" in err


def test_refuses_when_the_canonical_registry_already_has_a_class_of_that_name(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    path = root / "crm" / "accounts" / "models.py"
    path.write_text(path.read_text() + (
        "\n\nclass Order(ModernBase):\n"
        '    __tablename__ = "shop_orders"\n\n'
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"))
    code, _, err = _cli_refusal(root)
    assert code == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refused, nothing written: after the change ")
    assert "2 classes in registry crm.db.ModernBase" in lines[0]


def test_a_docstring_joining_the_canonical_class_adds_no_whitespace_line(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "tree")
    legacy = root / "crm" / "legacy" / "models.py"
    legacy.write_text(legacy.read_text().replace(
        'class User(Base):\n    __tablename__', 'class User(Base):\n    """The legacy user."""\n    __tablename__'))
    migration = plan_migration(root, CANONICAL, [DUPLICATE])
    text = {c.path: c.after for c in migration.changeset.changes}["crm/accounts/models.py"]
    assert '    """The legacy user."""\n\n    __tablename__' in text
    assert not [line for line in text.split("\n") if line != line.rstrip()]


def test_trim_added_whitespace_keeps_strings_and_old_lines() -> None:
    before = "x = 1  \n"
    after = 'x = 1  \ny = 2 \nz = """a  \nb  \n"""\n    \n'
    out = trim_added_whitespace(FileChange("m.py", before, after, "")).after
    assert out == 'x = 1  \ny = 2\nz = """a  \nb  \n"""\n\n'
