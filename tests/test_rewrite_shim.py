"""The re-export shim: pure and partial forms, `--warn-on-import`, and import order in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from codemods import scan
from codemods.rewrite import rewrite
from codemods.rewrite._shim import ShimSpec, build_shim
from codemods.rewrite._targets import Target
from codemods.types import Changeset, Consolidation, MergeResult, MovedName

from support.models import model

FORMS = Path(__file__).resolve().parent.parent / "fixtures" / "rewrite_forms"
OLD, NEW = "app.users.models", "app.auth.models"
USER = Target(NEW, "User")
STATUS = Target(NEW, "UserStatus")


def run(root: Path, warn_on_import: bool = False) -> Changeset:
    consolidation = Consolidation(model(f"{NEW}:User"), (model(f"{OLD}:User"),))
    merged = MergeResult(
        "app/auth/models.py", (FORMS / "_merged/models.py").read_text(), (),
        (MovedName("UserStatus", OLD, NEW),), (),
    )
    return rewrite(consolidation, merged, root, scan.source_files(root), warn_on_import=warn_on_import)


def applied(tmp_path: Path, old_module: str | None = None, warn_on_import: bool = False) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FORMS / "_base", root)
    if old_module is not None:
        (root / "app/users/models.py").write_text(old_module)
    for change in run(root, warn_on_import).changes:
        (root / change.path).write_text(change.after)
    return root


def python(root: Path, code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )


PURE_BEFORE = '''\
#!/usr/bin/env python
"""Old users."""
import enum

from sqlalchemy import Column, Integer


class UserStatus(enum.Enum):
    ACTIVE = "active"


class User:
    id = Column(Integer)

__all__ = ["User", "UserStatus"]
'''

PURE_AFTER = '''\
#!/usr/bin/env python
"""Deprecated location: the User model now lives in ``app.auth.models``.

