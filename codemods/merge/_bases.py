"""What a model class inherits from classes of the tree (mixins, abstract bases), read with libcst.

Merge keeps every member either class had: the canonical's inherited members count as canonical
for conflicts, and the duplicate's mixins join the canonical's bases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from codemods import scan
from codemods.cst._classbody import Member, Resolver, class_statements, members
from codemods.types import ModelDef


@dataclass(frozen=True)
class TreeClass:
    """A class statement of the tree and the resolver of its module."""

    qualname: str
    cls: cst.ClassDef
    resolver: Resolver


@dataclass(frozen=True)
class Inherited:
    """A member a class inherits from a tree class."""

    member: Member
    resolver: Resolver
    owner: str  # qualified name of the class that declares it


def _prefix(model: ModelDef) -> str:
    """The folder the model's top package lives in (`src/` in a src layout, else "")."""
    tail = model.module.replace(".", "/")
    path = model.path.removesuffix(".py").removesuffix("/__init__")
    return path[: len(path) - len(tail)] if path.endswith(tail) else ""


def base_qualnames(model: ModelDef, cls: cst.ClassDef, resolver: Resolver) -> list[str]:
    """Absolute qualified names of the class's bases (`Base`, `.mixins.Timestamps`, `sa_mixins.X`)."""
    found: list[str] = []
    for arg in cls.bases:
        name = resolver.qualname(arg.value)
        if name is None:
            continue
        found.append(absolute_name(model.module, model.path.endswith("__init__.py"), name))
    return found


def absolute_name(module: str, is_package: bool, name: str) -> str:
    """A qualified name as the Resolver gives it (`.mixins.X`, `X` for a local class) made absolute."""
    if name.startswith("."):
        dots = len(name) - len(name.lstrip("."))
        where, _, obj = name[dots:].rpartition(".")
        return f"{scan.absolute_module(module, is_package, dots, where or None) or ''}.{obj}".lstrip(".")
    return name if "." in name else f"{module}.{name}"


class TreeClasses:
    """Finds classes of the tree by qualified name, reading each module once."""

    def __init__(self, root: Path, model: ModelDef) -> None:
        self.root, self.model, self.prefix = root, model, _prefix(model)
        self._modules: dict[str, tuple[cst.Module, Resolver] | None] = {}

    def _module(self, module: str) -> tuple[cst.Module, Resolver] | None:
        if module not in self._modules:
            self._modules[module] = None
            base = self.prefix + module.replace(".", "/")
            for rel in (base + ".py", base + "/__init__.py"):
                if (self.root / rel).is_file():
                    try:
                        tree = scan.parse_module(scan.read_text(self.root, rel))
                    except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
                        break
                    self._modules[module] = (tree, Resolver(tree))
                    break
        return self._modules[module]

    def find(self, qualname: str, depth: int = 0) -> TreeClass | None:
        """The class statement `qualname` names, following re-exports; None outside the tree."""
        module, _, name = qualname.rpartition(".")
        loaded = self._module(module) if module else None
        if loaded is None or depth > 10:
            return None
        tree, resolver = loaded
        for stmt in tree.body:
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == name:
                return TreeClass(qualname, stmt, resolver)
        target = resolver.qualname(cst.Name(name))
        if target is None or target == name:
            return None
        target = absolute_name(module, self._is_package(module), target)
        return self.find(target, depth + 1)

    def _is_package(self, module: str) -> bool:
        return (self.root / (self.prefix + module.replace(".", "/")) / "__init__.py").is_file()

    def ancestry(self, model: ModelDef, cls: cst.ClassDef, resolver: Resolver) -> list[TreeClass]:
        """Every tree class the class inherits from, in a depth-first order close to the MRO."""
        seen: list[TreeClass] = []
        names: set[str] = set()

        def walk(owner: ModelDef, node: cst.ClassDef, res: Resolver, depth: int) -> None:
            for qualname in base_qualnames(owner, node, res):
                found = self.find(qualname)
                if found is None or found.qualname in names or depth > 20:
                    continue
                names.add(found.qualname)
                seen.append(found)
                module = found.qualname.rpartition(".")[0]
                parent = ModelDef(ref="", module=module, class_name=found.cls.name.value,
                                  path=self.prefix + module.replace(".", "/") + ".py",
                                  line=0, table=None, kind="class", registry=None, metadata=None,
                                  style="legacy")
                walk(parent, found.cls, found.resolver, depth + 1)

        walk(model, cls, resolver, 0)
        return seen


def inherited_members(classes: list[TreeClass]) -> dict[str, Inherited]:
    """Members declared by the given classes, the first declaration of each name winning (MRO)."""
    found: dict[str, Inherited] = {}
    for tree_class in classes:
        for member in members(class_statements(tree_class.cls), tree_class.resolver):
            if member.kind == "docstring" or member.name.startswith("<stmt"):
                continue
            found.setdefault(member.name, Inherited(member, tree_class.resolver, tree_class.qualname))
    return found


def with_bases(cls: cst.ClassDef, added: list[cst.BaseExpression]) -> cst.ClassDef:
    """The class with `added` bases inserted before its last base (mixins come before the base)."""
    if not added:
        return cls
    bases = list(cls.bases)
    at = max(len(bases) - 1, 0)
    new = [cst.Arg(value=expr, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for expr in added]
    if not bases:
        new[-1] = new[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return cls.with_changes(bases=[*bases[:at], *new, *bases[at:]],
                            lpar=cst.LeftParen(), rpar=cst.RightParen())


DECLARATIVE_ROOTS = frozenset({"DeclarativeBase", "DeclarativeBaseNoMeta", "MappedAsDataclass"})


def declares_mapping(tree_class: TreeClass) -> bool:
    """A declarative base, or a mapped class (joined inheritance): never a mixin to copy over."""
    for arg in tree_class.cls.bases:
        name = tree_class.resolver.qualname(arg.value) or ""
        if name.rsplit(".", 1)[-1] in DECLARATIVE_ROOTS:
            return True
    for deco in tree_class.cls.decorators:
        name = tree_class.resolver.qualname(deco.decorator) or ""
        if name.rsplit(".", 1)[-1] in {"as_declarative", "mapped", "mapped_as_dataclass"}:
            return True
    names = {m.name for m in members(class_statements(tree_class.cls), tree_class.resolver)}
    return bool(names & {"__tablename__", "__table__", "registry"})
