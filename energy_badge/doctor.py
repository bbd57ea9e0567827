"""The doctor report: can this machine measure energy, and if not, why not?

It collects what decides that -- NVML and the GPUs it sees (with their energy counters and the
other processes on them), RAPL, the CPU, torch and CUDA, and whether a Hub token is configured
(never the token itself) -- into a frozen :class:`DoctorReport` whose ``can_measure`` and
``reason`` give the verdict. ``energy-badge doctor`` (:mod:`energy_badge.cli.doctor`) prints it.

``pynvml``, ``zeus``, ``torch`` and ``huggingface_hub`` are imported inside the functions that
need them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from energy_badge.hardware import cpu_info, hardware_class, own_pids
from energy_badge.nvml import (
    NVMLUnavailableError,
    architecture_name,
    cuda_driver_version,
    handle,
    has_energy_counter,
    nvml_session,
    optional,
    process_lists,
    visible_nvml_indices,
    zeus_can_map_visible_devices,
)

__all__ = [
    "CPUStatus",
    "DoctorGPU",
    "DoctorReport",
    "NVMLStatus",
    "RAPLStatus",
    "TokenStatus",
    "TorchStatus",
    "doctor_report",
    "hub_token_status",
    "rapl_available",
    "rapl_status",
    "torch_status",
]


@dataclass(frozen=True)
class NVMLStatus:
    """Whether NVML (the NVIDIA driver library) works here.

    Attributes:
        available: ``nvmlInit`` succeeded.
        error: why it is not available, or what failed after it initialised; None if nothing did.
        driver_version: the NVIDIA driver's version, None without NVML.
        cuda_driver_version: the CUDA version the driver supports (``"12.4"``), None without NVML.
    """

    available: bool = False
    error: str | None = None
    driver_version: str | None = None
    cuda_driver_version: str | None = None


@dataclass(frozen=True)
class DoctorGPU:
    """One GPU NVML sees, as the doctor describes it.

    Attributes:
        index: CUDA index.
        name: the name NVML reports.
        hardware_class: its rating-table class (``"H100"``), None if not recognised.
        architecture: ``"Hopper"``, ..., None where NVML does not say.
        energy_counter: whether it has a readable NVML total-energy counter.
        other_processes: pids of other processes on it now, sorted.
    """

    index: int
    name: str
    hardware_class: str | None
    architecture: str | None
    energy_counter: bool
    other_processes: tuple[int, ...]


@dataclass(frozen=True)
class RAPLStatus:
    """RAPL (CPU and DRAM energy counters) where Zeus looks for it.

    Attributes:
        present: a RAPL zone exists.
        readable: a zone's ``energy_uj`` can be read (often root only on recent kernels).
        path: the powercap folder found, None if none.
    """

    present: bool
    readable: bool
    path: str | None


@dataclass(frozen=True)
class CPUStatus:
    """The host CPU: model name (None if ``/proc/cpuinfo`` does not say) and logical CPU count."""

    model: str | None
    count: int


@dataclass(frozen=True)
class TorchStatus:
    """torch and CUDA.

    Attributes:
        version: torch's version, None if it does not import.
        cuda_available: ``torch.cuda.is_available()``.
        cuda_version: the CUDA version torch was built with, None for a CPU build.
        error: why torch or CUDA failed, else None.
    """

    version: str | None
    cuda_available: bool
    cuda_version: str | None
    error: str | None


@dataclass(frozen=True)
class TokenStatus:
    """Whether a Hub token is configured, and where from; never the token itself.

    Attributes:
        configured: a token (or trusted publishing) is set up.
        source: ``"HF_TOKEN env"``, ``"HUGGING_FACE_HUB_TOKEN env"``, ``"OIDC (HF_OIDC_RESOURCE)"``,
            ``"huggingface_hub login"``, or None.
    """

    configured: bool
    source: str | None


@dataclass(frozen=True)
class DoctorReport:
    """Everything that decides whether this machine can measure energy, and the verdict.

    The field order is the key order of ``energy-badge doctor --json``.

    Attributes:
        nvml: NVML's status.
        cuda_visible_devices: ``CUDA_VISIBLE_DEVICES`` as set, None if unset.
        gpus: every visible GPU, in CUDA order.
        rapl: RAPL's status.
        cpu: the host CPU.
        torch: torch and CUDA.
        hub_token: whether a Hub token is configured.
        gpu_index: the CUDA index a measurement would use.
        can_measure: whether an energy measurement can run on that GPU.
        reason: one line: why not, or what will be measured.
    """

    nvml: NVMLStatus
    cuda_visible_devices: str | None
    gpus: tuple[DoctorGPU, ...]
    rapl: RAPLStatus
    cpu: CPUStatus
    torch: TorchStatus
    hub_token: TokenStatus
    gpu_index: int
    can_measure: bool
    reason: str


# --------------------------------------------------------------------------------------------
# The parts
# --------------------------------------------------------------------------------------------


def _rapl_dirs() -> list[str]:
    try:
        from zeus.device.cpu import rapl
    except ImportError:
        return ["/sys/class/powercap/intel-rapl", "/zeus_sys/class/powercap/intel-rapl"]
    return [rapl.RAPL_DIR, rapl.CONTAINER_RAPL_DIR]


def rapl_status() -> RAPLStatus:
    """Say whether RAPL (CPU and DRAM energy counters) is present and readable, where Zeus looks.

    Returns:
        The :class:`RAPLStatus`; RAPL is usually absent in VMs and readable only by root on
        recent kernels.
    """
    for directory in _rapl_dirs():
        if not os.path.isdir(directory):
            continue
        zones = sorted(name for name in os.listdir(directory) if re.fullmatch(r"intel-rapl:\d+", name))
        readable = False
        for zone in zones:
            try:
                with open(os.path.join(directory, zone, "energy_uj"), encoding="ascii") as counter:
                    float(counter.read().strip())
                readable = True
                break
            except (OSError, ValueError):
                continue
        return RAPLStatus(present=bool(zones), readable=readable, path=directory)
    return RAPLStatus(present=False, readable=False, path=None)


def rapl_available() -> bool:
    """Return True if Zeus can read CPU energy through RAPL on this machine."""
    return rapl_status().readable


def torch_status() -> TorchStatus:
    """Say which torch is installed and whether it can use CUDA; never raises.

    Returns:
        The :class:`TorchStatus` (``error`` says why torch or CUDA failed).
    """
    try:
        import torch
    except ImportError as error:
        return TorchStatus(version=None, cuda_available=False, cuda_version=None, error=str(error))
    try:
        available = bool(torch.cuda.is_available())
    except Exception as error:  # a broken CUDA install must not break the doctor
        return TorchStatus(
            version=str(torch.__version__), cuda_available=False, cuda_version=None, error=str(error)
        )
    return TorchStatus(
        version=str(torch.__version__),
        cuda_available=available,
        cuda_version=getattr(torch.version, "cuda", None),
        error=None,
    )


def hub_token_status() -> TokenStatus:
    """Say whether a Hugging Face Hub token is configured and where from, never the token itself.

    Looks at ``HF_TOKEN`` (and the legacy ``HUGGING_FACE_HUB_TOKEN``), ``HF_OIDC_RESOURCE``
    (trusted publishing) and the token file ``huggingface_hub login`` writes. Makes no network call.

    Returns:
        The :class:`TokenStatus`.
    """
    for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if os.environ.get(variable, "").strip():
            return TokenStatus(configured=True, source=f"{variable} env")
    if os.environ.get("HF_OIDC_RESOURCE", "").strip():
        return TokenStatus(configured=True, source="OIDC (HF_OIDC_RESOURCE)")
    try:
        from huggingface_hub import constants

        path = constants.HF_TOKEN_PATH
    except ImportError:
        path = os.path.join(os.path.expanduser("~"), ".cache", "huggingface", "token")
    try:
        with open(path, encoding="utf-8") as token_file:
            if token_file.read().strip():
                return TokenStatus(configured=True, source="huggingface_hub login")
    except OSError:
        pass
    return TokenStatus(configured=False, source=None)


def _nvml_and_gpus() -> tuple[NVMLStatus, tuple[DoctorGPU, ...]]:
    """NVML's status and the GPUs it sees (those listed before an NVML error, if one happens)."""
    gpus: list[DoctorGPU] = []
    driver: str | None = None
    cuda: str | None = None
    try:
        with nvml_session() as pynvml:
            try:
                found = optional(pynvml, pynvml.nvmlSystemGetDriverVersion)
                driver = None if found is None else str(found)
                cuda = cuda_driver_version(pynvml)
                own = own_pids()
                for cuda_index, nvml_index in enumerate(visible_nvml_indices(pynvml)):
                    device = handle(pynvml, nvml_index)
                    name = str(pynvml.nvmlDeviceGetName(device))
                    others = {
                        int(process.pid)
                        for _kind, getter in process_lists(pynvml)
                        for process in optional(pynvml, getter, device) or []
                        if int(process.pid) not in own
                    }
                    gpus.append(
                        DoctorGPU(
                            index=cuda_index,
                            name=name,
                            hardware_class=hardware_class(name),
                            architecture=architecture_name(pynvml, device),
                            energy_counter=has_energy_counter(pynvml, device),
                            other_processes=tuple(sorted(others)),
                        )
                    )
            except pynvml.NVMLError as error:
                failed = NVMLStatus(True, f"NVML failed while listing GPUs: {error}", driver, cuda)
                return failed, tuple(gpus)
    except NVMLUnavailableError as error:
        return NVMLStatus(available=False, error=str(error)), ()
    return NVMLStatus(True, None, driver, cuda), tuple(gpus)


