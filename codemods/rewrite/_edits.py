"""Edits planned on one libcst tree, applied in a single pass; import statements built to order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst

StatementT = TypeVar("StatementT", cst.SimpleStatementLine, cst.BaseCompoundStatement)


@dataclass
class Edits:
    """Node-identity keyed edits: replace a node, remove a small statement, insert lines after one."""

    replace: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    remove: set[cst.CSTNode] = field(default_factory=set)
    after: dict[cst.CSTNode, list[cst.SimpleStatementLine]] = field(default_factory=dict)
    # string node -> [(start, end, new text)] splices of its raw content
    splices: dict[cst.SimpleString, list[tuple[int, int, str]]] = field(default_factory=dict)

    def insert_after(self, line: cst.CSTNode, code: str) -> None:
        """Queue a new statement after `line`, once."""
        queued = self.after.setdefault(line, [])
        if all(cst.Module([]).code_for_node(s) != code + "\n" for s in queued):
            queued.append(cst.parse_statement(code))  # type: ignore[arg-type]

    def splice(self, node: cst.SimpleString, start: int, end: int, text: str) -> None:
        """Replace raw characters [start, end) of a string literal's content."""
        spans = self.splices.setdefault(node, [])
        if (start, end, text) not in spans:
            spans.append((start, end, text))

    def __bool__(self) -> bool:
        return bool(self.replace or self.remove or self.after or self.splices)


def merged(*phases: Edits) -> Edits:
    """The edits of phases that ran in this order, as if they had been queued in one Edits."""
    out = Edits()
    for part in phases:
        out.replace.update(part.replace)
        out.remove.update(part.remove)
        for line, statements in part.after.items():
            queued = out.after.setdefault(line, [])
            for statement in statements:
                code = cst.Module([]).code_for_node(statement)
                if all(cst.Module([]).code_for_node(s) != code for s in queued):
                    queued.append(statement)
        for node, spans in part.splices.items():
            for start, end, text in spans:
                out.splice(node, start, end, text)
    return out


def string_content(node: cst.SimpleString) -> str | None:
    """The raw text between the quotes, when it equals the string's value (no escapes, not bytes)."""
    if "b" in node.prefix.lower():
        return None
    raw = node.value[len(node.prefix) + len(node.quote) : -len(node.quote)]
    if "\\" in raw and "r" not in node.prefix.lower():
        return None
    return raw


def with_content(node: cst.SimpleString, raw: str) -> cst.SimpleString:
    """The same literal (prefix and quotes kept) with new content."""
    return node.with_changes(value=f"{node.prefix}{node.quote}{raw}{node.quote}")


def _spliced(node: cst.SimpleString, spans: list[tuple[int, int, str]]) -> cst.SimpleString:
    raw = string_content(node)
    if raw is None:
        return node
    for start, end, text in sorted(spans, reverse=True):
        raw = raw[:start] + text + raw[end:]
    return with_content(node, raw)


def name_node(name: str) -> cst.Attribute | cst.Name:
    """A Name or Attribute node for a dotted path (built, not parsed: parsing costs ~1 ms a call)."""
    head, *rest = name.split(".")
    node: cst.Attribute | cst.Name = cst.Name(head)
    for part in rest:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def relative_form(module: str, is_package: bool, dest: str) -> tuple[int, str] | None:
    """(level, rest) for a relative import of `dest` from `module`, None when they share no package."""
    package = module if is_package else module.rpartition(".")[0]
    pparts = package.split(".") if package else []
    dparts = dest.split(".")
    common = 0
    while common < min(len(pparts), len(dparts)) and pparts[common] == dparts[common]:
        common += 1
    if common == 0:
        return None
    return len(pparts) - common + 1, ".".join(dparts[common:])


def from_import_code(
    module: str, names: Sequence[tuple[str, str | None]], relative: tuple[int, str] | None
) -> str:
    """Source of `from module import a, b as c` (relative when `relative` is given)."""
    source = "." * relative[0] + relative[1] if relative else module
    parts = [name if asname is None else f"{name} as {asname}" for name, asname in names]
    return f"from {source} import {', '.join(parts)}"


def import_alias(name: str, asname: str | None, like: cst.ImportAlias | None) -> cst.ImportAlias:
    """An alias node; formatting (comma, spacing) taken from `like` when given."""
    new_as = None
    if asname is not None:
        new_as = like.asname if like is not None and like.asname is not None else None
        new_as = (
            new_as.with_changes(name=cst.Name(asname)) if new_as else cst.AsName(name=cst.Name(asname))
        )
    if like is None:
        return cst.ImportAlias(name=name_node(name), asname=new_as)
    return like.with_changes(name=name_node(name), asname=new_as)


