"""Issue 12 item 4: names inside copied expressions and moved definitions keep their meaning."""

from __future__ import annotations

import pytest

from support.shapes import git, stage_and_test

pytestmark = pytest.mark.slow


def test_copied_default_and_moved_enum_keep_their_names(tmp_path_factory: pytest.TempPathFactory) -> None:
    tree = tmp_path_factory.mktemp("shape") / "p"
    staged, tests = stage_and_test("shape_names", tree)
    assert staged.returncode == 0, staged.stdout + staged.stderr
    assert tests is not None and tests.returncode == 0, tests.stdout[-3000:]
    merged = git(tree, "show", "HEAD:billing/models.py")
    assert "import datetime as _datetime" in merged and "lambda: _datetime.date.today()" in merged
    assert "from enum import Enum as _Enum" in merged and "class Interval(_Enum):" in merged
