"""SVG building blocks shared by the badge and the label: measured text, colours, escaping.

Text is measured from the advance widths of DejaVu Sans (``data/fonts/dejavu-sans.json``, made
by ``tools/gen_font_metrics.py``; kerning ignored; a character the font lacks counts one em),
never from character counts.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from energy_badge.rating import Rating

__all__ = [
    "FONT_FAMILY",
    "LABEL_BG",
    "SHIELDS_COLORS",
    "STAR_COLORS",
    "UNRATED_COLOR",
    "UNRATED_SHIELDS_COLOR",
    "bounded",
    "cut_label",
    "fit_text",
    "num",
    "star_color",
    "text_color",
    "text_element",
    "text_width",
    "wrap_name",
    "wrap_words",
    "xml",
]

FONT_FAMILY = "DejaVu Sans,Verdana,Geneva,sans-serif"

# Colours by stars: hex for the SVGs, the shields.io named colour for the endpoint JSON.
STAR_COLORS = {5: "#44cc11", 4: "#97ca00", 3: "#dfb317", 2: "#fe7d37", 1: "#e05d44"}
SHIELDS_COLORS = {5: "brightgreen", 4: "green", 3: "yellow", 2: "orange", 1: "red"}
UNRATED_COLOR = "#9f9f9f"
UNRATED_SHIELDS_COLOR = "lightgrey"
LABEL_BG = "#555555"

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@cache
def _face(bold: bool) -> tuple[dict[int, int], int, int]:
    text = resources.files("energy_badge").joinpath("data").joinpath("fonts").joinpath("dejavu-sans.json")
    face = json.loads(text.read_text("utf-8"))["faces"]["bold" if bold else "normal"]
    advances: dict[int, int] = {}
    for first, *widths in face["spans"]:
        for offset, width in enumerate(widths):
            advances[first + offset] = width
    return advances, face["units_per_em"], face["fallback_advance"]


#: The most characters any text is laid out with: far more than a badge or a label can show, and
#: a bound on the layout's work whatever a result holds (a 100 000-character model id).
MAX_LAYOUT_CHARS = 300


def bounded(text: str, limit: int = MAX_LAYOUT_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, with ``…`` in the middle when cut."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2 :]


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
    text = bounded(text)
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
    name = bounded(name)
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
    for word in bounded(text).split():
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


def cut_label(value: float) -> str:
    """A cut point with 3 significant digits (whole numbers from 100 up): 0.502, 74.5, 2900."""
    return f"{value:.0f}" if 100 <= value < 1e6 else f"{value:.3g}"


def xml(text: str) -> str:
    return escape(_INVALID_XML.sub("", text), {'"': "&quot;"})


def num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def star_color(rating: Rating) -> str:
    return STAR_COLORS[rating.stars] if rating.stars else UNRATED_COLOR


def text_color(background: str) -> str:
    """Dark text on light backgrounds, white on dark (perceived brightness, as badge-maker does)."""
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    return "#333333" if (0.299 * r + 0.587 * g + 0.114 * b) / 255 > 0.69 else "#ffffff"


def text_element(
    x: float, y: float, text: str, size: float, *, bold: bool = False, anchor: str = "start", **attrs: str
) -> str:
    width = text_width(text, size, bold=bold)
    extra = "".join(f' {k.replace("_", "-")}="{xml(str(v))}"' for k, v in attrs.items())
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}"{weight} text-anchor="{anchor}" '
        f'textLength="{num(width)}" lengthAdjust="spacingAndGlyphs"{extra}>{xml(text)}</text>'
    )
