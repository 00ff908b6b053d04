"""What the tree's names denote: bases, registries, models, followed across modules.

Two jobs, one class each. `TreeModules` hands out a module's facts (parsing on demand a module the
index did not read, such as a re-exporting `__init__`) and qualifies names through its imports;
`Classifier` decides what a qualified name denotes (a `Kind`), following imports, aliases, factory
calls, decorators and class bases, and keys a MetaData by where it is defined.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

from codemods import scan
from codemods.index._facts import ClassFact, FileFacts, file_facts
from codemods.index._naming import Naming
from codemods.safety._checks import UNREADABLE
from codemods.types import Skipped, SourceFile

DECLARATIVE_ROOTS = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase", "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
BASE_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.declarative_base", "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
    }
)
AS_DECLARATIVE = frozenset({"sqlalchemy.orm.as_declarative", "sqlalchemy.ext.declarative.as_declarative"})
REGISTRY_FACTORIES = frozenset({"sqlalchemy.orm.registry", "sqlalchemy.orm.decl_api.registry"})
FLASK_FACTORIES = frozenset({"flask_sqlalchemy.SQLAlchemy"})
SQLMODEL = "sqlmodel.SQLModel"


@dataclass(frozen=True)
class Kind:
    """What a class or name turned out to be: a base, a model, abstract/intermediate, or plain."""

    role: str  # "base" | "model" | "abstract" | "registry" | "sqlmodel" | "plain" | "unknown"
    registry: str | None = None
    metadata: str | None = None
    how: str = ""


PLAIN = Kind("plain")
UNKNOWN = Kind("unknown")


def unreadable_reason(exc: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read, as a Skipped reason."""
    if isinstance(exc, OSError):
        return f"{UNREADABLE} ({os.strerror(exc.errno) if exc.errno else exc.__class__.__name__})"
    return f"cannot decode it ({exc.reason})"


def parse_facts(item: tuple[str, str, bool, str]) -> FileFacts | Skipped:
    """A file's facts from (module, path, is_package, text), or why it cannot be parsed."""
    module, path, is_package, text = item
    try:
        tree = ast.parse(text.lstrip("\ufeff"), filename=path)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        return Skipped(path, f"syntax error{where}: {getattr(exc, 'msg', exc)}")
    except (RecursionError, MemoryError) as exc:  # expressions nested too deep for the parser
        return Skipped(path, f"too deeply nested to parse ({exc.__class__.__name__})")
    try:
        return file_facts(module, path, is_package, tree)
    except RecursionError:
        return Skipped(path, "too deeply nested to read (RecursionError)")


class TreeModules:
    """The facts of the tree's modules, a module not read yet parsed on demand; names qualified."""

    def __init__(
        self, root: Path, modules: dict[str, SourceFile], texts: dict[str, str],
        facts: dict[str, FileFacts],
    ) -> None:
        self.root, self.modules, self.texts, self.facts = root, modules, texts, facts
        self.skipped: list[Skipped] = []

    def facts_of(self, module: str) -> FileFacts | None:
        """Facts of a module of the tree, parsing it on demand (e.g. a re-exporting __init__)."""
        source = self.modules.get(module)
        if module not in self.facts and source is not None and source.path not in self.texts:
            try:  # not read yet: no model marker in it (a re-exporting __init__, say)
                self.texts[source.path] = scan.read_text(self.root, source.path)
            except (OSError, UnicodeDecodeError) as exc:
                self.skipped.append(Skipped(source.path, unreadable_reason(exc)))
                self.modules.pop(module)
                return None
        if module not in self.facts and source is not None and source.path in self.texts:
            result = parse_facts((module, source.path, source.is_package, self.texts[source.path]))
            if isinstance(result, Skipped):
                self.skipped.append(result)
                self.modules.pop(module)
                return None
            self.facts[module] = result
        return self.facts.get(module)

    def qualify(self, facts: FileFacts, dotted_name: str) -> str:
        """Turn a dotted name used in a module into a fully qualified one via its imports."""
        head, _, rest = dotted_name.partition(".")
        if head in facts.imports:
            base = facts.imports[head]
        else:
            base = f"{facts.module}.{head}" if facts.module else head
        return f"{base}.{rest}" if rest else base

    def split(self, qualname: str) -> tuple[FileFacts, str] | None:
        """Find the tree module that holds `qualname` and the name inside it."""
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            facts = self.facts_of(".".join(parts[:cut]))
            if facts is not None:
                return facts, ".".join(parts[cut:])
        if "" in self.modules and len(parts) == 1:
            top = self.facts_of("")
            return (top, qualname) if top else None
        return None

    def follow_alias(self, qualname: str) -> str:
        """A MetaData imported under several names is one object: key it by where it is defined."""
        for _ in range(20):
            split = self.split(qualname)
            if split is None:
                return qualname
            facts, name = split
            if name in facts.imports:
                qualname = facts.imports[name]
            elif name in facts.aliases:
                qualname = self.qualify(facts, facts.aliases[name])
            else:
                return qualname
        return qualname


