"""What the measurement runs on: GPU inventory, hardware class, GPU state and the processes on it.

The records here (:class:`GPUInfo`, :class:`GPUState`, :class:`HardwareInfo`, and
:class:`GPUProcess` from :mod:`energy_badge.gpu_processes`, which holds the process check and is
re-exported here) are frozen and are reused as they are by the meter and by the result file. NVML is reached
through :mod:`energy_badge.nvml` (``pynvml`` imported lazily), so importing this module stays cheap
and works on machines without NVML. The doctor report lives in :mod:`energy_badge.doctor`.

GPU indices are CUDA indices: the index torch uses, after ``CUDA_VISIBLE_DEVICES``; the functions
take CUDA's own identities of its devices (``cuda=``, :func:`energy_badge.nvml.cuda_devices`) to
find each one's NVML device by UUID or PCI bus id, and map by order without them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from energy_badge.errors import MeterError
from energy_badge.gpu_processes import (
    PROC_ROOT,
    PROC_STATUS,
    GPUProcess,
    ProcessCheck,
    gpu_process_check,
    other_gpu_processes,
    own_pids,
)
from energy_badge.nvml import (
    MIB,
    CudaDevice,
    CudaMatch,
    NVMLUnavailableError,
    cuda_driver_version,
    handle,
    has_energy_counter,
    mig_enabled,
    nvml_session,
    optional,
    pci_address,
    pci_bus_id,
    resolve,
)

__all__ = [
    "PROC_ROOT",
    "PROC_STATUS",
    "GPUInfo",
    "GPUProcess",
    "GPUState",
    "HardwareInfo",
    "ProcessCheck",
    "cpu_info",
    "gpu_process_check",
    "gpu_state",
    "hardware_class",
    "other_gpu_processes",
    "own_pids",
    "probe_hardware",
]


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GPUInfo:
    """Static facts about one GPU.

    Attributes:
        index: CUDA index (after ``CUDA_VISIBLE_DEVICES``), the index torch and Zeus use.
        name: the name NVML reports, e.g. ``"NVIDIA H100 80GB HBM3"``.
        uuid: the GPU's UUID (``"GPU-..."``), None if NVML does not say.
        memory_total_mib: total memory in MiB, None if unknown.
        power_limit_w: the enforced power limit in watts, None if unknown.
        energy_counter: whether the GPU has a readable NVML total-energy counter (Volta or newer).
        persistence_mode: whether persistence mode is on (None if unknown, e.g. on Windows).
        pci_bus_id: its PCI bus id (``00000000:3B:00.0``), None if unknown or in older results.
        mig_mode: whether MIG mode is on (its energy counter then covers every MIG instance),
            None if NVML does not say or in older results.
        cuda_match: how the CUDA index was tied to this NVML device: ``uuid``, ``pci_bus_id``, or
            ``order`` (CUDA did not say; ``CUDA_VISIBLE_DEVICES`` read in NVML's order); None
            in older results.
    """

    index: int
    name: str
    uuid: str | None
    memory_total_mib: int | None
    power_limit_w: float | None
    energy_counter: bool
    persistence_mode: bool | None
    pci_bus_id: str | None = None
    mig_mode: bool | None = None
    cuda_match: CudaMatch | None = None


@dataclass(frozen=True)
class GPUState:
    """A snapshot of one GPU's dynamic state; a field is None where NVML does not support it.

    Attributes:
        index: CUDA index.
        temperature_c: GPU temperature in degrees Celsius.
        sm_clock_mhz: current SM (graphics) clock in MHz.
        mem_clock_mhz: current memory clock in MHz.
        power_w: power draw in watts as NVML reports it (on most GPUs an average over about 1 s).
    """

    index: int
    temperature_c: int | None
    sm_clock_mhz: int | None
    mem_clock_mhz: int | None
    power_w: float | None


@dataclass(frozen=True)
class HardwareInfo:
    """What the measurement ran on.

    Attributes:
        gpus: the GPUs measured (empty on a machine without NVML).
        driver_version: NVIDIA driver version, e.g. ``"550.54.15"``.
        cuda_driver_version: the CUDA version the driver supports, e.g. ``"12.4"``.
        hardware_class: the normalised class of the GPUs (``"H100"``), None if unknown or mixed.
        cpu_model: CPU model name from ``/proc/cpuinfo``, None if it does not say.
        cpu_count: number of logical CPUs.
    """

    gpus: tuple[GPUInfo, ...] = ()
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    hardware_class: str | None = None
    cpu_model: str | None = None
    cpu_count: int = 0

    @property
    def gpu_count(self) -> int:
        """Number of GPUs in :attr:`gpus`."""
        return len(self.gpus)

    @property
    def gpu_name(self) -> str | None:
        """Name of the first GPU, None without GPUs."""
        return self.gpus[0].name if self.gpus else None


# --------------------------------------------------------------------------------------------
# Hardware class
# --------------------------------------------------------------------------------------------

_WORKSTATION = re.compile(r"\bRTX\s+(A\d{4}|PRO\s+\d{4}|\d{4}\s+Ada)\b", re.IGNORECASE)
_DATACENTER = re.compile(
    r"\b(GB200|GH200|B200|B100|H200|H100|H800|H20|A100|A800|A40|A30|A16|A10G|A10|A2|"
    r"L40S|L40|L20|L4|T4|V100|P100|P40|P4|K80)\b",
    re.IGNORECASE,
)
_CONSUMER = re.compile(r"\b(RTX|GTX)\s*(\d{3,4})(?:\s*(Ti|SUPER))?\b", re.IGNORECASE)


def hardware_class(gpu_name: str) -> str | None:
    """Normalise an NVML GPU name to the class the rating tables are keyed by.

    Args:
        gpu_name: the name NVML reports.

    Returns:
        The class, e.g. ``"NVIDIA H100 80GB HBM3"`` -> ``"H100"``, ``"NVIDIA A100-SXM4-40GB"`` ->
        ``"A100"``, ``"Tesla T4"`` -> ``"T4"``, ``"NVIDIA GeForce RTX 4090"`` -> ``"RTX4090"``,
        ``"NVIDIA RTX A6000"`` -> ``"RTXA6000"``; None for a name it does not recognise.
    """
    if not gpu_name:
        return None
    if match := _WORKSTATION.search(gpu_name):
        return "RTX" + re.sub(r"\s+", "", match.group(1)).upper()
    if match := _DATACENTER.search(gpu_name):
        return match.group(1).upper()
    if match := _CONSUMER.search(gpu_name):
        return f"{match.group(1)}{match.group(2)}{match.group(3) or ''}".upper()
    return None


def _class_of(gpus: Sequence[GPUInfo]) -> str | None:
    classes = {hardware_class(gpu.name) for gpu in gpus}
    return classes.pop() if len(classes) == 1 else None


# --------------------------------------------------------------------------------------------
# Inventory and state
# --------------------------------------------------------------------------------------------


def _gpu_info(pynvml: Any, cuda_index: int, nvml_index: int, match: CudaMatch) -> GPUInfo:
    device = handle(pynvml, nvml_index)
    memory = optional(pynvml, pynvml.nvmlDeviceGetMemoryInfo, device)
    limit_mw = optional(pynvml, pynvml.nvmlDeviceGetEnforcedPowerLimit, device)
    if limit_mw is None:
        limit_mw = optional(pynvml, pynvml.nvmlDeviceGetPowerManagementLimit, device)
    persistence = optional(pynvml, pynvml.nvmlDeviceGetPersistenceMode, device)
    return GPUInfo(
        index=cuda_index,
        name=str(pynvml.nvmlDeviceGetName(device)),
        uuid=optional(pynvml, pynvml.nvmlDeviceGetUUID, device),
        memory_total_mib=None if memory is None else int(memory.total // MIB),
        power_limit_w=None if limit_mw is None else limit_mw / 1000.0,
        energy_counter=has_energy_counter(pynvml, device),
        persistence_mode=None if persistence is None else persistence == pynvml.NVML_FEATURE_ENABLED,
        pci_bus_id=pci_bus_id(pci_address(pynvml, device)),
        mig_mode=mig_enabled(pynvml, device),
        cuda_match=match,
    )


def probe_hardware(
    gpu_indices: Sequence[int] | None = None, *, cuda: Sequence[CudaDevice] | None = None
) -> HardwareInfo:
    """Describe the machine: the given GPUs (through NVML) and the CPU.

    Args:
        gpu_indices: CUDA indices of the GPUs to describe; None for all visible GPUs.
        cuda: CUDA's identities of its devices, to match them to NVML's; None to map by order.

    Returns:
        The :class:`HardwareInfo`. Without NVML (no bindings, no driver) the GPU list is empty
        and the driver fields are None: a CPU-only description.

    Raises:
        UsageError: if NVML works and an index names no visible GPU.
        MeterError: if NVML initialises but then fails.
    """
    model, count = cpu_info()
    try:
        with nvml_session() as pynvml:
            try:
                gpus = tuple(_gpu_info(pynvml, c, n, m) for c, n, m in resolve(pynvml, gpu_indices, cuda))
                driver = optional(pynvml, pynvml.nvmlSystemGetDriverVersion)
                cuda_version = cuda_driver_version(pynvml)
            except pynvml.NVMLError as error:
                raise MeterError(f"NVML failed while describing the GPUs: {error}") from error
    except NVMLUnavailableError:
        return HardwareInfo(cpu_model=model, cpu_count=count)
    return HardwareInfo(
        gpus=gpus,
        driver_version=None if driver is None else str(driver),
        cuda_driver_version=cuda_version,
        hardware_class=_class_of(gpus),
        cpu_model=model,
        cpu_count=count,
    )


def _temperature(pynvml: Any, device: Any) -> int | None:
    getter_v = getattr(pynvml, "nvmlDeviceGetTemperatureV", None)
    if getter_v is not None:
        value = optional(pynvml, getter_v, device, pynvml.NVML_TEMPERATURE_GPU)
        if value is not None:
            return int(value)
    value = optional(pynvml, pynvml.nvmlDeviceGetTemperature, device, pynvml.NVML_TEMPERATURE_GPU)
    return None if value is None else int(value)


def gpu_state(gpu_indices: Sequence[int], *, cuda: Sequence[CudaDevice] | None = None) -> list[GPUState]:
    """Snapshot temperature, SM and memory clocks and power of the given GPUs.

    Args:
        gpu_indices: CUDA indices.
        cuda: CUDA's identities of its devices (see :func:`probe_hardware`).

    Returns:
        One :class:`GPUState` per index, in order; fields NVML does not support are None.

    Raises:
        MeterError: if NVML is unavailable or fails (other than a field being unsupported).
        UsageError: if an index names no visible GPU.
    """
    try:
        with nvml_session() as pynvml:
            try:
                states = []
                for cuda_index, nvml_index, _ in resolve(pynvml, gpu_indices, cuda):
                    device = handle(pynvml, nvml_index)
                    power_mw = optional(pynvml, pynvml.nvmlDeviceGetPowerUsage, device)
                    sm = optional(pynvml, pynvml.nvmlDeviceGetClockInfo, device, pynvml.NVML_CLOCK_SM)
                    mem = optional(pynvml, pynvml.nvmlDeviceGetClockInfo, device, pynvml.NVML_CLOCK_MEM)
                    states.append(
                        GPUState(
                            index=cuda_index,
                            temperature_c=_temperature(pynvml, device),
                            sm_clock_mhz=None if sm is None else int(sm),
                            mem_clock_mhz=None if mem is None else int(mem),
                            power_w=None if power_mw is None else power_mw / 1000.0,
                        )
                    )
                return states
            except pynvml.NVMLError as error:
                raise MeterError(
                    f"NVML failed while reading the state of GPU(s) {list(gpu_indices)}: {error}"
                ) from error
    except NVMLUnavailableError as error:
        raise MeterError(str(error)) from error


# --------------------------------------------------------------------------------------------
# CPU
# --------------------------------------------------------------------------------------------


def cpu_info(path: str = "/proc/cpuinfo") -> tuple[str | None, int]:
    """Return the CPU model name and the number of logical CPUs.

    Args:
        path: the cpuinfo file to read (a parameter for tests).

    Returns:
        ``(model, count)``: the model from ``model name`` (x86) or ``Model``/``Hardware`` (Arm
        boards), None where the file does not name one (many Arm servers); the count from
        ``os.cpu_count()``.
    """
    model = None
    try:
        with open(path, encoding="utf-8", errors="replace") as cpuinfo:
            fields: dict[str, str] = {}
            for line in cpuinfo:
                key, sep, value = line.partition(":")
                if sep and key.strip() and key.strip() not in fields:
                    fields[key.strip()] = value.strip()
    except OSError:
        fields = {}
    for key in ("model name", "Model", "Hardware", "cpu model"):
        if fields.get(key):
            model = re.sub(r"\s+", " ", fields[key])
            break
    return model, os.cpu_count() or 0
