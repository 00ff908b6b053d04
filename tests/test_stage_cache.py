"""The "before" probes of a start commit are kept in the git dir and reused by the next run at the
same commit, interpreter and migration; a new commit or a dirty tree probes again, and a cached
failure that names the scratch tree is still recognised as pre-existing (real git, real probes).
The scratch worktree is unregistered before stage returns, its files removed by a detached rm."""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

import pytest

from codemods.progress import LineProgress
from codemods.stage import stage
from codemods.stage._cache import interpreter_fingerprint, snapshot_cache

from support.mini_project import DB, FILES, git, make_repo, migration
from support.verify_env import make_venv, sqlalchemy_only

pytestmark = pytest.mark.slow

COUNTED_DB = DB + '''
import os as _os

if _os.environ.get("MODELFOLD_TEST_SEEN"):
    with open(_os.environ["MODELFOLD_TEST_SEEN"], "a") as _fh:
        _fh.write("probe\\n")
'''
# fails at import at HEAD and after the change alike, naming its own file (in the scratch tree)
BROKEN = '''from sqlalchemy import Column, Integer

from pkg.db import Base


class Ledger(Base):
    __tablename__ = "ledger"

    id = Column(Integer, primary_key=True)


raise RuntimeError(f"ledger disabled at {__file__}")
'''


def probes(seen: Path) -> int:
    """How many probe interpreters (or forked orders) imported pkg.db so far."""
    return len(seen.read_text().splitlines()) if seen.exists() else 0


def test_the_before_probes_are_reused_at_the_same_commit_and_redone_when_it_or_the_tree_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo(tmp_path / "repo", {**FILES, "pkg/db.py": COUNTED_DB, "pkg/ledger.py": BROKEN})
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv("MODELFOLD_TEST_SEEN", str(seen))

    said: list[str] = []

    def run() -> int:
        start = probes(seen)
        lines = io.StringIO()
        result = stage(repo, [migration()], branch="modelfold/cached", force=True, progress=LineProgress(lines))
        assert result.verification is not None and result.verification.ok, result.verification
        assert any("already failing before: pkg.ledger" in m for m in result.verification.messages)
        said.append(lines.getvalue())
        return probes(seen) - start

    first = run()
    assert list((repo / ".git" / "modelfold-cache").glob("before-*.json"))
    again = run()
    assert 0 < again < first  # only the "after" orders ran; the two "before" probes came from the cache
    assert "probing the tree before" in said[0] and "probing the tree before" not in said[1]
    assert "the tree before, probed by an earlier run at this commit" in said[1]
    (repo / "notes.txt").write_text("untracked\n")
    assert run() == first  # a dirty tree is never trusted
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "notes")
    assert run() == first  # a new commit is a new entry
    assert run() == again


def test_the_interpreter_fingerprint_follows_its_installed_packages(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", {"sqla.pth": str(sqlalchemy_only(tmp_path / "libs")) + "\n"})
    first = interpreter_fingerprint(str(python))
    assert first is not None and interpreter_fingerprint(str(python)) == first
    site = Path(next(row[0] for row in first[4:]))
    (site / "newpkg").mkdir()  # a package installed
    second = interpreter_fingerprint(str(python))
    assert second is not None and second != first
    (site / "sqla.pth").write_text(str(tmp_path / "elsewhere") + "\n")  # a .pth edited in place
    assert interpreter_fingerprint(str(python)) not in (first, second)
    (tmp_path / "venv" / "pyvenv.cfg").unlink()  # not a virtualenv: its packages are not fingerprinted
    assert interpreter_fingerprint(str(python)) is None


def test_the_scratch_worktree_is_unregistered_at_once_and_its_files_removed_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo(tmp_path / "repo")
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_parent))
    stage(repo, [migration()], branch="modelfold/cleanup", run_verify=False)
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert not [p for p in scratch_parent.iterdir() if not p.name.endswith("-removed")]
    for _ in range(300):  # the detached rm -rf finishes on its own
        if not any(scratch_parent.iterdir()):
            break
        time.sleep(0.1)
    assert not any(scratch_parent.iterdir())


def test_no_entry_is_trusted_in_a_repository_with_submodules_or_changes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    head = git(repo, "rev-parse", "HEAD").strip()
    common = repo / ".git"

    def entry() -> object:
        return snapshot_cache(common, repo, head, "", [migration()], (), sys.executable, 120.0)

    assert entry() is not None  # modelfold's own virtualenv, a clean tree
    (repo / "pkg" / "service.py").write_text("# edited\n")
    assert entry() is None
    git(repo, "checkout", "--", "pkg/service.py")
    (repo / ".gitmodules").write_text('[submodule "vendor"]\n\tpath = vendor\n\turl = ../vendor\n')
    git(repo, "add", ".gitmodules")
    git(repo, "commit", "-q", "-m", "submodules")
    assert entry() is None
