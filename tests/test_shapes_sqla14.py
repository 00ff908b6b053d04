"""Issue 12 item 11: a SQLAlchemy 1.4 project is refused up front; no mapped_column is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.merge._target import installed_version, refuse_before_2
from codemods.types import ModelfoldError

from support.shapes import git, modelfold, project


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["--dry-run", "--apply", "stage"])
def test_pinned_1_4_is_refused_with_one_line(tmp_path: Path, mode: str) -> None:
    tree = project("shape_sqla14", tmp_path / "p")
    run = modelfold(tree, "migrate", "--auto", *([mode] if mode != "stage" else []))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "SQLAlchemy 1.4" in run.stderr and "requirements.txt" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "mapped_column" not in run.stdout
    assert git(tree, "status", "--porcelain") == "" and git(tree, "branch", "--list", "modelfold/*") == ""


def test_the_target_virtualenv_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    (tmp_path / ".git").mkdir()
    env = tmp_path / ".venv"
    (env / "lib/python3.11/site-packages/SQLAlchemy-1.4.49.dist-info").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "requirements.txt").write_text("sqlalchemy>=1.3\n")
    assert installed_version(tmp_path) is not None
    with pytest.raises(ModelfoldError, match="SQLAlchemy 1.4"):
        refuse_before_2(tmp_path)
    (env / "lib/python3.11/site-packages/SQLAlchemy-1.4.49.dist-info").rename(
        env / "lib/python3.11/site-packages/sqlalchemy-2.0.36.dist-info")
    refuse_before_2(tmp_path)  # 2.0 in the virtualenv: no refusal
