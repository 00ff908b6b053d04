"""Names the merged class brings from a duplicate's module: imports to add, definitions to move."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node

from codemods import scan
from codemods.cst._classbody import leading_lines
from codemods.cst._imports import ImportPlanner, NameOrigin, bindings, is_type_checking


def names_used(nodes: Iterable[cst.CSTNode], strings: bool = True) -> list[str]:
    """Names read by the nodes, in order (attribute names and keyword names excluded); with
    `strings`, identifiers written as string literals too (`Mapped["UserStatus"]`, `relationship("Invoice")`)."""
    found: list[str] = []

    class Collector(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            if node.value not in found:
                found.append(node.value)

        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            # string annotations such as Mapped["UserStatus"] name things too
            value = node.evaluated_value
            if strings and isinstance(value, str) and value.isidentifier() and value not in found:
                found.append(value)

    collector = Collector()
    for node in nodes:
        node.visit(collector)
    return found


def names_assigned(cls: cst.ClassDef) -> list[str]:
    """Names a class body assigns at its top level."""
    found: list[str] = []
    for stmt in cls.body.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else []:
            targets = small.targets if isinstance(small, cst.Assign) else (
                [small] if isinstance(small, cst.AnnAssign) else [])
            found += [t.target.value for t in targets if isinstance(t.target, cst.Name)]
    return found


def resolve_relative(module: str, is_package: bool, relative: str) -> str:
    """`..x` seen from `module` -> absolute dotted name (unchanged when it climbs too high)."""
    dots = len(relative) - len(relative.lstrip("."))
    return scan.absolute_module(module, is_package, dots, relative[dots:] or None) or relative


def top_level_defs(module: cst.Module) -> dict[str, cst.BaseStatement]:
    """Top-level classes, functions and simple assignments by name."""
    defs: dict[str, cst.BaseStatement] = {}
    for stmt in module.body:
        if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
            defs[stmt.name.value] = stmt
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = small.targets if isinstance(small, cst.Assign) else (
                    [small] if isinstance(small, cst.AnnAssign) else [])
                for t in targets:
                    if isinstance(t.target, cst.Name):
                        defs[t.target.value] = stmt
    return defs


@dataclass
class Carrier:
    """Resolves names of carried members in the duplicate's module into canonical imports/moves."""

    dup_tree: cst.Module
    dup_module: str
    dup_is_package: bool
    dup_class: str
    canon_module: str
    planner: ImportPlanner
    moved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    type_only: list[tuple[str, str]] = field(default_factory=list)  # imports for TYPE_CHECKING

    def __post_init__(self) -> None:
        self._dup_binds = bindings(self.dup_tree)
        self._dup_defs = top_level_defs(self.dup_tree)
        self._canon_binds = bindings(self.planner.module)
        self._done: set[str] = set()

    def _origin(self, bind: NameOrigin, in_dup: bool) -> tuple[str, str | None]:
        module = bind.module
        if in_dup and module.startswith("."):
            module = resolve_relative(self.dup_module, self.dup_is_package, module)
        return module, bind.obj

    def carry(self, nodes: Sequence[cst.CSTNode]) -> None:
        """Make every name the nodes use available in the canonical module.

        A model class of the duplicate's registry named only in strings (`relationship("Invoice")`,
        `Mapped[list["Invoice"]]`) stays where it is: SQLAlchemy resolves those strings in the
        registry, which the merged class shares (or which the dependents are rebased onto).
        """
        in_code = set(names_used(nodes, strings=False))
        for name in names_used(nodes):
            if name in in_code or not self._is_model(name):
                self._carry_name(name)

    def quote_models(self, stmts: Sequence[cst.BaseStatement]) -> tuple[cst.BaseStatement, ...]:
        """Relationship annotations with the duplicate module's model classes quoted (`Mapped[list["Loan"]]`):
        SQLAlchemy then finds them in the registry, so they need not move, whatever the canonical
        module's `from __future__` imports."""
        quote = _QuoteNames({n for n in self._dup_defs if n != self.dup_class and n not in self._canon_binds
                             and self._is_model(n)})
        out: list[cst.BaseStatement] = []
        for stmt in stmts:
            new = stmt.visit(quote) if quote.names else stmt
            out.append(new if isinstance(new, cst.BaseStatement) else stmt)
        return tuple(out)

    def _is_model(self, name: str) -> bool:
        """A class of the duplicate's module mapped like the duplicate (its base, or a table of its
        own), or an imperative `Table(...)` (a `secondary` string resolves in the MetaData)."""
        cls = self._dup_defs.get(name)
        dup = self._dup_defs.get(self.dup_class)
        if isinstance(cls, cst.SimpleStatementLine):
            return any(isinstance(small, cst.Assign) and isinstance(small.value, cst.Call)
                       and (get_full_name_for_node(small.value.func) or "").rpartition(".")[2] == "Table"
                       for small in cls.body)
        if not isinstance(cls, cst.ClassDef) or not isinstance(dup, cst.ClassDef):
            return False
        bases = {get_full_name_for_node(a.value) for a in dup.bases if a.keyword is None} - {None}
        if any(get_full_name_for_node(a.value) in bases for a in cls.bases if a.keyword is None):
            return True
        return any(name in {"__tablename__", "__table__"} for name in names_assigned(cls))

    def _carry_name(self, name: str) -> None:
        if name in self._done or name == self.dup_class:
            return
        self._done.add(name)
        dup = [b for b in self._dup_binds.get(name, []) if b.runtime]
        if not dup:
            # builtin, local variable, or bound only for type checkers (string annotations)
            for b in self._dup_binds.get(name, []):
                if b.how == "from" and b.obj is not None and name not in self._canon_binds:
                    module = self._origin(b, True)[0]
                    if (module, b.obj) not in self.type_only and module != self.canon_module:
                        self.type_only.append((module, b.obj))
            return
        if name not in self._canon_binds and name in self.planner.known:
            return  # an import the conversion (or the rebinder) queued: it reads the canonical meaning
        bind = dup[0]
        canon = [b for b in self._canon_binds.get(name, []) if b.runtime]
        moving = any(self._imports_from_dup(b) for b in self._canon_binds.get(name, []))
        if canon and not moving:
            theirs = self._origin(bind, True)
            same = theirs == self._origin(canon[0], False) or (theirs[0] == self.canon_module and theirs[1] == name)
            if bind.how != "def" and not same:
                self.notes.append(f"name {name} means different things in {self.dup_module} and "
                                  f"{self.canon_module}; the canonical meaning is used")
            return
        if bind.how == "def":
            self.move(name)
            return
        module, obj = self._origin(bind, True)
        if bind.how == "from":
            self.planner.require(module, obj, name if name != obj else None)
        else:
            top = module.split(".")[0]
            self.planner.require(module, None, name if name != top else None)

    def _imports_from_dup(self, bind: NameOrigin) -> bool:
        return bind.how == "from" and self.is_dup_module(bind.module)

    def is_dup_module(self, module: str) -> bool:
        """Whether a module name written in the canonical module is the duplicate's module."""
        return self._abs_canon(module) == self.dup_module

    def _abs_canon(self, module: str) -> str:
        if not module.startswith("."):
            return module
        return resolve_relative(self.canon_module, False, module)

    def move(self, name: str) -> None:
        """Move a top-level definition of the duplicate's module (and what it needs)."""
        stmt = self._dup_defs.get(name)
        if stmt is None:
            self.notes.append(f"{name} is imported from {self.dup_module} but not defined there; left as is")
            return
        if name in self.moved:
            return
        self.moved.append(name)
        self._done.add(name)
        uses = names_used([stmt])
        if self.dup_class in uses:
            self.notes.append(f"{name} refers to {self.dup_class}; check the moved definition")
        self.carry([stmt])

    def seed_from_canonical_imports(self) -> None:
        """Names the canonical module imports from the duplicate's module must move (no cycle)."""
        for local, binds in self._canon_binds.items():
            for b in binds:
                if b.how == "import" and b.module == self.dup_module:
                    self.notes.append(f"the canonical module imports {self.dup_module} as a module ({local}); "
                                      "attribute uses through it are not moved")
                if self._imports_from_dup(b) and b.obj == self.dup_class:
                    self.notes.append(f"the canonical module imports {self.dup_class} from {self.dup_module}: "
                                      "that import must go, or the shim will form a cycle")
                if self._imports_from_dup(b) and b.obj is not None and b.obj != self.dup_class:
                    self.move(b.obj)
                    if local != b.obj:
                        self.notes.append(f"{b.obj} is imported as {local}; the alias is kept by the import")

    def moved_in_order(self) -> list[str]:
        """Moved names in the order the duplicate's module defines them."""
        position = {id(s): i for i, s in enumerate(self.dup_tree.body)}
        return sorted(self.moved, key=lambda n: (position.get(id(self._dup_defs.get(n)), 0), n))

    def moved_statements(self) -> list[cst.BaseStatement]:
        """The statements to insert, in the duplicate module's order, without duplicates."""
        wanted = {id(self._dup_defs[n]) for n in self.moved if n in self._dup_defs}
        return [s for s in self.dup_tree.body if id(s) in wanted]


