"""The user's test command, run contained before and after; which tests regressed.

pytest's short summary (`FAILED path::test - Error`, `ERROR path - Error`) names the failing
tests; a test failing after that did not fail before is a regression. When the output names no
test (another runner) and the command fails after the change, nothing tells a new failure from an
old one, so it blocks.
"""

from __future__ import annotations

import os
import re
import time

from codemods.stage._probe import Containment, run_contained
from codemods.types import TestRun

TAIL_LINES = 15
SUMMARY = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$")


SECTION = re.compile(r"^_{2,} (.+?) _{2,}$")


def _first_errors(lines: list[str]) -> dict[str, str]:
    """Each failure section's title -> its first `E   ` line (the exception, untruncated)."""
    found: dict[str, str] = {}
    title = None
    for line in lines:
        header = SECTION.match(line)
        if header:
            title = header.group(1)
        elif title and line.startswith("E ") and line[1:].strip():
            found.setdefault(title, line[1:].strip())
    return found


def failing_tests(output: str) -> dict[str, str]:
    """pytest's short-summary lines: test id -> the exception (or ""), from its section when cut short."""
    lines = output.splitlines()
    errors = _first_errors(lines)
    found: dict[str, str] = {}
    for line in lines:
        match = SUMMARY.match(line.strip())
        if match:
            test, message = match.group(2), match.group(3) or ""
            title = test.rpartition("::")[2]
            if (not message or message.endswith("...")) and title in errors:
                message = errors[title]
            found.setdefault(test, message)
    return found


def run_tests(box: Containment, command: str, side: str, timeout: float = 1800.0) -> TestRun:
    """Run the user's test command contained in box's tree; keep its exit code, tail and failing tests."""
    start = time.monotonic()
    # the platform shell, as the README documents: `pytest -q && echo ok` works as typed
    argv = [os.environ.get("COMSPEC", "cmd.exe"), "/c", command] if os.name == "nt" else ["/bin/sh", "-c", command]
    try:
        done = run_contained(argv, box, timeout, probe=False)
        code, output = done.returncode, done.stdout + done.stderr
        if done.timed_out:
            code, output = -1, output + f"\ntimed out after {timeout:g}s"
    except OSError as exc:
        code, output = 127, f"cannot run {command!r}: {exc}"
    lines = output.strip().splitlines()
    failed = failing_tests(output)
    tail = "\n".join(lines[-TAIL_LINES:])
    return TestRun(side, command, code, tail, round(time.monotonic() - start, 2),
                   tuple(f"{k} - {v}" if v else k for k, v in failed.items()))


def _ids(run: TestRun) -> dict[str, str]:
    return {entry.split(" - ", 1)[0]: entry for entry in run.failed}


def compare_tests(before: TestRun | None, after: TestRun) -> tuple[list[str], list[str]]:
    """(regressions, notes) of the test command after the change against its run before."""
    if after.returncode == 0:
        return [], []
    shown = f"test command output after the migration (last lines):\n{after.tail}"
    now = _ids(after)
    if before is None or before.returncode == 0:
        first = next(iter(now.values()), None)
        what = f"test {first}" if first else f"test command (exit {after.returncode})"
        return [f"{what} passed before and fails after the migration"], [shown]
    was = _ids(before)
    new = [entry for test, entry in now.items() if test not in was]
    if new:
        return [f"test {new[0]} fails after the migration, not before"], [shown]
    if now:
        return [], [f"already failing before: {len(now)} test(s), e.g. {next(iter(now.values()))}"]
    return [f"test command failed after the migration (exit {after.returncode}), and before it "
            f"(exit {before.returncode}), naming no test to compare"], [shown]
