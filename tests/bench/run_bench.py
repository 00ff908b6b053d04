"""Benchmark: modelfold migrate/detect against libcst, Bowler and rope on generated monorepos.

    python tests/bench/run_bench.py --sizes 1000,10000 [--anchors] [--plot out.png]

Each size gets a fresh generated tree (fixtures/monorepo_gen), git-initialised. Every tool runs
as a subprocess; wall is measured around it, CPU and peak RSS come from os.wait4 (the child and
the descendants it waited for; peak RSS is the largest single process). Anchors rewrite a copy
of the tree in place; modelfold's dry-run diff is applied to a copy with `git apply`. Each copy is
scored against the generator's expected (file, form) set. Run explicitly; never collected by pytest.

modelfold's own modules are byte-compiled first, as `pip install` does for every tool here: an
editable checkout under PYTHONDONTWRITEBYTECODE would otherwise compile them again on every run.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "fixtures" / "monorepo_gen"), str(HERE)]

import _anchors  # noqa: E402
import _report  # noqa: E402
import _score  # noqa: E402
import generate  # noqa: E402


@dataclass
class Run:
    """One measured subprocess."""

    wall: float
    cpu: float
    rss_mb: float
    code: int
    stdout: bytes = b""
    stderr: bytes = b""
    load: float = 0.0  # 1-minute load average when the run started (the machine is shared)


@dataclass
class Row:
    """A tool on a tree size: median timings and the score of its output."""

    tool: str
    files: int
    importers: int
    wall: float
    cpu: float
    rss_mb: float
    runs: int
    code: int
    right: int = 0
    total: int = 0
    forms_right: list[str] = field(default_factory=list)
    per_form: dict[str, list[int]] = field(default_factory=dict)
    broken: int = 0
    collateral: int = 0
    failed_files: int = 0
    note: str = ""
    configures: str = ""  # "" when the output imports and configure_mappers() passes, else the error
    paired: float = 0.0  # anchors: median of (anchor wall / modelfold wall run just before it)
    paired_cpu: float = 0.0  # anchors: the same median for CPU
    ours_wall: float = 0.0  # anchors: median wall of the modelfold dry runs paired with it
    ours_cpu: float = 0.0  # anchors: median CPU of those dry runs
    ours_rss_mb: float = 0.0  # anchors: largest peak RSS of those dry runs
    load: list[float] = field(default_factory=list)  # 1-minute load average at each run's start


def measure(argv: list[str], cwd: Path) -> Run:
    """Run argv to completion; wall clock, CPU (user+sys) and peak RSS of the child tree."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code,
                   out.read(), err.read(), load)


def median_run(argv: list[str], cwd: Path, repeat: int) -> tuple[Run, int, list[float]]:
    """The run of median wall time over `repeat` runs (its CPU/RSS), how many ran, their loads."""
    runs = [measure(argv, cwd) for _ in range(repeat)]
    loads = [round(r.load, 2) for r in runs]
    return (*median_of(runs), loads)


def median_of(measured: list[Run]) -> tuple[Run, int]:
    """The run of median wall time (with the median CPU, the largest RSS), and how many ran."""
    runs = sorted(measured, key=lambda r: r.wall)
    mid = runs[len(runs) // 2]
    mid.cpu = statistics.median(r.cpu for r in runs)
    mid.rss_mb = max(r.rss_mb for r in runs)
    return mid, len(runs)


def make_tree(
    work: Path, files: int, seed: int, importers: int, two_bases: bool = False, reuse: bool = False,
) -> tuple[Path, generate.Expected]:
    """Generate and git-commit a tree (`two_bases`: the incident's two registries); `reuse`:
    take the one an earlier run generated and committed there (100,000 files take minutes)."""
    tree = work / f"tree_{files}_{importers}{'_two_bases' if two_bases else ''}"
    if reuse and (tree / ".git").is_dir() and (tree / generate.EXPECTED_FILE).is_file():
        return tree, generate.load_expected(tree)
    expected = generate.generate(tree, files, seed, importers=importers, two_bases=two_bases)
    # gc.auto=0: a background `git gc --auto` after committing 100,000 loose objects repacks
    # them while the bench copies the tree, and the copy fails
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "gc.auto=0"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=tree, check=True)
    subprocess.run(["git", "config", "gc.auto", "0"], cwd=tree, check=True)  # and modelfold's commits
    subprocess.run([*git, "add", "-A"], cwd=tree, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "generated"], cwd=tree, check=True)
    return tree, expected


