"""The report of a bulk state: a CSV (one row per job) and a self-contained HTML page.

The HTML page has no external assets (inline CSS, no script, no web font, no image): it can be
mailed or archived as one file. Its markup is the template ``energy_badge/templates/bulk_report.html``
(Jinja2, autoescaped, see :mod:`energy_badge.templating`); this module gathers the values, as plain
text and numbers. Everything taken from the Hub or the state (model ids, reasons, URLs) is escaped;
only ``http(s)`` URLs become links. Sections: the counts per status, the star distribution per task
and hardware class, failures and skips grouped by reason, the input lines that were skipped, and
every job.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from energy_badge.bulk.state import STATUSES, JobRow, StateStore, utc_now
from energy_badge.files import write_atomic
from energy_badge.templating import render
from energy_badge.text import stars_text

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

_STAR_COLUMNS = (5, 4, 3, 2, 1)


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


@dataclass(frozen=True)
class _Run:
    id: object
    started_at: object
    finished_at: object
    outcome: object


@dataclass(frozen=True)
class _StarCell:
    jobs: int
    bar_px: int | None  # the bar's width; None: no bar (no job, or the unrated column)


@dataclass(frozen=True)
class _StarGroup:
    task: str
    hardware: str
    cells: list[_StarCell]  # 5 to 1 stars, then unrated
    total: int


@dataclass(frozen=True)
class _Failure:
    status: str
    code: str
    permanent: int | None  # failures only: how many retrying cannot help
    jobs: int
    examples: list[tuple[str, str | None]]  # (model, reason) of the first five
    more: bool


@dataclass(frozen=True)
class _Problem:
    source: object
    line: object
    text: object
    reason: object


@dataclass(frozen=True)
class _Job:
    model: str
    revision: str
    task: str
    hardware: str
    status: str
    stars: str
    energy: str
    attempts: int
    reason: str | None
    link: str
    href: str | None  # only http(s) URLs become links


def _last_run(runs: Sequence[dict[str, Any]]) -> _Run | None:
    if not runs:
        return None
    last = runs[-1]
    return _Run(
        last["id"],
        last["started_at"],
        last.get("finished_at") or "-",
        last.get("outcome") or "running, or stopped without a word",
    )


def _star_groups(rows: Sequence[JobRow]) -> list[_StarGroup]:
    groups: dict[tuple[str, str], Counter[int | None]] = defaultdict(Counter)
    for row in rows:
        if row.canonical is not None:
            groups[(row.task, row.hardware_class)][row.stars if row.canonical else None] += 1
    out = []
    for (task, hardware), stars in sorted(groups.items()):
        total = sum(stars.values())
        cells = [
            _StarCell(stars[s], round(60 * stars[s] / total) if stars[s] and s else None)
            for s in (*_STAR_COLUMNS, None)
        ]
        out.append(_StarGroup(task, hardware, cells, total))
    return out


def _failures(rows: Sequence[JobRow]) -> list[_Failure]:
    grouped: dict[tuple[str, str], list[JobRow]] = defaultdict(list)
    for row in rows:
        if row.status in ("failed", "skipped") or (row.status == "measured" and row.reason):
            grouped[(row.status, row.reason_code or "unknown")].append(row)
    return [
        _Failure(
            status,
            code,
            sum(1 for m in members if m.permanent) if status == "failed" else None,
            len(members),
            [(m.model, m.reason) for m in members[:5]],
            len(members) > 5,
        )
        for (status, code), members in sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


def _job(row: JobRow) -> _Job:
    linkable = bool(row.url) and str(row.url).startswith(("https://", "http://"))
    return _Job(
        model=row.model,
        revision=row.revision[:12],
        task=row.task,
        hardware=row.hardware_class,
        status=row.status,
        stars=_stars(row.stars),
        energy=f"{row.wh_per_1k:.4g}" if row.wh_per_1k is not None else "",
        attempts=row.attempts,
        reason=row.reason,
        link=(f"PR #{row.pr_num}" if row.pr_num else "commit") if row.url else "",
        href=row.url if linkable else None,
    )


def render_html(
    rows: Sequence[JobRow],
    *,
    title: str = "energy-badge bulk report",
    state_path: str = "",
    runs: Sequence[dict[str, Any]] = (),
    problems: Sequence[dict[str, Any]] = (),
) -> str:
    """The self-contained HTML report (the template ``bulk_report.html``, autoescaped).

    Args:
        rows: the jobs.
        title: the page title.
        state_path: the state file, named in the header.
        runs: the state's runs (the latest is summarised).
        problems: skipped input lines (``source``, ``line``, ``text``, ``reason``).
    """
    counts = Counter(r.status for r in rows)
    return render(
        "bulk_report.html",
        title=title,
        generated=utc_now(),
        state_path=state_path,
        last_run=_last_run(runs),
        colors=_COLORS,
        status_counts=[(status, counts[status]) for status in STATUSES if counts[status]],
        star_columns=[_stars(s) for s in _STAR_COLUMNS],
        star_groups=_star_groups(rows),
        failures=_failures(rows),
        problems=[_Problem(p["source"], p["line"], p["text"], p["reason"]) for p in problems],
        jobs=[_job(row) for row in rows],
    )


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
