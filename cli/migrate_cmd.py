"""`modelfold migrate`: plan, then preview (--dry-run), write (--apply) or stage a git branch."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from cli import everyday, output
from codemods import report
from codemods.diff import combine, render_diff
from codemods.progress import Progress
from codemods.types import ConflictPolicy, Migration, ModelfoldError, StageResult


class Format(str, Enum):
    """Output format of the command."""

    TEXT = "text"
    JSON = "json"


Refs = Annotated[list[str] | None, typer.Argument(
    metavar="CANONICAL DUPLICATE...", show_default=False,
    help="dotted.module:ClassName of the class to keep, then the ones to fold into it.")]
Auto = Annotated[bool, typer.Option("--auto", help="Fold every detected group into its recommended class.")]
Root = Annotated[Path, typer.Option("--root", help="Root of the target tree.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the unified diff; change nothing.")]
Apply = Annotated[bool, typer.Option("--apply", help="Write the files in place (all or none), no branch.")]
Branch = Annotated[str | None, typer.Option("--branch", help="Branch name (default modelfold/<table>-<hash>).")]
OnConflict = Annotated[ConflictPolicy, typer.Option("--on-conflict", help="What to keep when the classes disagree.")]
Fmt = Annotated[Format, typer.Option("--format", help="text or json.")]
ReportFile = Annotated[Path | None, typer.Option("--report", help="Write a Markdown migration report to FILE.")]
TestCmd = Annotated[str | None, typer.Option("--test-cmd", help="Run before and after, in the scratch worktree.")]
WarnOnImport = Annotated[bool, typer.Option("--warn-on-import", help="Make the shim emit a DeprecationWarning.")]
Force = Annotated[bool, typer.Option("--force", help="Replace an existing branch of that name.")]
Python = Annotated[str | None, typer.Option(
    "--python", help="Interpreter that imports the target (default: its virtualenv, else modelfold's).")]
Exclude = Annotated[list[str] | None, typer.Option("--exclude", help="Glob of paths to leave out (repeatable).")]
AlembicRevision = Annotated[bool, typer.Option(
    "--alembic-revision", help="Write an alembic revision for the merged tables (needs modelfold\\[alembic]).")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="List what this live database needs to match the merged models (modelfold\\[alembic]).")]


def migrate(
    ctx: typer.Context, refs: Refs = None, auto: Auto = False, root: Root = Path("."), dry_run: DryRun = False,
    apply: Apply = False, branch: Branch = None, on_conflict: OnConflict = ConflictPolicy.KEEP_CANONICAL,
    fmt: Fmt = Format.TEXT, report_file: ReportFile = None, test_cmd: TestCmd = None,
    warn_on_import: WarnOnImport = False, force: Force = False, exclude: Exclude = None,
    python: Python = None, alembic_revision: AlembicRevision = False, database_url: DatabaseUrl = None,
) -> None:
    """Fold DUPLICATE models into CANONICAL, rewrite every reference, and stage a git branch."""
    # The pipeline (libcst, gitpython) loads here, not when the app starts.
    from codemods.merge import MergeConflictError
    from codemods.migrate import NothingToDo
    from codemods.rebase import CannotMove
    from codemods.resolve import UnresolvedReferences

    if dry_run and apply:
        output.fail("--dry-run and --apply exclude each other")
    settings = everyday.repository_settings(root)  # [tool.modelfold]; the command line wins
    excludes = everyday.merged_excludes(exclude, settings)
    if settings.on_conflict is not None and not everyday.given(ctx, "on_conflict"):
        on_conflict = settings.on_conflict
    warn_on_import = warn_on_import or bool(settings.warn_on_import)
    test_cmd, python = test_cmd or settings.test_cmd, python or settings.python
    try:
        from codemods.checks import preflight, refuse_cr_only
        from codemods.stage._stage import start_commit

        for line in preflight(root, branch=branch, report=report_file, test_cmd=test_cmd,
                              python=python, excludes=excludes):
            output.note(line)
        start = start_commit(root) if root.is_dir() else None
        with everyday.progress_display(ctx) as progress:
            migrations = _plan(refs or [], auto, root, on_conflict, excludes, warn_on_import, progress)
        refuse_cr_only([m.changeset for m in migrations])
    except NothingToDo as exc:
        output.note(f"nothing to do: {exc}")
        raise typer.Exit(output.EXIT_OK) from None
    except MergeConflictError as exc:
        for conflict in exc.conflicts:
            output.note(f"conflict: {conflict.attribute} ({conflict.kind}): "
                        f"{conflict.canonical} vs {conflict.duplicate} [{conflict.duplicate_ref}]")
        output.fail(str(exc), output.EXIT_CONFLICT)
    except (CannotMove, UnresolvedReferences) as exc:  # the result would not configure
        output.fail(str(exc), output.EXIT_CONFLICT)
    except ModelfoldError as exc:
        output.fail(str(exc))
    if not migrations:
        output.note("nothing to do: no duplicate models found")
        raise typer.Exit(output.EXIT_OK)
    migrations = _schema_evidence(root, migrations, alembic_revision, database_url, python)
    for line in report.registry_lines(migrations):
        output.note(line)
    if dry_run:
        _dry_run(migrations, fmt)
    elif apply:
        _apply(root, migrations, fmt)
    else:
        if branch is None and settings.branch_prefix:
            from codemods.settings import branch_name
            from codemods.stage import default_branch

            branch = branch_name(default_branch(migrations), settings.branch_prefix)
        _stage(root, migrations, branch, force, excludes, test_cmd, fmt, report_file, python, start,
               everyday.progress_for(ctx))
        return
    if report_file is not None:
        report_file.write_text(report.markdown_report(migrations), encoding="utf-8")


def _plan(
    refs: list[str], auto: bool, root: Path, policy: ConflictPolicy, excludes: tuple[str, ...],
    warn_on_import: bool, progress: Progress,
) -> list[Migration]:
    from codemods.migrate import plan_auto, plan_migration

    if auto:
        if refs:
            raise ModelfoldError("--auto takes no CANONICAL/DUPLICATE arguments")
        return plan_auto(root, policy=policy, excludes=excludes, warn_on_import=warn_on_import, progress=progress)
    if len(refs) < 2:
        raise ModelfoldError("give CANONICAL and at least one DUPLICATE (or --auto)")
    return [plan_migration(root, refs[0], refs[1:], policy=policy, excludes=excludes,
                           warn_on_import=warn_on_import, progress=progress)]


def _schema_evidence(
    root: Path, migrations: list[Migration], revision: bool, url: str | None, python: str | None,
) -> list[Migration]:
    """Alembic (revision or "a revision is needed") and the live database's needs, on stderr."""
    from codemods.alembic_support import database_ops, prepare

    try:
        migrations, lines = prepare(root, migrations, revision=revision, python=python)
        if url is not None:
            ops = database_ops(root, migrations, url, python=python)
            lines.append(f"database: {len(ops)} operation(s) needed to match the merged models"
                         + "".join(f"\n  {op}" for op in ops) if ops else "database: matches the merged models")
    except ModelfoldError as exc:
        from rich.markup import escape

        output.fail(escape(str(exc)))  # the message names modelfold[alembic]: not markup
    for line in lines:
        output.note(line)
    return migrations


