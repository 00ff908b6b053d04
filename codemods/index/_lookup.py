"""Where model classes live in the tree and which tables their foreign keys point at (stdlib ast)."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codemods import scan
from codemods.types import SourceFile


@dataclass(frozen=True)
class ModelSite:
    """A mapped class found in the tree: module, table, and tables its FKs reference."""

    class_name: str
    module: str
    table: str | None
    fk_tables: frozenset[str]


def fk_tables(cls: ast.ClassDef) -> frozenset[str]:
    """Tables (or `<class>Name` for attribute FKs) referenced by the class's foreign keys."""
    found: set[str] = set()
    for node in ast.walk(cls):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        targets: list[ast.expr] = []
        if name == "ForeignKey" and node.args:
            targets = [node.args[0]]
        elif name == "ForeignKeyConstraint" and len(node.args) > 1:
            second = node.args[1]
            targets = list(second.elts) if isinstance(second, (ast.List, ast.Tuple)) else []
        for t in targets:
            if isinstance(t, ast.Constant) and isinstance(t.value, str) and "." in t.value:
                found.add(t.value.rsplit(".", 1)[0].split(".")[-1])
            elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                found.add("<class>" + t.value.id)
    return frozenset(found)


def _table(cls: ast.ClassDef) -> str | None:
    for stmt in cls.body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in stmt.targets)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            return stmt.value.value
    return None


def sites_in_text(text: str, module: str) -> list[ModelSite]:
    """Model classes (classes with `__tablename__`) in one module's text."""
    try:
        tree = ast.parse(text.lstrip("\ufeff"))
    except SyntaxError:
        return []
    return [
        ModelSite(node.name, module, _table(node), fk_tables(node))
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and _table(node) is not None
    ]


def model_sites(
    root: Path, extra: dict[str, str] | None = None, sources: Sequence[SourceFile] | None = None
) -> dict[str, list[ModelSite]]:
    """Every model class of the tree (or of `sources`) by class name; `extra` (module -> text) overrides."""
    out: dict[str, list[ModelSite]] = {}
    extra = extra or {}
    for source in scan.source_files(root) if sources is None else sources:
        text = extra.get(source.module)
        if text is None:
            try:
                text = scan.read_text(root, source.path)
            except (OSError, UnicodeDecodeError):
                continue
        if "__tablename__" not in text:
            continue
        for site in sites_in_text(text, source.module):
            out.setdefault(site.class_name, []).append(site)
    return out


def _backref_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def backrefs_in_text(text: str, module: str, classes: set[str]) -> list[tuple[str, str, str]]:
    """(owner `module:Class`, attribute, backref name) of relationships to `classes` with a backref."""
    try:
        tree = ast.parse(text.lstrip("\ufeff"))
    except SyntaxError:
        return []
    found: list[tuple[str, str, str]] = []
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        for stmt in cls.body:
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else getattr(stmt, "target", None)
            if not isinstance(value, ast.Call) or not isinstance(target, ast.Name) or not value.args:
                continue
            first = value.args[0]
            name = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else (
                first.id if isinstance(first, ast.Name) else None)
            if name is None or name.rsplit(".", 1)[-1] not in classes:
                continue
            for kw in value.keywords:
                backref = _backref_name(kw.value) if kw.arg == "backref" else None
                if backref is not None:
                    found.append((f"{module}:{cls.name}", target.id, backref))
    return found


def backrefs_to(
    root: Path, classes: set[str], sources: Sequence[SourceFile] | None = None
) -> list[tuple[str, str, str]]:
    """Every relationship in the tree (or in `sources`) that targets one of `classes` and declares a backref."""
    found: list[tuple[str, str, str]] = []
    for source in scan.source_files(root) if sources is None else sources:
        try:
            text = scan.read_text(root, source.path)
        except (OSError, UnicodeDecodeError):
            continue
        if "backref" in text:
            found.extend(backrefs_in_text(text, source.module, classes))
    return sorted(found)
