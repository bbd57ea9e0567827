"""The render stage: a result and its rating drawn as a badge, a label, or shields.io JSON.

* :func:`badge_svg` - a flat, shields-style badge: ``AI energy | ★★★★☆ 0.42 Wh/1k``.
* :func:`label_svg` - an Energy-Star-like card: model, task, hardware, Wh per 1000 queries with
  its 95 % interval, the stars, where the value sits on the table's scale, date, workload and
  rating-table versions.
* :func:`shields_json` - the shields.io endpoint JSON (only the keys that endpoint documents).
* :func:`to_png` - any of the SVGs as PNG (cairosvg, imported when called).

Text is measured from the advance widths of DejaVu Sans (``data/fonts/dejavu-sans.json``, made
by ``tools/gen_font_metrics.py``; kerning ignored; a character the font lacks counts one em),
never from character counts. The SVGs name DejaVu Sans first in ``font-family`` and set each
text's ``textLength`` to its measured width, so renderers that kern or substitute a font still
draw it at the measured width. Text that cannot fit is shrunk, then shortened in the middle with
an ellipsis; the full text stays in the ``<title>`` and ``aria-label``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from energy_badge.text import ENERGY_UNIT, SHORT_UNIT, format_energy, format_interval, stars_text, utc_date

if TYPE_CHECKING:
    from energy_badge.rating import Rating
    from energy_badge.result import EnergyResult

FONT_FAMILY = "DejaVu Sans,Verdana,Geneva,sans-serif"
BADGE_LABEL = "AI energy"
UNIT = ENERGY_UNIT
SHIELDS_CACHE_SECONDS = 86400

# Colours by stars: hex for the SVGs, the shields.io named colour for the endpoint JSON.
STAR_COLORS = {5: "#44cc11", 4: "#97ca00", 3: "#dfb317", 2: "#fe7d37", 1: "#e05d44"}
SHIELDS_COLORS = {5: "brightgreen", 4: "green", 3: "yellow", 2: "orange", 1: "red"}
UNRATED_COLOR = "#9f9f9f"
UNRATED_SHIELDS_COLOR = "lightgrey"
LABEL_BG = "#555555"

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --------------------------------------------------------------------------------------------
# Text: metrics, numbers, XML


@cache
def _face(bold: bool) -> tuple[dict[int, int], int, int]:
    text = resources.files("energy_badge").joinpath("data").joinpath("fonts").joinpath("dejavu-sans.json")
    face = json.loads(text.read_text("utf-8"))["faces"]["bold" if bold else "normal"]
    advances: dict[int, int] = {}
    for first, *widths in face["spans"]:
        for offset, width in enumerate(widths):
            advances[first + offset] = width
    return advances, face["units_per_em"], face["fallback_advance"]


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in px of ``text`` set in DejaVu Sans at ``size`` px (sum of advances, no kerning).

    A character the font does not map counts one em.
    """
    advances, units, fallback = _face(bold)
    return sum(advances.get(ord(ch), fallback) for ch in text) * size / units


