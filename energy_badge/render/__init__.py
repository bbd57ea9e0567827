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

from energy_badge.render.badge import (
    BADGE_FONT_SIZE,
    BADGE_HEIGHT,
    BADGE_LABEL,
    BADGE_PADDING,
    SHIELDS_CACHE_SECONDS,
    BadgeLayout,
    badge_layout,
    badge_message,
    badge_svg,
    describe,
    shields_json,
)
from energy_badge.render.label import LABEL_MARGIN, LABEL_WIDTH, LabelText, label_layout, label_svg
from energy_badge.render.png import to_png
from energy_badge.render.svg import (
    FONT_FAMILY,
    SHIELDS_COLORS,
    STAR_COLORS,
    UNRATED_COLOR,
    UNRATED_SHIELDS_COLOR,
    fit_text,
    text_width,
    wrap_name,
    wrap_words,
)

__all__ = [
    "BADGE_FONT_SIZE",
    "BADGE_HEIGHT",
    "BADGE_LABEL",
    "BADGE_PADDING",
    "FONT_FAMILY",
    "LABEL_MARGIN",
    "LABEL_WIDTH",
    "SHIELDS_CACHE_SECONDS",
    "SHIELDS_COLORS",
    "STAR_COLORS",
    "UNRATED_COLOR",
    "UNRATED_SHIELDS_COLOR",
    "BadgeLayout",
    "LabelText",
    "badge_layout",
    "badge_message",
    "badge_svg",
    "describe",
    "fit_text",
    "label_layout",
    "label_svg",
    "shields_json",
    "text_width",
    "to_png",
    "wrap_name",
    "wrap_words",
]