class _QuoteNames(cst.CSTTransformer):
    """In a relationship's annotation, the given bare names become strings (nothing else changes)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        return False

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        value = original_node.value
        if not isinstance(value, cst.Call) or (get_full_name_for_node(value.func) or "").rpartition(".")[2] != (
                "relationship"):
            return updated_node
        annotation = original_node.annotation.visit(_Quote(self.names))
        return updated_node.with_changes(annotation=annotation) if isinstance(annotation, cst.Annotation) else (
            updated_node)


class _Quote(cst.CSTTransformer):
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return False  # `sa.orm.Mapped`, `models.Loan`: a dotted name is bound in the module, not the registry

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if original_node.value in self.names:
            return cst.SimpleString(f'"{original_node.value}"')
        return updated_node

    def leave_BinaryOperation(self, original_node: cst.BinaryOperation, updated_node: cst.BinaryOperation
                              ) -> cst.BaseExpression:
        # `Visit | None` as a whole: `"Visit" | None` would fail when the annotation is evaluated
        text = cst.Module([]).code_for_node(original_node)
        if updated_node.deep_equals(original_node) or '"' in text or "\n" in text:
            return updated_node
        return cst.SimpleString(f'"{text}"')


def _filter_import(stmt: cst.BaseStatement, carrier: Carrier) -> cst.BaseStatement | None:
    """The statement without imports of moved names from the duplicate's module; None if empty."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return stmt
    body: list[cst.BaseSmallStatement] = []
    for small in stmt.body:
        if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
            mod = "." * len(small.relative) + (get_full_name_for_node(small.module) or "" if small.module else "")
            if carrier.is_dup_module(mod):
                kept = [a for a in small.names if get_full_name_for_node(a.name) not in carrier.moved]
                if not kept:
                    continue
                if len(kept) != len(small.names):
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    small = small.with_changes(names=kept)
        body.append(small)
    if not body:
        return None
    if len(body) != len(stmt.body):
        body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return stmt.with_changes(body=body)


