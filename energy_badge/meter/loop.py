"""The measurement loop shared by the energy and the performance meter.

:class:`BaseMeter` runs a phase (see :mod:`energy_badge.meter`): the isolation check, the idle
sample, the warm-up, then repetitions until the stop rule (:mod:`energy_badge.meter.rule`) says
so, dropping outlying ones as its guard says (each drop recorded, the window re-run within the
budget). Subclasses supply the hooks: energy windows, GPU state snapshots, the temperature after
a window, the isolation check and the idle sample; the performance meter also its own stop rule.
Every duration comes from the meter's :class:`~energy_badge.meter.records.Clock`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from energy_badge.errors import UsageError
from energy_badge.hardware import GPUProcess, GPUState
from energy_badge.meter import rule
from energy_badge.meter.records import (
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
    T,
)
from energy_badge.stats import Stats, summarize

_window_ids = itertools.count(1)
_QUIET = threading.Event()
_QUIET.set()
_open_windows = 0
_open_lock = threading.Lock()


def quiet_gate() -> threading.Event:
    """Set while no repetition window of any meter in this process is open, cleared during one.

    Background work that could disturb a measured window (the bulk pipeline's prefetching:
    downloads, hashing, input preparation) waits on it before each step, so it runs between
    windows (warm-ups, idle samples, loading the next model) and never inside one.
    """
    return _QUIET


def _window_opened() -> None:
    global _open_windows
    with _open_lock:
        _open_windows += 1
        _QUIET.clear()


def _window_closed() -> None:
    global _open_windows
    with _open_lock:
        _open_windows = max(0, _open_windows - 1)
        if _open_windows == 0:
            _QUIET.set()


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
        crosscheck: the window against sampled power, None if not made.
    """

    gpu_j: float | None = None
    cpu_j: float | None = None
    dram_j: float | None = None
    nvml_j: float | None = None
    crosscheck: CrossCheck | None = None


@dataclass(frozen=True)
class IsolationCheck:
    """What one isolation check found (see :class:`~energy_badge.meter.records.Isolation`).

    Attributes:
        checked: the process lists were asked.
        unknown_reason: why the answer is incomplete, None when complete.
        attributed_pid: a host pid taken to be this process, None if none.
    """

    checked: bool
    unknown_reason: str | None = None
    attributed_pid: int | None = None


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

    def _temperature(self, what: str) -> float | None:
        """The measured GPU's temperature now (None without NVML)."""
        return None

    def _isolation(self, what: str, seen: dict[int, GPUProcess]) -> IsolationCheck:
        """Check for other processes; add them to ``seen``; say what the check could see."""
        return IsolationCheck(checked=False)

    def _idle(self, seconds: float) -> IdleSample | None:
        """Take the idle sample (None where the meter has none)."""
        return None

    def _decide(self, kept: Sequence[Repetition], windows: int, drifted: Drift | None) -> rule.Decision:
        """Whether to stop after ``windows`` windows with ``kept`` repetitions kept (the energy rule)."""
        return rule.decide(
            [r.index for r in kept],
            [r.wh_per_1k or 0.0 for r in kept],
            [r.temperature_c for r in kept],
            windows,
            self.config,
            drifted,
        )

    def _outcome(
        self, kept: Sequence[Repetition], decision: rule.Decision
    ) -> tuple[Stats | None, StopOutcome | None]:
        """The phase's GPU figure and the rule's outcome."""
        values = [r.wh_per_1k for r in kept]
        if not values or any(v is None for v in values):
            return None, None
        return rule.outcome([v for v in values if v is not None], decision, self.config)

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
        checks = [self._isolation("before the idle sample and warm-up", seen)]

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
        kept: list[Repetition] = []
        dropped: list[DroppedRepetition] = []
        pass_results: list[T] = []
        decision = rule.Decision(None, Drift(False, None, None, None, None))
        windows = 0
        while decision.stop is None:
            windows += 1
            what = f"repetition {windows}"
            checks.append(self._isolation(f"before {what}", seen))
            rep = self._repetition(windows, pass_fn, queries_per_pass, pass_results)
            checks.append(self._isolation(f"after {what}", seen))
            kept.append(rep)
            self._guard(kept, dropped, windows)
            stats = _stats_of([r.wh_per_1k for r in kept]) if len(kept) >= 2 else None
            if on_repetition is not None:
                on_repetition(rep, stats)
            decision = self._decide(kept, windows, decision.drift)
        state_end = self._state(f"after repetition {windows}")
        gpu, outcome = self._outcome(kept, decision)
        unknown = [c.unknown_reason for c in checks if c.unknown_reason]
        attributed = [c.attributed_pid for c in checks if c.attributed_pid is not None]

        return PhaseMeasurement(
            repetitions=tuple(kept),
            stopped_because=decision.stop or "max_repetitions",
            warmup_seconds=warmup_seconds,
            idle=idle,
            gpu_state_start=tuple(state_start),
            gpu_state_end=tuple(state_end),
            isolation=Isolation(
                checked=any(c.checked for c in checks),
                other_processes=tuple(sorted(seen.values(), key=lambda p: p.pid)),
                allow_shared_gpu=config.allow_shared_gpu,
                unknown_reason=unknown[0] if unknown else None,
                attributed_pid=attributed[0] if attributed else None,
            ),
            energy_source=self.energy_source,
            gpu_wh_per_1k=gpu,
            cpu_wh_per_1k=_stats_of([r.cpu_wh_per_1k for r in kept]),
            dram_wh_per_1k=_stats_of([r.dram_wh_per_1k for r in kept]),
            pass_results=tuple(pass_results),
            config=config,
            queries_per_pass=queries_per_pass,
            dropped=tuple(dropped),
            outcome=outcome,
        )

    def _guard(self, kept: list[Repetition], dropped: list[DroppedRepetition], windows: int) -> None:
        """Move the outlying repetition, if the guard finds one, from ``kept`` to ``dropped``.

        A drop must leave room in the budget to end with ``min_repetitions`` kept (so a run of
        exactly N repetitions, min = max, never drops one), and at most ``rule.max_drops``.
        """
        config = self.config
        values = [r.wh_per_1k for r in kept]
        room = len(kept) - 1 + config.max_repetitions - windows >= config.min_repetitions
        if not room or len(dropped) >= rule.max_drops(config) or any(v is None for v in values):
            return
        found = rule.find_outlier([v for v in values if v is not None])
        if found is not None:
            dropped.append(DroppedRepetition(kept.pop(found.position), "outlier", found.detail))

    def _repetition(
        self, index: int, pass_fn: Callable[[], T], queries_per_pass: int, results: list[T]
    ) -> Repetition:
        """One window of whole passes lasting at least ``min_window_s``; results go to ``results``."""
        what = f"repetition {index}"
        key = window_key()
        clock = self.clock
        _window_opened()
        try:
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
        finally:
            _window_closed()
        return Repetition(
            index=index,
            passes=passes,
            queries=passes * queries_per_pass,
            seconds=seconds,
            gpu_energy_j=window.gpu_j,
            cpu_energy_j=window.cpu_j,
            dram_energy_j=window.dram_j,
            nvml_counter_j=window.nvml_j,
            crosscheck=window.crosscheck,
            temperature_c=self._temperature(f"after {what}"),
        )
