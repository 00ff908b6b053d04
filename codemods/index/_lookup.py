"""Where model classes live and which tables their FKs point at (stdlib ast); backrefs from the index."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codemods import scan
from codemods.types import ModelIndex, SourceFile


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


def backrefs_to(index: ModelIndex, classes: set[str]) -> list[tuple[str, str, str]]:
    """(owner `module:Class`, attribute, backref name) of every model's relationship that targets
    one of `classes` and declares a backref, as the index read them (no file is read again)."""
    return sorted(
        (model.ref, rel.name, rel.backref)
        for model in index.models
        for rel in model.relationships
        if rel.backref is not None and rel.target.rsplit(".", 1)[-1] in classes
    )
