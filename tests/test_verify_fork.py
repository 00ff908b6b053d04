"""Import orders forked from one interpreter: each still sees the tree's modules unimported, and a
hang, a crash or a syntax error stays with its own order (real interpreters, real SQLAlchemy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.stage._probe import ModuleTarget, contained, run_probes

FILES = {
    "pkg/__init__.py": "",
    "pkg/state.py": "SEEN: list[str] = []\n",
    # fails when a previous order's import of pkg.state or the mark on sqlalchemy is still there
    "pkg/first.py": ("import os\n\nimport sqlalchemy\n\nfrom pkg import state\n\n"
                     "assert not hasattr(sqlalchemy, '_modelfold_mark'), 'sqlalchemy shared between orders'\n"
                     "sqlalchemy._modelfold_mark = 1\n"
                     "state.SEEN.append('first')\n"
                     "assert state.SEEN == ['first'], f'pkg.state shared between orders: {state.SEEN}'\n"
                     "PID = os.getpid()\n"),
    "pkg/check.py": ("import os\n\nfrom pkg import first\n\n"
                     "assert first.PID == os.getpid(), 'pkg.first was imported before this order began'\n"),
    "pkg/hang.py": "import time\n\ntime.sleep(600)\n",
    "pkg/die.py": "import os\nimport sys\n\nsys.stderr.write('dying now\\n')\nsys.stderr.flush()\nos._exit(7)\n",
    "pkg/bad.py": "def broken(:\n",
}


def target(name: str) -> ModuleTarget:
    """A module of a flat tree (root "")."""
    return ModuleTarget(name, name.replace(".", "/") + ".py", "")


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_every_order_sees_the_trees_modules_and_sqlalchemy_as_a_fresh_interpreter_would(tree: Path) -> None:
    with contained(tree) as box:
        probes = run_probes(box, [[target("pkg.first"), target("pkg.check")]] * 5, [""], configure=True, jobs=2)
    assert [p.failed for p in probes] == [None] * 5
    assert {tuple((o.name, o.status, o.error) for o in p.outcomes) for p in probes} == {
        (("pkg.first", "ok", None), ("pkg.check", "ok", None))}


def test_a_crash_and_a_syntax_error_stay_with_their_order(tree: Path) -> None:
    with contained(tree) as box:
        died, bad, fine = run_probes(box, [[target("pkg.die")], [target("pkg.bad")], [target("pkg.first")]],
                                     [""], configure=False)
    assert died.failed == "interpreter exited 7: dying now"
    assert bad.failed is None and bad.outcomes[0].status == "error"
    assert (bad.outcomes[0].error or "").startswith("SyntaxError")
    assert fine.failed is None and fine.outcomes[0].ok


@pytest.mark.slow
def test_an_order_that_hangs_times_out_alone(tree: Path) -> None:
    with contained(tree) as box:
        hung, fine = run_probes(box, [[target("pkg.hang")], [target("pkg.first")]], [""], timeout=3, jobs=2)
    assert hung.failed == "timed out after 3s importing pkg.hang"
    assert fine.failed is None and fine.outcomes[0].ok
