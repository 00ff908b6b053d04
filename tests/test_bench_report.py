"""The bench's measuring and reporting helpers (no timing assertions)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "fixtures" / "monorepo_gen"), str(REPO / "tests" / "bench")]

import _report  # noqa: E402
import run_bench  # noqa: E402


def _row(tool: str, files: int, wall: float, per_form: dict[str, list[int]] | None = None,
         importers: int = 30) -> dict[str, Any]:
    forms = per_form or {}
    return {"tool": tool, "files": files, "importers": importers, "wall": wall, "cpu": wall,
            "rss_mb": 40.0, "runs": 1, "code": 0, "right": sum(v[0] for v in forms.values()),
            "total": sum(v[1] for v in forms.values()),
            "forms_right": [f for f, v in forms.items() if v[0] == v[1]], "per_form": forms,
            "broken": 0, "collateral": 2, "failed_files": 0, "note": ""}


def test_measure_reports_the_childs_exit_cpu_and_peak_rss(tmp_path: Path) -> None:
    code = "import sys; b = bytearray(120 * 1024 * 1024); sum(range(10**6)); sys.exit(3)"
    run = run_bench.measure([sys.executable, "-c", code], tmp_path)
    assert run.code == 3
    assert run.rss_mb >= 120
    assert run.cpu > 0
    assert run.wall >= run.cpu * 0.5


def test_table_ratio_is_against_modelfold_at_the_same_size_and_importers() -> None:
    rows = [
        _row(_report.OURS, 1000, 0.5, {"from": [3, 3], "relative": [2, 2]}),
        _row("rope MoveGlobal", 1000, 6.0, {"from": [3, 3], "relative": [0, 2]}),
        _row(_report.OURS, 20000, 9.0, importers=300),
        _row("rope MoveGlobal", 20000, 90.0, importers=30),  # other importers: no ratio
    ]
    lines = _report.table(rows).splitlines()
    rope_1k = next(ln for ln in lines if ln.startswith("| rope") and "| 1,000 |" in ln)
    rope_20k = next(ln for ln in lines if ln.startswith("| rope") and "| 20,000 |" in ln)
    assert "| 12× (12× CPU) |" in rope_1k and "| 3/5 | 1/2 |" in rope_1k
    assert "2 unrelated files changed" in rope_1k
    assert "×" not in rope_20k
    assert "| `relative` | 2/2 | 0/2 |" in lines


def test_paired_ratio_is_shown_next_to_the_ratio_of_medians() -> None:
    rope = _row("rope MoveGlobal", 1000, 6.0) | {"paired": 11.4}
    lines = _report.table([_row(_report.OURS, 1000, 0.5), rope]).splitlines()
    assert "| 12× (12× CPU); 11× paired |" in next(ln for ln in lines if ln.startswith("| rope"))


def test_make_tree_reuses_a_committed_tree_only_when_asked(tmp_path: Path) -> None:
    tree, expected = run_bench.make_tree(tmp_path, 60, seed=3, importers=2)
    marker = tree / "acme" / "kept_by_reuse.py"
    marker.write_text("# not generated\n", "utf-8")
    again, reread = run_bench.make_tree(tmp_path, 60, seed=3, importers=2, reuse=True)
    assert again == tree and reread == expected
    assert marker.exists()  # the earlier tree was taken as it is, not generated again


def test_alternating_reports_the_bigger_tree_against_the_smaller(tmp_path: Path) -> None:
    big = run_bench.make_tree(tmp_path, 90, seed=3, importers=3)
    small = run_bench.make_tree(tmp_path, 60, seed=3, importers=3)
    check = run_bench.alternating(big, small, repeat=1)  # the order the bench passes them
    assert (check["small_files"], check["big_files"], check["importers"]) == (60, 90, 3)
    assert str(check["summary"]).startswith("90 against 60 files, same 3 importers, 1 alternating")
    dry_run = check["dry_run"]
    assert isinstance(dry_run, dict) and len(dry_run["big_cpu"]) == len(dry_run["load"]) // 2 == 1
