"""Alembic awareness: find a project's alembic setup, say when the merge needs a revision, write it.

alembic itself runs only in the target's interpreter (`schema/_alembic_script.py`), on a scratch copy of
the tree with the migration written: modelfold never imports it, so it stays an optional extra.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from codemods import scan
from codemods.diff import combined_changeset, write_changes
from codemods.stage._runtime import source_roots
from codemods.stage._verify import target_python
from codemods.types import ClassDelta, FileChange, Migration, ModelfoldError

__all__ = [
    "AlembicRevision", "AlembicSetup", "alembic_notes", "database_ops", "find_alembic", "find_alembic_setups",
    "migrated_copy", "prepare", "with_revision",
]

SCRIPT_SOURCE = Path(__file__).with_name("_alembic_script.py").read_text(encoding="utf-8")
MARKER = "@@MODELFOLD-ALEMBIC@@"
EXTRA = "modelfold[alembic]"


@dataclass(frozen=True)
class AlembicSetup:
    """Where a project keeps its alembic migrations (paths relative to the root, POSIX)."""

    ini: str | None
    script_location: str
    versions: str


@dataclass(frozen=True)
class AlembicRevision:
    """A revision written for a merge: its file, how it was made and the operations it holds."""

    path: str
    how: str  # "autogenerate" or "delta" (env.py could not run offline against SQLite)
    ops: tuple[str, ...]
    fallback_reason: str | None


def _script_location(root: Path, ini: Path) -> str | None:
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    try:
        parser.read(ini, encoding="utf-8")
        location = parser.get("alembic", "script_location", fallback=None)
    except (configparser.Error, UnicodeDecodeError):
        return None
    if not location:
        return None
    if ":" in location and not Path(location).is_absolute():  # "package:folder" form
        package, _, folder = location.partition(":")
        found = [f for f in scan.source_files(root) if f.module == package and f.is_package]
        if not found:
            return None
        path = (root / found[0].path).parent / folder
    else:
        path = Path(location) if Path(location).is_absolute() else ini.parent / location
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def find_alembic_setups(root: Path) -> list[AlembicSetup]:
    """Every alembic setup under root: each alembic.ini, else each env.py beside a versions/ folder."""
    root = root.resolve()
    found: list[AlembicSetup] = []
    for pattern in ("alembic.ini", "*/alembic.ini", "*/*/alembic.ini"):
        for ini in sorted(root.glob(pattern)):
            if any(part in scan.SKIP_DIRS for part in ini.relative_to(root).parts):
                continue
            location = _script_location(root, ini)
            if location is not None:
                found.append(AlembicSetup(ini.relative_to(root).as_posix(), location, f"{location}/versions"))
    if found:
        return found
    for path in scan.files_named(root, "env.py"):  # not a listing of the whole tree: 9 s at 100,000 files
        folder = PurePosixPath(path).parent
        if (root / folder / "versions").is_dir():
            found.append(AlembicSetup(None, folder.as_posix(), f"{folder.as_posix()}/versions"))
    return found


def find_alembic(root: Path) -> AlembicSetup | None:
    """The first alembic setup under root (alembic.ini first), or None."""
    setups = find_alembic_setups(root)
    return setups[0] if setups else None


def alembic_notes(setup: AlembicSetup | None, migrations: Sequence[Migration], written: bool) -> list[str]:
    """The lines to print prominently when the merge changes a table alembic manages."""
    needing = [d for m in migrations for d in m.schema if d.needs_migration]
    if setup is None or not needing or written:
        return []
    where = setup.ini or f"{setup.script_location}/env.py"
    tables = sorted({d.table for d in needing})
    return [f"ALEMBIC: this project manages its schema with alembic ({where}) and the merge changes "
            f"table(s) {', '.join(tables)}: a new revision is needed in {setup.versions} "
            "(rerun with --alembic-revision to write it, or write it yourself)"]


def _delta_spec(m: Migration) -> dict[str, Any]:
    """The canonical class's delta: what the fallback renders (the class the database follows, we assume)."""
    canonical = m.consolidation.canonical
    delta: ClassDelta | None = next((d for d in m.schema if d.original == canonical.ref), None)
    changed: dict[str, list[str]] = {}
    for c in delta.changed if delta else ():
        if c.ddl:
            changed.setdefault(c.column, []).append(c.field)
    return {"module": canonical.module, "class": canonical.class_name,
            "added": list(delta.added) if delta else [], "changed": changed}


@contextmanager
def migrated_copy(root: Path, migrations: Sequence[Migration]) -> Iterator[Path]:
    """A scratch copy of root's files with the migrations written, removed afterwards."""
    from codemods.migrate import _copy_tree

    with tempfile.TemporaryDirectory(prefix="modelfold-schema-") as tmp:
        tree = Path(tmp) / "tree"
        _copy_tree(root, tree)
        write_changes(tree, combined_changeset(migrations))
        yield tree


