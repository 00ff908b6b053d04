"""Issue 12 item 2: mixins of either class survive the merge; what the canonical inherits is canonical."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.shapes import git, stage_and_test

pytestmark = pytest.mark.slow

Run = subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def mixins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run, Run | None]:
    tree = tmp_path_factory.mktemp("shape") / "p"
    staged, tests = stage_and_test("shape_mixins", tree)
    return tree, staged, tests


def test_staged_branch_passes_the_projects_tests(mixins: tuple[Path, Run, Run | None]) -> None:
    _, staged, tests = mixins
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert tests is not None and tests.returncode == 0, tests.stdout[-3000:] if tests else ""


def test_duplicate_mixins_join_the_canonical_bases(mixins: tuple[Path, Run, Run | None]) -> None:
    tree, _, _ = mixins
    text = git(tree, "show", "HEAD:studio/models.py")
    assert "class Project(TitledMixin, TimestampMixin, OwnedMixin, Base):" in text
    assert "title" not in text.split("class Project", 1)[1]  # inherited from TitledMixin, not re-declared


def test_body_column_over_an_inherited_one_is_a_conflict(mixins: tuple[Path, Run, Run | None]) -> None:
    _, staged, _ = mixins
    assert "title (column): kept canonical" in staged.stdout
