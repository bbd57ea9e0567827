"""The leaderboard page: one table per task, sortable by a few lines of inline JS.

Self-contained (inline CSS and JS, no external assets, no web fonts: it works offline) and readable
on a phone (the table scrolls sideways inside its box; the type scales). Every value from the state
is HTML-escaped. The sort can be given in the fragment, ``/#sort=wh`` or ``/#sort=-stars``
(a leading ``-``: descending), so a link can carry it; clicking a header sorts by that column.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from energy_badge.render import format_energy, stars_text

__all__ = ["Entry", "render_page"]


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


_CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1b;--mute:#666;--line:#ddd;--head:#f3f3f3}
@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#eee;--mute:#aaa;--line:#333;--head:#1e1e1e}}
*{box-sizing:border-box}
body{margin:0;padding:1rem;background:var(--bg);color:var(--fg);
font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
p{color:var(--mute);margin:.25rem 0 1rem;max-width:50rem}
.wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;min-width:34rem}
th,td{padding:.45rem .6rem;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap}
th{background:var(--head);cursor:pointer;user-select:none;font-weight:600}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.stars{color:#c99700;letter-spacing:1px}
.ci{color:var(--mute);font-size:.85em}
@media (max-width:600px){body{padding:.6rem;font-size:15px}
table{min-width:0}thead tr{display:flex;flex-wrap:wrap}th{flex:1 1 auto;padding:.4rem;font-size:.85rem}
tbody tr{display:grid;grid-template-columns:1fr auto;border-bottom:1px solid var(--line);padding:.3rem 0}
tbody td{border:none;padding:.1rem .5rem;white-space:normal;text-align:left}
tbody td:first-child{grid-column:1/-1;font-weight:600;overflow-wrap:anywhere}
td[data-label]::before{content:attr(data-label) ": ";color:var(--mute)}}
"""

_JS = """
(function(){
function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent:v}
function sortTable(table,col,desc){
 var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows),th=table.tHead.rows[0].cells;
 var num=th[col].getAttribute('data-type')==='num';
 rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
  var c=num?(parseFloat(x)||0)-(parseFloat(y)||0):x.localeCompare(y);return desc?-c:c});
 rows.forEach(function(r){body.appendChild(r)});
 for(var i=0;i<th.length;i++){th[i].removeAttribute('aria-sort')}
 th[col].setAttribute('aria-sort',desc?'descending':'ascending');
 table.setAttribute('data-sorted',th[col].getAttribute('data-key')+(desc?':desc':':asc'));
}
var tables=document.querySelectorAll('table.board');
Array.prototype.forEach.call(tables,function(table){
 var th=table.tHead.rows[0].cells;
 Array.prototype.forEach.call(th,function(h,i){h.addEventListener('click',function(){
  sortTable(table,i,h.getAttribute('aria-sort')==='ascending')})});
});
var m=/sort=(-?)([a-z]+)/.exec(location.hash||location.search);
if(m){Array.prototype.forEach.call(tables,function(table){
 var th=table.tHead.rows[0].cells;
 for(var i=0;i<th.length;i++){if(th[i].getAttribute('data-key')===m[2]){sortTable(table,i,m[1]==='-')}}
})}
})();
"""

_COLUMNS = (
    ("model", "Model", "text"),
    ("stars", "Stars", "num"),
    ("wh", "Wh / 1000 queries (95 % CI)", "num"),
    ("hardware", "Hardware", "text"),
    ("date", "Date", "text"),
)


def _fmt(value: float) -> str:
    return format_energy(value)


def _row(entry: Entry) -> str:
    e = html.escape
    stars = stars_text(entry.stars) if entry.stars else "unrated"
    interval = ""
    if entry.low is not None and entry.high is not None:
        interval = f' <span class="ci">[{e(_fmt(entry.low))}–{e(_fmt(entry.high))}]</span>'
    label = f"{entry.stars} of 5 stars" if entry.stars else "unrated"
    return (
        f'<tr><td><a href="/results/{e(entry.model)}">{e(entry.model)}</a></td>'
        f'<td data-v="{entry.stars or 0}"><span class="stars" aria-label="{label}">{stars}</span></td>'
        f'<td class="num" data-v="{entry.wh!r}">{e(_fmt(entry.wh))}{interval}</td>'
        f'<td data-label="hardware">{e(entry.hardware)}</td>'
        f'<td data-label="date">{e(entry.date[:10])}</td></tr>'
    )


def render_page(entries: Sequence[Entry], *, title: str = "AI energy leaderboard") -> str:
    """The whole page, one table per task (sorted by energy, least first, until the reader sorts)."""
    e = html.escape
    by_task: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda x: (x.task, x.wh, x.model)):
        by_task.setdefault(entry.task, []).append(entry)
    head = "".join(
        f'<th scope="col" data-key="{k}" data-type="{t}"{" aria-sort=ascending" if k == "wh" else ""}>'
        f"{e(label)}</th>"
        for k, label, t in _COLUMNS
    )
    sections = []
    for task, rows in by_task.items():
        sections.append(
            f'<section><h2 id="{e(task)}">{e(task)}</h2><div class="wrap">'
            f'<table class="board" data-task="{e(task)}" data-sorted="wh:asc"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(_row(r) for r in rows)}</tbody></table></div></section>"
        )
    if not sections:
        sections.append("<p id=empty>No model has been measured yet.</p>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{e(title)}</h1><p>GPU energy per 1000 queries of each task's fixed workload, batch size 1, "
        "from each model's latest canonical result; 5★ uses the least energy. Click a column to sort.</p>"
        f"{''.join(sections)}<script>{_JS}</script></body></html>"
    )
