"""Progress of long work, reported through a small protocol so the stages stay pure.

A stage that takes a `progress` calls `phase(name, total)` when it starts a kind of work and
`advance(detail)` for each item it begins (detail: what it does now). The library's default is
`NO_PROGRESS`; the CLI passes `RichProgress` when stderr is a terminal, `LineProgress` (one
plain line per phase) when it is not, and nothing with `--quiet`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichBar
    from rich.progress import TaskID

__all__ = ["NO_PROGRESS", "LineProgress", "Progress", "RichProgress", "SilentProgress"]


class Progress(Protocol):
    """What a long-running stage reports."""

    def phase(self, name: str, total: int | None = None) -> None:
        """A new kind of work starts (`total` items, when known)."""

    def advance(self, detail: str) -> None:
        """The next item of the current phase starts; detail says what it is."""

    def close(self, ok: bool = True) -> None:
        """The run is over (clear any live display); ok=False: it ended in an error."""


class SilentProgress:
    """Reports nothing (the library default, and `--quiet`)."""

    def phase(self, name: str, total: int | None = None) -> None:
        """Ignore the phase."""

    def advance(self, detail: str) -> None:
        """Ignore the item."""

    def close(self, ok: bool = True) -> None:
        """Nothing to clear."""


NO_PROGRESS: Progress = SilentProgress()


class LineProgress:
    """One plain line per phase on a stream that is not a terminal (a CI log).

    A phase's line is written when its first item starts, so quick phases without items
    (scanning, rewriting) and input refused along the way leave stderr to the result and the
    one-line error; `verbose` writes every phase when it starts, and every item.
    """

    def __init__(self, stream: TextIO, verbose: bool = False) -> None:
        self.stream = stream
        self.verbose = verbose
        self.pending: str | None = None

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def phase(self, name: str, total: int | None = None) -> None:
        """`modelfold: <phase> (<total>)`, once the phase's first item starts (at once when verbose)."""
        self.pending = f"modelfold: {name}" + (f" ({total})" if total is not None else "")
        if self.verbose:
            self._write(self.pending)
            self.pending = None

    def advance(self, detail: str) -> None:
        """The phase's line, then the item when verbose."""
        if self.pending is not None:
            self._write(self.pending)
            self.pending = None
        if self.verbose:
            self._write(f"modelfold:   {detail}")

    def close(self, ok: bool = True) -> None:
        """Forget a phase that never started an item."""
        self.pending = None


class RichProgress:
    """A live rich progress bar on a terminal: the phase, a count, and the current item."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn
        from rich.progress import Progress as RichBar

        console = Console(file=stream, force_terminal=True, highlight=False)
        self.bar: RichBar = RichBar(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"), console=console, transient=True,
        )
        self.task: TaskID | None = None
        self.bar.start()

    def phase(self, name: str, total: int | None = None) -> None:
        """Finish the current bar and start one for this phase."""
        if self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[-1].total or 0, detail="done")
        self.task = self.bar.add_task(name, total=total, detail="")

    def advance(self, detail: str) -> None:
        """Step the bar and show what is being done now."""
        if self.task is None:
            self.task = self.bar.add_task("working", total=None, detail="")
        self.bar.update(self.task, advance=1, detail=detail)

    def close(self, ok: bool = True) -> None:
        """Stop the live display (it clears itself)."""
        self.bar.stop()


def for_stream(stream: TextIO, *, quiet: bool = False, verbose: bool = False) -> Progress:
    """The progress display for stream: rich on a terminal, one line per phase elsewhere, none when quiet."""
    if quiet:
        return NO_PROGRESS
    if stream.isatty():
        return RichProgress(stream)
    return LineProgress(stream, verbose)
