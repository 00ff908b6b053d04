"""modelfold's library: find duplicated SQLAlchemy models, merge them, rewrite references, stage.

Pipeline (one module each): scan -> index -> detect -> merge -> rewrite -> verify -> stage/report.
"""

from codemods.types import (
    Changeset,
    Conflict,
    ConflictPolicy,
    Consolidation,
    DuplicateGroup,
    FileChange,
    MergeResult,
    ModelDef,
    ModelfoldError,
    ModelIndex,
)

__all__ = [
    "Changeset",
    "Conflict",
    "ConflictPolicy",
    "Consolidation",
    "DuplicateGroup",
    "FileChange",
    "MergeResult",
    "ModelDef",
    "ModelIndex",
    "ModelfoldError",
]
