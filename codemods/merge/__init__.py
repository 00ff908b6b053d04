"""Merge stage: fold duplicate model classes into the canonical one.

- `_merge`: union of members in `Mapped[...]` style, the merged module text.
- `_rules`: the merge's state and its rules: conflict policy, inherited members, one column under
  two names (synonym), validators, `extend_existing`.
- `_bases`: tree classes a model inherits from (mixins, abstract bases) and their members.
- `_names`: names a copied member reads, bound under an alias where the two modules differ.
- `_dataclass`: fields added to a `MappedAsDataclass` canonical keep `__init__` valid.
- `_target`: the target's SQLAlchemy version; 1.x is refused up front.
- `_merge_support`: slots and their placement, relationship targets, `TYPE_CHECKING` imports,
  the `__table_args__` union.
- `_tableargs`: reading and rendering `__table_args__`.
- `_moves`: names the canonical module imported from the old module, moved so no cycle forms.
- `_rebase`: with two declarative bases, the duplicate's dependents move to the canonical registry.
- `_resolve`: the static check that every relationship, backref and foreign key still resolves.
"""

from codemods.merge._merge import MergeConflictError, merge

__all__ = ["MergeConflictError", "merge"]
