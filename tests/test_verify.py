"""verify.py in real interpreters: import roots, probe results, import-order failures, DDL diffs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from test_migrate_helpers import FILES, SHIM, migration

from codemods.diff import write_changes
from codemods.stage._verify import import_orders, import_roots, run_probe, table_diff, target_python, verify
from codemods.types import SourceFile


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


def test_import_orders_put_each_module_first() -> None:
    orders = import_orders(["canon", "shim"], ["a", "b"])
    assert [o[0] for o in orders] == ["canon", "shim", "a", "b"]
    assert all(sorted(o) == ["a", "b", "canon", "shim"] for o in orders)
    assert len(import_orders(["x"], [f"m{i}" for i in range(40)], limit=5)) == 5


def test_probe_reports_the_duplicate_table_error(tmp_path: Path) -> None:
    root = write(tmp_path / "t", FILES)
    probe = run_probe(root, [""], ["pkg.all_models"], models=["pkg.legacy:User"])
    assert probe["failed"] is not None and "Table 'users' is already defined" in probe["failed"]
    alone = run_probe(root, [""], ["pkg.legacy"], models=["pkg.legacy:User"], configure=False)
    assert alone["failed"] is None
    assert alone["owner"] == {"pkg.legacy:User": "users"}
    users = alone["tables"]["users"]
    assert users["columns"]["email"] == "email VARCHAR(255) NOT NULL"
    assert users["constraints"] == ["PRIMARY KEY (id)"]


def test_probe_does_not_see_our_own_packages(tmp_path: Path) -> None:
    root = write(tmp_path / "t", {"cli/__init__.py": "WHO = 'target'\n"})
    probe = run_probe(root, [""], ["cli"], configure=False)
    assert probe["failed"] is None
    clash = write(tmp_path / "u", {"types.py": "raise RuntimeError('shadowed stdlib')\n"})
    assert run_probe(clash, [], ["json"], configure=False)["failed"] is None


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
    failures = [msg for msg in v.messages if msg.startswith("import order starting with")]
    assert any("pkg.legacy" in msg and "ImportError" in msg for msg in failures), v.messages


EXTRA_BROKEN = """import missing_dependency_for_modelfold_tests  # noqa: F401
from sqlalchemy import Column, Integer

from pkg.db import Base


class Extra(Base):
    __tablename__ = "extra"

    id = Column(Integer, primary_key=True)
"""


def test_module_that_never_imported_is_tolerated_not_hidden(tmp_path: Path) -> None:
    files = dict(FILES, **{"pkg/extra.py": EXTRA_BROKEN})
    before = write(tmp_path / "before", files)
    after = tmp_path / "after"
    shutil.copytree(before, after)
    write_changes(after, migration().changeset)
    v = verify(before, after, [migration()])
    assert v.ok, v.messages
    assert any(msg.startswith("pkg.extra did not import before the migration either") for msg in v.messages)


def test_target_python_prefers_the_projects_virtualenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".git").mkdir()
    exe = root / ".venv" / "bin" / "python"
    exe.symlink_to(sys.executable)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert target_python(root) == str(exe)
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "nowhere"))
    assert target_python(root) == str(exe)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / ".git").mkdir()
    assert target_python(other) == sys.executable
