"""Named regressions: the anchor bugs of libcst's RenameCommand, shadowing, bytes, bad input."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods import scan
from codemods.rewrite import rewrite
from codemods.types import Changeset, Consolidation, MergeResult, ModelfoldError, MovedName, SourceFile

from support.models import model

FORMS = Path(__file__).resolve().parent.parent / "fixtures" / "rewrite_forms"
OLD, NEW = "app.users.models", "app.auth.models"


def tree(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FORMS / "_base", root)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return root


def run(
    root: Path,
    canonical_text: str | None = None,
    duplicate: str = "User",
    warn_on_import: bool = False,
) -> Changeset:
    text = canonical_text or (FORMS / "_merged" / "models.py").read_text()
    consolidation = Consolidation(
        canonical=model(f"{NEW}:User"),
        duplicates=(model(f"{OLD}:{duplicate}"),),
    )
    merged = MergeResult(
        "app/auth/models.py", text, (), (MovedName("UserStatus", OLD, NEW),), ()
    )
    return rewrite(consolidation, merged, root, scan.source_files(root), warn_on_import=warn_on_import)


def after(changeset: Changeset, path: str) -> str:
    return {c.path: c.after for c in changeset.changes}[path]


def python(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )


# -- anchor bugs seen in RenameCommand ----------------------------------------------------------
def test_anchor_relative_import_is_not_left_stale(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/users/service.py": "from .models import User\n\nmake = User\n"})
    assert after(run(root), "app/users/service.py") == "from ..auth.models import User\n\nmake = User\n"


def test_anchor_string_references_are_not_left_stale(tmp_path: Path) -> None:
    source = (
        "from sqlalchemy.orm import relationship\n"
        "from unittest import mock\n\n"
        'owner = relationship("app.users.models.User")\n'
        'patcher = mock.patch("app.users.models.User.status")\n'
    )
    root = tree(tmp_path, {"app/api/strings.py": source})
    assert after(run(root), "app/api/strings.py") == source.replace(OLD, NEW)


def test_anchor_type_checking_import_gets_no_runtime_twin(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n"
        "    from app.users.models import User\n\n\n"
        'def f(u: "User") -> None:\n'
        "    pass\n"
    )
    root = tree(tmp_path, {"app/api/guarded.py": source})
    got = after(run(root), "app/api/guarded.py")
    assert got == source.replace(OLD, NEW)
    assert got.count("import User") == 1


def test_anchor_alias_is_kept_when_a_local_class_has_the_name(tmp_path: Path) -> None:
    source = (
        "from app.users.models import User as DbUser\n\n\n"
        "class User:\n"
        '    """A view class, not the model."""\n\n\n'
        "def load():\n"
        "    return DbUser, User\n"
    )
    root = tree(tmp_path, {"app/api/view.py": source})
    changeset = run(root)
    assert after(changeset, "app/api/view.py") == source.replace(OLD, NEW)
    (root / "app/api/view.py").write_text(after(changeset, "app/api/view.py"))
    check = (
        "import app.api.view as v, app.auth.models as a\n"
        "model, local = v.load()\n"
        "assert model is a.User and local is not a.User and local.__module__ == 'app.api.view'\n"
    )
    proc = python(root, check)
    assert proc.returncode == 0, proc.stderr


def test_anchor_module_alias_and_from_import_of_the_same_module(tmp_path: Path) -> None:
    source = (
        "import app.users.models as m\n"
        "from app.users import models\n\n\n"
        "def both():\n"
        "    return m.User, models.User, models.UserRole\n"
    )
    expected = (
        "import app.auth.models as m\n"
        "from app.auth.models import User\n"
        "from app.users import models\n\n\n"
        "def both():\n"
        "    return m.User, User, models.UserRole\n"
    )
    root = tree(tmp_path, {"app/api/both.py": source})
    changeset = run(root)
    assert after(changeset, "app/api/both.py") == expected
    for change in changeset.changes:
        (root / change.path).write_text(change.after)
    check = (
        "import app.api.both as b, app.auth.models as a, app.users.models as u\n"
        "x, y, role = b.both()\n"
        "assert x is a.User and y is a.User and role is u.UserRole\n"
    )
    proc = python(root, check)
    assert proc.returncode == 0, proc.stderr


# -- never change what a name means ------------------------------------------------------------
def test_added_import_takes_an_alias_when_the_name_is_taken(tmp_path: Path) -> None:
    source = (
        "import app.users.models as m\n\n\n"
        "def build(User):\n"
        "    return User, m.User, m.UserRole\n"
    )
    expected = (
        "import app.users.models as m\n"
        "from app.auth.models import User as CanonicalUser\n\n\n"
        "def build(User):\n"
        "    return User, CanonicalUser, m.UserRole\n"
    )
    root = tree(tmp_path, {"app/api/param.py": source})
    assert after(run(root), "app/api/param.py") == expected


def test_userrole_is_not_user(tmp_path: Path) -> None:
    source = 'from app.users.models import UserRole\n\nkey = "app.users.models.UserRole"\n'
    root = tree(tmp_path, {"app/api/role.py": source})
    assert "app/api/role.py" not in {c.path for c in run(root).changes}


def test_class_renamed_by_the_merge_keeps_local_names(tmp_path: Path) -> None:
    base = (FORMS / "_base/app/users/models.py").read_text().replace("class User:", "class Account:")
    importer = (
        "import app.users.models as m\n"
        "from app.users.models import Account\n"
        "from sqlalchemy.orm import relationship\n\n"
        'owner = relationship("Account")\n'
        "pair = (m.Account, Account)\n"
    )
    expected = (
        "import app.auth.models as m\n"
        "from app.auth.models import User as Account\n"
        "from sqlalchemy.orm import relationship\n\n"
        # a bare class name in a string resolves in the registry of the class the relationship
        # ends up on, which the file alone does not say (rewrite/_registry_names renames those)
        'owner = relationship("Account")\n'
        "pair = (m.User, Account)\n"
    )
    root = tree(tmp_path, {"app/users/models.py": base, "app/api/acct.py": importer})
    changeset = run(root, duplicate="Account")
    assert after(changeset, "app/api/acct.py") == expected
    # the sorter's shape (ruff's default keeps `as` imports apart), the noqa on each line
    assert (
        "from app.auth.models import User as Account  # noqa: F401\n"
        "from app.auth.models import UserStatus  # noqa: F401\n"
    ) in after(changeset, "app/users/models.py")


# -- bytes -------------------------------------------------------------------------------------
def test_crlf_and_tabs_survive(tmp_path: Path) -> None:
    source = b"from app.users.models import User\r\n\r\n\r\ndef make():\r\n\treturn User()  # tab\r\n"
    root = tree(tmp_path, {"app/api/crlf.py": source})
    got = after(run(root), "app/api/crlf.py").encode()
    assert got == source.replace(b"app.users", b"app.auth")


def test_crlf_file_gets_crlf_on_an_added_line(tmp_path: Path) -> None:
    source = b"import app.users.models as m\r\n\r\npair = (m.User, m.UserRole)\r\n"
    expected = (
        b"import app.users.models as m\r\nfrom app.auth.models import User\r\n\r\n"
        b"pair = (User, m.UserRole)\r\n"
    )
    root = tree(tmp_path, {"app/api/crlf2.py": source})
    assert after(run(root), "app/api/crlf2.py").encode() == expected


def test_bom_survives(tmp_path: Path) -> None:
    source = "\ufeff# comment\nfrom app.users.models import User  # keep me\n\nmake = User\n"
    root = tree(tmp_path, {"app/api/bom.py": source.encode()})
    assert after(run(root), "app/api/bom.py") == source.replace(OLD, NEW)


# -- bad input, non-Python files, the prefilter ------------------------------------------------
def test_unparsable_file_that_references_the_duplicate_aborts(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/api/broken.py": "from app.users.models import User\ndef (:\n"})
    with pytest.raises(ModelfoldError, match="app/api/broken.py"):
        run(root)


def test_unparsable_file_that_needs_no_change_is_skipped(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/api/broken.py": "from app import users\nUser = (\n"})
    changeset = run(root)
    assert [(s.path, s.reason) for s in changeset.skipped] == [
        ("app/api/broken.py", "cannot parse it, and no reference to a moved name seen")]
    assert "app/api/broken.py" not in {c.path for c in changeset.changes}


def test_non_python_mentions_are_listed_not_edited(tmp_path: Path) -> None:
    readme = "Use `app.users.models.User`.\nNot app.users.models.UserRole.\n"
    root = tree(tmp_path, {"README.md": readme, "conf/setup.toml": 'entry = "app.users.models:User"\n'})
    changeset = run(root)
    assert changeset.mentions == (
        "README.md:1: app.users.models.User",
        "conf/setup.toml:1: app.users.models:User",
    )
    assert (root / "README.md").read_text() == readme
    assert all(not c.path.endswith((".md", ".toml")) for c in changeset.changes)


def test_only_files_that_could_reference_the_duplicate_are_parsed(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        f"app/api/noise_{i}.py": "from app.auth.models import User\nfrom x import models\n"
        for i in range(30)
    }
    files["app/api/real.py"] = "from app.users.models import User\n"
    files["app/api/text_only.py"] = "# User lives in models somewhere\nx = 1\n"
    root = tree(tmp_path, files)
    changeset = run(root)
    assert set(changeset.parsed) == {"app/api/real.py", "app/auth/models.py", "app/users/models.py"}
    assert [c.path for c in changeset.changes] == [
        "app/api/real.py", "app/auth/models.py", "app/users/models.py"
    ]


def test_canonical_module_drops_its_import_of_a_moved_name(tmp_path: Path) -> None:
    canonical = (
        '"""Canonical users."""\n'
        "import enum\n\n"
        "from app.users.models import UserStatus\n"
        "from sqlalchemy.orm import relationship\n\n\n"
        "class UserStatus(enum.Enum):\n"
        '    ACTIVE = "active"\n\n\n'
        "class User:\n"
        '    peer = relationship("app.users.models.User")\n'
    )
    expected = canonical.replace("from app.users.models import UserStatus\n", "").replace(
        '"app.users.models.User"', '"app.auth.models.User"'
    )
    root = tree(tmp_path, {})
    assert after(run(root, canonical_text=canonical), "app/auth/models.py") == expected


def test_changeset_is_sorted_and_deterministic(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "app/api/b.py": "from app.users.models import User\n",
        "app/api/a.py": "import app.users.models as m\nx = m.User\n",
    })
    first, second = run(root), run(root)
    assert first == second
    assert [c.path for c in first.changes] == sorted(c.path for c in first.changes)


def test_worker_processes_give_the_same_changeset(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {}
    for i in range(70):
        files[f"app/api/m{i:02}.py"] = (
            "import app.users.models as m\n" if i % 2 else "from app.users.models import User\n"
        ) + f"x{i} = {'m.User' if i % 2 else 'User'}\n"
    root = tree(tmp_path, files)
    consolidation = Consolidation(model(f"{NEW}:User"), (model(f"{OLD}:User"),))
    merged = MergeResult(
        "app/auth/models.py", (FORMS / "_merged/models.py").read_text(), (),
        (MovedName("UserStatus", OLD, NEW),), (),
    )
    listing = scan.source_files(root)
    serial = rewrite(consolidation, merged, root, listing, jobs=1)
    parallel = rewrite(consolidation, merged, root, listing, jobs=2)
    assert serial == parallel
    assert len(serial.changes) == 72


def test_one_line_type_checking_suite_gets_the_split_import_inline(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING: from app.users.models import User, UserRole\n"
        'x: "User"\n'
    )
    expected = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING: from app.users.models import UserRole; from app.auth.models import User\n"
        'x: "User"\n'
    )
    root = tree(tmp_path, {"app/api/suite.py": source})
    assert after(run(root), "app/api/suite.py") == expected


def test_star_reexport_through_a_package_is_followed(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "app/users/__init__.py": "from .models import *  # noqa: F403\n",
        "app/api/star.py": "from app.users import User\n",
    })
    changeset = run(root)
    assert after(changeset, "app/api/star.py") == "from app.auth.models import User\n"
    assert any("from app.users.models import *" in w for w in changeset.warnings)


def test_patching_the_class_on_the_old_module_object_is_warned(tmp_path: Path) -> None:
    source = (
        "from unittest import mock\n\n"
        "import app.users.models as users_models\n\n\n"
        "def check(monkeypatch):\n"
        '    monkeypatch.setattr(users_models, "UserRole", None)\n'
        '    with mock.patch.object(users_models, "User"):\n'
        "        pass\n"
    )
    root = tree(tmp_path, {"app/tests/test_obj.py": source})
    changeset = run(root)
    assert [w for w in changeset.warnings if "patches" in w] == [
        "app/tests/test_obj.py: patches 'User' on app.users.models (now a shim); "
        "patch it on app.auth.models instead"
    ]


def test_canonical_keeps_a_package_import_it_still_uses_otherwise(tmp_path: Path) -> None:
    canonical = (FORMS / "_merged/models.py").read_text() + (
        "\n\nfrom app import users  # noqa: E402\n\n\n"
        "def pair():\n"
        "    return users.models.User, users.lazy_name\n"
    )
    expected = canonical.replace("users.models.User, ", "User, ")
    root = tree(tmp_path, {})
    assert after(run(root, canonical_text=canonical), "app/auth/models.py") == expected


def test_a_guarded_import_of_the_name_is_not_reused_for_runtime_uses(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n\n"
        "import app.users.models as m\n\n"
        "if TYPE_CHECKING:\n"
        "    from app.users.models import User\n\n"
        "pair = (m.User, m.UserRole)\n"
    )
    expected = (
        "from typing import TYPE_CHECKING\n\n"
        "import app.users.models as m\n"
        "from app.auth.models import User as CanonicalUser\n\n"
        "if TYPE_CHECKING:\n"
        "    from app.auth.models import User\n\n"
        "pair = (CanonicalUser, m.UserRole)\n"
    )
    root = tree(tmp_path, {"app/api/guard_reuse.py": source})
    assert after(run(root), "app/api/guard_reuse.py") == expected


def test_non_utf8_file_is_skipped_or_an_abort(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app/api/latin.py": "# caf\xe9\nx = 1\n".encode("latin-1")})
    assert [(s.path, s.reason) for s in run(root).skipped] == [
        ("app/api/latin.py", "not UTF-8, and no reference to a moved name seen")]
    (root / "app/api/latin.py").write_bytes("# caf\xe9\nfrom app.users.models import User\n".encode("latin-1"))
    with pytest.raises(ModelfoldError, match="app/api/latin.py"):
        run(root)


@pytest.mark.parametrize(
    "text",
    [
        "from app.users.models import User",
        "from app.users import models\nmodels.User",
        "from  app.users  import (\n    models as m,\n)\nm.User",
        "from app import users\nusers.models.User",
        "import app.users as u\nu.models.User",
        "import app\napp.users.models.User",
        "from .models import User",
        "from . import models\nmodels.User",
        "from ..users.models import User",
        'x = importlib.import_module("app.users.models").User',
        'patch("app.users.models.User.x")',
        "from app.users.models import *",
    ],
)
def test_prefilter_lets_every_reference_form_through(text: str) -> None:
    from codemods.rewrite._targets import Relocation, Target, prefilter

    target = Target(NEW, "User")
    plan = Relocation(NEW, "app/auth/models.py", {f"{OLD}.User": target}, frozenset({OLD}), frozenset({OLD}))
    assert prefilter(plan, text)


@pytest.mark.parametrize(
    "text",
    [
        "from app.auth.models import User",
        "from app.orders import models\nmodels.User",
        "class User:\n    pass",
        "from app.users.service import make  # no moved name here",
    ],
)
def test_prefilter_skips_files_that_cannot_reference_the_class(text: str) -> None:
    from codemods.rewrite._targets import Relocation, Target, prefilter

    target = Target(NEW, "User")
    plan = Relocation(NEW, "app/auth/models.py", {f"{OLD}.User": target}, frozenset({OLD}), frozenset({OLD}))
    assert not prefilter(plan, text)


@pytest.mark.parametrize(
    "text",
    [
        "import app as a\na.users.models.User",
        "from app import (\n    orders,\n    users,\n)\nusers.models.User",
        "from .. import users\nusers.models.User",
        "from ..users import models\nmodels.User",
    ],
)
def test_prefilter_lets_package_and_relative_forms_through(text: str) -> None:
    from codemods.rewrite._targets import Relocation, Target, prefilter

    target = Target(NEW, "User")
    plan = Relocation(NEW, "app/auth/models.py", {f"{OLD}.User": target}, frozenset({OLD}), frozenset({OLD}))
    assert prefilter(plan, text)


def test_prefilter_is_not_fooled_by_a_table_name() -> None:
    from codemods.rewrite._targets import Relocation, Target, prefilter

    target = Target(NEW, "User")
    plan = Relocation(NEW, "app/auth/models.py", {f"{OLD}.User": target}, frozenset({OLD}), frozenset({OLD}))
    text = 'from app.db import Base\nfrom .x import y\nuser_id = ForeignKey("users.id")  # User\n'
    assert not prefilter(plan, text)


def test_each_file_is_read_for_its_mode_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bound_once` (an ast walk of the whole file) runs once per file: the mode carries its answer."""
    from codemods.rewrite import _rewrite, _targets

    walked: list[str] = []
    real = _targets.bound_once

    def counted(plan: _targets.Relocation, f: SourceFile, tree: ast.Module) -> frozenset[str] | None:
        walked.append(f.path)
        return real(plan, f, tree)

    monkeypatch.setattr(_targets, "bound_once", counted)
    monkeypatch.setattr(_rewrite, "bound_once", counted, raising=False)  # where it was imported too
    root = tree(tmp_path, {"app/api/aliased.py": "import app.users.models as um\n\nPAIR = (um.User, um.UserRole)\n"})
    assert "from app.auth.models import User" in after(run(root), "app/api/aliased.py")
    assert walked.count("app/api/aliased.py") == 1
