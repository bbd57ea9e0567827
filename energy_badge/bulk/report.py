"""The report of a bulk state: a CSV (one row per job) and a self-contained HTML page.

The HTML page has no external assets (inline CSS, no script, no web font, no image): it can be
mailed or archived as one file. Everything taken from the Hub or the state (model ids, reasons,
URLs) is escaped; only ``http(s)`` URLs become links. Sections: the counts per status, the star
distribution per task and hardware class, failures and skips grouped by reason, the input lines
that were skipped, and every job.
"""

from __future__ import annotations

import csv
import html
import io
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from energy_badge.bulk.state import STATUSES, JobRow, StateStore, utc_now
from energy_badge.files import write_atomic
from energy_badge.render import stars_text

__all__ = ["CSV_COLUMNS", "render_csv", "render_html", "write_reports"]

CSV_COLUMNS = (
    "model",
    "revision",
    "requested_revision",
    "task",
    "workload_version",
    "hardware_class",
    "status",
    "stars",
    "wh_per_1k",
    "canonical",
    "reason_code",
    "reason",
    "permanent",
    "attempts",
    "publish_attempts",
    "url",
    "source",
    "updated_at",
)

_COLORS = {
    "pending": "#6b7280",
    "measuring": "#2563eb",
    "measured": "#0891b2",
    "publishing": "#7c3aed",
    "published": "#15803d",
    "pr_open": "#16a34a",
    "failed": "#b91c1c",
    "skipped": "#a16207",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#111827}
body{max-width:80rem}h1{font-size:1.5rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.25rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f9fafb}td.num{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;padding:0 .4rem;border-radius:.25rem;color:#fff;font-size:.8rem}
.bar{display:inline-block;height:.7rem;background:#16a34a;vertical-align:middle}
.muted{color:#6b7280}.reason{max-width:40rem;word-break:break-word}code{font-size:.85rem}
"""


def _stars(stars: int | None) -> str:
    return stars_text(stars) if stars else ""


def _cell(row: JobRow, column: str) -> Any:
    value = getattr(row, column)
    if column == "wh_per_1k" and value is not None:
        return f"{value:.6g}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def render_csv(rows: Sequence[JobRow]) -> str:
    """The CSV text: a header of :data:`CSV_COLUMNS`, then one line per job."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row, c) for c in CSV_COLUMNS])
    return buffer.getvalue()


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _link(url: str | None, text: str) -> str:
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{_e(url)}">{_e(text)}</a>'
    return _e(text)


def _badge(status: str) -> str:
    return f'<span class="status" style="background:{_COLORS.get(status, "#374151")}">{_e(status)}</span>'


def render_html(
    rows: Sequence[JobRow],
    *,
    title: str = "energy-badge bulk report",
    state_path: str = "",
    runs: Sequence[dict[str, Any]] = (),
    problems: Sequence[dict[str, Any]] = (),
) -> str:
    """The self-contained HTML report.

    Args:
        rows: the jobs.
        title: the page title.
        state_path: the state file, named in the header.
        runs: the state's runs (the latest is summarised).
        problems: skipped input lines (``source``, ``line``, ``text``, ``reason``).
    """
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">Generated {_e(utc_now())} from <code>{_e(state_path)}</code>: {len(rows)} jobs.',
    ]
    if runs:
        last = runs[-1]
        outcome = last.get("outcome") or "running, or stopped without a word"
        out.append(
            f" Latest run #{_e(last['id'])} started {_e(last['started_at'])}, "
            f"finished {_e(last.get('finished_at') or '-')}: {_e(outcome)}."
        )
    out.append("</p>")

    counts = Counter(r.status for r in rows)
    out.append("<h2>Status</h2><table><tr><th>status</th><th>jobs</th></tr>")
    for status in STATUSES:
        if counts[status]:
            out.append(f'<tr><td>{_badge(status)}</td><td class="num">{counts[status]}</td></tr>')
    out.append(f'<tr><th>total</th><td class="num">{len(rows)}</td></tr></table>')

    out.append("<h2>Stars per task</h2>")
    groups: dict[tuple[str, str], Counter[int | None]] = defaultdict(Counter)
    for row in rows:
        if row.canonical is not None:
            groups[(row.task, row.hardware_class)][row.stars if row.canonical else None] += 1
    if groups:
        header = "".join(f"<th>{_stars(s)}</th>" for s in (5, 4, 3, 2, 1))
        out.append(f"<table><tr><th>task</th><th>hardware</th>{header}<th>unrated</th><th>measured</th></tr>")
        for (task, hardware), stars in sorted(groups.items()):
            total = sum(stars.values())
            cells = []
            for s in (5, 4, 3, 2, 1, None):
                width = round(60 * stars[s] / total) if total else 0
                bar = f'<span class="bar" style="width:{width}px"></span> ' if stars[s] and s else ""
                cells.append(f'<td class="num">{bar}{stars[s]}</td>')
            out.append(
                f"<tr><td>{_e(task)}</td><td>{_e(hardware)}</td>{''.join(cells)}"
                f'<td class="num">{total}</td></tr>'
            )
        out.append("</table>")
        out.append(
            '<p class="muted">Unrated: not canonical, or no rating-table entry for the task and GPU.</p>'
        )
    else:
        out.append('<p class="muted">Nothing measured yet.</p>')

    out.append("<h2>Failures and skips by reason</h2>")
    grouped: dict[tuple[str, str], list[JobRow]] = defaultdict(list)
    for row in rows:
        if row.status in ("failed", "skipped") or (row.status == "measured" and row.reason):
            grouped[(row.status, row.reason_code or "unknown")].append(row)
    if grouped:
        out.append("<table><tr><th>status</th><th>reason</th><th>jobs</th><th>examples</th></tr>")
        for (status, code), members in sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            retry = ""
            if status == "failed":
                permanent = sum(1 for m in members if m.permanent)
                retry = f' <span class="muted">({permanent} permanent)</span>'
            examples = "<br>".join(f"<code>{_e(m.model)}</code>: {_e(m.reason)}" for m in members[:5]) + (
                "<br>…" if len(members) > 5 else ""
            )
            out.append(
                f"<tr><td>{_badge(status)}</td><td><code>{_e(code)}</code>{retry}</td>"
                f'<td class="num">{len(members)}</td><td class="reason">{examples}</td></tr>'
            )
        out.append("</table>")
    else:
        out.append('<p class="muted">None.</p>')

    if problems:
        out.append("<h2>Input lines skipped</h2><table><tr><th>where</th><th>line</th><th>why</th></tr>")
        for p in problems:
            out.append(
                f"<tr><td>{_e(p['source'])}:{_e(p['line'])}</td><td><code>{_e(p['text'])}</code></td>"
                f"<td>{_e(p['reason'])}</td></tr>"
            )
        out.append("</table>")

    out.append("<h2>Jobs</h2>")
    out.append(
        "<table><tr><th>model</th><th>revision</th><th>task</th><th>hardware</th><th>status</th>"
        "<th>stars</th><th>Wh / 1000 queries</th><th>attempts</th><th>reason</th><th>link</th></tr>"
    )
    for row in rows:
        energy = f"{row.wh_per_1k:.4g}" if row.wh_per_1k is not None else ""
        link = _link(row.url, f"PR #{row.pr_num}" if row.pr_num else "commit") if row.url else ""
        out.append(
            f"<tr><td><code>{_e(row.model)}</code></td><td><code>{_e(row.revision[:12])}</code></td>"
            f"<td>{_e(row.task)}</td><td>{_e(row.hardware_class)}</td><td>{_badge(row.status)}</td>"
            f'<td>{_stars(row.stars)}</td><td class="num">{energy}</td><td class="num">{row.attempts}</td>'
            f'<td class="reason">{_e(row.reason)}</td><td>{link}</td></tr>'
        )
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def write_reports(
    state: StateStore, out_dir: str | os.PathLike[str], *, ids: Sequence[int] | None = None
) -> tuple[Path, Path]:
    """Write ``bulk-report.csv`` and ``bulk-report.html`` for a state (atomically).

    Args:
        state: the state (read only).
        out_dir: the folder (created).
        ids: only these jobs (default: every job in the state).

    Returns:
        The CSV and HTML paths.
    """
    rows = state.rows(ids, light=True)
    folder = Path(out_dir)
    csv_path = write_atomic(folder / "bulk-report.csv", render_csv(rows).encode("utf-8"))
    page = render_html(rows, state_path=str(state.path), runs=state.runs(), problems=state.problems())
    html_path = write_atomic(folder / "bulk-report.html", page.encode("utf-8"))
    return csv_path, html_path