def _filter_body(body: Sequence[cst.BaseStatement], carrier: Carrier) -> list[cst.BaseStatement]:
    out: list[cst.BaseStatement] = []
    pending: Sequence[cst.EmptyLine] = ()
    for stmt in body:
        if isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock):
            inner = _filter_body([s for s in stmt.body.body if isinstance(s, cst.BaseStatement)], carrier)
            block = stmt.body.with_changes(body=inner)
            new: cst.BaseStatement | None = stmt.with_changes(body=block) if inner else None
        else:
            new = _filter_import(stmt, carrier)
        if new is None:
            pending = pending or leading_lines(stmt)
            continue
        if pending and not leading_lines(new):
            new = new.with_changes(leading_lines=pending)
        pending = ()
        out.append(new)
    return out


def drop_moved_imports(tree: cst.Module, carrier: Carrier) -> cst.Module:
    """The canonical module without its imports of the moved names."""
    if not carrier.moved:
        return tree
    return tree.with_changes(body=_filter_body(tree.body, carrier))


def insert_moved(tree: cst.Module, stmts: list[cst.BaseStatement]) -> cst.Module:
    """Insert moved definitions after the module's leading imports (before any use), spaced as the
    sorters space them: one blank line between the imports and a simple statement, two before a
    class or function and around the moved block."""
    if not stmts:
        return tree
    body = list(tree.body)
    index = 0
    for i, stmt in enumerate(body):
        if _is_header(stmt, i):
            index = i + 1
        else:
            break
    placed: list[cst.BaseStatement] = []
    for i, moved in enumerate(stmts):
        simple = isinstance(moved, cst.SimpleStatementLine)
        follows_simple = i > 0 and isinstance(stmts[i - 1], cst.SimpleStatementLine)
        blank = [] if simple and follows_simple else [cst.EmptyLine(), cst.EmptyLine()]
        if i == 0 and simple and index > 0:
            blank = [cst.EmptyLine()]  # isort/ruff `lines-after-imports` (auto): 1 before code, 2 before a def
        placed.append(moved.with_changes(leading_lines=[*blank, *_comments(moved)]))
    if index < len(body):
        nxt = body[index]
        body[index] = nxt.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *_comments(nxt)])
    return tree.with_changes(body=[*body[:index], *placed, *body[index:]])


def _comments(stmt: cst.BaseStatement) -> list[cst.EmptyLine]:
    lines = leading_lines(stmt)
    while lines and lines[0].comment is None:
        lines.pop(0)
    return lines


def _is_header(stmt: cst.BaseStatement, index: int) -> bool:
    if isinstance(stmt, cst.SimpleStatementLine):
        return all(
            isinstance(s, (cst.Import, cst.ImportFrom))
            or (index == 0 and isinstance(s, cst.Expr) and isinstance(s.value, cst.SimpleString))
            for s in stmt.body
        )
    if isinstance(stmt, cst.If):
        return is_type_checking(stmt.test)
    if isinstance(stmt, cst.Try):
        return all(
            isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, (cst.Import, cst.ImportFrom)) for x in s.body)
            for s in stmt.body.body
        )
    return False
