"""Fault-injection loop: interrupt --apply and staging at every named step, then check and re-run.

Each run is a subprocess with MODELFOLD_FAULT=<step>=<action> (codemods/faults.py): Ctrl-C
(`interrupt`), SIGTERM (`term`) or SIGKILL (`kill`) at that step. Afterwards the user's files,
index, HEAD and branches must be unchanged or fully migrated, nothing may be left behind (a
killed --apply may leave its journal, a killed staging run its marked worktree, until the next
run), and a re-run must give what an uninterrupted run gives. Short by default (a few steps);
MODELFOLD_FAULT_LOOP=full runs every step with every action.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.mini_project import git, make_repo, snapshot

pytestmark = pytest.mark.slow

REFS = ("pkg.modern:User", "pkg.legacy:User")
FULL = os.environ.get("MODELFOLD_FAULT_LOOP") == "full"
ACTIONS = ("interrupt", "term", "kill")
STAGE = """
import sys
from pathlib import Path
from codemods.migrate import plan_migration
from codemods.stage import stage
root = Path(sys.argv[1])
planned = plan_migration(root, "pkg.modern:User", ["pkg.legacy:User"])
stage(root, [planned], branch="mf/loop", run_verify=False, force=sys.argv[2] == "force")
"""


def apply_cmd(root: Path) -> list[str]:
    return [sys.executable, "-c", "from cli.app import main; main()", "migrate", *REFS, "--root", str(root),
            "--apply"]


def stage_cmd(root: Path, force: bool = False) -> list[str]:
    return [sys.executable, "-c", STAGE, str(root), "force" if force else "new"]


def launch(cmd: list[str], fault: str | None = None, trace: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELFOLD_FAULT")}
    if fault:
        env["MODELFOLD_FAULT"] = fault
    if trace:
        env["MODELFOLD_FAULT_TRACE"] = str(trace)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def user_state(repo: Path) -> tuple[str, str, str]:
    """Index, HEAD and the current branch: what neither --apply nor staging may move."""
    return (git(repo, "ls-files", "--stage"), git(repo, "rev-parse", "HEAD"),
            git(repo, "symbolic-ref", "HEAD"))


def leftovers(repo: Path) -> list[str]:
    found = [p for p in snapshot(repo) if ".modelfold" in p]
    found += git(repo, "worktree", "list", "--porcelain").split("\n\n")[1:]
    found += [p.name for p in (repo / ".git" / "modelfold").glob("*")] if (repo / ".git" / "modelfold").exists() else []
    return [f for f in found if f.strip()]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The project, and what uninterrupted runs give: steps reached, migrated files, branch tree."""
    base = tmp_path_factory.mktemp("faults")
    repo = make_repo(base / "template")
    applied = base / "applied"
    shutil.copytree(repo, applied, symlinks=True)
    trace = base / "apply.steps"
    assert launch(apply_cmd(applied), trace=trace).returncode == 0
    staged = base / "staged"
    shutil.copytree(repo, staged, symlinks=True)
    stage_trace = base / "stage.steps"
    done = launch(stage_cmd(staged), trace=stage_trace)
    assert done.returncode == 0, done.stderr
    return {
        "repo": repo, "before": snapshot(repo), "after": snapshot(applied),
        "apply_steps": trace.read_text().split(), "stage_steps": stage_trace.read_text().split(),
        "tree": git(staged, "rev-parse", "mf/loop^{tree}").strip(),
    }


def cases(kind: str) -> list[tuple[str, str]]:
    """(step pattern, action): every step when full, else a few chosen ones."""
    if kind == "apply":
        short = [("apply.journal", "kill"), ("apply.rename.1", "term"), ("apply.temp.2", "interrupt"),
                 ("apply.rename.2", "kill")]
        every = ["migrate.planned", "apply.journal", *(f"apply.temp.{i}" for i in range(3)),
                 *(f"apply.rename.{i}" for i in range(3)), "apply.done"]
    else:
        short = [("stage.commit.0", "kill"), ("stage.ref", "interrupt"), ("stage.done", "kill")]
        every = ["stage.worktree", "stage.commit.0", "stage.ref", "stage.done"]
    return [(s, a) for s in every for a in ACTIONS] if FULL else short


def test_loop_covers_every_step_an_uninterrupted_run_reaches(template: dict[str, object]) -> None:
    apply_steps = {s for s, _ in cases("apply")} if FULL else set(template["apply_steps"])  # type: ignore[arg-type]
    assert set(template["apply_steps"]) == apply_steps  # type: ignore[arg-type]
    assert set(template["stage_steps"]) >= {s for s, _ in cases("stage")}  # type: ignore[arg-type]


