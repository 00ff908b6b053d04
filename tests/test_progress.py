"""Progress on stderr: a live rich display on a terminal (a real pty), one plain line per phase
when piped, nothing with --quiet. The command runs in a subprocess so stderr really is a tty."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "batch_shop"
PLAN = """[[consolidate]]
canonical = "shop.customers.models:Customer"
duplicates = ["shop.legacy.customer:Customer"]

[[consolidate]]
canonical = "shop.catalog.models:Product"
duplicates = ["shop.inventory.models:Product", "shop.legacy.product:Product"]
"""


@pytest.fixture(scope="module")
def command(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    base = tmp_path_factory.mktemp("progress")
    tree = base / "shop"
    shutil.copytree(SHOP, tree, ignore=shutil.ignore_patterns("__pycache__"))
    (base / "plan.toml").write_text(PLAN)
    return [sys.executable, "-c", "from cli.app import main; main()", "apply", str(base / "plan.toml"),
            "--root", str(tree), "--dry-run"]


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    return dict(out, COLUMNS="120", LINES="40", TERM="xterm-256color")


def run_with_tty_stderr(args: list[str]) -> tuple[str, bytes]:
    """stdout piped, stderr a pseudo-terminal; returns (stdout, what the terminal received)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, env=env())
    os.close(slave)
    received = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        received += chunk
    out = proc.stdout.read().decode() if proc.stdout else ""
    assert proc.wait(timeout=300) == 0
    os.close(master)
    return out, bytes(received)


def test_live_progress_on_a_terminal(command: list[str]) -> None:
    out, terminal = run_with_tty_stderr(command)
    assert out.startswith("diff --git")  # the result still goes to stdout, untouched
    assert b"\x1b[" in terminal  # a live display: cursor movement and colour
    assert b"planning entries" in terminal
    assert b"shop.catalog.models:Product <- shop.inventory.models:Product" in terminal  # what it does now
    assert b"modelfold: planning entries" not in terminal  # not the plain lines


def test_plain_lines_when_piped_and_nothing_when_quiet(command: list[str]) -> None:
    piped = subprocess.run(command, capture_output=True, text=True, env=env(), timeout=300)
    assert piped.returncode == 0
    lines = piped.stderr.splitlines()
    assert lines[0] == "modelfold: planning entries (2)"
    assert "modelfold: scanning for shop.catalog.models:Product" not in lines  # no items: verbose only
    assert "\x1b" not in piped.stderr
    quiet = subprocess.run([*command[:3], "-q", *command[3:]], capture_output=True, text=True, env=env(),
                           timeout=300)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout == piped.stdout


def test_migrate_says_what_it_plans_when_piped(command: list[str]) -> None:
    root = command[command.index("--root") + 1]
    auto = subprocess.run([*command[:3], "migrate", "--auto", "--root", root, "--dry-run"],
                          capture_output=True, text=True, env=env(), timeout=300)
    assert auto.returncode == 0, auto.stderr
    # customers, products, and the orders pair across MetaData (detect shows it; --auto skips it)
    assert auto.stderr.splitlines()[0] == "modelfold: planning each group (3)"
    one = subprocess.run([*command[:3], "migrate", "shop.catalog.models:Product", "shop.legacy.product:Product",
                          "--root", root, "--dry-run"], capture_output=True, text=True, env=env(), timeout=300)
    assert one.returncode == 0 and not one.stderr.startswith("modelfold: "), one.stderr
    verbose = subprocess.run([*command[:3], "migrate", "-v", "shop.catalog.models:Product",
                              "shop.legacy.product:Product", "--root", root, "--dry-run"],
                             capture_output=True, text=True, env=env(), timeout=300)
    assert verbose.stderr.splitlines()[:2] == [
        "modelfold: scanning for shop.catalog.models:Product",
        "modelfold: merging and rewriting references to shop.legacy.product:Product"]
