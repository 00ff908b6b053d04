"""The one hand-made `ModelDef` factory the merge, rewrite and stage tests share."""

from __future__ import annotations

from codemods.types import ColumnDef, ModelDef, Style


def model(
    ref: str,
    path: str | None = None,
    *,
    style: Style = "legacy",
    table: str = "users",
    base: str | None = None,
    metadata: str | None = None,
    line: int = 1,
    columns: tuple[str, ...] = (),
) -> ModelDef:
    """A mapped class `ref` ("module:Class") at `path` (default: the module's file), one bare column per name.

    `base` is the declarative base (registry); its metadata is `base` too unless `metadata` says otherwise.
    """
    module, _, class_name = ref.partition(":")
    cols = tuple(
        ColumnDef(c, c, None, True, c == "id", False, False, (), None, None, None,
                  "legacy" if style == "legacy" else "mapped", "", 1)
        for c in columns
    )
    return ModelDef(ref, module, class_name, path or module.replace(".", "/") + ".py", line, table, "class",
                    base, metadata or base, style, cols)
