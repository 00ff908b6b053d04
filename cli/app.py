"""The `modelfold` typer app: each command module registers its commands here (`register(app)`)."""

from __future__ import annotations

import typer

from cli import detect_cmd, migrate_cmd, modernize_cmd, verify_cmd

app = typer.Typer(
    name="modelfold",
    help="Find duplicated SQLAlchemy models and fold them into one canonical class.",
    no_args_is_help=True,
    add_completion=False,
)
for command_module in (detect_cmd, migrate_cmd, modernize_cmd, verify_cmd):
    command_module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
