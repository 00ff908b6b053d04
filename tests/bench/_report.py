"""Render benchmark rows: a Markdown timing table, a per-form correctness matrix, a PNG plot."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

OURS = "modelfold migrate --dry-run"


def times(x: float) -> str:
    """A ratio as text: whole numbers from 10×, one decimal from 1×, two below (faster than us)."""
    return f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×" if x >= 1 else f"{x:.2f}×"


def _ratio(row: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    if row["tool"].startswith(("modelfold", "baseline")):
        return ""
    for other in rows:
        if (other["tool"] == OURS and other["files"] == row["files"]
                and other["importers"] == row["importers"] and other["wall"] > 0):
            cpu = f" ({times(row['cpu'] / other['cpu'])} CPU)" if other["cpu"] > 0 else ""
            paired = f"; {times(row['paired'])} paired" if row.get("paired") else ""
            return f"{times(row['wall'] / other['wall'])}{cpu}{paired}"
    return ""


def table(rows: list[dict[str, Any]]) -> str:
    """The timing and correctness table, then the per-form matrix, as Markdown."""
    head = ("| tool | files | importers | wall s | CPU s | peak RSS MB | wall vs modelfold "
            "| refs right | forms right | notes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    lines = [head]
    for row in rows:
        forms = len(row["per_form"])
        right = f"{row['right']}/{row['total']}" if row["total"] else "—"
        formcell = f"{len(row['forms_right'])}/{forms}" if forms else "—"
        notes = []
        if row["code"] not in (0, 1):
            notes.append(f"exit {row['code']}")
        if row["failed_files"]:
            notes.append(f"{row['failed_files']} files failed to parse")
        if row["broken"]:
            notes.append(f"{row['broken']} files left unparsable")
        if row["collateral"]:
            notes.append(f"{row['collateral']} unrelated files changed")
        if row["note"]:
            notes.append(row["note"].replace("|", "/"))
        runs = f" (median of {row['runs']})" if row["runs"] > 1 else ""
        lines.append(
            f"| {row['tool']}{runs} | {row['files']:,} | {row['importers']} | {row['wall']:.2f} "
            f"| {row['cpu']:.2f} | {row['rss_mb']:.0f} | {_ratio(row, rows)} | {right} "
            f"| {formcell} | {'; '.join(notes)} |"
        )
    return "\n".join(lines) + "\n\n" + matrix(rows)


def matrix(rows: list[dict[str, Any]]) -> str:
    """Per reference form: how many files of that form each tool rewrote correctly."""
    sizes = [r["files"] for r in rows if not r["tool"].startswith(("modelfold", "baseline"))]
    if not sizes:
        sizes = [r["files"] for r in rows if r["per_form"]]
    if not sizes:
        return ""
    size = min(sizes)
    cols = [r for r in rows if r["files"] == size and r["per_form"]]
    forms = sorted({f for r in cols for f in r["per_form"]})
    names = [r["tool"].split(" ")[0] + (" branch" if "(branch" in r["tool"] else "") for r in cols]
    out = [f"Reference forms rewritten correctly, {size:,}-file tree (files right / files):",
           "", "| form | " + " | ".join(names) + " |", "|---|" + "---:|" * len(cols)]
    for form in forms:
        cells = []
        for r in cols:
            got, total = r["per_form"].get(form, [0, 0])
            cells.append(f"{got}/{total}")
        out.append(f"| `{form}` | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def print_rows(rows: list[dict[str, Any]] | list[Any], file: TextIO = sys.stderr) -> None:
    """One progress line per row (to stderr while the bench runs)."""
    for row in rows:
        r = row if isinstance(row, dict) else row.__dict__
        print(f"#   {r['tool']}: {r['wall']:.2f}s wall, {r['cpu']:.2f}s CPU, "
              f"{r['rss_mb']:.0f} MB, exit {r['code']}, refs {r['right']}/{r['total']}"
              f"{' ' + r['note'] if r['note'] else ''}", file=file, flush=True)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Files vs wall seconds (log-log): modelfold's lines against the anchors' points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.5, 4.5), dpi=120)
    tools = sorted({r["tool"] for r in rows if not r["tool"].startswith("baseline")},
                   key=lambda t: (not t.startswith("modelfold"), t))
    for tool in tools:
        pts = sorted((r["files"], r["wall"], r["importers"]) for r in rows if r["tool"] == tool)
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        style = "-o" if tool.startswith("modelfold") else "s"
        ax.plot(xs, ys, style, label=tool, markersize=7)
        for x, y, _k in pts:
            ax.annotate(f"{y:.2f}s" if y < 10 else f"{y:.0f}s", (x, y), textcoords="offset points",
                        xytext=(6, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("files in tree (3% reference the duplicate; 20k keeps the 10k importers)")
    ax.set_ylabel("wall seconds (2-core machine, shared)")
    ax.set_title("modelfold vs anchors: renaming a duplicated model's references")
    ax.grid(True, which="both", alpha=0.3)
    ax.margins(x=0.15, y=0.2)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
