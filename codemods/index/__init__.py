"""Index stage: what the tree declares, read with stdlib `ast` and never imported.

- `_facts`: per-file facts (classes, bases, members, imports), small picklable values.
- `_members`: class-body members (columns, relationships, others) with their normalised spec.
- `_columns`: the one normalised column/relationship/member definition detect and merge compare.
- `_classify`: names followed across modules: a module's facts on demand (`TreeModules`), what a
  name denotes, base, registry, model (`Classifier`), and the key of a MetaData.
- `_index`: reading and parsing the candidate files, and the classes collected into a `ModelIndex`.
- `_naming`: schemas, computed `__tablename__`s and SQLModel fields, computed rather than read.
- `_lookup`: queries on the index for the writing stages: where model classes live, their FK tables, backrefs.
"""

from codemods.index._index import build_index, find_model, index_files, index_texts

__all__ = ["build_index", "find_model", "index_files", "index_texts"]
