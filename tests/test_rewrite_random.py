"""Randomised modules mixing every binding form: after the rewrite each name means what it meant.

The check deletes User and UserStatus from the shim before importing the generated modules, so a
reference the rewrite missed fails loudly instead of being rescued by the re-export.

Each generated module binds the old module (or names from it) in several ways at once and lists
what it reaches in RESULT as (object, name). The moved names (User, UserStatus) must then be the
canonical module's objects, UserRole still the old module's own, the tree must be stable under a
second rewrite, and nothing may shadow anything (all checked by running the code, not by reading it).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods import scan
from codemods.rewrite import rewrite
from codemods.types import Consolidation, MergeResult, MovedName

from support.models import model

FORMS = Path(__file__).resolve().parent.parent / "fixtures" / "rewrite_forms"
OLD, NEW = "app.users.models", "app.auth.models"
NAMES = ("User", "UserStatus", "UserRole")


def snippet(kind: str, k: int, name: str) -> tuple[list[str], list[str], str]:
    """(import lines, body lines, expression) for one way of reaching `name`."""
    if kind == "from_alias":
        return [f"from {OLD} import {name} as a{k}"], [], f"a{k}"
    if kind == "module_alias":
        return [f"import {OLD} as m{k}"], [], f"m{k}.{name}"
    if kind == "from_package":
        return [f"from app.users import models as p{k}"], [], f"p{k}.{name}"
    if kind == "dotted":
        return [f"import {OLD}"], [], f"{OLD}.{name}"
    if kind == "ancestor":
        return [f"from app import users as u{k}", f"import {OLD} as _side{k}  # noqa: F401"], [], (
            f"u{k}.models.{name}"
        )
    if kind == "importlib_bound":
        return ["import importlib"], [f'l{k} = importlib.import_module("{OLD}")'], f"l{k}.{name}"
    if kind == "importlib_inline":
        return ["import importlib"], [], f'importlib.import_module("{OLD}").{name}'
    if kind == "lazy":
        return ["from app.lazy import LazyImport"], [f'z{k} = LazyImport("{OLD}")'], f"z{k}.{name}"
    if kind == "function_local":
        body = [f"def f{k}():", f"    from {OLD} import {name} as q{k}", f"    return q{k}", ""]
        return [], body, f"f{k}()"
    if kind == "relative":
        return [f"from ..users.models import {name} as r{k}"], [], f"r{k}"
    if kind == "shadowing_param":
        body = [f"def g{k}({name}, m=None):", f"    return {name}", ""]
        return [], body, f"g{k}('param')"
    raise ValueError(kind)


KINDS = (
    "from_alias", "module_alias", "from_package", "dotted", "ancestor", "importlib_bound",
    "importlib_inline", "lazy", "function_local", "relative", "shadowing_param",
)


def generated_module(rng: random.Random) -> str:
    imports: list[str] = []
    body: list[str] = []
    results: list[str] = []
    for k in range(rng.randint(2, 6)):
        kind, name = rng.choice(KINDS), rng.choice(NAMES)
        head, lines, expr = snippet(kind, k, name)
        imports.extend(line for line in head if line not in imports)
        body.extend(lines)
        expected = "'param'" if kind == "shadowing_param" else repr(name)
        results.append(f"    ({expr}, {expected}),")
    return "\n".join([*imports, "", *body, "RESULT = [", *results, "]", ""])


@pytest.mark.parametrize("seed", range(4))
def test_random_modules_keep_their_meaning(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    root = tmp_path / "tree"
    shutil.copytree(FORMS / "_base", root)
    modules = []
    for i in range(12):
        (root / f"app/api/gen_{i}.py").write_text(generated_module(rng))
        modules.append(f"app.api.gen_{i}")
    consolidation = Consolidation(model(f"{NEW}:User"), (model(f"{OLD}:User"),))

    def run(canonical_text: str) -> list[tuple[str, str]]:
        merged = MergeResult("app/auth/models.py", canonical_text, (), (MovedName("UserStatus", OLD, NEW),), ())
        changeset = rewrite(consolidation, merged, root, scan.source_files(root))
        return [(c.path, c.after) for c in changeset.changes]

    for path, text in run((FORMS / "_merged/models.py").read_text()):
        (root / path).write_text(text)
    check = (
        "import importlib\n"
        f"import {OLD} as old, {NEW} as new\n"
        "del old.User, old.UserStatus  # whatever still goes through the shim now fails\n"
        "for name in " + repr(modules) + ":\n"
        "    module = importlib.import_module(name)\n"
        "    for obj, what in module.RESULT:\n"
        "        want = what if what == 'param' else (old if what == 'UserRole' else new).__dict__[what]\n"
        "        assert obj is want or obj == want, (name, what, obj)\n"
    )
    proc = subprocess.run([sys.executable, "-c", check], cwd=root, capture_output=True, text=True, timeout=120)
    sources = "\n".join(f"## {m}\n{(root / (m.replace('.', '/') + '.py')).read_text()}" for m in modules)
    assert proc.returncode == 0, proc.stderr + sources
    assert run((root / "app/auth/models.py").read_text()) == [], sources
