"""Registry expressions (`"Account.id == Order.account_id"`, `"desc(Account.name)"`) with a class renamed.

SQLAlchemy evaluates such strings against the class registry; renaming a class in one renames
the Name nodes spelling it (parsed with libcst), never an attribute, a keyword or a longer name.
The rewrite's edit (`rewrite/_registry_names`); comparisons use `index._columns.renamed_spec`.
"""

from __future__ import annotations

import libcst as cst

__all__ = ["renamed_expression"]


class _Names(cst.CSTTransformer):
    """Renames Name nodes spelling an old class name; attribute names and keywords stay."""

    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames
        self.found: list[str] = []

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.renames.get(original_node.value)
        if new is None:
            return updated_node
        self.found.append(original_node.value)
        return updated_node.with_changes(value=new)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        if original_node.attr.value in self.renames:
            self.found.remove(original_node.attr.value)
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        if original_node.keyword is not None and original_node.keyword.value in self.renames:
            self.found.remove(original_node.keyword.value)
        return updated_node.with_changes(keyword=original_node.keyword)


def renamed_expression(raw: str, renames: dict[str, str]) -> tuple[str, list[str]] | None:
    """(`raw` with each Name of an old class renamed, the old names met); None when it is not an expression."""
    body = raw.strip()
    try:
        expr = cst.parse_expression(body)
    except cst.ParserSyntaxError:
        return None
    names = _Names(renames)
    renamed = expr.visit(names)
    assert isinstance(renamed, cst.BaseExpression)  # renaming Names keeps an expression
    new = cst.Module([]).code_for_node(renamed)
    start = len(raw) - len(raw.lstrip())
    return raw[:start] + new + raw[start + len(body):], names.found

