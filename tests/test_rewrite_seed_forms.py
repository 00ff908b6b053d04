"""fixtures/seed_backend: every reference form rewritten, and the project's own suite passes.

Beyond the import forms of SCENARIO.md, modules each used by the project's own tests (backend/tests/test_forms.py):
a split parenthesized import of a name that stays (PASSWORD_MIN_LENGTH) and the model, two module
aliases (one used only for the model, one also for the name that stays), an optional import in
try/except, a lazy module proxy with a TYPE_CHECKING twin and a string annotation through it, a
relative `from . import models as m` with `"m.User"` annotations, and a monkeypatch string. The
suite fails before (two classes on one table) and must pass after the rewrite.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods import scan
from codemods.rewrite import rewrite
from codemods.types import Changeset, Consolidation, MergeResult, MovedName

from support.models import model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASE, OVERLAY = FIXTURES / "seed_backend", FIXTURES / "seed_backend_merged"
OLD, NEW = "backend.app.users.models", "backend.app.auth.models"
OLD_PATH, NEW_PATH = "backend/app/users/models.py", "backend/app/auth/models.py"

EXPECTED = {
    "backend/services/split.py": (
        "from backend.app.auth.models import User\n"
        "from backend.app.users.models import (  # legacy location\n"
        "    PASSWORD_MIN_LENGTH,\n"
        ")\n"
    ),
    "backend/services/aliases.py": (
        "import backend.app.auth.models as um\n"
        "from backend.app.auth.models import User, UserStatus\n"
        "from backend.app.users import models as legacy\n"
    ),
    "backend/services/compat.py": "try:\n    from backend.app.auth.models import User\n",
    "backend/services/lazy_users.py": (
        "if TYPE_CHECKING:\n"
        "    import backend.app.auth.models as users_models\n"
        "else:\n"
        '    users_models = LazyImport("backend.app.auth.models")\n'
    ),
    "backend/app/users/helpers.py": "from ..auth import models as m\n",
    "backend/tests/test_forms.py": (
        'monkeypatch.setattr("backend.app.auth.models.User.display_name", "patched")'
    ),
}


def run(root: Path, canonical_text: str) -> Changeset:
    consolidation = Consolidation(
        model(f"{NEW}:User", NEW_PATH, base="backend.db.Base"),
        (model(f"{OLD}:User", OLD_PATH, base="backend.db.Base"),),
    )
    merged = MergeResult(NEW_PATH, canonical_text, (), (MovedName("UserStatus", OLD, NEW),), ())
    return rewrite(consolidation, merged, root, scan.source_files(root))


def pytest_in(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
def test_every_form_rewritten_and_the_suite_passes(tmp_path: Path) -> None:
    assert pytest_in(CASE).returncode != 0
    root = tmp_path / "case"
    shutil.copytree(CASE, root, ignore=shutil.ignore_patterns("__pycache__"))
    changeset = run(root, (OVERLAY / NEW_PATH).read_text())
    after = {c.path: c.after for c in changeset.changes}
    for path, snippet in EXPECTED.items():
        assert snippet in after[path], f"{path}:\n{after[path]}"
    assert "legacy.User, legacy.UserStatus.ACTIVE" not in after["backend/services/aliases.py"]
    assert "return legacy.PASSWORD_MIN_LENGTH, User, UserStatus.ACTIVE" in after[
        "backend/services/aliases.py"
    ]
    shim = after[OLD_PATH]
    assert "PASSWORD_MIN_LENGTH = 8" in shim and "class User" not in shim
    assert "from backend.app.auth.models import User, UserStatus  # noqa: F401" in shim
    for change in changeset.changes:
        (root / change.path).write_bytes(change.after.encode("utf-8"))
    proc = pytest_in(root)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert run(root, (root / NEW_PATH).read_text()).changes == ()
