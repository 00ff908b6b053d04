"""Turn a duplicate's module into a re-export shim of the names that moved to the canonical module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ImportAssignment, MetadataWrapper, ScopeProvider

from codemods import scan
from codemods.cst._importedit import add_imports
from codemods.cst._importremove import remove_unused_imports
from codemods.cst._imports import is_type_checking
from codemods.rewrite._targets import Target
from codemods.types import ImportSpec


@dataclass(frozen=True)
class ShimSpec:
    """One old module: the names it gave up (local name -> new home) and how to re-export them."""

    module: str
    names: dict[str, Target]
    models: tuple[str, ...]
    warn_on_import: bool = False
    # the canonical module still imports from this one: re-export where the class was, not on top
    cycle: bool = False


def build_shim(text: str, spec: ShimSpec) -> tuple[str, list[str]]:
    """The old module's new text: a pure shim when only imports remain, else a minimal edit."""
    tree = scan.parse_module(text)
    removed = [s for s in tree.body if _defined_name(s) in spec.names]
    if not removed:
        return text, []
    kept = [s for s in tree.body if s not in removed]
    exported = _all_names(tree)
    if all(_is_plumbing(s) for s in kept) and exported <= set(spec.names):
        new = _pure_shim(tree, spec)
        if text.startswith("\ufeff") and not new.startswith("\ufeff"):
            new = "\ufeff" + new
        return new, []
    return _partial_shim(tree, spec, removed)


def _all_names(tree: cst.Module) -> set[str]:
    """Strings listed in a top-level `__all__` (an explicit re-export keeps the module partial)."""
    names: set[str] = set()
    for stmt in tree.body:
        if _defined_name(stmt) != "__all__" or not isinstance(stmt, cst.SimpleStatementLine):
            continue
        value = getattr(stmt.body[0], "value", None)
        if isinstance(value, (cst.List, cst.Tuple)):
            for element in value.elements:
                if isinstance(element.value, cst.SimpleString):
                    names.add(str(element.value.evaluated_value))
    return names


def _defined_name(stmt: cst.CSTNode) -> str | None:
    """The name a top-level class, function or single-target assignment defines."""
    if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
        return stmt.name.value
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            return get_full_name_for_node(small.targets[0].target)
        if isinstance(small, cst.AnnAssign):
            return get_full_name_for_node(small.target)
    return None


def _is_plumbing(stmt: cst.CSTNode) -> bool:
    """Docstring, imports, `__all__`, `pass`, or an `if TYPE_CHECKING:` block of imports."""
    if isinstance(stmt, cst.SimpleStatementLine):
        return all(_plumbing_small(s) for s in stmt.body)
    if isinstance(stmt, cst.If) and stmt.orelse is None and is_type_checking(stmt.test):
        return all(_is_plumbing(s) for s in stmt.body.body)
    return False


def _plumbing_small(small: cst.BaseSmallStatement) -> bool:
    if isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass)):
        return True
    if isinstance(small, cst.Expr):
        return isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))
    if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
        return "__all__" in cst.Module([]).code_for_node(small).split("=")[0]
    return False


def _groups(spec: ShimSpec) -> dict[str, list[tuple[str, str]]]:
    """New module -> [(new name, local name)], class first then the other names, sorted."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for local in sorted(spec.names):
        target = spec.names[local]
        groups.setdefault(target.module, []).append((target.name, local))
    return groups


def _alias(name: str, local: str) -> str:
    return name if name == local else f"{name} as {local}"


def _import_lines(spec: ShimSpec, noqa: bool) -> list[str]:
    lines = []
    for module, items in _groups(spec).items():
        names = ", ".join(_alias(n, local) for n, local in items)
        line = f"from {module} import {names}" + ("  # noqa: F401" if noqa else "")
        if len(line) > 99:
            body = "".join(f"    {_alias(n, local)},\n" for n, local in items)
            line = f"from {module} import (" + ("  # noqa: F401" if noqa else "") + f"\n{body})"
        lines.append(line)
    return lines


def _docstring(spec: ShimSpec) -> str:
    modules = sorted({spec.names[m].module for m in spec.models if m in spec.names})
    models = " and ".join(spec.models)
    what = f"the {models} model" + ("s" if len(spec.models) > 1 else "")
    verb = "live" if len(spec.models) > 1 else "lives"
    where = " and ".join(f"``{m}``" for m in modules)
    tail = ";\nusing it emits a DeprecationWarning" if spec.warn_on_import else ""
    return (
        f'"""Deprecated location: {what} now {verb} in {where}.\n\n'
        f"This module only re-exports it so that old import paths keep working{tail}.\n"
        '"""\n\n'
    )


def _getattr_block(spec: ShimSpec) -> str:
    """Module-level `__getattr__` that resolves moved names lazily and warns on each use."""
    entries = "".join(
        f'    "{local}": ("{t.module}", "{t.name}"),\n' for local, t in sorted(spec.names.items())
    )
    return (
        f"_MOVED = {{\n{entries}}}\n\n\n"
        "def __getattr__(name: str) -> Any:\n"
        '    """Resolve a moved name from its new module, with a DeprecationWarning."""\n'
        "    if name not in _MOVED:\n"
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")\n'
        "    module, attr = _MOVED[name]\n"
        "    warnings.warn(\n"
        '        f"{__name__}.{name} is deprecated; import {attr} from {module} instead",\n'
        "        DeprecationWarning,\n"
        "        stacklevel=2,\n"
        "    )\n"
        "    return getattr(importlib.import_module(module), attr)\n"
    )


