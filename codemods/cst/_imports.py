"""Import planning for merge/convert: how a module can spell a name, and queued import edits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods.cst._importedit import add_imports
from codemods.types import ImportSpec


@dataclass(frozen=True)
class NameOrigin:
    """How a top-level name is bound: `from module import obj`, `import module`, or a definition."""

    how: str  # "from", "import", "def"
    module: str
    obj: str | None
    runtime: bool


def is_type_checking(test: cst.BaseExpression) -> bool:
    """An `if` test that is the TYPE_CHECKING guard: `TYPE_CHECKING`, `typing.TYPE_CHECKING`, `t.TYPE_CHECKING`
    (the one rule every stage uses)."""
    name = get_full_name_for_node(test)
    return name is not None and name.rsplit(".", 1)[-1] == "TYPE_CHECKING"


def _relative(node: cst.ImportFrom) -> str:
    dots = "." * len(node.relative)
    mod = get_full_name_for_node(node.module) if node.module is not None else ""
    return dots + (mod or "")


def _bind_import(stmt: cst.BaseSmallStatement, runtime: bool, out: dict[str, list[NameOrigin]]) -> None:
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = get_full_name_for_node(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                out.setdefault(alias.asname.name.value, []).append(NameOrigin("import", full, None, runtime))
            else:
                top = full.split(".")[0]
                out.setdefault(top, []).append(NameOrigin("import", top, None, runtime))
    elif isinstance(stmt, cst.ImportFrom) and not isinstance(stmt.names, cst.ImportStar):
        module = _relative(stmt)
        for alias in stmt.names:
            obj = get_full_name_for_node(alias.name) or ""
            local = obj
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            out.setdefault(local, []).append(NameOrigin("from", module, obj, runtime))


def bindings(module: cst.Module) -> dict[str, list[NameOrigin]]:
    """Top-level names of a module and how each is bound (imports under TYPE_CHECKING marked)."""
    out: dict[str, list[NameOrigin]] = {}

    def visit(body: Sequence[cst.CSTNode], runtime: bool) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    _bind_import(small, runtime, out)
                    if isinstance(small, (cst.Assign, cst.AnnAssign)):
                        targets = small.targets if isinstance(small, cst.Assign) else [small]
                        for t in targets:
                            if isinstance(t.target, cst.Name):
                                out.setdefault(t.target.value, []).append(NameOrigin("def", "", None, runtime))
            elif isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
                out.setdefault(stmt.name.value, []).append(NameOrigin("def", "", None, runtime))
            elif isinstance(stmt, cst.If):
                if is_type_checking(stmt.test):
                    visit(stmt.body.body, False)
                else:
                    visit(stmt.body.body, runtime)
            elif isinstance(stmt, cst.Try):
                visit(stmt.body.body, runtime)

    visit(module.body, True)
    return out


@dataclass
class ImportPlanner:
    """Answers "how do I write module.obj here?" and queues the imports that makes necessary."""

    module: cst.Module
    known: dict[str, list[NameOrigin]] = field(default_factory=dict)
    needed: list[ImportSpec] = field(default_factory=list)
    optional_style: str = "Optional"
    list_name: str = "list"
    # the project's Python floor allows `X | None` at runtime (3.10+: requires-python/target)
    pep604: bool = False
    line_length: int = 99  # where the project's formatter wraps a line

    def __post_init__(self) -> None:
        self.known = bindings(self.module)
        text = self.module.code
        if self.pep604 or ("| None" in text and "Optional[" not in text):
            self.optional_style = "pipe"
        self.future_annotations = any(
            b.how == "from" and b.module == "__future__" for b in self.known.get("annotations", [])
        )
        if any(b.how == "from" and b.module == "typing" for b in self.known.get("List", [])):
            self.list_name = "List"

    def ref(self, module: str, obj: str) -> str:
        """Expression text for `module.obj` in this module, queueing an import when needed."""
        if not module:
            return self.list_name if obj == "list" else obj
        for local, binds in self.known.items():
            for b in binds:
                if b.runtime and b.how == "from" and b.module == module and b.obj == obj:
                    return local
        for local, lbinds in self.known.items():
            for b in lbinds:
                if b.runtime and b.how == "import" and b.module == module:
                    return f"{local}.{obj}"
        binds = self.known.get(obj, [])
        if all(b.how == "from" and b.module == module and b.obj == obj for b in binds):
            # unbound, or imported only under TYPE_CHECKING: a runtime import is needed, because
            # SQLAlchemy evaluates Mapped[...] annotations (even with `from __future__ import annotations`)
            self._need(module, obj, None)
            self.known[obj] = [NameOrigin("from", module, obj, True)]
            return obj
        top = module.split(".")[0]
        if top not in self.known:
            self._need(module, None, None)
            self.known[top] = [NameOrigin("import", top, None, True)]
            return f"{module}.{obj}"
        alias = "_" + module.replace(".", "_")
        self._need(module, None, alias)
        self.known[alias] = [NameOrigin("import", module, None, True)]
        return f"{alias}.{obj}"

    def bare(self, name: str) -> bool:
        """A class name can go unquoted in an annotation: annotations are not evaluated at
        definition (`from __future__ import annotations`), or the name is imported above."""
        if self.future_annotations:
            return True
        return any(b.runtime and b.how in ("from", "import") for b in self.known.get(name, []))

    def optional(self, inner: str) -> str:
        """`Optional[X]` or `X | None`, matching the module's style."""
        if self.optional_style == "pipe":
            if inner[:1] in ('"', "'") and inner[-1:] == inner[:1]:
                return f"{inner[:-1]} | None{inner[-1]}"  # `"Team | None"`: one string, no Optional
            return f"{inner} | None"
        return f"{self.ref('typing', 'Optional')}[{inner}]"

    def require(self, module: str, obj: str | None, asname: str | None = None) -> None:
        """Queue an import spelled exactly as given (for names carried from another module)."""
        self._need(module, obj, asname)

    def _need(self, module: str, obj: str | None, asname: str | None) -> None:
        key = ImportSpec(module, obj, asname)
        if key not in self.needed:
            self.needed.append(key)

    def apply(self, tree: cst.Module) -> cst.Module:
        """Add the queued imports (merged into the top import block; sorted name lists stay sorted)."""
        if not self.needed:
            return tree
        return add_imports(tree, self.needed)
