"""The record of a sampled run (the result's ``measurement.sampling``): what was sampled and how,
built by :func:`make_record`, and :func:`record_problems`, which recomputes a sampled result's
headline from its record."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from energy_badge.errors import UsageError
from energy_badge.meter.sampling.design import Design, Stratum
from energy_badge.meter.sampling.estimator import Estimate, stratified_estimate
from energy_badge.meter.sampling.stages import SampledRun, Stage
from energy_badge.stats import Stats

__all__ = ["ErrorParts", "Protocol", "SamplingRecord", "make_record", "record_problems"]

Protocol = Literal["full", "sampled"]


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
