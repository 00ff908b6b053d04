"""Files keep their own line endings: lone CR (old Mac), LF, CRLF and mixes (issue 17 item 14).

libcst joins the lines of a lone-CR file, so such files are read with LF for lone CRs and given
their endings back afterwards (`codemods/diff.py`). End to end, a migration whose referencing
file, duplicate module and canonical module end lines with CR must give, byte for byte, what the
same migration gives on LF files with every LF turned into CR, in --apply and on the branch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from codemods.diff import restore_endings

from support.mini_project import FILES, git, make_repo, run, snapshot

CR_FILES = ("pkg/service.py", "pkg/legacy.py", "pkg/modern.py")
# a referencing file mixing CRLF, LF and CR (CR most common), without a final newline
MIXED = "from pkg.legacy import User\r\n\nx = User\ry = User\rz = 1"
MIXED_AFTER = "from pkg.modern import User\r\n\nx = User\ry = User\rz = 1"


@pytest.mark.parametrize(("original", "edited", "expected"), [
    ("a\rb\rc\r", "a\nB\nc\n", "a\rB\rc\r"),  # an edited line keeps its ending
    ("a\rb\rc", "a\nb\nnew\nc", "a\rb\rnew\rc"),  # a new line takes the usual one; no final newline added
    ("a\r\nb\nc\rd\r", "a\nb\nc\nd\ne\n", "a\r\nb\nc\rd\re\r"),  # mixed: each kept line as it was
    ("a\r\nb\r\nc\n", "a\r\nx\r\nb\r\nc\n", "a\r\nx\r\nb\r\nc\n"),  # CRLF usual: new lines get CRLF
    ("a\rb\r", "b\n", "b\r"),  # a removed line takes nothing with it
    ("a\nb\n", "a\nc\n", "a\nc\n"),  # LF only: untouched
])
def test_restore_endings(original: str, edited: str, expected: str) -> None:
    assert restore_endings(original, edited) == expected


def _files(cr: bool) -> dict[str, str]:
    files = dict(FILES, **{"pkg/service.py": FILES["pkg/service.py"].rstrip("\n")})  # no final newline
    if cr:
        files.update({path: files[path].replace("\n", "\r") for path in CR_FILES})
        files["pkg/views.py"] = MIXED
    return files


class Applied(NamedTuple):
    lf: dict[str, bytes]
    cr: dict[str, bytes]
    cr_root: Path


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Applied:
    """The migration applied to the LF project and to the CR one."""
    out = []
    for name, cr in (("lf", False), ("cr", True)):
        repo = make_repo(tmp_path_factory.mktemp(name) / "proj", _files(cr))
        code, _, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(repo), "--apply")
        assert code == 0, err
        out.append((snapshot(repo), repo))
    return Applied(out[0][0], out[1][0], out[1][1])


def test_dry_run_diff_of_lone_cr_files_reads_line_by_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj", _files(cr=True))
    done = subprocess.run([sys.executable, "-c", "from cli.app import main; main()", "migrate", "pkg.modern:User",
                           "pkg.legacy:User", "--root", str(repo), "--dry-run"], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "-from pkg.legacy import User\r\n+from pkg.modern import User\r\n" in out
    assert "+    nickname: Mapped[Optional[str]] = mapped_column(String(50))\r\n" in out
    assert "+from pkg.modern import User  # noqa: F401\r\n" in out
    assert max(len(line) for line in out.splitlines()) < 120  # no file shown as one joined line


def test_apply_keeps_lone_cr_endings_byte_for_byte(applied: Applied) -> None:
    for path in CR_FILES:
        assert applied.cr[path] == applied.lf[path].replace(b"\n", b"\r"), path
        assert b"\n" not in applied.cr[path]
    assert not applied.cr["pkg/service.py"].endswith(b"\r")  # it had no final newline
    assert applied.cr["pkg/views.py"] == MIXED_AFTER.encode()


@pytest.mark.slow
def test_applied_lone_cr_project_imports_and_its_tests_pass(applied: Applied) -> None:
    root = applied.cr_root
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([sys.executable, "-c", "import pkg.views, pkg.legacy, pkg.modern\n"
                           "assert pkg.legacy.User is pkg.modern.User is pkg.views.User"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_branch_mode_commits_the_same_cr_files(tmp_path: Path, applied: Applied) -> None:
    repo = make_repo(tmp_path / "proj", _files(cr=True))
    test_cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
    code, _, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(repo), "--branch", "mf/cr",
                       "--test-cmd", test_cmd)
    assert code == 0, err
    for path in (*CR_FILES, "pkg/views.py"):
        committed = subprocess.run(["git", "show", f"mf/cr:{path}"], cwd=repo, capture_output=True).stdout
        assert committed == applied.cr[path], path
    assert git(repo, "status", "--porcelain") == ""
