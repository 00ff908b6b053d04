"""Do no harm when writing: symlinks stay links, --apply is journalled, encodings and names kept.

Issue 17, items 1, 4, 11 and 14 (diff headers; CR-only files are in test_line_endings.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.diff import apply_changeset, combine, render_diff, write_changes
from codemods.migrate import plan_auto, plan_migration
from codemods.stage import stage
from codemods.types import Changeset, FileChange, ModelfoldError

from support.mini_project import (
    FILES,
    LEGACY,
    SERVICE,
    SERVICE_AFTER,
    git,
    make_repo,
    migration,
    run,
)

ORDERS_OLD = LEGACY.replace("User", "Order").replace('"users"', '"orders"').replace("email", "ref")
ORDERS = ORDERS_OLD.replace("    nickname = Column(String(50))\n", "")
SECRET = "from pkg.legacy import User\nfrom pkg.orders_old import Order\n# outside the root: secret\n"


def two_groups(tmp_path: Path) -> tuple[Path, Path]:
    """A repo with two duplicate groups and a tracked symlink to a file outside the root."""
    outside = tmp_path / "outside" / "ext.py"
    outside.parent.mkdir(parents=True)
    outside.write_text(SECRET)
    files = dict(FILES, **{"pkg/orders_old.py": ORDERS_OLD, "pkg/orders.py": ORDERS})
    repo = make_repo(tmp_path / "proj", files, commit=False)
    (repo / "pkg" / "linked.py").symlink_to(outside)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo, outside


def test_auto_never_reads_or_writes_through_a_symlink_leaving_the_root(tmp_path: Path) -> None:
    repo, outside = two_groups(tmp_path)
    migrations = plan_auto(repo)
    assert len(migrations) == 2
    combined = combine([m.changeset for m in migrations])
    assert "pkg/linked.py" not in [c.path for c in combined.changes]
    assert "secret" not in render_diff(combined)  # the dry run never prints the outside file
    result = stage(repo, migrations, branch="mf/auto", run_verify=False)
    assert outside.read_text() == SECRET
    assert git(repo, "show", f"{result.branch}:pkg/linked.py") == str(outside)  # still a link
    apply_changeset(repo, combined)
    assert outside.read_text() == SECRET
    assert (repo / "pkg" / "linked.py").is_symlink()


def test_writes_refuse_a_path_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.py").write_text("x = 1\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    (root / "a.py").symlink_to(outside / "a.py")
    for path in ("link/a.py", "a.py"):
        cs = Changeset((FileChange(path, "x = 1\n", "x = 2\n", "edit"),))
        with pytest.raises(ModelfoldError, match="is a symlink"):
            apply_changeset(root, cs)
        with pytest.raises(ModelfoldError, match="is a symlink"):
            write_changes(root, cs)
    assert (outside / "a.py").read_text() == "x = 1\n"
    assert sorted(p.name for p in root.iterdir()) == ["a.py", "link"]


def test_symlinked_module_inside_the_root_is_a_link_not_a_second_module(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj", commit=False)
    (repo / "pkg" / "alias.py").symlink_to("service.py")
    migration_ = plan_migration(repo, "pkg.modern:User", ["pkg.legacy:User"])
    assert "pkg/alias.py" not in [c.path for c in migration_.changeset.changes]
    assert "pkg/service.py" in [c.path for c in migration_.changeset.changes]


def tree_state(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def new_file_plan() -> Changeset:
    return Changeset((
        *migration().changeset.changes,
        FileChange("pkg/extra/new.py", None, "NEW = 1\n", "new module"),
    ))


@pytest.mark.parametrize("step", ["apply.journal", "apply.temp.0", "apply.temp.3", "apply.rename.0",
                                  "apply.rename.2"])
def test_interrupted_apply_rolls_back_in_process(tmp_path: Path, step: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "proj")
    before = tree_state(root)
    monkeypatch.setenv("MODELFOLD_FAULT", step)
    with pytest.raises(KeyboardInterrupt):
        apply_changeset(root, new_file_plan())
    assert tree_state(root) == before  # no temp file, no journal, no new folder, originals back
    assert not (root / "pkg" / "extra").exists()


KILL_APPLY = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_harm_writes import new_file_plan
from codemods.diff import apply_changeset
apply_changeset(Path({root!r}), new_file_plan())
"""


