"""The Python API: every name in codemods.__all__ resolves, and the documented flow works."""

from __future__ import annotations

import shutil
from pathlib import Path

import codemods

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed_backend"


def test_every_exported_name_resolves_to_the_thing_not_a_module() -> None:
    import codemods.convert  # noqa: F401  (a submodule import must not shadow an exported name)
    import codemods.detect  # noqa: F401

    for name in codemods.__all__:
        value = getattr(codemods, name)
        assert callable(value), name


def test_detect_then_plan_then_apply(tmp_path: Path) -> None:
    tree = tmp_path / "seed"
    shutil.copytree(SEED, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (group,) = codemods.detect(tree).groups
    duplicates = [m.ref for m in group.models if m.ref != group.canonical]
    migration = codemods.plan_migration(tree, group.canonical, duplicates)
    written = codemods.apply_changeset(tree, migration.changeset)
    assert "backend/app/users/models.py" in written
    assert codemods.detect(tree).groups == ()
