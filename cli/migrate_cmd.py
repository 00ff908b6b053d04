"""`modelfold migrate`: plan, then preview (--dry-run), write (--apply) or stage a git branch.

Every option is checked before anything is planned or created (`_validate`); the run itself is
inside `output.guarded`, so each refusal is one line, an exit code and, with `--format json`,
an error document.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from cli import everyday, output
from cli.options import Apply, DryRun, Exclude, Format, FormatOpt, Root, Verbose
from cli.output import CommandError, ExitCode, usage_error
from codemods import report, scan
from codemods.diff import combined_changeset, file_diff
from codemods.safety._faults import checkpoint
from codemods.types import AutoPlan, Changeset, ConflictPolicy, Migration, SkippedGroup, StageResult

if TYPE_CHECKING:
    from codemods.progress import Progress

Refs = Annotated[list[str] | None, typer.Argument(
    metavar="CANONICAL DUPLICATE...", show_default=False,
    help="dotted.module:ClassName of the class to keep, then the ones to fold into it.")]
Auto = Annotated[bool, typer.Option("--auto", help="Fold every detected group into its recommended class.")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="With --auto: refuse the run when any group cannot be migrated (default: skip it).")]
Branch = Annotated[str | None, typer.Option("--branch", help="Branch name (default modelfold/<table>-<hash>).")]
OnConflict = Annotated[ConflictPolicy, typer.Option("--on-conflict", help="What to keep when the classes disagree.")]
ReportFile = Annotated[Path | None, typer.Option("--report", help="Write a Markdown migration report to FILE.")]
TestCmd = Annotated[str | None, typer.Option(
    "--test-cmd", help="Shell command run before and after in the scratch worktree (/bin/sh, cmd.exe on Windows).")]
WarnOnImport = Annotated[bool, typer.Option("--warn-on-import", help="Make the shim emit a DeprecationWarning.")]
Force = Annotated[bool, typer.Option("--force", help="Replace an existing branch of that name.")]
Python = Annotated[str | None, typer.Option(
    "--python", help="Interpreter that imports the target (default: its virtualenv, else modelfold's).")]

AlembicRevision = Annotated[bool, typer.Option(
    "--alembic-revision", help="Write an alembic revision for the merged tables (needs modelfold\\[alembic]).")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="List what this live database needs to match the merged models (modelfold\\[alembic]).")]

STAGE_ONLY = ("--test-cmd", "--branch", "--python", "--force")


@dataclasses.dataclass(frozen=True)
class Run:
    """The validated options of one `migrate` run."""

    mode: str  # "dry-run", "apply" or "stage"
    root: Path
    fmt: Format
    report_file: Path | None
    python: str | None
    start: str | None  # the commit HEAD was at before planning (stage mode): the branch is built on it


def migrate(
    ctx: typer.Context, refs: Refs = None, auto: Auto = False, root: Root = Path("."), dry_run: DryRun = False,
    apply: Apply = False, branch: Branch = None, on_conflict: OnConflict = ConflictPolicy.KEEP_CANONICAL,
    fmt: FormatOpt = Format.TEXT, report_file: ReportFile = None, test_cmd: TestCmd = None,
    warn_on_import: WarnOnImport = False, force: Force = False, exclude: Exclude = None,
    python: Python = None, strict: Strict = False, verbose: Verbose = False,
    alembic_revision: AlembicRevision = False, database_url: DatabaseUrl = None,
) -> None:
    """Fold DUPLICATE models into CANONICAL, rewrite every reference, and stage a git branch."""
    with output.guarded("migrate", fmt, verbose):
        # --python also picks the interpreter alembic runs in, so it counts with those options
        uses_python = alembic_revision or database_url is not None
        branch_prefix: str | None = None
        given = {"--test-cmd": test_cmd is not None, "--branch": branch is not None,
                 "--python": python is not None and not uses_python, "--force": force}
        settings = everyday.repository_settings(root)  # [tool.modelfold]; the command line wins
        excludes = everyday.merged_excludes(exclude, settings)
        if settings.on_conflict is not None and not everyday.given(ctx, "on_conflict"):
            on_conflict = settings.on_conflict
        warn_on_import = warn_on_import or bool(settings.warn_on_import)
        if not dry_run and not apply:  # the settings' staging options apply when staging
            test_cmd, python = test_cmd or settings.test_cmd, python or settings.python
            if branch is None and settings.branch_prefix:
                branch_prefix = settings.branch_prefix
        run = _validate(refs or [], auto, root, dry_run, apply, strict, given, fmt, report_file, python, branch,
                        excludes, test_cmd)
        with everyday.progress_display(ctx) as progress:
            plan = _plan(refs or [], auto, run.root, on_conflict, excludes, warn_on_import, strict, progress)
        checkpoint("migrate.planned")
        if plan is None or not plan.migrations:
            _nothing(run, plan)
        from codemods.stage import default_branch

        migrations = _schema_evidence(run, list(plan.migrations), alembic_revision, database_url, python)
        for line in report.registry_lines(migrations):
            output.note(line)
        left = None  # what is left if Ctrl-C or SIGTERM comes after the writing
        if run.mode == "dry-run":
            payload = _dry_run(run, migrations)
        elif run.mode == "apply":
            payload = _apply(run, migrations)
            left = f"--apply had written all {len(payload['written'])} file(s)"
        else:
            if branch is None and branch_prefix:
                from cli.settings import branch_name

                branch = branch_name(default_branch(migrations), branch_prefix)
            payload = _stage(run, migrations, branch, force, excludes, test_cmd, everyday.progress_for(ctx))
            left = f"branch {payload['branch']} was staged in full"
        with _after_writing(left):
            _finish(run, migrations, plan.skipped, payload)


def _validate(
    refs: list[str], auto: bool, root: Path, dry_run: bool, apply: bool, strict: bool,
    given: dict[str, bool], fmt: Format, report_file: Path | None, python: str | None, branch: str | None,
    excludes: tuple[str, ...], test_cmd: str | None,
) -> Run:
    """Refuse bad or pointless options before anything is planned or created; roll back an
    interrupted --apply (the journal) and record HEAD for staging."""
    from codemods.safety._checks import preflight
    if dry_run and apply:
        raise usage_error("--dry-run and --apply exclude each other")
    mode = "dry-run" if dry_run else "apply" if apply else "stage"
    if mode != "stage":
        for name in (n for n in STAGE_ONLY if given[n]):
            raise usage_error(f"{name} has no effect with --{mode}: it applies only when staging a branch"
                              + (" (or with --alembic-revision/--database-url)" if name == "--python" else ""))
    if auto and refs:
        raise usage_error("--auto takes no CANONICAL/DUPLICATE arguments")
    if not auto and len(refs) < 2:
        raise usage_error("give CANONICAL and at least one DUPLICATE (or --auto)")
    if strict and not auto:
        raise usage_error("--strict applies only with --auto")
    resolved = scan.resolve_root(root)
    for line in preflight(resolved, branch=branch, report=report_file, test_cmd=test_cmd, python=python,
                          excludes=excludes):
        output.note(line)
    if report_file is not None and not os.access(report_file.absolute().parent, os.W_OK):
        raise CommandError(f"--report {report_file}: not writable")
    start = None
    if mode == "stage":
        from codemods.stage._stage import start_commit

        start = start_commit(resolved)
    return Run(mode, resolved, fmt, report_file, python, start)


def _plan(
    refs: list[str], auto: bool, root: Path, policy: ConflictPolicy, excludes: tuple[str, ...],
    warn_on_import: bool, strict: bool, progress: Progress,
) -> AutoPlan | None:
    """The migrations to run; None when the duplicates are already folded (a second run)."""
    # The pipeline (libcst, gitpython) loads here, not when the app starts.
    from codemods.merge import MergeConflictError
    from codemods.merge._rebase import CannotMove
    from codemods.merge._resolve import UnresolvedReferences
    from codemods.migrate import NothingToDo, plan_groups, plan_migration

    try:
        if auto:
            return plan_groups(root, policy=policy, excludes=excludes, warn_on_import=warn_on_import,
                               strict=strict, progress=progress)
        return AutoPlan((plan_migration(root, refs[0], refs[1:], policy=policy, excludes=excludes,
                                        warn_on_import=warn_on_import, progress=progress),))
    except NothingToDo as exc:
        output.note(f"nothing to do: {exc}")
        return None
    except MergeConflictError as exc:
        for c in exc.conflicts:
            output.error_line(f"conflict: {c.attribute} ({c.kind}): {c.canonical} vs {c.duplicate} [{c.duplicate_ref}]")
        raise CommandError(str(exc), code="conflict", exit_code=ExitCode.CONFLICT,
                           details={"conflicts": [asdict(c) for c in exc.conflicts]}) from None
    except (CannotMove, UnresolvedReferences) as exc:  # the result would not configure
        raise CommandError(str(exc), code="conflict", exit_code=ExitCode.CONFLICT) from None


def _schema_evidence(
    run: Run, migrations: list[Migration], revision: bool, url: str | None, python: str | None,
) -> list[Migration]:
    """Alembic (revision or "a revision is needed") and the live database's needs, on stderr."""
    from codemods.schema._alembic import database_ops, prepare

    migrations, lines = prepare(run.root, migrations, revision=revision, python=python)
    if url is not None:
        ops = database_ops(run.root, migrations, url, python=python)
        lines.append(f"database: {len(ops)} operation(s) needed to match the merged models"
                     + "".join(f"\n  {op}" for op in ops) if ops else "database: matches the merged models")
    for line in lines:
        output.note(line)
    return migrations


