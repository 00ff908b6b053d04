"""Issue 14: imports the migration adds or changes go where the project's sorter puts them.

`place_imports` is checked against ruff itself: for each edit, the placed text must be what
`ruff check --select I --fix` makes of the edited text under the same configuration, and a file
the project does not keep sorted is left as the edit made it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codemods.cst._isort import load_style
from codemods.cst._placement import place_imports

RUFF_CONFIG = """\
[project]
name = "demo"
requires-python = ">=3.10"

[tool.ruff]
line-length = {length}

[tool.ruff.lint.isort]
known-first-party = ["team"]
{extra}
"""


def ruff_fixed(root: Path, text: str) -> str:
    """What ruff's import sorter makes of `text` under the project's configuration."""
    path = root / "team" / "probe.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "I", "--fix", "-q",
                    str(path)], cwd=root, capture_output=True, check=False, timeout=60)
    return path.read_text()


EDITS = {
    "new stdlib import appended after first-party": (
        'from sqlalchemy.orm import Mapped\n\nfrom team.db import Base\n\n\nclass A(Base):\n    pass\n',
        'from sqlalchemy.orm import Mapped\n\nfrom team.db import Base\nfrom typing import Optional\n'
        '\n\nclass A(Base):\n    pass\n',
        "",
    ),
    "name added to an exploded import": (
        "from sqlalchemy.orm import (\n    Mapped,\n    mapped_column,\n)\n\nfrom team.db import Base\n",
        "from sqlalchemy.orm import (\n    relationship,\n    Mapped,\n    mapped_column,\n)\n\n"
        "from team.db import Base\n",
        "",
    ),
    "rewritten import changes its place": (
        "import sys\n\nfrom team.db import Base\nfrom team.legacy.models import Member\n\nprint(sys, Base, Member)\n",
        "import sys\n\nfrom team.db import Base\nfrom team.accounts.models import Member\n\nprint(sys, Base, Member)\n",
        "",
    ),
    "new from-import of a module already imported": (
        "from sqlalchemy import Integer\n\nfrom team.db import Base\n",
        "from sqlalchemy import Integer\n\nfrom team.db import Base\nfrom sqlalchemy import String, DateTime\n",
        "",
    ),
    "force single line": (
        "from sqlalchemy import Integer\nfrom sqlalchemy.orm import Mapped\n\nfrom team.db import Base\n",
        "from sqlalchemy import Integer\nfrom sqlalchemy.orm import Mapped\n\nfrom team.db import Base\n"
        "from sqlalchemy import String, DateTime\nfrom datetime import date\n",
        "force-single-line = true",
    ),
    "inside TYPE_CHECKING": (
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from team.db import Base\n"
        "    from team.legacy.models import Member\n",
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from team.db import Base\n"
        "    from team.accounts.models import Member\n",
        "",
    ),
    "sorted within sections, aliases combined": (
        "import os\nfrom pathlib import Path\n\nfrom team import db\n",
        "import os\nfrom pathlib import Path\n\nfrom team import db\nfrom team import models as m\n"
        "import logging\nfrom team.accounts import models\n",
        "force-sort-within-sections = true\ncombine-as-imports = true",
    ),
    "long new import wraps": (
        "from team.db import Base\n",
        "from team.db import Base\nfrom team.accounts.models import Member, MemberRole, MemberStatus, MEMBER_LIMIT\n",
        "",
    ),
    "relative imports": (
        "from sqlalchemy import Integer\n\nfrom . import db\n",
        "from sqlalchemy import Integer\n\nfrom . import db\nfrom ..accounts import models\n",
        "",
    ),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_placement_matches_ruff(name: str, tmp_path: Path) -> None:
    before, after, extra = EDITS[name]
    length = 60 if name == "long new import wraps" else 88
    (tmp_path / "pyproject.toml").write_text(RUFF_CONFIG.format(length=length, extra=extra))
    assert ruff_fixed(tmp_path, before) == before, "the project is sorted before the edit"
    placed = place_imports(before, after, load_style(tmp_path, {"team"}))
    assert placed == ruff_fixed(tmp_path, after)
    assert placed != after


def test_unsorted_project_is_left_as_the_edit_made_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(RUFF_CONFIG.format(length=88, extra=""))
    before = "from team.db import Base\nimport sys\n"
    after = "from team.db import Base\nimport sys\nfrom typing import Optional\n"
    assert place_imports(before, after, load_style(tmp_path)) == after


def test_comments_between_imports_leave_the_run_alone(tmp_path: Path) -> None:
    before = "import sys\n# the models\nfrom team.db import Base\n"
    after = "import sys\n# the models\nfrom team.db import Base\nimport os\n"
    assert place_imports(before, after, load_style(tmp_path)) == after


def test_ruff_settings_are_read(tmp_path: Path) -> None:
    (tmp_path / "ruff.toml").write_text(
        'line-length = 100\ntarget-version = "py311"\n[lint.isort]\nforce-single-line = true\n'
        'known-first-party = ["core"]\nsection-order = ["future", "standard-library", "first-party", '
        '"third-party", "local-folder"]\n'
    )
    style = load_style(tmp_path, {"app"})
    assert (style.line_length, style.force_single_line, style.python) == (100, True, (3, 11))
    assert style.first_party == {"app", "core"}
    assert style.sections.index("first-party") < style.sections.index("third-party")
    assert style.allows_pep604()


def test_legacy_ruff_isort_table_and_requires_python(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nrequires-python = ">=3.9"\n[tool.ruff]\nline-length = 79\n'
        "[tool.ruff.isort]\ncombine-as-imports = true\n"
    )
    style = load_style(tmp_path)
    assert (style.line_length, style.combine_as, style.python) == (79, True, (3, 9))
    assert not style.allows_pep604()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", '[tool.isort]\nprofile = "black"\nforce_single_line = true\nknown_first_party = ["crm"]\n'),
        (".isort.cfg", "[settings]\nprofile = black\nforce_single_line = True\nknown_first_party = crm\n"),
        ("setup.cfg", "[isort]\nprofile=black\nforce_single_line=1\nknown_first_party=crm,other\n"),
        ("setup.cfg", "[tool:isort]\nprofile = black\nforce_single_line = yes\nknown_first_party = crm\n"),
    ],
)
def test_isort_settings_are_read(name: str, text: str, tmp_path: Path) -> None:
    (tmp_path / name).write_text(text)
    style = load_style(tmp_path)
    assert style.configured and style.force_single_line and "crm" in style.first_party
    assert style.line_length == 88  # black's


def test_isort_default_line_length_and_sections(tmp_path: Path) -> None:
    (tmp_path / ".isort.cfg").write_text("[settings]\nsections = FUTURE,STDLIB,FIRSTPARTY,THIRDPARTY,LOCALFOLDER\n")
    style = load_style(tmp_path)
    assert style.line_length == 79
    assert style.sections == ("future", "standard-library", "first-party", "third-party", "local-folder")
