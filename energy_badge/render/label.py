"""The label: an Energy-Star-like card (360 x 300 px) with the figure, its interval and the scale."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from energy_badge.render.badge import describe
from energy_badge.render.svg import (
    FONT_FAMILY,
    STAR_COLORS,
    UNRATED_COLOR,
    cut_label,
    fit_text,
    num,
    star_color,
    text_color,
    text_element,
    text_width,
    wrap_name,
    wrap_words,
    xml,
)
from energy_badge.tasks import energy_unit, query_phrase
from energy_badge.text import ENERGY_UNIT, format_energy, format_interval, utc_date

if TYPE_CHECKING:
    from energy_badge.multiplier import ReasoningMultiplier
    from energy_badge.rating import Rating
    from energy_badge.result import EnergyResult

__all__ = ["LABEL_MARGIN", "LABEL_WIDTH", "REASONING_LINE", "LabelText", "label_layout", "label_svg"]

UNIT = ENERGY_UNIT


LABEL_WIDTH = 360
LABEL_MARGIN = 20
#: How much taller the label is with the reasoning-on line (px).
REASONING_LINE = 15


def _star_points(cx: float, cy: float, outer: float) -> str:
    inner = outer * 0.4
    points = []
    for k in range(10):
        radius = outer if k % 2 == 0 else inner
        angle = math.pi / 2 + k * math.pi / 5
        points.append(f"{num(cx + radius * math.cos(angle))},{num(cy - radius * math.sin(angle))}")
    return " ".join(points)


@dataclass(frozen=True)
class LabelText:
    """One text of the label as laid out: its content, size, left edge, width and room (px)."""

    text: str
    size: float
    x: float
    width: float
    room: float


class _Card:
    """Collects a label's elements and checks each text fits its room."""

    def __init__(self, width: float) -> None:
        self.width = width
        self.inner = width - 2 * LABEL_MARGIN
        self.parts: list[str] = []
        self.texts: list[LabelText] = []

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        room: float | None = None,
        bold: bool = False,
        anchor: str = "start",
        min_size: float | None = None,
        **attrs: str,
    ) -> None:
        room = self.inner if room is None else room
        text, size = fit_text(text, room, size, bold=bold, min_size=min_size)
        width = text_width(text, size, bold=bold)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        self.texts.append(LabelText(text, size, left, width, room))
        self.parts.append(text_element(x, y, text, size, bold=bold, anchor=anchor, **attrs))


