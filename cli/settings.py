"""Settings kept in the target repository: `[tool.modelfold]` in pyproject.toml, or modelfold.toml.

    [tool.modelfold]
    exclude = ["legacy/vendored", "*_pb2.py"]
    on_conflict = "keep-canonical"
    branch_prefix = "refactor/models-"
    warn_on_import = true
    python = ".venv/bin/python"
    test_cmd = "python -m pytest -q"

The nearest file from the root upwards (stopping at the repository's top) holds them;
`modelfold.toml` (same keys, at its top level) wins over `pyproject.toml` in one directory.
Command-line options win over both.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codemods.types import ConflictPolicy, ModelfoldError

__all__ = ["KEYS", "Settings", "find_settings_file", "load_settings", "parse_settings"]

KEYS = ("exclude", "on_conflict", "branch_prefix", "warn_on_import", "python", "test_cmd")
DEFAULT_BRANCH_PREFIX = "modelfold/"


@dataclass(frozen=True)
class Settings:
    """The repository's settings; None (or empty) where the file does not set a key."""

    exclude: tuple[str, ...] = ()
    on_conflict: ConflictPolicy | None = None
    branch_prefix: str | None = None
    warn_on_import: bool | None = None
    python: str | None = None
    test_cmd: str | None = None
    source: Path | None = None


def find_settings_file(root: Path) -> tuple[Path, str] | None:
    """The settings file for root and where its table is ("" for modelfold.toml, "tool.modelfold")."""
    for directory in (root, *root.parents):
        own = directory / "modelfold.toml"
        if own.is_file():
            return own, ""
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "modelfold" in _tool_table(pyproject):
            return pyproject, "tool.modelfold"
        if (directory / ".git").exists():
            return None
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ModelfoldError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ModelfoldError(f"{path}: cannot read: {exc.__class__.__name__}") from None


def _tool_table(pyproject: Path) -> dict[str, Any]:
    tool = _load(pyproject).get("tool", {})
    return tool if isinstance(tool, dict) else {}


def _string(path: Path, where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelfoldError(f"{path}: {where}{key} must be a non-empty string")
    return value


def parse_settings(path: Path, table: Mapping[str, Any], where: str = "") -> Settings:
    """Settings from one table of `path`; ModelfoldError names the file and the bad key."""
    prefix = f"[{where}] " if where else ""
    unknown = [k for k in table if k not in KEYS]
    if unknown:
        raise ModelfoldError(f"{path}: unknown key {unknown[0]!r} in {prefix or 'the file '}"
                             f"(known: {', '.join(KEYS)})")
    exclude = table.get("exclude", [])
    if isinstance(exclude, str):
        exclude = [exclude]
    if not isinstance(exclude, list) or not all(isinstance(e, str) and e for e in exclude):
        raise ModelfoldError(f"{path}: {prefix}exclude must be a list of globs or directories")
    policy = None
    if "on_conflict" in table:
        choices = [p.value for p in ConflictPolicy]
        if table["on_conflict"] not in choices:
            raise ModelfoldError(f"{path}: {prefix}on_conflict must be one of {', '.join(choices)}")
        policy = ConflictPolicy(table["on_conflict"])
    warn = table.get("warn_on_import")
    if warn is not None and not isinstance(warn, bool):
        raise ModelfoldError(f"{path}: {prefix}warn_on_import must be true or false")
    python = _string(path, prefix, "python", table["python"]) if "python" in table else None
    if python is not None and ("/" in python or "\\" in python) and not Path(python).is_absolute():
        python = str((path.parent / python).resolve())
    texts = {k: _string(path, prefix, k, table[k]) for k in ("branch_prefix", "test_cmd") if k in table}
    return Settings(
        exclude=tuple(exclude), on_conflict=policy, branch_prefix=texts.get("branch_prefix"),
        warn_on_import=warn, python=python, test_cmd=texts.get("test_cmd"), source=path,
    )


def load_settings(root: Path) -> Settings:
    """The settings that apply to root (empty Settings when no file sets any)."""
    found = find_settings_file(Path(root).resolve())
    if found is None:
        return Settings()
    path, where = found
    table = _load(path) if not where else _tool_table(path).get("modelfold")
    if not isinstance(table, dict):
        raise ModelfoldError(f"{path}: [{where}] must be a table")
    return parse_settings(path, table, where)


def branch_name(default: str, prefix: str | None) -> str:
    """The default branch name with the configured prefix in place of `modelfold/`."""
    if not prefix:
        return default
    return prefix + default.removeprefix(DEFAULT_BRANCH_PREFIX)
