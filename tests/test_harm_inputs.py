"""Hostile inputs: expressions too deep to parse, files that cannot be read (issue 17 items 9, 10).

A file the process may not read is made with chmod 000. Root reads it anyway (CAP_DAC_OVERRIDE),
so as root the CLI runs under `setpriv` (util-linux, on every Debian) with the two capabilities that
bypass file modes dropped from its bounding set: still uid 0, but held to the modes. Without a way
to do that the tests fail, naming what is missing; they are never skipped.
"""

from __future__ import annotations

import os
import shutil
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


NO_DAC = ["--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]


def held_to_file_modes(tmp_path: Path) -> list[str]:
    """The command prefix under which this process obeys file modes (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("running as root without setpriv (util-linux): cannot make a file unreadable to test item 10")
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0)
    done = subprocess.run([setpriv, *NO_DAC, "cat", str(probe)], capture_output=True, text=True)
    if done.returncode == 0 or "Permission denied" not in done.stderr:
        pytest.fail(f"setpriv could not drop CAP_DAC_OVERRIDE here: {done.stderr.strip()}")
    return [setpriv, *NO_DAC]


@pytest.mark.slow
@pytest.mark.parametrize("unreadable", ["pkg/service.py", "pkg/legacy.py"])  # a reference, the duplicate's module
def test_a_file_the_migration_cannot_read_is_refused_in_every_mode(tmp_path: Path, unreadable: str) -> None:
    prefix = held_to_file_modes(tmp_path)
    root = make_repo(tmp_path / "proj")

    def state() -> object:  # read with the file readable again: the test process may be held to modes
        (root / unreadable).chmod(0o644)
        try:
            return repo_state(root)
        finally:
            (root / unreadable).chmod(0)

    before = state()
    main = [*prefix, sys.executable, "-c", "from cli.app import main; main()"]
    migrate = [*main, "migrate", "pkg.modern:User", "pkg.legacy:User", "--root", str(root)]
    for args in (["--dry-run"], ["--apply"], ["--branch", "mf/x"], ["--auto"]):
        cmd = [*main, "migrate", "--auto", "--root", str(root)] if args == ["--auto"] else [*migrate, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr == (f"error: {unreadable}: cannot read it (Permission denied); the migration must read "
                               "every file to rewrite its references (fix its permissions or --exclude it)\n")
        assert done.stdout == ""
        assert state() == before  # no branch, no worktree, no file written
    done = subprocess.run([*main, "check", str(root)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert f"cannot check {unreadable}: cannot read it (Permission denied)" in done.stderr
    done = subprocess.run([*main, "detect", str(root)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and f"skipped {unreadable}: cannot read it (Permission denied)" in done.stderr
    assert state() == before