def _summary(migrations: list[Migration]) -> str:
    combined = combine([m.changeset for m in migrations])
    conflicts = sum(len(m.merge.conflicts) for m in migrations)
    return (f"{len(migrations)} consolidation(s), {len(combined.changes)} file(s) changed, "
            f"{conflicts} conflict(s), {len(combined.warnings)} warning(s)")


def _dry_run(migrations: list[Migration], fmt: Format) -> None:
    if fmt is Format.JSON:
        sys.stdout.write(report.dumps(report.changes_json(migrations)))
    else:
        diff = render_diff(combine([m.changeset for m in migrations]))
        if (sys.stdout.isatty() or os.environ.get("FORCE_COLOR")) and output.stdout.is_terminal:
            from rich.syntax import Syntax

            output.stdout.print(Syntax(diff, "diff", theme="ansi_dark", word_wrap=False))
        else:
            sys.stdout.write(diff)
    for m in migrations:
        for c in m.merge.conflicts:
            output.note(f"conflict: {c.attribute} ({c.kind}) -> {c.resolution}")
    for w in combine([m.changeset for m in migrations]).warnings:
        output.note(f"warning: {w}")
    if fmt is not Format.JSON and report.schema_text(migrations):
        output.note(report.schema_text(migrations).rstrip("\n"))
    output.note(f"dry run: {_summary(migrations)}; nothing was written")


