"""Merge stage: fold duplicate model classes into the canonical one.

- `_merge`: union of members in `Mapped[...]` style, the conflict policy, the merged module text.
- `_merge_support`: relationship targets, `TYPE_CHECKING` imports, the `__table_args__` union.
- `_tableargs`: reading and rendering `__table_args__`.
- `_moves`: names the canonical module imported from the old module, moved so no cycle forms.
"""

from codemods.merge._merge import MergeConflictError, merge

__all__ = ["MergeConflictError", "merge"]
