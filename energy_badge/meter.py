"""The meter stage: measure a workload's GPU energy per query with Zeus, repeated until it is stable.

One measurement (a *phase*) runs, in order:

1. an isolation check: no other process may hold a context on the GPU (NVML's compute, graphics
   and MPS process lists, our own pid excluded), or :class:`~energy_badge.errors.SharedGPUError`
   unless ``allow_shared_gpu`` (which is recorded, with the processes seen);
2. an idle sample: ``idle_seconds`` of nothing in a Zeus window, recorded as joules and watts and
   never subtracted from the headline figure;
3. the warm-up (the caller's ``warmup`` callable, or ``warmup_passes`` passes of the workload), timed
   but not measured;
4. repetitions of the whole workload, each in its own Zeus window, between ``min_repetitions`` and
   ``max_repetitions``, stopping as soon as the 95 % confidence half-width of GPU Wh per 1000
   queries is at most ``target_ci_rel`` of the mean. A pass shorter than ``min_window_s`` is
   repeated (whole passes) until the window lasts that long, because the NVML energy counter only
   updates about every 100 ms; energy is then divided by all the queries run in the window. The
   isolation check runs before and after every repetition.

The GPU energy comes from the NVML total-energy counter (Volta or newer) read by Zeus's
``ZeusMonitor``; CPU and DRAM energy come from Zeus's RAPL reader where it has one, else they are
None (never estimated). A counter that does not advance, or goes backwards, is refused. As a
cross-check, the meter also reads that counter itself through nvidia-ml-py just outside each Zeus
window and records the difference (``nvml_counter_j``) next to Zeus's figure; it is raw data, not
used in the headline figure.

Synchronisation: Zeus's windows would call ``torch.cuda.synchronize`` themselves; the meter passes
``sync_execution=False`` and instead requires the caller's pass function to synchronise before it
returns (``torch.cuda.synchronize()``), so that all the GPU work of a pass lies inside the window
and the meter itself does not depend on torch.

``zeus`` and ``pynvml`` are imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from energy_badge import hardware
from energy_badge.errors import MeterError, NoEnergyCounterError, SharedGPUError, UsageError
from energy_badge.hardware import GPUState, HardwareInfo
from energy_badge.stats import Stats, summarize

logger = logging.getLogger(__name__)

#: The most repetitions a phase may run.
MAX_REPETITIONS_LIMIT = 10
#: The value of ``PhaseMeasurement.energy_source`` for energy runs.
ENERGY_SOURCE = "nvml_total_energy_counter"
#: Joules per watt-hour.
_J_PER_WH = 3600.0

StopReason = Literal["ci_target_met", "max_repetitions", "performance_only"]
_window_ids = itertools.count(1)


def _wh_per_1k(joules: float | None, queries: int) -> float | None:
    if joules is None or queries <= 0:
        return None
    return joules / queries * 1000.0 / _J_PER_WH


# --------------------------------------------------------------------------------------------
# Data objects
# --------------------------------------------------------------------------------------------


@dataclass
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

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return asdict(self)


@dataclass
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
        return _wh_per_1k(self.gpu_energy_j, self.queries)

    @property
    def cpu_wh_per_1k(self) -> float | None:
        """CPU energy in Wh per 1000 queries, None when not measured."""
        return _wh_per_1k(self.cpu_energy_j, self.queries)

    @property
    def dram_wh_per_1k(self) -> float | None:
        """DRAM energy in Wh per 1000 queries, None when not measured."""
        return _wh_per_1k(self.dram_energy_j, self.queries)

    @property
    def queries_per_second(self) -> float:
        """Throughput in the window."""
        return self.queries / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: the fields plus the derived per-1000-queries figures."""
        data = asdict(self)
        data["wh_per_1k"] = self.wh_per_1k
        data["cpu_wh_per_1k"] = self.cpu_wh_per_1k
        data["dram_wh_per_1k"] = self.dram_wh_per_1k
        data["queries_per_second"] = self.queries_per_second
        return data


@dataclass
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

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return asdict(self)


