"""The performance-only meter (``--no-energy``): the same loop, timed, without energy windows."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from energy_badge import hardware
from energy_badge.errors import MeterError, UsageError
from energy_badge.hardware import GPUProcess, GPUState, HardwareInfo
from energy_badge.meter.loop import BaseMeter, IsolationCheck, Window
from energy_badge.meter.records import SYSTEM_CLOCK, Clock, Drift, MeterConfig, Repetition
from energy_badge.meter.rule import Decision

logger = logging.getLogger(__name__)


class PerformanceMeter(BaseMeter):
    """The same loop without energy, for ``--no-energy`` runs: runs exactly ``min_repetitions``.

    Needs no NVML. Where NVML works it still records the GPU, its state and the other processes
    on it (without refusing: a performance-only result carries no energy figure to protect).
    """

    energy_source = None

    def __init__(self, config: MeterConfig | None = None, *, clock: Clock | None = None) -> None:
        """Open the meter.

        Args:
            config: how to measure; the default :class:`MeterConfig` if None.
            clock: where the loop reads time; the real clock if None.
        """
        self.config = config or MeterConfig()
        self.clock = clock or SYSTEM_CLOCK
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
        """Nothing to release; for symmetry with :class:`~energy_badge.meter.EnergyMeter`."""

    def __enter__(self) -> PerformanceMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _begin(self, key: str, what: str) -> None:
        pass

    def _end(self, key: str, what: str) -> Window:
        return Window()

    def _state(self, what: str) -> list[GPUState]:
        if not self._nvml:
            return []
        try:
            return hardware.gpu_state([self.config.gpu_index])
        except (MeterError, UsageError) as error:
            logger.info("no GPU state %s: %s", what, error)
            return []

    def _temperature(self, what: str) -> float | None:
        states = self._state(what)
        return None if not states or states[0].temperature_c is None else float(states[0].temperature_c)

    def _isolation(self, what: str, seen: dict[int, GPUProcess]) -> IsolationCheck:
        if not self._nvml:
            return IsolationCheck(checked=False)
        try:
            check = hardware.gpu_process_check([self.config.gpu_index])
        except (MeterError, UsageError) as error:
            logger.info("no process list %s: %s", what, error)
            return IsolationCheck(checked=False)
        for process in check.others:
            seen.setdefault(process.pid, process)
        return IsolationCheck(True, check.unknown_reason, check.attributed_pid)

    def _decide(self, kept: Sequence[Repetition], windows: int, drifted: Drift | None) -> Decision:
        done = len(kept) >= self.config.min_repetitions
        return Decision("performance_only" if done else None, Drift(False, None, None, None, None))
