"""diff.py: the printed patch applies with real `git apply`; --apply writes all files or none."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codemods.diff import apply_changeset, combine, file_diff, render_diff
from codemods.types import Changeset, FileChange, ModelfoldError, Skipped

from support.mini_project import git, make_repo, migration, snapshot

CRLF_BEFORE = "\ufeffa = 1\r\nb = 2\r\nc = 3\r\n"
CRLF_AFTER = "\ufeffa = 1\r\nb = 20\r\nc = 3\r\n"
NO_EOL_BEFORE = "x = 1\ny = 2"
NO_EOL_AFTER = "x = 1\ny = 3"
ODD_LINES = "s = 'form\x0cfeed'\nt = 1\n"


def tricky() -> Changeset:
    """CRLF with a BOM, no newline at the end, a new file, a line with a form feed."""
    return Changeset((
        FileChange("crlf.py", CRLF_BEFORE, CRLF_AFTER, "edited"),
        FileChange("noeol.py", NO_EOL_BEFORE, NO_EOL_AFTER, "edited"),
        FileChange("odd.py", ODD_LINES, ODD_LINES.replace("t = 1", "t = 2"), "edited"),
        FileChange("pkg/new_mod.py", None, "created = True\n", "new"),
    ))


def test_new_file_header() -> None:
    text = file_diff(FileChange("n.py", None, "v = 1\n", "new"))
    assert text == (
        "diff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n"
        "@@ -0,0 +1 @@\n+v = 1\n"
    )


def test_missing_final_newline_is_marked() -> None:
    text = file_diff(FileChange("n.py", NO_EOL_BEFORE, NO_EOL_AFTER, "e"))
    assert text.endswith("-y = 2\n\\ No newline at end of file\n+y = 3\n\\ No newline at end of file\n")


def test_unchanged_file_has_no_diff() -> None:
    assert file_diff(FileChange("same.py", "a\n", "a\n", "")) == ""


def test_git_apply_reproduces_every_after_text(tmp_path: Path) -> None:
    files = {"crlf.py": CRLF_BEFORE, "noeol.py": NO_EOL_BEFORE, "odd.py": ODD_LINES}
    repo = make_repo(tmp_path / "r", files)
    patch = tmp_path / "change.diff"
    patch.write_bytes(render_diff(tricky()).encode())
    git(repo, "apply", "--check", str(patch))
    git(repo, "apply", str(patch))
    for change in tricky().changes:
        assert (repo / change.path).read_bytes() == change.after.encode(), change.path


def test_git_apply_of_hand_made_migration(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    patch = tmp_path / "m.diff"
    patch.write_text(render_diff(migration().changeset))
    subprocess.run(["git", "apply", str(patch)], cwd=repo, check=True)
    for change in migration().changeset.changes:
        assert (repo / change.path).read_text() == change.after


def test_apply_writes_all(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    for rel, text in {"crlf.py": CRLF_BEFORE, "noeol.py": NO_EOL_BEFORE, "odd.py": ODD_LINES}.items():
        (root / rel).write_bytes(text.encode())
    (root / "odd.py").chmod(0o755)
    written = apply_changeset(root, tricky())
    assert written == ["crlf.py", "noeol.py", "odd.py", "pkg/new_mod.py"]
    for change in tricky().changes:
        assert (root / change.path).read_bytes() == change.after.encode()
    assert (root / "odd.py").stat().st_mode & 0o777 == 0o755
    assert not list(root.rglob("*.modelfold"))


def test_apply_refuses_when_a_file_moved_on(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "crlf.py").write_bytes(CRLF_BEFORE.encode())
    (root / "noeol.py").write_text("someone edited this\n")
    (root / "odd.py").write_bytes(ODD_LINES.encode())
    before = snapshot(root)
    with pytest.raises(ModelfoldError, match="noeol.py changed since"):
        apply_changeset(root, tricky())
    assert snapshot(root) == before


def test_apply_is_all_or_nothing_when_a_write_fails(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "a.py").write_text("a = 1\n")
    (root / "blocker").write_text("a file where a directory is needed\n")
    cs = Changeset((
        FileChange("a.py", "a = 1\n", "a = 2\n", "edited"),
        FileChange("blocker/new.py", None, "n = 1\n", "new"),
    ))
    before = snapshot(root)
    with pytest.raises(OSError):
        apply_changeset(root, cs)
    assert snapshot(root) == before


def test_combine_chains_changesets() -> None:
    first = Changeset((FileChange("a.py", "1\n", "2\n", "one"), FileChange("b.py", None, "b\n", "new")))
    second = Changeset((FileChange("a.py", "2\n", "3\n", "two"), FileChange("c.py", "c\n", "C\n", "c")),
                       warnings=("w",))
    both = combine([first, second])
    assert [(c.path, c.before, c.after, c.summary) for c in both.changes] == [
        ("a.py", "1\n", "3\n", "one; two"), ("b.py", None, "b\n", "new"), ("c.py", "c\n", "C\n", "c"),
    ]
    assert both.warnings == ("w",)
    with pytest.raises(ModelfoldError, match="disagree"):
        combine([first, Changeset((FileChange("a.py", "9\n", "3\n", "x"),))])


def test_combine_keeps_each_skipped_file_once_in_path_order() -> None:
    first = Changeset((), skipped=(Skipped("z.py", "not UTF-8"), Skipped("a.py", "cannot parse it")))
    second = Changeset((), skipped=(Skipped("a.py", "cannot parse it"),))
    assert combine([first, second]).skipped == (Skipped("a.py", "cannot parse it"), Skipped("z.py", "not UTF-8"))