This module only re-exports it so that old import paths keep working.
"""

from app.auth.models import User, UserStatus  # noqa: F401

__all__ = ["User", "UserStatus"]
'''


def test_module_with_only_the_moved_names_becomes_a_pure_shim() -> None:
    spec = ShimSpec(OLD, {"User": USER, "UserStatus": STATUS}, ("User",))
    assert build_shim(PURE_BEFORE, spec) == (PURE_AFTER, [])


def test_pure_shim_keeps_crlf_and_bom() -> None:
    spec = ShimSpec(OLD, {"User": USER, "UserStatus": STATUS}, ("User",))
    before = "\ufeff" + PURE_BEFORE.replace("\n", "\r\n")
    text, _ = build_shim(before, spec)
    assert text == "\ufeff" + PURE_AFTER.replace("\n", "\r\n")


PARTIAL_BEFORE = '''\
"""Old users, plus helpers that stay."""
import enum

from sqlalchemy import Column, Integer, String

MAX_NAME = 100


class User:
    id = Column(Integer)
    name = Column(String(MAX_NAME))


class UserRole(enum.Enum):
    ADMIN = "admin"


def name_column():
    return Column(String(MAX_NAME))


__all__ = ["MAX_NAME", "User", "UserRole", "name_column"]
'''

PARTIAL_AFTER = '''\
"""Old users, plus helpers that stay."""
import enum

from sqlalchemy import Column, String
from app.auth.models import User  # noqa: F401

MAX_NAME = 100


class UserRole(enum.Enum):
    ADMIN = "admin"


def name_column():
    return Column(String(MAX_NAME))


__all__ = ["MAX_NAME", "User", "UserRole", "name_column"]
'''


def test_module_with_other_content_keeps_it_and_drops_imports_only_the_class_used() -> None:
    spec = ShimSpec(OLD, {"User": USER}, ("User",))
    assert build_shim(PARTIAL_BEFORE, spec) == (PARTIAL_AFTER, [])


def test_shim_is_stable() -> None:
    spec = ShimSpec(OLD, {"User": USER, "UserStatus": STATUS}, ("User",))
    assert build_shim(PURE_AFTER, spec) == (PURE_AFTER, [])
    assert build_shim(PARTIAL_AFTER, ShimSpec(OLD, {"User": USER}, ("User",))) == (PARTIAL_AFTER, [])


def test_old_paths_keep_working_through_the_shim(tmp_path: Path) -> None:
    root = applied(tmp_path)
    check = (
        "from unittest import mock\n"
        "import app.users.models as old, app.auth.models as new\n"
        "from app.users.models import User, UserStatus, UserRole\n"
        "assert User is new.User and old.User is new.User and UserStatus is new.UserStatus\n"
        "with mock.patch('app.users.models.User.status', 'patched'):\n"
        "    assert new.User.status == 'patched'\n"
        "assert UserRole.ADMIN.value == 'admin'\n"
    )
    proc = python(root, check)
    assert proc.returncode == 0, proc.stderr


def test_shim_or_canonical_module_can_be_imported_first(tmp_path: Path) -> None:
    root = applied(tmp_path)
    for first, second in ((OLD, NEW), (NEW, OLD)):
        code = f"import {first}, {second}\nassert {OLD}.User is {NEW}.User\n"
        proc = python(root, code)
        assert proc.returncode == 0, (first, proc.stderr)


def test_warn_on_import_warns_only_when_the_moved_name_is_used(tmp_path: Path) -> None:
    root = applied(tmp_path, warn_on_import=True)
    quiet = python(root, "import app.users.models\nfrom app.users.models import UserRole\n", "-W", "error")
    assert quiet.returncode == 0, quiet.stderr
    loud = python(root, "from app.users.models import User\n", "-W", "error::DeprecationWarning")
    assert loud.returncode != 0
    assert "DeprecationWarning: app.users.models.User is deprecated" in loud.stderr
    assert "app.auth.models" in loud.stderr
    works = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    from app.users.models import User\n"
        "    import app.auth.models as new\n"
        "assert User is new.User\n"
        "assert [w.category for w in seen] == [DeprecationWarning]\n"
    )
    proc = python(root, works)
    assert proc.returncode == 0, proc.stderr


def test_warn_on_import_pure_shim(tmp_path: Path) -> None:
    only = '"""Old."""\nimport enum\n\n\nclass UserStatus(enum.Enum):\n    A = 1\n\n\nclass User:\n    pass\n'
    root = applied(tmp_path, old_module=only, warn_on_import=True)
    text = (root / "app/users/models.py").read_text()
    assert "def __getattr__(name: str) -> Any:" in text
    assert "if TYPE_CHECKING:\n    from app.auth.models import User, UserStatus  # noqa: F401\n" in text
    quiet = python(root, "import app.users.models\n", "-W", "error")
    assert quiet.returncode == 0, quiet.stderr
    for name in ("User", "UserStatus"):
        loud = python(root, f"from app.users.models import {name}\n", "-W", "error::DeprecationWarning")
        assert f"app.users.models.{name} is deprecated" in loud.stderr
    missing = python(root, "import app.users.models as m\nm.Nope\n")
    assert "AttributeError: module 'app.users.models' has no attribute 'Nope'" in missing.stderr


def test_canonical_still_importing_from_the_old_module_is_warned_and_kept_importable(
    tmp_path: Path,
) -> None:
    root = tmp_path / "tree"
    shutil.copytree(FORMS / "_base", root)
    old = (
        '"""Old."""\nimport enum\n\n\nclass UserRole(enum.Enum):\n    ADMIN = "admin"\n\n\n'
        "class User:\n    pass\n\n\ndef helper():\n    return User\n"
    )
    (root / "app/users/models.py").write_text(old)
    canonical = "from app.users.models import UserRole\n\n\nclass User:\n    role = UserRole.ADMIN\n"
    consolidation = Consolidation(model(f"{NEW}:User"), (model(f"{OLD}:User"),))
    merged = MergeResult("app/auth/models.py", canonical, (), (), ())
    changeset = rewrite(consolidation, merged, root, scan.source_files(root))
    assert any("still imports UserRole from app.users.models" in w for w in changeset.warnings)
    shim = {c.path: c.after for c in changeset.changes}["app/users/models.py"]
    assert shim.index("class UserRole") < shim.index("from app.auth.models import User") < shim.index(
        "def helper"
    )
    for change in changeset.changes:
        (root / change.path).write_text(change.after)
    proc = python(root, "import app.users.models as o\nassert o.helper() is o.User\n")
    assert proc.returncode == 0, proc.stderr


def test_explicit_reexports_in_all_keep_the_module_partial() -> None:
    before = (
        '"""Old."""\nfrom app.db import Base\n\n\nclass User(Base):\n    pass\n\n\n'
        '__all__ = ["Base", "User"]\n'
    )
    expected = (
        '"""Old."""\nfrom app.db import Base\nfrom app.auth.models import User  # noqa: F401\n\n\n'
        '__all__ = ["Base", "User"]\n'
    )
    assert build_shim(before, ShimSpec(OLD, {"User": USER}, ("User",))) == (expected, [])


def test_any_spelling_of_the_type_checking_guard_is_plumbing() -> None:
    """`t.TYPE_CHECKING` is the guard as much as `typing.TYPE_CHECKING` (one rule in every stage)."""
    spec = ShimSpec(OLD, {"User": USER, "UserStatus": STATUS}, ("User",))
    for guard in ("import typing\n\nif typing.TYPE_CHECKING:", "import typing as t\n\nif t.TYPE_CHECKING:"):
        before = PURE_BEFORE.replace(
            "from sqlalchemy import Column, Integer\n",
            f"from sqlalchemy import Column, Integer\n{guard}\n    from app.billing import Invoice\n",
        )
        assert build_shim(before, spec) == (PURE_AFTER, []), guard
