"""The leaderboard page: one table per task, sortable by a few lines of inline JS.

Self-contained (inline CSS and JS, no external assets, no web fonts: it works offline) and readable
on a phone (the table scrolls sideways inside its box; the type scales). The markup is the template
``energy_badge/templates/leaderboard.html`` (Jinja2, autoescaped, see :mod:`energy_badge.templating`):
every value from the state is HTML-escaped. The sort can be given in the fragment, ``/#sort=wh`` or
``/#sort=-stars`` (a leading ``-``: descending), so a link can carry it; clicking a header sorts by
that column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from energy_badge.tasks import energy_unit
from energy_badge.templating import render
from energy_badge.text import format_energy, stars_text

__all__ = ["BADGE_CSP", "Entry", "page_csp", "render_page"]

#: The Content-Security-Policy of the SVG badges: nothing to load, nothing to run (their styling is
#: presentation attributes); opened on their own, they can do nothing but be drawn.
BADGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@dataclass(frozen=True)
class Entry:
    """One leaderboard line: a model's latest canonical result on a task."""

    model: str
    task: str
    stars: int | None
    wh: float
    low: float | None
    high: float | None
    hardware: str
    date: str


_COLUMNS = (
    ("model", "Model", "text"),
    ("stars", "Stars", "num"),
    ("wh", "Wh / 1000 queries (95 % CI)", "num"),
    ("hardware", "Hardware", "text"),
    ("date", "Date", "text"),
)


@dataclass(frozen=True)
class _Line:
    """One table row's values, as the template shows them."""

    model: str
    stars: int  # the sort key (0: unrated)
    stars_text: str
    stars_label: str
    wh_key: str  # the exact value, the sort key
    wh: str
    interval: tuple[str, str] | None  # the 95 % CI's ends
    hardware: str
    date: str


def _line(entry: Entry) -> _Line:
    interval = None
    if entry.low is not None and entry.high is not None:
        interval = (format_energy(entry.low), format_energy(entry.high))
    return _Line(
        model=entry.model,
        stars=entry.stars or 0,
        stars_text=stars_text(entry.stars) if entry.stars else "unrated",
        stars_label=f"{entry.stars} of 5 stars" if entry.stars else "unrated",
        wh_key=repr(entry.wh),
        wh=format_energy(entry.wh),
        interval=interval,
        hardware=entry.hardware,
        date=entry.date[:10],
    )


def render_page(entries: Sequence[Entry], *, title: str = "AI energy leaderboard") -> str:
    """The whole page, one table per task (sorted by energy, least first, until the reader sorts),
    each headed by its unit in the task's words (``Wh per 1000 captions written``)."""
    by_task: dict[str, list[_Line]] = {}
    for entry in sorted(entries, key=lambda x: (x.task, x.wh, x.model)):
        by_task.setdefault(entry.task, []).append(_line(entry))
    sections = [(task, energy_unit(task), lines) for task, lines in by_task.items()]
    return render("leaderboard.html", title=title, columns=_COLUMNS, sections=sections)


def page_csp() -> str:
    """The page's Content-Security-Policy: only its own inline script and style run (allowed by
    their sha256, computed from the template, so an injected script or style never would), nothing
    is loaded from anywhere, no form, no frame."""
    import base64
    import hashlib
    import re

    html = render_page([])
    hashes = {}
    for tag in ("script", "style"):
        blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S)
        hashes[tag] = " ".join(
            "'sha256-" + base64.b64encode(hashlib.sha256(b.encode("utf-8")).digest()).decode() + "'"
            for b in blocks
        )
    return (
        f"default-src 'none'; script-src {hashes['script']}; style-src {hashes['style']}; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
