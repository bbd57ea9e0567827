"""Run the sampled protocol with the real meter and runner (its estimator: meter.sampling).

``measure_model`` calls :func:`measure_sampled` for ``--protocol sampled``: it stratifies the
prepared workload by the runner's cost proxy, lets :func:`~energy_badge.meter.sampling.run_sampled`
measure growing samples through the meter (each repetition runs the sample: the runner's
``run_pass(indices)``), and returns the phases with their headline replaced by the estimate of the
full workload's figure, and the record the result keeps. Text generation's prefill phase runs
on the same final sample and is estimated the same way.

:func:`sampling_applies` says when the protocol can run at all: an energy run (the estimate
needs energy windows) of the whole workload (not a ``--queries`` subset) at batch size 1 (the
per-query times come from one query per batch). Otherwise ``measure`` runs the full protocol
and records ``protocol: full``.

Order: the warm-up runs first (its query times tell the protocol how long a pass of the
workload would last), then the first stage's idle sample and repetitions; the result's
``warmup_seconds`` is that warm-up's.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from energy_badge.meter import MeterConfig, PhaseMeasurement
from energy_badge.meter.sampling import (
    NOISE_SHARE,
    Estimate,
    SamplingRecord,
    StageRun,
    estimate,
    estimated_stats,
    make_record,
    run_sampled,
    stratify,
)

if TYPE_CHECKING:
    from energy_badge.run import PassStats, TaskRunner

__all__ = ["SampledPhases", "Phase", "measure_sampled", "new_seed", "sampling_applies"]

#: ``phase(name, pass_fn, queries, config, first)``: one meter phase of ``queries`` per pass with
#: ``config``; ``first`` takes the idle sample and the full warm-up.
Phase = Callable[[str, Callable[[], "PassStats"], int, MeterConfig, bool], PhaseMeasurement["PassStats"]]


@dataclass(frozen=True)
class SampledPhases:
    """What :func:`measure_sampled` measured.

    Attributes:
        main: the final stage's phase, its ``gpu_wh_per_1k`` the estimate of the full workload's
            figure (with the combined interval) when the protocol stayed sampled.
        prefill: text generation's prefill phase on the same queries (estimated likewise), else None.
        record: the sampling record for the result.
    """

    main: PhaseMeasurement[PassStats]
    prefill: PhaseMeasurement[PassStats] | None
    record: SamplingRecord


def new_seed() -> int:
    """A fresh random seed for a sample (recorded in the result)."""
    return secrets.randbits(31)


def sampling_applies(energy: bool, subset: bool, batch_size: int) -> bool:
    """Whether the sampled protocol can run (see the module docstring)."""
    return energy and not subset and batch_size == 1


def _costs(phase: PhaseMeasurement[PassStats], n: int) -> tuple[float, ...]:
    """Each of the ``n`` sampled queries' mean time over the phase's measured passes."""
    passes = [p.latencies_s for p in phase.pass_results if len(p.latencies_s) == n]
    if not passes:
        return tuple(0.0 for _ in range(n))
    return tuple(math.fsum(p[j] for p in passes) / len(passes) for j in range(n))


def _with_estimate(phase: PhaseMeasurement[PassStats], est: Estimate) -> PhaseMeasurement[PassStats]:
    stats = phase.gpu_wh_per_1k
    assert stats is not None  # run_sampled refuses a stage without energy
    return dataclasses.replace(phase, gpu_wh_per_1k=estimated_stats(stats, est))


def measure_sampled(
    runner: TaskRunner,
    config: MeterConfig,
    phase: Phase,
    *,
    seed: int,
    prefill: bool,
    warmup: Callable[[], PassStats] | None = None,
) -> SampledPhases:
    """Measure the prepared workload by the sampled protocol.

    Args:
        runner: the runner, its workload prepared (batch size 1).
        config: the meter's settings as the user gave them (the target is the whole figure's).
        phase: runs one meter phase (see :data:`Phase`).
        seed: the sample's seed.
        prefill: also measure text generation's prefill phase.
        warmup: runs the warm-up before the first stage and returns its queries' times, from
            which the protocol learns a query's time (a workload shorter than five windows is
            measured whole; a sample fills at least one window); None: not known.

    Returns:
        The :class:`SampledPhases`.

    Raises:
        UsageError: as the runner and the meter raise them.
    """
    proxy_name, proxy = runner.cost_proxy()
    design = stratify(proxy, seed=seed, proxy_name=proxy_name)

    def stage(indices: tuple[int, ...] | None, stage_config: MeterConfig, first: bool) -> StageRun:
        if indices is None:
            return StageRun(phase("workload", runner.run_pass, design.population, stage_config, first), ())
        chosen: Sequence[int] = indices
        measured = phase("workload", lambda: runner.run_pass(chosen), len(chosen), stage_config, first)
        return StageRun(measured, _costs(measured, len(chosen)))

    seconds_per_query = warmup_seconds = None
    if warmup is not None:
        warm = warmup()
        warmup_seconds = warm.seconds
        seconds_per_query = warm.seconds / warm.queries if warm.queries else None
    run = run_sampled(design, stage, config, seconds_per_query=seconds_per_query)
    if warmup_seconds is not None:  # the warm-up ran before the stages, outside the meter's phases
        run = dataclasses.replace(run, phase=dataclasses.replace(run.phase, warmup_seconds=warmup_seconds))
    noise_target = config.target_ci_rel * NOISE_SHARE
    if run.estimate is None or run.indices is None:
        full_prefill = (
            phase("prefill", runner.run_prefill_pass, design.population, config, False) if prefill else None
        )
        return SampledPhases(run.phase, full_prefill, make_record(design, run, noise_target))
    indices = run.indices
    prefill_phase = prefill_est = None
    if prefill:
        stage_config = dataclasses.replace(config, target_ci_rel=noise_target)
        measured = phase(
            "prefill", lambda: runner.run_prefill_pass(indices), len(indices), stage_config, False
        )
        stats = measured.gpu_wh_per_1k
        if stats is not None and stats.ci95_half_width is not None:
            prefill_est = estimate(
                design, len(indices), _costs(measured, len(indices)), stats.mean, stats.ci95_half_width
            )
            measured = _with_estimate(measured, prefill_est)
        prefill_phase = measured
    return SampledPhases(
        _with_estimate(run.phase, run.estimate),
        prefill_phase,
        make_record(design, run, noise_target, prefill_est),
    )