def copy_tree(tree: Path, name: str) -> Path:
    """A fresh copy of the tree (with .git) beside it."""
    dest = tree.parent / f"{tree.name}.{name}"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(tree, dest, symlinks=True)
    return dest


def modelfold_cmd() -> list[str]:
    """argv prefix of the console script of the interpreter running the bench."""
    exe = Path(sys.executable).parent / "modelfold"
    return [str(exe) if exe.exists() else "modelfold"]


def scored(row: Row, tree: Path, out: Path, expected: generate.Expected) -> Row:
    """Fill the row's correctness columns from a tool's output tree."""
    score = _score.score_tree(tree, out, expected)
    row.right, row.total = score.right_count, score.total_count
    row.forms_right = score.forms_right()
    row.per_form = {f: [score.right.get(f, 0), n] for f, n in sorted(score.total.items())}
    row.broken, row.collateral = len(score.broken), len(score.collateral)
    row.configures = _score.configure_error(out, expected) or ""
    if row.configures:
        row.note = (row.note + "; " if row.note else "") + "does not configure: " + row.configures
    return row


def migrate_argv(tree: Path, expected: generate.Expected) -> list[str]:
    return [*modelfold_cmd(), "migrate", expected.canonical_ref, expected.old_ref,
            "--root", str(tree), "--dry-run"]


def bench_ours(
    tree: Path, expected: generate.Expected, repeat: int, score: bool, detect: bool = True
) -> list[Row]:
    """modelfold migrate --dry-run and detect, timed; the dry-run diff applied and scored."""
    n, k = expected.files, len(expected.references) - 1
    argv = migrate_argv(tree, expected)
    run, runs, loads = median_run(argv, tree, repeat)
    row = Row("modelfold migrate --dry-run", n, k, run.wall, run.cpu, run.rss_mb, runs, run.code,
              load=loads)
    if run.code != 0:
        row.note = _first_line(run.stderr)
    elif score:
        out = copy_tree(tree, "modelfold")
        applied = subprocess.run(["git", "apply", "--whitespace=nowarn", "-"], cwd=out,
                                 input=run.stdout, capture_output=True)
        if applied.returncode != 0:
            row.note = "git apply: " + _first_line(applied.stderr)
        scored(row, tree, out, expected)
        shutil.rmtree(out)
    if not detect:
        return [row]
    det, runs, loads = median_run([*modelfold_cmd(), "detect", str(tree), "--format", "json"], tree,
                                  repeat)
    detect = Row("modelfold detect", n, k, det.wall, det.cpu, det.rss_mb, runs, det.code, load=loads)
    if det.code not in (0, 1):
        detect.note = _first_line(det.stderr)
    return [row, detect]


BRANCH = "bench/modelfold"


def branch_argv(tree: Path, expected: generate.Expected) -> list[str]:
    """Branch mode, the default: scratch worktree, rewrite, verification probes, commit."""
    return [*modelfold_cmd(), "migrate", expected.canonical_ref, expected.old_ref,
            "--root", str(tree), "--branch", BRANCH, "--force"]


CACHE = (".git", "modelfold-cache")  # where branch mode keeps the "before" probes per start commit


def bench_branch(tree: Path, expected: generate.Expected, repeat: int) -> Row:
    """modelfold's branch mode, timed cold (no cached "before" probes; each run replaces the
    branch); the branch is scored."""
    return branch_rows(tree, expected, repeat, warm=False)[0]


