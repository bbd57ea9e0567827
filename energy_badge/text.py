"""Shared text formatting: energies, intervals, stars, percentages and one-line strings.

Every module that shows a figure to a person formats it here, so the badge, the label, the card,
the tables and the summaries write the same number the same way.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from energy_badge.multiplier import ReasoningMultiplier
    from energy_badge.run.reasoning import ReasoningRecord

__all__ = [
    "ENERGY_UNIT",
    "SHORT_UNIT",
    "format_energy",
    "format_interval",
    "format_value",
    "one_line",
    "parse_time",
    "pct",
    "reasoning_multiplier",
    "reasoning_text",
    "sampled_text",
    "stars_text",
    "utc_date",
    "utc_now",
]

ENERGY_UNIT = "Wh per 1000 queries"
SHORT_UNIT = "Wh/1k"
_NON_LINE = re.compile("[\u0000-\u001f\u007f-\u009f\u2028\u2029]+")


#: Beyond these magnitudes figures are written in scientific notation, so no figure, however
#: absurd, takes more than a few characters.
_PLAIN_RANGE = (1e-4, 1e6)


def format_energy(value: float) -> str:
    """Format an energy with 2-3 significant digits: 0.42, 1.3, 47, 123, 0.0051 (``1.2e+07``,
    ``3.4e-05`` outside 0.0001 to a million)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if not _PLAIN_RANGE[0] <= abs(value) < _PLAIN_RANGE[1]:
        return f"{value:.2g}"
    sign = "-" if value < 0 else ""
    value = float(f"{abs(value):.2g}") if abs(value) < 100 else abs(value)
    if value >= 100:
        return f"{sign}{value:.0f}"
    decimals = max(0, 1 - math.floor(math.log10(value)))
    return f"{sign}{value:.{decimals}f}"


def format_value(value: float | None) -> str:
    """A figure with 4 significant digits, for tables and comparisons (``-`` for None)."""
    return "-" if value is None else f"{value:.4g}"


def format_interval(low: float, high: float) -> tuple[str, str]:
    """Format an interval's ends with as few significant digits (2 to 4) as keep them apart.

    ``format_energy`` alone would print a tight interval such as 0.1771-0.1789 as "0.18 – 0.18".
    """
    ends = (format_energy(low), format_energy(high))
    for digits in (3, 4):
        if ends[0] != ends[1]:
            break
        ends = (_significant(low, digits), _significant(high, digits))
    return ends


def _significant(value: float, digits: int) -> str:
    if value == 0 or not math.isfinite(value):
        return format_energy(value)
    if not _PLAIN_RANGE[0] <= abs(value) < _PLAIN_RANGE[1]:
        return f"{value:.{digits}g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def stars_text(stars: int) -> str:
    """Filled and empty stars out of five: ``stars_text(4)`` is ``★★★★☆``."""
    return "★" * stars + "☆" * (5 - stars)


def pct(value: float, digits: int = 1) -> str:
    """A fraction as a signed percentage: ``-0.0823`` -> ``"−8.2 %"`` (``"±0.0 %"`` for zero)."""
    text = f"{100 * value:+.{digits}f}"
    if float(text) == 0:
        text = "±" + text[1:]
    return text.replace("-", "−") + " %"


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line (control characters and line separators become spaces), at most
    ``limit`` characters (cut with ``…``); ``-`` when nothing is left."""
    line = _NON_LINE.sub(" ", text).strip() or "-"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def parse_time(stamp: str) -> _dt.datetime | None:
    """An RFC 3339 time as an aware UTC datetime (any number of fractional digits, on Python 3.10
    too; no offset means UTC), or None when ``stamp`` is not one."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", stamp)
    if match is None:
        return None
    whole, fraction, offset = match.groups()
    try:
        when = _dt.datetime.fromisoformat(whole + (offset or "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return when.replace(microsecond=micro).astimezone(_dt.timezone.utc)


def utc_date(created_at: str) -> str:
    """The UTC date of an RFC 3339 time (the first 10 characters when it is not one)."""
    when = parse_time(created_at)
    return when.date().isoformat() if when is not None else created_at[:10]


def utc_now() -> str:
    """The current UTC time, RFC 3339 with whole seconds (``2026-11-21T09:30:00Z``)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def reasoning_text(record: ReasoningRecord, *, detail: bool = False) -> str:
    """How a run reasoned, in words: ``reasoning off``, ``reasoning on``, ``reasoning effort high``,
    ``reasoning always on (cannot be turned off)``; with ``detail``, the control, the cap and the
    tokens per query."""
    mode = record.effective
    if mode == "always":
        text = "reasoning always on (cannot be turned off)"
    elif mode in ("low", "medium", "high"):
        text = f"reasoning effort {mode}"
    else:
        text = f"reasoning {mode}"
    if not detail:
        return text
    parts = [f"{text} via {record.control}", f"template sha256 {record.template_sha256[:12]}…"]
    tokens = record.output_tokens
    if tokens is not None and record.max_new_tokens is not None:
        parts.append(
            f"{tokens.mean:.1f} tokens/query (p50 {tokens.p50:g}, p95 {tokens.p95:g}; "
            f"{100 * tokens.hit_cap:.0f} % hit the {record.max_new_tokens}-token cap)"
        )
    if record.gpu_wh_per_1k_output_tokens is not None:
        parts.append(f"{format_energy(record.gpu_wh_per_1k_output_tokens)} Wh per 1000 output tokens")
    if record.note:
        parts.append(record.note)
    return "; ".join(parts)


def reasoning_multiplier(multiplier: ReasoningMultiplier) -> str:
    """``reasoning on: 41× the energy per query (95 % interval 38–44×)`` (the on figure over the off
    figure; without an interval, only the multiplier)."""
    text = f"reasoning on: {_times(multiplier.ratio)}× the energy per query"
    if multiplier.ci95_low is not None and multiplier.ci95_high is not None:
        text += f" (95 % interval {_times(multiplier.ci95_low)}–{_times(multiplier.ci95_high)}×)"
    return text


def _times(ratio: float) -> str:
    return f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.2g}"


def sampled_text(measured: int, population: int) -> str:
    """How much of the workload a sampled-protocol figure ran: ``estimated from 120 of 1000 queries``."""
    return f"estimated from {measured} of {population} queries"
