"""Queries on the index for the writing stages: where model classes live, which tables their
foreign keys point at, which relationships declare a backref. Nothing here reads a file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from codemods.index._facts import fk_tables
from codemods.index._index import index_texts
from codemods.types import ModelDef, ModelIndex, SourceFile

__all__ = ["ModelSite", "backrefs_to", "fk_tables", "model_sites", "sites_in_text"]


@dataclass(frozen=True)
class ModelSite:
    """A mapped class found in the tree: module, table, and tables its FKs reference."""

    class_name: str
    module: str
    table: str | None
    fk_tables: frozenset[str]


def model_sites(models: Iterable[ModelDef]) -> dict[str, list[ModelSite]]:
    """Every mapped class of the index (`index.models`) by class name."""
    out: dict[str, list[ModelSite]] = {}
    for m in models:
        if m.kind == "class":
            out.setdefault(m.class_name, []).append(ModelSite(m.class_name, m.module, m.table, m.fk_tables))
    return out


def sites_in_text(text: str, module: str) -> list[ModelSite]:
    """The mapped classes of one module's text, as the index reads it (its bases defined in it)."""
    source = SourceFile(module.replace(".", "/") + ".py", module, False)
    index = index_texts(Path("."), [source], {source.path: text}, [source])
    return [site for sites in model_sites(index.models).values() for site in sites]


def backrefs_to(index: ModelIndex, classes: set[str]) -> list[tuple[str, str, str]]:
    """(owner `module:Class`, attribute, backref name) of every model's relationship that targets
    one of `classes` and declares a backref, as the index read them (no file is read again)."""
    return sorted(
        (model.ref, rel.name, rel.backref)
        for model in index.models
        for rel in model.relationships
        if rel.backref is not None and rel.target.rsplit(".", 1)[-1] in classes
    )
