"""A built wheel, not the editable checkout, runs the README's first command.

The stage subpackages must ship in the wheel; an editable install would hide a missing one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _tracked_copy(dest: Path) -> Path:
    """The checkout's tracked files only: a stale build/ folder in the checkout would fill the wheel."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", "pyproject.toml", "README.md", "codemods", "cli"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / rel, dest / rel)
    return dest


def test_the_wheel_runs_a_dry_run_migration_of_the_seed(tmp_path: Path) -> None:
    source = _tracked_copy(tmp_path / "src")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"),
         str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("modelfold-*.whl")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, cwd=tmp_path)
    # -S: no site module, so no .pth file and no editable-install finder can serve the checkout;
    # the dependencies come from this interpreter's site-packages, after the wheel's packages
    deps = [p for p in sys.path if p.endswith("site-packages")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *deps])}
    code = ("import sys, codemods, cli.app; assert codemods.__file__.startswith(sys.argv[1]), codemods.__file__; "
            "sys.argv = ['modelfold', *sys.argv[2:]]; cli.app.main()")
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, str(site), "migrate", "backend.app.auth.models:User",
         "backend.app.users.models:User", "--root", str(REPO / "fixtures" / "seed_backend"), "--dry-run"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )
    assert out.returncode == 0, out.stderr
    # paths are relative to the git top level (issue 11 item 6), to --root outside git
    top = subprocess.run(["git", "rev-parse", "--show-prefix"], cwd=REPO / "fixtures" / "seed_backend",
                         capture_output=True, text=True)
    prefix = top.stdout.strip() if top.returncode == 0 else ""
    assert f"+++ b/{prefix}backend/app/users/models.py" in out.stdout
    assert "-from backend.app.users.models import User" in out.stdout