def _pure_shim(tree: cst.Module, spec: ShimSpec) -> str:
    names = ", ".join(f'"{n}"' for n in sorted(spec.names))
    if spec.warn_on_import:
        guarded = "".join("    " + line.replace("\n", "\n    ") + "\n" for line in _import_lines(spec, True))
        body = (
            _docstring(spec)
            + "import importlib\nimport warnings\nfrom typing import TYPE_CHECKING, Any\n\n"
            + f"if TYPE_CHECKING:\n{guarded}\n__all__ = [{names}]\n\n"
            + _getattr_block(spec)
        )
    else:
        body = _docstring(spec) + "\n".join(_import_lines(spec, True)) + f"\n\n__all__ = [{names}]\n"
    header = "".join(tree.code_for_node(line) for line in tree.header).replace(
        tree.default_newline, "\n"
    )
    text = header + body
    if tree.default_newline != "\n":
        text = text.replace("\n", tree.default_newline)
    if tree.has_trailing_newline is False:
        text = text.rstrip("\r\n")
    return text


def _partial_shim(
    tree: cst.Module, spec: ShimSpec, removed: Sequence[cst.CSTNode]
) -> tuple[str, list[str]]:
    """Keep the module's other content; drop the moved definitions and re-export them instead."""
    warnings: list[str] = []
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    unused = _imports_only_used_by(wrapper, removed)
    body = [s for s in tree.body if s not in removed]
    uses_moved = _uses_names(body, set(spec.names))
    warn = spec.warn_on_import
    if warn and (uses_moved or any(_defined_name(s) in ("__getattr__", "_MOVED") for s in body)):
        warnings.append(
            f"{spec.module}: still uses or defines what --warn-on-import needs; plain re-export kept"
        )
        warn = False
    at = tree.body.index(removed[0]) if spec.cycle else _after_imports(body)
    if warn:
        gap = [cst.EmptyLine(), cst.EmptyLine()]
        new_stmts = [
            cst.parse_statement(s + "\n").with_changes(leading_lines=gap)
            for s in _getattr_block(spec).split("\n\n\n")
        ]
        body = body + new_stmts
        guarded = "if TYPE_CHECKING:\n" + "".join(
            "    " + line.replace("\n", "\n    ") + "\n" for line in _import_lines(spec, True)
        )
        body.insert(at, cst.parse_statement(guarded))
    else:
        for line in reversed(_import_lines(spec, True)):
            body.insert(at, cst.parse_statement(line + "\n"))
    new = tree.with_changes(body=body)
    new = remove_unused_imports(new, unused)
    if new.body and not any(line.comment for line in new.header):
        # the first import went (`import enum` of a moved enum): no blank line opens the file
        first = new.body[0]
        lines = list(getattr(first, "leading_lines", ()))
        while lines and lines[0].comment is None:
            lines.pop(0)
        new = new.with_changes(header=[], body=[first.with_changes(leading_lines=lines), *new.body[1:]])
    if warn:
        new = add_imports(new, [ImportSpec("importlib"), ImportSpec("warnings"),
                                ImportSpec("typing", "TYPE_CHECKING"), ImportSpec("typing", "Any")])
    return scan.module_text(new), warnings


def _after_imports(body: Sequence[cst.CSTNode]) -> int:
    """Index just after the leading docstring / import block."""
    at = 0
    for i, stmt in enumerate(body):
        if _is_plumbing(stmt) and not _is_all(stmt):
            at = i + 1
        else:
            break
    return at


def _is_all(stmt: cst.CSTNode) -> bool:
    return _defined_name(stmt) == "__all__"


def _uses_names(body: Sequence[cst.CSTNode], names: set[str]) -> bool:
    found: list[str] = []

    class _Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value in names:
                found.append(node.value)

    for stmt in body:
        if not _is_plumbing(stmt):
            stmt.visit(_Names())
    return bool(found)


def _imports_only_used_by(
    wrapper: MetadataWrapper, removed: Sequence[cst.CSTNode]
) -> list[ImportSpec]:
    """Module-level imports whose every use lies inside the removed definitions."""
    scopes = wrapper.resolve(ScopeProvider)
    scope = scopes.get(wrapper.module)
    if scope is None:
        return []
    inside: set[int] = set()

    class _Mark(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            inside.add(id(node))
            return True

    for stmt in removed:
        stmt.visit(_Mark())
    out: list[ImportSpec] = []
    for a in scope.assignments:
        if not isinstance(a, ImportAssignment) or not a.references:
            continue
        if not all(id(ref.node) in inside for ref in a.references):
            continue
        node = a.node
        if not isinstance(node, (cst.Import, cst.ImportFrom)):
            continue
        for alias in node.names if not isinstance(node.names, cst.ImportStar) else []:
            local = alias.evaluated_alias or alias.evaluated_name
            if local != a.name:
                continue
            if isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
                module = get_full_name_for_node(node.module) or ""
                out.append(ImportSpec(module, alias.evaluated_name, alias.evaluated_alias))
            elif isinstance(node, cst.Import):
                out.append(ImportSpec(alias.evaluated_name, None, alias.evaluated_alias))
    return sorted(set(out), key=lambda i: (i.module, i.obj or "", i.asname or ""))
