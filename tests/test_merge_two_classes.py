"""Merge on fixtures/merge_two_classes: helpers imported from the old module, table args, conflicts."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from codemods.merge import MergeConflictError, merge
from codemods.types import ConflictPolicy, Consolidation

from support.ddl_probe import probe_tree
from support.models import model

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "merge_two_classes"
CORE = "shop/core/models.py"
LEGACY = "shop/legacy/models.py"
# What the rewrite stage will turn the old module into (written here by hand).
SHIM = "from shop.core.models import DEFAULT_TIER, EMAIL_RE, Cents, Customer, Tier, normalise_email  # noqa: F401\n"


CUSTOMER: dict[str, Any] = {"style": "mapped", "table": "customers"}


def plan(policy: ConflictPolicy = ConflictPolicy.KEEP_CANONICAL) -> Consolidation:
    return Consolidation(model("shop.core.models:Customer", CORE, **CUSTOMER),
                         (model("shop.legacy.models:Customer", LEGACY, **CUSTOMER),),
                         policy)


def test_conflicts_are_the_real_differences_only() -> None:
    result = merge(plan(), ROOT)
    found = sorted((c.attribute, c.kind, c.resolution) for c in result.conflicts)
    assert found == [
        ("__mapper_args__", "mapper_args", "kept canonical"),
        ("email", "index", "kept the column's index=True; dropped the duplicate Index"),
        ("greeting", "method", "kept canonical"),
        # canonical indexes nickname (Index in __table_args__), the legacy class does not
        ("nickname", "column", "kept canonical"),
    ]


def test_moved_names_come_with_their_dependencies_in_module_order() -> None:
    result = merge(plan(), ROOT)
    assert [m.name for m in result.moved] == ["EMAIL_RE", "DEFAULT_TIER", "Tier", "normalise_email", "Cents"]
    assert {(m.from_module, m.to_module) for m in result.moved} == {("shop.legacy.models", "shop.core.models")}
    assert "legacy.models import" not in result.canonical_text


def test_carried_members_keep_their_comments_and_order() -> None:
    text = merge(plan(), ROOT).canonical_text
    assert ("    tier: Mapped[Tier] = mapped_column(default=Tier.BASIC)\n"
            "    # shipping address\n"
            "    city: Mapped[str | None] = mapped_column(sa.String(80))  # free text, not normalised\n"
            '    zip_code: Mapped[str | None] = mapped_column("zip", sa.String(10))\n') in text
    assert text.index("def set_email") < text.index("@hybrid_property") < text.index("@email_domain.setter")
    assert "    full = column_property(first + \" \" + last)\n" in text


def test_table_args_are_united_with_the_dict_last() -> None:
    tree = ast.parse(merge(plan(), ROOT).canonical_text)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Customer")
    args = next(s for s in cls.body if isinstance(s, ast.Assign) and ast.unparse(s.targets[0]) == "__table_args__")
    assert isinstance(args.value, ast.Tuple)
    items = [ast.unparse(e) for e in args.value.elts]
    assert items == [
        "UniqueConstraint('email', name='uq_customers_email')",
        "Index('ix_customers_nickname', 'nickname')",
        "sa.Index('ix_customers_city_zip', 'city', 'zip')",
        "{'comment': 'customers', 'info': {'owner': 'core'}}",
    ]
    assert ast.get_docstring(cls) == "A customer (legacy)."


def _tree(tmp_path: Path, canonical_text: str) -> Path:
    dest = tmp_path / "tree"
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / CORE).write_text(canonical_text)
    (dest / LEGACY).write_text(SHIM)
    return dest


def _columns(ddl: str) -> dict[str, str]:
    lines = [x.strip().rstrip(",") for x in ddl.splitlines()]
    return {x.split()[0]: x for x in lines if x and x.split()[0].islower() and x.split()[0] not in ("create",)}


@pytest.mark.slow
@pytest.mark.parametrize("first", ["shop.legacy.models", "shop.core.models"])
def test_no_import_cycle_and_legacy_columns_keep_their_ddl(tmp_path: Path, first: str) -> None:
    legacy_ddl, error = probe_tree(ROOT, ["shop.legacy.models"])
    assert error is None
    tree = _tree(tmp_path, merge(plan(), ROOT).canonical_text)
    other = "shop.core.models" if first == "shop.legacy.models" else "shop.legacy.models"
    ddl, error = probe_tree(tree, [first, other])
    assert error is None
    for dialect in ("sqlite", "postgresql", "mysql"):
        merged = ddl[f"customers [{dialect}]"]
        legacy = legacy_ddl[f"customers [{dialect}]"]
        old, new = _columns(legacy.split("\n\n")[0]), _columns(merged.split("\n\n")[0])
        for column in ("city", "zip", "balance", "first", "last", "id", "email", "tier"):
            assert new[column] == old[column], (dialect, column)
        assert len(re.findall(r"CREATE INDEX ix_customers_email\b", merged)) == 1
        assert "CREATE INDEX ix_customers_city_zip" in merged


def test_keep_duplicate_takes_the_legacy_definitions() -> None:
    text = merge(plan(ConflictPolicy.KEEP_DUPLICATE), ROOT).canonical_text
    assert '__mapper_args__ = {"eager_defaults": False}' in text
    assert 'return f"Hello {self.first}"' in text
    assert "    nickname: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)\n" in text


def test_fail_lists_every_conflict() -> None:
    with pytest.raises(MergeConflictError) as info:
        merge(plan(ConflictPolicy.FAIL), ROOT)
    assert sorted(c.attribute for c in info.value.conflicts) == ["__mapper_args__", "email", "greeting", "nickname"]