def keep_aliases(
    original: Sequence[cst.ImportAlias], kept: Sequence[cst.ImportAlias], parenthesized: bool
) -> list[cst.ImportAlias]:
    """The kept aliases, formatted as if the removed ones had never been there.

    Without parentheses the new last alias loses its comma. Inside parentheses it keeps its own
    comma and trailing comment, and takes the original last alias's line break and indent, so the
    closing parenthesis stays where it was.
    """
    out = list(kept)
    if not out or out[-1] is original[-1]:
        return out
    last = out[-1]
    if not parenthesized:
        out[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return out
    mine, theirs = last.comma, original[-1].comma
    if not isinstance(theirs, cst.Comma):
        out[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
    elif isinstance(mine, cst.Comma) and isinstance(mine.whitespace_after, cst.ParenthesizedWhitespace):
        after = theirs.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace):
            after = mine.whitespace_after.with_changes(
                empty_lines=after.empty_lines, indent=after.indent, last_line=after.last_line
            )
        out[-1] = last.with_changes(comma=mine.with_changes(whitespace_after=after))
    else:
        out[-1] = last.with_changes(comma=theirs)
    return out


def from_statement(
    node: cst.ImportFrom, module: str, relative: tuple[int, str] | None
) -> cst.ImportFrom:
    """`node` pointing at another module (absolute, or relative as given)."""
    if relative is not None:
        level, rest = relative
        return node.with_changes(
            module=name_node(rest) if rest else None, relative=[cst.Dot() for _ in range(level)]
        )
    return node.with_changes(module=name_node(module), relative=[])


class Apply(cst.CSTTransformer):
    """Apply planned Edits in one pass; empty blocks get `pass`, empty lines go away."""

    def __init__(self, edits: Edits, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> None:
        super().__init__()
        self.edits = edits
        self.parents = parents
        # blank lines and comments above a removed line move to the next line of the same block
        self._pending: dict[int, Sequence[cst.EmptyLine]] = {}
        # only the edited nodes and their ancestors are entered; every other subtree is kept as is
        self._enter: set[cst.CSTNode] = set()
        edited: list[cst.CSTNode] = [*edits.replace, *edits.remove, *edits.after, *edits.splices]
        for node in edited:
            cur: cst.CSTNode | None = node
            while cur is not None and cur not in self._enter:
                self._enter.add(cur)
                cur = parents.get(cur)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node in self._enter or isinstance(node, cst.Module)

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        edits = self.edits
        if original_node in edits.remove:
            return cst.RemovalSentinel.REMOVE
        if original_node in edits.replace:
            return edits.replace[original_node]
        if isinstance(original_node, cst.SimpleString) and original_node in edits.splices:
            return _spliced(original_node, edits.splices[original_node])
        if isinstance(updated_node, cst.SimpleStatementLine):
            return self._line(original_node, self._take_pending(original_node, updated_node))
        if isinstance(updated_node, cst.SimpleStatementSuite):
            return self._suite(original_node, updated_node)
        if isinstance(updated_node, cst.BaseCompoundStatement):
            return self._take_pending(original_node, updated_node)
        if isinstance(updated_node, cst.IndentedBlock) and not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node

    def _take_pending(self, original: cst.CSTNode, updated: StatementT) -> StatementT:
        pending: Sequence[cst.EmptyLine] | None = self._pending.pop(id(self.parents.get(original)), None)
        if pending is None:
            return updated
        own: Sequence[cst.EmptyLine] = updated.leading_lines
        lines = list(pending) + list(own)
        return updated.with_changes(leading_lines=lines)

    def _suite(self, original: cst.CSTNode, updated: cst.SimpleStatementSuite) -> cst.CSTNode:
        """`if TYPE_CHECKING: from a import b`: new imports join the same one-line suite."""
        extra = [small for line in self.edits.after.get(original, []) for small in line.body]
        body = [*updated.body, *extra]
        if not body:
            body = [cst.Pass()]
        body = [s.with_changes(semicolon=cst.MaybeSentinel.DEFAULT) for s in body]
        return updated.with_changes(body=body)

    def _line(
        self, original: cst.CSTNode, updated: cst.SimpleStatementLine
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        inserts: list[cst.CSTNode] = list(self.edits.after.get(original, []))
        if not updated.body:
            if not inserts:
                if updated.leading_lines:
                    self._pending[id(self.parents.get(original))] = updated.leading_lines
                return cst.RemovalSentinel.REMOVE
            first = inserts[0]
            assert isinstance(first, cst.SimpleStatementLine)
            inserts[0] = first.with_changes(leading_lines=updated.leading_lines)
            return cst.FlattenSentinel(inserts)
        if inserts:
            return cst.FlattenSentinel([updated, *inserts])
        return updated