def fit_text(
    text: str, max_width: float, size: float, *, bold: bool = False, min_size: float | None = None
) -> tuple[str, float]:
    """Make ``text`` fit in ``max_width`` px: shrink it down to ``min_size``, then shorten it.

    Args:
        text: the text.
        max_width: the room, in px.
        size: the preferred font size.
        bold: measure the bold face.
        min_size: the smallest size allowed (default 80 % of ``size``).

    Returns:
        (text, size): the text (with ``…`` in the middle when shortened) and the font size; its
        :func:`text_width` is at most ``max_width``.
    """
    min_size = size * 0.8 if min_size is None else min_size
    width = text_width(text, size, bold=bold)
    if width <= max_width:
        return text, size
    size = max(min_size, math.floor(size * max_width / width * 2) / 2)
    if text_width(text, size, bold=bold) <= max_width:
        return text, size
    head, tail = text[: len(text) // 2], text[len(text) // 2 :]
    while head or tail:
        if len(head) >= len(tail):
            head = head[:-1]
        else:
            tail = tail[1:]
        short = head + "…" + tail
        if text_width(short, size, bold=bold) <= max_width:
            return short, size
    return "", size


def wrap_name(
    name: str, room: float, *, size: float = 17, small: float = 15, min_size: float = 11
) -> list[str]:
    """Split a model id into at most two lines that fit ``room`` px in bold.

    One line when it fits at ``size`` shrunk to no less than ``small``; else two lines broken after
    the last ``/``, ``-``, ``_`` or ``.`` that lets the first line fit at ``small``. The lines
    may still need shrinking or shortening (:func:`fit_text`) down to ``min_size``.
    """
    if text_width(name, small, bold=True) <= room:
        return [name]
    breaks = [i + 1 for i, ch in enumerate(name[:-1]) if ch in "/-_."]
    fitting = [i for i in breaks if text_width(name[:i], small, bold=True) <= room]
    if fitting:
        cut = fitting[-1]
    elif breaks:
        cut = breaks[0]
    else:
        cut = len(name) // 2
    return [name[:cut], name[cut:]]


def wrap_words(text: str, room: float, size: float, *, bold: bool = False, max_lines: int = 3) -> list[str]:
    """Break ``text`` at spaces into lines that fit ``room`` px; the last line may need shortening."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and text_width(trial, size, bold=bold) > room:
            lines.append(current)
            current = word
        else:
            current = trial
    lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return lines


def _cut_label(value: float) -> str:
    """A cut point with 3 significant digits (whole numbers from 100 up): 0.502, 74.5, 2900."""
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def _xml(text: str) -> str:
    return escape(_INVALID_XML.sub("", text), {'"': "&quot;"})


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _color(rating: Rating) -> str:
    return STAR_COLORS[rating.stars] if rating.stars else UNRATED_COLOR


def _text_color(background: str) -> str:
    """Dark text on light backgrounds, white on dark (perceived brightness, as badge-maker does)."""
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#333333" if (0.299 * r + 0.587 * g + 0.114 * b) / 255 > 0.69 else "#ffffff"


def badge_message(rating: Rating) -> str:
    """The badge's right-hand text: ``★★★★☆ 0.42 Wh/1k``, ``unrated 0.42 Wh/1k`` or ``unrated``."""
    value = "" if rating.value is None else f" {format_energy(rating.value)} {SHORT_UNIT}"
    return (stars_text(rating.stars) if rating.stars else "unrated") + value


def describe(result: EnergyResult | None, rating: Rating) -> str:
    """One sentence for screen readers and tooltips, e.g. ``AI energy: 4 of 5 stars, 0.42 Wh ...``.

    ``result`` is None for a model that has no result yet (the rating then says why).
    """
    if rating.stars:
        head = f"{BADGE_LABEL}: {rating.stars} of 5 stars"
    else:
        head = f"{BADGE_LABEL}: unrated"
    if rating.value is not None:
        head += f", {format_energy(rating.value)} {UNIT}"
    where = f"{rating.model_id}, {rating.task}"
    gpu = result.gpu_name if result is not None else None
    if rating.hardware_class or gpu:
        where += f" on {rating.hardware_class or gpu}"
    tail = f" ({where}; rating table {rating.table_version})"
    if not rating.stars and rating.unrated_reason:
        tail += f": {rating.unrated_reason}"
    return head + tail


def _text(
    x: float, y: float, text: str, size: float, *, bold: bool = False, anchor: str = "start", **attrs: str
) -> str:
    width = text_width(text, size, bold=bold)
    extra = "".join(f' {k.replace("_", "-")}="{_xml(str(v))}"' for k, v in attrs.items())
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}"{weight} text-anchor="{anchor}" '
        f'textLength="{_num(width)}" lengthAdjust="spacingAndGlyphs"{extra}>{_xml(text)}</text>'
    )


# --------------------------------------------------------------------------------------------
# Badge


BADGE_HEIGHT = 20
BADGE_FONT_SIZE = 11
BADGE_PADDING = 6


@dataclass(frozen=True)
class BadgeLayout:
    """The badge's geometry: the texts, their measured widths and the boxes' widths (px)."""

    label: str
    message: str
    label_text_width: float
    message_text_width: float
    label_box: int
    message_box: int
    width: int
    height: int


