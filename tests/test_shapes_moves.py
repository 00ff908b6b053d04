"""Issue 12 item 15: only what must move moves; extend_existing goes; --warn-on-import on a mixed module."""

from __future__ import annotations

import pytest

from support.shapes import git, stage_and_test

pytestmark = pytest.mark.slow


def test_mixed_module_keeps_its_code_and_warns_on_moved_names(tmp_path_factory: pytest.TempPathFactory) -> None:
    tree = tmp_path_factory.mktemp("shape") / "p"
    staged, tests = stage_and_test("shape_moves", tree, "--warn-on-import")
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert tests is not None and tests.returncode == 0, tests.stdout[-3000:]
    merged = git(tree, "show", "HEAD:shop/models.py")
    assert "extend_existing" not in merged and "__table_args__" not in merged
    legacy = git(tree, "show", "HEAD:shop/legacy.py")
    assert "class Invoice(Base):" in legacy and "def invoice_number" in legacy
    assert not legacy.startswith("\n")  # `import enum` went with the enum: no blank first line
    assert "class Invoice" not in merged
