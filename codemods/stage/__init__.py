"""Stage: verify a changeset in a scratch worktree of HEAD and commit it on a new branch.

- `_stage`: gitpython work; the user's checkout, branch and index are never touched.
- `_tree`: the commit planning started from (a commit made meanwhile aborts), submodules.
- `_refs`: branch names by git's rules; the ref moved by compare-and-swap, never a checked-out one.
- `_runs`: each run marked in the repository, so the next one cleans up after a killed run.
- `_verify`: fresh interpreters of the target import the affected modules in each order that
  matters, `configure_mappers()`, DDL per table before and after, the optional test command.
- `_probe_script`: the script those interpreters run (read as text, never imported here).
"""

from codemods.stage._stage import VerificationFailed, default_branch, stage
from codemods.stage._verify import verify

__all__ = ["VerificationFailed", "default_branch", "stage", "verify"]
