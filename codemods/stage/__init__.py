"""Stage: verify a changeset in a scratch worktree of HEAD and commit it on a new branch.

- `_stage`: gitpython work; the user's checkout, branch and index are never touched.
- `_tree`: the commit planning started from (a commit made meanwhile aborts), submodules.
- `_refs`: branch names by git's rules; the ref moved by compare-and-swap, never a checked-out one.
- `_runs`: each run marked in the repository, so the next one cleans up after a killed run.
- `_verify`: fresh interpreters of the target import the affected modules in each order that
  matters, `configure_mappers()`, DDL per table; before and after compared module by module.
- `_probe`: contained children (scratch tree as cwd, throwaway GIT_DIR, own process group, output
  through files) and the probe API: module targets in, per-module outcomes out.
- `_probe_script`: the script those interpreters run (read as text, never imported here); for
  many import orders one interpreter imports SQLAlchemy and compiles the tree's files once, then
  forks a child per order, so each order still starts with none of the tree's modules imported.
- `_python`: which interpreter imports the target, and whether it can.
- `_schema_loss`: the merged table against each original class; what it lost.
- `_testrun`: the user's test command before and after; which tests regressed.
- `_runtime`, `_runtime_probe`: `modelfold verify`, the runtime checks alone on any tree.
"""

from codemods.stage._probe import ModuleOutcome
from codemods.stage._python import Interpreter, find_python
from codemods.stage._stage import VerificationFailed, default_branch, stage
from codemods.stage._verify import probe_modules, verify

__all__ = [
    "Interpreter", "ModuleOutcome", "VerificationFailed", "default_branch", "find_python",
    "probe_modules", "stage", "verify",
]
