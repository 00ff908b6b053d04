"""Frozen values of the migrate command (plan, verification, staging); no logic lives here."""

from __future__ import annotations

from dataclasses import dataclass

from codemods.types import Changeset, Consolidation, MergeResult


@dataclass(frozen=True)
class Migration:
    """One consolidation planned end to end: the plan, the merged class, every file it changes."""

    consolidation: Consolidation
    merge: MergeResult
    changeset: Changeset

    @property
    def table(self) -> str:
        """The table the group claims (or the class name when the model has none)."""
        return self.consolidation.canonical.table or self.consolidation.canonical.class_name


@dataclass(frozen=True)
class ColumnChange:
    """One column whose DDL differs: its spec before and after."""

    name: str
    before: str
    after: str


@dataclass(frozen=True)
class TableDiff:
    """How one table's DDL differs between a before side (`compared_to`) and after."""

    table: str
    compared_to: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[ColumnChange, ...] = ()
    constraints_added: tuple[str, ...] = ()
    constraints_removed: tuple[str, ...] = ()
    indexes_added: tuple[str, ...] = ()
    indexes_removed: tuple[str, ...] = ()
    before_ddl: str = ""
    after_ddl: str = ""

    @property
    def identical(self) -> bool:
        """True when the table's DDL is the same text before and after."""
        return self.before_ddl == self.after_ddl


@dataclass(frozen=True)
class TestRun:
    """The optional test command, run on one side (`before` or `after`)."""

    __test__ = False  # not a pytest test class

    side: str
    command: str
    returncode: int
    tail: str
    seconds: float


@dataclass(frozen=True)
class Verification:
    """What verify checked in the scratch tree, and whether the result is safe to commit."""

    ok: bool
    import_orders: tuple[tuple[str, ...], ...]
    schema: tuple[TableDiff, ...]
    tests: tuple[TestRun, ...]
    messages: tuple[str, ...]


@dataclass(frozen=True)
class StageResult:
    """A staged migration: the branch, its commits (one per consolidation), and what was checked."""

    branch: str
    commit: str
    commits: tuple[str, ...]
    files: tuple[str, ...]
    verification: Verification | None
