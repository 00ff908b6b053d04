"""Rewrites that build libcst trees for part of a file only (stdlib `ast` says which part).

- `rewrite_statements`: files that import moved names but bind no old module to a name (most
  referencing files: `from old.module import User` at any depth, targets named in strings). Each
  import statement alone is rewritten by the same planner (`rewrite_source`) as a one-statement libcst module;
  strings are edited in place.
- `rewrite_reduced`: "bound_once" files (each module alias bound once). The planner runs on a module of
  only the top-level statements that can matter to it, which are then put back in place.

Whatever these cannot place exactly (a statement sharing its line, a concatenated string that may
name a target) makes them return None, and the caller runs the whole-file pass.
"""

from __future__ import annotations

import ast
import re

import libcst as cst

from codemods.rewrite._planner import rewrite_source
from codemods.rewrite._refs import FileContext
from codemods.rewrite._strings import StringRewriter
from codemods.rewrite._targets import RefNode, Relocation
from codemods.scan import absolute_module

LINE_BREAK = re.compile(r"\r\n|\r|\n")
CHUNK = "# modelfold-chunk {}"
CHUNKS = re.compile(r"^# modelfold-chunk (\d+)(?:\r\n|\r|\n)", re.MULTILINE)
LITERAL = re.compile(r"([A-Za-z]*)('''|\"\"\"|'|\")(.*)\2", re.DOTALL)

Edit = tuple[int, int, str]  # [start, end) of the text, and what replaces it


def rewrite_statements(
    text: str, ctx: FileContext, relocation: Relocation, refs: list[RefNode]
) -> tuple[str, list[str]] | None:
    """(new text, warnings) for a file that binds no location (`ctx.mode` "statements"), or None
    when some reference cannot be rewritten statement by statement."""
    body = text.lstrip("\ufeff")
    lines = _Lines(body)
    strings = StringRewriter(relocation)
    names = {key.rsplit(".", 1)[1] for key in relocation.targets}
    edits: list[Edit] = []
    warnings: list[str] = []
    star: set[str] = set()
    for node, parent, callee, index in refs:
        if isinstance(node, ast.Import):
            continue
        if isinstance(node, ast.ImportFrom):
            module = absolute_module(ctx.module, ctx.is_package, node.level, node.module)
            if module is None:
                continue
            if node.names[0].name == "*":
                if module in relocation.locations:
                    star.add(module)
            elif any(f"{module}.{a.name}" in relocation.targets for a in node.names):
                edit = _import_edit(lines, node, ctx, relocation, warnings)
                if edit is None:
                    return None
                edits.append(edit)
        elif isinstance(node.value, str) and not isinstance(parent, (ast.Expr, ast.JoinedStr)):
            start, end = lines.offset(node.lineno, node.col_offset), lines.offset(
                node.end_lineno or node.lineno, node.end_col_offset or 0
            )
            literal = LITERAL.fullmatch(body, start, end)
            if literal is None or literal.group(3) != node.value or (
                "\\" in node.value and "r" not in literal.group(1).lower()
            ):
                # `"a" "b"` or escapes: the whole-file pass edits such literals part by part
                if any(n in node.value for n in names):
                    return None
                continue
            prefix, quote, raw = literal.groups()
            new = strings.rewrite(raw, callee, index)
            if new is not None and new != raw:
                edits.append((start, end, f"{prefix}{quote}{new}{quote}"))
    for start, end, new in sorted(edits, reverse=True):
        body = body[:start] + new + body[end:]
    warnings.extend(
        f"{ctx.path}: `from {module} import *` left as is (the shim keeps it working)"
        for module in sorted(star)
    )
    return text[: len(text) - len(lines.text)] + body, warnings