def branch_rows(tree: Path, expected: generate.Expected, repeat: int, warm: bool = True) -> list[Row]:
    """Branch mode cold and, with `warm`, again right after at the same commit (the "before"
    probes read from the cache the cold run wrote), alternating; the branch is scored once."""
    n, k = expected.files, len(expected.references) - 1
    cold: list[Run] = []
    again: list[Run] = []
    for _ in range(repeat):
        shutil.rmtree(tree.joinpath(*CACHE), ignore_errors=True)
        cold.append(measure(branch_argv(tree, expected), tree))
        if warm:
            again.append(measure(branch_argv(tree, expected), tree))
    rows: list[Row] = []
    for name, runs in (("modelfold migrate (branch, verified)", cold),
                       ("modelfold migrate (branch, verified, before cached)", again)):
        if not runs:
            continue
        loads = [round(r.load, 2) for r in runs]
        run, count = median_of(runs)
        rows.append(Row(name, n, k, run.wall, run.cpu, run.rss_mb, count, run.code,
                        note=_first_line(run.stderr) if run.code != 0 else "", load=loads))
    if any(r.code != 0 for r in rows):
        return rows
    out = copy_tree(tree, "branch")
    subprocess.run(["git", "checkout", "-q", BRANCH], cwd=out, check=True)
    for row in rows:
        scored(row, tree, out, expected)
    shutil.rmtree(out)
    subprocess.run(["git", "branch", "-q", "-D", BRANCH], cwd=tree, check=True)
    return rows


def bench_baselines(tree: Path, expected: generate.Expected, repeat: int) -> list[Row]:
    """Floors for context: `git grep -l` of the class name, and reading every .py file."""
    n, k = expected.files, len(expected.references) - 1
    read = "import pathlib; [p.read_bytes() for p in pathlib.Path('.').rglob('*.py')]"
    rows = []
    for name, argv in (
        ("baseline: git grep -l", ["git", "grep", "-l", "-F", expected.class_name, "--", "*.py"]),
        ("baseline: read every file", [sys.executable, "-c", read]),
    ):
        run, runs, loads = median_run(argv, tree, repeat)
        rows.append(Row(name, n, k, run.wall, run.cpu, run.rss_mb, runs, run.code, load=loads))
    return rows


