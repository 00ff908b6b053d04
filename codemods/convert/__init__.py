"""Convert stage: legacy `Column(...)` members to `Mapped[...] = mapped_column(...)`, DDL unchanged.

- `_convert`: whole classes and modules, and `modernize` (convert in place).
- `_convert_member`: one class member.
- `_pytypes`: the Python type an SQL type maps to in `Mapped[...]`.
"""

from codemods.convert._convert import (
    class_table,
    convert_module_text,
    drop_unused_imports,
    local_type_impls,
    modernize,
    own_fk_tables,
)

__all__ = [
    "class_table",
    "convert_module_text",
    "drop_unused_imports",
    "local_type_impls",
    "modernize",
    "own_fk_tables",
]
