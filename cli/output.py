"""What every command prints and how it exits: the exit codes, the JSON envelope, refusals, crashes.

Results go to stdout, messages to stderr. rich loads on first use of `stdout`/`stderr` (tables,
colour); plain lines go through `note`, so a piped `migrate --dry-run` never imports it. JSON is
written with `json.dumps`, never through rich, so `FORCE_COLOR` cannot put escape codes in it.

A command body runs inside `guarded(command, fmt, verbose)`: a `CommandError` (or a
`ModelfoldError`, exit 2) becomes one `error:` line on stderr and, with `--format json`, an error
document on stdout; Ctrl-C and SIGTERM become exit 130 and 143 with one line saying what was
rolled back or left; any other exception is an internal error (exit 4, one line, the traceback
only with `--verbose`). A result is printed with `emit(command, fmt, payload, code)`.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperCommand

from cli.options import Format
from codemods.types import ModelfoldError

if TYPE_CHECKING:
    from rich.console import Console

    stdout: Console
    stderr: Console

SCHEMA_VERSION = 1


class ExitCode(IntEnum):
    """The exit codes of every command (README, "Exit codes")."""

    OK = 0  # done, or nothing to do
    FOUND = 1  # duplicates found (check), or groups --auto left unmigrated
    USAGE = 2  # bad usage or input, or a refusal: nothing was created
    CONFLICT = 3  # conflict under --on-conflict fail, or verification failed: nothing was written
    INTERNAL = 4  # a bug in modelfold: one line, the traceback with --verbose
    INTERRUPTED = 130  # Ctrl-C (SIGINT), 128 + 2 as shells report it: one line saying what was left
    TERMINATED = 143  # SIGTERM, 128 + 15: the same


EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_CONFLICT, EXIT_INTERNAL = (
    ExitCode.OK, ExitCode.FOUND, ExitCode.USAGE, ExitCode.CONFLICT, ExitCode.INTERNAL)


class CommandError(Exception):
    """A refusal: the one-line message, a stable `code` for scripts, details, and the exit code."""

    def __init__(
        self, message: str, *, code: str = "input", exit_code: ExitCode = ExitCode.USAGE,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.exit_code = exit_code
        self.details = details or {}


def usage_error(message: str) -> CommandError:
    """A refusal of the options given (exit 2, code `usage`)."""
    return CommandError(message, code="usage")


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
    """One plain line to stderr, unless -q/--quiet was given (errors go through `error_line`)."""
    if not quiet():
        error_line(message)


def error_line(message: str) -> None:
    """One plain line to stderr, even under --quiet (no markup, no emoji codes: printed as it is)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def quiet() -> bool:
    """True when the running command was given -q/--quiet (the flag is in the click context's meta)."""
    from cli.everyday import QUIET

    base = next(c for c in typer.Context.__mro__ if c.__name__ == "Context" and c.__module__.endswith(".core"))
    click_globals = importlib.import_module(base.__module__.rsplit(".", 1)[0] + ".globals")  # click, or typer's
    ctx = click_globals.get_current_context(silent=True)
    return ctx is not None and bool(ctx.meta.get(QUIET))


def document(command: str, code: ExitCode, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON envelope every command prints: schema_version, command, ok, exit_code, payload."""
    return {"schema_version": SCHEMA_VERSION, "command": command, "ok": code in (ExitCode.OK, ExitCode.FOUND),
            "exit_code": int(code), **payload}


def dumps(doc: dict[str, Any]) -> str:
    """Deterministic JSON text, never coloured."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def emit(command: str, fmt: Format, payload: dict[str, Any], code: ExitCode = ExitCode.OK) -> None:
    """With `--format json`, print the command's document on stdout (text output is the caller's)."""
    if fmt.is_json:
        sys.stdout.write(dumps(document(command, code, payload)))
        sys.stdout.flush()


def finish(code: ExitCode) -> NoReturn:
    """Exit the command with `code`."""
    raise typer.Exit(int(code))


def refuse(command: str, fmt: Format, error: CommandError) -> NoReturn:
    """Print one `error:` line (and the JSON error document) and exit with the error's code."""
    error_line(f"error: {error.message}")
    if fmt.is_json:
        body = {"code": error.code, "message": error.message, "details": error.details}
        sys.stdout.write(dumps(document(command, error.exit_code, {"error": body})))
        sys.stdout.flush()
    finish(error.exit_code)


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """Print a one-line error to stderr and exit with `code` (text output only)."""
    refuse("", Format.TEXT, CommandError(message, exit_code=code))


def interrupted(exc: KeyboardInterrupt) -> CommandError:
    """Ctrl-C or SIGTERM as a refusal: exit 130 or 143, one line saying what was rolled back or left."""
    from codemods.safety._faults import Terminated

    term = isinstance(exc, Terminated)
    left = "; ".join(getattr(exc, "__notes__", ())) or "nothing was written"
    return CommandError(f"interrupted by {'SIGTERM' if term else 'SIGINT'}: {left}", code="interrupted",
                        exit_code=ExitCode.TERMINATED if term else ExitCode.INTERRUPTED)


@contextmanager
def interruptible(command: str = "", fmt: Format = Format.TEXT) -> Iterator[None]:
    """Inside, SIGTERM unwinds like Ctrl-C (rollbacks and cleanups run), then either ends the
    command with exit 143 or 130 and one line saying what was rolled back or left."""
    from codemods.safety._faults import terminate_as_interrupt

    try:
        with terminate_as_interrupt():
            yield
    except KeyboardInterrupt as exc:
        refuse(command, fmt, interrupted(exc))


@contextmanager
def guarded(command: str, fmt: Format, verbose: bool = False) -> Iterator[None]:
    """Turn refusals, crashes and interruptions (`interruptible`) inside the block into one line,
    the JSON error and the exit code."""
    try:
        with interruptible(command, fmt):
            yield
    except typer.Exit:
        raise
    except CommandError as exc:
        refuse(command, fmt, exc)
    except ModelfoldError as exc:
        refuse(command, fmt, CommandError(str(exc)))
    except Exception as exc:  # noqa: BLE001 - the contract: a crash is exit 4 and one line
        if verbose:
            traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0]
        hint = "" if verbose else " (rerun with --verbose for the traceback)"
        refuse(command, fmt, CommandError(
            f"internal error: {type(exc).__name__}: {first}{hint}", code="internal",
            exit_code=ExitCode.INTERNAL))


def wants_json(args: Sequence[str]) -> bool:
    """True when the raw arguments ask for `--format json` (for errors before options are parsed)."""
    args = list(args)
    return any(a == "--format=json" or (a == "--format" and args[i + 1:i + 2] == ["json"])
               for i, a in enumerate(args))


# click's base exception (typer vendors click from 0.28 on and depends on it before)
_CLICK_ERRORS: tuple[type[Exception], ...] = tuple(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class ContractCommand(TyperCommand):
    """A command whose argument errors also honour `--format json` (an error document, exit 2)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse as typer does; with `--format json` among the arguments, report errors as JSON."""
        as_json = wants_json(args)
        try:
            return super().parse_args(ctx, args)
        except _CLICK_ERRORS as exc:
            if not as_json or isinstance(exc, typer.Exit):
                raise
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            refuse(self.name or "", Format.JSON, usage_error(message))


def register(app: typer.Typer, commands: dict[str, Callable[..., None]]) -> None:
    """Add each `name: function` to the app as a `ContractCommand`."""
    for name, function in commands.items():
        app.command(name=name, cls=ContractCommand)(function)
