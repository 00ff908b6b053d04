"""Consoles and exit codes shared by the commands: results to stdout, messages to stderr.

rich loads on first use of `stdout`/`stderr` (tables, colour, markup); plain lines go through
`note`, so a piped `migrate --dry-run` never imports it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    stdout: Console
    stderr: Console

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3


def __getattr__(name: str) -> Any:
    if name not in ("stdout", "stderr"):
        raise AttributeError(name)
    return _console(name)


def _console(name: str) -> Console:
    from rich.console import Console

    console = Console(stderr=name == "stderr", highlight=False, soft_wrap=True)
    globals()[name] = console  # later lookups find the attribute without __getattr__
    return console


def note(message: str) -> None:
    """One plain line to stderr (no markup, no emoji codes: paths and messages print as they are)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a one-line error to stderr and exit with `code`."""
    console = globals().get("stderr") or _console("stderr")
    console.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)
