"""codemods.cst._importedit and _importremove: adding and dropping imports on real libcst trees, exact text expected."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import libcst as cst

from codemods.convert import drop_unused_imports
from codemods.cst._importedit import ImportSpec, add_imports
from codemods.cst._importremove import remove_unused_imports, used_names
from codemods.cst._imports import ImportPlanner


def added(text: str, *needed: ImportSpec) -> str:
    return add_imports(cst.parse_module(textwrap.dedent(text)), needed).code


def removed(text: str, *unused: ImportSpec) -> str:
    return remove_unused_imports(cst.parse_module(textwrap.dedent(text)), unused).code


def test_merges_into_the_existing_from_import_and_keeps_it_sorted() -> None:
    src = '''\
        """Models."""
        from __future__ import annotations

        from sqlalchemy import Integer, String
        from sqlalchemy.orm import Mapped

        x = 1
        '''
    assert added(src, ImportSpec("sqlalchemy", "ForeignKey"), ImportSpec("sqlalchemy.orm", "mapped_column")) == (
        '"""Models."""\n'
        "from __future__ import annotations\n"
        "\n"
        "from sqlalchemy import ForeignKey, Integer, String\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n"
        "\n"
        "x = 1\n"
    )


def test_an_unsorted_list_gets_the_new_name_first() -> None:
    src = """\
        from m import b, a
        """
    assert added(src, ImportSpec("m", "c")) == "from m import c, b, a\n"


def test_a_name_added_to_an_exploded_import_goes_one_per_line() -> None:
    """Issue 14: `Mapped, mapped_column, Session,` jammed onto one line of an exploded import."""
    src = """\
        from n import (
            Mapped,
            mapped_column,
        )
        from u import (
            z,
            a
        )
        """
    assert added(src, ImportSpec("n", "Session"), ImportSpec("n", "relationship"), ImportSpec("u", "k")) == (
        "from n import (\n"
        "    Mapped,\n"
        "    Session,\n"
        "    mapped_column,\n"
        "    relationship,\n"
        ")\n"
        "from u import (\n"
        "    z,\n"
        "    a,\n"
        "    k\n"
        ")\n"
    )


def test_an_exploded_import_with_comments_keeps_its_shape() -> None:
    src = """\
        from n import (  # the ORM
            b,
        )
        """
    assert added(src, ImportSpec("n", "a")) == "from n import (  # the ORM\n    a, b,\n)\n"


def test_new_statements_go_after_docstring_and_future_import() -> None:
    src = '''\
        """Doc."""

        from __future__ import annotations
        class A:
            pass
        '''
    needed = [ImportSpec("typing", "Optional"), ImportSpec("sqlalchemy", None, "sa"), ImportSpec("enum")]
    assert added(src, *needed) == (
        '"""Doc."""\n'
        "\n"
        "from __future__ import annotations\n"
        "import enum\n"
        "import sqlalchemy as sa\n"
        "from typing import Optional\n"
        "\n"
        "class A:\n"
        "    pass\n"
    )


def test_imports_below_the_top_block_are_not_merged_into() -> None:
    src = """\
        import os
        # setup
        x = 1
        from typing import List
        """
    assert added(src, ImportSpec("typing", "Optional")) == (
        "import os\n"
        "from typing import Optional\n"
        "\n"
        "# setup\n"
        "x = 1\n"
        "from typing import List\n"
    )


def test_names_the_top_block_already_imports_are_not_added_again() -> None:
    src = """\
        import os
        import sqlalchemy as sa
        from typing import *
        from m import x as y, z
        """
    text = textwrap.dedent(src)
    needed = [ImportSpec("os"), ImportSpec("sqlalchemy", None, "sa"), ImportSpec("typing", "Optional"),
              ImportSpec("m", "x", "y"), ImportSpec("m", "z")]
    assert added(src, *needed) == text


def test_planner_apply_uses_the_same_placement() -> None:
    tree = cst.parse_module("from sqlalchemy.orm import Mapped\n\n\nclass A:\n    x: int\n")
    planner = ImportPlanner(tree)
    assert planner.ref("sqlalchemy.orm", "mapped_column") == "mapped_column"
    assert planner.optional("int") == "Optional[int]"
    assert planner.apply(tree).code == (
        "from sqlalchemy.orm import Mapped, mapped_column\n"
        "from typing import Optional\n"
        "\n"
        "\n"
        "class A:\n"
        "    x: int\n"
    )


def test_removes_one_alias_from_a_multi_alias_import() -> None:
    src = """\
        from sqlalchemy import Integer, Column, String
        x: Integer = String()
        """
    assert removed(src, ImportSpec("sqlalchemy", "Column")) == (
        "from sqlalchemy import Integer, String\n"
        "x: Integer = String()\n"
    )
    last = "from sqlalchemy import Integer, Column\nx: Integer\n"
    assert removed(last, ImportSpec("sqlalchemy", "Column")) == "from sqlalchemy import Integer\nx: Integer\n"


def test_removes_from_a_parenthesized_import_keeping_the_other_comments() -> None:
    src = """\
        from sqlalchemy import (
            Integer,  # ints
            Column,  # gone with it
            String,
        )
        x: Integer = String()
        """
    assert removed(src, ImportSpec("sqlalchemy", "Column")) == (
        "from sqlalchemy import (\n"
        "    Integer,  # ints\n"
        "    String,\n"
        ")\n"
        "x: Integer = String()\n"
    )


def test_removes_the_whole_statement_when_it_becomes_empty() -> None:
    src = """\
        import os
        from sqlalchemy import Column
        from sqlalchemy.orm import Mapped

        x: Mapped[int] = os.sep
        """
    assert removed(src, ImportSpec("sqlalchemy", "Column")) == (
        "import os\n"
        "from sqlalchemy.orm import Mapped\n"
        "\n"
        "x: Mapped[int] = os.sep\n"
    )
    both = "from sqlalchemy import Column\n# schema\nfrom sqlalchemy.schema import Column\nx = 1\n"
    dropped = drop_unused_imports(cst.parse_module(both), [("sqlalchemy", "Column"), ("sqlalchemy.schema", "Column")])
    assert dropped.code == "x = 1\n"


def test_a_name_still_used_is_kept() -> None:
    in_annotation = "from sqlalchemy import Column\n\n\ndef f(c: Column) -> None:\n    pass\n"
    in_string = 'from sqlalchemy import Column\n\nx: "list[Column]"\n'
    in_all = 'from sqlalchemy import Column\n\n__all__ = ["Column"]\n'
    in_body = "from sqlalchemy import Column\n\n\ndef f():\n    return Column.name\n"
    for text in (in_annotation, in_string, in_all, in_body):
        assert removed(text, ImportSpec("sqlalchemy", "Column")) == text


def test_only_the_exact_spelling_is_removed() -> None:
    src = """\
        from sqlalchemy import Column as C
        from .local import Column
        from __future__ import annotations
        import sqlalchemy.orm
        """
    text = textwrap.dedent(src)
    assert removed(src, ImportSpec("sqlalchemy", "Column"), ImportSpec("__future__", "annotations")) == text
    assert removed(src, ImportSpec("sqlalchemy", "Column", "C"), ImportSpec("sqlalchemy.orm")) == (
        "from .local import Column\n"
        "from __future__ import annotations\n"
    )


def test_nested_imports_are_removed_too() -> None:
    src = """\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from sqlalchemy import Column, Integer

        x: "Integer"
        """
    assert removed(src, ImportSpec("sqlalchemy", "Column"), ImportSpec("typing", "TYPE_CHECKING")) == (
        "from typing import TYPE_CHECKING\n"
        "\n"
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy import Integer\n"
        "\n"
        'x: "Integer"\n'
    )


def test_used_names_reads_loads_all_and_string_annotations() -> None:
    text = 'import a\nb = 1\n__all__ = ["c"]\ndef f(x: "d.e[f]") -> g: return a\n'
    assert used_names(text) == {"a", "c", "d", "f", "g"}
    assert used_names("def (:\n") is None


def test_the_pipeline_does_not_import_libcst_codemod_or_matchers() -> None:
    code = (
        "import sys\n"
        "import codemods.merge, codemods.rewrite, codemods.convert, codemods.rewrite._shim, codemods.migrate\n"
        "print(sorted(m for m in sys.modules if m.startswith(('libcst.codemod', 'libcst.matchers'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
