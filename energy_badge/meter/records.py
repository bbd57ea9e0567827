"""The meter's records and settings: frozen, and reused as they are by the result file.

:class:`MeterConfig` says how to measure; one call of ``measure`` returns a
:class:`PhaseMeasurement` holding :class:`Repetition` windows, an optional :class:`IdleSample` and
the :class:`Isolation` check. :class:`Clock` is the time source the loop reads and sleeps on
(the real one by default; tests inject a simulated one).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Generic, Literal, Protocol, TypeVar

from energy_badge.errors import UsageError
from energy_badge.hardware import GPUProcess, GPUState
from energy_badge.stats import Stats

#: The most repetitions a phase may run.
MAX_REPETITIONS_LIMIT = 10
#: The value of ``PhaseMeasurement.energy_source`` for energy runs.
ENERGY_SOURCE = "nvml_total_energy_counter"
#: Joules per watt-hour.
_J_PER_WH = 3600.0

StopReason = Literal["ci_target_met", "max_repetitions", "performance_only"]

#: What the pass function of a phase returns (its results are kept in ``pass_results``).
T = TypeVar("T")


def wh_per_1k(joules: float | None, queries: int) -> float | None:
    """Convert joules over ``queries`` queries to Wh per 1000 queries (None for None or no queries)."""
    if joules is None or queries <= 0:
        return None
    return joules / queries * 1000.0 / _J_PER_WH


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


class Clock(Protocol):
    """What the meter's loop reads time from and sleeps on.

    Calling it returns seconds on a monotonic clock; :meth:`sleep` waits. A test passes a
    simulated clock (``tests/fake_clock.py``) whose time moves only when something sleeps; its
    pass function must then advance it (sleep on it), or a repetition window never fills.
    """

    def __call__(self) -> float:
        """Return the current time in seconds (monotonic)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock: :func:`time.perf_counter` and :func:`time.sleep`."""

    def __call__(self) -> float:
        """Return :func:`time.perf_counter`."""
        return time.perf_counter()

    def sleep(self, seconds: float) -> None:
        """Call :func:`time.sleep`."""
        time.sleep(seconds)


#: The default clock of every meter.
SYSTEM_CLOCK = SystemClock()


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeterConfig:
    """How to measure.

    Attributes:
        min_repetitions: repetitions always run (at least 2 for an energy run, so an interval exists).
        max_repetitions: repetitions at most (at most 10).
        target_ci_rel: stop once the 95 % CI half-width of GPU Wh/1000 queries is at most this
            fraction of the mean (0.01 = 1 %).
        min_window_s: a repetition lasts at least this long: short workloads are looped.
        idle_seconds: length of the idle sample; 0 skips it.
        warmup_passes: passes of the workload run as warm-up when no ``warmup`` callable is given.
        warmup_max_s: for callers that can stop a pass early (``measure`` does, through
            ``TaskRunner.run_warmup``): the warm-up runs the workload's queries in order until this
            many seconds have passed, or one whole pass if that is shorter. The meter itself does
            not use it.
        gpu_index: CUDA index of the GPU to measure (after ``CUDA_VISIBLE_DEVICES``, as Zeus reads it).
        allow_shared_gpu: measure even if another process uses the GPU (recorded in the result).

    Raises:
        UsageError: on construction, for a value out of range.
    """

    min_repetitions: int = 3
    max_repetitions: int = 10
    target_ci_rel: float = 0.01
    min_window_s: float = 5.0
    idle_seconds: float = 5.0
    warmup_passes: int = 1
    warmup_max_s: float = 10.0
    gpu_index: int = 0
    allow_shared_gpu: bool = False

    def __post_init__(self) -> None:
        def integer(name: str) -> int:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise UsageError(f"{name} must be an integer, not {value!r}")
            return value

        def number(name: str) -> float:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise UsageError(f"{name} must be a number, not {value!r}")
            return float(value)

        low, high = integer("min_repetitions"), integer("max_repetitions")
        if not 1 <= low <= high <= MAX_REPETITIONS_LIMIT:
            raise UsageError(
                f"repetitions must satisfy 1 <= min ({low}) <= max ({high}) <= {MAX_REPETITIONS_LIMIT}"
            )
        if not 0 < number("target_ci_rel") < 1:
            raise UsageError(f"target_ci_rel must be between 0 and 1 (0.01 = 1 %), not {self.target_ci_rel}")
        if not 0 < number("min_window_s") <= 3600:
            raise UsageError(f"min_window_s must be above 0 s and at most an hour, not {self.min_window_s}")
        if not 0 <= number("idle_seconds") <= 3600:
            raise UsageError(f"idle_seconds must be between 0 and 3600, not {self.idle_seconds}")
        if not 0 <= number("warmup_max_s") <= 3600:
            raise UsageError(f"warmup_max_s must be between 0 and 3600, not {self.warmup_max_s}")
        if integer("warmup_passes") < 0:
            raise UsageError(f"warmup_passes must be 0 or more, not {self.warmup_passes}")
        if integer("gpu_index") < 0:
            raise UsageError(f"gpu_index must be 0 or more, not {self.gpu_index}")
        if not isinstance(self.allow_shared_gpu, bool):
            raise UsageError(f"allow_shared_gpu must be true or false, not {self.allow_shared_gpu!r}")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form: the fields by name (``MeterConfig(**config.to_dict())`` round-trips)."""
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Repetition:
    """One measured repetition: whole passes of the workload in one energy window.

    Attributes:
        index: 1-based number of the repetition within its phase.
        passes: whole passes of the workload run in the window (more than 1 when a pass is
            shorter than ``min_window_s``).
        queries: queries run in the window (``passes * queries_per_pass``).
        seconds: duration of the window (monotonic clock).
        gpu_energy_j: GPU energy in the window from the NVML counter; None for performance-only runs.
        cpu_energy_j: CPU package energy from RAPL (all packages); None where Zeus has no RAPL.
        dram_energy_j: DRAM energy from RAPL; None where Zeus has no DRAM counter.
        nvml_counter_j: the same GPU's energy over the same window read independently of Zeus,
            straight from NVML's total-energy counter by this meter (a cross-check of
            ``gpu_energy_j``); None for performance-only runs.
    """

    index: int
    passes: int
    queries: int
    seconds: float
    gpu_energy_j: float | None
    cpu_energy_j: float | None = None
    dram_energy_j: float | None = None
    nvml_counter_j: float | None = None

    @property
    def wh_per_1k(self) -> float | None:
        """GPU energy in Wh per 1000 queries (``gpu_energy_j / queries * 1000 / 3600``)."""
        return wh_per_1k(self.gpu_energy_j, self.queries)

    @property
    def cpu_wh_per_1k(self) -> float | None:
        """CPU energy in Wh per 1000 queries, None when not measured."""
        return wh_per_1k(self.cpu_energy_j, self.queries)

    @property
    def dram_wh_per_1k(self) -> float | None:
        """DRAM energy in Wh per 1000 queries, None when not measured."""
        return wh_per_1k(self.dram_energy_j, self.queries)

    @property
    def queries_per_second(self) -> float:
        """Throughput in the window."""
        return self.queries / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class IdleSample:
    """GPU energy while nothing runs, before the warm-up. Recorded, never subtracted.

    Attributes:
        seconds: length of the window.
        gpu_energy_j: GPU energy in the window.
        gpu_power_w: mean GPU power (``gpu_energy_j / seconds``).
        nvml_counter_j: the window's energy read straight from NVML by this meter (cross-check).
    """

    seconds: float
    gpu_energy_j: float
    gpu_power_w: float
    nvml_counter_j: float | None = None


