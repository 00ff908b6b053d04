"""Option types shared by the commands: one `Format`, one alias per option that several commands take.

A new command reuses them as `def cmd(root: Root = Path("."), fmt: FormatOpt = Format.TEXT, ...)`;
options that only one command has stay in that command's module.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class Format(str, Enum):
    """How a command prints its result: for people (`text`; `table` is its old name) or `json`."""

    TEXT = "text"
    TABLE = "table"
    JSON = "json"

    @property
    def is_json(self) -> bool:
        """True for the machine-readable document."""
        return self is Format.JSON


FormatOpt = Annotated[Format, typer.Option(
    "--format", help="text (table is the same) for people, json for scripts (one document on stdout).")]
Verbose = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Say more: each item of each phase, and the traceback of an internal error.")]
Root = Annotated[Path, typer.Option("--root", help="Root of the target tree.")]
PathArg = Annotated[Path, typer.Argument(help="Root of the project to scan.")]
Paths = Annotated[list[Path] | None, typer.Argument(
    help="Folders or files to scan (default: the current folder).", show_default=False)]
Exclude = Annotated[list[str] | None, typer.Option(
    "--exclude", help="Glob or directory of paths to leave out (repeatable).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the unified diff; change nothing.")]
Apply = Annotated[bool, typer.Option("--apply", help="Write the files in place (all or none), no branch.")]
