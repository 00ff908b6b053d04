"""Issue 12 item 9: two class names on one table; registry strings are renamed, the old name stays importable.

fixtures/shape_classnames: `crm.legacy.accounts:Account` folded into `crm.customers:Customer`.
Orders, invoices and sales reps reach the legacy class only through registry strings and never
import its module; an archive registry has a class of its own named Account.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.detect import detect

from support.shapes import checkout_staged, git, modelfold, own_tests, project

pytestmark = pytest.mark.slow

REFS = ("crm.customers:Customer", "crm.legacy.accounts:Account")


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The fixture staged on a branch through the CLI (its tests failing first); (tree, stdout)."""
    tree = project("shape_classnames", tmp_path_factory.mktemp("shape") / "p")
    assert own_tests(tree).returncode != 0, "the fixture's own tests must fail before the migration"
    run = modelfold(tree, "migrate", *REFS)
    assert run.returncode == 0, run.stdout + run.stderr
    checkout_staged(tree, run)
    return tree, run.stdout


def test_branch_passes_the_projects_own_tests(staged: tuple[Path, str]) -> None:
    tests = own_tests(staged[0])
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_registry_strings_of_files_that_never_import_the_old_module(staged: tuple[Path, str]) -> None:
    tree = staged[0]
    orders = git(tree, "show", "HEAD:crm/orders.py")
    assert 'relationship("Customer", back_populates="orders", primaryjoin="Customer.id == Order.account_id")' in orders
    invoices = git(tree, "show", "HEAD:crm/invoices.py")
    assert 'relationship("Customer", foreign_keys="[Invoice.billed_to_id]")' in invoices
    assert 'primaryjoin="Customer.id == Invoice.shipped_to_id"' in invoices
    assert 'Invoice.payer = relationship("Customer", primaryjoin="Customer.id == Invoice.billed_to_id"' in invoices
    reps = git(tree, "show", "HEAD:crm/reps.py")
    assert 'Mapped[list["Customer"]] = relationship(back_populates="rep", order_by="desc(Customer.name)")' in reps
    notes = git(tree, "show", "HEAD:crm/notes.py")  # Account bound for type checkers only
    assert "    from crm.customers import Customer\n    from crm.customers import Customer as Account\n" in notes
    assert 'account: Mapped[Customer] = relationship(backref="notes")' in notes
    assert "def latest_note(account: Account)" in notes
    contacts = git(tree, "show", "HEAD:crm/contacts.py")  # Account bound at run time: it stays the name
    assert "from crm.customers import Customer as Account" in contacts
    assert 'account: Mapped["Account"] = relationship()' in contacts
    merged = git(tree, "show", "HEAD:crm/customers.py")
    assert 'remote_side="Customer.id"' in merged and 'order_by="Customer.name"' in merged
    assert "Account" not in merged


def test_the_other_registrys_account_is_left_alone(staged: tuple[Path, str]) -> None:
    archive = git(staged[0], "show", "HEAD:crm/archive.py")
    assert "from crm.customers import Customer as LegacyAccount" in archive  # it imported the old module
    assert 'account = relationship("Account", primaryjoin="Account.id == ArchivedOrder.account_id")' in archive
    assert "return Account(id=account.id" in archive


def test_the_shim_keeps_the_old_name(staged: tuple[Path, str]) -> None:
    shim = git(staged[0], "show", "HEAD:crm/legacy/accounts.py")
    assert "from crm.customers import Customer as Account" in shim and '__all__ = ["Account"]' in shim
    tests = git(staged[0], "show", "HEAD:tests/test_accounts.py")
    assert 'mock.patch("crm.customers.Customer.display_name"' in tests


def test_dry_run_shows_the_renamed_strings_and_writes_nothing(tmp_path: Path) -> None:
    tree = project("shape_classnames", tmp_path / "p")
    run = modelfold(tree, "migrate", *REFS, "--dry-run")
    assert run.returncode == 0, run.stderr
    assert '+    shipped_to = relationship("Customer", primaryjoin="Customer.id == Invoice.shipped_to_id")' in (
        run.stdout
    )
    assert "+from crm.customers import Customer as LegacyAccount" in run.stdout
    assert "ArchivedOrder.account_id" not in run.stdout
    assert git(tree, "status", "--porcelain") == ""


def test_a_string_naming_an_ambiguous_class_is_refused(tmp_path: Path) -> None:
    tree = project("shape_classnames", tmp_path / "p")
    (tree / "crm/ledger.py").write_text(
        "from sqlalchemy.orm import Mapped, mapped_column\n\nfrom crm.db import Base\n\n\n"
        "class Account(Base):\n    __tablename__ = \"ledger_accounts\"\n\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    )
    git(tree, "add", "-A")
    git(tree, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "ledger")
    branches = git(tree, "branch", "--list")
    run = modelfold(tree, "migrate", *REFS)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    # the first class in path order whose registry string names Account: the merged class's copied self-reference
    assert lines[0] == (
        "error: crm/customers.py: Customer: 'Account' names Account, which is ambiguous: crm.ledger:Account "
        "is another class Account in registry crm.db.Base; write its module path"
    )
    assert git(tree, "status", "--porcelain") == "" and git(tree, "branch", "--list") == branches


def test_the_same_self_reference_under_both_names_is_no_conflict(tmp_path: Path) -> None:
    tree = project("shape_classnames", tmp_path / "p")
    customers = tree / "crm/customers.py"
    imports = "from sqlalchemy import String\nfrom sqlalchemy.orm import Mapped, mapped_column\n"
    customers.write_text(
        customers.read_text().replace(imports, "from sqlalchemy import ForeignKey, Integer, String\n"
                                               "from sqlalchemy.orm import Mapped, mapped_column, relationship\n")
        + '    parent_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("accounts.id"))\n\n'
        '    parent: Mapped["Customer | None"] = relationship(remote_side="Customer.id", back_populates="branches")\n'
        '    branches: Mapped[list["Customer"]] = relationship(back_populates="parent", order_by="Customer.name")\n'
    )
    legacy = tree / "crm/legacy/accounts.py"
    legacy.write_text(legacy.read_text().replace('parent_id = Column(ForeignKey("accounts.id"))',
                                                 'parent_id = Column(Integer, ForeignKey("accounts.id"))'))
    git(tree, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "self reference")
    run = modelfold(tree, "migrate", *REFS, "--dry-run", "--on-conflict", "fail")
    assert run.returncode == 0, run.stderr
    assert "0 conflict(s)" in run.stderr + run.stdout
    group = next(g for g in detect(tree).groups if g.table == "accounts")  # detect judges them alike too
    assert not {"parent", "branches"} & set(group.differing), group.differing
