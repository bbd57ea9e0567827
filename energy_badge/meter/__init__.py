"""The meter stage: measure a workload's GPU energy per query with Zeus, repeated until it is stable.

One measurement (a *phase*) runs, in order:

1. an isolation check: no other process may hold a context on the GPU (NVML's compute, graphics
   and MPS process lists, our own pid excluded), or :class:`~energy_badge.errors.SharedGPUError`
   unless ``allow_shared_gpu`` (which is recorded, with the processes seen). A list NVML refuses
   makes the check *unknown* (recorded; the policy then calls the result non-canonical unless
   ``allow_shared_gpu``); a host pid inside a container is recognised as this process
   (:func:`energy_badge.hardware.gpu_process_check`);
2. an idle sample: ``idle_seconds`` of nothing in a Zeus window, recorded as joules and watts and
   never subtracted from the headline figure; with ``idle_reuse_s`` (bulk runs), a sample taken
   on the same GPU by this process at most that long ago is reused instead, recorded with its age
   (:mod:`energy_badge.meter.baseline`);
3. the warm-up (the caller's ``warmup`` callable, or ``warmup_passes`` passes of the workload), timed
   but not measured;
4. repetitions of the whole workload, each in its own Zeus window, until the stop rule of
   :mod:`energy_badge.meter.rule` says so: early once ``min_repetitions`` are kept and the 95 %
   half-width of GPU Wh per 1000 queries is well within ``target_ci_rel`` (the interval reported
   is then the target's), else after ``max_repetitions`` windows (the t interval). An outlying
   repetition is dropped (recorded with the reason) and re-run within that budget; a drift (a
   trend, a GPU still warming) forbids the early stop. A pass shorter than ``min_window_s`` is
   repeated (whole passes) until the window lasts that long, because the NVML energy counter only
   updates about every 100 ms; energy is then divided by all the queries run in the window. The
   isolation check runs before and after every repetition, and the GPU's temperature is read
   after each.

The GPU energy comes from the NVML total-energy counter (Volta or newer) read by Zeus's
``ZeusMonitor``; CPU and DRAM energy come from Zeus's RAPL reader where it has one, else they are
None (never estimated). A counter that does not advance, or goes backwards, is refused. Every
window is cross-checked against a second source (:mod:`energy_badge.meter.sampler`): NVML's
instantaneous power, sampled in a background thread on the meter's clock and integrated over the
window; the verdict (agree, disagree beyond a stated bound, or inconclusive) is recorded with the
window, and ``strict`` refuses a disagreeing window. The meter also reads the counter itself just
outside each Zeus window (``nvml_counter_j``, raw data: the same source, so it cannot disagree).

Devices: the CUDA index is matched to its NVML device by UUID or PCI bus id where CUDA says
them (:func:`energy_badge.nvml.cuda_devices`), and a GPU in MIG mode is refused (its counter
covers every MIG instance).

Synchronisation: Zeus's windows would call ``torch.cuda.synchronize`` themselves; the meter passes
``sync_execution=False`` and instead requires the caller's pass function to synchronise before it
returns (``torch.cuda.synchronize()``), so that all the GPU work of a pass lies inside the window
and the meter itself does not depend on torch.

Time: every duration (warm-up, repetition windows, the idle sample's wait) comes from the meter's
:class:`Clock`, the real ``time.perf_counter``/``time.sleep`` unless one is injected.

Modules: :mod:`~energy_badge.meter.records` (settings and records), :mod:`~energy_badge.meter.loop`
(the loop), :mod:`~energy_badge.meter.rule` (stop rule, outlier guard, drift),
:mod:`~energy_badge.meter.sampler` (the power cross-check), :mod:`~energy_badge.meter.energy`
(Zeus), :mod:`~energy_badge.meter.performance` (``--no-energy``). ``zeus`` and ``pynvml`` are
imported inside the functions that use them.
"""

from __future__ import annotations

from energy_badge.meter.baseline import DEFAULT_IDLE_REUSE_S, IdleBaselines, IdleKey, default_baselines
from energy_badge.meter.energy import EnergyMeter
from energy_badge.meter.loop import BaseMeter
from energy_badge.meter.performance import PerformanceMeter
from energy_badge.meter.records import (
    ENERGY_SOURCE,
    MAX_REPETITIONS_LIMIT,
    SYSTEM_CLOCK,
    Clock,
    CrossCheck,
    Drift,
    DroppedRepetition,
    IdleSample,
    Isolation,
    MeterConfig,
    PhaseMeasurement,
    Repetition,
    StopOutcome,
    StopReason,
    SystemClock,
    Verdict,
)
from energy_badge.meter.rule import STOP_RULE
from energy_badge.meter.sampler import CROSSCHECK_REL_BOUND

__all__ = [
    "CROSSCHECK_REL_BOUND",
    "DEFAULT_IDLE_REUSE_S",
    "ENERGY_SOURCE",
    "MAX_REPETITIONS_LIMIT",
    "STOP_RULE",
    "SYSTEM_CLOCK",
    "BaseMeter",
    "Clock",
    "CrossCheck",
    "Drift",
    "DroppedRepetition",
    "EnergyMeter",
    "IdleBaselines",
    "IdleKey",
    "IdleSample",
    "Isolation",
    "MeterConfig",
    "PerformanceMeter",
    "PhaseMeasurement",
    "Repetition",
    "StopOutcome",
    "StopReason",
    "SystemClock",
    "Verdict",
    "default_baselines",
    "open_meter",
]


def open_meter(
    config: MeterConfig | None = None,
    energy: bool = True,
    *,
    clock: Clock | None = None,
    baselines: IdleBaselines | None = None,
) -> EnergyMeter | PerformanceMeter:
    """Open the meter a run asks for.

    Args:
        config: how to measure.
        energy: True for an :class:`EnergyMeter`, False for a :class:`PerformanceMeter` (``--no-energy``).
        clock: where the meter reads time and sleeps; the real clock if None (tests inject one).
        baselines: the energy meter's store of idle samples for reuse (default: the process's).

    Returns:
        The meter.

    Raises:
        NoEnergyCounterError: if ``energy`` and this machine has no GPU energy counter.
        UsageError: for a configuration an energy run cannot use.
    """
    if energy:
        return EnergyMeter(config, clock=clock, baselines=baselines)
    return PerformanceMeter(config, clock=clock)