@dataclass
class PhaseMeasurement:
    """Everything one call of ``measure`` observed.

    Attributes:
        repetitions: the measured repetitions, in order.
        stopped_because: ``"ci_target_met"`` (early stop), ``"max_repetitions"`` or
            ``"performance_only"`` (a performance meter, which runs ``min_repetitions``).
        warmup_seconds: wall time of the warm-up.
        idle: the idle sample, None when not taken (performance-only, ``measure_idle=False``,
            ``idle_seconds == 0``).
        gpu_state_start: clocks, temperature and power of the measured GPU just before the first
            repetition, as a one-element list (empty without NVML).
        gpu_state_end: the same just after the last repetition.
        isolation: ``{"checked": bool, "other_processes": [...], "allow_shared_gpu": bool}``;
            ``other_processes`` lists every other process seen on the GPU during the phase (empty
            unless ``allow_shared_gpu``, since the meter refuses otherwise; a performance meter
            records without refusing).
        energy_source: ``"nvml_total_energy_counter"``, or None for performance-only runs.
        gpu_wh_per_1k: statistics of GPU Wh per 1000 queries over the repetitions (None without energy).
        cpu_wh_per_1k: the same for CPU energy, None unless every repetition has it.
        dram_wh_per_1k: the same for DRAM energy.
        pass_results: what ``pass_fn`` returned for each measured pass, in order (warm-up
            excluded); not part of :meth:`to_dict`.
        config: the configuration used.
        queries_per_pass: queries in one pass of the workload.
    """

    repetitions: list[Repetition]
    stopped_because: StopReason
    warmup_seconds: float
    idle: IdleSample | None
    gpu_state_start: list[GPUState]
    gpu_state_end: list[GPUState]
    isolation: dict[str, Any]
    energy_source: str | None
    gpu_wh_per_1k: Stats | None
    cpu_wh_per_1k: Stats | None
    dram_wh_per_1k: Stats | None
    pass_results: list[Any] = field(default_factory=list, repr=False)
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

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (everything except ``pass_results``)."""
        return {
            "repetitions": [rep.to_dict() for rep in self.repetitions],
            "stopped_because": self.stopped_because,
            "warmup_seconds": self.warmup_seconds,
            "idle": None if self.idle is None else self.idle.to_dict(),
            "gpu_state_start": [state.to_dict() for state in self.gpu_state_start],
            "gpu_state_end": [state.to_dict() for state in self.gpu_state_end],
            "isolation": {
                "checked": self.isolation["checked"],
                "other_processes": [dict(p) for p in self.isolation["other_processes"]],
                "allow_shared_gpu": self.isolation["allow_shared_gpu"],
            },
            "energy_source": self.energy_source,
            "gpu_wh_per_1k": None if self.gpu_wh_per_1k is None else self.gpu_wh_per_1k.to_dict(),
            "cpu_wh_per_1k": None if self.cpu_wh_per_1k is None else self.cpu_wh_per_1k.to_dict(),
            "dram_wh_per_1k": None if self.dram_wh_per_1k is None else self.dram_wh_per_1k.to_dict(),
            "queries_per_pass": self.queries_per_pass,
            "total_queries": self.total_queries,
            "total_seconds": self.total_seconds,
            "config": self.config.to_dict(),
        }


# --------------------------------------------------------------------------------------------
# The loop, shared by both meters
# --------------------------------------------------------------------------------------------


@dataclass
class _Window:
    """What a meter's window returned: seconds measured by the loop, energies by the meter."""

    gpu_j: float | None = None
    cpu_j: float | None = None
    dram_j: float | None = None
    nvml_j: float | None = None


