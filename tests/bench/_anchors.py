"""The anchor tools, each run as its own subprocess so wall, CPU and peak RSS are comparable.

    python tests/bench/_anchors.py rope|bowler TREE OLD_MODULE CLASS CANONICAL_MODULE

Prints one JSON line on stdout: {"errors": [...], "failed_files": N}. The libcst anchor needs
no runner: it is `python -m libcst.tool codemod rename.RenameCommand` (see `libcst_command`);
nor does ast-grep, run as a shell pipeline behind `git grep -l` (see `ast_grep_command`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def libcst_command(tree: Path, old_module: str, class_name: str, canonical_module: str) -> list[str]:
    """argv of libcst's own rename codemod over the tree (run with cwd=tree)."""
    return [
        sys.executable, "-m", "libcst.tool", "codemod", "rename.RenameCommand",
        "--old_name", f"{old_module}.{class_name}",
        "--new_name", f"{canonical_module}.{class_name}",
        "-j", "2", "--no-format", "--hide-progress", ".",
    ]


RULES = Path(__file__).resolve().parent / "ast_grep" / "rules.yml"


def ast_grep_command(class_name: str) -> list[str]:
    """argv of `git grep -l -w CLASS | xargs ast-grep scan -r rules.yml -U` (run with cwd=tree).

    The rules (tests/bench/ast_grep/rules.yml) are written for the generated tree's forms.
    """
    exe = Path(sys.executable).parent / "ast-grep"
    tool = str(exe) if exe.exists() else "ast-grep"
    pipeline = (f"git grep -l -w -F {class_name} -- '*.py' | xargs -r {tool} scan"
                f" -r {RULES} -U")
    return ["sh", "-c", pipeline]


def anchor_command(tool: str, tree: Path, old_module: str, class_name: str, canonical: str) -> list[str]:
    """argv that runs the rope or bowler anchor through this file."""
    return [sys.executable, str(Path(__file__)), tool, str(tree), old_module, class_name, canonical]


def run_rope(tree: Path, old_module: str, class_name: str, canonical_module: str) -> dict[str, object]:
    """rope's MoveGlobal of the old class into the canonical module, applied to the tree."""
    from rope.base.project import Project  # type: ignore[import-untyped]
    from rope.refactor.move import MoveGlobal  # type: ignore[import-untyped]

    project = Project(str(tree), ropefolder=None)
    try:
        source = project.get_resource(old_module.replace(".", "/") + ".py")
        dest = project.get_resource(canonical_module.replace(".", "/") + ".py")
        offset = source.read().index(f"class {class_name}(") + len("class ")
        changes = MoveGlobal(project, source, offset).get_changes(dest)
        project.do(changes)
    finally:
        project.close()
    return {"errors": [], "failed_files": 0}


def run_bowler(tree: Path, old_module: str, class_name: str, canonical_module: str) -> dict[str, object]:
    """Bowler's `select_module(old).rename(canonical)`, written in place (fissix cannot parse `match`)."""
    from bowler import Query  # type: ignore[import-untyped]

    query = Query(str(tree)).select_module(old_module).rename(canonical_module)
    query.execute(interactive=False, write=True, silent=True)
    # fissix reports each unparsable file as a "Can't parse" line on stderr; the bench counts them.
    return {"errors": [repr(e)[:200] for e in query.exceptions[:5]], "failed_files": None}


def main(argv: list[str]) -> int:
    """Run one anchor and print its JSON summary line."""
    tool, tree, old_module, class_name, canonical = argv
    runner = {"rope": run_rope, "bowler": run_bowler}[tool]
    result = runner(Path(tree), old_module, class_name, canonical)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
