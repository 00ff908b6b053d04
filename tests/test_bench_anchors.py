"""The bench's ast-grep anchor and branch-mode row, run on small generated trees (no timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "fixtures" / "monorepo_gen"), str(REPO / "tests" / "bench")]

import _anchors  # noqa: E402
import _report  # noqa: E402
import _score  # noqa: E402
import generate  # noqa: E402
import run_bench  # noqa: E402


def _committed_tree(tmp_path: Path, files: int, importers: int) -> tuple[Path, generate.Expected]:
    return run_bench.make_tree(tmp_path, files, seed=5, importers=importers)


def test_ast_grep_rules_rewrite_every_form_and_nothing_else(tmp_path: Path) -> None:
    tree, expected = _committed_tree(tmp_path, 200, importers=13)  # 12 forms + the package init
    out = run_bench.copy_tree(tree, "ast-grep")
    run = run_bench.measure(_anchors.ast_grep_command(expected.class_name), out)
    assert run.code == 0, run.stderr.decode()
    score = _score.score_tree(tree, out, expected)
    assert score.total_count == len(expected.references)
    assert score.right_count == score.total_count, score.wrong
    assert not score.broken and not score.collateral
    # written for this tree only: the package __init__ now imports the canonical module, which
    # imports the legacy one, so importing the tree runs into the cycle the scorer reports
    assert "circular import" in (_score.configure_error(out, expected) or "")


def test_ratio_below_one_keeps_two_decimals() -> None:
    assert _report.times(0.123) == "0.12×"
    assert _report.times(3.14) == "3.1×"
    assert _report.times(148.4) == "148×"


@pytest.mark.slow
def test_branch_row_scores_the_staged_branch_and_removes_it(tmp_path: Path) -> None:
    tree, expected = _committed_tree(tmp_path, 120, importers=13)
    row = run_bench.bench_branch(tree, expected, repeat=1)
    assert row.code == 0, row.note
    assert (row.right, row.total) == (len(expected.references), len(expected.references))
    assert row.configures == ""
    branches = subprocess.run(["git", "branch", "--list", run_bench.BRANCH], cwd=tree,
                              capture_output=True, text=True, check=True).stdout
    assert branches == ""
    head = subprocess.run(["git", "status", "--porcelain"], cwd=tree, capture_output=True,
                          text=True, check=True).stdout
    assert head == ""  # branch mode leaves the user's checkout alone
