"""The energy meter: Zeus's ``ZeusMonitor`` windows on one GPU, each cross-checked by sampled power.

``zeus`` and ``pynvml`` are imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from typing import Any

from energy_badge import hardware, nvml
from energy_badge.errors import MeterError, NoEnergyCounterError, SharedGPUError, UsageError
from energy_badge.hardware import GPUProcess, GPUState, HardwareInfo
from energy_badge.meter.baseline import IdleBaselines, IdleKey, default_baselines
from energy_badge.meter.loop import BaseMeter, IsolationCheck, Window, window_key
from energy_badge.meter.records import ENERGY_SOURCE, SYSTEM_CLOCK, Clock, IdleSample, MeterConfig
from energy_badge.meter.sampler import PowerSampler, cross_check

logger = logging.getLogger(__name__)


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


class EnergyMeter(BaseMeter):
    """Measures GPU energy with Zeus's ``ZeusMonitor`` on one GPU (plus CPU/DRAM via RAPL if present).

    The constructor checks, in order: the NVML bindings import, NVML initialises, at least one
    GPU is visible, the requested index exists (matched to its NVML device by UUID or PCI bus id
    where CUDA says them), the GPU is not in MIG mode, it has a readable total-energy counter
    (Volta or newer), Zeus can read ``CUDA_VISIBLE_DEVICES`` and sees that NVML device, and Zeus
    opens it; then it opens and closes one Zeus window, which also starts Zeus's RAPL helpers
    outside any measured window.

    Each later window is cross-checked: a :class:`~energy_badge.meter.sampler.PowerSampler`
    samples the GPU's power while it is open, and :func:`~energy_badge.meter.sampler.cross_check`
    judges the counter's energy against it (refused under ``strict``).

    Use it as a context manager, or call :meth:`close`, to release NVML.
    """

    energy_source = ENERGY_SOURCE

    def __init__(
        self,
        config: MeterConfig | None = None,
        *,
        clock: Clock | None = None,
        baselines: IdleBaselines | None = None,
    ) -> None:
        """Open the meter.

        Args:
            config: how to measure; the default :class:`MeterConfig` if None.
            clock: where the loop reads time and sleeps (the idle sample's wait); the real
                clock if None.
            baselines: where idle samples are kept for reuse (``config.idle_reuse_s``); the
                process's store (:func:`~energy_badge.meter.baseline.default_baselines`) if None.

        Raises:
            UsageError: if ``min_repetitions`` is below 2 (an energy run needs an interval) or
                ``gpu_index`` names no visible GPU.
            NoEnergyCounterError: if no GPU energy counter can be read here; the one-line message
                says what was looked for and what was found.
        """
        self.config = config or MeterConfig()
        self.clock = clock or SYSTEM_CLOCK
        self._baselines = baselines if baselines is not None else default_baselines()
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
        self._pynvml: Any = pynvml
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
            visible = nvml.visible_nvml_indices(pynvml)
        except pynvml.NVMLError as error:
            raise _no_counter(f"NVML could not list GPUs ({error})") from error
        if not visible:
            env = os.environ.get("CUDA_VISIBLE_DEVICES")
            where = f" with CUDA_VISIBLE_DEVICES={env!r}" if env is not None else ""
            raise _no_counter(f"NVML works but sees no GPU ({count} in total{where})")
        self._cuda = nvml.cuda_devices()
        self._hardware = hardware.probe_hardware([index], cuda=self._cuda)
        gpu = self._hardware.gpus[0]
        self._name = f"GPU {index} ({gpu.name})"
        ((_, nvml_index, _),) = nvml.resolve(pynvml, [index], self._cuda)
        self._handle = nvml.handle(pynvml, nvml_index)
        self._raw_start: dict[str, int] = {}
        self._samplers: dict[str, tuple[PowerSampler, float, float]] = {}
        if gpu.mig_mode:
            raise _no_counter(
                f"{self._name} is in MIG mode: its energy counter covers every MIG instance on it, "
                "so the energy of one cannot be told apart"
            )
        if not gpu.energy_counter:
            arch = nvml.architecture_name(pynvml, self._handle) or "unknown architecture"
            raise _no_counter(f"{self._name}, {arch}, without a readable total-energy counter")
        if problem := nvml.zeus_can_map_visible_devices():
            raise _no_counter(f"{problem}")
        if nvml_index not in visible:
            raise _no_counter(
                f"CUDA's {self._name} is NVML device {nvml_index}, which Zeus cannot see through "
                f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r} (read in NVML's order); "
                "set CUDA_DEVICE_ORDER=PCI_BUS_ID"
            )
        # Zeus reads CUDA_VISIBLE_DEVICES as NVML indices in NVML's order: its index of our device.
        self._zeus_index = visible.index(nvml_index)

        from zeus.device.exception import ZeusBaseGPUError
        from zeus.monitor import ZeusMonitor

        self._zeus_gpu_error: type[Exception] = ZeusBaseGPUError
        zeus_index = self._zeus_index
        try:
            self._monitor = ZeusMonitor(gpu_indices=[zeus_index])
            gpus = self._monitor.gpus
            ok = len(gpus) > zeus_index and gpus.supports_get_total_energy_consumption(zeus_index)
        except Exception as error:  # Zeus raises ValueError, its own errors, ...
            raise _no_counter(f"Zeus could not open {self._name}: {error}") from error
        if not ok:
            # Zeus swallows a failed GPU initialisation and then returns empty dicts.
            raise _no_counter(f"Zeus sees {len(gpus)} GPU(s) and no energy counter on {self._name}")
        key = window_key("prime")
        self._begin(key, "the first Zeus window", sample=False)
        window = self._close_window(key, "the first Zeus window", check_delta=False)
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

    def _power_w(self) -> float | None:
        """The GPU's instantaneous power (NVML field), else its averaged power reading, in watts."""
        pynvml = self._pynvml
        field = (pynvml.NVML_FI_DEV_POWER_INSTANT, pynvml.NVML_POWER_SCOPE_GPU)
        value = pynvml.nvmlDeviceGetFieldValues(self._handle, [field])[0]
        if value.nvmlReturn == pynvml.NVML_SUCCESS:
            return float(value.value.uiVal) / 1000.0
        milliwatts = nvml.optional(pynvml, pynvml.nvmlDeviceGetPowerUsage, self._handle)
        return None if milliwatts is None else float(milliwatts) / 1000.0

    def _begin(self, key: str, what: str, sample: bool = True) -> None:
        # The sampler starts first and the independent counter read brackets Zeus's window; the
        # clock is read around Zeus's call so the cross-check integrates over Zeus's own window.
        with self._nvml_errors(what):
            if sample:
                sampler = PowerSampler(
                    self._power_w, self._raw_counter_mj, self.clock, self.config.sample_interval_s
                )
                sampler.start()
            self._raw_start[key] = self._raw_counter_mj()
            before = self.clock()
            self._monitor.begin_window(key, sync_execution=False)
            after = self.clock()
        if sample:
            self._samplers[key] = (sampler, (before + after) / 2, after - before)

    def _end(self, key: str, what: str) -> Window:
        return self._close_window(key, what)

    def _close_window(self, key: str, what: str, check_delta: bool = True) -> Window:
        started = self._samplers.pop(key, None)
        try:
            with self._nvml_errors(what), warnings.catch_warnings():
                # Zeus warns about a zero reading; a zero reading is refused below, with more detail.
                warnings.filterwarnings("ignore", message=".*measured as zero.*")
                before = self.clock()
                measurement = self._monitor.end_window(key, sync_execution=False)
                after = self.clock()
                raw_end = self._raw_counter_mj()
        finally:
            samples = started[0].stop() if started is not None else []
        raw_start = self._raw_start.pop(key, None)
        nvml_j = None if raw_start is None else (raw_end - raw_start) / 1000.0
        gpu_j = measurement.gpu_energy.get(self._zeus_index)
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
        check = None
        if started is not None:
            _, start_t, start_slack = started
            window = (start_t, (before + after) / 2)
            check = cross_check(
                samples, float(gpu_j), window, start_slack + (after - before), self.config.sample_interval_s
            )
            if check.verdict == "disagree" and self.config.strict:
                raise MeterError(
                    f"cross-check failed on {self._name} during {what}: the energy counter says "
                    f"{gpu_j:.1f} J, the sampled power {check.power_energy_j:.1f} J (bound "
                    f"{check.bound_j:.1f} J); measure without --strict to record it instead"
                )
        return Window(gpu_j=float(gpu_j), cpu_j=cpu_j, dram_j=dram_j, nvml_j=nvml_j, crosscheck=check)

    def _cancel(self, key: str) -> None:
        self._raw_start.pop(key, None)
        started = self._samplers.pop(key, None)
        if started is not None:
            started[0].stop()
        with contextlib.suppress(Exception):
            self._monitor.end_window(key, sync_execution=False, cancel=True)

    def _state(self, what: str) -> list[GPUState]:
        try:
            return hardware.gpu_state([self.config.gpu_index], cuda=self._cuda)
        except MeterError as error:
            raise MeterError(f"{error} ({what})") from error

    def _temperature(self, what: str) -> float | None:
        states = self._state(what)
        return None if not states or states[0].temperature_c is None else float(states[0].temperature_c)

    def _isolation(self, what: str, seen: dict[int, GPUProcess]) -> IsolationCheck:
        try:
            check = hardware.gpu_process_check([self.config.gpu_index], cuda=self._cuda)
        except MeterError as error:
            raise MeterError(f"{error} ({what})") from error
        others = check.others
        if others and not self.config.allow_shared_gpu:
            listed = ", ".join(
                f"pid {p.pid}" + (f" ({p.used_memory_mib} MiB)" if p.used_memory_mib is not None else "")
                for p in others
            )
            raise SharedGPUError(
                f"{self._name} is shared: other processes use it {what} ({listed}); their energy would be "
                "counted as the model's. Stop them, or pass --allow-shared-gpu (recorded in the result)"
            )
        for process in others:
            seen.setdefault(process.pid, process)
        return IsolationCheck(True, check.unknown_reason, check.attributed_pid)

    def _idle(self, seconds: float) -> IdleSample:
        gpu = self._hardware.gpus[0]
        baseline = IdleKey(gpu.uuid, gpu.power_limit_w) if gpu.uuid else None
        if baseline is not None:
            reused = self._baselines.get(baseline, self.clock, self.config.idle_reuse_s)
            if reused is not None:
                return reused
        sample = self._take_idle(seconds)
        if baseline is not None:
            self._baselines.put(baseline, sample, self.clock)
        return sample

    def _take_idle(self, seconds: float) -> IdleSample:
        key = window_key("idle")
        self._begin(key, "the idle sample")
        started = self.clock()
        try:
            self.clock.sleep(seconds)
        except BaseException:
            self._cancel(key)
            raise
        elapsed = self.clock() - started
        window = self._end(key, "the idle sample")
        assert window.gpu_j is not None  # checked by _close_window
        return IdleSample(
            seconds=elapsed,
            gpu_energy_j=window.gpu_j,
            gpu_power_w=window.gpu_j / elapsed,
            nvml_counter_j=window.nvml_j,
            crosscheck=window.crosscheck,
        )
