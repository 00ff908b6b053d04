"""The seed_backend fixture reproduces the duplicated-User incident (see fixtures/seed_backend/README.md).

* As shipped (two ``User`` classes on ``users``), its own suite must fail at collection with
  SQLAlchemy's "Table 'users' is already defined" error.
* With the hand-merged overlay (fixtures/seed_backend_merged) applied, the same suite must pass.
  That is the outcome modelfold has to produce.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED = FIXTURES / "seed_backend"
MERGED_OVERLAY = FIXTURES / "seed_backend_merged"

pytestmark = pytest.mark.slow


def _copy_seed(tmp_path: Path) -> Path:
    dest = tmp_path / "seed_backend"
    shutil.copytree(SEED, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
    return dest


def _run_suite(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_seed_suite_fails_on_duplicate_users_table(tmp_path):
    project = _copy_seed(tmp_path)
    result = _run_suite(project)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Table 'users' is already defined" in output, output


def test_hand_merged_overlay_passes(tmp_path):
    project = _copy_seed(tmp_path)
    overlay_files = sorted(p for p in MERGED_OVERLAY.rglob("*.py") if "__pycache__" not in p.parts)
    assert {p.relative_to(MERGED_OVERLAY).as_posix() for p in overlay_files} == {
        "backend/app/auth/models.py",
        "backend/app/users/models.py",
        "backend/app/api_keys/models.py",
    }
    for src in overlay_files:
        target = project / src.relative_to(MERGED_OVERLAY)
        assert target.is_file(), f"overlay file has no counterpart in the seed: {target}"
        shutil.copyfile(src, target)
    result = _run_suite(project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed" in output and "error" not in output.lower(), output
