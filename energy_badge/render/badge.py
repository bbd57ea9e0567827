"""The badge: a flat, shields-style SVG (``AI energy | ★★★★☆ 0.42 Wh/1k texts``) and its shields.io JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from energy_badge.render.svg import (
    FONT_FAMILY,
    LABEL_BG,
    SHIELDS_COLORS,
    UNRATED_SHIELDS_COLOR,
    bounded,
    star_color,
    text_color,
    text_element,
    text_width,
    xml,
)
from energy_badge.tasks import energy_unit, query_noun
from energy_badge.text import ENERGY_UNIT, SHORT_UNIT, format_energy, stars_text

if TYPE_CHECKING:
    from energy_badge.multiplier import ReasoningMultiplier
    from energy_badge.rating import Rating
    from energy_badge.result import EnergyResult

__all__ = [
    "BADGE_FONT_SIZE",
    "BADGE_HEIGHT",
    "BADGE_LABEL",
    "BADGE_PADDING",
    "SHIELDS_CACHE_SECONDS",
    "BadgeLayout",
    "badge_layout",
    "badge_message",
    "badge_svg",
    "describe",
    "shields_json",
]

BADGE_LABEL = "AI energy"
UNIT = ENERGY_UNIT
SHIELDS_CACHE_SECONDS = 86400


def badge_message(rating: Rating) -> str:
    """The badge's right-hand text: ``★★★★☆ 0.42 Wh/1k texts``, ``unrated 0.42 Wh/1k captions`` or
    ``unrated`` (the word after ``Wh/1k`` says what a query of the task is: :mod:`energy_badge.tasks`)."""
    unit = f"{SHORT_UNIT} {query_noun(rating.task)}"
    value = "" if rating.value is None else f" {format_energy(rating.value)} {unit}"
    return (stars_text(rating.stars) if rating.stars else "unrated") + value


def describe(
    result: EnergyResult | None, rating: Rating, reasoning_on: ReasoningMultiplier | None = None
) -> str:
    """One sentence for screen readers and tooltips, e.g. ``AI energy: 4 of 5 stars, 0.42 Wh per 1000
    captions written (org/model, image-to-text on H100; rating table ...)``.

    ``result`` is None for a model that has no result yet (the rating then says why).
    ``reasoning_on``: the model's reasoning-on multiplier, when both modes were measured
    (:func:`energy_badge.multiplier.reasoning_multiplier`): ``; reasoning on: 41× the energy per query``.
    """
    if rating.stars:
        head = f"{BADGE_LABEL}: {rating.stars} of 5 stars"
    else:
        head = f"{BADGE_LABEL}: unrated"
    if rating.value is not None:
        head += f", {format_energy(rating.value)} {energy_unit(rating.task)}"
        sampling = result.measurement.sampling if result is not None else None
        if sampling is not None and sampling.protocol == "sampled":
            from energy_badge.text import sampled_text

            head += f" ({sampled_text(len(sampling.indices), sampling.population)})"
    where = f"{bounded(rating.model_id)}, {rating.task}"
    if result is not None and result.workload.reasoning is not None:
        from energy_badge.text import reasoning_text

        mode = reasoning_text(result.workload.reasoning)
        if reasoning_on is not None:
            from energy_badge.text import reasoning_multiplier

            mode += f"; {reasoning_multiplier(reasoning_on)}"
        where += f" ({mode})"
    gpu = result.gpu_name if result is not None else None
    if rating.hardware_class or gpu:
        where += f" on {bounded(rating.hardware_class or gpu or '')}"
    tail = f" ({where}; rating table {bounded(rating.table_version)})"
    if not rating.stars and rating.unrated_reason:
        tail += f": {bounded(rating.unrated_reason, 1000)}"
    return head + tail


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


def badge_svg(
    result: EnergyResult | None, rating: Rating, reasoning_on: ReasoningMultiplier | None = None
) -> str:
    """Return a flat, shields-style SVG badge: ``AI energy | ★★★★☆ 0.42 Wh/1k texts``.

    The message box is coloured by stars (5 green ... 1 red, grey when unrated). ``result`` is None
    for a model that has no result yet. ``reasoning_on`` (the reasoning-on multiplier) goes into
    the description (:func:`describe`).
    """
    lay = badge_layout(rating)
    color = star_color(rating)
    fg = text_color(color)
    title = xml(describe(result, rating, reasoning_on))
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
        text_element(
            lw / 2,
            15,
            lay.label,
            size,
            anchor="middle",
            fill="#010101",
            fill_opacity=".3",
            aria_hidden="true",
        ),
        text_element(lw / 2, 14, lay.label, size, anchor="middle", fill="#ffffff"),
    ]
    if fg == "#ffffff":
        parts.append(
            text_element(
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
    parts += [text_element(lw + mw / 2, 14, lay.message, size, anchor="middle", fill=fg), "</g></svg>"]
    return "".join(parts) + "\n"


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
