"""Issue 14: a file that binds the old module by its own name uses the new module's name after.

`from pkg import old_mod` / `import pkg.old_mod as old_mod` become imports of the new module under
its own name (or the file's existing binding of it), every use follows; an alias the author chose
stays; where the new name is taken, an alias is kept and the output says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codemods.migrate import plan_migration
from codemods.types import Changeset

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "implicit_module_import"
CANONICAL, DUPLICATE = "shop.models:Order", "shop.legacy_models:Order"

FILES = {
    "shop/collide.py": (
        "from shop import legacy_models\n\nmodels = ['draft']\n\n\n"
        "def kinds():\n    return legacy_models.Order, models\n"
    ),
    "shop/named.py": (
        "import shop.legacy_models as legacy_models\n\n\n"
        "def make():\n    return legacy_models.Order(reference='x')\n"
    ),
    "shop/relative.py": (
        "from . import legacy_models, models\n\n\n"
        "def both():\n    return legacy_models.Order, models.Customer\n"
    ),
    "shop/guarded.py": (
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from shop import legacy_models\n\n\n"
        "def label(order: 'legacy_models.Order') -> str:\n    return order.reference\n"
    ),
    "shop/aliased.py": "import shop.legacy_models as orders\n\nKIND = orders.Order\n",
}


@pytest.fixture(scope="module")
def changes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Changeset]:
    root = tmp_path_factory.mktemp("names") / "shop_project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("case.toml", "__pycache__"))
    for rel, text in FILES.items():
        (root / rel).write_text(text)
    changeset = plan_migration(root, CANONICAL, [DUPLICATE]).changeset
    return {c.path: c.after for c in changeset.changes}, changeset


def test_implicit_binding_takes_the_new_module_name(changes: tuple[dict[str, str], Changeset]) -> None:
    after = changes[0]
    assert after["shop/billing.py"].startswith("from decimal import Decimal\n\nfrom shop import models\n")
    assert "models.Order" in after["shop/billing.py"] and "legacy_models" not in after["shop/billing.py"]


def test_existing_binding_of_the_new_module_is_reused(changes: tuple[dict[str, str], Changeset]) -> None:
    views = changes[0]["shop/views.py"]
    assert "from shop import models\n" in views and views.count("import") == 1
    assert '"models.Order"' in views and "legacy_models" not in views


def test_relative_import_next_to_the_new_module(changes: tuple[dict[str, str], Changeset]) -> None:
    rel = changes[0]["shop/relative.py"]
    assert rel.startswith("from . import models\n") and "models.Order, models.Customer" in rel


def test_import_as_the_old_name_becomes_a_from_import(changes: tuple[dict[str, str], Changeset]) -> None:
    named = changes[0]["shop/named.py"]
    assert named.startswith("from shop import models\n") and "models.Order(reference='x')" in named


def test_type_checking_binding_and_string_annotation(changes: tuple[dict[str, str], Changeset]) -> None:
    guarded = changes[0]["shop/guarded.py"]
    assert "    from shop import models\n" in guarded and "'models.Order'" in guarded


def test_author_alias_is_kept(changes: tuple[dict[str, str], Changeset]) -> None:
    assert changes[0]["shop/aliased.py"] == "import shop.models as orders\n\nKIND = orders.Order\n"
    assert changes[0]["shop/admin.py"].startswith("from shop import models as lm\n")


def test_collision_keeps_an_alias_and_says_so(changes: tuple[dict[str, str], Changeset]) -> None:
    after, changeset = changes
    collide = after["shop/collide.py"]
    assert collide.startswith("from shop import models as shop_models\n")
    assert "return shop_models.Order, models" in collide and "legacy_models" not in collide
    assert any("shop/collide.py" in w and "shop_models" in w for w in changeset.warnings)
