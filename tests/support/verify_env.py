"""Helpers for the verification tests: fixture repositories and target virtualenvs made offline.

A target virtualenv is created `--without-pip` from the running interpreter; SQLAlchemy reaches
it through a `.pth` line naming a folder that holds links to SQLAlchemy (and its one dependency)
only, so the target sees none of modelfold's other packages.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from support.mini_project import init_repo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def fixture_repo(name: str, dest: Path) -> Path:
    """A git repo (branch main, one commit) holding a copy of fixtures/<name>."""
    shutil.copytree(FIXTURES / name, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    init_repo(dest)
    return dest


def sqlalchemy_only(dest: Path) -> Path:
    """A folder holding links to the running interpreter's SQLAlchemy and typing_extensions."""
    dest.mkdir(parents=True, exist_ok=True)
    import sqlalchemy
    import typing_extensions

    (dest / "sqlalchemy").symlink_to(Path(sqlalchemy.__file__).parent)
    (dest / "typing_extensions.py").symlink_to(Path(typing_extensions.__file__))
    return dest


def make_venv(dest: Path, site_files: dict[str, str]) -> Path:
    """A virtualenv at dest with `site_files` written into its site-packages; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    python = dest / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    for rel, text in site_files.items():
        (Path(purelib) / rel).parent.mkdir(parents=True, exist_ok=True)
        (Path(purelib) / rel).write_text(text)
    return python


def our_purelib() -> str:
    """The running interpreter's site-packages."""
    return sysconfig.get_path("purelib")