def _nothing(run: Run, plan: AutoPlan | None) -> NoReturn:
    skipped = plan.skipped if plan is not None else ()
    if plan is not None and not skipped:
        output.note("nothing to do: no duplicate models found")
    if skipped:
        output.note(f"no group could be migrated: {len(skipped)} skipped")
    _finish(run, [], skipped, {})


def _prefixed(migrations: list[Migration], prefix: str) -> list[Migration]:
    """The migrations with paths relative to the git top level (root is `prefix` inside it)."""
    if not prefix:
        return migrations
    out = []
    for m in migrations:
        cs = m.changeset
        changes = tuple(dataclasses.replace(c, path=f"{prefix}/{c.path}") for c in cs.changes)
        mentions = tuple(f"{prefix}/{p}" for p in cs.mentions)
        out.append(dataclasses.replace(m, changeset=dataclasses.replace(cs, changes=changes, mentions=mentions)))
    return out


def _dry_run(run: Run, migrations: list[Migration]) -> dict[str, Any]:
    from codemods.migrate import repo_prefix
    from codemods.safety._checks import refuse_hidden

    # the preview refuses what --apply and staging refuse: a file it could not show rewritten
    combined = combined_changeset(migrations)
    refuse_hidden(run.root, [*(c.path for c in combined.changes), *combined.parsed],
                  [d.class_name for m in migrations for d in m.consolidation.duplicates])
    shown = _prefixed(migrations, repo_prefix(run.root))
    diffs = {c.path: file_diff(c) for c in combined_changeset(shown).changes}  # made once
    if not run.fmt.is_json:
        diff = "".join(diffs[path] for path in sorted(diffs))  # render_diff's order
        if (sys.stdout.isatty() or os.environ.get("FORCE_COLOR")) and output.stdout.is_terminal:
            from rich.syntax import Syntax

            output.stdout.print(Syntax(diff, "diff", theme="ansi_dark", word_wrap=False))
        else:
            sys.stdout.write(diff)
    return report.changes_json(shown, diffs)


