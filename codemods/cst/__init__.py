"""libcst helpers shared by the stages that write code (convert, merge, rewrite).

- `_classbody`: class-body members of a libcst `ClassDef`, their keys for comparison, and the
  module-level name resolver used while copying members.
- `_imports`: import bindings of a module and the `ImportPlanner` that queues names to import.
- `_importedit`, `_importremove`: adding and removing imports statement by statement; `_namelists`: the name
  list of a from-import that grows (kept sorted, one per line when exploded).
- `_isort`: the project's import-sorting style (ruff's or isort's settings) and its order.
- `_placement`: new or changed import statements moved where that sorter puts them.
- `_registry_exprs`: a registry expression string (`"desc(Account.name)"`) with a class renamed.
"""
