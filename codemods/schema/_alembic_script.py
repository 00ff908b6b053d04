"""Run inside a fresh interpreter of the migrated scratch tree (source passed with `-c`, spec on stdin).

Writes a new alembic revision with alembic's own API: upgrade a scratch SQLite database to head,
autogenerate against the project's metadata, keep only the consolidated tables' operations. When
the project's env.py cannot run that way, render the operations of the schema delta instead
(the merged table's own columns) into a revision made from the project's template. Prints one
JSON line after the marker. Read as text by `alembic_support`.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

MARKER = "@@MODELFOLD-ALEMBIC@@"


def _error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _describe(op: Any) -> str:
    """`add_column tasks.worker_host`, `create_index ix_tasks_worker_host`: one operation in words."""
    inner = getattr(op, "ops", None)
    if inner is not None:  # ModifyTableOps: the table's own operations
        return "; ".join(_describe(o) for o in inner)
    words = type(op).__name__.removesuffix("Op")
    verb = "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in words).lstrip("_")
    column = getattr(op, "column", None)
    name = (getattr(column, "name", None) or getattr(op, "column_name", None) or getattr(op, "index_name", None)
            or getattr(op, "constraint_name", None) or "")
    table = getattr(op, "table_name", "")
    return f"{verb} {table}.{name}" if name and "index" not in verb else f"{verb} {name or table}"


def _config(spec: dict[str, Any]) -> Any:
    from alembic.config import Config

    config = Config(spec["ini"]) if spec["ini"] else Config()
    if not spec["ini"]:
        config.set_main_option("script_location", spec["script_location"])
    config.set_main_option("sqlalchemy.url", spec["url"])
    return config


def _autogenerate(spec: dict[str, Any]) -> dict[str, Any]:
    from alembic import command

    config = _config(spec)
    tables = set(spec["tables"])
    kept: list[str] = []

    def keep_consolidated(context: Any, revision: Any, directives: list[Any]) -> None:
        script = directives[0]
        for ops in (script.upgrade_ops, script.downgrade_ops):
            ops.ops[:] = [op for op in ops.ops if getattr(op, "table_name", None) in tables]
        kept.extend(_describe(op) for op in script.upgrade_ops.ops)
        if script.upgrade_ops.is_empty():
            directives[:] = []  # nothing to migrate: no revision file

    command.upgrade(config, "head")
    script = command.revision(config, message=spec["message"], autogenerate=True, rev_id=spec["rev_id"],
                              process_revision_directives=keep_consolidated)
    path = getattr(script, "path", None)
    return {"how": "autogenerate", "path": path, "ops": kept}


def _from_delta(spec: dict[str, Any]) -> dict[str, Any]:
    """Render add_column/alter_column for the delta's columns, taken from the merged table."""
    from alembic.autogenerate import render_python_code
    from alembic.operations import ops
    from alembic.script import ScriptDirectory

    delta = spec["delta"]
    module = importlib.import_module(delta["module"])
    table = getattr(module, delta["class"]).__table__
    changes: list[Any] = []
    for name in delta["added"]:
        column = table.c[name]
        changes.append(ops.AddColumnOp(table.name, column._copy()))
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        if {c.name for c in index.columns} <= set(delta["added"]):
            changes.append(ops.CreateIndexOp.from_index(index))
    for name, fields in delta["changed"].items():
        column = table.c[name]
        kw: dict[str, Any] = {}
        if "type" in fields or "length" in fields:
            kw["modify_type"] = column.type
        if "nullable" in fields:
            kw["modify_nullable"] = column.nullable
        if "server_default" in fields:
            kw["modify_server_default"] = column.server_default
        if kw:
            changes.append(ops.AlterColumnOp(table.name, name, **kw))
    if not changes:
        return {"how": "delta", "path": None, "ops": []}
    upgrade = ops.UpgradeOps(ops=[ops.ModifyTableOps(table.name, changes)])
    downgrade = upgrade.reverse()
    script_dir = ScriptDirectory.from_config(_config(spec))
    head = script_dir.get_current_head()
    script = script_dir.generate_revision(
        spec["rev_id"], spec["message"], head=head or "base",
        upgrades=render_python_code(upgrade).strip(), downgrades=render_python_code(downgrade).strip(),
    )
    kept = [_describe(op) for op in changes]
    return {"how": "delta", "path": getattr(script, "path", None), "ops": kept}


def main() -> None:
    """Read the spec, try autogenerate, fall back to the delta; always print one result line."""
    spec = json.loads(sys.stdin.read())
    sys.path[:0] = spec["path"]
    result: dict[str, Any] = {"missing": None, "error": None, "fallback_reason": None}
    try:
        import alembic  # noqa: F401
    except ImportError:
        result["missing"] = "alembic"
        sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
        return
    try:
        result.update(_autogenerate(spec))
    except BaseException as exc:  # noqa: BLE001 -- env.py is the project's code: it may raise anything
        result["fallback_reason"] = _error(exc)
        try:
            result.update(_from_delta(spec))
        except BaseException as inner:  # noqa: BLE001 -- the merged module did not import either
            result["error"] = _error(inner)
    sys.stdout.write("\n" + MARKER + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
