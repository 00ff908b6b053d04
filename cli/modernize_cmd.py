"""`modelfold modernize`: convert legacy `Column(...)` model classes to SQLAlchemy 2.0 Mapped style."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import output
from cli.options import Apply, DryRun, Format, FormatOpt, Root, Verbose
from cli.output import usage_error
from codemods import report
from codemods.diff import apply_changeset, render_diff

Target = Annotated[str, typer.Argument(metavar="TARGET", help="pkg.module (every legacy model) or pkg.module:Class.")]


def modernize_command(
    target: Target, root: Root = Path("."), dry_run: DryRun = False, apply: Apply = False,
    fmt: FormatOpt = Format.TEXT, verbose: Verbose = False,
) -> None:
    """Convert legacy Column/relationship attributes of TARGET to Mapped[...] = mapped_column(...)."""
    with output.guarded("modernize", fmt, verbose):
        from codemods.convert import modernize  # libcst loads only when used

        if dry_run and apply:
            raise usage_error("--dry-run and --apply exclude each other")
        changeset = modernize(root, target)
        if not changeset.changes and ":" in target:
            _require_model(root, target)
        written = apply_changeset(root.resolve(), changeset) if apply and changeset.changes else []
    payload = {
        "mode": "apply" if apply else "dry-run",
        "target": target,
        "nothing_to_do": not changeset.changes,
        "changes": report.changes_json_of(changeset)["changes"],
        "warnings": list(changeset.warnings),
        "written": written,
    }
    output.emit("modernize", fmt, payload)
    if fmt.is_json:
        return
    for warning in changeset.warnings:
        output.note(f"note: {warning}")
    if not changeset.changes:
        output.note(f"nothing to convert in {target}")
    elif apply:
        for path in written:
            output.note(f"converted {path}")
    else:
        sys.stdout.write(render_diff(changeset))


def _require_model(root: Path, target: str) -> None:
    """Refuse a class that is no mapped model (an enum, a helper) rather than find nothing to convert."""
    from codemods.index import build_index, find_model

    find_model(build_index(root.resolve()), target)


COMMANDS = {"modernize": modernize_command}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    output.register(app, COMMANDS)
