"""Registry expressions: only Name nodes spelling the old class change (rewrite/_registry_names)."""

from __future__ import annotations

import pytest

from codemods.index._columns import relationship_spec_of_text, renamed_spec
from codemods.rewrite._registry_names import renamed_expression

RENAMES = {"Account": "Customer"}


@pytest.mark.parametrize(
    ("raw", "new"),
    [
        ("Account", "Customer"),
        ("Account.id == Order.account_id", "Customer.id == Order.account_id"),
        ("desc(Account.name)", "desc(Customer.name)"),
        ("[Account.created_at, Account.id]", "[Customer.created_at, Customer.id]"),
        ("and_(Account.id == Order.account_id, Account.active == true())",
         "and_(Customer.id == Order.account_id, Customer.active == true())"),
        ("  Account.id ", "  Customer.id "),
        ("Mapped[list[Account]]", "Mapped[list[Customer]]"),
    ],
)
def test_names_of_the_old_class_are_renamed(raw: str, new: str) -> None:
    assert renamed_expression(raw, RENAMES) == (new, ["Account"] * raw.count("Account"))


@pytest.mark.parametrize(
    "raw",
    ["[Order.account_id]", "AccountType.name", "Order.Account", "foo(Account=1)", "Account_id", "x.Account.id"],
)
def test_other_names_stay(raw: str) -> None:
    assert renamed_expression(raw, RENAMES) == (raw, [])


def test_a_string_that_is_no_expression_is_left_to_the_caller() -> None:
    assert renamed_expression("joined Account", RENAMES) is None


def test_a_duplicates_relationship_compares_equal_once_its_class_is_renamed() -> None:
    ours = relationship_spec_of_text('relationship(remote_side="Customer.id", back_populates="branches")',
                                     'Mapped["Customer | None"]')
    theirs = relationship_spec_of_text('relationship("Account", remote_side="Account.id", back_populates="branches")',
                                       None)
    assert ours is not None and theirs is not None and ours != theirs
    assert renamed_spec(theirs, RENAMES) == ours
    other = relationship_spec_of_text('relationship("Account", remote_side="AccountType.id")', None)
    assert other is not None and dict(renamed_spec(other, RENAMES))["remote_side"] == "'AccountType.id'"
    spaced = relationship_spec_of_text('relationship("Order", primaryjoin="Account.id==Order.account_id")', None)
    plain = relationship_spec_of_text('relationship("Order", primaryjoin="Customer.id == Order.account_id")', None)
    assert spaced is not None and plain is not None and renamed_spec(spaced, RENAMES) == renamed_spec(plain, {})