class Classifier(Naming):
    """Follows names across modules to decide what each class is."""

    def __init__(self, tree: TreeModules) -> None:
        self.tree = tree
        self.memo: dict[str, Kind] = {}

    def _split(self, qualname: str) -> tuple[FileFacts, str] | None:
        return self.tree.split(qualname)

    def qualify(self, facts: FileFacts, dotted_name: str) -> str:
        """A dotted name used in a module, fully qualified through its imports."""
        return self.tree.qualify(facts, dotted_name)

    def role_of(self, qualname: str) -> str:
        """What the name denotes: "base", "model", "abstract", ..."""
        return self.kind_of(qualname).role

    def kind_of(self, qualname: str, depth: int = 0) -> Kind:
        """What the (qualified) name denotes, following imports and aliases."""
        if qualname in self.memo:
            return self.memo[qualname]
        if depth > 20:
            return UNKNOWN
        self.memo[qualname] = UNKNOWN  # cycle guard
        kind = self._external(qualname) or self._internal(qualname, depth)
        self.memo[qualname] = kind
        return kind

    def _external(self, qualname: str) -> Kind | None:
        if qualname in DECLARATIVE_ROOTS:
            return Kind("root")
        if qualname == SQLMODEL or qualname == "sqlmodel.main.SQLModel":
            return Kind("sqlmodel", SQLMODEL, SQLMODEL, "SQLModel")
        return None

    def _internal(self, qualname: str, depth: int) -> Kind:
        split = self._split(qualname)
        if split is None:
            return UNKNOWN
        facts, name = split
        head, _, attr = name.partition(".")
        if attr:  # `db.Model`, `Base.metadata`, `mapper_registry.mapped`
            owner = self.kind_of(f"{facts.module}.{head}" if facts.module else head, depth + 1)
            if owner.role == "flask" and attr == "Model":
                return Kind("base", owner.registry, owner.metadata, "Flask-SQLAlchemy db.Model")
            return UNKNOWN
        if head in facts.imports:
            return self.kind_of(facts.imports[head], depth + 1)
        if head in facts.aliases:
            return self.kind_of(self.qualify(facts, facts.aliases[head]), depth + 1)
        if head in facts.calls:
            return self._call_kind(facts, qualname, head, depth)
        for cls in facts.classes:
            if cls.name == head:
                return self._class_kind(facts, cls, qualname, depth)
        return UNKNOWN

    def _call_kind(self, facts: FileFacts, qualname: str, name: str, depth: int) -> Kind:
        call = facts.calls[name]
        callee = self.qualify(facts, call.callee)
        meta = self.qualify(facts, call.metadata) if call.metadata else None
        if callee in BASE_FACTORIES:
            return Kind("base", qualname, meta or qualname, "declarative_base()")
        if callee in REGISTRY_FACTORIES:
            return Kind("registry", qualname, meta or qualname, "registry()")
        if callee in FLASK_FACTORIES:
            return Kind("flask", qualname, qualname, "Flask-SQLAlchemy")
        if call.callee.endswith(".generate_base"):
            owner = self.kind_of(self.qualify(facts, call.callee.rsplit(".", 1)[0]), depth + 1)
            if owner.role == "registry":
                return Kind("base", owner.registry, owner.metadata, "registry.generate_base()")
        return PLAIN

    def _class_kind(self, facts: FileFacts, cls: ClassFact, qualname: str, depth: int) -> Kind:
        for dec in cls.decorators:
            target = self.qualify(facts, dec)
            if target in AS_DECLARATIVE:
                return Kind("base", qualname, qualname, "@as_declarative()")
            owner, _, attr = target.rpartition(".")
            if attr in {"mapped", "mapped_as_dataclass"}:
                reg = self.kind_of(owner, depth + 1)
                if reg.role == "registry":
                    return Kind("model", reg.registry, reg.metadata, "@registry.mapped")
        unresolved = False
        for base in cls.bases:
            kind = self.kind_of(self.qualify(facts, base), depth + 1)
            if kind.role == "root":
                meta = qualname
                if cls.metadata_attr:  # `metadata = Base.metadata`: that base's MetaData, by the same key
                    meta = self.metadata_key(facts, cls.metadata_attr) or self.qualify(facts, cls.metadata_attr)
                return Kind("base", qualname, meta, "DeclarativeBase subclass")
            if kind.role == "sqlmodel":
                is_table = ("table", "True") in cls.keywords
                return Kind("model" if is_table else "sqlmodel", kind.registry, kind.metadata, "SQLModel")
            if kind.role in {"base", "model", "abstract"}:
                role = "abstract" if cls.abstract else "model"
                return Kind(role, kind.registry, kind.metadata, kind.how)
            unresolved = unresolved or kind.role == "unknown"
        if unresolved and cls.tablename and (cls.columns or cls.relationships):
            return Kind("model", None, None, "unresolved base")
        return PLAIN

    def metadata_key(self, facts: FileFacts, expr: str | None) -> str | None:
        """`metadata_obj` or `Base.metadata` -> the key the index groups tables by."""
        if expr is None:
            return None
        qualname = self.qualify(facts, expr)
        owner, _, attr = qualname.rpartition(".")
        if attr == "metadata":
            kind = self.kind_of(owner)
            if kind.role in {"base", "registry", "flask"}:
                return kind.metadata
        kind = self.kind_of(qualname)
        if kind.role in {"base", "registry"}:
            return kind.metadata
        return self.tree.follow_alias(qualname)