def test_apply_killed_at_a_rename_is_rolled_back_by_the_next_run(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj")
    before = tree_state(root)
    script = KILL_APPLY.format(tests=str(Path(__file__).parent), root=str(root))
    env = dict(os.environ, MODELFOLD_FAULT="apply.rename.1=kill")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert done.returncode == -9
    journal = json.loads((root / ".modelfold-journal").read_text())
    assert [e["path"] for e in journal["entries"]][:2] == ["pkg/legacy.py", "pkg/modern.py"]
    assert (root / "pkg/legacy.py").read_text() != LEGACY  # half-migrated until recovered
    with pytest.raises(ModelfoldError, match="interrupted --apply"):
        plan_migration(root, "pkg.modern:User", ["pkg.legacy:User"])  # refuses to plan on it
    code, out, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(root), "--apply")
    assert code == 0, err
    assert "rolled back an interrupted --apply" in err
    assert (root / "pkg/service.py").read_text() == SERVICE_AFTER
    assert not (root / ".modelfold-journal").exists()
    assert not [p for p in tree_state(root) if ".modelfold" in p]
    assert set(tree_state(root)) == set(before)


def test_apply_refuses_to_roll_back_over_an_edit_made_since(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj")
    env = dict(os.environ, MODELFOLD_FAULT="apply.rename.2=kill")
    script = KILL_APPLY.format(tests=str(Path(__file__).parent), root=str(root))
    subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    (root / "pkg/legacy.py").write_text("# my edit\n")
    code, _, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(root), "--apply")
    assert code == 2 and "pkg/legacy.py changed since the interrupted --apply" in err
    assert (root / "pkg/legacy.py").read_text() == "# my edit\n"
    assert (root / ".modelfold-journal").exists()


CP1252 = "# -*- coding: cp1252 -*-\n# caf\u00e9 \u2013 \u20ac\nfrom pkg.legacy import User\n"


def test_module_with_a_cp1252_coding_line_is_read_and_written_in_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj", commit=False)
    (repo / "pkg" / "euro.py").write_bytes(CP1252.encode("cp1252"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    planned = plan_migration(repo, "pkg.modern:User", ["pkg.legacy:User"])
    euro = next(c for c in planned.changeset.changes if c.path == "pkg/euro.py")
    assert euro.before == CP1252
    apply_changeset(repo, planned.changeset)
    assert (repo / "pkg/euro.py").read_bytes() == CP1252.replace("pkg.legacy", "pkg.modern").encode("cp1252")


def test_diff_header_quotes_a_file_name_with_a_newline_as_git_does(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj", commit=False)
    (repo / "pkg" / "odd\nname.py").write_text(SERVICE)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    diff = render_diff(plan_migration(repo, "pkg.modern:User", ["pkg.legacy:User"]).changeset)
    assert 'diff --git "a/pkg/odd\\nname.py" "b/pkg/odd\\nname.py"\n' in diff
    assert all(line[:1] in " +-@d\\i" for line in diff.splitlines())
    patch = tmp_path / "p.diff"
    patch.write_text(diff)
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, check=True)


def test_symlinked_canonical_module_says_it_is_a_link(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj", commit=False)
    (repo / "pkg" / "modern.py").rename(repo / "pkg" / "real_modern.py")
    (repo / "pkg" / "modern.py").symlink_to("real_modern.py")
    code, out, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(repo), "--dry-run")
    assert code == 2 and "pkg/modern.py is a symlink (to real_modern.py)" in err, err
    assert "not a mapped model class" not in err


def test_a_committed_journal_naming_a_path_outside_the_root_is_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    entry = {"path": "../victim.txt", "temp": "x.tmp", "before": "cHduZWQK", "after": "0"}
    (root / ".modelfold-journal").write_text(json.dumps({"version": 1, "entries": [entry], "dirs": []}))
    code, _, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(root), "--apply")
    assert code == 2 and "is not a journal modelfold wrote" in err, err
    assert victim.read_text() == "keep me\n"


def test_a_journal_tracked_by_git_is_never_rolled_back(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj")
    entry = {"path": "README.md", "temp": "x.tmp", "before": "cHduZWQK", "after": "0"}
    (root / ".modelfold-journal").write_text(json.dumps({"version": 1, "entries": [entry], "dirs": []}))
    git(root, "add", ".modelfold-journal")
    git(root, "commit", "-q", "-m", "hostile")
    code, _, err = run("pkg.modern:User", "pkg.legacy:User", "--root", str(root), "--apply")
    assert code == 2 and "is tracked by git" in err, err
    assert (root / "README.md").read_text() == "mini project\n"