def _apply(root: Path, migrations: list[Migration], fmt: Format) -> None:
    from codemods.journal import apply_migrations

    moved = [d.class_name for m in migrations for d in m.consolidation.duplicates]
    try:
        written = apply_migrations(root.resolve(), [m.changeset for m in migrations], moved)
    except ModelfoldError as exc:
        output.fail(str(exc))
    if fmt is Format.JSON:
        doc = report.changes_json(migrations)
        doc["written"] = written
        sys.stdout.write(report.dumps(doc))
    else:
        for path in written:
            sys.stdout.write(f"wrote {path}\n")
        sys.stdout.write(report.schema_text(migrations))
    output.note(f"applied: {_summary(migrations)}")


def _stage(
    root: Path, migrations: list[Migration], branch: str | None, force: bool,
    excludes: tuple[str, ...], test_cmd: str | None, fmt: Format, report_file: Path | None,
    python: str | None, start: str | None = None, progress: Progress | None = None,
) -> None:
    from codemods.progress import NO_PROGRESS
    from codemods.stage import VerificationFailed, stage

    progress = progress or NO_PROGRESS
    try:
        staged = stage(root.resolve(), migrations, branch=branch, force=force, excludes=excludes,
                       test_cmd=test_cmd, python=python, base=start, note=output.note, progress=progress)
    except VerificationFailed as exc:
        progress.close(ok=False)
        for msg in exc.verification.messages:
            output.note(f"verify: {msg}")
        if report_file is not None:
            text = report.markdown_report(migrations, verification=exc.verification)
            report_file.write_text(text, encoding="utf-8")
        output.fail(f"{exc}; no branch was created", output.EXIT_CONFLICT)
    except ModelfoldError as exc:
        progress.close(ok=False)
        output.fail(str(exc))
    progress.close()
    if report_file is not None:
        report_file.write_text(report.markdown_report(migrations, staged), encoding="utf-8")
    if fmt is Format.JSON:
        sys.stdout.write(report.dumps(report.staged_json(migrations, staged)))
    else:
        sys.stdout.write(_staged_text(migrations, staged))
    output.note(f"staged: {_summary(migrations)}")


def _staged_text(migrations: list[Migration], staged: StageResult) -> str:
    lines = [f"branch: {staged.branch}", f"commit: {staged.commit}", "files changed:"]
    combined = combine([m.changeset for m in migrations])
    lines += [f"  {'A' if c.before is None else 'M'} {c.path}  ({c.summary})" for c in combined.changes]
    conflicts = [c for m in migrations for c in m.merge.conflicts]
    lines.append(f"conflicts: {len(conflicts)}")
    lines += [f"  {c.attribute} ({c.kind}): {c.resolution}" for c in conflicts]
    lines += [f"review:   git diff HEAD...{staged.branch}", f"rollback: git branch -D {staged.branch}"]
    return "\n".join(lines) + "\n" + report.schema_text(migrations)


def register(app: typer.Typer) -> None:
    """Add `migrate` to the app."""
    app.command(name="migrate")(migrate)
