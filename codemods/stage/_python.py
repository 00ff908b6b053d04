"""Which interpreter imports the target: discovered without running any tool, then checked once.

Order: `--python`, an active `VIRTUAL_ENV`, `.venv`/`venv` in the tree or its parents, an
environment the project's Poetry/uv/hatch/pdm settings point at (read from files only), and
last modelfold's own interpreter.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codemods.stage._probe import Containment, run_contained
from codemods.types import ModelfoldError

BIN = ("Scripts", "python.exe") if os.name == "nt" else ("bin", "python")
CHECK_SOURCE = """import importlib, json, sys
sys.path[:0] = json.loads(sys.argv[1])
out = {}
try:
    import sqlalchemy
    out["sqlalchemy"] = sqlalchemy.__version__
except BaseException as exc:
    out["sqlalchemy_error"] = f"{type(exc).__name__}: {exc}"
for top in json.loads(sys.argv[2]):
    try:
        importlib.import_module(top)
    except ModuleNotFoundError as exc:
        out.setdefault("missing", {})[top] = [exc.name or "", str(exc)]
    except BaseException:
        pass  # the project's own failures are verification's business, compared before and after
print("@@MODELFOLD-PYTHON@@" + json.dumps(out))
"""


@dataclass(frozen=True)
class Interpreter:
    """The chosen interpreter and why it was chosen (one phrase)."""

    path: str
    reason: str


def _exe(env: Path) -> Path:
    return env.joinpath(*BIN)


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def explicit_python(value: str) -> Interpreter:
    """`--python VALUE` as an interpreter (a path, or a name on PATH); ModelfoldError when unusable."""
    found = shutil.which(value) if os.sep not in value else None
    path = Path(found or value).expanduser()
    if path.is_dir() and _usable(_exe(path)):
        path = _exe(path)  # a virtualenv directory
    if not path.exists():
        raise ModelfoldError(f"--python {value}: no such interpreter")
    if not _usable(path):
        raise ModelfoldError(f"--python {value}: not an executable file")
    return Interpreter(str(path.absolute()), "--python")


def _pyproject(root: Path) -> dict[str, Any]:
    try:
        with (root / "pyproject.toml").open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _project_name(doc: dict[str, Any]) -> str | None:
    name = doc.get("project", {}).get("name") or doc.get("tool", {}).get("poetry", {}).get("name")
    return name if isinstance(name, str) and name else None


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _short_hash(path: Path) -> str:
    digest = hashlib.sha256(str(path).encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode()[:8]


def _poetry_env(root: Path, name: str) -> Path | None:
    """Poetry's cache env for root (`<name>-<hash>-py*`), as Poetry names it."""
    cache = Path(os.environ["POETRY_CACHE_DIR"]) if os.environ.get("POETRY_CACHE_DIR") else _cache_home() / "pypoetry"
    safe = re.sub(r'[ $`!*@"\\\r\n\t]', "_", name.lower())[:42]
    stem = f"{safe}-{_short_hash(Path(os.path.normcase(os.path.realpath(root))))}"
    found = sorted((cache / "virtualenvs").glob(f"{stem}-py*"))
    return found[-1] if found else None


def _hatch_env(root: Path, name: str) -> Path | None:
    """Hatch's default virtual env for root (`env/virtual/<name>/<hash>/<name>`)."""
    data = Path(os.environ["HATCH_DATA_DIR"]) if os.environ.get("HATCH_DATA_DIR") else _data_home() / "hatch"
    env = data / "env" / "virtual" / name / _short_hash(root) / name
    return env if env.is_dir() else None


def _tool_envs(root: Path) -> list[tuple[Path, str]]:
    """Environments the project's tool settings point at, each with the tool's name."""
    out: list[tuple[Path, str]] = []
    pdm = root / ".pdm-python"
    if pdm.is_file():
        text = pdm.read_text(encoding="utf-8", errors="replace").strip()
        if text:
            out.append((Path(text), "pdm (.pdm-python)"))
    if os.environ.get("UV_PROJECT_ENVIRONMENT"):
        out.append((_exe(root / os.environ["UV_PROJECT_ENVIRONMENT"]), "uv (UV_PROJECT_ENVIRONMENT)"))
    doc = _pyproject(root)
    hatch_path = doc.get("tool", {}).get("hatch", {}).get("envs", {}).get("default", {}).get("path")
    if isinstance(hatch_path, str):
        out.append((_exe(root / hatch_path), "hatch (tool.hatch.envs.default.path)"))
    name = _project_name(doc)
    if name and "poetry" in doc.get("tool", {}) and (env := _poetry_env(root, name)):
        out.append((_exe(env), "poetry's environment for the project"))
    if name and "hatch" in doc.get("tool", {}) and (env := _hatch_env(root, name)):
        out.append((_exe(env), "hatch's default environment for the project"))
    return out


def find_python(root: Path, explicit: str | None = None) -> Interpreter:
    """The interpreter that should import the target tree at root (see the module docstring)."""
    if explicit:
        return explicit_python(explicit)
    if os.environ.get("VIRTUAL_ENV") and _usable(exe := _exe(Path(os.environ["VIRTUAL_ENV"]))):
        return Interpreter(str(exe), "the active virtualenv (VIRTUAL_ENV)")
    root = root.resolve()
    for base in (root, *root.parents):
        for name in (".venv", "venv"):
            if _usable(exe := _exe(base / name)):
                return Interpreter(str(exe), f"{name} in {base}")
        for exe, tool in _tool_envs(base):
            if _usable(exe):
                return Interpreter(str(exe), tool)
    return Interpreter(sys.executable, "modelfold's own interpreter; pass --python to choose another")


def check_python(
    interpreter: Interpreter, box: Containment, roots: Sequence[str], tops: Sequence[str],
    local: Sequence[str] = (), timeout: float = 120.0,
) -> str:
    """SQLAlchemy's version in the interpreter; ModelfoldError when it lacks SQLAlchemy or a dependency
    that the top-level packages `tops` need (`local`: every top-level name the tree defines)."""
    import json

    paths = [str(box.tree / r) if r else str(box.tree) for r in roots]
    done = run_contained([interpreter.path, "-I", "-B", "-c", CHECK_SOURCE, json.dumps(paths),
                          json.dumps(list(tops))], box, timeout)
    line = next((x for x in reversed(done.stdout.splitlines()) if x.startswith("@@MODELFOLD-PYTHON@@")), None)
    hint = "; pass --python with the project's interpreter"
    if line is None:
        tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise ModelfoldError(f"interpreter {interpreter.path} did not run: {tail}{hint}")
    out = json.loads(line.removeprefix("@@MODELFOLD-PYTHON@@"))
    if "sqlalchemy" not in out:
        raise ModelfoldError(f"interpreter {interpreter.path} cannot import SQLAlchemy "
                             f"({out.get('sqlalchemy_error', '?')}){hint}")
    for top, (missing, message) in sorted(out.get("missing", {}).items()):
        if missing == top:
            raise ModelfoldError(f"interpreter {interpreter.path} cannot find {top} in the tree{hint}")
        if missing.partition(".")[0] not in {*local, *tops}:  # a dependency, not a module of the tree
            raise ModelfoldError(f"interpreter {interpreter.path} cannot import {top} ({message}){hint}")
    return str(out["sqlalchemy"])