def badge_layout(rating: Rating) -> BadgeLayout:
    """The badge's geometry: the texts, their measured widths and the two boxes' widths (px)."""
    label, message = BADGE_LABEL, badge_message(rating)
    label_text_width = text_width(label, BADGE_FONT_SIZE)
    message_text_width = text_width(message, BADGE_FONT_SIZE)
    label_box = math.ceil(label_text_width) + 2 * BADGE_PADDING
    message_box = math.ceil(message_text_width) + 2 * BADGE_PADDING
    return BadgeLayout(
        label=label,
        message=message,
        label_text_width=label_text_width,
        message_text_width=message_text_width,
        label_box=label_box,
        message_box=message_box,
        width=label_box + message_box,
        height=BADGE_HEIGHT,
    )


def badge_svg(result: EnergyResult | None, rating: Rating) -> str:
    """Return a flat, shields-style SVG badge: ``AI energy | ★★★★☆ 0.42 Wh/1k``.

    The message box is coloured by stars (5 green ... 1 red, grey when unrated). ``result`` is None
    for a model that has no result yet.
    """
    lay = badge_layout(rating)
    color = _color(rating)
    fg = _text_color(color)
    title = _xml(describe(result, rating))
    w, h, lw, mw = lay.width, lay.height, lay.label_box, lay.message_box
    size = BADGE_FONT_SIZE
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'role="img" aria-label="{title}">',
        f"<title>{title}</title>",
        '<linearGradient id="eb-s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>',
        f'<clipPath id="eb-r"><rect width="{w}" height="{h}" rx="3" fill="#fff"/></clipPath>',
        f'<g clip-path="url(#eb-r)"><rect width="{lw}" height="{h}" fill="{LABEL_BG}"/>'
        f'<rect x="{lw}" width="{mw}" height="{h}" fill="{color}"/>'
        f'<rect width="{w}" height="{h}" fill="url(#eb-s)"/></g>',
        f'<g font-family="{FONT_FAMILY}">',
        _text(
            lw / 2,
            15,
            lay.label,
            size,
            anchor="middle",
            fill="#010101",
            fill_opacity=".3",
            aria_hidden="true",
        ),
        _text(lw / 2, 14, lay.label, size, anchor="middle", fill="#ffffff"),
    ]
    if fg == "#ffffff":
        parts.append(
            _text(
                lw + mw / 2,
                15,
                lay.message,
                size,
                anchor="middle",
                fill="#010101",
                fill_opacity=".3",
                aria_hidden="true",
            )
        )
    parts += [_text(lw + mw / 2, 14, lay.message, size, anchor="middle", fill=fg), "</g></svg>"]
    return "".join(parts) + "\n"


# --------------------------------------------------------------------------------------------
# Label


LABEL_WIDTH = 360
LABEL_MARGIN = 20


def _star_points(cx: float, cy: float, outer: float) -> str:
    inner = outer * 0.4
    points = []
    for k in range(10):
        radius = outer if k % 2 == 0 else inner
        angle = math.pi / 2 + k * math.pi / 5
        points.append(f"{_num(cx + radius * math.cos(angle))},{_num(cy - radius * math.sin(angle))}")
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
        self.parts.append(_text(x, y, text, size, bold=bold, anchor=anchor, **attrs))


