"""Which interpreter verification uses: found from files only, in the documented order."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from pathlib import Path

import pytest

from codemods.stage._python import find_python
from codemods.types import ModelfoldError


def fake_env(env: Path) -> Path:
    """A virtualenv-shaped folder whose bin/python is the running interpreter."""
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").symlink_to(sys.executable)
    return env / "bin" / "python"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "POETRY_CACHE_DIR", "HATCH_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    root = tmp_path / "work" / "proj"
    root.mkdir(parents=True)
    return root


def test_order_explicit_then_virtual_env_then_dot_venv_then_parents(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_python(project).path == sys.executable
    assert "pass --python" in find_python(project).reason
    parent = fake_env(project.parent / "venv")
    assert find_python(project).path == str(parent)
    local = fake_env(project / ".venv")
    assert (find_python(project).path, find_python(project).reason) == (str(local), f".venv in {project}")
    active = fake_env(project.parent / "active")
    monkeypatch.setenv("VIRTUAL_ENV", str(active.parent.parent))
    assert find_python(project).path == str(active)
    given = fake_env(project.parent / "given")
    assert find_python(project, str(given)).path == str(given)
    assert find_python(project, str(given.parent.parent)).path == str(given)  # a virtualenv folder


def test_explicit_python_that_is_missing_or_not_executable(project: Path) -> None:
    with pytest.raises(ModelfoldError, match="no such interpreter"):
        find_python(project, str(project / "nope" / "python"))
    plain = project / "python.txt"
    plain.write_text("")
    with pytest.raises(ModelfoldError, match="not an executable file"):
        find_python(project, str(plain))


def test_pdm_uv_and_hatch_settings(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = fake_env(project.parent / "pdm-env")
    (project / ".pdm-python").write_text(f"{elsewhere}\n")
    assert (find_python(project).path, find_python(project).reason) == (str(elsewhere), "pdm (.pdm-python)")
    (project / ".pdm-python").unlink()
    uv = fake_env(project / "envs" / "uv")
    monkeypatch.setenv("UV_PROJECT_ENVIRONMENT", "envs/uv")
    assert find_python(project).path == str(uv)
    monkeypatch.delenv("UV_PROJECT_ENVIRONMENT")
    hatch = fake_env(project / ".hatch-env")
    settings = '[project]\nname = "clinic"\n[tool.hatch.envs.default]\npath = ".hatch-env"\n'
    (project / "pyproject.toml").write_text(settings)
    assert find_python(project).path == str(hatch)


def test_poetry_and_hatch_environments_in_their_data_folders(project: Path, tmp_path: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.poetry]\nname = "Clinic App"\n')
    digest = base64.urlsafe_b64encode(hashlib.sha256(os.path.realpath(project).encode()).digest()).decode()[:8]
    fake_env(tmp_path / "cache" / "pypoetry" / "virtualenvs" / "clinic_app-XXXXXXXX-py3.11")  # another checkout
    assert find_python(project).path == sys.executable
    mine = fake_env(tmp_path / "cache" / "pypoetry" / "virtualenvs" / f"clinic_app-{digest}-py3.11")
    chosen = find_python(project)
    assert (chosen.path, chosen.reason) == (str(mine), "poetry's environment for the project")
    (project / "pyproject.toml").write_text('[project]\nname = "clinic"\n[tool.hatch.build]\n')
    hatch = fake_env(tmp_path / "data" / "hatch" / "env" / "virtual" / "clinic" / digest / "clinic")
    assert find_python(project).path == str(hatch)
