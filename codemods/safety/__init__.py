"""Do no harm: what is checked before any work, and what makes writing recoverable.

- `_checks`: options validated before anything is planned (branch names, `--report`, `--python`,
  `--exclude`, `--test-cmd`), files git hides from `status`, files it may not read, `preflight`.
- `_journal`: `--apply` journalled (targets, temp names, original bytes); rolled back on an
  interruption, and by the next run after a kill.
- `_faults`: named fault-injection points (`MODELFOLD_FAULT=<step>`) the tests interrupt at.
"""
