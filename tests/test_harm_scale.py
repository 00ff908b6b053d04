"""Repository shapes that broke staging: 5,000 changed files, submodules, a folder named y.py.

Issue 17, items 8 and 12. Slow: each stages a real branch.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from codemods.migrate import plan_migration
from codemods.stage import stage
from codemods.types import FileChange

from support.mini_project import FILES, MODERN, git, make_repo, migration

pytestmark = pytest.mark.slow

MANY = 5_000
IMPORTER = "from pkg.legacy import User\n\n\ndef make():\n    return User()\n"


def test_staging_five_thousand_changed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if Path("/dev/shm").is_dir():  # the scratch worktree in memory: deleting 5,000 files costs seconds on disk
        monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")
    files = dict(FILES)
    paths = [f"pkg/callers/group_{i // 100:02d}/caller_module_{i:05d}.py" for i in range(MANY)]
    files.update(dict.fromkeys(paths, IMPORTER))
    repo = make_repo(tmp_path / "proj", files)
    base = migration()
    extra = tuple(FileChange(p, IMPORTER, IMPORTER.replace("pkg.legacy", "pkg.modern"), "import rewritten")
                  for p in paths)
    big = replace(base, changeset=replace(base.changeset, changes=base.changeset.changes + extra))
    result = stage(repo, [big], branch="mf/many", run_verify=False)
    changed = git(repo, "diff", "--name-only", f"main..{result.branch}").split()
    assert len(changed) == MANY + 3
    message = git(repo, "log", "-1", "--format=%B", result.branch)
    assert f"Files changed ({MANY + 3}):" in message and paths[-1] in message
    assert git(repo, "show", f"{result.branch}:{paths[-1]}") == IMPORTER.replace("pkg.legacy", "pkg.modern")


ENUMS = "import enum\n\n\nclass Role(str, enum.Enum):\n    ADMIN = 'admin'\n"


def test_submodule_and_a_folder_named_like_a_module(tmp_path: Path) -> None:
    lib = make_repo(tmp_path / "lib", {"vendorlib/__init__.py": "", "vendorlib/enums.py": ENUMS})
    modern = MODERN.replace("from pkg.db import Base\n", "from pkg.db import Base\nfrom vendorlib.enums import Role\n")
    modern += "\n    ROLE = Role.ADMIN\n"
    files = dict(FILES, **{"pkg/modern.py": modern, "pkg/y.py/__init__.py": "from pkg.legacy import User\n"})
    repo = make_repo(tmp_path / "proj", files)
    subprocess.run(["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor"],
                   cwd=repo, check=True, capture_output=True)
    (repo / "vendorlib").symlink_to("vendor/vendorlib")  # models import it as a top-level package
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "vendor lib as a submodule")
    config_before = (repo / ".git" / "config").read_text()
    planned = plan_migration(repo, "pkg.modern:User", ["pkg.legacy:User"])
    assert "pkg/y.py/__init__.py" in [c.path for c in planned.changeset.changes]
    result = stage(repo, [planned], branch="mf/sub")
    assert result.verification is not None and result.verification.ok, result.verification
    assert git(repo, "show", f"{result.branch}:pkg/y.py/__init__.py") == "from pkg.modern import User\n"
    assert (repo / ".git" / "config").read_text() == config_before
    assert len(git(repo, "worktree", "list").splitlines()) == 1
