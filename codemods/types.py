"""Frozen data passed between the pipeline stages. No logic lives here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

Style = Literal["legacy", "mapped", "mixed"]


class ConflictPolicy(str, Enum):
    """What merge does when canonical and duplicate define one attribute differently."""

    KEEP_CANONICAL = "keep-canonical"
    KEEP_DUPLICATE = "keep-duplicate"
    FAIL = "fail"


class ModelfoldError(Exception):
    """Bad input or a refused operation; the message is one line meant for the user."""


@dataclass(frozen=True)
class SourceFile:
    """One Python file of the target tree. `path` is POSIX, relative to the root."""

    path: str
    module: str
    is_package: bool


@dataclass(frozen=True)
class Skipped:
    """A file a stage could not use, and why (the index's unreadable files, the rewrite's skipped ones)."""

    path: str
    reason: str


@dataclass(frozen=True)
class ImportSpec:
    """One import to add or drop: `import module [as asname]`, or `from module import obj [as asname]`."""

    module: str
    obj: str | None = None
    asname: str | None = None


@dataclass(frozen=True)
class ColumnDef:
    """A column attribute, normalised so two spellings of one column compare equal.

    Expressions (`type`, `default`, ...) are source text with whitespace removed, so
    `String( 255 )` and `String(255)` match; `None` means "not given".
    """

    name: str
    column_name: str
    type: str | None
    nullable: bool
    primary_key: bool
    unique: bool
    index: bool
    foreign_keys: tuple[str, ...]
    default: str | None
    server_default: str | None
    onupdate: str | None
    style: Literal["legacy", "mapped"]
    source: str
    line: int
    # the one normalised definition detect and merge compare (index._columns.column_spec)
    spec: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RelationshipDef:
    """A relationship attribute; `target` is the class argument as written (unquoted)."""

    name: str
    target: str
    back_populates: str | None
    backref: str | None
    secondary: str | None
    uselist: bool | None
    lazy: str | None
    style: Literal["legacy", "mapped"]
    source: str
    line: int
    spec: tuple[tuple[str, str], ...] = ()  # index._columns.relationship_spec


@dataclass(frozen=True)
class MemberDef:
    """Any other class-body member: method, property, validator, constant, table args..."""

    name: str
    kind: str
    source: str
    line: int
    spec: str = ""  # index._columns.code_spec


@dataclass(frozen=True)
class ModelDef:
    """A mapped class, or an imperative `Table(...)` (kind "table", no class members)."""

    ref: str
    module: str
    class_name: str
    path: str
    line: int
    table: str | None
    kind: Literal["class", "table"]
    registry: str | None
    metadata: str | None
    style: Style
    columns: tuple[ColumnDef, ...] = ()
    relationships: tuple[RelationshipDef, ...] = ()
    members: tuple[MemberDef, ...] = ()
    schema: str | None = None  # from __table_args__, a Table(schema=), a base or the MetaData
    fk_tables: frozenset[str] = frozenset()  # tables (or `<class>Name`) its foreign keys reference


@dataclass(frozen=True)
class BaseDef:
    """A declarative base (or registry) found in the tree: its qualified name and what it keys."""

    qualname: str
    path: str
    line: int
    how: str
    registry: str
    metadata: str


@dataclass(frozen=True)
class ModelIndex:
    """Everything the static scan learned about models, with per-file outcomes."""

    models: tuple[ModelDef, ...]
    bases: tuple[BaseDef, ...]
    files_scanned: int
    skipped: tuple[Skipped, ...]
    importers: dict[str, int] = field(default_factory=dict)
    modules: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DuplicateGroup:
    """Models that claim one table (or one class name in a registry)."""

    key: Literal["table", "class_name"]
    table: str | None
    class_name: str
    scope: str | None
    resolved: bool
    models: tuple[ModelDef, ...]
    canonical: str
    reasons: tuple[str, ...]
    only_in: dict[str, tuple[str, ...]]
    differing: tuple[str, ...]
    note: str | None = None
    # one table name in two or more MetaData objects: no runtime clash, but two models of one table
    across_metadata: bool = False


@dataclass(frozen=True)
class Consolidation:
    """The plan for one group: keep `canonical`, fold each of `duplicates` into it."""

    canonical: ModelDef
    duplicates: tuple[ModelDef, ...]
    policy: ConflictPolicy = ConflictPolicy.KEEP_CANONICAL


@dataclass(frozen=True)
class Conflict:
    """One attribute defined differently by canonical and a duplicate, and what was kept."""

    attribute: str
    kind: str
    canonical: str
    duplicate: str
    duplicate_ref: str
    resolution: str


@dataclass(frozen=True)
class TableConflict:
    """A difference `__table_args__` merging found, before it is tied to a duplicate as a `Conflict`."""

    attribute: str
    kind: str
    canonical: str
    duplicate: str
    resolution: str


@dataclass(frozen=True)
class MovedName:
    """A top-level name moved from a duplicate's module into the canonical module."""

    name: str
    from_module: str
    to_module: str


