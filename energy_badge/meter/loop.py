"""The measurement loop shared by the energy and the performance meter.

:class:`BaseMeter` runs a phase (see :mod:`energy_badge.meter`): the isolation check, the idle
sample, the warm-up, then repetitions until the stop rule says so. Subclasses supply the hooks:
energy windows, GPU state snapshots, the isolation check, the idle sample and the stop rule.
Every duration comes from the meter's :class:`~energy_badge.meter.records.Clock`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from energy_badge.errors import UsageError
from energy_badge.hardware import GPUProcess, GPUState
from energy_badge.meter.records import (
    SYSTEM_CLOCK,
    Clock,
    IdleSample,
    Isolation,
    MeterConfig,
    PhaseMeasurement,
    Repetition,
    StopReason,
    T,
)
from energy_badge.stats import Stats, summarize

_window_ids = itertools.count(1)


def window_key(kind: str = "") -> str:
    """A fresh Zeus window name: ``energy-badge-<kind>-<n>`` (``energy-badge-<n>`` without a kind)."""
    prefix = f"energy-badge-{kind}-" if kind else "energy-badge-"
    return f"{prefix}{next(_window_ids)}"


@dataclass(frozen=True)
class Window:
    """What a meter's window returned: the energies (the loop measures the seconds).

    Attributes:
        gpu_j: GPU joules (Zeus), None for performance-only runs.
        cpu_j: CPU joules (RAPL), None where not measured.
        dram_j: DRAM joules (RAPL), None where not measured.
        nvml_j: the meter's own read of the NVML counter over the window, None if not taken.
    """

    gpu_j: float | None = None
    cpu_j: float | None = None
    dram_j: float | None = None
    nvml_j: float | None = None


def _stats_of(values: Sequence[float | None]) -> Stats | None:
    present = [v for v in values if v is not None]
    if not values or len(present) != len(values):
        return None
    return summarize(present)


class BaseMeter:
    """The measurement loop; subclasses supply windows, state snapshots and isolation checks.

    Attributes:
        config: how to measure.
        clock: where the loop reads time and sleeps.
        energy_source: recorded in each phase (None for performance-only meters).
    """

    config: MeterConfig
    clock: Clock = SYSTEM_CLOCK
    energy_source: str | None = None

    # Hooks ----------------------------------------------------------------------------------
    def _begin(self, key: str, what: str) -> None:
        """Open the window ``key`` (``what`` names the step in error messages)."""
        raise NotImplementedError

    def _end(self, key: str, what: str) -> Window:
        """Close the window ``key`` and return its energies."""
        raise NotImplementedError

    def _cancel(self, key: str) -> None:
        """Drop a window left open by an exception."""

    def _state(self, what: str) -> list[GPUState]:
        """Snapshot the measured GPU's state (empty without NVML)."""
        return []

    def _isolation(self, what: str, seen: dict[int, GPUProcess]) -> bool:
        """Check for other processes; add them to ``seen``; return whether a check was made."""
        return False

    def _idle(self, seconds: float) -> IdleSample | None:
        """Take the idle sample (None where the meter has none)."""
        return None

    def _stop_rule(self, reps: Sequence[Repetition], stats: Stats | None) -> StopReason | None:
        """Why to stop after ``reps``, or None to go on."""
        raise NotImplementedError

    # The loop -------------------------------------------------------------------------------
    def measure(
        self,
        pass_fn: Callable[[], T],
        queries_per_pass: int,
        *,
        warmup: Callable[[], object] | None = None,
        on_repetition: Callable[[Repetition, Stats | None], None] | None = None,
        measure_idle: bool = True,
    ) -> PhaseMeasurement[T]:
        """Measure repetitions of ``pass_fn`` (see :mod:`energy_badge.meter` for the sequence).

        Args:
            pass_fn: runs one whole pass of the workload and returns when the GPU has finished
                it: it must call ``torch.cuda.synchronize()`` (or equivalent) before returning,
                since the meter does not synchronise. Its return values are collected.
            queries_per_pass: number of queries one pass runs (at least 1).
            warmup: called once before measuring, instead of ``warmup_passes`` passes of
                ``pass_fn``; its result is discarded.
            on_repetition: called after each repetition with it and the statistics of GPU Wh per
                1000 queries so far (None before two repetitions, and for performance-only runs).
            measure_idle: take the idle sample (a second phase on the same meter can skip it).

        Returns:
            The :class:`~energy_badge.meter.records.PhaseMeasurement`.

        Raises:
            UsageError: if ``queries_per_pass`` is below 1.
            SharedGPUError: if another process uses the GPU and ``allow_shared_gpu`` is off.
            MeterError: on an NVML error, or a GPU energy delta that is zero or negative.
            Exception: whatever ``pass_fn`` or ``warmup`` raise, unchanged.
        """
        if (
            isinstance(queries_per_pass, bool)
            or not isinstance(queries_per_pass, int)
            or queries_per_pass < 1
        ):
            raise UsageError(f"queries_per_pass must be a positive integer, not {queries_per_pass!r}")
        config, clock = self.config, self.clock
        seen: dict[int, GPUProcess] = {}
        checked = self._isolation("before the idle sample and warm-up", seen)

        idle = None
        if measure_idle and config.idle_seconds > 0:
            idle = self._idle(config.idle_seconds)

        started = clock()
        if warmup is not None:
            warmup()
        else:
            for _ in range(config.warmup_passes):
                pass_fn()
        warmup_seconds = clock() - started

        state_start = self._state("before the first repetition")
        repetitions: list[Repetition] = []
        pass_results: list[T] = []
        stopped: StopReason | None = None
        for index in range(1, config.max_repetitions + 1):
            what = f"repetition {index}"
            checked = self._isolation(f"before {what}", seen) or checked
            rep = self._repetition(index, pass_fn, queries_per_pass, pass_results)
            checked = self._isolation(f"after {what}", seen) or checked
            repetitions.append(rep)
            stats = _stats_of([r.wh_per_1k for r in repetitions]) if len(repetitions) >= 2 else None
            if on_repetition is not None:
                on_repetition(rep, stats)
            stopped = self._stop_rule(repetitions, stats)
            if stopped is not None:
                break
        state_end = self._state(f"after repetition {len(repetitions)}")

        return PhaseMeasurement(
            repetitions=tuple(repetitions),
            stopped_because=stopped or "max_repetitions",
            warmup_seconds=warmup_seconds,
            idle=idle,
            gpu_state_start=tuple(state_start),
            gpu_state_end=tuple(state_end),
            isolation=Isolation(
                checked=checked,
                other_processes=tuple(sorted(seen.values(), key=lambda p: p.pid)),
                allow_shared_gpu=config.allow_shared_gpu,
            ),
            energy_source=self.energy_source,
            gpu_wh_per_1k=_stats_of([r.wh_per_1k for r in repetitions]),
            cpu_wh_per_1k=_stats_of([r.cpu_wh_per_1k for r in repetitions]),
            dram_wh_per_1k=_stats_of([r.dram_wh_per_1k for r in repetitions]),
            pass_results=tuple(pass_results),
            config=config,
            queries_per_pass=queries_per_pass,
        )

    def _repetition(
        self, index: int, pass_fn: Callable[[], T], queries_per_pass: int, results: list[T]
    ) -> Repetition:
        """One window of whole passes lasting at least ``min_window_s``; results go to ``results``."""
        what = f"repetition {index}"
        key = window_key()
        clock = self.clock
        self._begin(key, what)
        try:
            started = clock()
            passes = 0
            while True:
                results.append(pass_fn())
                passes += 1
                if clock() - started >= self.config.min_window_s:
                    break
            seconds = clock() - started
        except BaseException:
            self._cancel(key)
            raise
        window = self._end(key, what)
        return Repetition(
            index=index,
            passes=passes,
            queries=passes * queries_per_pass,
            seconds=seconds,
            gpu_energy_j=window.gpu_j,
            cpu_energy_j=window.cpu_j,
            dram_energy_j=window.dram_j,
            nvml_counter_j=window.nvml_j,
        )
