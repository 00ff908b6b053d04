"""DDL identity of the legacy -> Mapped converter on a corpus of realistic legacy model modules."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from codemods.convert import convert_module_text
from codemods.index import build_index
from codemods.index._lookup import model_sites

from support.ddl_probe import probe_tree

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "merge_legacy_corpus"
PACKAGE = "legacy_corpus"

def ddl_of(tree: Path) -> dict[str, str]:
    """DDL per table and dialect, and relationship behaviour, of the corpus package under `tree`."""
    modules = sorted(f"{PACKAGE}.{p.stem}" for p in (tree / PACKAGE).glob("*.py") if p.stem != "__init__")
    ddl, error = probe_tree(tree, modules, relationships=True)
    assert error is None, error
    return ddl


def legacy_assignments(text: str) -> list[str]:
    """`name = Column(...)` / `name = relationship(...)` left in classes that have a __tablename__."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.ClassDef):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                func = stmt.value.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("Column", "relationship", "mapped_column"):
                    found.append(f"{node.name}.{ast.unparse(stmt.targets[0])}")
    return found


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("corpus")
    before, after = base / "before", base / "after"
    shutil.copytree(CORPUS, before)
    shutil.copytree(CORPUS, after)
    sites = model_sites(build_index(after).models)
    texts = {}
    for path in sorted((after / PACKAGE).glob("*.py")):
        module = f"{PACKAGE}.{path.stem}"
        new, _notes, _classes = convert_module_text(path.read_text(), module, sites)
        path.write_text(new)
        texts[path.stem] = new
    return before, after, texts


@pytest.mark.slow
def test_corpus_ddl_is_identical_for_sqlite_postgresql_mysql(converted: tuple[Path, Path, dict[str, str]]) -> None:
    before, after, _ = converted
    old, new = ddl_of(before), ddl_of(after)
    tables = [k for k in old if not k.endswith("[relationship]")]
    assert len(tables) == 3 * 16  # 16 tables, three dialects
    assert sum(k.endswith("[relationship]") for k in old) >= 20  # direction/uselist/collection/lazy
    assert sum("CREATE TABLE" in v for v in old.values()) >= 45
    for key in sorted(old):
        assert new[key] == old[key], key
    assert old == new


def test_every_model_attribute_is_annotated(converted: tuple[Path, Path, dict[str, str]]) -> None:
    _, _, texts = converted
    for stem, text in texts.items():
        assert legacy_assignments(text) == [], stem


def test_conversion_is_idempotent(converted: tuple[Path, Path, dict[str, str]]) -> None:
    _, after, texts = converted
    sites = model_sites(build_index(after).models)
    for stem, text in texts.items():
        again, _, classes = convert_module_text(text, f"{PACKAGE}.{stem}", sites)
        assert again == text
        assert classes == []
