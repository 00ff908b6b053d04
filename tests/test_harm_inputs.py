"""Hostile inputs: expressions too deep to parse, files that cannot be read (issue 17 items 9, 10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codemods import scan
from codemods.types import ModelfoldError

from support.mini_project import FILES, git, make_repo, repo_state, run

DEEP_MODEL = "from sqlalchemy.orm import Mapped\ny: Mapped[int]\nx = " + "-" * 200_000 + "1\n"  # MemoryError in ast
DEEP_SUM = "__tablename__ = 1\nx = " + "+".join(["a"] * 30_000) + "\n"  # RecursionError
SINGLE = {k: v for k, v in FILES.items() if k != "pkg/legacy.py"}
SINGLE["pkg/service.py"] = "from pkg.modern import User\n"


def cli(command: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from cli.app import main; main()", command, str(root)],
                          capture_output=True, text=True, timeout=300)


def test_files_too_deep_to_parse_are_skipped_by_detect_and_refused_by_check(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj", dict(SINGLE, **{"pkg/deep.py": DEEP_MODEL, "pkg/sum.py": DEEP_SUM}))
    done = cli("check", root)
    # not 1 (a traceback) as if duplicates were found: check cannot vouch for a model file it could
    # not read, so it refuses naming the file (issue 11 item 4)
    assert done.returncode == 2, done.stderr
    assert "cannot check pkg/deep.py: too deeply nested to parse (MemoryError)" in done.stderr
    assert "Traceback" not in done.stderr
    done = cli("detect", root)
    assert done.returncode == 0, done.stderr
    assert "skipped pkg/deep.py: too deeply nested to parse (MemoryError)" in done.stderr
    assert "skipped pkg/sum.py: too deeply nested to parse (RecursionError)" in done.stderr
    assert "Traceback" not in done.stderr


def test_migrate_skips_a_deep_file_that_does_not_name_the_class(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj", dict(FILES, **{"pkg/deep.py": "x = " + "-" * 200_000 + "1  # User\n"}))
    code, out, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(root), "--dry-run")
    assert code == 0, err
    assert "pkg/service.py" in out and "pkg/deep.py" not in out


def test_migrate_refuses_a_deep_file_that_imports_the_old_module(tmp_path: Path) -> None:
    deep = "from pkg.legacy import User\nx = " + "-" * 200_000 + "1\n"
    root = make_repo(tmp_path / "proj", dict(FILES, **{"pkg/deep.py": deep}))
    before = repo_state(root)
    code, out, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(root), "--dry-run")
    assert code == 2 and "pkg/deep.py: cannot parse it, and it references a moved name" in err
    assert repo_state(root) == before


def test_tracked_file_missing_from_the_working_tree_that_names_the_class_is_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj")
    (root / "pkg" / "service.py").unlink()  # deleted, not committed: the branch would keep it unrewritten
    code, _, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(root), "--branch", "mf/x")
    assert code == 2 and "pkg/service.py is not checked out (is missing from the working tree)" in err, err
    assert git(root, "branch", "--list", "mf/x") == ""


def test_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "link.py").symlink_to("/etc/hostname")
    with pytest.raises(ModelfoldError, match=r"^link.py: cannot read it \(Too many levels"):
        scan.read_text(tmp_path, "link.py")
    with pytest.raises(OSError):  # the index still skips it (with this reason) rather than stop
        scan.read_text(tmp_path, "link.py")
