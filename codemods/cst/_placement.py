"""Put the import statements a migration added or changed where the project's sorter would.

`place_imports(before, after, style)` compares the import statements of a file before and after
an edit (stdlib `ast`, positions ignored): a statement that was not there before is "touched".
In each run of consecutive import statements holding a touched one, the touched statements are
rewritten in the sorter's shape (one name per line under `force_single_line`, names merged into
an existing from-import of the same module, one per line when that one is exploded) and sorted
among the untouched ones, sections one blank line apart. Untouched statements keep their text.

A run is left as it is when the project's order is not the one `_isort` models (its untouched
statements are not in that order, or spaced otherwise), or when comments sit between its
statements or inside a statement that would have to change: placing a line there is a guess.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from codemods.cst._isort import ImportStmt, ImportStyle, member_key, render_from, statement_key

_Import = ast.Import | ast.ImportFrom


@dataclass
class _Entry:
    """One statement of a run: its sort key, text (without indent), and how it may merge."""

    stmt: ImportStmt
    text: str
    touched: bool
    exploded: bool = False
    mergeable: bool = True  # no comment inside, no star: names may be added to it


def _signature(node: _Import) -> str:
    return ast.dump(node)


def import_signatures(tree: ast.Module) -> set[str]:
    """Position-free text of every import statement of a module."""
    return {_signature(n) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))}


def _runs(tree: ast.Module) -> list[list[_Import]]:
    """Runs of consecutive import statements in every statement list of the module."""
    runs: list[list[_Import]] = []
    bodies: list[list[ast.stmt]] = [tree.body]
    while bodies:
        body = bodies.pop()
        run: list[_Import] = []
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                run.append(stmt)
                continue
            if run:
                runs.append(run)
                run = []
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    bodies.append(inner)
            for handler in getattr(stmt, "handlers", []):
                bodies.append(handler.body)
        if run:
            runs.append(run)
    return runs


def place_imports(before: str, after: str, style: ImportStyle) -> str:
    """`after` with its new or changed import statements where the sorter would put them."""
    if before == after:
        return after
    try:
        old = import_signatures(ast.parse(before))
        tree = ast.parse(after)
    except (SyntaxError, ValueError):
        return after
    lines = after.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for run in _runs(tree):
        touched = [_signature(n) not in old for n in run]
        if any(touched):
            placed = _place_run(run, touched, lines, style)
            if placed is not None:
                edits.append(placed)
    for start, end, text in sorted(edits, reverse=True):
        lines[start:end] = [text]
    return "".join(lines)


def _statements(node: _Import) -> list[ImportStmt]:
    if isinstance(node, ast.Import):
        return [ImportStmt(True, a.name, 0, ((a.name, a.asname),)) for a in node.names]
    names = tuple((a.name, a.asname) for a in node.names)
    return [ImportStmt(False, node.module or "", node.level, names)]


def _source(stmt: ImportStmt) -> str:
    return "." * stmt.level + stmt.module


def _render(stmt: ImportStmt, style: ImportStyle, exploded: bool, comment: str = "") -> str:
    if stmt.straight:
        name, asname = stmt.names[0]
        text = f"import {name}" + (f" as {asname}" if asname else "")
        return text + (f"  {comment}" if comment else "")
    names = sorted(dict.fromkeys(stmt.names), key=lambda n: member_key(n[0], n[1], style))
    return render_from(_source(stmt), names, style, "", exploded, comment)


def _split(stmt: ImportStmt, style: ImportStyle) -> list[ImportStmt]:
    """A touched statement as the sorter splits it (force_single_line, `as` names apart)."""
    if stmt.straight or stmt.names == (("*", None),):
        return [stmt]
    if style.force_single_line:
        return [ImportStmt(False, stmt.module, stmt.level, (n,)) for n in stmt.names]
    if style.combine_as:
        return [stmt]
    plain = tuple(n for n in stmt.names if n[1] is None)
    out = [ImportStmt(False, stmt.module, stmt.level, plain)] if plain else []
    out += [ImportStmt(False, stmt.module, stmt.level, (n,)) for n in stmt.names if n[1] is not None]
    return out


def _magic_comma(text: str) -> bool:
    body = text.rstrip()
    return body.endswith(")") and body[:-1].rstrip().endswith(",")


def _place_run(
    run: list[_Import], touched: list[bool], lines: list[str], style: ImportStyle
) -> tuple[int, int, str] | None:
    """(first line, end line, new text) of one run, or None to leave it as it is."""
    first = run[0]
    indent = lines[first.lineno - 1][: first.col_offset]
    if indent.strip():
        return None  # shares its line with another statement
    entries: list[_Entry] = []
    previous_end = first.lineno - 1
    gaps: list[int] = []  # blank lines before each statement (after the first)
    for node, is_new in zip(run, touched, strict=True):
        start, end = node.lineno - 1, node.end_lineno or node.lineno
        between = lines[previous_end:start]
        if any(line.strip() for line in between) or node.col_offset != len(indent):
            return None  # a comment or code between statements, or `a; import b`
        if node is not first:
            gaps.append(len(between))
        previous_end = end
        text = "".join(line[len(indent):] if line.startswith(indent) else line for line in lines[start:end])
        code, _, comment = _split_comment(text, node, len(indent))
        if code is None:
            return None
        stmts = _statements(node)
        if not is_new:
            entries.append(_Entry(stmts[0], text.rstrip("\r\n"), False, _magic_comma(code),
                                  len(stmts) == 1 and not comment and "#" not in code))
            continue
        if "#" in code:  # a comment inside: the statement moves as written
            if len(stmts) > 1:
                return None
            entries.append(_Entry(stmts[0], text.rstrip("\r\n"), True, _magic_comma(code), False))
            continue
        for stmt in stmts:
            for part in _split(stmt, style):
                rendered = _render(part, style, style.split_on_trailing_comma and _magic_comma(code), comment)
                entries.append(_Entry(part, rendered, True, _magic_comma(code), not comment))
    if not _agrees(entries, gaps, style):
        return None
    entries = _merged(entries, style)
    entries.sort(key=lambda e: statement_key(e.stmt, style))
    out: list[str] = []
    section = None
    for entry in entries:
        key = statement_key(entry.stmt, style)
        if section is not None and key[0] != section:
            out.append("\n")
        section = key[0]
        out.extend(indent + line if line.strip() else line for line in entry.text.splitlines(keepends=True))
        out.append("\n")
    last = run[-1].end_lineno or run[-1].lineno
    newline = "\r\n" if lines[last - 1].endswith("\r\n") else "\n"
    return first.lineno - 1, last, "".join(out).replace("\n", newline)


def _split_comment(text: str, node: _Import, indent: int) -> tuple[str | None, str, str]:
    """(code, "#", trailing comment) of a statement's dedented lines; code None when it cannot be
    isolated."""
    rows = text.splitlines()
    last_line = rows[-1] if rows else ""
    offset = (node.end_col_offset or 0) - indent
    code_last, rest = last_line[:offset], last_line[offset:].strip()
    if rest and not rest.startswith("#"):
        return None, "", ""
    code = "\n".join([*rows[:-1], code_last])
    return code, "#" if rest else "", rest


def _agrees(entries: list[_Entry], gaps: list[int], style: ImportStyle) -> bool:
    """The untouched statements are in the modelled order, sections spaced by one blank line."""
    keys = [statement_key(e.stmt, style) for e in entries if not e.touched]
    return keys == sorted(keys) and all(gap in (0, 1) for gap in gaps)


def _merged(entries: list[_Entry], style: ImportStyle) -> list[_Entry]:
    """Touched from-imports joined with a statement of the same module, as the sorter joins them."""
    if style.force_single_line:
        return _deduplicated(entries)
    out: list[_Entry] = []
    for entry in entries:
        stmt = entry.stmt
        aliased = any(a is not None for _, a in stmt.names)
        can = not stmt.straight and entry.mergeable and (style.combine_as or not aliased)
        host = next((o for o in out if can and o.mergeable and not o.stmt.straight
                     and (o.stmt.module, o.stmt.level) == (stmt.module, stmt.level)
                     and (style.combine_as or not any(a for _, a in o.stmt.names))
                     and ("*", None) not in o.stmt.names and ("*", None) not in stmt.names
                     and (entry.touched or o.touched)), None)
        if host is None:
            out.append(entry)
            continue
        names = tuple(dict.fromkeys([*host.stmt.names, *stmt.names]))
        host.stmt = ImportStmt(False, stmt.module, stmt.level, names)
        host.exploded = host.exploded or entry.exploded
        host.touched = True
        host.text = _render(host.stmt, style, style.split_on_trailing_comma and host.exploded)
    return _deduplicated(out)


def _deduplicated(entries: list[_Entry]) -> list[_Entry]:
    seen: set[str] = set()
    out: list[_Entry] = []
    for entry in entries:
        if entry.text in seen:
            continue
        seen.add(entry.text)
        out.append(entry)
    return out
