"""Performance regression guard without timing: a migration builds libcst trees only for the
files that reference the model (known from the generator), never for the unrelated tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "fixtures" / "monorepo_gen"))

import generate  # noqa: E402

from codemods import migrate  # noqa: E402

IMPORTERS = 12  # one file of each reference form (plus the users package's re-export)


def _parsed(tmp: Path, files: int) -> tuple[set[str], generate.Expected]:
    expected = generate.generate(tmp, files, seed=11, importers=IMPORTERS)
    plan = migrate.plan_migration(tmp, expected.canonical_ref, [expected.old_ref])
    return set(plan.changeset.parsed), expected


def _referencing(expected: generate.Expected) -> set[str]:
    return {r.path for r in expected.references}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], generate.Expected]:
    return _parsed(tmp_path_factory.mktemp("guard300"), 300)


def test_parses_exactly_the_referencing_files(small: tuple[set[str], generate.Expected]) -> None:
    parsed, expected = small
    model_files = {expected.old_path, expected.canonical_path}
    assert parsed - model_files == _referencing(expected)
    assert len(parsed) <= len(expected.references) + 2  # 300-file tree, 13 referencing files


def test_doubling_unrelated_files_parses_the_same_files(
    small: tuple[set[str], generate.Expected], tmp_path: Path,
) -> None:
    parsed_small, expected_small = small
    parsed_big, expected_big = _parsed(tmp_path, 600)
    assert expected_big.references == expected_small.references
    assert parsed_big == parsed_small
