"""Consoles and exit codes shared by the commands: results to stdout, messages to stderr."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a one-line error to stderr and exit with `code`."""
    stderr.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)
