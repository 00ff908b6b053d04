"""verify.py in real interpreters: import roots, probe results, import-order failures, DDL diffs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from codemods.diff import write_changes
from codemods.stage._probe import ModuleTarget, ProbeResult, contained
from codemods.stage._probe import run_probe as run_targets
from codemods.stage._python import find_python
from codemods.stage._verify import import_orders, import_roots, table_diff, verify
from codemods.types import SourceFile

from support.mini_project import FILES, SHIM, migration


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_import_roots_strip_module_path() -> None:
    files = [
        SourceFile("src/app/models.py", "app.models", False),
        SourceFile("src/app/__init__.py", "app", True),
        SourceFile("backend/app/users/models.py", "backend.app.users.models", False),
        SourceFile("setup.py", "setup", False),
    ]
    assert import_roots(files) == ["", "src"]


def target(name: str) -> ModuleTarget:
    """A module of a flat tree (root "")."""
    path = name.replace(".", "/") + ".py"
    return ModuleTarget(name, path, "")


def run_probe(root: Path, roots: list[str], modules: list[str], *, models: list[str] = [],  # noqa: B006
              configure: bool = True) -> ProbeResult:
    with contained(root) as box:
        return run_targets(box, [target(m) for m in modules], roots, models=models, configure=configure)


def test_import_orders_put_each_module_first() -> None:
    orders = import_orders(["canon", "shim"], ["a", "b"])
    assert [o[0] for o in orders] == ["canon", "shim", "a", "b"]
    assert all(sorted(o) == ["a", "b", "canon", "shim"] for o in orders)
    assert len(import_orders(["x"], [f"m{i}" for i in range(40)], limit=5)) == 5


def test_probe_reports_the_duplicate_table_error(tmp_path: Path) -> None:
    root = write(tmp_path / "t", FILES)
    probe = run_probe(root, [""], ["pkg.all_models"], models=["pkg.legacy:User"])
    (outcome,) = probe.outcomes
    assert outcome.status == "error" and "Table 'users' is already defined" in (outcome.error or "")
    alone = run_probe(root, [""], ["pkg.legacy"], models=["pkg.legacy:User"], configure=False)
    assert alone.failed is None and [o.status for o in alone.outcomes] == ["ok"]
    assert alone.owner == {"pkg.legacy:User": "users"}
    users = alone.tables["users"]
    assert users["columns"]["email"] == "email VARCHAR(255) NOT NULL"
    assert users["constraints"] == ["PRIMARY KEY (id)"]


def test_probe_does_not_see_our_own_packages(tmp_path: Path) -> None:
    root = write(tmp_path / "t", {"cli/__init__.py": "WHO = 'target'\n"})
    with contained(root) as box:
        probe = run_targets(box, [ModuleTarget("cli", "cli/__init__.py", "")], [""], configure=False)
    assert probe.failed is None and [o.status for o in probe.outcomes] == ["ok"]
    clash = write(tmp_path / "u", {"types.py": "raise RuntimeError('shadowed stdlib')\n"})
    with contained(clash) as box:
        probe = run_targets(box, [], [], configure=False)
    assert probe.failed is None


def test_table_diff_columns_constraints_indexes() -> None:
    old = {"ddl": "A", "columns": {"id": "id INTEGER NOT NULL", "e": "e VARCHAR(5)", "gone": "gone INT"},
           "constraints": ["PRIMARY KEY (id)"], "indexes": []}
    new = {"ddl": "B", "columns": {"id": "id INTEGER NOT NULL", "e": "e VARCHAR(9)", "n": "n INT"},
           "constraints": ["PRIMARY KEY (id)", "UNIQUE (e)"], "indexes": ["CREATE INDEX ix_t_n ON t (n)"]}
    d = table_diff("t", "x:Y", old, new)
    assert d.added == ("n",) and d.removed == ("gone",)
    assert [(c.name, c.before, c.after) for c in d.changed] == [("e", "e VARCHAR(5)", "e VARCHAR(9)")]
    assert d.constraints_added == ("UNIQUE (e)",) and d.indexes_added == ("CREATE INDEX ix_t_n ON t (n)",)
    assert not d.identical


@pytest.mark.slow
def test_verify_two_trees_catches_a_shim_cycle(tmp_path: Path) -> None:
    before = write(tmp_path / "before", FILES)
    after = tmp_path / "after"
    shutil.copytree(before, after)
    # a shim the canonical module imports back: fine canonical-first, broken shim-first
    cyclic_modern = "from pkg.legacy import helper  # noqa: F401\n" + migration().merge.canonical_text
    cyclic_shim = SHIM + "\n\ndef helper():\n    return 1\n"
    m = migration()
    write_changes(after, m.changeset)
    write(after, {"pkg/modern.py": cyclic_modern, "pkg/legacy.py": cyclic_shim})
    v = verify(before, after, [m])
    assert not v.ok
    assert any("order starting with pkg.legacy" in msg and "ImportError" in msg for msg in v.regressions), v.messages


EXTRA_BROKEN = """import missing_dependency_for_modelfold_tests  # noqa: F401
from sqlalchemy import Column, Integer

from pkg.db import Base


class Extra(Base):
    __tablename__ = "extra"

    id = Column(Integer, primary_key=True)
"""


@pytest.mark.slow
def test_module_that_never_imported_is_tolerated_not_hidden(tmp_path: Path) -> None:
    files = dict(FILES, **{"pkg/extra.py": EXTRA_BROKEN})
    before = write(tmp_path / "before", files)
    after = tmp_path / "after"
    shutil.copytree(before, after)
    write_changes(after, migration().changeset)
    v = verify(before, after, [migration()])
    assert v.ok, v.messages
    assert ("already failing before: pkg.extra (ModuleNotFoundError: No module named "
            "'missing_dependency_for_modelfold_tests')") in v.messages


def test_target_python_prefers_the_projects_virtualenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".git").mkdir()
    exe = root / ".venv" / "bin" / "python"
    exe.symlink_to(sys.executable)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert find_python(root).path == str(exe)
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "nowhere"))
    assert find_python(root).path == str(exe)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / ".git").mkdir()
    assert find_python(other).path == sys.executable
