"""The two HTML pages (the bulk report, the service's leaderboard) from their Jinja2 templates.

Nothing is simulated: the real templates are rendered with model ids, reasons and other values that
try to break out of an element, an attribute or a ``<textarea>``, and the output is read back with
the standard library's HTML tokenizer (the way a browser splits it into tags, attributes and text).
"""

from __future__ import annotations

import re
from dataclasses import fields
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import energy_badge
from energy_badge.bulk.report import render_html
from energy_badge.bulk.state import JobRow
from energy_badge.service.page import Entry, render_page
from energy_badge.templating import environment

# Closes an attribute and a textarea, opens a script and an element with an event handler, and
# carries an entity that must come back as the five characters "&amp;", not as "&".
HOSTILE = "\"'><script>alert(1)</script></textarea><b onmouseover=alert(2)>&amp;"
TEMPLATES = Path(energy_badge.__file__).parent / "templates"


class Tokens(HTMLParser):
    """Start tags (with their decoded attributes) and decoded text (with its element) of a page."""

    VOID = {"meta", "br", "link", "img", "input", "hr"}

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[tuple[str, str]] = []
        self.open: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> inside {self.open[-1:]}: markup was injected"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append((self.open[-1] if self.open else "", data))

    def texts(self, tag: str | None = None) -> list[str]:
        return [data for element, data in self.text if tag is None or element == tag]

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def assert_no_injected_markup(page: str, tokens: Tokens, own_scripts: int) -> None:
    assert len(tokens.named("script")) == own_scripts
    assert not tokens.named("textarea") and not tokens.named("b")
    assert not [attrs for _, attrs in tokens.tags if any(name.startswith("on") for name in attrs)]
    assert "<script>alert" not in page and "</textarea>" not in page and "<b " not in page


def job(job_id: int, **values: Any) -> JobRow:
    row: dict[str, Any] = {f.name: None for f in fields(JobRow)}
    row.update(
        id=job_id,
        revision="a" * 40,
        task="text-classification",
        workload_version="1.0.0",
        hardware_class="H100",
        attempts=1,
        publish_attempts=0,
        created_at="2026-11-21T09:30:00Z",
        updated_at="2026-11-21T09:30:00Z",
    )
    row.update(values)
    return JobRow(**row)


def test_the_bulk_report_shows_hostile_values_as_text():
    rows = [
        job(1, model=HOSTILE, status="failed", permanent=True, reason=HOSTILE, reason_code=HOSTILE),
        job(2, model="org/" + HOSTILE, status="published", canonical=True, stars=4, wh_per_1k=0.5,
            task=HOSTILE, hardware_class=HOSTILE, url="https://hf.example/org/m/commit/1?" + HOSTILE),
        job(3, model="org/js", status="published", canonical=True, stars=5, wh_per_1k=0.1,
            url="javascript:alert(3)//" + HOSTILE),
        job(4, model="org/skip", status="skipped", reason=HOSTILE, reason_code="opted-out"),
    ]  # fmt: skip
    runs = [{"id": 1, "started_at": HOSTILE, "finished_at": None, "outcome": HOSTILE}]
    problems = [{"source": HOSTILE, "line": 3, "text": HOSTILE, "reason": HOSTILE}]
    page = render_html(rows, title=HOSTILE, state_path=HOSTILE, runs=runs, problems=problems)
    tokens = Tokens(page)

    assert_no_injected_markup(page, tokens, own_scripts=0)
    # the only link is the https one, its URL intact in the attribute; javascript: stays text
    assert [a["href"] for a in tokens.named("a")] == ["https://hf.example/org/m/commit/1?" + HOSTILE]
    # every value is on the page as the reader should see it, character for character
    assert tokens.texts("title") == tokens.texts("h1") == [HOSTILE]
    # in <code>: the state file, the reason code, the model twice, the input line
    assert tokens.texts("code").count(HOSTILE) == 5
    # whole cells: the task and hardware in two tables, two reasons, the input line's reason
    assert tokens.texts("td").count(HOSTILE) == 7
    assert "".join(tokens.texts()).count(HOSTILE) == 20 and "javascript:" not in page


def test_the_leaderboard_shows_hostile_values_as_text():
    entries = [
        Entry(HOSTILE, HOSTILE, 3, 1.5, 1.4, 1.6, HOSTILE, HOSTILE),
        Entry("org/plain", "text-classification", None, 0.2, None, None, HOSTILE, "2026-11-21T00:00:00Z"),
    ]
    page = render_page(entries, title=HOSTILE)
    tokens = Tokens(page)

    assert_no_injected_markup(page, tokens, own_scripts=1)  # the page's own sorting script
    (own_script,) = [m for m in re.findall(r"<script>(.*?)</script>", page, re.S)]
    assert "alert" not in own_script
    assert [a["href"] for a in tokens.named("a")] == ["/results/" + HOSTILE, "/results/org/plain"]
    assert [t["data-task"] for t in tokens.named("table")] == [HOSTILE, "text-classification"]
    assert [h["id"] for h in tokens.named("h2")] == [HOSTILE, "text-classification"]
    assert tokens.texts("title") == tokens.texts("h1") == [HOSTILE]
    assert tokens.texts("h2") == [HOSTILE, "text-classification"]
    assert tokens.texts("a") == [HOSTILE, "org/plain"]
    assert tokens.texts("td").count(HOSTILE) == 2  # the hardware of both
    assert HOSTILE[:10] in tokens.texts("td")  # the date column shows ten characters, escaped too


def test_templates_autoescape_and_never_mark_values_safe():
    env = environment()
    names = sorted(p.name for p in TEMPLATES.iterdir() if p.is_file())
    assert names == ["bulk_report.html", "leaderboard.html"]  # pyproject ships templates/*.html
    for name in names:
        template = env.get_template(name)
        assert template.environment.autoescape is True, name
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        code = re.sub(r"\{#.*?#\}", "", source, flags=re.S)  # comments may name what is forbidden
        assert not re.search(r"\|\s*safe\b|Markup|autoescape\s+false", code), name
