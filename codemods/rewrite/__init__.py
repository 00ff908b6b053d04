"""Rewrite stage: the shim and every reference to a moved class, as a `Changeset`.

- `_rewrite`: the entry point; picks each file's rewrite mode and combines the results.
- `_targets`: what moves where (`Relocation`, `Target`), and the per-file mode from one `ast` walk.
- `_statements`: the statement-level shortcut and the reduced-module pass.
- `_refs`: bindings and uses in a file (`BindingLookup`, `Collector` -> `Facts`).
- `_uses`, `_planner`, `_edits`: the edits they need, in phases that hand on frozen values: the
  uses phase (`_uses`) decides each use and hands its `Decisions` to the import-statement phase
  (`_planner`), whose edits the string phase sees; each phase's `Edits` merged in that order.
- `_shim`: the re-export module left at the old location.
- `_registry_names`: registry strings naming a renamed duplicate (`relationship("Account")`,
  `"Account.id == Order.account_id"`), in every class of its registry (run by `migrate`).
- `_mentions`: non-Python files that name the old path (listed, never edited).
"""

from codemods.rewrite._rewrite import rewrite

__all__ = ["rewrite"]
