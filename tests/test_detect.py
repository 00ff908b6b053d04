"""detect: every declarative style, grouping rules and file selection, on small real trees."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from codemods.detect import detect
from codemods.index import build_index, find_model
from codemods.types import ModelfoldError


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def group_refs(root: Path) -> list[tuple[str, str | None, list[str]]]:
    return [(g.key, g.table, [m.ref for m in g.models]) for g in detect(root).groups]


TWO_USERS = """
    from sqlalchemy import Column, Integer, String
    from {base_module} import {base_name}

    class User({base_expr}):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String(50))
"""

BASE_STYLES = {
    "DeclarativeBase subclass": (
        "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "Base", "Base",
    ),
    "declarative_base()": (
        "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n", "Base", "Base",
    ),
    "legacy ext.declarative": (
        "from sqlalchemy.ext.declarative import declarative_base\nBase = declarative_base()\n",
        "Base", "Base",
    ),
    "registry().generate_base()": (
        "from sqlalchemy.orm import registry\nmapper_registry = registry()\n"
        + "Base = mapper_registry.generate_base()\n",
        "Base", "Base",
    ),
    "@as_declarative()": (
        "from sqlalchemy.orm import as_declarative\n@as_declarative()\nclass Base:\n    pass\n",
        "Base", "Base",
    ),
    "Flask-SQLAlchemy db.Model": (
        "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n", "db", "db.Model",
    ),
}


@pytest.mark.parametrize("style", sorted(BASE_STYLES))
def test_each_base_style_groups_two_classes_on_one_table(tmp_path: Path, style: str) -> None:
    base_src, base_name, base_expr = BASE_STYLES[style]
    user = TWO_USERS.format(base_module="app.db", base_name=base_name, base_expr=base_expr)
    write_tree(tmp_path, {
        "app/__init__.py": "", "app/db.py": base_src,
        "app/a/__init__.py": "", "app/a/models.py": user,
        "app/b/__init__.py": "", "app/b/models.py": user,
    })
    assert group_refs(tmp_path) == [("table", "users", ["app.a.models:User", "app.b.models:User"])]
    assert len(build_index(tmp_path).bases) == 1


def test_registry_mapped_decorator(tmp_path: Path) -> None:
    model = """
        from sqlalchemy.orm import Mapped, mapped_column
        from app.db import reg

        @reg.mapped
        class User:
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
    """
    write_tree(tmp_path, {
        "app/__init__.py": "", "app/db.py": "from sqlalchemy.orm import registry\nreg = registry()\n",
        "app/a.py": model, "app/b.py": model,
    })
    assert group_refs(tmp_path) == [("table", "users", ["app.a:User", "app.b:User"])]


def test_sqlmodel_only_table_classes_are_models(tmp_path: Path) -> None:
    src = """
        from sqlmodel import Field, SQLModel

        class HeroBase(SQLModel):
            name: str

        class Hero(HeroBase, table=True):
            id: int | None = Field(default=None, primary_key=True)
    """
    write_tree(tmp_path, {"a.py": src, "b.py": src})
    index = build_index(tmp_path)
    assert sorted(m.ref for m in index.models) == ["a:Hero", "b:Hero"]
    assert {m.table for m in index.models} == {"hero"}
    assert group_refs(tmp_path) == [("table", "hero", ["a:Hero", "b:Hero"])]


def test_mixins_and_abstract_bases_across_modules(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "pkg/db.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "pkg/mixins.py": """
            from sqlalchemy import Column, DateTime
            class TimestampMixin:
                created_at = Column(DateTime)
        """,
        "pkg/abstract.py": """
            from sqlalchemy import Column, Integer
            from pkg.db import Base
            class Entity(Base):
                __abstract__ = True
                id = Column(Integer, primary_key=True)
        """,
        "pkg/__init__.py": "from pkg.abstract import Entity as Entity\n",
        "pkg/one.py": """
            from sqlalchemy import Column, String
            from pkg import Entity
            from pkg.mixins import TimestampMixin
            class Account(TimestampMixin, Entity):
                __tablename__ = "accounts"
                name = Column(String(20))
        """,
        "pkg/two.py": """
            from sqlalchemy.orm import Mapped, mapped_column
            from pkg.abstract import Entity as E
            class Account(E):
                __tablename__ = "accounts"
                name: Mapped[str] = mapped_column()
        """,
    })
    index = build_index(tmp_path)
    assert sorted(m.ref for m in index.models) == ["pkg.one:Account", "pkg.two:Account"]
    assert {m.metadata for m in index.models} == {"pkg.db.Base"}
    (group,) = detect(tmp_path).groups
    assert group.canonical == "pkg.two:Account"
    assert group.differing == ("name",)


def test_imperative_tables_on_one_metadata(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "meta.py": "from sqlalchemy import MetaData\nmetadata_obj = MetaData()\n",
        "a.py": """
            import sqlalchemy as sa
            from meta import metadata_obj
            users = sa.Table("users", metadata_obj, sa.Column("id", sa.Integer, primary_key=True))
        """,
        "b.py": """
            from sqlalchemy import Table, Column, Integer
            import meta
            user_table = Table("users", meta.metadata_obj, Column("id", Integer, primary_key=True))
            other = Table("other", meta.metadata_obj)
        """,
    })
    assert group_refs(tmp_path) == [("table", "users", ["a:users", "b:user_table"])]


def test_same_table_in_two_metadatas_is_shown_marked_as_such(tmp_path: Path) -> None:
    """Not a clash at run time, but two models of one table (issue 11): one group, marked."""
    base = "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n"
    write_tree(tmp_path, {
        "one/__init__.py": "", "one/db.py": base,
        "one/models.py": TWO_USERS.format(base_module="one.db", base_name="Base", base_expr="Base"),
        "two/__init__.py": "", "two/db.py": base,
        "two/models.py": TWO_USERS.format(base_module="two.db", base_name="Base", base_expr="Base"),
    })
    assert group_refs(tmp_path) == [("table", "users", ["one.models:User", "two.models:User"])]
    assert [g.across_metadata for g in detect(tmp_path).groups] == [True]


def test_same_class_name_in_one_registry_on_different_tables(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "db.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "a.py": TWO_USERS.format(base_module="db", base_name="Base", base_expr="Base"),
        "b.py": TWO_USERS.format(base_module="db", base_name="Base", base_expr="Base").replace(
            '"users"', '"app_users"'
        ),
    })
    assert group_refs(tmp_path) == [("class_name", None, ["a:User", "b:User"])]


def test_unresolvable_base_groups_by_table_and_says_so(tmp_path: Path) -> None:
    user = TWO_USERS.format(base_module="outside_lib", base_name="Base", base_expr="Base")
    write_tree(tmp_path, {"a.py": user, "b.py": user})
    (group,) = detect(tmp_path).groups
    assert not group.resolved
    assert group.note is not None and "could not be resolved statically" in group.note


def test_plain_class_with_tablename_is_not_a_model(tmp_path: Path) -> None:
    plain = """
        class User:
            __tablename__ = "users"
            id = 1
    """
    write_tree(tmp_path, {"a.py": plain, "b.py": plain})
    assert build_index(tmp_path).models == ()
    assert group_refs(tmp_path) == []


def test_syntax_error_is_skipped_and_the_run_goes_on(tmp_path: Path) -> None:
    user = TWO_USERS.format(base_module="db", base_name="Base", base_expr="Base")
    write_tree(tmp_path, {
        "db.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "a.py": user, "b.py": user,
        "broken.py": "from sqlalchemy import Column\nclass Broken(:\n    id = Column()\n",
    })
    result = detect(tmp_path)
    assert [s.path for s in result.index.skipped] == ["broken.py"]
    assert "syntax error (line 2)" in result.index.skipped[0].reason
    assert len(result.groups) == 1


def test_match_statements_and_modern_syntax_parse(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "db.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "m.py": """
            from sqlalchemy import Column, Integer
            from db import Base
            Pair = tuple[int, int]
            class T(Base):
                __tablename__ = "t"
                id = Column(Integer, primary_key=True)
                def kind(self) -> str:
                    match self.id:
                        case 0:
                            return "zero"
                        case _:
                            return f"{self.id!r:>3}"
        """,
    })
    assert [m.ref for m in build_index(tmp_path).models] == ["m:T"]


def test_git_tree_skips_ignored_files_and_walk_skips_venvs(tmp_path: Path) -> None:
    user = TWO_USERS.format(base_module="db", base_name="Base", base_expr="Base")
    files = {
        "db.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "a.py": user, "generated/b.py": user, ".venv/lib/c.py": user, "build/d.py": user,
    }
    write_tree(tmp_path, files)
    assert group_refs(tmp_path) == [("table", "users", ["a:User", "generated.b:User"])]
    assert group_refs_excluding(tmp_path, ["generated/*"]) == []
    (tmp_path / ".gitignore").write_text("generated/\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "build/d.py").unlink()
    assert group_refs(tmp_path) == []  # generated/ is ignored; an un-ignored .venv/ is still skipped


def group_refs_excluding(root: Path, excludes: list[str]) -> list[list[str]]:
    return [[m.ref for m in g.models] for g in detect(root, excludes).groups]


def test_symlink_out_of_the_root_is_not_followed(tmp_path: Path) -> None:
    user = TWO_USERS.format(base_module="db", base_name="Base", base_expr="Base")
    outside = write_tree(tmp_path / "outside", {"b.py": user})
    root = write_tree(tmp_path / "root", {
        "db.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "a.py": user,
    })
    (root / "linked.py").symlink_to(outside / "b.py")
    assert group_refs(root) == []


def test_src_layout_and_namespace_packages_give_import_names(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "src/shop/__init__.py": "",
        "src/shop/db.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "src/shop/orders/models.py": TWO_USERS.format(
            base_module="shop.db", base_name="Base", base_expr="Base"
        ),
        "src/shop/legacy.py": TWO_USERS.format(base_module="shop.db", base_name="Base", base_expr="Base"),
    })
    assert group_refs(tmp_path) == [("table", "users", ["shop.legacy:User", "shop.orders.models:User"])]


def test_find_model_refuses_unknown_and_non_models(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "db.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n",
        "a.py": TWO_USERS.format(base_module="db", base_name="Base", base_expr="Base"),
        "helpers.py": "class Helper:\n    pass\n",
    })
    index = build_index(tmp_path)
    assert find_model(index, "a:User").table == "users"
    for ref, message in [
        ("helpers:Helper", "is not a mapped model class"),
        ("a:Nope", "is not a mapped model class"),
        ("nowhere:User", "no module 'nowhere'"),
        ("a.User", "expected dotted.module:ClassName"),
    ]:
        with pytest.raises(ModelfoldError, match=message):
            find_model(index, ref)


def test_a_base_imported_in_a_try_else_block_is_followed(tmp_path: Path) -> None:
    """The index reads a try's `else` like its body: one definition of a module's statements."""
    guarded = """
        from sqlalchemy import Column, Integer
        try:
            import orjson
        except ImportError:
            orjson = None
        else:
            from app.db import Base

        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
    """
    write_tree(tmp_path, {
        "app/__init__.py": "", "app/db.py": BASE_STYLES["declarative_base()"][0],
        "app/a/__init__.py": "", "app/a/models.py": guarded,
        "app/b/__init__.py": "", "app/b/models.py": TWO_USERS.format(
            base_module="app.db", base_name="Base", base_expr="Base"),
    })
    groups = detect(tmp_path).groups
    assert [(g.table, [m.ref for m in g.models], g.resolved) for g in groups] == [
        ("users", ["app.a.models:User", "app.b.models:User"], True)]