def _apply(run: Run, migrations: list[Migration]) -> dict[str, Any]:
    from codemods.safety._journal import apply_migrations

    moved = [d.class_name for m in migrations for d in m.consolidation.duplicates]
    written = apply_migrations(run.root, [m.changeset for m in migrations], moved)
    with _after_writing(f"--apply had written all {len(written)} file(s)"):
        if not run.fmt.is_json:
            for path in written:
                sys.stdout.write(f"wrote {path}\n")
            sys.stdout.write(report.schema_text(migrations))
    return {**report.changes_json(migrations), "written": written}


def _stage(
    run: Run, migrations: list[Migration], branch: str | None, force: bool, excludes: tuple[str, ...],
    test_cmd: str | None, progress: Progress,
) -> dict[str, Any]:
    from codemods.stage import VerificationFailed, stage

    try:
        staged = stage(run.root, migrations, branch=branch, force=force, excludes=excludes,
                       test_cmd=test_cmd, python=run.python, base=run.start, note=output.note, progress=progress)
    except VerificationFailed as exc:
        progress.close(ok=False)
        for msg in exc.verification.messages:
            output.error_line(f"verify: {msg}")
        _write_report(run, report.markdown_report(migrations, verification=exc.verification))
        raise CommandError(f"{exc}; no branch was created", code="verification_failed",
                           exit_code=ExitCode.CONFLICT,
                           details={"verification": asdict(exc.verification)}) from None
    with _after_writing(f"branch {staged.branch} was staged in full"):
        for msg in staged.verification.messages if staged.verification else ():
            output.note(f"verify: {msg}")  # what was already failing before, what was not imported
        progress.close()
        _write_report(run, report.markdown_report(migrations, staged))
        if not run.fmt.is_json:
            sys.stdout.write(_staged_text(migrations, staged))
        return report.staged_json(migrations, staged)