class _Meter:
    """The measurement loop; subclasses supply windows, state snapshots and isolation checks."""

    config: MeterConfig
    energy_source: str | None = None

    # Hooks ----------------------------------------------------------------------------------
    def _begin(self, key: str, what: str) -> None:
        raise NotImplementedError

    def _end(self, key: str, what: str) -> _Window:
        raise NotImplementedError

    def _cancel(self, key: str) -> None:
        """Drop a window left open by an exception."""

    def _state(self, what: str) -> list[GPUState]:
        return []

    def _isolation(self, what: str, seen: dict[int, dict[str, Any]]) -> bool:
        """Check for other processes; add them to ``seen``; return whether a check was made."""
        return False

    def _idle(self, seconds: float) -> IdleSample | None:
        return None

    def _stop_rule(self, reps: list[Repetition], stats: Stats | None) -> StopReason | None:
        raise NotImplementedError

    # The loop -------------------------------------------------------------------------------
    def measure(
        self,
        pass_fn: Callable[[], Any],
        queries_per_pass: int,
        *,
        warmup: Callable[[], Any] | None = None,
        on_repetition: Callable[[Repetition, Stats | None], None] | None = None,
        measure_idle: bool = True,
    ) -> PhaseMeasurement:
        """Measure repetitions of ``pass_fn`` (see the module docstring for the sequence).

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
            The :class:`PhaseMeasurement`.

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
        config = self.config
        seen: dict[int, dict[str, Any]] = {}
        checked = self._isolation("before the idle sample and warm-up", seen)

        idle = None
        if measure_idle and config.idle_seconds > 0:
            idle = self._idle(config.idle_seconds)

        started = time.perf_counter()
        if warmup is not None:
            warmup()
        else:
            for _ in range(config.warmup_passes):
                pass_fn()
        warmup_seconds = time.perf_counter() - started

        state_start = self._state("before the first repetition")
        repetitions: list[Repetition] = []
        pass_results: list[Any] = []
        stats: Stats | None = None
        stopped: StopReason | None = None
        for index in range(1, config.max_repetitions + 1):
            what = f"repetition {index}"
            checked = self._isolation(f"before {what}", seen) or checked
            rep = self._repetition(index, pass_fn, queries_per_pass, pass_results)
            checked = self._isolation(f"after {what}", seen) or checked
            repetitions.append(rep)
            values = [r.wh_per_1k for r in repetitions]
            stats = summarize(values) if len(values) >= 2 and None not in values else None  # type: ignore[arg-type]
            if on_repetition is not None:
                on_repetition(rep, stats)
            stopped = self._stop_rule(repetitions, stats)
            if stopped is not None:
                break
        state_end = self._state(f"after repetition {len(repetitions)}")

        return PhaseMeasurement(
            repetitions=repetitions,
            stopped_because=stopped or "max_repetitions",
            warmup_seconds=warmup_seconds,
            idle=idle,
            gpu_state_start=state_start,
            gpu_state_end=state_end,
            isolation={
                "checked": checked,
                "other_processes": sorted(seen.values(), key=lambda p: p["pid"]),
                "allow_shared_gpu": config.allow_shared_gpu,
            },
            energy_source=self.energy_source,
            gpu_wh_per_1k=_stats_of([r.wh_per_1k for r in repetitions]),
            cpu_wh_per_1k=_stats_of([r.cpu_wh_per_1k for r in repetitions]),
            dram_wh_per_1k=_stats_of([r.dram_wh_per_1k for r in repetitions]),
            pass_results=pass_results,
            config=config,
            queries_per_pass=queries_per_pass,
        )

    def _repetition(
        self, index: int, pass_fn: Callable[[], Any], queries_per_pass: int, results: list[Any]
    ) -> Repetition:
        what = f"repetition {index}"
        key = f"energy-badge-{next(_window_ids)}"
        self._begin(key, what)
        try:
            started = time.perf_counter()
            passes = 0
            while True:
                results.append(pass_fn())
                passes += 1
                if time.perf_counter() - started >= self.config.min_window_s:
                    break
            seconds = time.perf_counter() - started
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


def _stats_of(values: list[float | None]) -> Stats | None:
    if not values or any(v is None for v in values):
        return None
    return summarize(values)  # type: ignore[arg-type]


def _no_counter(found: str) -> NoEnergyCounterError:
    found = found.rstrip(".")
    return NoEnergyCounterError(
        "no GPU energy counter: looked for the NVML library (NVIDIA driver), at least one visible "
        f"NVIDIA GPU, and a Volta-or-newer GPU with the NVML total-energy counter; found: {found}. "
        "Use --no-energy for a performance-only run"
    )


def _sum(values: dict[int, float] | None) -> float | None:
    if not values:
        return None
    return float(sum(values.values()))


# --------------------------------------------------------------------------------------------
# Energy meter
# --------------------------------------------------------------------------------------------


class EnergyMeter(_Meter):
    """Measures GPU energy with Zeus's ``ZeusMonitor`` on one GPU (plus CPU/DRAM via RAPL if present).

    The constructor checks, in order: the NVML bindings import, NVML initialises, at least one
    GPU is visible, the requested index exists, the GPU has a readable total-energy counter
    (Volta or newer), Zeus can read ``CUDA_VISIBLE_DEVICES`` and Zeus opens the GPU; then it
    opens and closes one Zeus window, which also starts Zeus's RAPL helpers outside any
    measured window.

    Use it as a context manager, or call :meth:`close`, to release NVML.
    """

    energy_source = ENERGY_SOURCE

    def __init__(self, config: MeterConfig | None = None) -> None:
        """Open the meter.

        Args:
            config: how to measure; the default :class:`MeterConfig` if None.

        Raises:
            UsageError: if ``min_repetitions`` is below 2 (an energy run needs an interval) or
                ``gpu_index`` names no visible GPU.
            NoEnergyCounterError: if no GPU energy counter can be read here; the one-line message
                says what was looked for and what was found.
        """
        self.config = config or MeterConfig()
        if self.config.min_repetitions < 2:
            raise UsageError(
                f"an energy measurement needs at least 2 repetitions for a confidence interval, "
                f"not {self.config.min_repetitions}"
            )
        try:
            import pynvml
        except ImportError as error:
            raise _no_counter(
                f"the NVML bindings are not installed (pip install nvidia-ml-py): {error}"
            ) from error
        self._pynvml = pynvml
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as error:
            raise _no_counter(f"NVML did not initialise ({error})") from error
        self._held = True
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        pynvml = self._pynvml
        index = self.config.gpu_index
        try:
            count = pynvml.nvmlDeviceGetCount()
            visible = hardware.visible_nvml_indices(pynvml)
        except pynvml.NVMLError as error:
            raise _no_counter(f"NVML could not list GPUs ({error})") from error
        if not visible:
            env = os.environ.get("CUDA_VISIBLE_DEVICES")
            where = f" with CUDA_VISIBLE_DEVICES={env!r}" if env is not None else ""
            raise _no_counter(f"NVML works but sees no GPU ({count} in total{where})")
        self._hardware = hardware.probe_hardware([index])
        gpu = self._hardware.gpus[0]
        self._name = f"GPU {index} ({gpu.name})"
        handle = pynvml.nvmlDeviceGetHandleByIndex(visible[index])
        self._handle = handle
        self._raw_start: dict[str, int] = {}
        if not gpu.energy_counter:
            arch = hardware._architecture_name(pynvml, handle) or "unknown architecture"
            raise _no_counter(f"{self._name}, {arch}, without a readable total-energy counter")
        if problem := hardware.zeus_can_map_visible_devices():
            raise _no_counter(f"{problem}")

        from zeus.device.exception import ZeusBaseGPUError
        from zeus.monitor import ZeusMonitor

        self._zeus_gpu_error: type[Exception] = ZeusBaseGPUError
        try:
            self._monitor = ZeusMonitor(gpu_indices=[index])
            gpus = self._monitor.gpus
            ok = len(gpus) > index and gpus.supports_get_total_energy_consumption(index)
        except Exception as error:  # Zeus raises ValueError, its own errors, ...
            raise _no_counter(f"Zeus could not open {self._name}: {error}") from error
        if not ok:
            # Zeus swallows a failed GPU initialisation and then returns empty dicts.
            raise _no_counter(f"Zeus sees {len(gpus)} GPU(s) and no energy counter on {self._name}")
        key = f"energy-badge-prime-{next(_window_ids)}"
        self._begin(key, "the first Zeus window")
        window = self._end(key, "the first Zeus window", check_delta=False)
        if window.gpu_j is None:
            raise _no_counter(f"Zeus returned no energy for {self._name}")

    @property
    def hardware(self) -> HardwareInfo:
        """The measured GPU, the driver and the CPU."""
        return self._hardware

    def close(self) -> None:
        """Release this meter's NVML reference (Zeus keeps its own). Idempotent."""
        if getattr(self, "_held", False):
            self._held = False
            with contextlib.suppress(Exception):
                self._pynvml.nvmlShutdown()

    def __enter__(self) -> EnergyMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Hooks ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _nvml_errors(self, what: str) -> Iterator[None]:
        """Turn an NVML error (raw or wrapped by Zeus) into a MeterError naming the GPU and step."""
        try:
            yield
        except self._pynvml.NVMLError as error:
            raise MeterError(f"NVML error on {self._name} during {what}: {error}") from error
        except self._zeus_gpu_error as error:
            raise MeterError(f"NVML error on {self._name} during {what}: {error}") from error

    def _raw_counter_mj(self) -> int:
        """NVML's total-energy counter (mJ), read by this meter itself, not through Zeus."""
        return int(self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))

    def _begin(self, key: str, what: str) -> None:
        # The independent read brackets Zeus's window: ours first here, last in _end.
        with self._nvml_errors(what):
            self._raw_start[key] = self._raw_counter_mj()
            self._monitor.begin_window(key, sync_execution=False)

    def _end(self, key: str, what: str, check_delta: bool = True) -> _Window:  # type: ignore[override]
        with self._nvml_errors(what), warnings.catch_warnings():
            # Zeus warns about a zero reading; a zero reading is refused below, with more detail.
            warnings.filterwarnings("ignore", message=".*measured as zero.*")
            measurement = self._monitor.end_window(key, sync_execution=False)
            raw_end = self._raw_counter_mj()
        raw_start = self._raw_start.pop(key, None)
        nvml_j = None if raw_start is None else (raw_end - raw_start) / 1000.0
        index = self.config.gpu_index
        gpu_j = measurement.gpu_energy.get(index)
        if gpu_j is None:
            raise MeterError(f"Zeus returned no GPU energy for {self._name} during {what}")
        if check_delta and not gpu_j > 0:
            raise MeterError(
                f"the energy counter of {self._name} advanced by {gpu_j:.3f} J during {what} "
                f"({measurement.time:.2f} s): a counter that does not increase cannot be trusted"
            )
        cpu_j, dram_j = _sum(measurement.cpu_energy), _sum(measurement.dram_energy)
        if cpu_j is not None and cpu_j <= 0:
            logger.warning("RAPL CPU energy of %.3f J during %s ignored", cpu_j, what)
            cpu_j = None
        if dram_j is not None and dram_j <= 0:
            logger.warning("RAPL DRAM energy of %.3f J during %s ignored", dram_j, what)
            dram_j = None
        return _Window(gpu_j=float(gpu_j), cpu_j=cpu_j, dram_j=dram_j, nvml_j=nvml_j)

    def _cancel(self, key: str) -> None:
        self._raw_start.pop(key, None)
        with contextlib.suppress(Exception):
            self._monitor.end_window(key, sync_execution=False, cancel=True)

    def _state(self, what: str) -> list[GPUState]:
        try:
            return hardware.gpu_state([self.config.gpu_index])
        except MeterError as error:
            raise MeterError(f"{error} ({what})") from error

    def _isolation(self, what: str, seen: dict[int, dict[str, Any]]) -> bool:
        try:
            others = hardware.other_gpu_processes([self.config.gpu_index])
        except MeterError as error:
            raise MeterError(f"{error} ({what})") from error
        if others and not self.config.allow_shared_gpu:
            listed = ", ".join(
                f"pid {p['pid']}"
                + (f" ({p['used_memory_mib']} MiB)" if p["used_memory_mib"] is not None else "")
                for p in others
            )
            raise SharedGPUError(
                f"{self._name} is shared: other processes use it {what} ({listed}); their energy would be "
                "counted as the model's. Stop them, or pass --allow-shared-gpu (recorded in the result)"
            )
        for process in others:
            seen.setdefault(process["pid"], process)
        return True

    def _idle(self, seconds: float) -> IdleSample:
        key = f"energy-badge-idle-{next(_window_ids)}"
        self._begin(key, "the idle sample")
        started = time.perf_counter()
        try:
            time.sleep(seconds)
        except BaseException:
            self._cancel(key)
            raise
        elapsed = time.perf_counter() - started
        window = self._end(key, "the idle sample")
        assert window.gpu_j is not None  # checked by _end
        return IdleSample(
            seconds=elapsed,
            gpu_energy_j=window.gpu_j,
            gpu_power_w=window.gpu_j / elapsed,
            nvml_counter_j=window.nvml_j,
        )

    def _stop_rule(self, reps: list[Repetition], stats: Stats | None) -> StopReason | None:
        if len(reps) >= self.config.min_repetitions and stats is not None:
            relative = stats.relative_half_width
            if relative is not None and relative <= self.config.target_ci_rel:
                return "ci_target_met"
        if len(reps) >= self.config.max_repetitions:
            return "max_repetitions"
        return None


