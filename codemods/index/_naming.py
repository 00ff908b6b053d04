"""What the index computes rather than reads: a table's schema, a computed `__tablename__`, and
the fields a SQLModel table class declares or inherits from its non-table bases."""

from __future__ import annotations

import ast
import re

from codemods.index._facts import ClassFact, FileFacts
from codemods.types import ColumnDef


class Naming:
    """Schema and table-name resolution for the index's resolver (which provides the lookups)."""

    def _split(self, qualname: str) -> tuple[FileFacts, str] | None:
        raise NotImplementedError

    def qualify(self, facts: FileFacts, dotted_name: str) -> str:
        """A dotted name used in a module, fully qualified (provided by the resolver)."""
        raise NotImplementedError

    def role_of(self, qualname: str) -> str:
        """What the name denotes: "base", "model", ... (provided by the resolver)."""
        raise NotImplementedError

    def computed_table(self, facts: FileFacts, cls: ClassFact, inherits_model: bool) -> str | None:
        """`PREFIX + "users"`, the class's own `__tablename__` function, or one it inherits."""
        if cls.tablename_parts is not None:
            return self._joined(facts, cls.tablename_parts)
        if cls.tablename_rule is not None:
            return apply_rule(cls.tablename_rule, cls.name)
        if cls.dynamic_tablename or inherits_model:
            return None
        rule = self._inherited_rule(facts, cls, 0)
        return apply_rule(rule, cls.name) if rule else None

    def sqlmodel_fields(self, facts: FileFacts, cls: ClassFact) -> tuple[ColumnDef, ...]:
        """Annotated fields of a SQLModel table class and of the non-table classes it inherits from."""
        found: dict[str, ColumnDef] = {}
        chain = [(facts, cls)]
        while chain and len(found) < 1000:
            owner_facts, owner = chain.pop(0)
            for member in owner.members:
                if member.name in owner.annotated and member.name not in found:
                    found[member.name] = ColumnDef(
                        name=member.name, column_name=member.name, type=None, nullable=True,
                        primary_key=False, unique=False, index=False, foreign_keys=(), default=_value(member.source),
                        server_default=None, onupdate=None, style="mapped", source=member.source,
                        line=member.line)
            for base in owner.bases:
                qualname = self.qualify(owner_facts, base)
                parent = self._class_of(qualname) if self.role_of(qualname) == "sqlmodel" else None
                if parent is not None:
                    chain.append(parent)
        return tuple(found.values())

    def _joined(self, facts: FileFacts, parts: tuple[tuple[str, str], ...]) -> str | None:
        out = ""
        for kind, value in parts:
            text = value if kind == "text" else self._constant(facts, value)
            if text is None:
                return None
            out += text
        return out

    def _constant(self, facts: FileFacts, name: str, depth: int = 0) -> str | None:
        if name in facts.constants:
            return facts.constants[name]
        split = self._split(self.qualify(facts, name)) if depth < 20 else None
        if split is None or split[0] is facts:
            return None
        return self._constant(split[0], split[1], depth + 1)

    def _inherited_rule(self, facts: FileFacts, cls: ClassFact, depth: int) -> tuple[str, ...] | None:
        for base in cls.bases if depth < 20 else ():
            found = self._class_of(self.qualify(facts, base))
            if found is None:
                continue
            if found[1].tablename_rule is not None:
                return found[1].tablename_rule
            if found[1].tablename is not None or found[1].dynamic_tablename:
                continue
            rule = self._inherited_rule(found[0], found[1], depth + 1)
            if rule is not None:
                return rule
        return None

    def class_schema(self, facts: FileFacts, cls: ClassFact, metadata: str | None) -> str | None:
        """The schema the class's table lands in: its own, a base's or mixin's, else the MetaData's."""
        if cls.table_call is not None:
            return cls.table_call.schema or self.metadata_schema(metadata)
        declared = self._declared_schema(facts, cls, 0)
        return declared or None if declared is not None else self.metadata_schema(metadata)

    def _declared_schema(self, facts: FileFacts, cls: ClassFact, depth: int) -> str | None:
        """The schema of the `__table_args__` the class sees ("" without one); None: none declared.

        A mapped superclass's `__table_args__` is not inherited (SQLAlchemy skips it), a mixin's,
        an abstract class's or the base's is.
        """
        if any(member.name == "__table_args__" for member in cls.members):
            return cls.schema or ""
        for base in cls.bases if depth < 20 else ():
            qualname = self.qualify(facts, base)
            found = self._class_of(qualname)
            if found is None or self.role_of(qualname) == "model":
                continue
            schema = self._declared_schema(found[0], found[1], depth + 1)
            if schema is not None:
                return schema
        return None

    def _class_of(self, qualname: str) -> tuple[FileFacts, ClassFact] | None:
        split = self._split(qualname)
        if split is None:
            return None
        facts, name = split
        if name in facts.imports:
            return self._class_of(facts.imports[name]) if facts.imports[name] != qualname else None
        cls = next((c for c in facts.classes if c.name == name), None)
        return (facts, cls) if cls is not None else None

    def metadata_schema(self, key: str | None, depth: int = 0) -> str | None:
        """`MetaData(schema="x")` behind a metadata key (a MetaData, a base, a Flask `db`)."""
        split = self._split(key) if key is not None and depth < 20 else None
        if split is None:
            return None
        facts, name = split
        if name in facts.imports:
            return self.metadata_schema(facts.imports[name], depth + 1)
        if name in facts.calls:
            call = facts.calls[name]
            if self.qualify(facts, call.callee).rsplit(".", 1)[-1] == "MetaData":
                return call.schema
            if call.metadata_schema or call.metadata is None:
                return call.metadata_schema
            return self.metadata_schema(self.qualify(facts, call.metadata), depth + 1)
        cls = next((c for c in facts.classes if c.name == name), None)
        if cls is None:
            return None
        if cls.metadata_attr:
            return self.metadata_schema(self.qualify(facts, cls.metadata_attr), depth + 1)
        return cls.metadata_schema



def _value(source: str) -> str | None:
    """The assigned value of `name: T = value` (a SQLModel `Field(...)` or default), as text."""
    try:
        stmt = ast.parse(source).body[0]
    except (SyntaxError, IndexError):
        return None
    return ast.unparse(stmt.value) if isinstance(stmt, ast.AnnAssign) and stmt.value is not None else None


def apply_rule(rule: tuple[str, ...], class_name: str) -> str | None:
    """The table name a `__tablename__` rule (see _facts.tablename_rule) gives a class."""
    name = ""
    for step in rule:
        if step == "name":
            name = class_name
        elif step == "lower":
            name = name.lower()
        elif step.startswith("sub:"):  # the project's own re.sub, run on the class name
            pattern, _, repl = step[len("sub:"):].partition("\0")
            try:
                name = re.sub(pattern, repl, name)
            except re.error:
                return None
        elif step.startswith("suffix:"):
            name += step[len("suffix:"):]
        elif step.startswith("prefix:"):
            name = step[len("prefix:"):] + name
        else:
            return None
    return name or None
