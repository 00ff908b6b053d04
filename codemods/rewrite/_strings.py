"""String literals that name a target: dotted paths, and SQLAlchemy's registry strings."""

from __future__ import annotations

import re

from codemods.rewrite._targets import Relocation

DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
# SQLAlchemy callables whose string arguments are evaluated against the class registry.
SQLA_CALLS = frozenset(
    {"relationship", "backref", "foreign", "remote", "column_property", "composite", "synonym",
     "association_proxy", "deferred", "query_expression", "with_expression"}
)


class StringRewriter:
    """New content for string literals that name a target: dotted paths, and SQLAlchemy's
    registry strings naming a dotted path (`"and_(a.b.User.id == ...)"`)."""

    def __init__(self, relocation: Relocation) -> None:
        self.targets = relocation.targets
        keys = sorted(relocation.targets, key=len, reverse=True)
        self.embedded = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, keys)) + r")(?!\w)")

    def rewrite(self, raw: str, callee: str, index: int) -> str | None:
        """The string's new content; None when it names no target.

        `callee`: the last name of the call the string is an argument of ("" when none);
        `index`: its position among the call's arguments (-1 for a keyword argument).
        """
        new = self.full_path(raw)
        if new is None and callee in SQLA_CALLS:
            # a bare class name (`relationship("Account")`) resolves in its class's registry, which
            # only the index knows: rewrite/_registry_names renames those
            new = self.embedded.sub(lambda m: self.full_path(m.group(1)) or m.group(1), raw)
        return new

    def full_path(self, raw: str) -> str | None:
        """`old.mod.Class[.attr...]` -> `new.mod.Class[.attr...]`; None when it names no target."""
        if not DOTTED.fullmatch(raw):
            return None
        parts = raw.split(".")
        for i in range(2, len(parts) + 1):
            target = self.targets.get(".".join(parts[:i]))
            if target is not None:
                return ".".join([target.module, target.name, *parts[i:]])
        return None