# --------------------------------------------------------------------------------------------
# The report and its verdict
# --------------------------------------------------------------------------------------------


def doctor_report(gpu_index: int = 0) -> DoctorReport:
    """Collect everything that decides whether this machine can measure energy.

    Args:
        gpu_index: the CUDA index a measurement would use.

    Returns:
        The :class:`DoctorReport`; ``can_measure`` and ``reason`` give the verdict.
    """
    model, count = cpu_info()
    nvml, gpus = _nvml_and_gpus()
    torch = torch_status()
    can_measure, reason = _verdict(nvml, gpus, torch, gpu_index)
    return DoctorReport(
        nvml=nvml,
        cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"),
        gpus=gpus,
        rapl=rapl_status(),
        cpu=CPUStatus(model=model, count=count),
        torch=torch,
        hub_token=hub_token_status(),
        gpu_index=gpu_index,
        can_measure=can_measure,
        reason=reason,
    )


def _verdict(
    nvml: NVMLStatus, gpus: tuple[DoctorGPU, ...], torch: TorchStatus, gpu_index: int
) -> tuple[bool, str]:
    if not nvml.available:
        return (
            False,
            f"no NVML (NVIDIA driver library): {nvml.error}; use --no-energy for a performance-only run",
        )
    if nvml.error:
        return False, f"{nvml.error}; use --no-energy for a performance-only run"
    if not gpus:
        return False, "NVML works but sees no GPU (check CUDA_VISIBLE_DEVICES); use --no-energy"
    if not 0 <= gpu_index < len(gpus):
        return False, f"GPU index {gpu_index} does not exist: {len(gpus)} GPU(s) visible"
    gpu = gpus[gpu_index]
    if not gpu.energy_counter:
        arch = gpu.architecture or "unknown architecture"
        return False, (
            f"GPU {gpu_index} ({gpu.name}, {arch}) has no NVML total-energy counter "
            "(Volta or newer needed); use --no-energy for a performance-only run"
        )
    if problem := zeus_can_map_visible_devices():
        return False, problem
    if not torch.cuda_available:
        return False, f"GPU {gpu_index} ({gpu.name}) has an energy counter, but torch cannot use CUDA"
    reason = f"GPU {gpu_index} ({gpu.name}) has an NVML total-energy counter and torch can use it"
    if gpu.other_processes:
        pids = list(gpu.other_processes)
        reason += f"; note: other processes use it now (pids {pids}), a measurement would refuse"
    return True, reason
