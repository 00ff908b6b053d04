"""`modelfold plan` (write a reviewable plan file) and `modelfold apply` (run it on one branch)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import output
from cli.everyday import given, merged_excludes, progress_display, repository_settings, verbosity
from codemods.types import ConflictPolicy, ModelfoldError

DEFAULT_PLAN = "modelfold-plan.toml"


class PlanFormat(str, Enum):
    """Output format of `apply`."""

    TEXT = "text"
    JSON = "json"


PathArg = Annotated[Path, typer.Argument(help="Root of the project to scan.")]
OutOpt = Annotated[Path, typer.Option("--output", "-o", help="Where to write the plan.")]
ExcludeOpt = Annotated[list[str] | None, typer.Option(
    "--exclude", help="Glob or directory to leave out (repeatable).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing plan file / replace the branch.")]
PlanArg = Annotated[Path, typer.Argument(help="The plan file (written by `modelfold plan`).")]
RootOpt = Annotated[Path, typer.Option("--root", help="Root of the target tree.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the combined diff; change nothing.")]
ApplyOpt = Annotated[bool, typer.Option("--apply", help="Write the files in place (all or none), no branch.")]
BranchOpt = Annotated[str | None, typer.Option("--branch", help="Branch name (default <branch_prefix>auto-<hash>).")]
TestCmdOpt = Annotated[str | None, typer.Option("--test-cmd", help="Run before and after, in the scratch worktree.")]
KeepGoingOpt = Annotated[bool, typer.Option("--keep-going", help="Skip an entry that cannot run, report why.")]
FormatOpt = Annotated[PlanFormat, typer.Option("--format", help="text or json.")]
PythonOpt = Annotated[str | None, typer.Option("--python", help="Interpreter that imports the target.")]
WarnOpt = Annotated[bool | None, typer.Option(
    "--warn-on-import/--no-warn-on-import", help="Make the shims emit a DeprecationWarning.", show_default=False)]
PolicyOpt = Annotated[ConflictPolicy, typer.Option("--on-conflict", help="on_conflict written for each entry.")]


def plan_command(
    ctx: typer.Context, path: PathArg = Path("."), out: OutOpt = Path(DEFAULT_PLAN),
    exclude: ExcludeOpt = None, on_conflict: PolicyOpt = ConflictPolicy.KEEP_CANONICAL, force: ForceOpt = False,
) -> None:
    """Write a plan file (one `consolidate` table per duplicate group) to review and edit."""
    from codemods.detect import detect
    from codemods.plan import write_plan

    with output.interruptible():  # Ctrl-C, SIGTERM: exit 130, 143 and one line
        settings = repository_settings(path)
        if not given(ctx, "on_conflict") and settings.on_conflict is not None:
            on_conflict = settings.on_conflict
        if out.exists() and not force:
            output.fail(f"{out} exists (use --force to overwrite)")
        try:
            detection = detect(path, merged_excludes(exclude, settings))
        except ModelfoldError as exc:
            output.fail(str(exc))
        if not detection.groups:
            if not verbosity(ctx).quiet:
                output.note("no duplicate models found; no plan written")
            raise typer.Exit(output.EXIT_OK)
        out.write_text(write_plan(detection, on_conflict), encoding="utf-8")
        sys.stdout.write(f"{out}\n")
        if not verbosity(ctx).quiet:
            output.note(f"wrote {len(detection.groups)} group(s) to {out}; review it, then `modelfold apply {out}`")


def apply_command(
    ctx: typer.Context, plan_file: PlanArg, root: RootOpt = Path("."), dry_run: DryRunOpt = False,
    apply: ApplyOpt = False, branch: BranchOpt = None, test_cmd: TestCmdOpt = None,
    keep_going: KeepGoingOpt = False, fmt: FormatOpt = PlanFormat.TEXT, exclude: ExcludeOpt = None,
    python: PythonOpt = None, warn_on_import: WarnOpt = None, force: ForceOpt = False,
) -> None:
    """Run a plan's entries in order on one branch, one commit per entry."""
    from codemods.plan import ApplyMode, EntryFailed, PlanError, apply_plan, read_plan
    from codemods.stage import VerificationFailed

    with output.interruptible():  # Ctrl-C, SIGTERM: exit 130, 143 and one line
        if dry_run and apply:
            output.fail("--dry-run and --apply exclude each other")
        if dry_run or apply:
            stage_only = {"--branch": branch, "--test-cmd": test_cmd, "--python": python, "--force": force or None}
            for flag, value in stage_only.items():
                if value is not None:
                    output.fail(f"{flag} has no effect with --dry-run or --apply")
        settings = repository_settings(root)
        excludes = merged_excludes(exclude, settings)
        quiet = verbosity(ctx).quiet
        try:
            plan = read_plan(plan_file, root, excludes)
        except PlanError as exc:
            for line in exc.lines():
                output.error_line(f"error: {line}")
            raise typer.Exit(output.EXIT_USAGE) from None
        except ModelfoldError as exc:
            output.fail(str(exc))
        mode = ApplyMode.DRY_RUN if dry_run else ApplyMode.APPLY if apply else ApplyMode.STAGE
        try:
            with progress_display(ctx) as progress:
                result = apply_plan(
                    root, plan, mode=mode, branch=branch or _default_branch(settings.branch_prefix, plan, mode),
                    force=force, test_cmd=test_cmd or settings.test_cmd, keep_going=keep_going, excludes=excludes,
                    warn_on_import=bool(settings.warn_on_import if warn_on_import is None else warn_on_import),
                    python=python or settings.python, progress=progress,
                )
        except EntryFailed as exc:
            code = output.EXIT_CONFLICT if exc.cause.__class__.__name__ == "MergeConflictError" else output.EXIT_USAGE
            output.fail(f"{plan_file}:{exc.entry.line}: {exc.cause}; nothing was staged or written", code)
        except VerificationFailed as exc:
            for msg in exc.verification.messages:
                output.error_line(f"verify: {msg}")
            output.fail(f"{exc}; no branch was created", output.EXIT_CONFLICT)
        except ModelfoldError as exc:
            output.fail(str(exc))
        _report(plan_file, result, mode, fmt, quiet)


