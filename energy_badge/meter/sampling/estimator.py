"""The sampled protocol's estimator: the full workload's Wh/1k from a measured sample, with the
combined interval of sampling error and run-to-run noise (formulas in
:mod:`energy_badge.meter.sampling`), and the next sample size when the interval is too wide."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from energy_badge.errors import UsageError
from energy_badge.meter.sampling.design import Design
from energy_badge.stats import Stats, t975

__all__ = [
    "GO_FULL_FRACTION",
    "POWER_ELASTICITY",
    "Estimate",
    "estimate",
    "estimated_stats",
    "next_size",
    "stratified_estimate",
]

#: The power a query draws may rise with its length, so its energy varies more than its time:
#: with power proportional to time**beta, energy's relative deviations are ``1 + beta`` times
#: time's. The sampling variance is computed from times and multiplied by ``(1 + beta)**2``
#: for this bound on beta (0: constant power).
POWER_ELASTICITY = 0.5
#: A sample predicted to need more than this share of the workload: measure the whole instead.
GO_FULL_FRACTION = 0.5


@dataclass(frozen=True)
class Estimate:
    """The full workload's figure estimated from a sample.

    Attributes:
        mean: estimated Wh per 1000 queries of the whole workload.
        half_width: the combined 95 % half-width (``√(sampling² + noise²)``).
        sampling_half_width: the sampling error's 95 % half-width (0 when nothing is left unsampled).
        noise_half_width: the run-to-run noise's 95 % half-width.
        sampling_df: Satterthwaite degrees of freedom of the sampling variance (None when it is 0).
        queries: queries in the sample.
        population: queries in the workload.
    """

    mean: float
    half_width: float
    sampling_half_width: float
    noise_half_width: float
    sampling_df: float | None
    queries: int
    population: int

    @property
    def relative_half_width(self) -> float:
        """The combined half-width as a fraction of the mean (inf for a zero mean)."""
        return self.half_width / abs(self.mean) if self.mean else math.inf


def estimate(
    design: Design, n: int, costs: Sequence[float], sample_mean: float, noise_half_width: float
) -> Estimate:
    """Estimate the full workload's Wh/1k from a measured sample.

    The formulas are in the docstring of :mod:`energy_badge.meter.sampling`.

    Args:
        design: the strata.
        n: the sample's size (its queries are ``design.sample(n)``).
        costs: each sampled query's measured time (or other cost), in ``design.sample(n)`` order.
        sample_mean: the meter's mean Wh per 1000 queries over the sample's repetitions.
        noise_half_width: the meter's 95 % half-width of that mean.

    Returns:
        The :class:`Estimate`.

    Raises:
        UsageError: ``costs`` does not match the sample, or holds a negative or non-finite value.
    """
    indices = design.sample(n)
    if len(costs) != len(indices):
        raise UsageError(f"{len(costs)} costs for a sample of {len(indices)} queries")
    cost_of = dict(zip(indices, costs, strict=True))
    groups = [
        [cost_of[i] for i in members[:k]]
        for members, k in zip(design.strata, design.allocation(n), strict=True)
    ]
    return stratified_estimate([len(m) for m in design.strata], groups, sample_mean, noise_half_width)


def stratified_estimate(
    sizes: Sequence[int], groups: Sequence[Sequence[float]], sample_mean: float, noise_half_width: float
) -> Estimate:
    """The estimator itself, from each stratum's size and its sampled queries' costs.

    Args:
        sizes: ``N_h`` of each stratum.
        groups: the costs of each stratum's sampled queries (at least one each; two where a
            stratum is not measured whole, for its variance).
        sample_mean: the meter's mean Wh per 1000 queries over the whole sample.
        noise_half_width: the meter's 95 % half-width of that mean.

    Returns:
        The :class:`Estimate`.

    Raises:
        UsageError: a stratum without its sampled costs (or a single one of a stratum not
            measured whole), or a negative or non-finite cost.
    """
    if len(sizes) != len(groups) or not sizes:
        raise UsageError("one group of costs per stratum is needed")
    costs = [c for g in groups for c in g]
    if not all(math.isfinite(c) and c >= 0 for c in costs):
        raise UsageError("query costs must be finite and not negative")
    big_n = sum(sizes)
    stratified = 0.0
    parts: list[tuple[float, float, int]] = []  # (a_h, s_h², n_h) with V = k² Σ a_h s_h²
    for size, values in zip(sizes, groups, strict=True):
        k_h = len(values)
        if not 1 <= k_h <= size or (k_h == 1 and size > 1):
            raise UsageError(f"a stratum of {size} queries needs 2 to {size} sampled, not {k_h}")
        mean_h = math.fsum(values) / k_h
        stratified += size / big_n * mean_h
        if k_h < size:
            var_h = math.fsum((v - mean_h) ** 2 for v in values) / (k_h - 1)
            parts.append(((size / big_n) ** 2 * (1 - k_h / size) / k_h, var_h, k_h))
    plain = math.fsum(costs) / len(costs)
    ratio = stratified / plain if plain > 0 else 1.0
    k = sample_mean / plain if plain > 0 else 0.0
    variance = (1 + POWER_ELASTICITY) ** 2 * k * k * math.fsum(a * s2 for a, s2, _ in parts)
    df = None
    sampling_half = 0.0
    if variance > 0:
        terms = [(a * s2) ** 2 / (m - 1) for a, s2, m in parts]
        df = math.fsum(a * s2 for a, s2, _ in parts) ** 2 / math.fsum(terms)
        sampling_half = t975(max(1, math.floor(df))) * math.sqrt(variance)
    noise_half = abs(noise_half_width * ratio)
    return Estimate(
        mean=sample_mean * ratio,
        half_width=math.hypot(sampling_half, noise_half),
        sampling_half_width=sampling_half,
        noise_half_width=noise_half,
        sampling_df=df,
        queries=len(costs),
        population=big_n,
    )


def next_size(design: Design, n: int, current: Estimate, target_rel: float) -> int:
    """The next sample size after ``current`` missed the target: at least double, or what it predicts.

    The prediction keeps this stage's within-stratum variances and relative noise, and finds the
    smallest size (in steps of a quarter) whose sampling half-width fits in what the noise leaves
    of the target. When the noise alone takes 90 % of the target, no sample helps, and a sample
    of more than :data:`GO_FULL_FRACTION` of the workload saves too little for the risk of one
    more stage: the whole workload.

    Returns:
        A size larger than ``n``, at most the workload's size.
    """
    big_n = design.population
    noise_rel = current.noise_half_width / abs(current.mean) if current.mean else math.inf
    room = target_rel**2 - noise_rel**2
    if room <= (0.1 * target_rel) ** 2 or current.sampling_half_width <= 0:
        return big_n
    size = 2 * n
    while size < GO_FULL_FRACTION * big_n:
        # Scale this stage's sampling variance to the trial size: V ∝ Σ W_h² (1 - f_h) s_h² / n_h.
        scale = _variance_ratio(design, n, size)
        if current.sampling_half_width * math.sqrt(scale) <= math.sqrt(room) * abs(current.mean):
            return size
        size = math.ceil(size * 1.25)
    return big_n


def _variance_ratio(design: Design, n: int, m: int) -> float:
    """How the sampling variance scales from ``n`` to ``m`` queries, for equal variances per stratum."""

    def v(size: int) -> float:
        total = 0.0
        for members, k in zip(design.strata, design.allocation(size), strict=True):
            big = len(members)
            total += (big / design.population) ** 2 * (1 - k / big) / k
        return total

    base = v(n)
    return v(m) / base if base > 0 else 0.0


def estimated_stats(phase_stats: Stats, est: Estimate) -> Stats:
    """The result's statistics for a sampled figure: the estimate with its combined interval.

    ``samples`` stay the sample's repetitions as the meter measured them (raw data); ``mean``
    is the estimate (the same as their mean for an exactly proportional sample).
    """
    return replace(
        phase_stats,
        mean=est.mean,
        ci95_low=est.mean - est.half_width,
        ci95_high=est.mean + est.half_width,
        ci95_half_width=est.half_width,
    )