class _Lines:
    """Line starts of a text, and ast (line, UTF-8 column) positions as string offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in LINE_BREAK.finditer(text))]
        if self.starts[-1] != len(text):
            self.starts.append(len(text))

    def line(self, lineno: int) -> str:
        """Line `lineno` (1-based) with its line break."""
        return self.text[self.starts[lineno - 1] : self.starts[lineno]]

    def offset(self, lineno: int, col: int) -> int:
        line = self.line(lineno)
        if not line.isascii():
            col = len(line.encode()[:col].decode("utf-8", "replace"))
        return self.starts[lineno - 1] + col


def _import_edit(
    lines: _Lines, node: ast.ImportFrom, ctx: FileContext, relocation: Relocation, warnings: list[str]
) -> Edit | None:
    """The import statement's whole lines rewritten alone; None unless it owns those lines."""
    first, last = node.lineno, node.end_lineno or node.lineno
    indent = lines.text[lines.starts[first - 1] : lines.offset(first, node.col_offset)]
    tail = lines.line(last)[lines.offset(last, node.end_col_offset or 0) - lines.starts[last - 1] :]
    if indent.strip() or (tail.strip() and not tail.strip().startswith("#")):
        return None  # `if x: from a import b`, `import os; from a import b`
    if first > 1 and lines.line(first - 1).rstrip("\r\n").endswith("\\"):
        return None
    start, end = lines.starts[first - 1], lines.starts[last]
    snippet = lines.text[start:end]
    newline = LINE_BREAK.search(snippet)
    header = f"if True:{newline.group() if newline else chr(10)}" if indent else ""
    try:
        new, found = rewrite_source(header + snippet, ctx, relocation)
    except cst.ParserSyntaxError:
        return None
    if not new.startswith(header) or not new[len(header) :].strip():
        return None
    warnings.extend(found)
    return start, end, new[len(header) :]


def rewrite_reduced(
    text: str, ctx: FileContext, relocation: Relocation, tree: ast.Module, names: frozenset[str]
) -> tuple[str, list[str]] | None:
    """(new text, warnings) of a "bound_once" file, the planner seeing only the top-level statements
    whose text holds an import, one of `names` (its module aliases), an old or new class name
    (uses, strings naming targets, names an added import must not shadow) or `Canonical`.
    The rest cannot change and cannot change its decisions. None when the pieces do not come
    back in order (the caller then runs the whole-file pass)."""
    body = text.lstrip("\ufeff")
    lines = _Lines(body)
    words = {"import", *names, *(t.name for t in relocation.targets.values())}
    words.update(key.rsplit(".", 1)[1] for key in relocation.targets)
    matters = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words))) + r"|Canonical\w*)\b")
    spans: list[list[int]] = []
    for stmt in tree.body:
        decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
        first = min([stmt.lineno, *(d.lineno for d in decorators)])
        last = stmt.end_lineno or stmt.lineno
        source = lines.text[lines.starts[first - 1] : lines.starts[last]]
        if not matters.search(source):
            continue  # (a text test: a word in a comment only keeps a statement it need not)
        if spans and first <= spans[-1][1]:  # `a; b` on one line
            spans[-1][1] = max(spans[-1][1], last)
        else:
            spans.append([first, last])
    newline = m.group() if (m := LINE_BREAK.search(body)) else "\n"
    pieces: list[str] = []
    for i, (first, last) in enumerate(spans):
        piece = lines.text[lines.starts[first - 1] : lines.starts[last]]
        ends = piece.endswith(("\n", "\r"))
        pieces.append(CHUNK.format(i) + newline + piece + ("" if ends else newline))
    pieces.append(CHUNK.format(len(spans)) + newline + "pass" + newline)  # keeps the last marker
    try:
        new, warnings = rewrite_source("".join(pieces), ctx, relocation)
    except cst.ParserSyntaxError:
        return None
    parts = CHUNKS.split(new)
    if parts[0] or parts[1::2] != [str(i) for i in range(len(spans) + 1)] or parts[-1] != "pass" + newline:
        return None
    for (first, last), piece in reversed(list(zip(spans, parts[2::2], strict=False))):
        start, end = lines.starts[first - 1], lines.starts[last]
        if not body[start:end].endswith(("\n", "\r")):
            piece = piece[: -len(newline)] if piece.endswith(newline) else piece
        body = body[:start] + piece + body[end:]
    return text[: len(text) - len(lines.text)] + body, warnings

