"""modelfold's library: find duplicated SQLAlchemy models, merge them, rewrite references, stage.

Pipeline (one module each): scan -> index -> detect -> merge -> rewrite -> verify -> stage/report.
Entry points other than `detect` are imported on first use, so `modelfold check` does not pay for
libcst or gitpython.

    from codemods import apply_changeset, detect, plan_migration, render_diff
    from codemods.stage import stage

    found = detect("path/to/repo")
    migration = plan_migration(Path("path/to/repo"), "app.auth.models:User", ["app.users.models:User"])
    print(render_diff(migration.changeset))        # or apply_changeset(root, migration.changeset)
    stage(Path("path/to/repo"), [migration])       # a verified commit on a new branch

`merge`, `rewrite` and `stage` share their module's name, so import them from `codemods.merge`,
`codemods.rewrite` and `codemods.stage`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from codemods.detect import detect
from codemods.types import (
    Changeset,
    Conflict,
    ConflictPolicy,
    Consolidation,
    Detection,
    DuplicateGroup,
    FileChange,
    MergeResult,
    ModelDef,
    ModelfoldError,
    ModelIndex,
)

if TYPE_CHECKING:
    from codemods.convert import modernize
    from codemods.diff import apply_changeset, render_diff
    from codemods.index import build_index, find_model
    from codemods.merge import MergeConflictError
    from codemods.migrate import NothingToDo, plan_auto, plan_groups, plan_migration
    from codemods.report import markdown_report
    from codemods.stage import VerificationFailed
    from codemods.types import AutoPlan, Migration, StageResult, Verification

_LAZY = {
    "Migration": "codemods.types", "StageResult": "codemods.types",
    "Verification": "codemods.types", "modernize": "codemods.convert",
    "apply_changeset": "codemods.diff", "render_diff": "codemods.diff", "build_index": "codemods.index",
    "find_model": "codemods.index", "MergeConflictError": "codemods.merge",
    "NothingToDo": "codemods.migrate", "plan_auto": "codemods.migrate", "plan_groups": "codemods.migrate",
    "AutoPlan": "codemods.types",
    "plan_migration": "codemods.migrate", "markdown_report": "codemods.report",
    "VerificationFailed": "codemods.stage",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'codemods' has no attribute {name!r}")


__all__ = [
    "AutoPlan", "Changeset", "Conflict", "ConflictPolicy", "Consolidation", "Detection", "DuplicateGroup",
    "FileChange", "MergeConflictError", "MergeResult", "Migration", "ModelDef", "ModelIndex",
    "ModelfoldError", "NothingToDo", "StageResult", "Verification", "VerificationFailed",
    "apply_changeset", "build_index", "detect", "find_model", "markdown_report", "modernize",
    "plan_auto", "plan_groups", "plan_migration", "render_diff",
]
