"""The `modelfold` typer app: each command lives in its own module and registers itself here."""

from __future__ import annotations

import typer

from cli import detect_cmd, everyday, migrate_cmd, modernize_cmd, plan_cmd, verify_cmd

app = typer.Typer(
    name="modelfold",
    help="Find duplicated SQLAlchemy models and fold them into one canonical class.",
    no_args_is_help=True,
    add_completion=True,
    context_settings=everyday.HELP_OPTIONS,
)
app.callback()(everyday.app_callback)
for command_module in (detect_cmd, migrate_cmd, modernize_cmd, verify_cmd, plan_cmd):
    command_module.register(app)
everyday.decorate(app)


def main() -> None:
    """Console-script entry point."""
    app()
