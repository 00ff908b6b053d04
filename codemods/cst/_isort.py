"""The project's import-sorting style (ruff's or isort's settings) and the order it implies.

`load_style` reads `ruff.toml`/`.ruff.toml`, `[tool.ruff]`, `[tool.isort]`, `.isort.cfg` and
`setup.cfg` with tomllib/configparser (the first of ruff's files found wins, then isort's), and the
Python floor from `requires-python`/`target-version`. `section_of`, `statement_key` and
`member_key` model ruff's isort rules (isort's `profile = "black"` sorts the same way):
sections future, standard library, third party, first party, local folder; straight imports
before from-imports unless sorted within sections; names by type (CONSTANT, Class, other), each
case-insensitively and with natural number order. `render_from` writes a from-import as the
sorter would: one line when it fits, else one name per line with a trailing comma.
"""

from __future__ import annotations

import configparser
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

FUTURE, STDLIB, THIRD, FIRST, LOCAL = "future", "standard-library", "third-party", "first-party", "local-folder"
DEFAULT_SECTIONS = (FUTURE, STDLIB, THIRD, FIRST, LOCAL)
_ISORT_SECTIONS = {"FUTURE": FUTURE, "STDLIB": STDLIB, "THIRDPARTY": THIRD, "FIRSTPARTY": FIRST,
                   "LOCALFOLDER": LOCAL}
_DIGITS = re.compile(r"(\d+)")
_VERSION = re.compile(r"(>=|~=|==|>)\s*3\.(\d+)")


@dataclass(frozen=True)
class ImportStyle:
    """How the project's sorter writes imports (defaults: ruff's)."""

    line_length: int = 88
    force_single_line: bool = False
    force_sort_within_sections: bool = False
    combine_as: bool = False
    order_by_type: bool = True
    case_sensitive: bool = False
    split_on_trailing_comma: bool = True
    sections: tuple[str, ...] = DEFAULT_SECTIONS
    first_party: frozenset[str] = frozenset()
    third_party: frozenset[str] = frozenset()
    local_folder: frozenset[str] = frozenset()
    # the oldest Python the project supports, (3, minor); None when it does not say
    python: tuple[int, int] | None = None
    configured: bool = False  # a sorter configuration was found
    source: str = ""  # which file it came from

    def allows_pep604(self) -> bool:
        """`X | None` evaluates at runtime on every Python the project supports (3.10+)."""
        return self.python is not None and self.python >= (3, 10)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _norm(table: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).replace("-", "_"): v for k, v in table.items()}


