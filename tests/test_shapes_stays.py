"""Issue 12 item 15: only what must move, moves; the other models of the duplicate's module stay.

Shapes (each reproduced moving models before the fix): a model with a ForeignKey to the
duplicate's table and a relationship back (Loan), a model the duplicate's relationship names by
string (Author), an association Table named by `secondary` and its model (book_tags, Tag), an
unrelated model (Branch); a Mapped-style module under `from __future__ import annotations` naming
its models as bare names in relationship annotations (shape_stays_mapped); and the canonical on
another declarative base, where the tied models are rebased in place (an association Table tied
to the duplicate is refused there, by design: merge/_rebase). The enum and the helper the
merged class needs still move (importing them from the shim's module would be a cycle).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.shapes import checkout_staged, git, modelfold, own_tests, project

pytestmark = pytest.mark.slow

STAYING = (
    "class Author(Base):", "book_tags = Table(", "class Tag(Base):", "class Loan(Base):", "class RareBook(Book):",
    "class Branch(Base):",
)


def staged_branch(name: str, dest: Path, *refs: str) -> Path:
    """The fixture staged on a branch through the CLI, its own tests failing before and passing after."""
    tree = project(name, dest)
    assert own_tests(tree).returncode != 0, f"{name}: the fixture's own tests must fail before the migration"
    run = modelfold(tree, "migrate", *refs)
    assert run.returncode == 0, run.stdout + run.stderr
    checkout_staged(tree, run)
    tests = own_tests(tree)
    assert tests.returncode == 0, tests.stdout[-3000:]
    return tree


def test_tied_and_unrelated_models_stay_in_the_legacy_module(tmp_path: Path) -> None:
    tree = staged_branch("shape_stays", tmp_path / "p", "library.catalog:Book", "library.legacy:Book")
    legacy = git(tree, "show", "HEAD:library/legacy.py")
    catalog = git(tree, "show", "HEAD:library/catalog.py")
    for definition in STAYING:
        assert definition in legacy and definition not in catalog, definition
    assert "class Condition(enum.Enum):" in catalog and "def shelf_code(context):" in catalog
    assert "from library.catalog import Book, Condition, shelf_code  # noqa: F401" in legacy
    assert 'loans: Mapped[list["Loan"]] = relationship("Loan", back_populates="book", order_by="Loan.due")' in catalog


def test_bare_names_in_relationship_annotations_are_quoted_not_moved(tmp_path: Path) -> None:
    # a dry run: test_cases runs this fixture's own tests on the applied result
    tree = project("shape_stays_mapped", tmp_path / "p")
    run = modelfold(tree, "migrate", "clinic.patients:Patient", "clinic.records:Patient", "--dry-run")
    assert run.returncode == 0, run.stderr
    assert '+    doctor: Mapped["Doctor | None"] = relationship()' in run.stdout
    assert '+    visits: Mapped[list["Visit"]] = relationship(back_populates="patient", order_by=' in run.stdout
    assert not re.search(r"^[-+]class (Doctor|Visit|Ward)\b", run.stdout, re.MULTILINE)


def test_on_another_base_the_tied_models_are_rebased_where_they_are(tmp_path: Path) -> None:
    tree = project("shape_stays", tmp_path / "p")
    (tree / "library/modern.py").write_text(
        "from sqlalchemy.orm import DeclarativeBase\n\n\nclass ModernBase(DeclarativeBase):\n    pass\n")
    legacy_py = tree / "library/legacy.py"
    text = legacy_py.read_text()  # without the association table: an imperative Table is refused across bases
    text = text[: text.index("book_tags = Table(")] + text[text.index("class Book(Base):"):]
    tags = '    tags = relationship("Tag", secondary="book_tags", back_populates="books")\n'
    legacy_py.write_text(text.replace(tags, ""))
    catalog = tree / "library/catalog.py"
    modern = catalog.read_text().replace("from library.db import Base", "from library.modern import ModernBase")
    catalog.write_text(modern.replace("class Book(Base):", "class Book(ModernBase):"))
    run = modelfold(tree, "migrate", "library.catalog:Book", "library.legacy:Book", "--apply")
    assert run.returncode == 0, run.stdout + run.stderr
    legacy, merged = legacy_py.read_text(), catalog.read_text()
    for name in ("Author", "Loan"):
        assert f"class {name}(ModernBase):" in legacy and f"class {name}(" not in merged, name
    assert "class Branch(Base):" in legacy and "class Branch(" not in merged
