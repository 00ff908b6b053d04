"""libcst helpers shared by the stages that write code (convert, merge, rewrite).

- `_classbody`: class-body members of a libcst `ClassDef`, their keys for comparison, and the
  module-level name resolver used while copying members.
- `_imports`: import bindings of a module and the `ImportPlanner` that queues names to import.
- `_importedit`: adding and removing imports statement by statement.
"""
