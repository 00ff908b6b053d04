"""Schema evidence: what a merge changes in the database, and the alembic revision for it.

- `_delta`: each original class's table against the merged one, read from the source.
- `_alembic`: alembic setups found in the tree, `--alembic-revision`, `--database-url`.
- `_alembic_script`: the script those run in the target's interpreter (read as text, never
  imported here).
"""
