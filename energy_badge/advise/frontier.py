"""The Pareto frontier of energy per query against latency, and the one recommendation.

A measured point is on the frontier when no other measured point that passed the quality guard
is at least as good on both axes (energy per query, p95 latency) and better on one. Points that
failed the guard are shown, marked, and never on the frontier or recommended. Without energy
(``--no-energy``) the first axis is the time per query, and every text says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from energy_badge.advise.sweep import PointResult, SweepResult


def _ms(value: float | None) -> str:
    """A latency in ms without scientific notation: ``1,500``, ``41.2``, ``0.83``."""
    if value is None:
        return "?"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


__all__ = ["Recommendation", "frontier", "metric_of", "recommend"]


def metric_of(point: PointResult, energy: bool) -> float | None:
    """The first axis: GPU Wh per 1000 queries, or (without energy) milliseconds per query."""
    if energy:
        return point.energy.mean if point.energy is not None else None
    return 1000.0 * point.seconds_per_query if point.seconds_per_query is not None else None


def frontier(points: Sequence[PointResult], energy: bool) -> list[PointResult]:
    """The measured, quality-passing points no other such point dominates, by increasing first axis."""
    usable = [
        p for p in points if p.status == "measured" and p.quality_ok and metric_of(p, energy) is not None
    ]

    def dominated(p: PointResult) -> bool:
        a, la = metric_of(p, energy), p.latency_p95_ms or 0.0
        assert a is not None
        for q in usable:
            b, lb = metric_of(q, energy), q.latency_p95_ms or 0.0
            assert b is not None
            if q is not p and b <= a and lb <= la and (b < a or lb < la):
                return True
        return False

    return sorted((p for p in usable if not dominated(p)), key=lambda p: metric_of(p, energy) or 0.0)


@dataclass(frozen=True)
class Recommendation:
    """The point to use, and one sentence a person can act on.

    Attributes:
        point: the recommended point (None when nothing meets the deadline).
        canonical: the canonical setting's point.
        factor: how many times less energy (or time) per query than the canonical setting.
        sentence: the advice in one sentence.
    """

    point: PointResult | None
    canonical: PointResult
    factor: float | None
    sentence: str


def recommend(sweep: SweepResult, max_latency_ms: float | None = None) -> Recommendation:
    """The least energy (or time) per query among the quality-passing points under the deadline.

    Args:
        sweep: the sweep.
        max_latency_ms: the p95 latency a point may have at most (``--max-latency``).

    Returns:
        The :class:`Recommendation`.
    """
    energy = sweep.energy
    canonical = next(p for p in sweep.points if p.setting == sweep.canonical and p.name is None)
    candidates = [p for p in frontier(sweep.points, energy)]
    if max_latency_ms is not None:
        candidates = [p for p in candidates if (p.latency_p95_ms or 0.0) <= max_latency_ms]
    what = "energy" if energy else "time"
    if not candidates:
        fastest = min(
            (p for p in sweep.points if p.status == "measured" and p.quality_ok),
            key=lambda p: p.latency_p95_ms or 0.0,
        )
        return Recommendation(
            None,
            canonical,
            None,
            f"No setting measured keeps p95 latency within {max_latency_ms:g} ms with the canonical "
            f"answers; the fastest is {fastest.label} at {_ms(fastest.latency_p95_ms)} ms p95.",
        )
    best = candidates[0]
    base, value = metric_of(canonical, energy), metric_of(best, energy)
    assert base is not None and value is not None
    factor = base / value if value > 0 else None
    quality = f", {best.quality.describe().split(' (of')[0]}" if best.quality is not None else ""
    deadline = f" within the {max_latency_ms:g} ms deadline" if max_latency_ms is not None else ""
    if best is canonical:
        sentence = (
            f"Keep the canonical setting ({canonical.label}): none of the other "
            f"{sum(p.status == 'measured' for p in sweep.points) - 1} settings measured uses less {what} per "
            f"query{deadline} with the same answers (p95 latency {_ms(canonical.latency_p95_ms)} ms)."
        )
    else:
        times = f"{factor:.2g}×" if factor is not None else "less"
        sentence = (
            f"{best.label}: {times} less {what} per query than the canonical "
            f"setting ({canonical.label}){deadline}, p95 latency {_ms(best.latency_p95_ms)} ms{quality}."
        )
    return Recommendation(best, canonical, factor, sentence)
