"""One runner for every fixture case (fixtures/<case>/case.toml), as DESIGN.md describes.

For each case: copy the project, check that its own tests fail (the duplicate is real), plan and
apply the migration, compare with `expected/` when the case pins one (unified diff on mismatch),
run the project's own tests on the result, and plan again to prove a second run changes nothing.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from codemods.diff import apply_changeset
from codemods.migrate import NothingToDo, plan_migration
from codemods.types import ConflictPolicy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = sorted(p.parent.name for p in FIXTURES.glob("*/case.toml"))
NOT_PROJECT = shutil.ignore_patterns("expected", "case.toml", "__pycache__", ".pytest_cache")


def load_case(name: str) -> dict[str, Any]:
    with (FIXTURES / name / "case.toml").open("rb") as handle:
        return tomllib.load(handle)


def tree_texts(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    }


def tree_diff(expected: Path, actual: Path) -> str:
    want, got = tree_texts(expected), tree_texts(actual)
    out: list[str] = []
    for path in sorted(want.keys() | got.keys()):
        a = want.get(path, b"").decode("utf-8", "replace").splitlines(keepends=True)
        b = got.get(path, b"").decode("utf-8", "replace").splitlines(keepends=True)
        if want.get(path) != got.get(path):
            out += difflib.unified_diff(a, b, f"expected/{path}", f"actual/{path}")
    return "".join(out)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_case(case: str, tmp_path: Path) -> None:
    spec = load_case(case)
    tree = tmp_path / case
    shutil.copytree(FIXTURES / case, tree, ignore=NOT_PROJECT)
    policy = ConflictPolicy(spec.get("on_conflict", "keep-canonical"))
    command = [part.replace("{python}", sys.executable) for part in spec.get("test_command", [])]
    if command:
        before = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=300)
        assert before.returncode != 0, "the case's own tests must fail before the migration"

    migration = plan_migration(tree, spec["canonical"], spec["duplicates"], policy=policy)
    apply_changeset(tree, migration.changeset)

    expected = FIXTURES / case / "expected"
    if expected.is_dir():
        difference = tree_diff(expected, tree)
        assert not difference, f"tree differs from {expected}:\n{difference}"

    if command:
        run = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]

    with pytest.raises(NothingToDo):
        plan_migration(tree, spec["canonical"], spec["duplicates"], policy=policy)


def test_cases_are_found() -> None:
    assert "seed_backend" in CASES
