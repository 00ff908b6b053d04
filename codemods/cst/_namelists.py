"""Name lists of from-imports that grow: kept sorted (plainly or isort/ruff style), one per line
when the import was exploded."""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node


def _name(node: cst.CSTNode | None) -> str:
    return (get_full_name_for_node(node) or "") if node is not None else ""


def _sort_key(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def keep_sorted(old: cst.ImportFrom, new: cst.ImportFrom) -> cst.ImportFrom:
    """Re-sort a merged, unparenthesized name list that was sorted (plainly or isort/ruff style)."""
    assert not isinstance(old.names, cst.ImportStar) and not isinstance(new.names, cst.ImportStar)
    if new.lpar is not None:
        return _one_per_line(old, new)
    before = [_name(a.name) for a in old.names]
    ruff = before == sorted(before, key=_sort_key)
    if not (ruff or before == sorted(before)):
        return new
    ordered = sorted(new.names, key=lambda a: _sort_key(_name(a.name)) if ruff else (0, _name(a.name)))
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    last = len(ordered) - 1
    return new.with_changes(names=[
        a.with_changes(comma=comma if i < last else cst.MaybeSentinel.DEFAULT) for i, a in enumerate(ordered)
    ])


def _bare_break(ws: cst.BaseParenthesizableWhitespace) -> bool:
    """A line break with no comment and no blank line in it."""
    return (isinstance(ws, cst.ParenthesizedWhitespace) and ws.first_line.comment is None
            and not ws.empty_lines)


def _one_per_line(old: cst.ImportFrom, new: cst.ImportFrom) -> cst.ImportFrom:
    """Names added to an exploded `from m import (\n    a,\n)` go one per line, sorted where the
    list was, the last keeping the original's (magic trailing) comma; any other shape as given."""
    assert not isinstance(old.names, cst.ImportStar) and not isinstance(new.names, cst.ImportStar)
    assert new.lpar is not None
    names = list(old.names)
    opening = new.lpar.whitespace_after
    commas = [a.comma for a in names]
    if not _bare_break(opening) or not all(
        isinstance(c, cst.Comma) and _bare_break(c.whitespace_after) for c in commas[:-1]
    ):
        return new
    last_comma = commas[-1]
    if isinstance(last_comma, cst.Comma) and not _bare_break(last_comma.whitespace_after):
        return new
    added = [a for a in new.names if all(a is not b for b in names)]
    before = [_name(a.name) for a in names]
    if before == sorted(before, key=_sort_key):
        ordered = sorted([*names, *added], key=lambda a: _sort_key(_name(a.name)))
    elif before == sorted(before):
        ordered = sorted([*names, *added], key=lambda a: _name(a.name))
    else:
        ordered = [*names, *added]
    between = cst.Comma(whitespace_after=opening)
    end = len(ordered) - 1
    return new.with_changes(names=[
        a.with_changes(comma=between if i < end else last_comma) for i, a in enumerate(ordered)
    ])