@pytest.mark.parametrize(("step", "action"), cases("apply"))
def test_interrupted_apply(template: dict[str, object], tmp_path: Path, step: str, action: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(template["repo"], repo, symlinks=True)  # type: ignore[arg-type]
    before = user_state(repo)
    done = launch(apply_cmd(repo), fault=f"{step}={action}")
    assert "Traceback" not in done.stderr
    assert done.returncode != 0 or step == "apply.done"
    assert user_state(repo) == before
    files = {k: v for k, v in snapshot(repo).items() if not k.startswith(".modelfold")}
    if action == "kill" and (repo / ".modelfold-journal").exists():
        pass  # pending: the next run rolls it back
    else:
        assert files in (template["before"], template["after"])
        assert leftovers(repo) == []
    again = launch(apply_cmd(repo))
    assert again.returncode == 0, again.stderr
    assert snapshot(repo) == template["after"]
    assert leftovers(repo) == [] and user_state(repo) == before


@pytest.mark.parametrize(("step", "action"), cases("stage"))
def test_interrupted_staging(template: dict[str, object], tmp_path: Path, step: str, action: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(template["repo"], repo, symlinks=True)  # type: ignore[arg-type]
    before, files = user_state(repo), snapshot(repo)
    done = launch(stage_cmd(repo), fault=f"{step}={action}")
    tail = done.stderr.strip().splitlines()[-2:]  # the script's own traceback and the note on it, if any
    assert not tail or any(t.startswith(("KeyboardInterrupt", "codemods.safety._faults.Terminated"))
                           for t in tail), done.stderr
    assert user_state(repo) == before and snapshot(repo) == files
    branches = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads").split()
    assert branches in (["refs/heads/main"], ["refs/heads/main", "refs/heads/mf/loop"])
    if "refs/heads/mf/loop" in branches:
        assert git(repo, "rev-parse", "mf/loop^{tree}").strip() == template["tree"]
    if action != "kill":
        assert leftovers(repo) == []
    again = launch(stage_cmd(repo, force="refs/heads/mf/loop" in branches))
    assert again.returncode == 0, again.stderr
    assert git(repo, "rev-parse", "mf/loop^{tree}").strip() == template["tree"]
    assert leftovers(repo) == [] and user_state(repo) == before and snapshot(repo) == files


SIGNALLED = [  # (where, fault, exit code, the one line, files afterwards)
    ("dry-run", "migrate.planned=term", 143, "interrupted by SIGTERM: nothing was written", "before"),
    ("apply", "migrate.planned=interrupt", 130, "interrupted by SIGINT: nothing was written", "before"),
    ("apply", "apply.rename.1=term", 143,
     "interrupted by SIGTERM: --apply was rolled back (2 file(s) restored); the tree is as it was", "before"),
    ("apply", "apply.temp.0=interrupt", 130,
     "interrupted by SIGINT: --apply was rolled back (0 file(s) restored); the tree is as it was", "before"),
    ("apply", "apply.done=term", 143, "interrupted by SIGTERM: --apply had written all 3 file(s)", "after"),
    ("stage", "stage.worktree=term", 143, "interrupted by SIGTERM: branch mf/sig was not created or moved", "before"),
    ("stage", "stage.done=term", 143, "interrupted by SIGTERM: branch mf/sig was staged in full", "before"),
]


@pytest.mark.parametrize(("where", "fault", "code", "line", "files"), SIGNALLED)
def test_signal_exits_with_its_own_code_and_says_what_is_left(
    template: dict[str, object], tmp_path: Path, where: str, fault: str, code: int, line: str, files: str,
) -> None:
    """Not typer's "Aborted!" and exit 1 (duplicates found): 128 + the signal, and one line."""
    repo = tmp_path / "repo"
    shutil.copytree(template["repo"], repo, symlinks=True)  # type: ignore[arg-type]
    before = user_state(repo)
    cmd = {"apply": apply_cmd(repo), "dry-run": [*apply_cmd(repo)[:-1], "--dry-run"],
           "stage": [*apply_cmd(repo)[:-1], "--branch", "mf/sig", "-q"]}[where]
    done = launch(cmd, fault=fault)
    assert done.returncode == code, done.stderr
    assert done.stderr.splitlines()[-1] == f"error: {line}", done.stderr
    assert "Aborted" not in done.stderr and "Traceback" not in done.stderr
    assert user_state(repo) == before and leftovers(repo) == []
    assert snapshot(repo) == template[files]
    branches = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads").split()
    assert ("refs/heads/mf/sig" in branches) == line.endswith("staged in full")


def test_signal_with_format_json_is_an_error_document(template: dict[str, object], tmp_path: Path) -> None:
    import json

    import jsonschema

    repo = tmp_path / "repo"
    shutil.copytree(template["repo"], repo, symlinks=True)  # type: ignore[arg-type]
    done = launch([*apply_cmd(repo), "--format", "json"], fault="apply.rename.0=term")
    doc = json.loads(done.stdout)
    schema = json.loads((Path(__file__).parents[1] / "docs/schemas/migrate.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert done.returncode == doc["exit_code"] == 143 and doc["error"]["code"] == "interrupted"
    assert snapshot(repo) == template["before"]


def test_signal_during_apply_of_a_plan_file_exits_143(template: dict[str, object], tmp_path: Path) -> None:
    """`modelfold apply PLAN` keeps the same contract as migrate."""
    repo = tmp_path / "repo"
    shutil.copytree(template["repo"], repo, symlinks=True)  # type: ignore[arg-type]
    main = [sys.executable, "-c", "from cli.app import main; main()"]
    plan = tmp_path / "plan.toml"
    assert launch([*main, "plan", str(repo), "-o", str(plan)]).returncode == 0
    done = launch([*main, "apply", str(plan), "--root", str(repo), "--apply"], fault="apply.rename.1=term")
    assert done.returncode == 143, done.stderr
    assert done.stderr.splitlines()[-1] == ("error: interrupted by SIGTERM: --apply was rolled back (2 file(s) "
                                            "restored); the tree is as it was")
    assert snapshot(repo) == template["before"] and leftovers(repo) == []