def label_layout(
    result: EnergyResult, rating: Rating, reasoning_on: ReasoningMultiplier | None = None
) -> tuple[list[str], list[LabelText], int, int]:
    """Build the label: its SVG elements, its texts (with measured extents), width and height.

    With ``reasoning_on`` (the model's reasoning-on multiplier) a last line says it and the label is
    :data:`REASONING_LINE` px taller.
    """
    card = _Card(LABEL_WIDTH)
    m, inner = LABEL_MARGIN, card.inner
    color = star_color(rating)
    p = card.parts
    # Header
    p.append(f'<rect x="1" y="1" width="{LABEL_WIDTH - 2}" height="38" rx="7" fill="#1f3d2b"/>')
    p.append(f'<rect x="1" y="24" width="{LABEL_WIDTH - 2}" height="15" fill="#1f3d2b"/>')
    card.text(m, 26, "AI ENERGY RATING", 15, bold=True, room=inner * 0.62, fill="#ffffff")
    card.text(
        LABEL_WIDTH - m, 26, "GPU energy, fixed workload", 10, anchor="end", room=inner * 0.36, fill="#d8e8dc"
    )
    # Model (one line, or two broken after "/", "-", "_" or "."), task, hardware
    lines = wrap_name(result.model_id, inner)
    for i, line in enumerate(lines):
        card.text(m, 66 + 19 * i, line, 17 if len(lines) == 1 else 15, bold=True, min_size=11, fill="#111111")
    dy = 19 * (len(lines) - 1)
    if dy:
        p.append(f'<g transform="translate(0 {dy})">')
    hardware = result.hardware_class or "unknown hardware"
    if result.gpu_name and result.gpu_name != result.hardware_class:
        hardware += f" ({result.gpu_name})"
    card.text(m, 86, f"{result.task} · {hardware}", 12, min_size=9, fill="#444444")
    # Stars
    for k in range(5):
        filled = rating.stars is not None and k < rating.stars
        fill = color if filled else "#ffffff"
        stroke = color if rating.stars else UNRATED_COLOR
        p.append(
            f'<polygon points="{_star_points(m + 16 + k * 36, 122, 16)}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="1.5" stroke-linejoin="round"/>'
        )
    stars_right = m + 16 + 4 * 36 + 16 + 14
    if rating.stars:
        card.text(
            stars_right,
            130,
            f"{rating.stars} of 5",
            20,
            bold=True,
            room=LABEL_WIDTH - m - stars_right,
            fill="#111111",
        )
    else:
        card.text(
            stars_right, 130, "unrated", 20, bold=True, room=LABEL_WIDTH - m - stars_right, fill="#666666"
        )
    # Energy
    if rating.value is not None:
        number = format_energy(rating.value)
        card.text(m, 178, number, 30, bold=True, room=inner * 0.5, fill="#111111")
        number_width = card.texts[-1].width
        x_unit = m + number_width + 8
        unit, room = energy_unit(result.task), LABEL_WIDTH - m - x_unit
        if text_width(unit, 11) <= room:
            card.text(x_unit, 178, unit, 13, room=room, min_size=11, fill="#444444")
        else:  # what a query is, on a line of its own beside the number: legible, never cut
            card.text(x_unit, 164, "Wh per 1000", 11, room=room, min_size=9, fill="#444444")
            card.text(x_unit, 178, query_phrase(result.task), 11, room=room, min_size=8, fill="#444444")
        ci = "95 % interval not available (one run)"
        if rating.ci95_low is not None and rating.ci95_high is not None:
            low, high = format_interval(rating.ci95_low, rating.ci95_high)
            ci = f"95 % interval {low} – {high}"
            if rating.stars_ci and rating.stars_ci[0] != rating.stars_ci[1]:
                ci += f" ({rating.stars_ci[0]}–{rating.stars_ci[1]} stars within it)"
        card.text(m, 198, ci, 11, min_size=9, fill="#444444")
    else:
        card.text(m, 178, "not measured", 24, bold=True, fill="#666666")
    # Scale: five bands from least energy (5 stars, left) to most (1 star, right)
    y = 214
    if rating.stars and rating.cut_points is not None and rating.position is not None:
        band_w = inner / 5
        for k in range(5):
            p.append(
                f'<rect x="{num(m + k * band_w)}" y="{y}" width="{num(band_w)}" height="12" '
                f'fill="{STAR_COLORS[5 - k]}"/>'
            )
            card.text(
                m + (k + 0.5) * band_w,
                y + 10,
                f"{5 - k}★",
                9,
                anchor="middle",
                room=band_w,
                fill=text_color(STAR_COLORS[5 - k]),
                aria_hidden="true",
            )
        for k, cut in enumerate(rating.cut_points, start=1):
            card.text(m + k * band_w, y + 26, cut_label(cut), 9, anchor="middle", room=band_w, fill="#444444")
        where = min(max(rating.position, 0.0), 1.0)
        x = m + where * inner
        p.append(
            f'<polygon points="{num(x - 6)},{y - 9} {num(x + 6)},{y - 9} {num(x)},{y - 1}" fill="#111111"/>'
        )
    else:
        reason = "Not rated: " + (rating.unrated_reason or "no reason given")
        for i, line in enumerate(wrap_words(reason, inner, 10, max_lines=3)):
            card.text(m, y + 4 + 13 * i, line, 10, min_size=9, fill="#666666")
    # Footer
    date = utc_date(result.created_at)
    workload = f"workload {result.task} v{result.workload_version}"
    if result.workload.reasoning is not None:
        from energy_badge.text import reasoning_text

        workload += f" · {reasoning_text(result.workload.reasoning)}"
    sampling = result.measurement.sampling
    if sampling is not None and sampling.protocol == "sampled":
        from energy_badge.text import sampled_text

        workload += f" · {sampled_text(len(sampling.indices), sampling.population)}"
    table = f"rating table {rating.table_version}"
    if rating.table_status != "measured":
        table += f" ({rating.table_status})"
    p.append(f'<line x1="{m}" y1="256" x2="{LABEL_WIDTH - m}" y2="256" stroke="#cccccc"/>')
    card.text(m, 272, f"{workload} · {table}", 10, min_size=8, fill="#555555")
    when = "measured" if rating.value is not None else "result of"
    card.text(m, 287, f"{when} {date} · energy-badge {result.tool_version}", 10, min_size=8, fill="#555555")
    if reasoning_on is not None:
        from energy_badge.text import reasoning_multiplier

        card.text(m, 287 + REASONING_LINE, reasoning_multiplier(reasoning_on), 10, min_size=8, fill="#555555")
    if dy:
        p.append("</g>")
    return card.parts, card.texts, LABEL_WIDTH, 300 + dy + (REASONING_LINE if reasoning_on is not None else 0)


def label_svg(result: EnergyResult, rating: Rating, reasoning_on: ReasoningMultiplier | None = None) -> str:
    """Return an Energy-Star-like label card as SVG (360 x 300 px).

    It shows the model, task, hardware, Wh per 1000 queries (in the task's words: Wh per 1000
    captions written, :func:`energy_badge.tasks.energy_unit`) with its 95 % interval, the stars,
    the five bands with their cut points and a marker where the value sits, the date, the
    workload version and the rating-table version (and its status when provisional). With
    ``reasoning_on`` (a model measured in both modes: :func:`energy_badge.multiplier.reasoning_multiplier`),
    a last line says ``reasoning on: 41× the energy per query (95 % interval 38–44×)``.
    """
    parts, _, width, height = label_layout(result, rating, reasoning_on)
    title = xml(describe(result, rating, reasoning_on))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="8" fill="#ffffff" stroke="#1f3d2b" '
        f'stroke-width="2"/>'
        f'<g font-family="{FONT_FAMILY}">' + "".join(parts) + "</g></svg>\n"
    )