def _default_branch(prefix: str | None, plan: Any, mode: Any) -> str | None:
    """None (stage picks `modelfold/auto-<hash>`) unless settings give a branch prefix."""
    if not prefix or mode.value != "stage":
        return None
    import hashlib

    digest = hashlib.sha256(Path(plan.path).read_bytes()).hexdigest()[:8]
    return f"{prefix}plan-{digest}"


def _report(plan_file: Path, result: Any, mode: Any, fmt: PlanFormat, quiet: bool) -> None:
    from codemods import report
    from codemods.diff import combined_changeset, render_diff

    migrations = list(result.migrations)
    commits = list(result.staged.commits) if result.staged else []
    entries = [
        {"line": e.line, "canonical": e.canonical, "duplicates": list(e.duplicates), "status": "done",
         "commit": commits[n] if n < len(commits) else None}
        for n, e in enumerate(result.entries)
    ] + [
        {"line": s.entry.line, "canonical": s.entry.canonical, "duplicates": list(s.entry.duplicates),
         "status": "skipped", "reason": s.reason}
        for s in result.skipped
    ]
    if fmt is PlanFormat.JSON:
        doc: dict[str, Any] = report.changes_json(migrations) if migrations else {}
        if result.staged:
            doc = report.staged_json(migrations, result.staged)
        doc.update(plan=str(plan_file), mode=mode.value, written=list(result.written),
                   entries=sorted(entries, key=lambda e: e["line"]))
        sys.stdout.write(report.dumps(doc))
    elif mode.value == "dry-run" and migrations:
        sys.stdout.write(render_diff(combined_changeset(migrations)))
    else:
        for e in sorted(entries, key=lambda e: e["line"]):
            what = f"commit {e['commit'][:10]}" if e.get("commit") else e.get("reason", "planned")
            sys.stdout.write(f"{plan_file}:{e['line']}: {e['status']}: {e['canonical']} ({what})\n")
        if result.staged:
            sys.stdout.write(f"branch: {result.staged.branch}\nreview:   git diff HEAD...{result.staged.branch}\n"
                             f"rollback: git branch -D {result.staged.branch}\n")
    if not quiet:
        done = {"dry-run": "planned (nothing written)", "apply": "written", "stage": "staged"}[mode.value]
        output.note(f"{len(migrations)} entr{'y' if len(migrations) == 1 else 'ies'} {done}, "
                    f"{len(result.skipped)} skipped")
    if result.skipped and not migrations:
        raise typer.Exit(output.EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add `plan` and `apply` to the app."""
    app.command(name="plan")(plan_command)
    app.command(name="apply")(apply_command)