def bench_anchor(tool: str, tree: Path, expected: generate.Expected, repeat: int) -> Row:
    """One anchor on fresh copies of the tree (one per repeat); the last copy is scored.

    Right before each anchor run modelfold's dry run is timed once more, and the row keeps the
    median of the pairs' ratios: this machine's speed drifts (up to 2× within minutes), and a
    pair run back to back sees the same speed where two medians taken minutes apart need not.
    """
    runs: list[Run] = []
    ours_runs: list[Run] = []
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    out = tree
    for i in range(repeat):
        if i == 0:
            out = copy_tree(tree, tool)
        else:  # back to the committed tree: far cheaper than another copy of 100,000 files
            subprocess.run(["git", "reset", "-q", "--hard"], cwd=out, check=True)
            subprocess.run(["git", "clean", "-q", "-fd"], cwd=out, check=True)
        args = (out, expected.old_module, expected.class_name, expected.canonical_module)
        if tool == "libcst":
            argv = _anchors.libcst_command(*args)
        elif tool == "ast-grep":
            argv = _anchors.ast_grep_command(expected.class_name)
        else:
            argv = _anchors.anchor_command(tool, *args)
        ours = measure(migrate_argv(tree, expected), tree)
        ours_runs.append(ours)
        runs.append(measure(argv, out))
        ratios.append(runs[-1].wall / ours.wall)
        cpu_ratios.append(runs[-1].cpu / ours.cpu)
    loads = [round(r.load, 2) for pair in zip(ours_runs, runs, strict=True) for r in pair]
    runs.sort(key=lambda r: r.wall)
    run = runs[len(runs) // 2]
    names = {"libcst": "libcst RenameCommand -j2", "bowler": "Bowler select_module().rename()",
             "rope": "rope MoveGlobal", "ast-grep": "ast-grep scan after git grep -l (rules for this tree)"}
    row = Row(names[tool], expected.files, len(expected.references) - 1, run.wall,
              statistics.median(r.cpu for r in runs), max(r.rss_mb for r in runs), len(runs),
              run.code)
    stderr = runs[-1].stderr.decode("utf-8", "replace")
    failed = re.search(r"Failed to codemod (\d+) files", stderr)  # libcst's summary line
    row.failed_files = stderr.count("Can't parse") + (int(failed.group(1)) if failed else 0)
    row.paired = statistics.median(ratios)
    row.paired_cpu = statistics.median(cpu_ratios)
    row.ours_wall = statistics.median(r.wall for r in ours_runs)
    row.ours_cpu = statistics.median(r.cpu for r in ours_runs)
    row.ours_rss_mb = max(r.rss_mb for r in ours_runs)
    row.load = loads
    if run.code != 0:
        row.note = _first_line(run.stderr)
    scored(row, tree, out, expected)
    shutil.rmtree(out)
    return row


def alternating(
    one: tuple[Path, generate.Expected], other: tuple[Path, generate.Expected], repeat: int
) -> dict[str, object]:
    """What the bigger tree's extra unrelated files add, from runs alternating between the trees
    (so both see the same machine speed): for modelfold's dry run and for reading every file,
    wall and CPU (medians of the pairs' differences), with a one-line summary."""
    small, big = sorted((one, other), key=lambda t: t[1].files)
    read = [sys.executable, "-c", "import pathlib; [p.read_bytes() for p in pathlib.Path('.').rglob('*.py')]"]
    pairs: dict[str, list[tuple[Run, Run]]] = {"dry_run": [], "read_every_file": []}
    for _ in range(repeat):
        pairs["dry_run"].append((measure(migrate_argv(*small), small[0]), measure(migrate_argv(*big), big[0])))
        pairs["read_every_file"].append((measure(read, small[0]), measure(read, big[0])))
    out: dict[str, object] = {"small_files": small[1].files, "big_files": big[1].files,
                              "importers": len(big[1].references) - 1, "pairs": repeat}
    for name, measured in pairs.items():
        out[name] = {
            "small_wall": [round(a.wall, 3) for a, _ in measured],
            "big_wall": [round(b.wall, 3) for _, b in measured],
            "small_cpu": [round(a.cpu, 3) for a, _ in measured],
            "big_cpu": [round(b.cpu, 3) for _, b in measured],
            "load": [round(r.load, 2) for pair in measured for r in pair],
            "adds_wall": statistics.median(b.wall - a.wall for a, b in measured),
            "adds_cpu": statistics.median(b.cpu - a.cpu for a, b in measured),
        }
    ours, reading = out["dry_run"], out["read_every_file"]
    assert isinstance(ours, dict) and isinstance(reading, dict)
    out["summary"] = (
        f"{big[1].files:,} against {small[1].files:,} files, same {out['importers']:,} importers, "
        f"{repeat} alternating pairs: modelfold migrate --dry-run adds {ours['adds_wall']:.2f} s wall, "
        f"{ours['adds_cpu']:.2f} s CPU (medians); reading every file adds "
        f"{reading['adds_wall']:.2f} s wall, {reading['adds_cpu']:.2f} s CPU"
    )
    return out


def branch_phases(tree: Path, expected: generate.Expected) -> dict[str, list[tuple[str, float]]]:
    """One branch-mode run cold (no cached "before" probes) and one right after (cached), each
    with --verbose: every progress line on stderr with the seconds since the start when it
    came (a phase lasts until the next line), so the bench says where branch mode's time goes."""
    shutil.rmtree(tree.joinpath(*CACHE), ignore_errors=True)
    phases: dict[str, list[tuple[str, float]]] = {}
    for name in ("cold", "before cached"):
        start = time.perf_counter()
        proc = subprocess.Popen([*branch_argv(tree, expected), "--verbose"], cwd=tree,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        lines = [(line.rstrip(), round(time.perf_counter() - start, 3)) for line in proc.stderr
                 if line.startswith("modelfold: ") and not line.startswith("modelfold:  ")]
        proc.wait()
        phases[name] = [*lines, (f"exit {proc.returncode}", round(time.perf_counter() - start, 3))]
    subprocess.run(["git", "branch", "-q", "-D", BRANCH], cwd=tree, check=False)
    return phases


def _first_line(data: bytes) -> str:
    lines = [ln for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:160] if lines else ""


def byte_compile() -> None:
    """Write the .pyc files of modelfold's packages (see the module docstring)."""
    for package in ("codemods", "cli"):
        compileall.compile_dir(REPO / package, quiet=1)


def main(argv: list[str] | None = None) -> int:
    """Generate, run, score, print the table (and optionally plot and save JSON)."""
    parser = argparse.ArgumentParser(description="modelfold benchmark against the anchors.")
    parser.add_argument("--sizes", default="1000,10000", help="tree sizes, comma-separated")
    parser.add_argument("--same-importers", default="20000",
                        help="extra sizes run with the largest size's importers ('' for none)")
    parser.add_argument("--anchors", action="store_true", help="also run libcst, Bowler, rope")
    parser.add_argument("--anchor-sizes", default="1000", help="sizes the anchors run at")
    parser.add_argument("--anchor-tools", default="libcst,bowler,rope",
                        help="comma-separated: libcst, bowler, rope, ast-grep")
    parser.add_argument("--branch-sizes", default="",
                        help="sizes at which branch mode (the default, verified) is timed too")
    parser.add_argument("--branch-repeat", type=int, default=1, help="runs per branch-mode row")
    parser.add_argument("--no-detect", action="store_true",
                        help="skip modelfold detect and the baselines (large sizes)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per modelfold measurement")
    parser.add_argument("--anchor-repeat", type=int, default=1, help="runs per anchor")
    parser.add_argument("--importers-fraction", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plot", type=Path, help="write a files-vs-seconds PNG here")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--workdir", type=Path, help="keep the trees here (default: a temp dir)")
    parser.add_argument("--reuse-trees", action="store_true",
                        help="with --workdir: reuse trees an earlier run generated there")
    parser.add_argument("--branch-phases", action="store_true",
                        help="at --branch-sizes: one more cold and cached run each, timing its progress lines")
    parser.add_argument("--scaling-repeat", type=int, default=0,
                        help="alternating pairs for the --same-importers check (default: --repeat)")
    parser.add_argument("--two-bases", action="store_true",
                        help="generate the incident's shape: canonical and duplicate on two registries")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    extra = [int(s) for s in args.same_importers.split(",") if s]
    anchor_sizes = {int(s) for s in args.anchor_sizes.split(",") if s}
    branch_sizes = {int(s) for s in args.branch_sizes.split(",") if s}
    tools = [t for t in args.anchor_tools.split(",") if t]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="modelfold-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    byte_compile()
    plan = [(n, round(n * args.importers_fraction)) for n in sizes]
    plan += [(n, round(max(sizes) * args.importers_fraction)) for n in extra]
    rows: list[Row] = []
    trees: dict[tuple[int, int], tuple[Path, generate.Expected]] = {}
    scaling: list[dict[str, object]] = []
    phases: dict[str, object] = {}
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        for files, importers in plan:
            tree, expected = trees[files, importers] = make_tree(
                work, files, args.seed, importers, args.two_bases, reuse=args.reuse_trees)
            print(f"# {files} files, {importers} importers: {tree}", file=sys.stderr, flush=True)
            rows += bench_ours(tree, expected, args.repeat, score=True, detect=not args.no_detect)
            if not args.no_detect:
                rows += bench_baselines(tree, expected, args.repeat)
            if files in branch_sizes and files in sizes:
                print("#   branch mode ...", file=sys.stderr, flush=True)
                rows += branch_rows(tree, expected, args.branch_repeat)
                if args.branch_phases:
                    phases[str(files)] = branch_phases(tree, expected)
            if args.anchors and files in anchor_sizes and files in sizes:
                for tool in tools:
                    print(f"#   {tool} ...", file=sys.stderr, flush=True)
                    rows.append(bench_anchor(tool, tree, expected, args.anchor_repeat))
            _report.print_rows(rows[-1:], file=sys.stderr)
        largest = (max(sizes), round(max(sizes) * args.importers_fraction))
        scaling = [alternating(trees[largest], trees[n, largest[1]], args.scaling_repeat or args.repeat)
                   for n in extra]
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(_report.table([asdict(r) for r in rows]))
    for check in scaling:
        print(f"\n{check['summary']}")
    if args.json:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
        meta = {"argv": sys.argv[1:], "commit": commit, "started": started, "cores": os.cpu_count(),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        payload = {"meta": meta, "rows": [asdict(r) for r in rows], "scaling": scaling, "phases": phases}
        args.json.write_text(json.dumps(payload, indent=1) + "\n", "utf-8")
    if args.plot:
        _report.plot([asdict(r) for r in rows], args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
