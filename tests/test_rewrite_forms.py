"""Every reference form of issue 4 as an exact before/after pair (fixtures/rewrite_forms/<form>/).

Each case copies `_base/` (old module app.users.models with User, UserStatus and UserRole; canonical
module app.auth.models) plus the case's `before/` files into a temp dir, runs the rewrite with
UserStatus moved by the merge, and compares: files under `expected/` must match byte for byte,
every other `before/` file must come back unchanged. Then the result must import, and a second
rewrite of the result must change nothing.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods import scan
from codemods.rewrite import rewrite
from codemods.types import Changeset, Consolidation, MergeResult, MovedName

from support.models import model

FORMS = Path(__file__).resolve().parent.parent / "fixtures" / "rewrite_forms"
CASES = sorted(p.name for p in FORMS.iterdir() if p.is_dir() and not p.name.startswith("_"))
OLD, NEW = "app.users.models", "app.auth.models"


CONSOLIDATION = Consolidation(
    canonical=model(f"{NEW}:User"), duplicates=(model(f"{OLD}:User"),)
)


def merged(root: Path) -> MergeResult:
    text = (FORMS / "_merged" / "models.py").read_text()
    if (root / "app/auth/models.py").read_text() != (FORMS / "_base/app/auth/models.py").read_text():
        text = (root / "app/auth/models.py").read_text()  # a second run starts from the result
    return MergeResult(
        canonical_path="app/auth/models.py", canonical_text=text, conflicts=(),
        moved=(MovedName("UserStatus", OLD, NEW),), notes=(),
    )


def build(case: str, tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FORMS / "_base", root)
    shutil.copytree(FORMS / case / "before", root, dirs_exist_ok=True)
    return root


def run(root: Path) -> Changeset:
    return rewrite(CONSOLIDATION, merged(root), root, scan.source_files(root))


def apply(root: Path, changeset: Changeset) -> None:
    for change in changeset.changes:
        (root / change.path).write_bytes(change.after.encode("utf-8"))


def case_files(case: str, side: str) -> dict[str, str]:
    base = FORMS / case / side
    if not base.is_dir():
        return {}
    return {p.relative_to(base).as_posix(): p.read_text() for p in sorted(base.rglob("*.py"))}


@pytest.mark.parametrize("case", CASES)
def test_form_rewrites_to_expected(case: str, tmp_path: Path) -> None:
    root = build(case, tmp_path)
    changeset = run(root)
    after = {c.path: c.after for c in changeset.changes}
    expected = case_files(case, "expected")
    for path, before in case_files(case, "before").items():
        want = expected.get(path, before)
        got = after.get(path, before)
        assert got == want, f"{case}: {path}\n--- got ---\n{got}\n--- want ---\n{want}"
    assert not set(expected) - set(case_files(case, "before")), "expected/ without before/"
    unexpected = set(after) - set(expected) - {"app/auth/models.py", "app/users/models.py"}
    assert not unexpected, f"files changed without an expected/ twin: {sorted(unexpected)}"


@pytest.mark.parametrize("case", CASES)
def test_form_result_imports_and_is_stable(case: str, tmp_path: Path) -> None:
    root = build(case, tmp_path)
    apply(root, run(root))
    modules = [scan.module_name(root, p)[0] for p in case_files(case, "before")]
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    again = run(root)
    assert again.changes == (), [c.path for c in again.changes]


@pytest.mark.parametrize("case", CASES)
def test_no_file_but_the_shim_imports_the_class_from_the_old_location(
    case: str, tmp_path: Path
) -> None:
    root = build(case, tmp_path)
    apply(root, run(root))
    moved = {"User", "UserStatus"}
    offenders = []
    for f in scan.source_files(root):
        if f.path == "app/users/models.py":
            continue
        tree = ast.parse((root / f.path).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                package = f.module if f.is_package else f.module.rpartition(".")[0]
                parts = package.split(".")[: len(package.split(".")) - max(node.level - 1, 0)]
                mod = ".".join(parts + [node.module or ""]).strip(".") if node.level else node.module
                names = {a.name for a in node.names}
                if mod in (OLD, "app.users") and names & moved:
                    offenders.append((f.path, ast.unparse(node)))
            elif isinstance(node, ast.Attribute) and ast.unparse(node) in {f"{OLD}.User"}:
                offenders.append((f.path, ast.unparse(node)))
    assert offenders == []
