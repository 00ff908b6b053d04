"""`modelfold modernize TARGET [--root] [--dry-run | --apply]` through typer's CliRunner."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from typer.testing import CliRunner

from cli.modernize_cmd import register
from codemods.convert import modernize

from support.ddl_probe import probe_tree

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "merge_legacy_corpus"


def app() -> typer.Typer:
    application = typer.Typer()
    register(application)

    @application.command(name="noop", hidden=True)
    def _noop() -> None:  # a second command keeps typer in multi-command mode
        """Nothing."""

    return application


def corpus(tmp_path: Path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_dry_run_prints_a_diff_and_writes_nothing(tmp_path: Path) -> None:
    root = corpus(tmp_path)
    before = (root / "legacy_corpus/shop.py").read_bytes()
    result = CliRunner().invoke(app(), ["modernize", "legacy_corpus.shop", "--root", str(root), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "--- a/legacy_corpus/shop.py\n+++ b/legacy_corpus/shop.py\n" in result.stdout
    assert "+    email: Mapped[str] = mapped_column(sa.String(320))\n" in result.stdout
    assert "-    email = sa.Column(sa.String(320), nullable=False)\n" in result.stdout
    assert (root / "legacy_corpus/shop.py").read_bytes() == before


def test_apply_converts_one_class_in_place_with_the_same_ddl(tmp_path: Path) -> None:
    root = corpus(tmp_path)
    modules = ["legacy_corpus.shop", "legacy_corpus.blog", "legacy_corpus.accounts"]
    ddl_before, error = probe_tree(root, modules)
    assert error is None
    result = CliRunner().invoke(app(), ["modernize", "legacy_corpus.shop:Tag", "--root", str(root), "--apply"])
    assert result.exit_code == 0, result.output
    text = (root / "legacy_corpus/shop.py").read_text()
    assert "    name: Mapped[str] = mapped_column(sa.String(50), unique=True)\n" in text
    assert "    title = sa.Column(sa.String(200), nullable=False)\n" in text  # Product untouched
    ddl_after, error = probe_tree(root, modules)
    assert error is None
    assert ddl_after == ddl_before
    again = CliRunner().invoke(app(), ["modernize", "legacy_corpus.shop:Tag", "--root", str(root), "--apply"])
    assert again.exit_code == 0
    assert "nothing to convert" in again.stderr


def test_bad_targets_are_usage_errors(tmp_path: Path) -> None:
    root = corpus(tmp_path)
    runner = CliRunner()
    for target, message in (("legacy_corpus.nope", "module legacy_corpus.nope not found"),
                            ("legacy_corpus.shop:Nope", "no class Nope"),
                            ("not a module", "bad target")):
        result = runner.invoke(app(), ["modernize", target, "--root", str(root)])
        assert result.exit_code == 2, target
        assert message in result.stderr
    both = runner.invoke(app(), ["modernize", "legacy_corpus.shop", "--root", str(root), "--dry-run", "--apply"])
    assert both.exit_code == 2


def test_modernize_reports_unknown_types_as_warnings(tmp_path: Path) -> None:
    changeset = modernize(corpus(tmp_path), "legacy_corpus.blog")
    assert [c.path for c in changeset.changes] == ["legacy_corpus/blog.py"]
    assert "AuthorProfile.blob: type PickleType unknown, annotated Any" in changeset.warnings
