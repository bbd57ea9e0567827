"""The sampled protocol: estimate the full workload's energy from a stratified random sample.

The full protocol runs every query of the workload in each repetition. The sampled protocol
runs a stratified random sample of them, repeated as the meter's rule requires, and estimates
the full workload's GPU Wh per 1000 queries with an interval that holds both errors:

**Strata.** The queries are sorted by a per-query *cost proxy* (the quantity that drives their
cost: input tokens for text, pixels for images, seconds for audio clips; the runner says which,
:meth:`energy_badge.run.TaskRunner.cost_proxy`) and cut into :data:`DEFAULT_STRATA` strata of
(nearly) equal size, so each stratum holds queries of similar cost (:func:`stratify`).
Equal sizes keep a sample exactly proportional (self-weighting: its measured mean is the
estimate), which matters because the window measures the sample's energy as a whole: a
disproportionate sample would be re-weighted by time, not energy. (A take-all stratum for the
long tail was tried and dropped for that reason: it biased the estimate by 6 % on simulated
traces whose power rises with length.)

**Sample.** Each stratum's queries are shuffled once with a seeded generator; a sample of ``n``
queries takes the first ``n_h`` of each stratum's order, with ``n_h`` allocated in proportion to
the stratum's size (at least two each, one query at a time to the stratum furthest below its
share, so a larger sample always contains a smaller one: :meth:`Design.allocation`). With
equal-size strata and ``n`` a multiple of their number the sample is exactly proportional.

**Estimate.** One repetition's window measures the energy of the whole sample, not of each query
(the NVML counter is too coarse for single queries), so per-query cost comes from what the runner
times for each query (GPU-synchronised latency ``c_i``, averaged over the measured passes): the
query's energy is taken as proportional to its time, ``e_i = k c_i`` with ``k`` the sample's
measured energy per second of query time. Then, with ``W_h = N_h / N``, ``f_h = n_h / N_h``,
``c̄_h`` and ``s_h²`` the mean and variance of ``c_i`` in stratum ``h``'s sample, ``c̄`` the
sample's plain mean and ``ȳ`` the meter's mean Wh/1k over the sample:

* point estimate ``Ŷ = ȳ · C / c̄`` with ``C = Σ W_h c̄_h`` (the stratified estimator of the mean
  cost; the factor is 1 for an exactly proportional sample, where ``Ŷ`` is the measured ``ȳ``);
* sampling variance (stratified estimator, finite population correction)
  ``V_s = (1 + β)² k² Σ W_h² (1 - f_h) s_h² / n_h`` with ``k = ȳ / c̄`` and ``β`` =
  :data:`POWER_ELASTICITY` (below); its degrees of freedom by Satterthwaite's formula; sampling
  half-width ``h_s = t_{0.975, df} √V_s`` (0 when every query of every stratum is measured: the
  full workload has no sampling error);
* run-to-run noise: the meter's own 95 % half-width ``h_n`` of the sample's repetitions (the
  target's width after an early stop, else the t interval: :mod:`energy_badge.meter.rule`),
  scaled by ``C / c̄``;
* combined: ``h = √(h_s² + h_n²)``. The two errors are independent (which queries were drawn,
  and the noise of measuring those queries), so by the law of total variance
  ``Var Ŷ = Var_S E[Ŷ | S] + E_S Var(Ŷ | S)``: the variances add. Adding the two 95 %
  half-widths in quadrature adds the variances, each scaled by its own critical value (t, not
  z), which errs on the wide side.

Per-query timing noise inflates ``s_h²``, so it can only widen ``h_s``. The proportional model
``e_i = k c_i`` ignores a power draw that varies with the query: a longer query may also draw
more power, and then its energy deviates more than its time. With power ∝ time^β, energy's
relative deviations are ``1 + β`` times time's, so the variance is multiplied by ``(1 + β)²``
for β up to :data:`POWER_ELASTICITY`: the part of a query that grows with its input (the
prefill, an encoder pass) may draw up to 1.5 times the query's mean power. Without the factor,
simulated traces whose prefill draws 1.5 times the decode's power gave 0.80 coverage for text
classification; ``benchmarks/sampling_coverage.py`` checks the interval on such traces. A power
that rises faster than that with the input is outside what the interval is shown to hold.

**Growth** (:func:`run_sampled`): when one pass of the whole workload lasts less than
:data:`FULL_BELOW_WINDOWS` minimum windows (known from the warm-up's query times), the whole
workload is measured at once: a repetition lasts ``min_window_s`` anyway. Otherwise a pilot of
:data:`PILOT_FRACTION` of the workload (at least two per stratum, and enough queries to fill a
window) is measured with the meter's target tightened to :data:`NOISE_SHARE` of the overall
target, leaving the rest of the error budget to sampling. While the combined half-width exceeds
the target, the sample grows (at least doubling, or straight to the size the pilot's variances
predict) and is measured again; once it would be the whole workload, the whole workload is
measured in its own order: that is the full protocol, and the result says so.

The functions here are pure: :func:`run_sampled` measures through a callable, so the benchmark
drives it with simulated windows and ``energy_badge.measure`` with the real meter and runner.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from energy_badge.errors import UsageError
from energy_badge.meter.records import MeterConfig, PhaseMeasurement
from energy_badge.stats import Stats, t975

__all__ = [
    "DEFAULT_STRATA",
    "FULL_BELOW_WINDOWS",
    "GO_FULL_FRACTION",
    "MAX_STAGES",
    "NOISE_SHARE",
    "PILOT_FRACTION",
    "POWER_ELASTICITY",
    "Design",
    "ErrorParts",
    "Estimate",
    "SampledRun",
    "SamplingRecord",
    "Stage",
    "StageRun",
    "Stratum",
    "estimate",
    "estimated_stats",
    "make_record",
    "record_problems",
    "next_size",
    "run_sampled",
    "stratified_estimate",
    "stratify",
]

#: Strata the workload is cut into (by the cost proxy).
DEFAULT_STRATA = 20
#: The pilot sample's share of the workload (at least two queries per stratum).
PILOT_FRACTION = 0.1
#: The share of the target the run-to-run noise may take (the meter's target in sampled stages);
#: the sampling error may then take up to ``sqrt(1 - NOISE_SHARE**2)`` of it.
NOISE_SHARE = 0.6
#: Sampled stages at most before the whole workload is measured.
MAX_STAGES = 3
#: The power a query draws may rise with its length, so its energy varies more than its time:
#: with power proportional to time**beta, energy's relative deviations are ``1 + beta`` times
#: time's. The sampling variance is computed from times and multiplied by ``(1 + beta)**2``
#: for this bound on beta (0: constant power).
POWER_ELASTICITY = 0.5
#: A sample predicted to need more than this share of the workload: measure the whole instead.
GO_FULL_FRACTION = 0.5
#: Measure the whole workload at once when one pass of it lasts less than this many minimum
#: windows: a window lasts ``min_window_s`` anyway, so a sample would save (almost) nothing.
FULL_BELOW_WINDOWS = 5.0

Protocol = Literal["full", "sampled"]


@dataclass(frozen=True)
class Stratum:
    """One stratum of the workload, as the result records it.

    Attributes:
        low, high: the cost proxy's range over the stratum's queries.
        size: queries in the stratum (``N_h``).
        sampled: queries of it measured (``n_h``).
    """

    low: float
    high: float
    size: int
    sampled: int


@dataclass(frozen=True)
class Design:
    """The strata of a workload and the seeded order in which each is sampled.

    Attributes:
        population: queries in the workload (``N``).
        proxy: what the cost proxy is (``input_tokens``, ``image_pixels``, ``clip_seconds``).
        seed: the seed of the sample's order (recorded, so the sample can be drawn again).
        strata: each stratum's query indices, in their sampling order.
        bounds: each stratum's (lowest, highest) proxy value.
    """

    population: int
    proxy: str
    seed: int
    strata: tuple[tuple[int, ...], ...]
    bounds: tuple[tuple[float, float], ...]

    def allocation(self, n: int) -> tuple[int, ...]:
        """Queries per stratum for a sample of ``n`` (clamped to ``[2 per stratum, N]``).

        At least two per stratum (a variance needs two), then one query at a time to the stratum
        with the largest ``N_h / (n_h + 1/2)`` (Sainte-Laguë's divisor): proportional to
        ``N_h`` up to rounding, and a larger ``n`` never takes a query from a stratum.
        """
        return _allocate(tuple(len(s) for s in self.strata), min(n, self.population))

    def sample(self, n: int) -> tuple[int, ...]:
        """The query indices of a sample of ``n`` (sorted); nested: ``sample(n) ⊆ sample(m)`` for n ≤ m."""
        return tuple(sorted(i for s, k in zip(self.strata, self.allocation(n), strict=True) for i in s[:k]))

    def grouped(self, n: int) -> tuple[tuple[int, ...], ...]:
        """The sample of ``n`` by stratum: each stratum's sampled indices, sorted."""
        return tuple(tuple(sorted(s[:k])) for s, k in zip(self.strata, self.allocation(n), strict=True))

    def records(self, n: int) -> tuple[Stratum, ...]:
        """The strata as a result records them, for a sample of ``n``."""
        return tuple(
            Stratum(lo, hi, len(s), k)
            for (lo, hi), s, k in zip(self.bounds, self.strata, self.allocation(n), strict=True)
        )


@functools.lru_cache(maxsize=4096)
def _allocate(sizes: tuple[int, ...], n: int) -> tuple[int, ...]:
    """Sainte-Laguë allocation of ``n`` queries to strata of ``sizes``, two each at least."""
    counts = [min(2, size) for size in sizes]
    n = max(sum(counts), n)
    while sum(counts) < n:
        best = max(
            (h for h in range(len(sizes)) if counts[h] < sizes[h]),
            key=lambda h: (sizes[h] / (counts[h] + 0.5), -h),
        )
        counts[best] += 1
    return tuple(counts)


def stratify(proxy: Sequence[float], *, seed: int, proxy_name: str, strata: int = DEFAULT_STRATA) -> Design:
    """Cut a workload into strata of nearly equal size by its per-query cost proxy.

    Args:
        proxy: one cost proxy value per query, in workload order.
        seed: seeds each stratum's sampling order (stratum ``h`` uses ``seed * 1000003 + h``).
        proxy_name: what the proxy is, recorded.
        strata: how many strata (fewer when the workload has fewer than two queries per stratum).

    Returns:
        The :class:`Design`.

    Raises:
        UsageError: no queries, a non-finite proxy value, or fewer than one stratum.
    """
    n = len(proxy)
    if n == 0:
        raise UsageError("the workload has no queries to sample")
    if strata < 1:
        raise UsageError(f"strata must be at least 1, not {strata}")
    if not all(math.isfinite(v) for v in proxy):
        raise UsageError("the cost proxy must be finite for every query")
    h_count = max(1, min(strata, n // 2))
    order = sorted(range(n), key=lambda i: (proxy[i], i))
    cuts = [round(k * n / h_count) for k in range(h_count + 1)]
    groups, bounds = [], []
    for h in range(len(cuts) - 1):
        members = order[cuts[h] : cuts[h + 1]]
        bounds.append((float(proxy[members[0]]), float(proxy[members[-1]])))
        shuffled = sorted(members)
        random.Random(seed * 1000003 + h).shuffle(shuffled)
        groups.append(tuple(shuffled))
    return Design(n, proxy_name, seed, tuple(groups), tuple(bounds))


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
    """Estimate the full workload's Wh/1k from a measured sample (formulas in the module docstring).

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


# --------------------------------------------------------------------------------------------
# Records and the growing loop


@dataclass(frozen=True)
class ErrorParts:
    """The two parts of a sampled figure's 95 % half-width (Wh per 1000 queries).

    Attributes:
        sampling_half_width: from measuring a sample instead of every query (with the finite
            population correction).
        noise_half_width: run-to-run noise of the sample's repetitions (the meter's interval).
        sampling_df: the sampling variance's degrees of freedom (None when it is 0).
    """

    sampling_half_width: float
    noise_half_width: float
    sampling_df: float | None


@dataclass(frozen=True)
class Stage:
    """One measured sample of a sampled run.

    Attributes:
        queries: queries in the sample.
        repetitions: repetitions the meter kept.
        mean: the estimate of the full workload's Wh/1k (the measured mean for the full workload).
        half_width: its combined 95 % half-width (None when the meter gave no interval).
        target_met: the half-width is within the target.
    """

    queries: int
    repetitions: int
    mean: float
    half_width: float | None
    target_met: bool


@dataclass(frozen=True)
class SamplingRecord:
    """How a sampled-protocol result was sampled; the result's ``measurement.sampling``.

    Attributes:
        protocol: ``sampled`` (the figure is an estimate from ``indices``) or ``full`` (the
            sample grew to the whole workload, which was measured).
        seed: the seed of the sampling order.
        population: queries in the workload.
        proxy: the cost proxy the strata are cut by.
        strata: the strata, with the final sample's count in each.
        indices: the final sample's query indices (0-based), stratum by stratum (each
            stratum's ``sampled`` of them, sorted); empty when full.
        costs: each of those queries' measured time in seconds (the mean over the measured
            passes), in the same order: with ``strata`` and the repetitions, the estimate is
            recomputed from them (:func:`record_problems`); empty when full.
        noise_target_rel: the meter's target in the sampled stages.
        parts: the two error parts of the figure (None when full: no sampling error).
        prefill_parts: the same for text generation's prefill phase, else None.
        stages: every sample measured, in order.
    """

    protocol: Protocol
    seed: int
    population: int
    proxy: str
    strata: tuple[Stratum, ...]
    indices: tuple[int, ...]
    costs: tuple[float, ...]
    noise_target_rel: float
    parts: ErrorParts | None
    prefill_parts: ErrorParts | None
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class StageRun:
    """What measuring one sample returned: the meter's phase, and each sampled query's cost.

    Attributes:
        phase: the meter's measurement of the sample's repetitions.
        costs: each sampled query's mean measured time (seconds) over the measured passes, in
            the sample's order (empty for the whole workload, which needs none).
    """

    phase: PhaseMeasurement[Any]
    costs: tuple[float, ...]


@dataclass(frozen=True)
class SampledRun:
    """The outcome of :func:`run_sampled`.

    Attributes:
        phase: the final stage's phase (its repetitions are the figure's raw data).
        indices: the final sample (None when the whole workload was measured).
        estimate: the final estimate (None when the whole workload was measured).
        costs: the final sample's per-query costs.
        stages: every stage.
    """

    phase: PhaseMeasurement[Any]
    indices: tuple[int, ...] | None
    estimate: Estimate | None
    costs: tuple[float, ...]
    stages: tuple[Stage, ...]


#: ``measure(indices, config, first)``: measure the sample ``indices`` (None: the whole workload
#: in order) with the meter's ``config``; ``first`` is True for the run's first stage (the one
#: that takes the idle sample and the full warm-up).
MeasureStage = Callable[[tuple[int, ...] | None, MeterConfig, bool], StageRun]


def run_sampled(
    design: Design,
    measure: MeasureStage,
    config: MeterConfig,
    *,
    pilot: int | None = None,
    noise_share: float = NOISE_SHARE,
    max_stages: int = MAX_STAGES,
    seconds_per_query: float | None = None,
) -> SampledRun:
    """Measure growing samples until the estimate's half-width is within ``config.target_ci_rel``.

    Args:
        design: the strata.
        measure: measures one sample (see :data:`MeasureStage`).
        config: the meter's settings; the sampled stages use its target times ``noise_share``.
        pilot: the first sample's size (default :data:`PILOT_FRACTION` of the workload).
        noise_share: the noise's share of the target.
        max_stages: sampled stages before the whole workload is measured instead.
        seconds_per_query: a query's mean time as the warm-up saw it (None: unknown): a
            workload shorter than :data:`FULL_BELOW_WINDOWS` windows is measured whole, and a
            sample holds at least a window's worth of queries.

    Returns:
        The :class:`SampledRun`; ``indices`` is None when the whole workload was measured.
    """
    big_n = design.population
    target = config.target_ci_rel
    stage_config = replace(config, target_ci_rel=target * noise_share)
    n = max(2 * len(design.strata), pilot if pilot is not None else math.ceil(PILOT_FRACTION * big_n))
    window_queries = 0
    if seconds_per_query is not None and seconds_per_query > 0:
        if big_n * seconds_per_query < FULL_BELOW_WINDOWS * config.min_window_s:
            n = big_n
        window_queries = math.ceil(config.min_window_s / seconds_per_query)
    n = max(n, window_queries)
    stages: list[Stage] = []
    first = True
    while n < big_n and len(stages) < max_stages:
        indices = design.sample(n)
        run = measure(indices, stage_config, first)
        first = False
        stats = run.phase.gpu_wh_per_1k
        if stats is None or stats.ci95_half_width is None:
            raise UsageError("the sampled protocol needs energy windows with an interval (2+ repetitions)")
        est = estimate(design, n, run.costs, stats.mean, stats.ci95_half_width)
        met = est.relative_half_width <= target * (1 + 1e-9)
        stages.append(Stage(len(indices), len(run.phase.repetitions), est.mean, est.half_width, met))
        if met:
            return SampledRun(run.phase, indices, est, run.costs, tuple(stages))
        n = max(next_size(design, n, est, target), window_queries)
    run = measure(None, config, first)
    stats = run.phase.gpu_wh_per_1k
    half = stats.ci95_half_width if stats is not None else None
    mean = stats.mean if stats is not None else math.nan
    met = half is not None and half <= target * abs(mean) * (1 + 1e-9)
    stages.append(Stage(big_n, len(run.phase.repetitions), mean, half, met))
    return SampledRun(run.phase, None, None, (), tuple(stages))


def make_record(
    design: Design, run: SampledRun, noise_target_rel: float, prefill: Estimate | None = None
) -> SamplingRecord:
    """The result's record of a sampled run (see :class:`SamplingRecord`).

    Args:
        design: the strata.
        run: what :func:`run_sampled` returned.
        noise_target_rel: the meter's target in the sampled stages.
        prefill: text generation's prefill estimate on the same sample, else None.
    """
    est = run.estimate
    if est is None or run.indices is None:
        n = design.population
        return SamplingRecord(
            "full",
            design.seed,
            n,
            design.proxy,
            design.records(n),
            (),
            (),
            noise_target_rel,
            None,
            None,
            run.stages,
        )
    cost_of = dict(zip(run.indices, run.costs, strict=True))
    grouped = [i for group in design.grouped(est.queries) for i in group]

    def parts(e: Estimate | None) -> ErrorParts | None:
        return None if e is None else ErrorParts(e.sampling_half_width, e.noise_half_width, e.sampling_df)

    return SamplingRecord(
        protocol="sampled",
        seed=design.seed,
        population=design.population,
        proxy=design.proxy,
        strata=design.records(est.queries),
        indices=tuple(grouped),
        costs=tuple(cost_of[i] for i in grouped),
        noise_target_rel=noise_target_rel,
        parts=parts(est),
        prefill_parts=parts(prefill),
        stages=run.stages,
    )


def record_problems(record: SamplingRecord, figure: Stats, noise_half_width: float | None) -> list[str]:
    """Where a sampled result's headline does not follow from its recorded sample (empty: it does).

    Recomputes the estimate from the recorded strata, costs and the repetitions' mean, and checks
    the indices (distinct, within the workload, as many per stratum as recorded).

    Args:
        record: the sampling record (protocol ``sampled``).
        figure: the result's headline statistics (``samples`` the sample's repetitions).
        noise_half_width: the meter's half-width of the repetitions' mean (the target's width
            after an early stop, else the t interval), None when it gave none.

    Returns:
        The problems, in words.
    """
    if record.parts is None or noise_half_width is None:
        return ["a sampled figure needs its error parts and an interval over its repetitions"]
    n = len(record.indices)
    if len(set(record.indices)) != n or any(not 0 <= i < record.population for i in record.indices):
        return [f"the sample's indices must be distinct and lie in 0..{record.population - 1}"]
    if sum(s.sampled for s in record.strata) != n or len(record.costs) != n:
        return ["the sample's indices, costs and strata disagree on its size"]
    if sum(s.size for s in record.strata) != record.population:
        return ["the strata do not add up to the workload"]
    groups, at = [], 0
    for stratum in record.strata:
        groups.append(record.costs[at : at + stratum.sampled])
        at += stratum.sampled
    try:
        sample_mean = math.fsum(figure.samples) / len(figure.samples)
        est = stratified_estimate([s.size for s in record.strata], groups, sample_mean, noise_half_width)
    except (UsageError, ZeroDivisionError) as err:
        return [f"the sample cannot give an estimate: {err}"]
    tolerance = 1e-6 * max(abs(est.mean), 1e-300)
    recorded = figure.ci95_half_width
    if (
        abs(figure.mean - est.mean) > tolerance
        or recorded is None
        or abs(recorded - est.half_width) > tolerance
    ):
        return [
            f"the headline {figure.mean:.6g} +- {recorded} does not follow from the recorded sample "
            f"({est.mean:.6g} +- {est.half_width:.6g})"
        ]
    return []
