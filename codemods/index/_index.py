"""The static model index: declarative bases, registries, model classes and imperative tables.

Nothing of the target is imported: files are read with stdlib `ast` (fast), only those whose
text could define a model or base, plus modules pulled in on demand to follow re-exports.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from codemods import scan
from codemods.index._classify import Classifier, Kind, TreeModules, parse_facts, unreadable_reason
from codemods.index._facts import MARKERS, ClassFact, FileFacts
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

TABLE_FACTORIES = frozenset({"sqlalchemy.Table", "sqlalchemy.schema.Table", "sqlalchemy.sql.schema.Table"})
PARALLEL_THRESHOLD = 400  # below this many candidate files a process pool costs more than it saves


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
            skipped.append(Skipped(f.path, unreadable_reason(exc)))
    if hits is not None:  # git grep passes over a file it may not read without a word
        unread = unreadable_files(root, [f.path for f in files if f.path not in hits])
        skipped += [Skipped(path, f"{UNREADABLE} ({why})") for path, why in unread.items()]
    candidates = [f for f in files if f.path in texts and scan.mentions_any(texts[f.path], MARKERS)]
    facts, failed = _parse_all(candidates, texts)
    skipped += failed
    tree = TreeModules(root, {f.module: f for f in files}, texts, facts)
    models, bases = _collect(Classifier(tree))
    counts = _importers(models, root, texts if hits is None else None) if importers else {}
    return ModelIndex(
        models=tuple(sorted(models, key=lambda m: (m.path, m.line))),
        bases=tuple(sorted(bases, key=lambda b: b.qualname)),
        files_scanned=len(files),
        skipped=tuple(sorted(skipped + tree.skipped, key=lambda s: s.path)),
        importers=counts,
        modules=frozenset(f.module for f in files),
    )


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


def _parse_all(
    files: Sequence[SourceFile], texts: dict[str, str]
) -> tuple[dict[str, FileFacts], list[Skipped]]:
    items = [(f.module, f.path, f.is_package, texts[f.path]) for f in files]
    if len(items) >= PARALLEL_THRESHOLD:
        from concurrent.futures import ProcessPoolExecutor  # multiprocessing loads only when used

        with ProcessPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(parse_facts, items, chunksize=64))
    else:
        results = [parse_facts(i) for i in items]
    facts = {r.module: r for r in results if isinstance(r, FileFacts)}
    return facts, [r for r in results if isinstance(r, Skipped)]


def _collect(c: Classifier) -> tuple[list[ModelDef], list[BaseDef]]:
    """Every model class, imperative table and base of the parsed candidate files."""
    models: list[ModelDef] = []
    bases: list[BaseDef] = []
    for module in sorted(c.tree.facts):  # a module parsed on demand meanwhile is not collected
        facts = c.tree.facts[module]
        for cls in facts.classes:
            qualname = f"{module}.{cls.name}" if module else cls.name
            kind = c.kind_of(qualname)
            if kind.role == "base":
                bases.append(BaseDef(qualname, facts.path, cls.line, kind.how,
                                     kind.registry or qualname, kind.metadata or qualname))
            elif kind.role == "model":
                models.append(_model(c, facts, cls, kind))
        for name in sorted(facts.calls):
            models += _tables_and_bases(c, facts, name, bases)
    return models, bases


def _tables_and_bases(c: Classifier, facts: FileFacts, name: str, bases: list[BaseDef]) -> list[ModelDef]:
    call = facts.calls[name]
    qualname = f"{facts.module}.{name}" if facts.module else name
    if c.qualify(facts, call.callee) in TABLE_FACTORIES and call.table_name:
        return [ModelDef(
            ref=f"{facts.module}:{name}", module=facts.module, class_name=name, path=facts.path,
            line=0, table=call.table_name, kind="table", registry=None,
            metadata=c.metadata_key(facts, call.metadata), style="legacy",
            schema=call.schema or c.metadata_schema(c.metadata_key(facts, call.metadata)),
        )]
    kind = c.kind_of(qualname)
    if kind.role in {"base", "flask"}:
        name = f"{qualname}.Model" if kind.role == "flask" else qualname
        bases.append(BaseDef(name, facts.path, 0, kind.how, kind.registry or qualname,
                             kind.metadata or qualname))
    return []


def _model(c: Classifier, facts: FileFacts, cls: ClassFact, kind: Kind) -> ModelDef:
    table = cls.tablename
    metadata = kind.metadata
    if table is None and cls.table_call is not None:
        table = cls.table_call.table_name
        metadata = c.metadata_key(facts, cls.table_call.metadata) or metadata
    inherits_model = _inherits_model(c, facts, cls)
    if table is None:
        table = c.computed_table(facts, cls, inherits_model)
    if table is None and not cls.dynamic_tablename and not inherits_model:
        table = _default_tablename(cls.name, kind.how)
    columns = cls.columns
    if kind.how == "SQLModel":
        own = {c.name for c in columns}
        columns += tuple(c for c in c.sqlmodel_fields(facts, cls) if c.name not in own)
    return ModelDef(
        ref=f"{facts.module}:{cls.name}", module=facts.module, class_name=cls.name,
        path=facts.path, line=cls.line, table=table, kind="class", registry=kind.registry,
        metadata=metadata, style=_style(cls), columns=columns,
        relationships=cls.relationships, members=cls.members,
        schema=c.class_schema(facts, cls, metadata), fk_tables=cls.fk_tables,
    )


def _inherits_model(c: Classifier, facts: FileFacts, cls: ClassFact) -> bool:
    return any(c.kind_of(c.qualify(facts, b)).role == "model" for b in cls.bases)


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
    tree = TreeModules(root, {f.module: f for f in modules}, own, facts)
    models, bases = _collect(Classifier(tree))
    return ModelIndex(
        models=tuple(sorted(models, key=lambda m: (m.path, m.line))),
        bases=tuple(sorted(bases, key=lambda b: b.qualname)),
        files_scanned=len(files),
        skipped=tuple(sorted(skipped + tree.skipped, key=lambda s: s.path)),
        modules=frozenset(f.module for f in modules),
    )
