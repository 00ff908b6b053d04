"""Shared helpers for the shape fixtures (fixtures/shape_*): a git copy, the CLI, the project's tests.

No tests here; tests/test_shapes_*.py import it. Every run goes through the real CLI in a
subprocess and the fixture project's own tests run in another, as a user would run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from support.mini_project import git

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CLI = [sys.executable, "-c", "from cli.app import main; main()"]
IGNORED = shutil.ignore_patterns("__pycache__", ".pytest_cache")


def project(name: str, dest: Path) -> Path:
    """A committed git copy of fixtures/<name> at dest."""
    shutil.copytree(FIXTURES / name, dest, ignore=IGNORED)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git(dest, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "fixture")
    return dest


def modelfold(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`modelfold ARGS` on tree (`--root` for migrate, the path for check/detect), in a fresh interpreter."""
    where = ["--root", str(tree)] if args[0] == "migrate" else [str(tree)]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}  # the target has no virtualenv of its own
    return subprocess.run([*CLI, *args, *where], capture_output=True, text=True, timeout=300, env=env)


def own_tests(tree: Path) -> subprocess.CompletedProcess[str]:
    """The fixture project's own tests, run in the tree."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tree, capture_output=True, text=True, timeout=300,
    )


def checkout_staged(tree: Path, result: subprocess.CompletedProcess[str]) -> str:
    """Check out the branch a staging run printed; return its name."""
    branch = next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("branch: "))
    git(tree, "checkout", "-q", branch)
    return branch


Run = subprocess.CompletedProcess[str]


def stage_and_test(name: str, dest: Path, *args: str) -> tuple[Run, Run | None]:
    """Stage `migrate ARGS` (`--auto` unless ARGS name the classes) on a copy of fixtures/<name>;
    run its tests on the branch if staged."""
    tree = project(name, dest)
    before = own_tests(tree)
    assert before.returncode != 0, f"{name}: the fixture's own tests must fail before the migration"
    auto = [] if any(":" in a and not a.startswith("-") for a in args) else ["--auto"]
    staged = modelfold(tree, "migrate", *auto, *args)
    if staged.returncode != 0:
        return staged, None
    checkout_staged(tree, staged)
    return staged, own_tests(tree)
