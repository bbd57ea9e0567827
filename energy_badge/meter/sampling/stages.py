"""The sampled protocol's staged run: measure a pilot sample, grow it until the estimate's interval
is within the target, or measure the whole workload (:func:`run_sampled`; the rules in
:mod:`energy_badge.meter.sampling`). It measures through a callable, so the benchmark drives it
with simulated windows and ``energy_badge.measure`` with the real meter and runner."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from energy_badge.errors import UsageError
from energy_badge.meter.records import MeterConfig, PhaseMeasurement
from energy_badge.meter.sampling.design import Design
from energy_badge.meter.sampling.estimator import Estimate, estimate, next_size

__all__ = [
    "FULL_BELOW_WINDOWS",
    "MAX_STAGES",
    "NOISE_SHARE",
    "PILOT_FRACTION",
    "MeasureStage",
    "SampledRun",
    "Stage",
    "StageRun",
    "run_sampled",
]

#: The pilot sample's share of the workload (at least two queries per stratum).
PILOT_FRACTION = 0.1
#: The share of the target the run-to-run noise may take (the meter's target in sampled stages);
#: the sampling error may then take up to ``sqrt(1 - NOISE_SHARE**2)`` of it.
NOISE_SHARE = 0.6
#: Sampled stages at most before the whole workload is measured.
MAX_STAGES = 3
#: Measure the whole workload at once when one pass of it lasts less than this many minimum
#: windows: a window lasts ``min_window_s`` anyway, so a sample would save (almost) nothing.
FULL_BELOW_WINDOWS = 5.0


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
