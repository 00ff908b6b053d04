"""The SQLAlchemy version the target project runs: merge writes 2.0 style, so 1.x is refused up front.

Read statically, without running the target's interpreter: the SQLAlchemy installed in its
virtualenv (the active one, else `.venv`/`venv` in or above the root, as verification picks it),
else the version its requirements pin.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from codemods.types import ModelfoldError

_DIST = re.compile(r"^sqlalchemy-(\d+)\.(\d+)[^/]*\.(?:dist|egg)-info$", re.IGNORECASE)
_PIN = re.compile(r"^\s*sqlalchemy\s*(?:\[[^\]]*\])?\s*(==|~=|<=|<|>=)\s*(\d+)(?:\.(\d+))?", re.IGNORECASE)
_REQUIREMENTS = ("requirements.txt", "requirements/base.txt", "requirements/prod.txt", "setup.cfg",
                 "pyproject.toml")


def _environments(root: Path) -> list[Path]:
    found = [Path(os.environ["VIRTUAL_ENV"])] if os.environ.get("VIRTUAL_ENV") else []
    for base in (root, *root.parents):
        found += [base / ".venv", base / "venv"]
        if (base / ".git").exists():
            break
    return [env for env in found if (env / "pyvenv.cfg").is_file()]


def installed_version(root: Path) -> tuple[tuple[int, int], str] | None:
    """(major, minor) of the SQLAlchemy in the target's virtualenv, and where it was found."""
    for env in _environments(root):
        for site in sorted(env.glob("lib/python*/site-packages")) + [env / "Lib" / "site-packages"]:
            if not site.is_dir():
                continue
            for entry in sorted(site.iterdir()):
                match = _DIST.match(entry.name)
                if match:
                    return (int(match[1]), int(match[2])), str(entry)
    return None


def pinned_version(root: Path) -> tuple[tuple[int, int], str] | None:
    """(major, minor) a requirements file pins SQLAlchemy below 2 at (`==1.4.52`, `<2`, `~=1.4`)."""
    for rel in _REQUIREMENTS:
        path = root / rel
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _PIN.match(line.strip().strip("\"',"))
            if match is None:
                continue
            op, major, minor = match[1], int(match[2]), int(match[3] or 0)
            if op == "<" and (major, minor) <= (2, 0):
                return (1, 4), f"{rel}: {line.strip()}"
            if op in ("==", "~=", "<=") and major < 2:
                return (major, minor), f"{rel}: {line.strip()}"
    return None


def refuse_before_2(root: Path) -> None:
    """A ModelfoldError when the target runs (or pins) SQLAlchemy older than 2.0."""
    found = installed_version(root) or pinned_version(root)
    if found is not None and found[0] < (2, 0):
        (major, minor), where = found
        raise ModelfoldError(
            f"the target uses SQLAlchemy {major}.{minor} ({where}); modelfold writes SQLAlchemy 2.0 "
            "Mapped[...]/mapped_column code: upgrade SQLAlchemy first"
        )
