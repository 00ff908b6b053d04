"""`modelfold detect` (report duplicate models) and `modelfold check` (fail CI when any exist)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli import everyday, output
from cli.options import Exclude, Format, FormatOpt, Paths, Verbose
from cli.output import CommandError, ExitCode
from codemods.detect import detect
from codemods.types import Detection, DuplicateGroup

if TYPE_CHECKING:
    from rich.table import Table


def _run(paths: list[Path] | None, exclude: list[str] | None) -> Detection:
    """Detect under the folder that holds the given paths; keep the groups with a member among them."""
    root, only = everyday.scan_root(paths or [Path(".")])
    found = detect(root, everyday.merged_excludes(exclude, everyday.repository_settings(root)))
    groups = tuple(g for g in found.groups if any(everyday.in_paths(root, m.path, only) for m in g.models))
    return Detection(found.index, groups)


def detect_command(
    path: Paths = None, fmt: FormatOpt = Format.TEXT, exclude: Exclude = None, verbose: Verbose = False,
) -> None:
    """Find every duplicated SQLAlchemy model (same table, or same class name in one registry)."""
    with output.guarded("detect", fmt, verbose):
        result = _run(path, exclude)
    output.emit("detect", fmt, detection_json(result))
    if fmt.is_json:
        return
    for group in result.groups:
        output.stdout.print(_group_table(group))
    for skipped in result.index.skipped:
        output.note(f"skipped {skipped.path}: {skipped.reason}")
    output.note(
        f"{len(result.groups)} duplicate group(s) among {len(result.index.models)} model(s) "
        f"in {result.index.files_scanned} file(s)"
    )


def check_command(
    path: Paths = None, fmt: FormatOpt = Format.TEXT, exclude: Exclude = None, verbose: Verbose = False,
) -> None:
    """Exit 1 when any duplicate model exists (for CI and pre-commit), one line per group.

    Exit 2 when a file that could define a model does not parse: check cannot vouch for it.
    Groups of one table name in different MetaData objects are listed as notes and do not fail.
    """
    with output.guarded("check", fmt, verbose):
        result = _run(path, exclude)
        if result.index.skipped:
            first = result.index.skipped[0]
            more = f" (and {len(result.index.skipped) - 1} more)" if len(result.index.skipped) > 1 else ""
            raise CommandError(
                f"cannot check {first.path}: {first.reason}{more}; fix it or --exclude it",
                code="unparsable_file", details={"skipped": _skipped_json(result)})
    failing = [g for g in result.groups if not g.across_metadata]
    code = ExitCode.FOUND if failing else ExitCode.OK
    output.emit("check", fmt, {"groups": [_check_json(g) for g in result.groups],
                               "files_scanned": result.index.files_scanned}, code)
    if not fmt.is_json:
        for group in result.groups:
            line = f"{group_title(group)}: {', '.join(m.ref for m in group.models)} (keep {group.canonical})"
            if group.across_metadata:
                output.note(f"note: {line}")
            else:
                print(line)
        if not failing:
            output.note(f"no duplicate models in {result.index.files_scanned} file(s)")
    output.finish(code)


def group_title(group: DuplicateGroup) -> str:
    """One-line name of a group: which table, or which class name, and where."""
    if group.across_metadata:
        return f"table {group.table!r} mapped {len(group.models)} times in different MetaData ({group.scope})"
    if group.key == "table":
        return f"table {group.table!r} defined {len(group.models)} times"
    return f"class {group.class_name!r} mapped {len(group.models)} times in {group.scope}"


def _group_table(group: DuplicateGroup) -> Table:
    from rich.table import Table

    table = Table(title=group_title(group), title_justify="left", show_lines=False)
    longest = max(len(m.ref) for m in group.models) + len(" (keep)")
    table.add_column("model", overflow="fold", ratio=3, min_width=min(longest, 40))
    table.add_column("path", overflow="fold", ratio=3)
    table.add_column("line", justify="right", no_wrap=True)
    table.add_column("style", no_wrap=True)
    table.add_column("cols", justify="right", no_wrap=True, min_width=4)
    table.add_column("rels", justify="right", no_wrap=True, min_width=4)
    table.add_column("only here", overflow="fold", ratio=2)
    for model in group.models:
        mark = " (keep)" if model.ref == group.canonical else ""
        table.add_row(
            model.ref + mark, model.path, str(model.line), model.style,
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


def _check_json(group: DuplicateGroup) -> dict[str, Any]:
    return {"title": group_title(group), "key": group.key, "table": group.table,
            "class_name": group.class_name, "scope": group.scope, "across_metadata": group.across_metadata,
            "canonical": group.canonical, "models": [m.ref for m in group.models]}


def _skipped_json(result: Detection) -> list[dict[str, str]]:
    return [{"path": s.path, "reason": s.reason} for s in result.index.skipped]


def detection_json(result: Detection) -> dict[str, Any]:
    """The payload of `detect --format json` (docs/schemas/detect.schema.json)."""
    return {
        "groups": [
            {
                "key": g.key,
                "table": g.table,
                "class_name": g.class_name,
                "scope": g.scope,
                "across_metadata": g.across_metadata,
                "resolved": g.resolved,
                "note": g.note,
                "canonical": g.canonical,
                "reasons": list(g.reasons),
                "models": [
                    {
                        "ref": m.ref, "path": m.path, "line": m.line, "kind": m.kind,
                        "style": m.style, "table": m.table, "metadata": m.metadata,
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
        "skipped": _skipped_json(result),
    }


COMMANDS = {"detect": detect_command, "check": check_command}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    output.register(app, COMMANDS)
