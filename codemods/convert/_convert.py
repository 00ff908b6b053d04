"""Legacy `Column(...)` classes -> SQLAlchemy 2.0 `Mapped[...] = mapped_column(...)`, DDL unchanged."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import libcst as cst

from codemods import scan
from codemods.convert._convert_member import ConvertContext, convert_member, needs_conversion
from codemods.cst._classbody import Resolver, class_statements, code, member_of, string_value
from codemods.cst._importremove import remove_unused_imports
from codemods.cst._imports import ImportPlanner
from codemods.cst._isort import ImportStyle, load_style
from codemods.cst._placement import place_imports
from codemods.diff import keep_endings
from codemods.index._index import build_index
from codemods.index._lookup import ModelSite, fk_tables, model_sites
from codemods.types import Changeset, FileChange, ImportSpec, ModelfoldError

__all__ = [
    "ConvertContext",
    "class_table",
    "convert_module_text",
    "drop_unused_imports",
    "local_type_impls",
    "modernize",
    "own_fk_tables",
]


def class_table(cls: cst.ClassDef) -> str | None:
    """The class's `__tablename__` when it is a string literal."""
    for stmt in class_statements(cls):
        if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
            assign = stmt.body[0]
            target = assign.targets[0].target
            if isinstance(target, cst.Name) and target.value == "__tablename__":
                return string_value(assign.value)
    return None


def own_fk_tables(classes: list[cst.ClassDef]) -> frozenset[str]:
    """Tables that the foreign keys of these class bodies reference."""
    found: set[str] = set()
    for cls in classes:
        tree = ast.parse(textwrap.dedent(code(cls)))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                found |= fk_tables(node)
    return frozenset(found)


def local_type_impls(module: cst.Module) -> dict[str, cst.BaseExpression]:
    """`impl` of the module's top-level custom types (TypeDecorator subclasses)."""
    found: dict[str, cst.BaseExpression] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.ClassDef):
            continue
        for inner in stmt.body.body:
            if isinstance(inner, cst.SimpleStatementLine) and isinstance(inner.body[0], cst.Assign):
                assign = inner.body[0]
                target = assign.targets[0].target
                if isinstance(target, cst.Name) and target.value == "impl":
                    found[stmt.name.value] = assign.value
    return found


def convert_class(cls: cst.ClassDef, ctx: ConvertContext) -> tuple[cst.ClassDef, list[str]]:
    """The class with every legacy column/relationship in Mapped style, and notes."""
    body: list[cst.BaseStatement] = []
    notes: list[str] = []
    for i, stmt in enumerate(class_statements(cls)):
        member = member_of(stmt, ctx.resolver, i)
        new, more = convert_member(member, ctx)
        body.extend(new.stmts)
        notes.extend(more)
    return cls.with_changes(body=cls.body.with_changes(body=body)), notes


def _needs(cls: cst.ClassDef, resolver: Resolver) -> bool:
    return any(
        needs_conversion(member_of(s, resolver, i)) for i, s in enumerate(class_statements(cls))
    )


def drop_unused_imports(tree: cst.Module, names: list[tuple[str, str]]) -> cst.Module:
    """Remove `from module import name` for names the edit left unused."""
    return remove_unused_imports(tree, [ImportSpec(module, name) for module, name in names])


def _mixins_of_models(tree: cst.Module) -> set[str]:
    """Names of the module's classes that a model class of the module inherits from."""
    classes = {s.name.value for s in tree.body if isinstance(s, cst.ClassDef)}
    found: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, cst.ClassDef) and class_table(stmt) is not None:
            for base in stmt.bases:
                if isinstance(base.value, cst.Name) and base.value.value in classes:
                    found.add(base.value.value)
    return found


def convert_module_text(
    text: str,
    module_name: str,
    sites: dict[str, list[ModelSite]],
    class_name: str | None = None,
    style: ImportStyle | None = None,
) -> tuple[str, list[str], list[str]]:
    """Convert the module's legacy model classes (or just `class_name`): text, notes, classes.

    `style`: the project's (import placement, `X | None` and line length follow it)."""
    tree = scan.parse_module(text)
    resolver = Resolver(tree)
    if style is None:
        planner = ImportPlanner(tree)
    else:
        length = style.line_length if style.configured else 99
        planner = ImportPlanner(tree, pep604=style.allows_pep604(), line_length=length)
    impls = local_type_impls(tree)
    notes: list[str] = []
    converted: list[str] = []
    body: list[cst.BaseStatement] = []
    found = False
    mixins = _mixins_of_models(tree)
    for stmt in tree.body:
        if isinstance(stmt, cst.ClassDef) and (class_name is None or stmt.name.value == class_name):
            found = found or stmt.name.value == class_name
            table = class_table(stmt)
            wanted = class_name is not None or table is not None or stmt.name.value in mixins
            if wanted and _needs(stmt, resolver):
                ctx = ConvertContext(resolver, planner, stmt.name.value, table, own_fk_tables([stmt]),
                                     sites, impls, module_name)
                stmt, more = convert_class(stmt, ctx)
                notes.extend(more)
                converted.append(stmt.name.value)
        body.append(stmt)
    if class_name is not None and not found:
        raise ModelfoldError(f"no class {class_name} in module {module_name}")
    if not converted:
        return text, notes, converted
    new_tree = planner.apply(tree.with_changes(body=body))
    new_tree = drop_unused_imports(new_tree, [("sqlalchemy", "Column"), ("sqlalchemy.schema", "Column")])
    new = scan.module_text(new_tree)
    return (place_imports(text, new, style) if style is not None else new), notes, converted


def _split_target(target: str) -> tuple[str, str | None]:
    module, _, cls = target.partition(":")
    if not module or (":" in target and not cls) or not all(p.isidentifier() for p in module.split(".")):
        raise ModelfoldError(f"bad target {target!r}: expected pkg.module or pkg.module:Class")
    return module, cls or None


def modernize(root: Path, target: str) -> Changeset:
    """Convert the legacy classes of `pkg.module` (or one `pkg.module:Class`) to Mapped style."""
    module, class_name = _split_target(target)
    root = scan.resolve_root(root)
    source = next((s for s in scan.source_files(root) if s.module == module), None)
    if source is None:
        raise ModelfoldError(f"module {module} not found under {root}")
    text = scan.read_text(root, source.path)
    try:
        style = load_style(root, {module.split(".")[0]})
        sites = model_sites(build_index(root).models)
        new, notes, converted = convert_module_text(text, module, sites, class_name, style)
    except cst.ParserSyntaxError as exc:
        raise ModelfoldError(f"cannot parse {source.path}: {exc.message}") from exc
    changes: tuple[FileChange, ...] = ()
    if new != text:
        summary = "converted to Mapped style: " + ", ".join(converted)
        changes = (FileChange(source.path, text, new, summary),)
    return keep_endings(root, Changeset(changes=changes, warnings=tuple(notes), parsed=(source.path,)))