# --------------------------------------------------------------------------------------------
# Performance-only meter
# --------------------------------------------------------------------------------------------


class PerformanceMeter(_Meter):
    """The same loop without energy, for ``--no-energy`` runs: runs exactly ``min_repetitions``.

    Needs no NVML. Where NVML works it still records the GPU, its state and the other processes
    on it (without refusing: a performance-only result carries no energy figure to protect).
    """

    energy_source = None

    def __init__(self, config: MeterConfig | None = None) -> None:
        """Open the meter.

        Args:
            config: how to measure; the default :class:`MeterConfig` if None.
        """
        self.config = config or MeterConfig()
        self._nvml = False
        try:
            self._hardware = hardware.probe_hardware([self.config.gpu_index])
            self._nvml = bool(self._hardware.gpus)
        except (UsageError, MeterError) as error:
            logger.info("no GPU description for the performance meter: %s", error)
        if not self._nvml:
            model, count = hardware.cpu_info()
            self._hardware = HardwareInfo(cpu_model=model, cpu_count=count)

    @property
    def hardware(self) -> HardwareInfo:
        """The GPU where NVML describes it, else the CPU only."""
        return self._hardware

    def close(self) -> None:
        """Nothing to release; for symmetry with :class:`EnergyMeter`."""

    def __enter__(self) -> PerformanceMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _begin(self, key: str, what: str) -> None:
        pass

    def _end(self, key: str, what: str) -> _Window:
        return _Window()

    def _state(self, what: str) -> list[GPUState]:
        if not self._nvml:
            return []
        try:
            return hardware.gpu_state([self.config.gpu_index])
        except (MeterError, UsageError) as error:
            logger.info("no GPU state %s: %s", what, error)
            return []

    def _isolation(self, what: str, seen: dict[int, dict[str, Any]]) -> bool:
        if not self._nvml:
            return False
        try:
            others = hardware.other_gpu_processes([self.config.gpu_index])
        except (MeterError, UsageError) as error:
            logger.info("no process list %s: %s", what, error)
            return False
        for process in others:
            seen.setdefault(process["pid"], process)
        return True

    def _stop_rule(self, reps: list[Repetition], stats: Stats | None) -> StopReason | None:
        return "performance_only" if len(reps) >= self.config.min_repetitions else None


def open_meter(config: MeterConfig | None = None, energy: bool = True) -> EnergyMeter | PerformanceMeter:
    """Open the meter a run asks for.

    Args:
        config: how to measure.
        energy: True for an :class:`EnergyMeter`, False for a :class:`PerformanceMeter` (``--no-energy``).

    Returns:
        The meter.

    Raises:
        NoEnergyCounterError: if ``energy`` and this machine has no GPU energy counter.
        UsageError: for a configuration an energy run cannot use.
    """
    return EnergyMeter(config) if energy else PerformanceMeter(config)