@dataclass(frozen=True)
class Isolation:
    """The check for other processes on the measured GPU, over a whole phase.

    Attributes:
        checked: whether NVML's process lists could be read (False for a performance-only run
            without NVML).
        other_processes: every other process seen on the GPU during the phase, by pid (empty
            unless ``allow_shared_gpu``, since the energy meter refuses otherwise; a performance
            meter records without refusing).
        allow_shared_gpu: whether the run was allowed to share the GPU.
    """

    checked: bool
    other_processes: tuple[GPUProcess, ...]
    allow_shared_gpu: bool


@dataclass(frozen=True)
class PhaseMeasurement(Generic[T]):
    """Everything one call of ``measure`` observed.

    Attributes:
        repetitions: the measured repetitions, in order.
        stopped_because: ``"ci_target_met"`` (early stop), ``"max_repetitions"`` or
            ``"performance_only"`` (a performance meter, which runs ``min_repetitions``).
        warmup_seconds: time taken by the warm-up.
        idle: the idle sample, None when not taken (performance-only, ``measure_idle=False``,
            ``idle_seconds == 0``).
        gpu_state_start: clocks, temperature and power of the measured GPU just before the first
            repetition, one element (empty without NVML).
        gpu_state_end: the same just after the last repetition.
        isolation: the check for other processes on the GPU.
        energy_source: ``"nvml_total_energy_counter"``, or None for performance-only runs.
        gpu_wh_per_1k: statistics of GPU Wh per 1000 queries over the repetitions (None without energy).
        cpu_wh_per_1k: the same for CPU energy, None unless every repetition has it.
        dram_wh_per_1k: the same for DRAM energy.
        pass_results: what ``pass_fn`` returned for each measured pass, in order (warm-up excluded).
        config: the configuration used.
        queries_per_pass: queries in one pass of the workload.
    """

    repetitions: tuple[Repetition, ...]
    stopped_because: StopReason
    warmup_seconds: float
    idle: IdleSample | None
    gpu_state_start: tuple[GPUState, ...]
    gpu_state_end: tuple[GPUState, ...]
    isolation: Isolation
    energy_source: str | None
    gpu_wh_per_1k: Stats | None
    cpu_wh_per_1k: Stats | None
    dram_wh_per_1k: Stats | None
    pass_results: tuple[T, ...] = field(default=(), repr=False)
    config: MeterConfig = field(default_factory=MeterConfig)
    queries_per_pass: int = 1

    @property
    def total_queries(self) -> int:
        """Queries run over all repetitions."""
        return sum(rep.queries for rep in self.repetitions)

    @property
    def total_seconds(self) -> float:
        """Measured seconds over all repetitions."""
        return sum(rep.seconds for rep in self.repetitions)
