"""Plan files: one `[[consolidate]]` table per duplicate group, written for review, read and run.

    from codemods.plan import apply_plan, read_plan, write_plan
    Path("modelfold-plan.toml").write_text(write_plan(detect(root)))
    plan = read_plan(Path("modelfold-plan.toml"), root)   # PlanError: every problem, with its line
    result = apply_plan(root, plan)                        # one branch, one commit per entry

Entries run in order, each planned on a scratch copy of the tree as the earlier entries left it
(the chaining `migrate --auto` uses), so their changesets apply one after another.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

from codemods import scan
from codemods.index import build_index, find_model
from codemods.progress import NO_PROGRESS, Progress
from codemods.types import (
    ConflictPolicy,
    Detection,
    DuplicateGroup,
    Migration,
    ModelDef,
    ModelfoldError,
    ModelIndex,
    StageResult,
)

__all__ = [
    "ApplyMode", "EntryFailed", "Plan", "PlanEntry", "PlanError", "PlanIssue", "PlanResult",
    "SkippedEntry", "apply_plan", "read_plan", "write_plan",
]

ENTRY_KEYS = ("canonical", "duplicates", "on_conflict")
TOP_KEYS = ("consolidate",)
HEADER = re.compile(r"^\s*\[\[\s*consolidate\s*\]\]")
TABLE = re.compile(r"^\s*\[")


@dataclass(frozen=True)
class PlanEntry:
    """One consolidation of the plan: keep `canonical`, fold `duplicates` into it."""

    canonical: str
    duplicates: tuple[str, ...]
    on_conflict: ConflictPolicy
    line: int


@dataclass(frozen=True)
class Plan:
    """A validated plan file: its entries in the order they run."""

    path: Path
    entries: tuple[PlanEntry, ...]


@dataclass(frozen=True)
class PlanIssue:
    """One problem in a plan file, at a line (1-based)."""

    line: int
    message: str


class PlanError(ModelfoldError):
    """The plan file is not valid; `issues` holds every problem found, each with its line."""

    def __init__(self, path: Path, issues: Sequence[PlanIssue]) -> None:
        self.path = path
        self.issues = tuple(issues)
        first = self.issues[0]
        more = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(f"{path}:{first.line}: {first.message}{more}")

    def lines(self) -> list[str]:
        """Every issue as `path:line: message`."""
        return [f"{self.path}:{i.line}: {i.message}" for i in self.issues]


class EntryFailed(ModelfoldError):
    """An entry could not be planned (refused or conflicting); nothing was staged or written."""

    def __init__(self, entry: PlanEntry, cause: ModelfoldError) -> None:
        self.entry = entry
        self.cause = cause
        super().__init__(f"entry at line {entry.line} ({entry.canonical}): {cause}")


class ApplyMode(str, Enum):
    """What apply_plan does with the planned entries."""

    DRY_RUN = "dry-run"
    APPLY = "apply"
    STAGE = "stage"


@dataclass(frozen=True)
class SkippedEntry:
    """An entry that did not run, and why (`--keep-going`, or already done)."""

    entry: PlanEntry
    reason: str


@dataclass(frozen=True)
class PlanResult:
    """The entries that ran (their migrations, in order), the ones skipped, and what was made."""

    migrations: tuple[Migration, ...]
    entries: tuple[PlanEntry, ...]
    skipped: tuple[SkippedEntry, ...]
    staged: StageResult | None = None
    written: tuple[str, ...] = ()


# Writing


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


def _definitions(model: ModelDef) -> dict[str, str]:
    found = {c.name: c.source for c in model.columns}
    found.update({r.name: r.source for r in model.relationships})
    found.update({m.name: m.source for m in model.members})
    return found


def _differences(group: DuplicateGroup) -> list[str]:
    """One line per attribute the members define differently: each member's definition."""
    lines: list[str] = []
    for name in group.differing:
        lines.append(f"differs: {name}")
        for model in group.models:
            source = _definitions(model).get(name)
            if source is not None:
                lines.append(f"  {model.ref}: {source[:100]}")
    return lines


