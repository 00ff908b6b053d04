"""Named steps of the writing stages, where tests inject a fault; SIGTERM handled like Ctrl-C.

`MODELFOLD_FAULT=<step>` (or `<step>=interrupt|term|kill`) makes the run raise KeyboardInterrupt,
send itself SIGTERM, or die by SIGKILL when it reaches that step; `MODELFOLD_FAULT_TRACE=<file>`
appends every step reached to the file, so a test can list the steps of an uninterrupted run.
Both are read from the environment at each step: nothing is kept between runs.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

FAULT_ENV = "MODELFOLD_FAULT"
TRACE_ENV = "MODELFOLD_FAULT_TRACE"


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwind exactly as Ctrl-C does (cleanup and rollback run)."""


def checkpoint(step: str) -> None:
    """Mark a step; inject the fault the environment names for it, if any."""
    trace = os.environ.get(TRACE_ENV)
    if trace:
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(step + "\n")
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    name, _, action = spec.partition("=")
    if name != step:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "term":
        os.kill(os.getpid(), signal.SIGTERM)
        return  # the handler installed by `terminate_as_interrupt` raises
    raise KeyboardInterrupt(f"fault injected at {step}")


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` (in the main thread), so finally blocks run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
