"""The static model index: declarative bases, registries, model classes and imperative tables.

Nothing of the target is imported: files are read with stdlib `ast` (fast), only those whose
text could define a model or base, plus modules pulled in on demand to follow re-exports.
"""

from __future__ import annotations

import ast
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codemods import scan
from codemods.index._facts import MARKERS, ClassFact, FileFacts, file_facts
from codemods.index._naming import Naming
from codemods.safety._checks import UNREADABLE, unreadable_files
from codemods.types import (
    BaseDef,
    ModelDef,
    ModelfoldError,
    ModelIndex,
    Skipped,
    SourceFile,
    Style,
)

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
TABLE_FACTORIES = frozenset({"sqlalchemy.Table", "sqlalchemy.schema.Table", "sqlalchemy.sql.schema.Table"})
SQLMODEL = "sqlmodel.SQLModel"
PARALLEL_THRESHOLD = 400  # below this many candidate files a process pool costs more than it saves


@dataclass(frozen=True)
class _Kind:
    """What a class or name turned out to be: a base, a model, abstract/intermediate, or plain."""

    role: str  # "base" | "model" | "abstract" | "registry" | "sqlmodel" | "plain" | "unknown"
    registry: str | None = None
    metadata: str | None = None
    how: str = ""


PLAIN = _Kind("plain")
UNKNOWN = _Kind("unknown")


def build_index(root: Path, excludes: Sequence[str] = ()) -> ModelIndex:
    """Scan the tree below root and index every model, base and imperative table."""
    root = scan.resolve_root(root)
    return index_files(root, scan.source_files(root, excludes))


def index_files(
    root: Path, files: Sequence[SourceFile], texts: dict[str, str] | None = None, *, importers: bool = True
) -> ModelIndex:
    """Index the given files (the ones whose text could define models are parsed).

    In a git work tree only the files `git grep` finds a marker in are read. `texts` (path ->
    text), when given, is filled with every file read, for the later stages. `importers`: count
    the files naming each module with a duplicate (ranks the canonical choice; a migration
    given both classes does not need it).
    """
    texts = {} if texts is None else texts
    skipped: list[Skipped] = []
    hits = scan.grep_files(root, MARKERS)
    for f in files if hits is None else [f for f in files if f.path in hits]:
        try:
            texts[f.path] = scan.read_text(root, f.path)
        except (OSError, UnicodeDecodeError) as exc:
            skipped.append(Skipped(f.path, _unreadable(exc)))
    if hits is not None:  # git grep passes over a file it may not read without a word
        unread = unreadable_files(root, [f.path for f in files if f.path not in hits])
        skipped += [Skipped(path, f"{UNREADABLE} ({why})") for path, why in unread.items()]
    candidates = [f for f in files if f.path in texts and scan.mentions_any(texts[f.path], MARKERS)]
    facts, failed = _parse_all(candidates, texts)
    skipped += failed
    resolver = _Classifier(root, {f.module: f for f in files}, texts, facts)
    models, bases = resolver.collect()
    counts = _importers(models, root, texts if hits is None else None) if importers else {}
    return ModelIndex(
        models=tuple(sorted(models, key=lambda m: (m.path, m.line))),
        bases=tuple(sorted(bases, key=lambda b: b.qualname)),
        files_scanned=len(files),
        skipped=tuple(sorted(skipped + resolver.skipped, key=lambda s: s.path)),
        importers=counts,
        modules=frozenset(f.module for f in files),
    )