def _group_block(group: DuplicateGroup, policy: ConflictPolicy) -> list[str]:
    where = (f"table {group.table!r}" if group.key == "table" else f"class {group.class_name!r} in {group.scope}")
    lines = [_comment(f"{where}: {len(group.models)} classes")]
    lines += [_comment(f"  {m.ref} at {m.path}:{m.line} ({m.style}, table {m.table})") for m in group.models]
    lines += [_comment(f"why keep {group.canonical}: {reason}") for reason in group.reasons]
    for ref, names in group.only_in.items():
        lines.append(_comment(f"only in {ref}: {', '.join(names)}"))
    lines += [_comment(line) for line in _differences(group)]
    if group.note:
        lines.append(_comment(group.note))
    dups = [m.ref for m in group.models if m.ref != group.canonical]
    body = [
        "[[consolidate]]",
        f"canonical = {_toml_str(group.canonical)}",
        "duplicates = [" + ", ".join(_toml_str(d) for d in dups) + "]",
        f"on_conflict = {_toml_str(policy.value)}",
    ]
    tables = {m.table for m in group.models}
    kinds = {m.kind for m in group.models}
    if len(tables) > 1 or kinds != {"class"} or group.across_metadata:
        why = ("the classes are on different tables" if len(tables) > 1
               else "an imperative Table is in the group" if kinds != {"class"}
               else "one table name in different MetaData objects: check does not fail on it")
        lines.append(_comment(f"left out ({why}): fold these by hand, or edit and uncomment"))
        body = ["# " + line for line in body]
    return lines + body


def write_plan(detection: Detection, policy: ConflictPolicy = ConflictPolicy.KEEP_CANONICAL) -> str:
    """The plan file text for every group of a detect run, with detect's reasons as comments."""
    out = [
        "# modelfold plan: one [[consolidate]] table per duplicate group, run in this order.",
        "# Review it: change a canonical, drop a duplicate, delete an entry, set on_conflict",
        "# (keep-canonical | keep-duplicate | fail); then `modelfold apply <this file>`.",
    ]
    for group in detection.groups:
        out += ["", *_group_block(group, policy)]
    return "\n".join(out) + "\n"


# Reading and validating


