"""The `modelfold` typer app: each command module registers its commands here (`register(app)`)."""

from __future__ import annotations

import sys

import typer

from cli import detect_cmd, everyday, migrate_cmd, modernize_cmd, output, plan_cmd, verify_cmd

app = typer.Typer(
    name="modelfold",
    help="Find duplicated SQLAlchemy models and fold them into one canonical class.",
    no_args_is_help=True,
    add_completion=True,
    context_settings=everyday.HELP_OPTIONS,
    pretty_exceptions_enable=False,
)
app.callback()(everyday.app_callback)
for command_module in (detect_cmd, migrate_cmd, modernize_cmd, verify_cmd, plan_cmd):
    command_module.register(app)
everyday.decorate(app)


def main() -> None:
    """Console-script entry point: a crash outside a command body is still exit 4 and one line."""
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the exit-code contract covers every crash
        if "--verbose" in sys.argv:
            raise
        hint = "(rerun with --verbose for the traceback)"
        output.error_line(f"error: internal error: {type(exc).__name__}: {exc} {hint}")
        sys.exit(int(output.ExitCode.INTERNAL))