def _unreadable(exc: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read, as a Skipped reason."""
    if isinstance(exc, OSError):
        return f"{UNREADABLE} ({os.strerror(exc.errno) if exc.errno else exc.__class__.__name__})"
    return f"cannot decode it ({exc.reason})"


def _importers(models: Sequence[ModelDef], root: Path, texts: dict[str, str] | None) -> dict[str, int]:
    """How many other files name each module that may hold a duplicate (a text count; by
    `git grep` when `texts` does not hold every file).

    Only modules whose models share a table or class name with another model are counted: the
    number ranks duplicates, and counting every model module would read the tree once per module.
    """
    tables = Counter(m.table for m in models if m.table)
    names = Counter(m.class_name for m in models)
    own = {
        m.module: m.path for m in models
        if (m.table and tables[m.table] > 1) or names[m.class_name] > 1
    }
    naming = {
        module: {path for path, text in texts.items() if module in text} if texts is not None
        else scan.grep_files(root, [module]) or set()
        for module in sorted(own)
    }
    return {module: len(paths - {own[module]}) for module, paths in naming.items()}


def find_model(index: ModelIndex, ref: str) -> ModelDef:
    """The model named `module:Class`, or a ModelfoldError saying why there is none."""
    module, sep, name = ref.partition(":")
    if not sep or not module or not name.isidentifier():
        raise ModelfoldError(f"expected dotted.module:ClassName, got {ref!r}")
    for model in index.models:
        if model.module == module and model.class_name == name:
            return model
    if module not in index.modules:
        raise ModelfoldError(f"no module {module!r} under the root")
    if any(s.path.endswith(module.replace(".", "/") + ".py") for s in index.skipped):
        raise ModelfoldError(f"module {module!r} could not be parsed; fix it first")
    raise ModelfoldError(f"{ref} is not a mapped model class found under the root")


def _parse_one(item: tuple[str, str, bool, str]) -> FileFacts | Skipped:
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


def _parse_all(
    files: Sequence[SourceFile], texts: dict[str, str]
) -> tuple[dict[str, FileFacts], list[Skipped]]:
    items = [(f.module, f.path, f.is_package, texts[f.path]) for f in files]
    if len(items) >= PARALLEL_THRESHOLD:
        from concurrent.futures import ProcessPoolExecutor  # multiprocessing loads only when used

        with ProcessPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(_parse_one, items, chunksize=64))
    else:
        results = [_parse_one(i) for i in items]
    facts = {r.module: r for r in results if isinstance(r, FileFacts)}
    return facts, [r for r in results if isinstance(r, Skipped)]


class _Classifier(Naming):
    """Follows names across modules to decide what each class is."""

    def __init__(
        self, root: Path, modules: dict[str, SourceFile], texts: dict[str, str],
        facts: dict[str, FileFacts],
    ) -> None:
        self.root, self.modules, self.texts, self.facts = root, modules, texts, facts
        self.skipped: list[Skipped] = []
        self.memo: dict[str, _Kind] = {}

    def _facts_of(self, module: str) -> FileFacts | None:
        """Facts of a module of the tree, parsing it on demand (e.g. a re-exporting __init__)."""
        source = self.modules.get(module)
        if module not in self.facts and source is not None and source.path not in self.texts:
            try:  # not read yet: no model marker in it (a re-exporting __init__, say)
                self.texts[source.path] = scan.read_text(self.root, source.path)
            except (OSError, UnicodeDecodeError) as exc:
                self.skipped.append(Skipped(source.path, _unreadable(exc)))
                self.modules.pop(module)
                return None
        if module not in self.facts and source is not None and source.path in self.texts:
            result = _parse_one((module, source.path, source.is_package, self.texts[source.path]))
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

    def _split(self, qualname: str) -> tuple[FileFacts, str] | None:
        """Find the tree module that holds `qualname` and the name inside it."""
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            facts = self._facts_of(".".join(parts[:cut]))
            if facts is not None:
                return facts, ".".join(parts[cut:])
        if "" in self.modules and len(parts) == 1:
            top = self._facts_of("")
            return (top, qualname) if top else None
        return None

    def role_of(self, qualname: str) -> str:
        """What the name denotes: "base", "model", "abstract", ..."""
        return self.kind_of(qualname).role

    def kind_of(self, qualname: str, depth: int = 0) -> _Kind:
        """What the (qualified) name denotes, following imports and aliases."""
        if qualname in self.memo:
            return self.memo[qualname]
        if depth > 20:
            return UNKNOWN
        self.memo[qualname] = UNKNOWN  # cycle guard
        kind = self._external(qualname) or self._internal(qualname, depth)
        self.memo[qualname] = kind
        return kind

    def _external(self, qualname: str) -> _Kind | None:
        if qualname in DECLARATIVE_ROOTS:
            return _Kind("root")
        if qualname == SQLMODEL or qualname == "sqlmodel.main.SQLModel":
            return _Kind("sqlmodel", SQLMODEL, SQLMODEL, "SQLModel")
        return None

    def _internal(self, qualname: str, depth: int) -> _Kind:
        split = self._split(qualname)
        if split is None:
            return UNKNOWN
        facts, name = split
        head, _, attr = name.partition(".")
        if attr:  # `db.Model`, `Base.metadata`, `mapper_registry.mapped`
            owner = self.kind_of(f"{facts.module}.{head}" if facts.module else head, depth + 1)
            if owner.role == "flask" and attr == "Model":
                return _Kind("base", owner.registry, owner.metadata, "Flask-SQLAlchemy db.Model")
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

    def _call_kind(self, facts: FileFacts, qualname: str, name: str, depth: int) -> _Kind:
        call = facts.calls[name]
        callee = self.qualify(facts, call.callee)
        meta = self.qualify(facts, call.metadata) if call.metadata else None
        if callee in BASE_FACTORIES:
            return _Kind("base", qualname, meta or qualname, "declarative_base()")
        if callee in REGISTRY_FACTORIES:
            return _Kind("registry", qualname, meta or qualname, "registry()")
        if callee in FLASK_FACTORIES:
            return _Kind("flask", qualname, qualname, "Flask-SQLAlchemy")
        if call.callee.endswith(".generate_base"):
            owner = self.kind_of(self.qualify(facts, call.callee.rsplit(".", 1)[0]), depth + 1)
            if owner.role == "registry":
                return _Kind("base", owner.registry, owner.metadata, "registry.generate_base()")
        return PLAIN

    def _class_kind(self, facts: FileFacts, cls: ClassFact, qualname: str, depth: int) -> _Kind:
        for dec in cls.decorators:
            target = self.qualify(facts, dec)
            if target in AS_DECLARATIVE:
                return _Kind("base", qualname, qualname, "@as_declarative()")
            owner, _, attr = target.rpartition(".")
            if attr in {"mapped", "mapped_as_dataclass"}:
                reg = self.kind_of(owner, depth + 1)
                if reg.role == "registry":
                    return _Kind("model", reg.registry, reg.metadata, "@registry.mapped")
        unresolved = False
        for base in cls.bases:
            kind = self.kind_of(self.qualify(facts, base), depth + 1)
            if kind.role == "root":
                meta = qualname
                if cls.metadata_attr:  # `metadata = Base.metadata`: that base's MetaData, by the same key
                    meta = self._metadata_key(facts, cls.metadata_attr) or self.qualify(facts, cls.metadata_attr)
                return _Kind("base", qualname, meta, "DeclarativeBase subclass")
            if kind.role == "sqlmodel":
                is_table = ("table", "True") in cls.keywords
                return _Kind("model" if is_table else "sqlmodel", kind.registry, kind.metadata, "SQLModel")
            if kind.role in {"base", "model", "abstract"}:
                role = "abstract" if cls.abstract else "model"
                return _Kind(role, kind.registry, kind.metadata, kind.how)
            unresolved = unresolved or kind.role == "unknown"
        if unresolved and cls.tablename and (cls.columns or cls.relationships):
            return _Kind("model", None, None, "unresolved base")
        return PLAIN

    def collect(self) -> tuple[list[ModelDef], list[BaseDef]]:
        """Every model class, imperative table and base of the parsed candidate files."""
        models: list[ModelDef] = []
        bases: list[BaseDef] = []
        for module in sorted(self.facts):
            facts = self.facts[module]
            for cls in facts.classes:
                qualname = f"{module}.{cls.name}" if module else cls.name
                kind = self.kind_of(qualname)
                if kind.role == "base":
                    bases.append(BaseDef(qualname, facts.path, cls.line, kind.how,
                                         kind.registry or qualname, kind.metadata or qualname))
                elif kind.role == "model":
                    models.append(self._model(facts, cls, kind))
            for name in sorted(facts.calls):
                models += self._tables_and_bases(facts, name, bases)
        return models, bases

    def _tables_and_bases(self, facts: FileFacts, name: str, bases: list[BaseDef]) -> list[ModelDef]:
        call = facts.calls[name]
        qualname = f"{facts.module}.{name}" if facts.module else name
        if self.qualify(facts, call.callee) in TABLE_FACTORIES and call.table_name:
            return [ModelDef(
                ref=f"{facts.module}:{name}", module=facts.module, class_name=name, path=facts.path,
                line=0, table=call.table_name, kind="table", registry=None,
                metadata=self._metadata_key(facts, call.metadata), style="legacy",
                schema=call.schema or self._metadata_schema(self._metadata_key(facts, call.metadata)),
            )]
        kind = self.kind_of(qualname)
        if kind.role in {"base", "flask"}:
            name = f"{qualname}.Model" if kind.role == "flask" else qualname
            bases.append(BaseDef(name, facts.path, 0, kind.how, kind.registry or qualname,
                                 kind.metadata or qualname))
        return []

    def _metadata_key(self, facts: FileFacts, expr: str | None) -> str | None:
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
        return _follow_alias(self, qualname)

    def _model(self, facts: FileFacts, cls: ClassFact, kind: _Kind) -> ModelDef:
        table = cls.tablename
        metadata = kind.metadata
        if table is None and cls.table_call is not None:
            table = cls.table_call.table_name
            metadata = self._metadata_key(facts, cls.table_call.metadata) or metadata
        inherits_model = self._inherits_model(facts, cls)
        if table is None:
            table = self.computed_table(facts, cls, inherits_model)
        if table is None and not cls.dynamic_tablename and not inherits_model:
            table = _default_tablename(cls.name, kind.how)
        columns = cls.columns
        if kind.how == "SQLModel":
            own = {c.name for c in columns}
            columns += tuple(c for c in self.sqlmodel_fields(facts, cls) if c.name not in own)
        return ModelDef(
            ref=f"{facts.module}:{cls.name}", module=facts.module, class_name=cls.name,
            path=facts.path, line=cls.line, table=table, kind="class", registry=kind.registry,
            metadata=metadata, style=_style(cls), columns=columns,
            relationships=cls.relationships, members=cls.members,
            schema=self._class_schema(facts, cls, metadata), fk_tables=cls.fk_tables,
        )

    def _inherits_model(self, facts: FileFacts, cls: ClassFact) -> bool:
        return any(self.kind_of(self.qualify(facts, b)).role == "model" for b in cls.bases)


def _follow_alias(resolver: _Classifier, qualname: str) -> str:
    """A MetaData imported under several names is one object: key it by where it is defined."""
    for _ in range(20):
        split = resolver._split(qualname)
        if split is None:
            return qualname
        facts, name = split
        if name in facts.imports:
            qualname = facts.imports[name]
        elif name in facts.aliases:
            qualname = resolver.qualify(facts, facts.aliases[name])
        else:
            return qualname
    return qualname


def _default_tablename(class_name: str, how: str) -> str | None:
    """The table name a framework derives when `__tablename__` is absent."""
    if how == "SQLModel":
        return class_name.lower()
    if how.startswith("Flask-SQLAlchemy"):
        return re.sub(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z])(?=[a-z])", r"_\1\2", class_name).lower()
    return None


def _style(cls: ClassFact) -> Style:
    styles = {c.style for c in cls.columns} | {r.style for r in cls.relationships}
    if styles == {"legacy"}:
        return "legacy"
    if styles <= {"mapped"}:
        return "mapped"
    return "mixed"


def index_texts(
    root: Path, files: Sequence[SourceFile], texts: dict[str, str], modules: Sequence[SourceFile]
) -> ModelIndex:
    """Index `files` as `texts` hold them (a planned change, before it is written).

    Nothing is grepped or read for those files; other `modules` of the tree are read on demand
    when a base is re-exported through them.
    """
    own = dict(texts)
    candidates = [f for f in files if f.path in own and scan.mentions_any(own[f.path], MARKERS)]
    facts, skipped = _parse_all(candidates, own)
    resolver = _Classifier(root, {f.module: f for f in modules}, own, facts)
    models, bases = resolver.collect()
    return ModelIndex(
        models=tuple(sorted(models, key=lambda m: (m.path, m.line))),
        bases=tuple(sorted(bases, key=lambda b: b.qualname)),
        files_scanned=len(files),
        skipped=tuple(sorted(skipped + resolver.skipped, key=lambda s: s.path)),
        modules=frozenset(f.module for f in modules),
    )
