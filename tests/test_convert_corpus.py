"""DDL identity of the legacy -> Mapped converter on a corpus of realistic legacy model modules."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods._lookup import model_sites
from codemods.convert import convert_module_text

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "merge_legacy_corpus"
PACKAGE = "legacy_corpus"

# Imports every module of the package in a fresh interpreter, configures the mappers, and prints
# CREATE TABLE + CREATE INDEX per table and dialect (a compile error is recorded as a value).
PROBE = r'''
import importlib, json, pkgutil, re, sys
from sqlalchemy import MetaData
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import configure_mappers
from sqlalchemy.schema import CreateIndex, CreateTable

pkg = importlib.import_module(sys.argv[1])
mods = [importlib.import_module(f"{pkg.__name__}.{m.name}") for m in pkgutil.iter_modules(pkg.__path__)]
configure_mappers()
metas = {}
for mod in mods:
    for value in list(vars(mod).values()):
        md = value if isinstance(value, MetaData) else getattr(value, "metadata", None)
        if isinstance(md, MetaData):
            metas[id(md)] = md
out = {}
for md in metas.values():
    for table in md.sorted_tables:
        for name, dialect in (("sqlite", sqlite.dialect()), ("postgresql", postgresql.dialect()),
                              ("mysql", mysql.dialect())):
            try:
                ddl = str(CreateTable(table).compile(dialect=dialect)).strip()
                ddl += "\n" + "\n".join(sorted(str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes))
            except Exception as exc:
                ddl = "error " + type(exc).__name__ + ": " + re.sub(r" at 0x[0-9a-f]+", "", str(exc))
            out[f"{table.name} [{name}]"] = ddl
for mod in mods:
    for value in list(vars(mod).values()):
        mapper = getattr(value, "__mapper__", None)
        if mapper is None or getattr(value, "__module__", None) != mod.__name__:
            continue
        for rel in mapper.relationships:
            coll = rel.collection_class.__name__ if rel.uselist and rel.collection_class else "list"
            out[f"{value.__name__}.{rel.key} [relationship]"] = (
                f"{rel.direction.name} uselist={rel.uselist} collection={coll if rel.uselist else '-'} "
                f"lazy={rel.lazy} target={rel.mapper.class_.__name__}"
            )
print(json.dumps(out, sort_keys=True))
'''


def ddl_of(tree: Path) -> dict[str, str]:
    """DDL per table and dialect of the corpus package under `tree`, computed in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, PACKAGE], cwd=tree, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, str] = json.loads(proc.stdout)
    return result


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
    sites = model_sites(after)
    texts = {}
    for path in sorted((after / PACKAGE).glob("*.py")):
        module = f"{PACKAGE}.{path.stem}"
        new, _notes, _classes = convert_module_text(path.read_text(), module, sites)
        path.write_text(new)
        texts[path.stem] = new
    return before, after, texts


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
    sites = model_sites(after)
    for stem, text in texts.items():
        again, _, classes = convert_module_text(text, f"{PACKAGE}.{stem}", sites)
        assert again == text
        assert classes == []