class _Lines:
    """Line numbers in the plan text: entry headers, keys and strings within an entry."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i + 1 for i, line in enumerate(self.lines) if HEADER.match(line)]

    def entry(self, index: int) -> int:
        return self.headers[index] if index < len(self.headers) else 1

    def _span(self, index: int) -> range:
        start = self.entry(index)
        end = start
        while end < len(self.lines) and not TABLE.match(self.lines[end]):
            end += 1
        return range(start, end + 1)

    def key(self, index: int, key: str) -> int:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        return next((n for n in self._span(index) if pattern.match(self.lines[n - 1])), self.entry(index))

    def value(self, index: int, value: str) -> int:
        quoted = (_toml_str(value), f"'{value}'")
        return next((n for n in self._span(index) if any(q in self.lines[n - 1] for q in quoted)),
                    self.entry(index))

    def top_key(self, key: str) -> int:
        pattern = re.compile(rf"^\s*\[*\s*[\"']?{re.escape(key)}[\"']?\s*[=\]]")
        first = self.headers[0] if self.headers else len(self.lines) + 1
        return next((i + 1 for i, line in enumerate(self.lines[: first - 1]) if pattern.match(line)),
                    next((i + 1 for i, line in enumerate(self.lines) if pattern.match(line)), 1))


def _shape(doc: dict[str, Any], where: _Lines) -> tuple[list[tuple[int, dict[str, Any]]], list[PlanIssue]]:
    """The entry tables and the issues of shape (keys and value types), before the tree is read."""
    issues = [PlanIssue(where.top_key(k), f"unknown key {k!r} (a plan has only [[consolidate]] tables)")
              for k in doc if k not in TOP_KEYS]
    raw = doc.get("consolidate", [])
    if not isinstance(raw, list) or not raw:
        issues.append(PlanIssue(1, "no [[consolidate]] entries"))
        return [], issues
    entries: list[tuple[int, dict[str, Any]]] = []
    for i, table in enumerate(raw):
        line = where.entry(i)
        for key in table:
            if key not in ENTRY_KEYS:
                issues.append(PlanIssue(where.key(i, key), f"unknown key {key!r} (expected {', '.join(ENTRY_KEYS)})"))
        canonical, dups, policy = table.get("canonical"), table.get("duplicates"), table.get("on_conflict")
        if not isinstance(canonical, str):
            issues.append(PlanIssue(where.key(i, "canonical") if "canonical" in table else line,
                                    "canonical must be a string dotted.module:ClassName"))
        if not (isinstance(dups, list) and dups and all(isinstance(d, str) for d in dups)):
            issues.append(PlanIssue(where.key(i, "duplicates") if "duplicates" in table else line,
                                    "duplicates must be a non-empty list of dotted.module:ClassName strings"))
        if policy is not None and policy not in [p.value for p in ConflictPolicy]:
            issues.append(PlanIssue(where.key(i, "on_conflict"), f"on_conflict must be one of "
                                    f"{', '.join(p.value for p in ConflictPolicy)}, not {policy!r}"))
        entries.append((i, table))
    return entries, issues


def _resolve_ref(root: Path, ref: str) -> str:
    """`path/to/file.py:Class` becomes `dotted.module:Class`; a path must stay inside root."""
    target, sep, name = ref.rpartition(":")
    if not sep or not (target.endswith(".py") or "/" in target or "\\" in target):
        return ref
    path = (root / target).resolve()
    if not path.is_relative_to(root):
        raise ModelfoldError(f"{target} is outside the root {root}")
    module, _ = scan.module_name(root, path.relative_to(root).as_posix())
    return f"{module}:{name}"


def _entry_models(
    root: Path, index: ModelIndex, i: int, table: dict[str, Any], where: _Lines
) -> tuple[PlanEntry | None, list[PlanIssue]]:
    refs = [table["canonical"], *table["duplicates"]]
    issues: list[PlanIssue] = []
    models: list[ModelDef] = []
    resolved: list[str] = []
    for ref in refs:
        line = where.value(i, ref)
        try:
            name = _resolve_ref(root, ref)
            model = find_model(index, name)
        except ModelfoldError as exc:
            issues.append(PlanIssue(line, str(exc)))
            continue
        if model.kind != "class":
            issues.append(PlanIssue(line, f"{ref} is an imperative Table, not a model class"))
            continue
        resolved.append(name)
        models.append(model)
    if issues:
        return None, issues
    if resolved[0] in resolved[1:]:
        issues.append(PlanIssue(where.key(i, "duplicates"), f"{refs[0]} is both canonical and a duplicate"))
    tables = sorted({m.table or "" for m in models})
    if len(tables) > 1:
        listed = ", ".join(f"{m.ref} ({m.table})" for m in models)
        issues.append(PlanIssue(where.entry(i), f"classes on different tables: {listed}"))
    policy = ConflictPolicy(table.get("on_conflict", ConflictPolicy.KEEP_CANONICAL.value))
    entry = PlanEntry(resolved[0], tuple(resolved[1:]), policy, where.entry(i))
    return entry, issues


def _cross_entry_issues(entries: Sequence[PlanEntry], where: _Lines, order: Sequence[int]) -> list[PlanIssue]:
    """A canonical that another entry folds away, and a class named by two entries."""
    issues: list[PlanIssue] = []
    duplicated_in = {d: n for n, e in enumerate(entries) for d in e.duplicates}
    canonicals = {e.canonical for e in entries}
    owner: dict[str, int] = {}
    for n, entry in enumerate(entries):
        i = order[n]
        if entry.canonical in duplicated_in and duplicated_in[entry.canonical] != n:
            other = entries[duplicated_in[entry.canonical]].line
            issues.append(PlanIssue(where.value(i, entry.canonical), f"canonical {entry.canonical} is a "
                                    f"duplicate in the entry at line {other}"))
        for ref in (entry.canonical, *entry.duplicates):
            reported = ref in canonicals and ref in duplicated_in
            if ref in owner and owner[ref] != n and not reported:
                issues.append(PlanIssue(where.value(i, ref), f"{ref} is also in the entry at line "
                                        f"{entries[owner[ref]].line}"))
            owner.setdefault(ref, n)
    return issues


def read_plan(path: Path, root: Path, excludes: Sequence[str] = ()) -> Plan:
    """Read and validate a plan against the tree below root; PlanError lists every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelfoldError(f"cannot read plan {path}: {exc.__class__.__name__}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"line (\d+)", str(exc))
        raise PlanError(Path(path), [PlanIssue(int(at.group(1)) if at else 1, f"not TOML: {exc}")]) from None
    where = _Lines(text)
    tables, issues = _shape(doc, where)
    if issues:
        raise PlanError(Path(path), issues)
    root = scan.resolve_root(root)
    index = build_index(root, excludes)
    entries: list[PlanEntry] = []
    order: list[int] = []
    for i, table in tables:
        entry, found = _entry_models(root, index, i, table, where)
        issues += found
        if entry is not None:
            entries.append(entry)
            order.append(i)
    issues += _cross_entry_issues(entries, where, order)
    if issues:
        raise PlanError(Path(path), sorted(issues, key=lambda x: x.line))
    return Plan(Path(path), tuple(entries))


# Running


def _plan_entries(
    root: Path, plan: Plan, *, keep_going: bool, excludes: Sequence[str], warn_on_import: bool,
    progress: Progress,
) -> tuple[list[Migration], list[PlanEntry], list[SkippedEntry]]:
    from codemods.diff import write_changes
    from codemods.migrate import NothingToDo, plan_migration
    from codemods.migrate import _copy_tree as copy_tree

    migrations: list[Migration] = []
    ran: list[PlanEntry] = []
    skipped: list[SkippedEntry] = []
    with tempfile.TemporaryDirectory(prefix="modelfold-plan-") as tmp:
        tree = root
        if len(plan.entries) > 1:
            tree = Path(tmp) / "tree"
            copy_tree(root, tree)
        progress.phase("planning entries", len(plan.entries))
        for entry in plan.entries:
            progress.advance(f"{entry.canonical} <- {', '.join(entry.duplicates)}")
            try:
                migration = plan_migration(tree, entry.canonical, entry.duplicates, policy=entry.on_conflict,
                                           excludes=excludes, warn_on_import=warn_on_import)
            except NothingToDo as exc:
                skipped.append(SkippedEntry(entry, f"nothing to do: {exc}"))
                continue
            except ModelfoldError as exc:
                if not keep_going:
                    raise EntryFailed(entry, exc) from exc
                skipped.append(SkippedEntry(entry, str(exc)))
                continue
            if tree != root:
                write_changes(tree, migration.changeset)
            migrations.append(migration)
            ran.append(entry)
    return migrations, ran, skipped


def apply_plan(
    root: Path, plan: Plan, *, mode: ApplyMode = ApplyMode.STAGE, branch: str | None = None,
    force: bool = False, test_cmd: str | None = None, keep_going: bool = False,
    excludes: Sequence[str] = (), warn_on_import: bool = False, python: str | None = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Run the plan's entries in order: plan each, then preview, write, or stage one branch."""
    progress = progress or NO_PROGRESS
    root = scan.resolve_root(root)
    migrations, ran, skipped = _plan_entries(root, plan, keep_going=keep_going, excludes=excludes,
                                             warn_on_import=warn_on_import, progress=progress)
    result = PlanResult(tuple(migrations), tuple(ran), tuple(skipped))
    if not migrations or mode is ApplyMode.DRY_RUN:
        return result
    if mode is ApplyMode.APPLY:
        from codemods.diff import apply_changeset, combined_changeset

        return replace(result, written=tuple(apply_changeset(root, combined_changeset(migrations))))
    from codemods.stage import stage

    staged = stage(root, migrations, branch=branch, force=force, excludes=excludes, test_cmd=test_cmd,
                   python=python, progress=progress)
    return replace(result, staged=staged, written=staged.files)
