"""Merge on fixtures/seed_backend: legacy users.models.User folded into the modern auth.models.User."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.merge import MergeConflictError, merge
from codemods.types import ConflictPolicy, Consolidation, MovedName

from support.ddl_probe import probe_tree
from support.models import model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED = FIXTURES / "seed_backend"
HAND_MERGED = FIXTURES / "seed_backend_merged"
AUTH = "backend/app/auth/models.py"
USERS = "backend/app/users/models.py"

# Written from SCENARIO.md and the two fixture classes, not from merge's output.
EXPECTED_MEMBERS = [
    "__tablename__", "MAX_API_KEYS",
    "id", "email", "password_hash", "role", "telegram_user_id", "created_at", "updated_at",
    "full_name", "is_active", "last_login_at", "status",
    "preferences", "endorsements", "trust_score", "privacy_requests", "paper_account", "account_links",
    "api_keys",
    "display_name", "validate_email", "deactivate", "__repr__",
]


def consolidation(policy: ConflictPolicy = ConflictPolicy.KEEP_CANONICAL) -> Consolidation:
    return Consolidation(
        canonical=model("backend.app.auth.models:User", AUTH, style="mapped", base="backend.db.Base"),
        duplicates=(model("backend.app.users.models:User", USERS, base="backend.db.Base"),),
        policy=policy,
    )


def user_class(text: str) -> ast.ClassDef:
    tree = ast.parse(text)
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "User")


def member_names(cls: ast.ClassDef) -> list[str]:
    names = []
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            names.append(ast.unparse(stmt.targets[0]))
        elif isinstance(stmt, ast.AnnAssign):
            names.append(ast.unparse(stmt.target))
        elif isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            names.append(stmt.name)
    return names


def test_merged_class_is_the_union_in_mapped_style() -> None:
    result = merge(consolidation(), SEED)
    assert result.canonical_path == AUTH
    cls = user_class(result.canonical_text)
    assert member_names(cls) == EXPECTED_MEMBERS
    bare = [ast.unparse(s) for s in cls.body if isinstance(s, ast.Assign)
            and isinstance(s.value, ast.Call) and ast.unparse(s.value.func) in ("Column", "relationship")]
    assert bare == []
    text = result.canonical_text
    for line in (
        "    full_name: Mapped[Optional[str]] = mapped_column(String(100))\n",
        "    is_active: Mapped[bool] = mapped_column(Boolean, default=True)\n",
        "    last_login_at: Mapped[Optional[datetime]] = mapped_column(DateTime)\n",
        "    status: Mapped[UserStatus] = mapped_column(Enum(UserStatus), default=UserStatus.ACTIVE)\n",
        '    api_keys: Mapped[List["ApiKey"]] = relationship(\n',
        "    email: Mapped[str] = mapped_column(String(320), unique=True)\n",
        "from sqlalchemy.orm import Mapped, mapped_column, relationship, validates\n",
        "    from backend.app.api_keys.models import ApiKey\n",
    ):
        assert line in text


def test_only_the_real_difference_is_a_conflict() -> None:
    result = merge(consolidation(), SEED)
    assert [(c.attribute, c.kind, c.resolution) for c in result.conflicts] == [
        ("email", "column", "kept canonical")
    ]
    conflict = result.conflicts[0]
    assert "String(320)" in conflict.canonical and "String(255)" in conflict.duplicate
    assert conflict.duplicate_ref == "backend.app.users.models:User"


def test_keep_duplicate_takes_the_legacy_definition_converted() -> None:
    result = merge(consolidation(ConflictPolicy.KEEP_DUPLICATE), SEED)
    assert [c.resolution for c in result.conflicts] == ["kept duplicate"]
    assert "    email: Mapped[str] = mapped_column(String(255), unique=True)\n" in result.canonical_text
    assert member_names(user_class(result.canonical_text)) == EXPECTED_MEMBERS


def test_fail_policy_raises_with_the_conflicts_and_writes_nothing() -> None:
    before = {p: p.read_bytes() for p in SEED.rglob("*.py")}
    with pytest.raises(MergeConflictError) as info:
        merge(consolidation(ConflictPolicy.FAIL), SEED)
    assert [c.attribute for c in info.value.conflicts] == ["email"]
    assert "email" in str(info.value)
    assert {p: p.read_bytes() for p in SEED.rglob("*.py")} == before


def test_enum_imported_from_the_old_module_moves_into_the_canonical_one() -> None:
    result = merge(consolidation(), SEED)
    assert result.moved == (MovedName("UserStatus", "backend.app.users.models", "backend.app.auth.models"),)
    text = result.canonical_text
    assert "backend.app.users" not in text
    tree = ast.parse(text)
    names = [n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
    assert names.index("UserStatus") < names.index("default_status") < names.index("User")


def _merged_tree(tmp_path: Path, canonical_text: str | None) -> Path:
    """The seed tree with the hand-written shim and api_keys overlay; auth from merge or by hand."""
    dest = tmp_path / ("ours" if canonical_text is not None else "hand")
    shutil.copytree(SEED, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for path in HAND_MERGED.rglob("*.py"):
        shutil.copy(path, dest / path.relative_to(HAND_MERGED))
    if canonical_text is not None:
        (dest / AUTH).write_text(canonical_text)
    return dest


@pytest.mark.parametrize("first", ["backend.app.users.models", "backend.app.auth.models", "backend.models"])
def test_merged_module_imports_in_any_order_and_maps_like_the_hand_merge(tmp_path: Path, first: str) -> None:
    ours = _merged_tree(tmp_path, merge(consolidation(), SEED).canonical_text)
    hand = _merged_tree(tmp_path, None)
    modules = [first, "backend.models", "backend.db"]
    ddl, error = probe_tree(ours, modules)
    assert error is None
    hand_ddl, hand_error = probe_tree(hand, modules)
    assert hand_error is None
    assert ddl["users [postgresql]"] == hand_ddl["users [postgresql]"]
    assert ddl == hand_ddl


@pytest.mark.slow
def test_seed_suite_passes_on_the_merged_tree(tmp_path: Path) -> None:
    ours = _merged_tree(tmp_path, merge(consolidation(), SEED).canonical_text)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ours,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:]


@pytest.mark.slow
def test_merging_the_other_way_converts_the_legacy_canonical_and_keeps_type_only_imports_out(tmp_path: Path) -> None:
    reverse = Consolidation(
        canonical=model("backend.app.users.models:User", USERS, base="backend.db.Base"),
        duplicates=(model("backend.app.auth.models:User", AUTH, style="mapped", base="backend.db.Base"),),
    )
    result = merge(reverse, SEED)
    cls = user_class(result.canonical_text)
    assert sorted(member_names(cls)) == sorted(EXPECTED_MEMBERS)
    assert not [s for s in cls.body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)
                and ast.unparse(s.value.func) in ("Column", "relationship")]
    assert [m.name for m in result.moved] == ["UserRole"]
    # AccountLink & co. are imported for type checkers only in auth.models: never at runtime here
    assert "import AccountLink" not in result.canonical_text
    dest = tmp_path / "reverse"
    shutil.copytree(SEED, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / USERS).write_text(result.canonical_text)
    (dest / AUTH).write_text(
        "from backend.app.users.models import User, UserRole, UserStatus  # noqa: F401\n\n\n"
        "def default_status() -> UserStatus:\n    return UserStatus.ACTIVE\n"
    )
    for path in (dest / "backend").rglob("*.py"):  # what the rewrite does to module-qualified strings
        text = path.read_text()
        path.write_text(text.replace('"backend.app.auth.models.User"', '"backend.app.users.models.User"'))
    for first in ("backend.app.auth.models", "backend.app.users.models"):
        ddl, error = probe_tree(dest, [first, "backend.models", "backend.db"])
        assert error is None
        users = ddl["users [postgresql]"]
        assert "email VARCHAR(255) NOT NULL" in users and "password_hash VARCHAR(255) NOT NULL" in users
