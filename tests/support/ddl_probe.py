"""Helpers shared by the merge/convert tests: run model modules in a fresh interpreter, get DDL."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = r'''
import importlib, json, re, sys
from sqlalchemy import MetaData
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import configure_mappers
from sqlalchemy.schema import CreateIndex, CreateTable

relationships = sys.argv[1] == "--relationships"
names = sys.argv[2:] if relationships else sys.argv[1:]
out = {"ddl": {}, "error": None}
try:
    mods = [importlib.import_module(name) for name in names]
    configure_mappers()
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out))
    raise SystemExit(0)
metas = {}
for mod in mods:
    for value in list(vars(mod).values()):
        md = value if isinstance(value, MetaData) else getattr(value, "metadata", None)
        if isinstance(md, MetaData):
            metas[id(md)] = md
for md in metas.values():
    for table in md.sorted_tables:
        for name, dialect in (("sqlite", sqlite.dialect()), ("postgresql", postgresql.dialect()),
                              ("mysql", mysql.dialect())):
            try:
                ddl = str(CreateTable(table).compile(dialect=dialect)).strip()
                ddl += "\n" + "\n".join(sorted(str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes))
            except Exception as exc:
                ddl = "error " + type(exc).__name__ + ": " + re.sub(r" at 0x[0-9a-f]+", "", str(exc))
            out["ddl"][f"{table.name} [{name}]"] = ddl
for mod in mods if relationships else []:
    for value in list(vars(mod).values()):
        mapper = getattr(value, "__mapper__", None)
        if mapper is None or getattr(value, "__module__", None) != mod.__name__:
            continue
        for rel in mapper.relationships:
            coll = rel.collection_class.__name__ if rel.uselist and rel.collection_class else "list"
            out["ddl"][f"{value.__name__}.{rel.key} [relationship]"] = (
                f"{rel.direction.name} uselist={rel.uselist} collection={coll if rel.uselist else '-'} "
                f"lazy={rel.lazy} target={rel.mapper.class_.__name__}"
            )
print(json.dumps(out, sort_keys=True))
'''


def probe_tree(
    tree: Path, modules: list[str], relationships: bool = False
) -> tuple[dict[str, str], str | None]:
    """Import `modules` (in this order) from `tree` in a fresh interpreter, configure the mappers.

    Returns (DDL per "table [dialect]", error of import/configure_mappers or None); with
    `relationships`, also each mapped relationship's direction, uselist, collection, lazy, target.
    """
    flag = ["--relationships"] if relationships else []
    proc = subprocess.run(
        [sys.executable, "-B", "-c", PROBE, *flag, *modules], cwd=tree, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    return result["ddl"], result["error"]


def run_models(files: dict[str, str], modules: list[str]) -> tuple[dict[str, str], str | None]:
    """Write `files` (relative path -> text) to a fresh dir and probe `modules` there."""
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in files.items():
            path = Path(tmp, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return probe_tree(Path(tmp), modules)