def _python_floor(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    if text.startswith("py3") and text[3:].isdigit():
        return (3, int(text[3:]))
    found = _VERSION.search(text)
    if found is None:
        return None
    minor = int(found.group(2)) + (1 if found.group(1) == ">" else 0)
    return (3, minor)


def _ruff_style(ruff: Mapping[str, Any], base: ImportStyle, source: str) -> ImportStyle:
    lint = ruff.get("lint", {}) if isinstance(ruff.get("lint"), dict) else {}
    isort = _norm(lint.get("isort") or ruff.get("isort") or {})
    top = _norm(ruff)
    sections = base.sections
    if "section_order" in isort:
        sections = tuple(str(s) for s in isort["section_order"])
    return replace(
        base,
        line_length=int(top.get("line_length", 88)),
        force_single_line=bool(isort.get("force_single_line", False)),
        force_sort_within_sections=bool(isort.get("force_sort_within_sections", False)),
        combine_as=bool(isort.get("combine_as_imports", False)),
        order_by_type=bool(isort.get("order_by_type", True)),
        case_sensitive=bool(isort.get("case_sensitive", False)),
        split_on_trailing_comma=bool(isort.get("split_on_trailing_comma", True)),
        sections=sections,
        first_party=base.first_party | frozenset(isort.get("known_first_party", ())),
        third_party=frozenset(isort.get("known_third_party", ())),
        local_folder=frozenset(isort.get("known_local_folder", ())),
        python=_python_floor(top.get("target_version")) or base.python,
        configured=True,
        source=source,
    )


def _listed(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(v.strip() for v in re.split(r"[,\s]+", value) if v.strip())
    return frozenset(str(v) for v in value or ())


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


def _isort_style(raw: Mapping[str, Any], base: ImportStyle, source: str) -> ImportStyle:
    conf = _norm(raw)
    black = str(conf.get("profile", "")).strip("\"'") in ("black", "hug")
    length = int(conf.get("line_length", 88 if black else 79))
    sections = base.sections
    if "sections" in conf:
        raw = conf["sections"]
        listed = raw if isinstance(raw, list) else re.split(r"[,\s]+", str(raw))
        sections = tuple(_ISORT_SECTIONS.get(str(v).strip().upper(), str(v).strip().lower())
                         for v in listed if str(v).strip())
    return replace(
        base,
        line_length=length,
        force_single_line=_flag(conf.get("force_single_line", False)),
        force_sort_within_sections=_flag(conf.get("force_sort_within_sections", False)),
        combine_as=_flag(conf.get("combine_as_imports", False)),
        order_by_type=_flag(conf.get("order_by_type", True)),
        case_sensitive=_flag(conf.get("case_sensitive", False)),
        split_on_trailing_comma=black or _flag(conf.get("split_on_trailing_comma", False)),
        sections=sections,
        first_party=base.first_party | _listed(conf.get("known_first_party", ())),
        third_party=_listed(conf.get("known_third_party", ())),
        local_folder=_listed(conf.get("known_local_folder", ())),
        configured=True,
        source=source,
    )


def load_style(root: Path, first_party: Iterable[str] = ()) -> ImportStyle:
    """The import style of the project at `root`; `first_party`: top-level packages the scan knows."""
    pyproject = _read_toml(root / "pyproject.toml")
    tool = pyproject.get("tool", {}) if isinstance(pyproject.get("tool"), dict) else {}
    project = pyproject.get("project", {}) if isinstance(pyproject.get("project"), dict) else {}
    base = ImportStyle(first_party=frozenset(first_party),
                       python=_python_floor(str(project.get("requires-python", "")) or None))
    for name in ("ruff.toml", ".ruff.toml"):
        if (root / name).is_file():
            return _ruff_style(_read_toml(root / name), base, name)
    if isinstance(tool.get("ruff"), dict):
        return _ruff_style(tool["ruff"], base, "pyproject.toml [tool.ruff]")
    if isinstance(tool.get("isort"), dict):
        return _isort_style(tool["isort"], base, "pyproject.toml [tool.isort]")
    for name, sections in ((".isort.cfg", ("settings", "isort")), ("setup.cfg", ("isort", "tool:isort"))):
        if not (root / name).is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(root / name, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        for section in sections:
            if parser.has_section(section):
                return _isort_style(dict(parser.items(section)), base, f"{name} [{section}]")
    return base


# ---------------------------------------------------------------- order


def section_of(module: str, level: int, style: ImportStyle) -> int:
    """Index of the section a module's import belongs to, in the style's section order."""
    top = module.split(".")[0]
    if level:
        name = LOCAL
    elif top == "__future__":
        name = FUTURE
    elif _known(module, style.first_party):
        name = FIRST
    elif _known(module, style.third_party):
        name = THIRD
    elif _known(module, style.local_folder):
        name = LOCAL
    elif top in sys.stdlib_module_names:
        name = STDLIB
    else:
        name = THIRD
    order = style.sections
    return order.index(name) if name in order else len(order)


def _known(module: str, known: frozenset[str]) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in known for i in range(1, len(parts) + 1))


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _DIGITS.split(text) if p)


def member_key(name: str, asname: str | None, style: ImportStyle) -> tuple[Any, ...]:
    """Sort key of a name in a from-import (ruff's member key)."""
    kind = 2
    if style.order_by_type:
        if len(name) > 1 and name.upper() == name and name.lower() != name:
            kind = 0
        elif name[:1].isupper():
            kind = 1
    folded = name if style.case_sensitive else name.lower()
    return (kind, _natural(folded), _natural(name), asname or "")


@dataclass(frozen=True)
class ImportStmt:
    """One import statement, as the sorter sees it."""

    straight: bool  # `import a.b` (True) or `from a import b`
    module: str  # dotted module, without the leading dots of a relative import
    level: int
    names: tuple[tuple[str, str | None], ...]  # (name, asname); for `import a as b`: (("a", "b"),)


def statement_key(stmt: ImportStmt, style: ImportStyle) -> tuple[Any, ...]:
    """Sort key of a statement: section, then (straight before from), module, first name."""
    section = section_of(stmt.module, stmt.level, style)
    kind = 0 if stmt.straight or style.force_sort_within_sections else 1
    folded = stmt.module if style.case_sensitive else stmt.module.lower()
    first = member_key(*stmt.names[0], style) if stmt.names and not stmt.straight else ()
    asname = stmt.names[0][1] or "" if stmt.straight and stmt.names else ""
    return (section, kind, -stmt.level, _natural(folded), _natural(stmt.module), first, asname)


def render_from(
    source: str, names: Sequence[tuple[str, str | None]], style: ImportStyle, indent: str = "",
    exploded: bool = False, comment: str = "",
) -> str:
    """`from source import ...` as the sorter writes it (names already sorted); no newline at the end."""
    listed = [n if a is None else f"{n} as {a}" for n, a in names]
    line = f"{indent}from {source} import {', '.join(listed)}"
    suffix = f"  {comment}" if comment else ""
    if not exploded and len(line) <= style.line_length:
        return line + suffix
    body = "".join(f"\n{indent}    {item}," for item in listed)
    return f"{indent}from {source} import ({suffix}{body}\n{indent})"