def database_ops(
    root: Path, migrations: Sequence[Migration], url: str, *, python: str | None = None,
) -> tuple[str, ...]:
    """The operations the live database at `url` needs to match the merged models (alembic compares)."""
    from codemods.stage._runtime import compare_database

    root = scan.resolve_root(root)
    modules = sorted({m.consolidation.canonical.module for m in migrations})
    with migrated_copy(root, migrations) as tree:
        return compare_database(tree, url, modules, python=python or target_python(root))


def prepare(
    root: Path, migrations: list[Migration], *, revision: bool, python: str | None,
) -> tuple[list[Migration], list[str]]:
    """For `migrate`: the migrations (plus a revision with `revision`) and the lines to print."""
    setups = find_alembic_setups(scan.resolve_root(root))
    setup = setups[0] if setups else None
    lines: list[str] = []
    if revision:
        if setup is None:
            raise ModelfoldError("--alembic-revision: no alembic setup under the root "
                                 "(alembic.ini, or an env.py beside a versions/ folder)")
        if len(setups) > 1:
            names = ", ".join(s.ini or s.script_location for s in setups)
            raise ModelfoldError(f"--alembic-revision: several alembic setups under the root ({names}); "
                                 "give --root the project folder that holds the one to use")
        migrations, written = with_revision(root, migrations, setup, python=python)
        if written is None:
            lines.append("alembic: the consolidated tables already match the migrations; no revision written")
        else:
            lines.append(f"alembic: wrote {written.path} ({'; '.join(written.ops)})")
            if written.how == "delta":
                lines.append("alembic: env.py could not run offline against a scratch SQLite database "
                             f"({written.fallback_reason}); the revision was written from the schema delta of "
                             "the canonical class with op.add_column/op.alter_column: review it")
    return migrations, lines + alembic_notes(setup, migrations, revision)


def with_revision(
    root: Path, migrations: Sequence[Migration], setup: AlembicSetup, *, python: str | None = None,
    timeout: float = 300.0,
) -> tuple[list[Migration], AlembicRevision | None]:
    """The migrations plus a new alembic revision file for the consolidated tables (None: none needed)."""
    root = scan.resolve_root(root)
    tables = sorted({m.table for m in migrations} | {d.table for m in migrations for d in m.schema})
    names = ", ".join(m.consolidation.canonical.class_name for m in migrations)
    with migrated_copy(root, migrations) as tree:
        tmp = tree.parent
        before = {p.relative_to(tree).as_posix() for p in (tree / setup.versions).glob("*.py")}
        files = scan.source_files(tree)
        spec = {
            "path": [str(tree / r) if r else str(tree) for r in source_roots(files)] or [str(tree)],
            "ini": str(tree / setup.ini) if setup.ini else None,
            "script_location": str(tree / setup.script_location),
            "url": f"sqlite:///{Path(tmp) / 'scratch.db'}", "tables": tables,
            "message": f"consolidate {names} models", "rev_id": os.urandom(6).hex(),
            "delta": _delta_spec(migrations[0]),
        }
        cwd = (tree / setup.ini).parent if setup.ini else tree
        result = _run(cwd, python or target_python(root), spec, timeout)
        if result.get("missing"):
            raise ModelfoldError(f"--alembic-revision needs alembic in the target interpreter: install {EXTRA}")
        if result.get("error"):
            raise ModelfoldError(f"cannot write an alembic revision: {result['error']} "
                                 f"(env.py first failed with: {result.get('fallback_reason')})")
        new = sorted({p.relative_to(tree).as_posix() for p in (tree / setup.versions).glob("*.py")} - before)
        if not new:
            return list(migrations), None
        text = (tree / new[0]).read_text(encoding="utf-8")
    ops = tuple(result.get("ops") or ())
    revision = AlembicRevision(new[0], str(result["how"]), ops, result.get("fallback_reason"))
    made = "autogenerated" if revision.how == "autogenerate" else "written from the schema delta"
    change = FileChange(new[0], None, text, f"alembic revision ({made}): {'; '.join(ops)}")
    last = migrations[-1]
    changes = tuple(sorted([*last.changeset.changes, change], key=lambda c: c.path))
    return [*migrations[:-1], replace(last, changeset=replace(last.changeset, changes=changes))], revision


def _run(cwd: Path, python: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    from codemods.stage._runtime import run_marked_script

    try:
        result, why = run_marked_script(python, SCRIPT_SOURCE, MARKER, spec, cwd, timeout)
    except subprocess.TimeoutExpired:
        raise ModelfoldError(f"writing the alembic revision timed out after {timeout:g}s") from None
    if result is None:
        raise ModelfoldError(f"writing the alembic revision failed: interpreter {why}")
    return result
