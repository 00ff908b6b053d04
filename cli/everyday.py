"""What every command has: -h, --version, -q/--quiet, -v/--verbose, examples, repository settings.

The flags live in the click context's `meta` (shared by the app and its command), never in a
module global: `verbosity(ctx)` reads them; `progress_for(ctx)` picks the progress display.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from cli.settings import Settings, load_settings
from codemods.progress import Progress, for_stream
from codemods.types import ModelfoldError

QUIET = "modelfold.quiet"
VERBOSE = "modelfold.verbose"
HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print results and errors only: no progress, no notes.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Say more: each item of each phase.")]

EXAMPLES = {
    "detect": ["modelfold detect", "modelfold detect src/ tests/ --exclude legacy/vendored",
               "modelfold detect --format json > groups.json"],
    "check": ["modelfold check            # exit 1 when any duplicate model exists",
              "modelfold check app/ --exclude '*_generated.py'"],
    "migrate": ["modelfold migrate app.auth.models:User app.users.models:User --dry-run",
                "modelfold migrate app.auth.models:User app.users.models:User --report report.md",
                "modelfold migrate --auto --test-cmd 'python -m pytest -q'"],
    "modernize": ["modelfold modernize app.users.models:User", "modelfold modernize app.users.models --apply"],
    "verify": ["modelfold verify                   # imports your code, in fresh interpreters",
               "modelfold verify app.models --python .venv/bin/python --format json"],
    "plan": ["modelfold plan                     # writes modelfold-plan.toml", "modelfold plan src/ -o plan.toml"],
    "apply": ["modelfold apply modelfold-plan.toml --dry-run",
              "modelfold apply modelfold-plan.toml --test-cmd 'python -m pytest -q'",
              "modelfold apply plan.toml --keep-going --format json"],
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Verbosity:
    """How much a command says on stderr."""

    quiet: bool = False
    verbose: bool = False


def verbosity(ctx: typer.Context | None) -> Verbosity:
    """The -q/-v flags given to the app or the command."""
    meta = ctx.meta if ctx is not None else {}
    return Verbosity(bool(meta.get(QUIET)), bool(meta.get(VERBOSE)))


def progress_for(ctx: typer.Context | None) -> Progress:
    """Rich progress on a terminal stderr, one line per phase otherwise, nothing with --quiet."""
    flags = verbosity(ctx)
    return for_stream(sys.stderr, quiet=flags.quiet, verbose=flags.verbose)


@contextmanager
def progress_display(ctx: typer.Context | None) -> Iterator[Progress]:
    """progress_for(ctx), closed (the live display cleared) however the block ends."""
    progress = progress_for(ctx)
    try:
        yield progress
    except BaseException:
        progress.close(ok=False)
        raise
    progress.close()


def examples_epilog(name: str) -> str | None:
    """The 'Examples' block shown under a command's help."""
    lines = EXAMPLES.get(name)
    if not lines:
        return None
    return "Examples:\n\n" + "\n\n".join(f"  $ {line}" for line in lines)


def with_verbosity(func: F) -> F:
    """The command with -q/--quiet and -v/--verbose added; the flags go to the context's meta."""
    signature = inspect.signature(func, eval_str=True)
    hints = dict(func.__annotations__)
    hints.update({p.name: p.annotation for p in signature.parameters.values()})
    own = [p for p in signature.parameters.values() if p.annotation is typer.Context]
    # a command with its own --verbose (cli.options.Verbose) keeps it; the flag also goes to meta
    has_verbose = "verbose" in signature.parameters

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.pop("mf_ctx")
        if kwargs.pop("mf_quiet"):
            ctx.meta[QUIET] = True
        if (kwargs["verbose"] if has_verbose else kwargs.pop("mf_verbose")):
            ctx.meta[VERBOSE] = True
        if own:
            kwargs[own[0].name] = ctx
        return func(*args, **kwargs)

    extra = [
        inspect.Parameter("mf_ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context),
        inspect.Parameter("mf_quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Quiet),
    ]
    if not has_verbose:
        extra.append(inspect.Parameter("mf_verbose", inspect.Parameter.KEYWORD_ONLY, default=False,
                                       annotation=Verbose))
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values()
              if p not in own]
    command.__signature__ = signature.replace(parameters=params + extra)  # type: ignore[attr-defined]
    command.__annotations__ = {**{k: v for k, v in hints.items() if k not in {p.name for p in own}},
                               "mf_ctx": typer.Context, "mf_quiet": Quiet,
                               **({} if has_verbose else {"mf_verbose": Verbose})}
    return command  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        try:
            version = metadata.version("modelfold")
        except metadata.PackageNotFoundError:
            version = "unknown"
        typer.echo(f"modelfold {version}")
        raise typer.Exit(0)


def app_callback(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Find duplicated SQLAlchemy models and fold them into one canonical class."""
    ctx.meta[QUIET] = quiet
    ctx.meta[VERBOSE] = verbose


def decorate(app: typer.Typer) -> None:
    """Give every registered command -q/-v and its examples."""
    for info in app.registered_commands:
        if info.callback is None:
            continue
        info.callback = with_verbosity(info.callback)
        name = info.name or info.callback.__name__
        info.epilog = info.epilog or examples_epilog(name)


def repository_settings(root: Path) -> Settings:
    """The `[tool.modelfold]` settings for root, or a one-line exit 2."""
    from cli.output import fail

    try:
        return load_settings(root)
    except ModelfoldError as exc:
        fail(str(exc))


def given(ctx: typer.Context | None, name: str) -> bool:
    """True when option `name` came from the command line (or the environment), not its default."""
    if ctx is None:
        return False
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def merged_excludes(cli: Sequence[str] | None, settings: Settings) -> tuple[str, ...]:
    """The command line's --exclude when given (it wins), else the settings' exclude."""
    return tuple(cli) if cli else settings.exclude


def _import_root(path: Path) -> Path:
    """The directory a file or folder's module names start from (above its packages)."""
    directory = path if path.is_dir() else path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    return directory


def scan_root(paths: Sequence[Path]) -> tuple[Path, tuple[Path, ...]]:
    """One root to scan for several paths (files or folders), and the paths to report on.

    A single folder is the root itself. Otherwise the root is the deepest folder above every
    path's packages, and only groups with a member in one of the paths are reported.
    """
    resolved = []
    for path in paths:
        if not path.exists():
            raise ModelfoldError(f"path does not exist: {path}")
        resolved.append(path.resolve())
    if len(resolved) == 1 and resolved[0].is_dir():
        return resolved[0], ()
    roots = [_import_root(p) for p in resolved]
    common = Path(*Path(roots[0]).parts)
    while not all(r == common or r.is_relative_to(common) for r in roots):
        common = common.parent
    return common, tuple(resolved)


def in_paths(root: Path, rel: str, paths: Sequence[Path]) -> bool:
    """True when the file `rel` (relative to root) is one of paths or inside one."""
    full = root / rel
    return not paths or any(full == p or full.is_relative_to(p) for p in paths)
