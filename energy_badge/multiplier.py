"""How many times one result's GPU energy is another's, with its 95 % interval: the one rule
``compare`` (relative change) and the reasoning-on multiplier on the card, badge and label use.

The interval of a ratio of two independent means is taken in log space: each side's relative
half-width ``h = (ci95_high - ci95_low) / 2 / mean``, combined as ``sqrt(h_a² + h_b²)``, and the
ratio ``r`` bounded by ``r · exp(-h)`` and ``r · exp(h)`` (always positive, symmetric in log).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from energy_badge.errors import UsageError

if TYPE_CHECKING:
    from energy_badge.result import EnergyResult

__all__ = [
    "ReasoningMultiplier",
    "check_reasoning_pair",
    "energy_multiplier",
    "ratio_bounds",
    "reasoning_multiplier",
    "relative_half_width",
]


@dataclass(frozen=True)
class ReasoningMultiplier:
    """The reasoning-on result's GPU energy per query over the reasoning-off result's.

    Attributes:
        ratio: on mean / off mean (Wh per 1000 queries each).
        ci95_low, ci95_high: its 95 % interval, propagated from both results' intervals (None when
            either result has no interval).
        on_mean, on_ci95_low, on_ci95_high: the reasoning-on result's GPU Wh per 1000 queries and its
            95 % interval (None without one).
    """

    ratio: float
    ci95_low: float | None
    ci95_high: float | None
    on_mean: float
    on_ci95_low: float | None
    on_ci95_high: float | None


def relative_half_width(mean: float, low: float | None, high: float | None) -> float | None:
    """The interval's half-width over the mean (None without an interval or with a zero mean)."""
    if low is None or high is None or mean == 0:
        return None
    return (high - low) / 2 / abs(mean)


def ratio_bounds(ratio: float, half_widths: tuple[float, ...]) -> tuple[float, float]:
    """The 95 % interval of ``ratio`` given each side's relative half-width (see the module docstring)."""
    h = math.hypot(*half_widths)
    return ratio * math.exp(-h), ratio * math.exp(h)


def energy_multiplier(off: EnergyResult, on: EnergyResult) -> ReasoningMultiplier | None:
    """``on``'s GPU energy per query over ``off``'s, with its interval; no check of what they are.

    Args:
        off: the result divided by (reasoning off).
        on: the result divided (reasoning on).

    Returns:
        The multiplier, or None when either has no GPU energy or ``off``'s mean is not positive.
    """
    a, b = off.gpu_energy, on.gpu_energy
    if a is None or b is None or a.mean <= 0:
        return None
    ratio = b.mean / a.mean
    ha = relative_half_width(a.mean, a.ci95_low, a.ci95_high)
    hb = relative_half_width(b.mean, b.ci95_low, b.ci95_high)
    low: float | None = None
    high: float | None = None
    if ha is not None and hb is not None:
        low, high = ratio_bounds(ratio, (ha, hb))
    return ReasoningMultiplier(
        ratio=ratio,
        ci95_low=low,
        ci95_high=high,
        on_mean=b.mean,
        on_ci95_low=b.ci95_low,
        on_ci95_high=b.ci95_high,
    )


def check_reasoning_pair(off: EnergyResult, on: EnergyResult) -> None:
    """Raise :class:`UsageError` (one line) unless ``on`` is ``off``'s model measured with reasoning on.

    Both must be ``text-generation`` results of the same model id and hardware class, ``off`` with
    reasoning off and ``on`` with reasoning on (any mode that reasons), each with its GPU energy and
    95 % interval.
    """
    from energy_badge.run.reasoning import is_reasoning

    if off.model_id != on.model_id:
        raise UsageError(
            f"the reasoning-on result is of another model ({on.model_id}, not {off.model_id}): give the "
            "same model's result measured with --reasoning on"
        )
    for name, result in (("the result", off), ("the reasoning-on result", on)):
        if result.task != "text-generation":
            raise UsageError(f"{name} is a {result.task} result: reasoning on and off is for text-generation")
    if off.hardware_class != on.hardware_class:
        raise UsageError(
            f"the reasoning-on result is of another hardware class ({on.hardware_class}, not "
            f"{off.hardware_class}): compare the two modes on the same hardware"
        )
    if off.workload.reasoning is None or off.workload.reasoning.effective != "off":
        raise UsageError("the result must be measured with reasoning off (measure --reasoning off)")
    if not is_reasoning(on.workload.reasoning):
        raise UsageError("the reasoning-on result did not reason (measure --reasoning on)")
    for name, result in (("the result", off), ("the reasoning-on result", on)):
        energy = result.gpu_energy
        if energy is None or energy.ci95_low is None or energy.ci95_high is None or energy.mean <= 0:
            raise UsageError(f"{name} has no GPU energy with a 95 % interval")


def reasoning_multiplier(off: EnergyResult, on: EnergyResult) -> ReasoningMultiplier:
    """The reasoning-on multiplier of a model measured in both modes (``reasoning on: 41×``).

    Args:
        off: the model's result with reasoning off (the one on the card).
        on: the same model's result with reasoning on.

    Returns:
        The multiplier with its 95 % interval.

    Raises:
        UsageError: the two are not one model's off and on results (:func:`check_reasoning_pair`).
    """
    check_reasoning_pair(off, on)
    multiplier = energy_multiplier(off, on)
    assert multiplier is not None and multiplier.ci95_low is not None  # checked above
    return multiplier
