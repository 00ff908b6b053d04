"""`modelfold detect` (report duplicate models) and `modelfold check` (fail CI when any exist)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli import everyday, output
from cli.output import EXIT_FOUND, fail
from codemods.detect import detect
from codemods.types import Detection, DuplicateGroup, ModelfoldError

if TYPE_CHECKING:
    from rich.table import Table


class Format(str, Enum):
    table = "table"
    json = "json"


PathArg = Annotated[list[Path] | None, typer.Argument(
    help="Folders or files to scan (default: the current folder).", show_default=False)]
ExcludeOpt = Annotated[
    list[str] | None, typer.Option("--exclude", help="Glob or directory to leave out (repeatable).")
]


def register(app: typer.Typer) -> None:
    """Add `detect` and `check` to the app."""
    app.command(name="detect")(detect_command)
    app.command(name="check")(check_command)


def _run(paths: list[Path] | None, exclude: list[str] | None) -> Detection:
    try:
        root, only = everyday.scan_root(paths or [Path(".")])
        found = detect(root, everyday.merged_excludes(exclude, everyday.repository_settings(root)))
    except ModelfoldError as exc:
        fail(str(exc))
    groups = tuple(g for g in found.groups if any(everyday.in_paths(root, m.path, only) for m in g.models))
    return Detection(found.index, groups)


def detect_command(
    path: PathArg = None,
    format: Annotated[Format, typer.Option("--format", help="table for people, json for scripts.")] = Format.table,
    exclude: ExcludeOpt = None,
) -> None:
    """Find every duplicated SQLAlchemy model (same table, or same class name in one registry)."""
    result = _run(path, exclude)
    if format is Format.json:
        output.stdout.print_json(json.dumps(detection_json(result)))
        return
    for group in result.groups:
        output.stdout.print(_group_table(group))
    for skipped in result.index.skipped:
        output.stderr.print(f"skipped {skipped.path}: {skipped.reason}", markup=False)
    output.stderr.print(
        f"{len(result.groups)} duplicate group(s) among {len(result.index.models)} model(s) "
        f"in {result.index.files_scanned} file(s)"
    )


def check_command(path: PathArg = None, exclude: ExcludeOpt = None) -> None:
    """Exit 1 when any duplicate model exists (for CI and pre-commit), one line per group."""
    result = _run(path, exclude)
    for group in result.groups:
        refs = ", ".join(m.ref for m in group.models)
        output.stdout.print(f"{group_title(group)}: {refs} (keep {group.canonical})", markup=False)
    if result.groups:
        raise typer.Exit(EXIT_FOUND)
    output.stderr.print(f"no duplicate models in {result.index.files_scanned} file(s)")


def group_title(group: DuplicateGroup) -> str:
    """One-line name of a group: which table, or which class name, and where."""
    if group.key == "table":
        return f"table {group.table!r} defined {len(group.models)} times"
    return f"class {group.class_name!r} mapped {len(group.models)} times in {group.scope}"


def _group_table(group: DuplicateGroup) -> Table:
    from rich.table import Table

    table = Table(title=group_title(group), title_justify="left", show_lines=False)
    table.add_column("model", overflow="fold")
    table.add_column("path:line", overflow="fold")
    table.add_column("style")
    table.add_column("cols", justify="right")
    table.add_column("rels", justify="right")
    table.add_column("only here", overflow="fold")
    for model in group.models:
        mark = " (keep)" if model.ref == group.canonical else ""
        table.add_row(
            model.ref + mark, f"{model.path}:{model.line}", model.style,
            str(len(model.columns)), str(len(model.relationships)),
            ", ".join(group.only_in.get(model.ref, ())),
        )
    notes = [f"why keep {group.canonical}: " + "; ".join(group.reasons)]
    if group.differing:
        notes.append("defined differently: " + ", ".join(group.differing))
    if group.note:
        notes.append(group.note)
    table.caption = "\n".join(notes)
    table.caption_justify = "left"
    return table


def detection_json(result: Detection) -> dict[str, Any]:
    """The documented JSON shape of `detect --format json`."""
    return {
        "groups": [
            {
                "key": g.key,
                "table": g.table,
                "class_name": g.class_name,
                "scope": g.scope,
                "resolved": g.resolved,
                "note": g.note,
                "canonical": g.canonical,
                "reasons": list(g.reasons),
                "models": [
                    {
                        "ref": m.ref, "path": m.path, "line": m.line, "kind": m.kind,
                        "style": m.style, "table": m.table,
                        "columns": [c.name for c in m.columns],
                        "relationships": [r.name for r in m.relationships],
                    }
                    for m in g.models
                ],
                "only_in": {ref: list(names) for ref, names in g.only_in.items()},
                "differing": list(g.differing),
            }
            for g in result.groups
        ],
        "models_found": len(result.index.models),
        "files_scanned": result.index.files_scanned,
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.index.skipped],
    }
