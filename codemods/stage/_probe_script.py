"""Run inside a fresh interpreter of the target tree (source passed with `-c`, spec on stdin).

Imports modules in the given order, optionally configures the mappers, and prints the DDL of
every table of every MetaData reachable from the given model classes, as one JSON line.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

MARKER = "@@MODELFOLD-PROBE@@"


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write("\n" + MARKER + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


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


def main() -> None:
    """Read the spec, import, configure, dump; always print one result line."""
    spec = json.loads(sys.stdin.read())
    sys.path[:0] = spec["path"]
    result: dict[str, Any] = {"failed": None, "errors": [], "tables": {}, "owner": {}}
    for name in spec["modules"]:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
            result["failed"] = f"import {name}: {_error(exc)}"
            _emit(result)
            return
    for name in spec["optional"]:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
            result["errors"].append(f"import {name}: {_error(exc)}")
    if spec["configure"]:
        from sqlalchemy.orm import configure_mappers

        try:
            configure_mappers()
        except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
            result["failed"] = f"configure_mappers(): {_error(exc)}"
            _emit(result)
            return
    result["tables"], result["owner"] = _tables(spec["models"])
    _emit(result)


if __name__ == "__main__":
    main()
