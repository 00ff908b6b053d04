"""`modelfold modernize`: convert legacy `Column(...)` model classes to SQLAlchemy 2.0 Mapped style."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import output
from codemods.diff import apply_changeset, render_diff
from codemods.types import ModelfoldError

Target = Annotated[str, typer.Argument(metavar="TARGET", help="pkg.module (every legacy model) or pkg.module:Class.")]
Root = Annotated[Path, typer.Option("--root", help="Root of the target tree.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the unified diff; change nothing (default).")]
Apply = Annotated[bool, typer.Option("--apply", help="Write the converted file in place (atomically).")]


def modernize_command(target: Target, root: Root = Path("."), dry_run: DryRun = False, apply: Apply = False) -> None:
    """Convert legacy Column/relationship attributes of TARGET to Mapped[...] = mapped_column(...)."""
    from codemods.convert import modernize  # libcst loads only when used

    if dry_run and apply:
        output.fail("--dry-run and --apply exclude each other")
    try:
        changeset = modernize(root, target)
    except ModelfoldError as exc:
        output.fail(str(exc))
    for warning in changeset.warnings:
        output.note(f"note: {warning}")
    if not changeset.changes:
        output.note(f"nothing to convert in {target}")
        return
    if apply:
        try:
            written = apply_changeset(root.resolve(), changeset)
        except (ModelfoldError, OSError) as exc:
            output.fail(str(exc))
        for path in written:
            output.note(f"converted {path}")
        return
    sys.stdout.write(render_diff(changeset))


def register(app: typer.Typer) -> None:
    """Add `modernize` to the app."""
    app.command(name="modernize")(modernize_command)
