"""`modelfold verify`: import the tree's models in fresh interpreters and check they map (imports user code)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cli import output
from codemods.types import ModelfoldError

HELP = (
    "Check that the tree's models import, map and compile: one class per table, DDL for three dialects.\n\n"
    "This IMPORTS YOUR CODE (by design): each model module is imported first in its own fresh interpreter "
    "(the --python one), then the others; configure_mappers() runs; every table of every MetaData must be "
    "mapped by one class; CreateTable compiles for sqlite, postgresql and mysql.\n\n"
    "Exit 0 when every check passes, 3 when one fails, 2 for bad input."
)


class Format(str, Enum):
    """Output format of the command."""

    TEXT = "text"
    JSON = "json"


Modules = Annotated[list[str] | None, typer.Argument(
    metavar="[MODULE]...", show_default=False,
    help="Dotted modules to import (default: every module that defines models).")]
Root = Annotated[Path, typer.Option("--root", help="Root of the target tree.")]
Python = Annotated[str | None, typer.Option(
    "--python", help="Interpreter that imports the target (default: its virtualenv, else modelfold's).")]
Fmt = Annotated[Format, typer.Option("--format", help="text or json.")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="Compare the models with this live database (needs modelfold\\[alembic]).")]
Exclude = Annotated[list[str] | None, typer.Option("--exclude", help="Glob of paths to leave out (repeatable).")]


def verify(
    modules: Modules = None, root: Root = Path("."), python: Python = None, fmt: Fmt = Format.TEXT,
    database_url: DatabaseUrl = None, exclude: Exclude = None,
) -> None:
    """Check that the tree's models import, map and compile (imports your code)."""
    from codemods.report import dumps
    from codemods.stage._runtime import check_json, check_text, check_tree

    try:
        check = check_tree(root, modules or (), python=python, excludes=tuple(exclude or ()),
                           database_url=database_url)
    except ModelfoldError as exc:
        from rich.markup import escape

        output.fail(escape(str(exc)))  # paths and modelfold[alembic] are not markup
    if fmt is Format.JSON:
        sys.stdout.write(dumps(check_json(check)))
    else:
        sys.stdout.write(check_text(check))
    raise typer.Exit(output.EXIT_OK if check.ok else output.EXIT_CONFLICT)


def register(app: typer.Typer) -> None:
    """Add `verify` to the app."""
    app.command(name="verify", help=HELP)(verify)
