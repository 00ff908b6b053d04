"""modelfold's command line (typer). Thin: parse, call codemods, render, map to exit codes."""
