"""Run inside a fresh interpreter of the target tree (source passed with `-c`, spec file as argv[1]).

Imports each module with its own source root first on `sys.path`, records one outcome per module
(imported, failed with an exception, or resolved to a file other than the tree's), optionally
configures the mappers, and prints the DDL of every table reachable from the given model classes,
as one JSON line. A finder placed first on `sys.meta_path` resolves the tree's top-level names
inside the tree, so an editable install of the project (a `.pth` path or an import hook pointing
at the user's checkout) cannot shadow the scratch copy.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import sys
from typing import Any

MARKER = "@@MODELFOLD-PROBE@@"


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write("\n" + MARKER + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


class TreeFinder:
    """Find the tree's top-level packages in the tree's roots only (never an installed copy)."""

    def __init__(self, tops: dict[str, str]) -> None:
        self.tops = tops  # top-level name -> the root it must come from

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        """A spec from the tree's root for a top-level name the tree defines; None otherwise."""
        if path is not None or name not in self.tops:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, [self.tops[name]])
        if spec is None or spec.origin is None:  # a namespace portion: the normal search merges it
            return None
        return spec


def _table_info(table: Any) -> dict[str, Any]:
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateColumn, CreateIndex, CreateTable

    dialect = sqlite.dialect()
    try:
        ddl = str(CreateTable(table).compile(dialect=dialect)).strip()
        columns = {
            c.name: str(CreateColumn(c).compile(dialect=dialect)).strip() for c in table.columns
        }
        indexes = sorted(
            str(CreateIndex(i).compile(dialect=dialect)).strip() for i in table.indexes
        )
    except Exception as exc:  # noqa: BLE001 -- a type sqlite cannot render, an unresolvable foreign key...
        return {"error": _error(exc)}
    specs = set(columns.values())
    body = ddl[ddl.find("(") + 1 : ddl.rfind(")")]
    lines = [line.strip().rstrip(",").strip() for line in body.split("\n")]
    constraints = sorted(line for line in lines if line and line not in specs)
    full = "\n".join([ddl, *indexes])
    return {"ddl": full, "columns": columns, "constraints": constraints, "indexes": indexes}


def _tables(refs: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    from sqlalchemy import Table

    metadatas: list[Any] = []
    owner: dict[str, str] = {}
    pending: list[tuple[str, Any]] = []
    for ref in refs:
        module_name, _, attr = ref.partition(":")
        obj = getattr(sys.modules.get(module_name), attr, None)
        table = obj if isinstance(obj, Table) else getattr(obj, "__table__", None)
        if not isinstance(table, Table):
            continue
        if table.metadata not in metadatas:
            metadatas.append(table.metadata)
        pending.append((ref, table))
    tables: dict[str, Any] = {}
    keys: dict[int, str] = {}
    for n, metadata in enumerate(metadatas):
        for table in metadata.sorted_tables:
            key = table.fullname if table.fullname not in tables else f"{table.fullname}@{n}"
            keys[id(table)] = key
            tables[key] = _table_info(table)
    for ref, table in pending:
        owner[ref] = keys.get(id(table), table.fullname)
    return tables, owner


def _import(target: dict[str, str]) -> dict[str, Any]:
    """Import one module with its root first on sys.path; where it came from, or why it failed."""
    root = target["root"]
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    try:
        module = importlib.import_module(target["name"])
    except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
        return {"status": "error", "error": _error(exc)}
    found = getattr(module, "__file__", None)
    if found and os.path.realpath(found) != os.path.realpath(target["file"]):
        return {"status": "elsewhere", "error": None, "file": os.path.realpath(found)}
    return {"status": "ok", "error": None}


def main() -> None:
    """Read the spec, import, configure, dump; always print one result line."""
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.path[:0] = spec["path"]
    sys.meta_path.insert(0, TreeFinder(spec["tops"]))
    result: dict[str, Any] = {"failed": None, "modules": {}, "configure": None, "tables": {}, "owner": {}}
    for target in spec["modules"]:
        result["modules"][target["name"]] = _import(target)
    if spec["configure"]:
        try:
            from sqlalchemy.orm import configure_mappers

            configure_mappers()
        except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
            result["configure"] = _error(exc)
    try:
        result["tables"], result["owner"] = _tables(spec["models"])
    except BaseException as exc:  # noqa: BLE001 -- SQLAlchemy missing, a broken metadata...
        result["failed"] = f"reading the tables: {_error(exc)}"
    _emit(result)


if __name__ == "__main__":
    main()