@contextlib.contextmanager
def _after_writing(left: str | None) -> Iterator[None]:
    """An interruption inside says what the finished writing left (the CLI prints the note)."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if left:
            exc.add_note(left)
        raise


def _write_report(run: Run, text: str) -> None:
    if run.report_file is None:
        return
    try:
        run.report_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write --report {run.report_file}: {exc.strerror or exc}") from None


def _finish(
    run: Run, migrations: list[Migration], skipped: tuple[SkippedGroup, ...], payload: dict[str, Any],
) -> NoReturn:
    """Notes for people, the report, the JSON document, and the exit code (1 when groups were skipped)."""
    combined = combined_changeset(migrations)
    if run.mode != "stage" and migrations:
        _write_report(run, report.markdown_report(migrations))
    if not run.fmt.is_json:
        for m in migrations:
            for c in m.merge.conflicts:
                output.note(f"conflict: {c.attribute} ({c.kind}) -> {c.resolution}")
        for w in combined.warnings:
            output.note(f"warning: {w}")
        for f in combined.skipped:
            output.note(f"skipped {f.path}: {f.reason}")
        mentions = payload.get("mentions", combined.mentions)
        if mentions:
            output.note("not edited, but they name the old location: " + ", ".join(mentions))
        for s in skipped:
            output.note(f"skipped {s.title} ({', '.join(s.refs)}): {s.reason}")
        if run.mode == "dry-run" and report.schema_text(migrations):
            output.note(report.schema_text(migrations).rstrip("\n"))
        if migrations:
            done = {"dry-run": "dry run", "apply": "applied", "stage": "staged"}[run.mode]
            tail = "; nothing was written" if run.mode == "dry-run" else ""
            output.note(f"{done}: {_summary(migrations, combined)}{tail}")
    code = ExitCode.FOUND if any(not s.across_metadata for s in skipped) else ExitCode.OK
    if not payload:
        payload = {**report.changes_json([]), "nothing_to_do": not skipped}
    payload = {**payload, "mode": run.mode, "skipped": [asdict(s) for s in skipped]}
    payload.setdefault("nothing_to_do", False)
    output.emit("migrate", run.fmt, payload, code)
    output.finish(code)


def _summary(migrations: list[Migration], combined: Changeset) -> str:
    conflicts = sum(len(m.merge.conflicts) for m in migrations)
    return (f"{len(migrations)} consolidation(s), {len(combined.changes)} file(s) changed, "
            f"{conflicts} conflict(s), {len(combined.warnings)} warning(s)")


def _staged_text(migrations: list[Migration], staged: StageResult) -> str:
    lines = [f"branch: {staged.branch}", f"commit: {staged.commit}", "files changed:"]
    combined = combined_changeset(migrations)
    lines += [f"  {'A' if c.before is None else 'M'} {c.path}  ({c.summary})" for c in combined.changes]
    conflicts = [c for m in migrations for c in m.merge.conflicts]
    lines.append(f"conflicts: {len(conflicts)}")
    lines += [f"  {c.attribute} ({c.kind}): {c.resolution}" for c in conflicts]
    lines += [f"review:   git diff HEAD...{staged.branch}", f"rollback: git branch -D {staged.branch}"]
    return "\n".join(lines) + "\n" + report.schema_text(migrations)


COMMANDS = {"migrate": migrate}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    output.register(app, COMMANDS)
