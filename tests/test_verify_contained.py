"""User code under verification is contained; alembic scripts are never imported; editable installs
of the project cannot shadow the scratch tree (real git, real interpreters, real virtualenvs)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from codemods.diff import write_changes
from codemods.stage import probe_modules, stage, verify
from codemods.types import Changeset, FileChange, Migration

from support.mini_project import FILES, LEGACY, git, make_repo, migration
from support.verify_env import make_venv, sqlalchemy_only

pytestmark = pytest.mark.slow

EVIL = '''import json
import os
import subprocess
import sys

from sqlalchemy import Column, Integer

from pkg.db import Base

_out = os.environ["MODELFOLD_EVIL_DIR"]
with open(os.path.join(_out, "seen.jsonl"), "a") as fh:
    fh.write(json.dumps({"cwd": os.getcwd(), "pwd": os.environ.get("PWD"),
                         "git_dir": os.environ.get("GIT_DIR")}) + "\\n")
subprocess.run(["git", "tag", "evil-tag"], capture_output=True)
subprocess.run(["git", "config", "evil.key", "1"], capture_output=True)
_child = subprocess.Popen([sys.executable, "-c",
                           "import sys, time; time.sleep(60); open(sys.argv[1], 'w').close()",
                           os.path.join(_out, "survived")])
with open(os.path.join(_out, "pids"), "a") as fh:
    fh.write(f"{_child.pid}\\n")


class Evil(Base):
    __tablename__ = "evil"

    id = Column(Integer, primary_key=True)
'''


def gone(pid: int) -> bool:
    """True once pid no longer runs (absent, or a zombie waiting for its reaper)."""
    for _ in range(100):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def test_user_code_cannot_touch_the_repository_or_stall_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", dict(FILES, **{"pkg/evil.py": EVIL}))
    evil = tmp_path / "evil"
    evil.mkdir()
    monkeypatch.setenv("MODELFOLD_EVIL_DIR", str(evil))
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))  # even an inherited GIT_DIR must not leak through
    result = stage(repo, [migration()], branch="contained", python=sys.executable,
                   test_cmd="git config evil.fromtests 1")
    monkeypatch.delenv("GIT_DIR")
    assert result.verification is not None and result.verification.ok, result.verification
    assert git(repo, "tag", "--list") == ""
    assert "evil" not in git(repo, "config", "--list", "--local")
    seen = [json.loads(line) for line in (evil / "seen.jsonl").read_text().splitlines()]
    assert seen and all(s["cwd"] == s["pwd"] and s["cwd"] != str(repo) for s in seen), seen
    assert all(s["git_dir"] and not s["git_dir"].startswith(str(repo)) for s in seen), seen
    pids = [int(p) for p in (evil / "pids").read_text().split()]
    assert all(gone(pid) for pid in pids), "a grandchild of a probe outlived the run"
    assert not (evil / "survived").exists()


ENV_PY = '''import os

from alembic import context  # noqa: F401

from pkg.legacy import User  # noqa: F401

open(os.path.join(os.environ["MODELFOLD_EVIL_DIR"], "env.py imported"), "w").close()
target_metadata = User.metadata
'''

VERSION = '''"""add users"""
import os

from pkg.legacy import User  # noqa: F401

open(os.path.join(os.environ["MODELFOLD_EVIL_DIR"], "migration imported"), "w").close()
revision = "0001"
'''


def test_alembic_env_and_migration_scripts_are_never_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(FILES, **{"alembic/env.py": ENV_PY, "alembic/script.py.mako": "",
                           "alembic/versions/ae1027a6acf_add_users.py": VERSION})
    before = make_repo(tmp_path / "before", files, commit=False)
    after = tmp_path / "after"
    shutil.copytree(before, after)
    m = migration()
    script = "alembic/versions/ae1027a6acf_add_users.py"
    changes = (*m.changeset.changes,
               FileChange("alembic/env.py", ENV_PY, ENV_PY.replace("pkg.legacy", "pkg.modern"), "rewritten"),
               FileChange(script, VERSION, VERSION.replace("pkg.legacy", "pkg.modern"), "rewritten"))
    m = Migration(m.consolidation, m.merge, Changeset(tuple(sorted(changes, key=lambda c: c.path))))
    write_changes(after, m.changeset)
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("MODELFOLD_EVIL_DIR", str(marks))
    v = verify(before, after, [m], python=sys.executable)
    assert v.ok, v.messages
    assert list(marks.iterdir()) == []
    assert "not imported (alembic script): alembic/env.py" in v.messages
    assert "not imported (alembic script): alembic/versions/ae1027a6acf_add_users.py" in v.messages


HOOK = '''"""An editable install's import hook (as meson-python's): first on sys.meta_path, pointing at a checkout."""
import importlib.machinery
import sys

CHECKOUT = {checkout!r}


class Finder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "pkg":
            return importlib.machinery.PathFinder.find_spec(name, [CHECKOUT])
        return None


def install():
    sys.meta_path.insert(0, Finder)
'''


def test_editable_installs_of_the_users_checkout_do_not_shadow_the_scratch_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    deps = sqlalchemy_only(tmp_path / "deps")
    python = make_venv(tmp_path / "venv", {
        "sqlalchemy_only.pth": f"{deps}\n",
        "__editable__.pkg_old-0.1.pth": f"{repo}\n",  # the old style: the checkout on sys.path
        "__editable___pkg_finder.py": HOOK.format(checkout=str(repo)),  # the new style: an import hook
        "__editable__.pkg-0.1.pth": "import __editable___pkg_finder; __editable___pkg_finder.install()\n",
    })
    result = stage(repo, [migration()], branch="editable", python=str(python))
    assert result.verification is not None and result.verification.ok, result.verification.messages


def test_a_module_resolved_outside_the_tree_says_where_and_why(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "reports").mkdir(parents=True)  # a namespace portion: an installed package wins
    (tree / "reports" / "weekly.py").write_text("SOURCE = 'tree'\n")
    deps = sqlalchemy_only(tmp_path / "deps")
    python = make_venv(tmp_path / "venv", {"sqlalchemy_only.pth": f"{deps}\n", "reports/__init__.py": "",
                                           "reports/weekly.py": "SOURCE = 'installed'\n"})
    (outcome,) = probe_modules(tree, ["reports.weekly"], configure=False, python=str(python)).values()
    assert outcome.status == "elsewhere"
    assert outcome.file is not None and outcome.file.endswith("site-packages/reports/weekly.py")


def test_probe_modules_gives_one_outcome_per_module(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for rel, text in dict(FILES, **{"pkg/broken.py": "import not_installed_anywhere_xyz\n"}).items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    outcomes = probe_modules(tree, ["pkg.legacy", "pkg.broken", "pkg.modern"], python=sys.executable)
    assert [(o.name, o.status) for o in outcomes.values()] == [
        ("pkg.legacy", "ok"), ("pkg.broken", "error"), ("pkg.modern", "error")]
    assert outcomes["pkg.broken"].error == "ModuleNotFoundError: No module named 'not_installed_anywhere_xyz'"
    assert "Table 'users' is already defined" in (outcomes["pkg.modern"].error or "")
    assert LEGACY  # the duplicate the tree holds
    assert os.path.isdir(tree)


def test_a_namespace_package_split_over_two_roots_imports_from_both(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    files = {"src/corp/billing/models.py": "from corp.audit.models import TRAIL\nBILLING = TRAIL + 1\n",
             "plugins/src/corp/audit/models.py": "TRAIL = 1\n"}
    for rel, text in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    outcomes = probe_modules(tree, ["corp.billing.models", "corp.audit.models"], configure=False,
                             python=sys.executable)
    assert {name: o.status for name, o in outcomes.items()} == {"corp.billing.models": "ok", "corp.audit.models": "ok"}
