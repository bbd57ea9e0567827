"""The stop rule, the outlier guard and the drift check: pure functions of the repetitions so far.

The loop (:mod:`energy_badge.meter.loop`) calls :func:`find_outlier` after each energy window,
then :func:`decide`; :func:`outcome` gives the phase's figure and what its interval means.
``benchmarks/coverage.py`` drives the same loop with simulated windows and prints the coverage
of the intervals and the repetitions they cost.

The rule (:data:`STOP_RULE`), for GPU Wh per 1000 queries over the *kept* repetitions:

* **Stop early** once at least ``min_repetitions`` are kept, no drift has been seen, and the
  Student's t 95 % half-width is at most :data:`STOP_MARGIN` of ``target_ci_rel`` (so 0.75 % for
  the default 1 % target). The interval then reported is the mean +- the target (a fixed-width
  interval): the t interval of an early stop is too narrow on average, because a run stops early
  precisely when its spread happens to look small (simulated: 0.925 coverage at 1 % noise), while
  the target's width keeps 95 % coverage at every noise level.
* **Otherwise** the rule runs ``max_repetitions`` windows in all (dropped ones count) and reports
  the t interval of the kept ones; ``target_met`` then says whether it is within the target.
* **Outliers** (:func:`find_outlier`): with at least :data:`OUTLIER_MIN_KEPT` kept, the repetition
  farthest from the median is dropped when its robust z (distance to the median over 1.4826 MAD,
  the MAD floored at :data:`OUTLIER_SCALE_FLOOR` of the median) exceeds :data:`OUTLIER_Z` *and* a
  leave-one-out prediction test confirms it (its distance to the others' mean over their standard
  deviation, Student's t at :data:`OUTLIER_ALPHA` shared over the repetitions). MAD alone, with
  four to six values, flags ordinary noise too often (simulated: 16 % of runs at 3 % noise);
  the confirmation keeps false drops rare (about 0.5 %) while a +10 % repetition at 0.5 % noise
  is still caught. At most ``max(1, max_repetitions // 4)`` repetitions are dropped per phase,
  and only while the budget can still end with ``min_repetitions`` kept (a run of exactly N
  repetitions never drops one); each dropped window is re-run within the budget.
* **Drift** (:func:`find_drift`): the GPU is still warming (its temperature after the windows rose
  by at least :data:`DRIFT_MIN_RISE_C` and by :data:`DRIFT_WARMING_C` per repetition on average),
  or the kept repetitions trend (least-squares slope significant at :data:`DRIFT_ALPHA`, from
  three on, and moving the energy by at least :data:`DRIFT_MIN_CHANGE` of the target). A phase
  that drifts never stops early: its figure is the average over the whole budget, and the
  result says so.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from energy_badge.meter.records import Drift, MeterConfig, StopOutcome, StopReason
from energy_badge.stats import Stats, summarize, t975

__all__ = [
    "DRIFT_ALPHA",
    "DRIFT_MIN_CHANGE",
    "DRIFT_MIN_RISE_C",
    "DRIFT_WARMING_C",
    "OUTLIER_ALPHA",
    "OUTLIER_MIN_KEPT",
    "OUTLIER_SCALE_FLOOR",
    "OUTLIER_Z",
    "STOP_MARGIN",
    "STOP_RULE",
    "Decision",
    "Outlier",
    "decide",
    "find_drift",
    "find_outlier",
    "max_drops",
    "outcome",
]

#: The rule's name, recorded in every result it produced.
STOP_RULE = "fixed-width-sequential-t/1"
#: Stop early once the t half-width is at most this fraction of the target.
STOP_MARGIN = 0.75
#: Robust z (distance to the median over 1.4826 MAD) beyond which a repetition is a candidate outlier.
OUTLIER_Z = 5.0
#: The MAD scale never counts as less than this fraction of the median.
OUTLIER_SCALE_FLOOR = 0.005
#: Level of the leave-one-out test that confirms a candidate, shared over the kept repetitions.
OUTLIER_ALPHA = 0.001
#: The guard looks for outliers once this many repetitions are kept.
OUTLIER_MIN_KEPT = 4
#: A GPU warming by at least this much per repetition (and :data:`DRIFT_MIN_RISE_C` in all) drifts.
DRIFT_WARMING_C = 1.0
DRIFT_MIN_RISE_C = 2.0

#: Level of the trend test (two-sided).
DRIFT_ALPHA = 0.01
#: A trend counts only if it moves the energy by at least this fraction of the target across the
#: kept repetitions.
DRIFT_MIN_CHANGE = 0.25
# Two-sided 99 % quantiles t_{0.995, df} of Student's t for df = 1..8 (scipy.stats.t.ppf): the
# trend test's critical values for 3..10 kept repetitions.
_TREND_T = {1: 63.657, 2: 9.925, 3: 5.841, 4: 4.604, 5: 4.032, 6: 3.707, 7: 3.499, 8: 3.355}
# Two-sided quantiles t_{1 - OUTLIER_ALPHA / (2 n), n - 2} of Student's t for n = 4..10 kept
# repetitions (scipy.stats.t.ppf), the leave-one-out test's critical values.
_LOO_T = {4: 63.234, 5: 22.204, 6: 13.653, 7: 10.381, 8: 8.729, 9: 7.755, 10: 7.12}
_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Outlier:
    """A repetition the guard drops.

    Attributes:
        position: its position among the kept values given to :func:`find_outlier`.
        detail: the numbers behind the decision, in words.
    """

    position: int
    detail: str


@dataclass(frozen=True)
class Decision:
    """What the rule says after a repetition.

    Attributes:
        stop: why to stop now, or None to run another repetition.
        drift: the drift check so far.
    """

    stop: StopReason | None
    drift: Drift


def max_drops(config: MeterConfig) -> int:
    """The most repetitions the guard may drop in one phase: ``max(1, max_repetitions // 4)``."""
    return max(1, config.max_repetitions // 4)


def find_outlier(values: Sequence[float]) -> Outlier | None:
    """The one repetition to drop from ``values`` (the kept repetitions' Wh/1k), or None.

    Args:
        values: the kept repetitions' values, in order.

    Returns:
        The most extreme value when both the median/MAD screen and the leave-one-out test say
        it is an outlier (see the module docstring), else None (also with fewer than
        :data:`OUTLIER_MIN_KEPT` values).
    """
    n = len(values)
    if n < OUTLIER_MIN_KEPT or n not in _LOO_T:
        return None
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    scale = max(_MAD_TO_SD * mad, OUTLIER_SCALE_FLOOR * abs(median))
    position = max(range(n), key=lambda i: abs(values[i] - median))
    value = values[position]
    if scale <= 0 or abs(value - median) <= OUTLIER_Z * scale:
        return None
    others = [v for i, v in enumerate(values) if i != position]
    spread = statistics.stdev(others)
    mean = statistics.fmean(others)
    loo_t = math.inf if spread == 0 else abs(value - mean) / (spread * math.sqrt(1 + 1 / len(others)))
    if loo_t <= _LOO_T[n]:
        return None
    detail = (
        f"{100 * (value - median) / median:+.1f} % from the median of {n} repetitions "
        f"(robust z {abs(value - median) / scale:.1f} > {OUTLIER_Z:g}; leave-one-out t "
        f"{loo_t:.1f} > {_LOO_T[n]:g})"
    )
    return Outlier(position, detail)


def find_drift(
    indices: Sequence[int],
    values: Sequence[float],
    temperatures: Sequence[float | None],
    min_change_rel: float = 0.0,
) -> Drift:
    """Check the kept repetitions for a trend or a GPU still warming up.

    Args:
        indices: the repetitions' window numbers (the x of the trend).
        values: their Wh per 1000 queries.
        temperatures: the GPU temperature after each (None where unknown).
        min_change_rel: a trend counts only if it changes the energy by at least this fraction
            of the mean across the repetitions (``decide`` passes :data:`DRIFT_MIN_CHANGE` of
            the target), so rounding-level trends in near-identical windows do not count.

    Returns:
        The :class:`~energy_badge.meter.records.Drift` of these repetitions.
    """
    n = len(values)
    reasons = []
    rise = None
    if n >= 2 and all(t is not None for t in temperatures):
        first, last = temperatures[0], temperatures[-1]
        assert first is not None and last is not None
        rise = float(last - first)
        if rise >= DRIFT_MIN_RISE_C and rise / (indices[-1] - indices[0]) >= DRIFT_WARMING_C:
            reasons.append(f"the GPU warmed by {rise:g} °C over the repetitions")
    slope_rel = slope_t = None
    if n >= 3:
        mean_x, mean_y = statistics.fmean(indices), statistics.fmean(values)
        sxx = math.fsum((x - mean_x) ** 2 for x in indices)
        slope = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(indices, values, strict=True)) / sxx
        slope_rel = slope / mean_y if mean_y else None
        if n >= 3:
            residual = math.fsum(
                (y - mean_y - slope * (x - mean_x)) ** 2 for x, y in zip(indices, values, strict=True)
            )
            se = math.sqrt(residual / (n - 2) / sxx)
            slope_t = slope / se if se > 0 else None  # None: no residual at all (an exact line)
            material = abs(slope_rel or 0.0) * (indices[-1] - indices[0]) >= min_change_rel
            significant = slope_t is None or abs(slope_t) > _TREND_T.get(n - 2, t975(n - 2))
            if material and significant:
                reasons.append(f"the repetitions trend by {100 * (slope_rel or 0):+.2f} % per repetition")
    return Drift(
        detected=bool(reasons),
        reason="; ".join(reasons) or None,
        slope_rel=slope_rel,
        slope_t=slope_t,
        temperature_rise_c=rise,
    )


def decide(
    indices: Sequence[int],
    values: Sequence[float],
    temperatures: Sequence[float | None],
    windows: int,
    config: MeterConfig,
    drifted: Drift | None = None,
) -> Decision:
    """Decide after a repetition whether to stop.

    Args:
        indices, values, temperatures: the kept repetitions (see :func:`find_drift`).
        windows: energy windows run so far in the phase, dropped ones included.
        config: the meter's settings (``min_repetitions``, ``max_repetitions``, ``target_ci_rel``).
        drifted: the drift seen earlier in the phase, if any: a drift once seen stays.

    Returns:
        The :class:`Decision`.
    """
    drift = find_drift(indices, values, temperatures, DRIFT_MIN_CHANGE * config.target_ci_rel)
    if drifted is not None and drifted.detected and not drift.detected:
        drift = replace(drift, detected=True, reason=drifted.reason)
    if len(values) >= max(2, config.min_repetitions) and not drift.detected:
        stats = summarize(values)
        relative = stats.relative_half_width
        if relative is not None and relative <= STOP_MARGIN * config.target_ci_rel:
            return Decision("ci_target_met", drift)
    if windows >= config.max_repetitions:
        return Decision("max_repetitions", drift)
    return Decision(None, drift)


def outcome(values: Sequence[float], decision: Decision, config: MeterConfig) -> tuple[Stats, StopOutcome]:
    """The phase's figure and what its interval means, once the rule has stopped.

    Args:
        values: the kept repetitions' Wh per 1000 queries (at least one).
        decision: the rule's last decision.
        config: the meter's settings.

    Returns:
        The statistics to report (the mean +- the target after an early stop, else the t
        interval) and the :class:`~energy_badge.meter.records.StopOutcome`.
    """
    stats = summarize(values)
    t_half = stats.ci95_half_width
    early = decision.stop == "ci_target_met"
    if early:
        half = config.target_ci_rel * abs(stats.mean)
        stats = Stats(
            stats.n, stats.mean, stats.std, stats.mean - half, stats.mean + half, half, stats.samples
        )
    relative = stats.relative_half_width
    return stats, StopOutcome(
        rule=STOP_RULE,
        target_met=relative is not None and relative <= config.target_ci_rel * (1 + 1e-9),
        interval="target" if early else "t",
        t_half_width=t_half,
        drift=decision.drift,
    )
