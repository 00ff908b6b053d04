"""Issue 14: a migration leaves nothing a reviewer's linter would send back.

For every fixture case, ruff (import rules I, F401, F811, and `ruff format --check`) runs with the
case's own configuration on the files the migration changes, before and after: no file that was
clean before may have findings after. For the issue's fixtures, no name of the old module is left
outside its shim (imports, attribute uses, strings).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_cases import CASES, FIXTURES, NOT_PROJECT, load_case

from codemods.convert import modernize
from codemods.diff import apply_changeset
from codemods.migrate import plan_migration
from codemods.types import ConflictPolicy

RUFF = [sys.executable, "-m", "ruff"]
ISSUE_CASES = ("future_column_alias", "implicit_module_import", "isort_single_line_crm", "ruff_isort_team")
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Migrated:
    before: Path
    after: Path
    changed: tuple[str, ...]
    warnings: tuple[str, ...]


def isort_overrides(root: Path) -> list[str]:
    """ruff `--config` overrides for a project configured for isort (ruff does not read isort's)."""
    text = (root / "pyproject.toml").read_text() if (root / "pyproject.toml").is_file() else ""
    if "[tool.isort]" not in text:
        return []
    out: list[str] = []
    if re.search(r"^force_single_line\s*=\s*true", text, re.MULTILINE):
        out += ["--config", "lint.isort.force-single-line=true"]
    first = re.search(r"^known_first_party\s*=\s*(\[.*\])", text, re.MULTILINE)
    if first:
        out += ["--config", f"lint.isort.known-first-party={first.group(1)}"]
    return out


def findings(root: Path, files: tuple[str, ...]) -> dict[str, set[str]]:
    """Rule codes per file: ruff's I/F401/F811 and "format" when `ruff format --check` objects."""
    present = [f for f in files if (root / f).is_file()]
    found: dict[str, set[str]] = {f: set() for f in present}
    if not present:
        return found
    extra = isort_overrides(root)
    check = subprocess.run(
        [*RUFF, "check", "--no-cache", "--select", "I,F401,F811", "--output-format", "json", *extra, *present],
        cwd=root, capture_output=True, text=True, timeout=120, check=False,
    )
    assert check.returncode in (0, 1), check.stderr
    for item in json.loads(check.stdout or "[]"):
        found[Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix()].add(item["code"])
    fmt = subprocess.run([*RUFF, "format", "--no-cache", "--check", *extra[:0], *present],
                         cwd=root, capture_output=True, text=True, timeout=120, check=False)
    for line in fmt.stdout.splitlines():
        if line.startswith("Would reformat: "):
            found[Path(line.removeprefix("Would reformat: ")).as_posix()].add("format")
    return found


@pytest.fixture(scope="module", params=CASES)
def migrated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Migrated:
    case = str(request.param)
    spec = load_case(case)
    base = tmp_path_factory.mktemp(case)
    before, after = base / "before", base / "after"
    for dest in (before, after):
        shutil.copytree(FIXTURES / case, dest, ignore=NOT_PROJECT)
    policy = ConflictPolicy(spec.get("on_conflict", "keep-canonical"))
    migration = plan_migration(after, spec["canonical"], spec["duplicates"], policy=policy)
    apply_changeset(after, migration.changeset)
    changed = tuple(c.path for c in migration.changeset.changes if c.path.endswith(".py"))
    return Migrated(before, after, changed, migration.changeset.warnings)


def test_no_new_lint_or_format_findings(migrated: Migrated) -> None:
    before = findings(migrated.before, migrated.changed)
    after = findings(migrated.after, migrated.changed)
    new = {path: codes for path, codes in after.items() if codes and not before.get(path)}
    assert not new, f"clean before, findings after: {new}"


@pytest.mark.parametrize("migrated", ISSUE_CASES, indirect=True)
def test_no_name_of_the_old_module_outside_the_shim(migrated: Migrated) -> None:
    spec = load_case(migrated.before.parent.name.rstrip("0123456789"))
    shims = {d.split(":")[0] for d in spec["duplicates"]}
    old_names = [n for module in shims for n in (module, module.rpartition(".")[2])]
    left = []
    for path in sorted(migrated.after.rglob("*.py")):
        rel = path.relative_to(migrated.after).as_posix()
        if rel.removesuffix(".py").replace("/", ".") in shims or rel.startswith("tests/"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", line) for n in old_names):
                left.append(f"{rel}:{number}: {line.strip()}")
    assert not left, "\n".join(left)


@pytest.mark.parametrize("migrated", ["future_column_alias"], indirect=True)
def test_merged_class_is_mapped_throughout_in_the_files_style(migrated: Migrated) -> None:
    text = (migrated.after / "studio" / "models.py").read_text()
    cls = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == "Project")
    untyped = [ast.unparse(s) for s in cls.body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)]
    assert not untyped, "members left without Mapped[...]"
    annotations = {s.target.id: ast.unparse(s.annotation) for s in cls.body
                   if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
    assert annotations["title"] == "Mapped[str]" and annotations["brief"] == "Mapped[str | None]"
    assert annotations["lead"] == "Mapped[Person | None]"
    assert "Optional" not in text and "typing" not in text


@pytest.mark.parametrize("migrated", ["isort_single_line_crm"], indirect=True)
def test_force_single_line_gets_one_name_per_import(migrated: Migrated) -> None:
    for rel in migrated.changed:
        for node in ast.walk(ast.parse((migrated.after / rel).read_text())):
            if isinstance(node, ast.ImportFrom):
                assert len(node.names) == 1, f"{rel}: {ast.unparse(node)}"


def test_modernize_follows_the_projects_style(tmp_path: Path) -> None:
    """`modelfold modernize` on a ruff project: imports placed by its settings, `X | None`."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "inv"\nrequires-python = ">=3.10"\n\n[tool.ruff.lint.isort]\nknown-first-party = ["inv"]\n'
    )
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "__init__.py").write_text("")
    (tmp_path / "inv" / "models.py").write_text(
        "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import DeclarativeBase\n\n"
        "from inv.util import slug\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\n"
        "class Item(Base):\n    __tablename__ = \"items\"\n\n    id = Column(Integer, primary_key=True)\n"
        "    name = Column(String(40), default=slug)\n"
    )
    (tmp_path / "inv" / "util.py").write_text("def slug() -> str:\n    return \"x\"\n")
    files = ("inv/models.py",)
    assert findings(tmp_path, files) == {"inv/models.py": set()}
    apply_changeset(tmp_path, modernize(tmp_path, "inv.models:Item"))
    text = (tmp_path / "inv" / "models.py").read_text()
    assert "name: Mapped[str | None] = mapped_column(String(40), default=slug)" in text
    assert findings(tmp_path, files) == {"inv/models.py": set()}, text
