"""The meter's records and settings: frozen, and reused as they are by the result file.

:class:`MeterConfig` says how to measure; one call of ``measure`` returns a
:class:`PhaseMeasurement` holding the kept :class:`Repetition` windows, the
:class:`DroppedRepetition` ones beside them, the :class:`StopOutcome` of the stop rule, an optional
:class:`IdleSample` and the :class:`Isolation` check. Each energy window carries its
:class:`CrossCheck` (the energy counter against the integral of sampled power). :class:`Clock` is
the time source the loop and the power sampler read and wait on (the real one by default; tests
inject a simulated one).
"""

from __future__ import annotations

import threading
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
#: A window's cross-check: the counter's energy within the bound of the sampled power's, outside
#: it, or too few / too sparse samples to tell.
Verdict = Literal["agree", "disagree", "inconclusive"]

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

    def wait_until(self, deadline: float, stop: threading.Event) -> bool:
        """Wait until this clock reads ``deadline`` or ``stop`` is set (the power sampler's wait).

        A clock without this method is waited on in short real-time steps instead; a simulated
        clock implements it so that background waiters wake at exact simulated times.

        Returns:
            True at the deadline, False if ``stop`` was set first.
        """
        return not stop.wait(max(0.0, deadline - self()))


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
        idle_reuse_s: an energy meter may reuse, instead of a new idle sample, one taken on the
            same GPU by this process at most this many seconds ago (recorded with its age:
            :mod:`energy_badge.meter.baseline`); 0 (the default) always takes a new one.
        warmup_passes: passes of the workload run as warm-up when no ``warmup`` callable is given.
        warmup_max_s: for callers that can stop a pass early (``measure`` does, through
            ``TaskRunner.run_warmup``): the warm-up runs the workload's queries in order until this
            many seconds have passed, or one whole pass if that is shorter. The meter itself does
            not use it.
        gpu_index: CUDA index of the GPU to measure (after ``CUDA_VISIBLE_DEVICES``); matched
            to its NVML device by UUID or PCI bus id where CUDA says them.
        allow_shared_gpu: measure even if another process uses the GPU, or when the process list
            cannot be read (recorded in the result).
        sample_interval_s: period of the power sampler that cross-checks each energy window.
        strict: refuse (``MeterError``) a window whose cross-check disagrees, instead of
            recording it (``measure --strict``).

    Raises:
        UsageError: on construction, for a value out of range.
    """

    min_repetitions: int = 3
    max_repetitions: int = 10
    target_ci_rel: float = 0.01
    min_window_s: float = 5.0
    idle_seconds: float = 5.0
    idle_reuse_s: float = 0.0
    warmup_passes: int = 1
    warmup_max_s: float = 10.0
    gpu_index: int = 0
    allow_shared_gpu: bool = False
    sample_interval_s: float = 0.02
    strict: bool = False

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
        if not 0 <= number("idle_reuse_s") <= 3600:
            raise UsageError(f"idle_reuse_s must be between 0 and 3600, not {self.idle_reuse_s}")
        if not 0 <= number("warmup_max_s") <= 3600:
            raise UsageError(f"warmup_max_s must be between 0 and 3600, not {self.warmup_max_s}")
        if integer("warmup_passes") < 0:
            raise UsageError(f"warmup_passes must be 0 or more, not {self.warmup_passes}")
        if integer("gpu_index") < 0:
            raise UsageError(f"gpu_index must be 0 or more, not {self.gpu_index}")
        for flag in ("allow_shared_gpu", "strict"):
            if not isinstance(getattr(self, flag), bool):
                raise UsageError(f"{flag} must be true or false, not {getattr(self, flag)!r}")
        if not 0.001 <= number("sample_interval_s") <= 1:
            raise UsageError(f"sample_interval_s must be between 0.001 and 1 s, not {self.sample_interval_s}")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form: the fields by name (``MeterConfig(**config.to_dict())`` round-trips)."""
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrossCheck:
    """One energy window checked against a second source: NVML's instantaneous power, sampled.

    A background thread samples the GPU's instantaneous power (and the energy counter, to see
    how often it updates) every ``sample_interval_s`` of the meter's clock; the trapezoidal
    integral of the samples over the window is compared with the counter's energy (Zeus's figure).

    Attributes:
        power_energy_j: the integral of the sampled power over the window, None without samples.
        samples: power samples taken (the window's first and last included).
        sample_interval_s: the sampler's period.
        max_gap_s: the longest time between two consecutive samples.
        counter_update_s: the counter's update period as observed at the sampler's resolution
            (median time between changes of its value), None with fewer than three changes.
        bound_j: the largest difference that still agrees: ``CROSSCHECK_REL_BOUND`` of
            ``power_energy_j`` plus two counter updates' worth of energy at the window's mean
            power; None when inconclusive.
        verdict: ``agree``, ``disagree`` (beyond the bound), or ``inconclusive`` (fewer than
            ``CROSSCHECK_MIN_SAMPLES`` samples, or a gap longer than ``CROSSCHECK_MAX_GAP`` periods).
    """

    power_energy_j: float | None
    samples: int
    sample_interval_s: float
    max_gap_s: float
    counter_update_s: float | None
    bound_j: float | None
    verdict: Verdict


