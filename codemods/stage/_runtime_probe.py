"""Run inside a fresh interpreter of the target tree (source passed with `-c`, spec on stdin).

Imports the given modules in order (going on past failures), runs `configure_mappers()`, checks
that each table of each MetaData is mapped by one class, compiles `CreateTable` for sqlite,
postgresql and mysql, and, with a database URL, compares the metadata with the live tables
through alembic. Prints one JSON line after the marker. Read as text by `check_runtime`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any

MARKER = "@@MODELFOLD-RUNTIME@@"
DIALECTS = ("sqlite", "postgresql", "mysql")


def _error(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {' '.join(text.split())}" if text else type(exc).__name__


def _where(exc: BaseException, roots: list[str]) -> str | None:
    """The innermost traceback frame in the target tree, as `path:line` relative to the cwd."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        inside = any(path.startswith(r + os.sep) for r in roots) and os.path.isfile(path)
        if inside and "site-packages" not in path:
            found = f"{os.path.relpath(path)}:{frame.lineno}"
    return found


def _mapped(roots: list[str]) -> list[dict[str, Any]]:
    """Every mapped class and bare Table reachable from the target's modules, once each."""
    from sqlalchemy import Table
    from sqlalchemy import inspect as sa_inspect

    seen: set[int] = set()
    out: list[dict[str, Any]] = []
    for module in list(sys.modules.values()):
        path = os.path.abspath(getattr(module, "__file__", None) or "")
        if not any(path.startswith(r + os.sep) for r in roots):
            continue
        for value in list(vars(module).values()):
            if id(value) in seen:
                continue
            if isinstance(value, Table):
                seen.add(id(value))
                out.append({"class": None, "table": value, "where": os.path.relpath(path)})
                continue
            if not isinstance(value, type) or "__mapper__" not in dir(value):
                continue
            try:
                mapper: Any = sa_inspect(value)
            except Exception:  # noqa: BLE001 -- not a mapped class after all
                continue
            seen.add(id(value))
            inherits = mapper.inherits
            if inherits is not None and mapper.local_table is inherits.local_table:
                continue  # single-table inheritance shares its parent's table by design
            source = sys.modules.get(value.__module__)
            file = os.path.relpath(getattr(source, "__file__", None) or path)
            line = getattr(value, "__firstlineno__", None) or _class_line(file, value.__name__)
            out.append({"class": f"{value.__module__}:{value.__qualname__}", "table": mapper.local_table,
                        "where": f"{file}:{line}" if line else file})
    return out


def _class_line(file: str, name: str) -> int | None:
    try:
        with open(file, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.lstrip().startswith(f"class {name}(") or line.lstrip().startswith(f"class {name}:"):
                    return number
    except OSError:
        return None
    return None


def _tables(mapped: list[dict[str, Any]], failures: list[dict[str, Any]]) -> dict[str, Any]:
    """Group by (metadata, table): who maps each; compile each table's DDL for every dialect."""
    from sqlalchemy import MetaData
    from sqlalchemy.dialects import registry
    from sqlalchemy.schema import CreateTable

    dialects = {name: registry.load(name)() for name in DIALECTS}
    metadatas: list[Any] = []
    owners: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for item in mapped:
        table = item["table"]
        if not isinstance(table.metadata, MetaData):
            continue
        if table.metadata not in metadatas:
            metadatas.append(table.metadata)
        owners.setdefault((metadatas.index(table.metadata), table.fullname), []).append(item)
    for (n, name), items in sorted(owners.items()):
        classes = [i for i in items if i["class"]]
        if len(classes) > 1:
            failures.append({"stage": "one class per table",
                             "error": f"table '{name}' of MetaData #{n} is mapped by {len(classes)} classes",
                             "classes": [f"{i['class']} ({i['where']})" for i in classes]})
    keys: list[str] = []
    for n, metadata in enumerate(metadatas):
        for table in metadata.sorted_tables:
            key = table.fullname if n == 0 else f"{table.fullname}@{n}"
            for dialect_name in DIALECTS:
                try:
                    str(CreateTable(table).compile(dialect=dialects[dialect_name]))
                except Exception as exc:  # noqa: BLE001 -- a type a dialect cannot render, a bad FK...
                    failures.append({"stage": f"CreateTable({key}) for {dialect_name}", "error": _error(exc)})
            keys.append(key)
    classes = [{"class": i["class"], "table": i["table"].fullname, "where": i["where"]} for i in mapped if i["class"]]
    return {"metadatas": len(metadatas), "tables": sorted(keys), "classes": classes, "_metadatas": metadatas}


def _compare(url: str, metadatas: list[Any]) -> list[str]:
    """alembic's comparison of the tables the metadata defines with the live database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData, create_engine

    combined = MetaData()
    for metadata in metadatas:
        for table in metadata.sorted_tables:
            if table.key not in combined.tables:
                table.to_metadata(combined)
    names = set(combined.tables)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            diffs = compare_metadata(ctx, combined)
    finally:
        engine.dispose()
    out: list[str] = []
    for diff in diffs:
        for op in diff if isinstance(diff, list) else [diff]:
            if op[0] == "remove_table" and op[1].name not in names:
                continue  # a table of the database the models do not describe (alembic_version...)
            out.append(_describe(op))
    return out


def _describe(op: tuple[Any, ...]) -> str:
    kind = op[0]
    if kind in ("add_column", "remove_column"):
        return f"{kind} {op[2]}.{op[3].name} {op[3].type}"
    if kind in ("add_table", "remove_table"):
        return f"{kind} {op[1].name}"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return f"{kind} {op[1].name} on {op[1].table.name}"
    if kind.startswith("modify_"):
        return f"{kind} {op[2]}.{op[3]}: {op[-2]} -> {op[-1]}"
    return " ".join(str(part) for part in op)


def main() -> None:
    """Read the spec, import, configure, check; always print one result line."""
    spec = json.loads(sys.stdin.read())
    sys.path[:0] = spec["path"]
    roots = [os.path.abspath(p) for p in spec["path"]]
    result: dict[str, Any] = {"failures": [], "imported": [], "tables": [], "classes": [], "database": None}
    failures: list[dict[str, Any]] = result["failures"]
    for name in spec["modules"]:
        try:
            importlib.import_module(name)
            result["imported"].append(name)
        except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
            failures.append({"stage": f"import {name}", "error": _error(exc), "where": _where(exc, roots)})
    try:
        from sqlalchemy.orm import configure_mappers

        configure_mappers()
    except BaseException as exc:  # noqa: BLE001 -- the target's code may raise anything
        failures.append({"stage": "configure_mappers()", "error": _error(exc), "where": _where(exc, roots)})
    info = _tables(_mapped(roots), failures)
    result["tables"], result["classes"] = info["tables"], info["classes"]
    if spec.get("database_url"):
        try:
            result["database"] = _compare(spec["database_url"], info["_metadatas"])
        except BaseException as exc:  # noqa: BLE001 -- a driver missing, a server down...
            failures.append({"stage": "database comparison", "error": _error(exc)})
    sys.stdout.write("\n" + MARKER + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
