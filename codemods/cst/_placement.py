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
import re
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


_IMPORT_LINE = re.compile(
    r"^([ \t]*)(?:import[ \t]+[\w.]|from[ \t]+[\w.]+[ \t]+import\b)", re.MULTILINE
)


def _import_lines(text: str, lines: list[str]) -> list[tuple[int, int, str]]:
    """(first, end, indent) of each import statement, found by a pattern (no parse): a line that
    starts like an import, with the lines of its parentheses or backslash continuations."""
    found: list[tuple[int, int, str]] = []
    done = i = position = 0
    for match in _IMPORT_LINE.finditer(text):
        i += text.count("\n", position, match.start())
        position = match.start()
        if i >= len(lines) or not lines[i].startswith(match.group(0)):
            return []  # a line break other than \n: no placement rather than a wrong one
        if i < done:
            continue  # inside the previous statement's parentheses
        end = i + 1
        code = lines[i].split("#", 1)[0]
        if code.count("(") > code.count(")"):
            while end < len(lines) and ")" not in lines[end].split("#", 1)[0]:
                end += 1
            end = min(end + 1, len(lines))
        while end < len(lines) and lines[end - 1].split("#", 1)[0].rstrip().endswith("\\"):
            end += 1
        found.append((i, end, match.group(1)))
        done = end
    return found


def _text_runs(text: str, lines: list[str], wanted: set[int] | None) -> list[tuple[int, int, str]]:
    """(first, end, indent) of the runs of import statements (same indent, blank lines between)
    that hold one of the `wanted` lines (every run when None)."""
    runs: list[tuple[int, int, str]] = []
    for first, end, indent in _import_lines(text, lines):
        last = runs[-1] if runs else None
        between = lines[last[1]:first] if last is not None else []
        if last is not None and last[2] == indent and all(
            not line.strip() or line.lstrip().startswith("#") for line in between
        ):  # a comment joins the run too: `_place_run` then leaves the run alone
            runs[-1] = (last[0], end, indent)
        else:
            runs.append((first, end, indent))
    return [r for r in runs if wanted is None or any(r[0] <= n < r[1] for n in wanted)]


def _parse_run(lines: list[str], first: int, end: int, indent: str) -> list[_Import] | None:
    """The statements of one run, parsed alone but with the file's line numbers and columns."""
    head = "\n" * first if not indent else "\n" * (first - 1) + "if 1:\n"
    try:
        tree = ast.parse(head + "".join(lines[first:end]))
    except (SyntaxError, ValueError):
        return None
    body = tree.body if not indent else getattr(tree.body[0], "body", [])
    if not body or not all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in body):
        return None
    return [n for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]


def place_imports(before: str, after: str, style: ImportStyle) -> str:
    """`after` with its new or changed import statements where the sorter would put them."""
    if before == after:
        return after
    lines = after.splitlines(keepends=True)
    old_lines = set(before.splitlines())
    wanted = {i for i, line in enumerate(lines) if line.rstrip("\r\n") not in old_lines}
    old = "\n" + before.replace("\r\n", "\n") + ("" if before.endswith("\n") else "\n")
    edits: list[tuple[int, int, str]] = []
    unsorted: set[str] | None = None  # statements of the runs the project did not keep sorted
    for first, end, indent in _text_runs(after, lines, wanted):
        if indent and first == 0:
            continue
        run = _parse_run(lines, first, end, indent)
        if run is None:
            continue
        texts = ["".join(lines[n.lineno - 1 : n.end_lineno or n.lineno]).replace("\r\n", "\n") for n in run]
        touched = ["\n" + text not in old for text in texts]
        if any(touched):
            unsorted = _unsorted(before, style) if unsorted is None else unsorted
            if any(text in unsorted for text, new in zip(texts, touched, strict=True) if not new):
                continue
            placed = _place_run(run, touched, lines, style)
            if placed is not None:
                edits.append(placed)
    for start, stop, text in sorted(edits, reverse=True):
        lines[start:stop] = [text]
    return "".join(lines)


def _unsorted(before: str, style: ImportStyle) -> set[str]:
    """The statements (their text) of the runs of `before` that are not in the modelled order."""
    lines = before.splitlines(keepends=True)
    found: set[str] = set()
    for first, end, indent in _text_runs(before, lines, None):
        run = _parse_run(lines, first, end, indent) if not (indent and first == 0) else None
        if run is None or _place_run(run, [False] * len(run), lines, style) is None:
            found.update("".join(lines[first:end]).replace("\r\n", "\n").splitlines(keepends=True))
            if run is not None:
                found.update("".join(lines[n.lineno - 1 : n.end_lineno or n.lineno]).replace("\r\n", "\n")
                             for n in run)
    return found


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
    sections: list[int] = []  # each statement's section
    kinds: list[bool] = []  # each statement touched or not
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
        sections.append(statement_key(stmts[0], style)[0])
        kinds.append(is_new)
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
    if not _agrees(entries, gaps, list(zip(sections, kinds, strict=True)), style):
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


def _agrees(
    entries: list[_Entry], gaps: list[int], statements: list[tuple[int, bool]], style: ImportStyle
) -> bool:
    """The untouched statements are in the modelled order; neighbours in one section have no
    blank line between them, and untouched neighbours in two sections have exactly one."""
    keys = [statement_key(e.stmt, style) for e in entries if not e.touched]
    if keys != sorted(keys):
        return False
    for gap, ((above, new_above), (below, new_below)) in zip(
        gaps, zip(statements, statements[1:], strict=False), strict=True
    ):
        if gap > 1 or (gap == 1 and above == below):
            return False
        if gap == 0 and above != below and not (new_above or new_below):
            return False
    return True


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