@dataclass(frozen=True)
class MergeResult:
    """Merge output: the canonical module's new text and what the rewrite must know."""

    canonical_path: str
    canonical_text: str
    conflicts: tuple[Conflict, ...]
    moved: tuple[MovedName, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class FileChange:
    """One file's text before and after; `before` is None for a new file."""

    path: str
    before: str | None
    after: str
    summary: str


@dataclass(frozen=True)
class Changeset:
    """Every file a consolidation changes, sorted by path, plus what was seen but not edited."""

    changes: tuple[FileChange, ...]
    warnings: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    parsed: tuple[str, ...] = ()  # files read past the cheap filters and rewritten (the performance guard counts them)
    skipped: tuple[Skipped, ...] = ()  # files the rewrite could not read and that need no change


@dataclass(frozen=True)
class Detection:
    """The result of `detect`: the index and the duplicate groups found in it, sorted."""

    index: ModelIndex
    groups: tuple[DuplicateGroup, ...]

@dataclass(frozen=True)
class ColumnDelta:
    """One property of a column that differs between an original class and the merged one."""

    column: str
    field: str  # type, length, nullable, primary_key, default, server_default, onupdate, unique, index, foreign_key
    before: str
    after: str
    ddl: bool  # False for Python-side settings (default, onupdate) that no migration carries


@dataclass(frozen=True)
class ClassDelta:
    """How the merged table differs from the table one original class declared (static, no import)."""

    original: str
    path: str
    table: str
    added: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()  # empty by construction: a merge keeps every column of every class
    changed: tuple[ColumnDelta, ...] = ()
    constraints_added: tuple[str, ...] = ()
    constraints_removed: tuple[str, ...] = ()
    indexes_added: tuple[str, ...] = ()
    indexes_removed: tuple[str, ...] = ()

    @property
    def needs_migration(self) -> bool:
        """True when a database created from `original` needs DDL to match the merged class."""
        return bool(self.added or self.dropped or any(c.ddl for c in self.changed)
                    or self.constraints_added or self.constraints_removed
                    or self.indexes_added or self.indexes_removed)


# Values of a migration run: the plan, verification and staging.


@dataclass(frozen=True)
class RegistryMove:
    """A class of the duplicate's registry rebased onto the canonical one, so its references resolve."""

    class_name: str
    module: str  # where the class lives after the change
    path: str
    table: str | None
    relates_to: str  # the class that ties it to the duplicate (the duplicate itself, or a moved class)
    from_base: str
    to_base: str
    from_metadata: str
    to_metadata: str

    def describe(self) -> str:
        """`UserProfile (relates to User)`."""
        return f"{self.class_name} (relates to {self.relates_to})"


@dataclass(frozen=True)
class Migration:
    """One consolidation planned end to end: the plan, the merged class, every file it changes."""

    consolidation: Consolidation
    merge: MergeResult
    changeset: Changeset
    schema: tuple[ClassDelta, ...] = ()  # the merged table against each original class's table
    registry_moves: tuple[RegistryMove, ...] = ()  # classes rebased onto the canonical registry

    @property
    def table(self) -> str:
        """The table the group claims (or the class name when the model has none)."""
        return self.consolidation.canonical.table or self.consolidation.canonical.class_name


@dataclass(frozen=True)
class SkippedGroup:
    """A duplicate group `migrate --auto` left alone, and why (one line)."""

    title: str
    refs: tuple[str, ...]
    reason: str
    across_metadata: bool = False  # listed, but not a clash: it does not make `check` fail either


@dataclass(frozen=True)
class AutoPlan:
    """`migrate --auto`: the migrations planned (chained) and the groups skipped, with reasons."""

    migrations: tuple[Migration, ...]
    skipped: tuple[SkippedGroup, ...] = ()


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
    failed: tuple[str, ...] = ()  # failing tests the output names ("path::test - Error")


@dataclass(frozen=True)
class Verification:
    """What verify checked in the scratch tree, and whether the result is safe to commit."""

    ok: bool
    import_orders: tuple[tuple[str, ...], ...]
    schema: tuple[TableDiff, ...]
    tests: tuple[TestRun, ...]
    messages: tuple[str, ...]
    regressions: tuple[str, ...] = ()  # what blocks, first regression first; empty when ok


@dataclass(frozen=True)
class StageResult:
    """A staged migration: the branch, its commits (one per consolidation), and what was checked."""

    branch: str
    commit: str
    commits: tuple[str, ...]
    files: tuple[str, ...]
    verification: Verification | None

@dataclass(frozen=True)
class BeforeSnapshot:
    """The tree at HEAD: each consolidated class's table as its own module defines it, each module's outcome."""

    classes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    tests: TestRun | None = None
    outcomes: Mapping[str, str | None] = field(default_factory=dict)  # module -> its error, None if it imported
    configure: tuple[str, ...] = ()  # configure_mappers() errors seen at HEAD
