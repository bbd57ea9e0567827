"""Throughput: the one definition of a result's queries per second, with its 95 % interval.

``energy-badge measure`` prints it, ``energy-badge compare --metric throughput`` compares it, and
it is the result file's ``performance.queries_per_s`` (which ``measure`` computes the same way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from energy_badge.errors import InputError
from energy_badge.result import EnergyResult
from energy_badge.stats import t975

__all__ = ["Throughput", "throughput"]


@dataclass(frozen=True)
class Throughput:
    """A result's throughput in queries per second, with its 95 % interval.

    Attributes:
        value: all the measured repetitions' queries over all their seconds.
        ci95_low, ci95_high: its 95 % interval (None with a single repetition).
        n: repetitions.
    """

    value: float
    ci95_low: float | None
    ci95_high: float | None
    n: int


def throughput(result: EnergyResult) -> Throughput:
    """The throughput of a result: the one definition ``measure`` prints and ``compare`` compares.

    ``R = Σ queries / Σ seconds`` over the measured repetitions (warm-up and the idle sample left
    out): the reciprocal of the mean time per query, as the energy figure is the mean energy per
    query, and exactly the result's ``performance.queries_per_s``. A plain mean of each repetition's
    queries/s would weigh a short repetition like a long one (repetitions run whole passes until a
    minimum window, so they differ in length) and differs from ``R`` by a few percent on noisy runs.
    Its 95 % interval is the ratio estimator's: ``R ± t(0.975, n-1) · sqrt(Σ(q_i - R s_i)² / (n-1)) /
    (sqrt(n) · mean(s))``, Student's t as for energy.

    Args:
        result: the result.

    Returns:
        The :class:`Throughput`.

    Raises:
        InputError: the repetitions add up to no time.
    """
    repetitions = result.measurement.repetitions
    queries = [float(r.queries) for r in repetitions]
    seconds = [float(r.seconds) for r in repetitions]
    total_seconds = math.fsum(seconds)
    if not repetitions or total_seconds <= 0:
        raise InputError(f"{result.model_id}: the result's repetitions add up to no time: no throughput")
    value = math.fsum(queries) / total_seconds
    n = len(repetitions)
    if n < 2:
        return Throughput(value=value, ci95_low=None, ci95_high=None, n=n)
    residuals = math.fsum((q - value * s) ** 2 for q, s in zip(queries, seconds, strict=True))
    half = t975(n - 1) * math.sqrt(residuals / (n - 1)) / (math.sqrt(n) * (total_seconds / n))
    return Throughput(value=value, ci95_low=value - half, ci95_high=value + half, n=n)