@dataclass(frozen=True)
class Repetition:
    """One measured repetition: whole passes of the workload in one energy window.

    Attributes:
        index: 1-based number of the window within its phase (dropped windows count).
        passes: whole passes of the workload run in the window (more than 1 when a pass is
            shorter than ``min_window_s``).
        queries: queries run in the window (``passes * queries_per_pass``).
        seconds: duration of the window (monotonic clock).
        gpu_energy_j: GPU energy in the window from the NVML counter; None for performance-only runs.
        cpu_energy_j: CPU package energy from RAPL (all packages); None where Zeus has no RAPL.
        dram_energy_j: DRAM energy from RAPL; None where Zeus has no DRAM counter.
        nvml_counter_j: the same counter read by this meter itself just outside Zeus's window
            (raw data: it shares Zeus's source, so it cannot disagree with it); None without energy.
        crosscheck: the window against sampled power; None for performance-only runs and older results.
        temperature_c: the GPU's temperature just after the window (the drift check reads it);
            None without NVML and in older results.
    """

    index: int
    passes: int
    queries: int
    seconds: float
    gpu_energy_j: float | None
    cpu_energy_j: float | None = None
    dram_energy_j: float | None = None
    nvml_counter_j: float | None = None
    crosscheck: CrossCheck | None = None
    temperature_c: float | None = None

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
class DroppedRepetition:
    """A repetition the outlier guard left out of the figures, with why (never dropped silently).

    Attributes:
        repetition: the window as measured.
        reason: ``outlier`` (the only reason so far).
        detail: the rule's numbers in words (median, robust z, leave-one-out t).
    """

    repetition: Repetition
    reason: Literal["outlier"]
    detail: str


@dataclass(frozen=True)
class IdleSample:
    """GPU energy while nothing runs, before the warm-up. Recorded, never subtracted.

    Attributes:
        seconds: length of the window.
        gpu_energy_j: GPU energy in the window.
        gpu_power_w: mean GPU power (``gpu_energy_j / seconds``).
        nvml_counter_j: the window's energy read straight from NVML's counter by this meter.
        crosscheck: the window against sampled power (None in older results).
        age_s: None when the sample was taken for this measurement; else it was reused (see
            :mod:`energy_badge.meter.baseline`), taken this many seconds before this
            measurement's warm-up on the same GPU, by an earlier measurement of the same process.
    """

    seconds: float
    gpu_energy_j: float
    gpu_power_w: float
    nvml_counter_j: float | None = None
    crosscheck: CrossCheck | None = None
    age_s: float | None = None


@dataclass(frozen=True)
class Isolation:
    """The check for other processes on the measured GPU, over a whole phase.

    Attributes:
        checked: whether NVML's process lists were asked (False for a performance-only run
            without NVML).
        other_processes: every other process seen on the GPU during the phase, by pid (empty
            unless ``allow_shared_gpu``, since the energy meter refuses otherwise; a performance
            meter records without refusing).
        allow_shared_gpu: whether the run was allowed to share the GPU.
        unknown_reason: why the check could not be completed (NVML refused a process list), None
            when it was; such a result is not canonical unless ``allow_shared_gpu``.
        attributed_pid: a pid NVML listed that is not visible in this process's pid namespace
            and was taken to be this process under its host pid (a container whose driver
            reports host pids), None when none was.
    """

    checked: bool
    other_processes: tuple[GPUProcess, ...]
    allow_shared_gpu: bool
    unknown_reason: str | None = None
    attributed_pid: int | None = None


@dataclass(frozen=True)
class Drift:
    """Whether the repetitions drift (a trend across them, or a GPU still warming up).

    Attributes:
        detected: a drift was seen at some point of the phase (the rule then ran every repetition).
        reason: what was seen, in words; None when nothing was.
        slope_rel: least-squares slope of the kept repetitions' energy per repetition, as a
            fraction of their mean; None with fewer than 3.
        slope_t: that slope over its standard error; None with fewer than 3 repetitions (or
            when they lie exactly on a line).
        temperature_rise_c: GPU temperature after the last kept repetition minus after the
            first; None where the temperature is unknown.
    """

    detected: bool
    reason: str | None
    slope_rel: float | None
    slope_t: float | None
    temperature_rise_c: float | None


@dataclass(frozen=True)
class StopOutcome:
    """How the stop rule ended a phase, and what its interval means.

    Attributes:
        rule: the rule's name and version (``STOP_RULE``).
        target_met: the reported 95 % interval's half-width is at most ``target_ci_rel`` of the mean.
        interval: ``target`` (the rule stopped early: the interval is the mean +- the target,
            which keeps 95 % coverage under early stopping) or ``t`` (Student's t interval of
            the kept repetitions).
        t_half_width: the plain t interval's half-width of the kept repetitions, for reference.
        drift: the drift check.
    """

    rule: str
    target_met: bool
    interval: Literal["target", "t"]
    t_half_width: float | None
    drift: Drift


@dataclass(frozen=True)
class PhaseMeasurement(Generic[T]):
    """Everything one call of ``measure`` observed.

    Attributes:
        repetitions: the kept repetitions, in order (the figures are theirs).
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
        gpu_wh_per_1k: statistics of GPU Wh per 1000 queries over the kept repetitions, with the
            interval the stop rule reports (see :class:`StopOutcome`); None without energy.
        cpu_wh_per_1k: the same for CPU energy (t interval), None unless every repetition has it.
        dram_wh_per_1k: the same for DRAM energy.
        pass_results: what ``pass_fn`` returned for each measured pass, in order (warm-up excluded).
        config: the configuration used.
        queries_per_pass: queries in one pass of the workload.
        dropped: repetitions the outlier guard left out, with the reason.
        outcome: the stop rule's outcome (None for performance-only runs).
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
    dropped: tuple[DroppedRepetition, ...] = ()
    outcome: StopOutcome | None = None

    @property
    def total_queries(self) -> int:
        """Queries run over the kept repetitions."""
        return sum(rep.queries for rep in self.repetitions)

    @property
    def total_seconds(self) -> float:
        """Measured seconds over the kept repetitions."""
        return sum(rep.seconds for rep in self.repetitions)