def label_layout(result: EnergyResult, rating: Rating) -> tuple[list[str], list[LabelText], int, int]:
    """Build the label: its SVG elements, its texts (with measured extents), width and height."""
    card = _Card(LABEL_WIDTH)
    m, inner = LABEL_MARGIN, card.inner
    color = _color(rating)
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
        card.text(x_unit, 178, UNIT, 13, room=LABEL_WIDTH - m - x_unit, min_size=9, fill="#444444")
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
                f'<rect x="{_num(m + k * band_w)}" y="{y}" width="{_num(band_w)}" height="12" '
                f'fill="{STAR_COLORS[5 - k]}"/>'
            )
            card.text(
                m + (k + 0.5) * band_w,
                y + 10,
                f"{5 - k}★",
                9,
                anchor="middle",
                room=band_w,
                fill=_text_color(STAR_COLORS[5 - k]),
                aria_hidden="true",
            )
        for k, cut in enumerate(rating.cut_points, start=1):
            card.text(
                m + k * band_w, y + 26, _cut_label(cut), 9, anchor="middle", room=band_w, fill="#444444"
            )
        where = min(max(rating.position, 0.0), 1.0)
        x = m + where * inner
        p.append(
            f'<polygon points="{_num(x - 6)},{y - 9} {_num(x + 6)},{y - 9} {_num(x)},{y - 1}" '
            'fill="#111111"/>'
        )
    else:
        reason = "Not rated: " + (rating.unrated_reason or "no reason given")
        for i, line in enumerate(wrap_words(reason, inner, 10, max_lines=3)):
            card.text(m, y + 4 + 13 * i, line, 10, min_size=9, fill="#666666")
    # Footer
    date = utc_date(result.created_at)
    workload = f"workload {result.task} v{result.workload_version}"
    table = f"rating table {rating.table_version}"
    if rating.table_status != "measured":
        table += f" ({rating.table_status})"
    p.append(f'<line x1="{m}" y1="256" x2="{LABEL_WIDTH - m}" y2="256" stroke="#cccccc"/>')
    card.text(m, 272, f"{workload} · {table}", 10, min_size=8, fill="#555555")
    when = "measured" if rating.value is not None else "result of"
    card.text(m, 287, f"{when} {date} · energy-badge {result.tool_version}", 10, min_size=8, fill="#555555")
    if dy:
        p.append("</g>")
    return card.parts, card.texts, LABEL_WIDTH, 300 + dy


def label_svg(result: EnergyResult, rating: Rating) -> str:
    """Return an Energy-Star-like label card as SVG (360 x 300 px).

    It shows the model, task, hardware, Wh per 1000 queries with its 95 % interval, the stars,
    the five bands with their cut points and a marker where the value sits, the date, the
    workload version and the rating-table version (and its status when provisional).
    """
    parts, _, width, height = label_layout(result, rating)
    title = _xml(describe(result, rating))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="8" fill="#ffffff" stroke="#1f3d2b" '
        f'stroke-width="2"/>'
        f'<g font-family="{FONT_FAMILY}">' + "".join(parts) + "</g></svg>\n"
    )


# --------------------------------------------------------------------------------------------
# shields.io endpoint JSON and PNG


def shields_json(rating: Rating) -> dict[str, str | int]:
    """Return the shields.io endpoint JSON for the badge.

    Only keys the endpoint documents are used (it rejects unknown keys): ``schemaVersion`` 1,
    ``label``, ``message`` (never empty), ``color`` (a shields named colour), ``labelColor`` and
    ``cacheSeconds`` (one day: a rating changes only when the table or the result does).
    """
    return {
        "schemaVersion": 1,
        "label": BADGE_LABEL,
        "message": badge_message(rating),
        "color": SHIELDS_COLORS[rating.stars] if rating.stars else UNRATED_SHIELDS_COLOR,
        "labelColor": "grey",
        "cacheSeconds": SHIELDS_CACHE_SECONDS,
    }


def to_png(svg: str, *, scale: float = 1.0) -> bytes:
    """Render an SVG to PNG bytes with cairosvg (imported here, so the rest works without it).

    cairosvg is the optional ``png`` extra (``pip install 'energy-badge[png]'``), and it needs the
    system cairo library at import (cairocffi raises ``OSError`` without it).

    Args:
        svg: the SVG text.
        scale: pixels per SVG px (2 for a sharp image on high-density screens).

    Raises:
        UsageError: cairosvg is not installed, or the system cairo library is missing (one line,
            saying what to install).
    """
    from energy_badge.errors import UsageError

    try:
        import cairosvg
    except ImportError as exc:
        raise UsageError("PNG output needs the png extra: pip install 'energy-badge[png]'") from exc
    except OSError as exc:
        raise UsageError(
            "PNG output needs the system cairo library, which cairosvg could not load "
            "(Debian/Ubuntu: apt-get install libcairo2; Fedora: dnf install cairo; macOS: brew install cairo)"
        ) from exc
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
