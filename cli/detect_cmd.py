"""`modelfold detect` and `modelfold check` (filled in with the detect stage)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the commands of this module to the app."""
