"""Score a tool's rewritten tree against the generator's expected (file, form) set.

A reference is right when the file still parses, every way it names the class (imports,
module-attribute chains, dotted strings) resolves to the canonical class and none to the old
one, and the look-alike names (`UserRole`, `user_count`) are untouched. Resolution here is a
small independent stdlib-`ast` reader, not modelfold's code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOKALIKES = ("UserRole", "user_count")


@dataclass
class Score:
    """One tool's result on one tree."""

    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    collateral: list[str] = field(default_factory=list)

    @property
    def right_count(self) -> int:
        """References rewritten correctly, all forms."""
        return sum(self.right.values())

    @property
    def total_count(self) -> int:
        """References expected, all forms."""
        return sum(self.total.values())

    def forms_right(self) -> list[str]:
        """Forms every file of which came out right."""
        return sorted(f for f, n in self.total.items() if self.right.get(f, 0) == n)


def module_of(path: str) -> tuple[str, bool]:
    """Dotted module for a tree-relative path (every generated directory is a package)."""
    parts = path[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def class_references(text: str, path: str, targets: set[str]) -> set[str] | None:
    """Which of `targets` (qualified class names) the file refers to; None if it cannot parse."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    module, is_package = module_of(path)
    package = module if is_package else module.rpartition(".")[0]
    bound: dict[str, str] = {}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(package, node.level, node.module)
            for alias in node.names:
                qual = f"{base}.{alias.name}"
                bound[alias.asname or alias.name] = qual
                if qual in targets:
                    found.add(qual)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(t for t in targets if node.value == t or node.value.startswith(t + "."))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node, bound)
            if dotted in targets:
                found.add(dotted)
    return found


def _absolute(package: str, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _dotted(node: ast.expr, bound: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, bound)
        return f"{base}.{node.attr}" if base else None
    return None


def _lookalikes(text: str) -> tuple[int, ...]:
    return tuple(len(re.findall(rf"\b{name}\b", text)) for name in LOOKALIKES)


def score_tree(before: Path, after: Path, expected: Any) -> Score:
    """Compare `after` (a tool's output) with `before` (the generated tree) per expected reference."""
    old = {f"{expected.old_module}.{expected.class_name}"}
    old.add(f"{expected.old_module.rpartition('.')[0]}.{expected.class_name}")  # package re-export
    canonical = f"{expected.canonical_module}.{expected.class_name}"
    targets = old | {canonical}
    score = Score()
    referencing = set()
    for ref in expected.references:
        referencing.add(ref.path)
        score.total[ref.form] = score.total.get(ref.form, 0) + 1
        score.right.setdefault(ref.form, 0)
        src = (before / ref.path).read_text("utf-8")
        path = after / ref.path
        out = path.read_text("utf-8") if path.is_file() else ""
        found = class_references(out, ref.path, targets)
        if found is None:
            score.broken.append(ref.path)
        elif found == {canonical} and _lookalikes(src) == _lookalikes(out):
            score.right[ref.form] += 1
        else:
            score.wrong.append(ref.path)
    skip = referencing | {expected.old_path, expected.canonical_path} | set(getattr(expected, "rebased", ()))
    for path in sorted(p.relative_to(before).as_posix() for p in before.rglob("*.py")):
        if path in skip or ".git/" in path:
            continue
        out_path = after / path
        if not out_path.is_file() or out_path.read_bytes() != (before / path).read_bytes():
            score.collateral.append(path)
    return score


CONFIGURE_PROBE = """
import importlib, sys
from sqlalchemy.orm import configure_mappers
pkg, old, canonical, name, *models = sys.argv[1:]
importlib.import_module(pkg + ".models")  # the registry module, as app startup does
for module in models:  # then every module that maps a class
    importlib.import_module(module)
configure_mappers()
if getattr(importlib.import_module(old), name) is not getattr(importlib.import_module(canonical), name):
    sys.exit(f"{old}.{name} is not {canonical}.{name}")
"""


def configure_error(after: Path, expected: Any) -> str:
    """Import a tool's output tree in a fresh interpreter and configure the mappers; '' when it runs.

    Speed is only worth measuring on output that runs: the old and the canonical name must be one
    class, and every relationship and foreign key of every registry must resolve.
    """
    import subprocess
    import sys

    models = sorted(
        module_of(p.relative_to(after).as_posix())[0] for p in (after / expected.package).rglob("*.py")
        if "__tablename__" in p.read_text("utf-8", "replace")
    )
    run = subprocess.run(
        [sys.executable, "-c", CONFIGURE_PROBE, expected.package, expected.old_module,
         expected.canonical_module, expected.class_name, *models],
        cwd=after, capture_output=True, text=True, timeout=300,
    )
    if run.returncode == 0:
        return ""
    lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit {run.returncode}"
