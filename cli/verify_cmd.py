"""`modelfold verify`: import the tree's models in fresh interpreters and check they map (imports user code)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import output
from cli.options import Format, FormatOpt, Root, Verbose
from cli.output import ExitCode

HELP = (
    "Check that the tree's models import, map and compile: one class per table, DDL for three dialects.\n\n"
    "This IMPORTS YOUR CODE (by design): each model module is imported first in its own fresh interpreter "
    "(the --python one), then the others; configure_mappers() runs; every table of every MetaData must be "
    "mapped by one class; CreateTable compiles for sqlite, postgresql and mysql.\n\n"
    "Exit 0 when every check passes, 3 when one fails, 2 for bad input."
)

Modules = Annotated[list[str] | None, typer.Argument(
    metavar="[MODULE]...", show_default=False,
    help="Dotted modules to import (default: every module that defines models).")]
Python = Annotated[str | None, typer.Option(
    "--python", help="Interpreter that imports the target (default: its virtualenv, else modelfold's).")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="Compare the models with this live database (needs modelfold\\[alembic]).")]
Exclude = Annotated[list[str] | None, typer.Option("--exclude", help="Glob of paths to leave out (repeatable).")]


def verify_command(
    modules: Modules = None, root: Root = Path("."), python: Python = None, fmt: FormatOpt = Format.TEXT,
    database_url: DatabaseUrl = None, exclude: Exclude = None, verbose: Verbose = False,
) -> None:
    """Check that the tree's models import, map and compile (imports your code)."""
    with output.guarded("verify", fmt, verbose):
        from codemods.stage._runtime import check_json, check_text, check_tree

        check = check_tree(root, modules or (), python=python, excludes=tuple(exclude or ()),
                           database_url=database_url)
        payload: dict[str, Any] = check_json(check)
        del payload["ok"]  # the envelope's `ok` says the same: exit 0 or 3
    code = ExitCode.OK if check.ok else ExitCode.CONFLICT
    output.emit("verify", fmt, payload, code)
    if not fmt.is_json:
        sys.stdout.write(check_text(check))
    output.finish(code)


COMMANDS = {"verify": verify_command}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app (the help says it imports user code)."""
    output.register(app, COMMANDS)
    for info in app.registered_commands:
        if info.name == "verify":
            info.help = HELP
