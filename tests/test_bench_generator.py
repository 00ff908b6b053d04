"""The monorepo generator and the bench's scorer: determinism, shape, forms, scoring rules."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

REPO = Path(__file__).resolve().parents[1]
GEN_DIR = REPO / "fixtures" / "monorepo_gen"
sys.path[:0] = [str(GEN_DIR), str(REPO / "tests" / "bench")]

import _score  # noqa: E402
import generate  # noqa: E402

OLD = "acme.users.models.User"
CANON = "acme.auth.models.User"
TARGETS = {OLD, "acme.users.User", CANON}

# How each form must appear in its file, written independently of the generator's templates.
FORM_PATTERNS = {
    "from": r"^from acme\.users\.models import User$",
    "from_as": r"^from acme\.users\.models import User as \w+$",
    "from_multi": r"^from acme\.users\.models import \(\n    User,\n    UserStatus,\n\)$",
    "module_alias": r"^import acme\.users\.models as (\w+)$(?s:.*)\b\1\.User\b",
    "from_package_module": r"^from acme\.users import models$(?s:.*)\bmodels\.User\b",
    "dotted": r"^import acme\.users\.models$(?s:.*)\bacme\.users\.models\.User\b",
    "package_reexport": r"^from acme\.users import User$",
    "relative": r"^from \.{1,2}models import User$",
    "type_checking": r"^if TYPE_CHECKING:\n    from acme\.users\.models import User$",
    "function_local": r"^    from acme\.users\.models import User$",
    "relationship_string": r'relationship\("acme\.users\.models\.User"\)',
    "mock_patch": r'mock\.patch\("acme\.users\.models\.User\.\w+"',
    "package_init": r"^from \.models import User, UserStatus$",
}


@pytest.fixture(scope="module")
def small() -> tuple[dict[str, str], generate.Expected]:
    return generate.build_tree(400, seed=7, importers=26)


def test_same_arguments_give_byte_identical_trees(tmp_path: Path) -> None:
    generate.generate(tmp_path / "a", 150, seed=3, importers=13)
    generate.generate(tmp_path / "b", 150, seed=3, importers=13)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    other, _ = generate.build_tree(150, seed=4, importers=13)
    assert other != generate.build_tree(150, seed=3, importers=13)[0]


@pytest.mark.slow
def test_exact_file_count_and_every_file_parses(small: tuple[dict[str, str], generate.Expected]) -> None:
    tree, _ = small
    assert len(tree) == 400
    assert all(p.endswith(".py") for p in tree)
    for path, text in tree.items():
        ast.parse(text, filename=path)
        assert cst.parse_module(text).code == text


def test_every_directory_is_a_package(small: tuple[dict[str, str], generate.Expected]) -> None:
    tree, _ = small
    for path in tree:
        parent = path.rpartition("/")[0]
        assert f"{parent}/__init__.py" in tree, path


def test_seed_scenario_models(small: tuple[dict[str, str], generate.Expected]) -> None:
    tree, expected = small
    legacy = tree[expected.old_path]
    modern = tree[expected.canonical_path]
    assert "class Base(DeclarativeBase):" in tree["acme/db.py"]
    assert 'class User(Base):\n    __tablename__ = "users"' in legacy
    assert 'class User(Base):\n    __tablename__ = "users"' in modern
    assert "email = Column(String(255)" in legacy
    assert "email: Mapped[str] = mapped_column(" in modern
    assert "from acme.users.models import UserStatus" in modern  # the cycle a naive shim creates
    pointing = [p for p, t in tree.items() if 'relationship("User", back_populates=' in t]
    assert len(pointing) == 7  # six related models and api_keys


def test_expected_set_lists_each_form_where_it_is_written(
    small: tuple[dict[str, str], generate.Expected],
) -> None:
    tree, expected = small
    forms = [r.form for r in expected.references]
    assert set(forms) == set(FORM_PATTERNS)
    assert forms.count("package_init") == 1
    assert all(forms.count(f) >= 2 for f in FORM_PATTERNS if f != "package_init")
    assert len(expected.references) == 26 + 1
    for ref in expected.references:
        assert re.search(FORM_PATTERNS[ref.form], tree[ref.path], re.M), (ref.form, ref.path)
        assert _score.class_references(tree[ref.path], ref.path, TARGETS) == (
            {"acme.users.User"} if ref.form == "package_reexport" else {OLD}
        ), ref.path


def test_unlisted_files_never_reference_the_old_class(
    small: tuple[dict[str, str], generate.Expected],
) -> None:
    tree, expected = small
    listed = {r.path for r in expected.references} | {expected.old_path, expected.canonical_path}
    for path, text in tree.items():
        if path not in listed:
            if path != "acme/models.py":  # the registry imports the old module, not the class
                assert "acme.users" not in text, path
            assert not _score.class_references(text, path, TARGETS), path


def test_lookalikes_and_other_user_classes_are_present(
    small: tuple[dict[str, str], generate.Expected],
) -> None:
    tree, expected = small
    listed = {r.path for r in expected.references}
    unrelated = {p: t for p, t in tree.items() if p not in listed}
    assert any("user_count" in t and "UserRole" in t for t in unrelated.values())
    assert any("from acme.schemas.user import User" in t for t in unrelated.values())
    assert any(re.search(r"^from \.models import Entry, Record$", t, re.M) for t in unrelated.values())
    assert any("match event:" in t for t in tree.values())
    assert any("TypeAlias = " in t for t in tree.values())
    assert all("UserRole" in tree[r.path] for r in expected.references
               if r.form not in ("relationship_string", "package_init"))


def test_importers_do_not_depend_on_tree_size() -> None:
    tree_a, exp_a = generate.build_tree(300, seed=5, importers=12)
    tree_b, exp_b = generate.build_tree(600, seed=5, importers=12)
    assert exp_a.references == exp_b.references
    for ref in exp_a.references:
        assert tree_a[ref.path] == tree_b[ref.path]
    assert all(tree_b[p] == t for p, t in tree_a.items())  # the big tree only adds files
    assert len(tree_b) == 600


def test_too_few_files_is_an_error() -> None:
    with pytest.raises(ValueError, match="too small"):
        generate.build_tree(30, seed=1, importers=30)


def test_script_writes_tree_and_expected_json(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    script = str(GEN_DIR / "generate.py")
    done = subprocess.run([sys.executable, script, str(out), "--files", "120", "--seed", "2"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(list(out.rglob("*.py"))) == 120
    expected = generate.load_expected(out)
    assert expected.files == 120 and len(expected.references) == 1 + round(120 * 0.03)
    again = subprocess.run([sys.executable, script, str(out), "--files", "120"],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_generated_tree_reproduces_the_duplicate_table_error(tmp_path: Path) -> None:
    generate.generate(tmp_path, 120, seed=1, importers=4)
    probe = "import acme.models"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0
    assert "Table 'users' is already defined" in done.stderr


# --- the scorer (tests/bench/_score.py) ------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "text", "found"),
    [
        ("acme/a/x.py", "from acme.auth.models import User\n", {CANON}),
        ("acme/a/x.py", "from acme.auth.models import UserRole\nUserRole\n", set()),
        ("acme/a/x.py", "import acme.users.models as m\nm.User\n", {OLD}),
        ("acme/a/x.py", "import acme.users.models\nf'{acme.users.models.User.__name__}'\n", {OLD}),
        ("acme/a/x.py", "from acme.users import models\nmodels.User\n", {OLD}),
        ("acme/a/x.py", "from acme.users import User\n", {"acme.users.User"}),
        ("acme/users/x.py", "from .models import User\n", {OLD}),
        ("acme/users/h/x.py", "from ..models import User\n", {OLD}),
        ("acme/users/__init__.py", "from .models import User\n", {OLD}),
        ("acme/billing0/x.py", "from .models import User\n", set()),
        ("acme/a/x.py", "p = 'acme.users.models.User.deactivate'\n", {OLD}),
        ("acme/a/x.py", "p = 'acme.users.models.UserStatus'\n", set()),
        ("acme/a/x.py", "from acme.schemas.user import User\n", set()),
        # `import a.b.c` binds `a`: a leftover old dotted use still counts against the tool.
        ("acme/a/x.py", "import acme.auth.models\nacme.auth.models.User\nacme.users.models.User\n",
         {CANON, OLD}),
    ],
)
def test_class_references(path: str, text: str, found: set[str]) -> None:
    assert _score.class_references(text, path, TARGETS) == found


def test_unparsable_output_is_reported_as_none() -> None:
    assert _score.class_references("def (:\n", "acme/a/x.py", TARGETS) is None


def test_score_of_untouched_and_hand_fixed_trees(tmp_path: Path) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    expected = generate.generate(before, 140, seed=9, importers=12)
    generate.generate(after, 140, seed=9, importers=12)
    untouched = _score.score_tree(before, after, expected)
    assert untouched.right_count == 0 and untouched.total_count == 13
    assert not untouched.collateral and not untouched.broken
    by_form = {r.form: r.path for r in expected.references}
    # Hand-fix three forms the way a correct tool would, break one file, damage a look-alike.
    fix = after / by_form["from"]
    fix.write_text(fix.read_text().replace("from acme.users.models import User",
                                           "from acme.auth.models import User"))
    fix = after / by_form["mock_patch"]
    fix.write_text(fix.read_text().replace("acme.users.models.User", "acme.auth.models.User"))
    fix = after / by_form["dotted"]
    fix.write_text(fix.read_text().replace("acme.users.models", "acme.auth.models"))
    bad = after / by_form["from_as"]
    bad.write_text(bad.read_text().replace("import User as", "import User as (("))
    lookalike = after / by_form["relative"]
    fixed = re.sub(r"from \.+models import User", "from acme.auth.models import User",
                   lookalike.read_text())
    lookalike.write_text(fixed.replace("UserRole", "AuthUserRole"))
    collateral = after / "acme" / "db.py"
    collateral.write_text(collateral.read_text() + "# touched\n")
    score = _score.score_tree(before, after, expected)
    assert score.right_count == 3
    assert {f for f, n in score.right.items() if n} == {"from", "mock_patch", "dotted"}
    assert score.broken == [by_form["from_as"]]
    assert by_form["relative"] in score.wrong
    assert score.collateral == ["acme/db.py"]


def test_two_bases_shape_is_the_incident() -> None:
    tree, expected = generate.build_tree(200, seed=7, importers=13, two_bases=True)
    assert expected.two_bases
    assert "class ModernBase(DeclarativeBase):" in tree["acme/db.py"]
    assert "Base = declarative_base()" in tree["acme/db.py"]
    assert 'class User(ModernBase):\n    __tablename__ = "users"' in tree[expected.canonical_path]
    legacy = tree[expected.old_path]
    assert 'class User(Base):\n    __tablename__ = "users"' in legacy
    assert "class UserProfile(Base):" in legacy and 'relationship("UserProfile"' in legacy
    assert "class ApiKey(Base):" in tree["acme/api_keys/models.py"]
    assert "class TrustScore(ModernBase):" in tree["acme/trust/models.py"]
    # the default shape is unchanged by the option
    assert generate.build_tree(200, seed=7, importers=13)[0] == generate.build_tree(
        200, seed=7, importers=13, two_bases=False)[0]


@pytest.mark.slow
def test_scorer_configures_the_output_of_the_two_bases_shape(tmp_path: Path) -> None:
    from codemods.diff import apply_changeset
    from codemods.index import find_model, index_files
    from codemods.merge import merge
    from codemods.migrate import plan_migration
    from codemods.rewrite import rewrite
    from codemods.scan import source_files
    from codemods.types import Consolidation

    before, old_output, ours = tmp_path / "before", tmp_path / "old", tmp_path / "ours"
    expected = generate.generate(before, 160, seed=4, importers=13, two_bases=True)
    for tree in (old_output, ours):
        generate.generate(tree, 160, seed=4, importers=13, two_bases=True)
    assert "is not acme.auth.models.User" in _score.configure_error(before, expected)
    # merge + rewrite alone (the output issue 19 reported) does not configure, and the scorer says so
    files = source_files(old_output)
    index = index_files(old_output, files)
    fold = Consolidation(find_model(index, expected.canonical_ref), (find_model(index, expected.old_ref),))
    apply_changeset(old_output, rewrite(fold, merge(fold, old_output, index), old_output, files))
    assert "failed to locate a name" in _score.configure_error(old_output, expected)
    migration = plan_migration(ours, expected.canonical_ref, [expected.old_ref])
    assert {m.class_name for m in migration.registry_moves} >= {"UserProfile", "ApiKey"}
    apply_changeset(ours, migration.changeset)
    assert _score.configure_error(ours, expected) == ""
    score = _score.score_tree(before, ours, expected)
    assert score.right_count == score.total_count and not score.broken
    assert score.collateral == []  # ApiKey's module changes, as expected.rebased says
