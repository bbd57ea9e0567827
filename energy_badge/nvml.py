"""Low-level NVML access shared by the hardware probes, the meter and the doctor.

Everything here talks to NVML through ``pynvml`` (the official ``nvidia-ml-py`` bindings), the
same module object Zeus uses, so a test that simulates NVML by patching ``pynvml`` simulates both.
``pynvml`` and ``zeus`` are imported inside the functions that need them.

GPU indices are CUDA indices: the index torch uses, after ``CUDA_VISIBLE_DEVICES``. Where CUDA
says which device an index is (:func:`cuda_devices`: its UUID and PCI bus id, read through torch),
the NVML device is the one with the same UUID, else the same PCI bus id (:func:`resolve`); CUDA
enumerates the fastest GPU first unless ``CUDA_DEVICE_ORDER=PCI_BUS_ID``, so its order need not
be NVML's. Without that (no torch, no CUDA), the mapping falls back to reading
``CUDA_VISIBLE_DEVICES`` as NVML indices in NVML's order, as Zeus does
(``CUDA_VISIBLE_DEVICES=2,3`` makes index 1 the NVML device 3).

The ``pynvml`` module and its device handles are typed ``Any``: the bindings ship no types.
These helpers stay inside the hardware layer; no stage boundary passes them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from energy_badge.errors import UsageError

logger = logging.getLogger(__name__)

#: NVML reports architectures as small integers; Volta (5) is the first with the total-energy counter.
ARCH_VOLTA = 5
_ARCH_UNKNOWN = 0xFFFFFFFF
_ARCH_NAMES = {
    2: "Kepler",
    3: "Maxwell",
    4: "Pascal",
    5: "Volta",
    6: "Turing",
    7: "Ampere",
    8: "Ada",
    9: "Hopper",
    10: "Blackwell",
}

MIB = 1024 * 1024


class NVMLUnavailableError(RuntimeError):
    """NVML cannot be used here: bindings missing, library or driver absent, or init failed."""


def import_pynvml() -> Any:
    """Import the NVML bindings.

    Returns:
        The ``pynvml`` module.

    Raises:
        NVMLUnavailableError: if ``nvidia-ml-py`` is not installed.
    """
    try:
        import pynvml
    except ImportError as error:
        raise NVMLUnavailableError(
            f"the NVML bindings are not installed (pip install nvidia-ml-py): {error}"
        ) from error
    return pynvml


@contextlib.contextmanager
def nvml_session() -> Iterator[Any]:
    """Initialise NVML for the duration of a ``with`` block and yield the ``pynvml`` module.

    NVML counts initialisations, so this nests with Zeus's own and with other sessions.

    Yields:
        The initialised ``pynvml`` module.

    Raises:
        NVMLUnavailableError: if the bindings are missing or ``nvmlInit`` fails (library not
            found, driver not loaded, ...); the message says which.
    """
    pynvml = import_pynvml()
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        raise NVMLUnavailableError(f"NVML did not initialise: {error}") from error
    try:
        yield pynvml
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()


def nvml_error() -> str | None:
    """Return why NVML cannot be used here, or None when it initialises.

    Returns:
        The reason, or None.
    """
    try:
        with nvml_session():
            return None
    except NVMLUnavailableError as error:
        return str(error)


def handle(pynvml: Any, nvml_index: int) -> Any:
    """Return the NVML device handle of NVML index ``nvml_index``."""
    return pynvml.nvmlDeviceGetHandleByIndex(nvml_index)


def optional(pynvml: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """Call an NVML getter; None if the GPU or driver does not support it.

    Args:
        pynvml: the initialised ``pynvml`` module.
        fn: the getter.
        *args: its arguments.

    Returns:
        What the getter returns, or None for "not supported", "function not found" and "no
        permission".

    Raises:
        pynvml.NVMLError: any other NVML error.
    """
    unsupported = {
        pynvml.NVML_ERROR_NOT_SUPPORTED,
        pynvml.NVML_ERROR_FUNCTION_NOT_FOUND,
        pynvml.NVML_ERROR_NO_PERMISSION,
    }
    try:
        return fn(*args)
    except pynvml.NVMLError as error:
        if getattr(error, "value", None) in unsupported:
            return None
        raise


def visible_nvml_indices(pynvml: Any) -> list[int]:
    """Map CUDA indices to NVML indices the way CUDA reads ``CUDA_VISIBLE_DEVICES``.

    Unset: all GPUs in NVML order. Otherwise a comma-separated list of indices or ``GPU-<uuid>``
    (prefixes allowed); as in CUDA, the list stops at the first entry that names no GPU, and a
    ``MIG-`` entry (which NVML cannot measure as a whole GPU) also ends it.

    Args:
        pynvml: the initialised ``pynvml`` module (from :func:`nvml_session`).

    Returns:
        NVML index of CUDA index 0, 1, ...
    """
    count = pynvml.nvmlDeviceGetCount()
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return list(range(count))
    uuids: list[str] | None = None
    visible: list[int] = []
    for token in (t.strip() for t in env.split(",")):
        if re.fullmatch(r"\d+", token):
            index = int(token)
        elif token.upper().startswith("GPU-"):
            if uuids is None:
                uuids = [
                    optional(pynvml, pynvml.nvmlDeviceGetUUID, handle(pynvml, i)) or "" for i in range(count)
                ]
            matches = [i for i, uuid in enumerate(uuids) if uuid.lower().startswith(token.lower())]
            index = matches[0] if len(matches) == 1 else -1
        else:
            break
        if not 0 <= index < count or index in visible:
            break
        visible.append(index)
    return visible


def zeus_can_map_visible_devices() -> str | None:
    """Say whether Zeus can read ``CUDA_VISIBLE_DEVICES`` as set; None if it can, else why not.

    Zeus accepts only comma-separated integers there (no UUIDs, no MIG devices, not empty).

    Returns:
        None, or a one-line reason.
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return None
    tokens = [t.strip() for t in env.split(",")]
    if all(re.fullmatch(r"\d+", t) for t in tokens):
        return None
    if any(t.upper().startswith("MIG") for t in tokens):
        return f"CUDA_VISIBLE_DEVICES={env!r} selects MIG slices, whose energy NVML cannot measure"
    return (
        f"CUDA_VISIBLE_DEVICES={env!r} is not a list of integer indices, which is all Zeus can map; "
        "use integer indices"
    )


#: How a CUDA index was tied to its NVML device.
CudaMatch = Literal["uuid", "pci_bus_id", "order"]


@dataclass(frozen=True)
class CudaDevice:
    """How CUDA identifies one of its devices (from ``torch.cuda.get_device_properties``).

    Attributes:
        index: the CUDA index.
        uuid: ``GPU-<uuid>``, as NVML writes it; None if torch does not say.
        pci: ``(domain, bus, device)`` of its PCI address; None if torch does not say.
    """

    index: int
    uuid: str | None
    pci: tuple[int, int, int] | None


def cuda_devices() -> tuple[CudaDevice, ...] | None:
    """CUDA's devices as torch reports them; None where torch is not imported or CUDA is absent.

    Reads device properties only (no CUDA context is created). torch is used only when the
    process has already imported it (``measure`` does, before opening the meter), so the meter
    alone never pays torch's import.

    Returns:
        One :class:`CudaDevice` per CUDA index, or None.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_available():
            return None
        found = []
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            raw = getattr(props, "uuid", None)
            uuid = None if raw is None else str(raw)
            if uuid and not uuid.upper().startswith(("GPU-", "MIG-")):
                uuid = f"GPU-{uuid}"
            bus = getattr(props, "pci_bus_id", None)
            pci = None
            if bus is not None:
                pci = (
                    int(getattr(props, "pci_domain_id", 0)),
                    int(bus),
                    int(getattr(props, "pci_device_id", 0)),
                )
            found.append(CudaDevice(index, uuid, pci))
        return tuple(found)
    except Exception as error:  # a broken CUDA install: fall back to the order
        logger.info("CUDA devices not identified (%s): mapping by order", error)
        return None


def pci_address(pynvml: Any, device: Any) -> tuple[int, int, int] | None:
    """``(domain, bus, device)`` of an NVML device's PCI address, None where NVML does not say."""
    info = optional(pynvml, pynvml.nvmlDeviceGetPciInfo, device)
    if info is None:
        return None
    return int(info.domain), int(info.bus), int(info.device)


def pci_bus_id(address: tuple[int, int, int] | None) -> str | None:
    """The PCI bus id string (``00000000:3B:00.0``) of an address, as NVML and nvidia-smi write it."""
    return None if address is None else f"{address[0]:08X}:{address[1]:02X}:{address[2]:02X}.0"


def mig_enabled(pynvml: Any, device: Any) -> bool | None:
    """Whether MIG mode is on (now, not pending) on an NVML device; None where NVML does not say."""
    mode = optional(pynvml, pynvml.nvmlDeviceGetMigMode, device)
    if mode is None:
        return None
    current = mode[0] if isinstance(mode, (list, tuple)) else mode
    return int(current) == int(getattr(pynvml, "NVML_DEVICE_MIG_ENABLE", 1))


def match_cuda_device(pynvml: Any, cuda: CudaDevice) -> tuple[int, CudaMatch] | None:
    """The NVML index of the device CUDA names ``cuda``: same UUID, else same PCI address.

    Returns:
        ``(nvml_index, "uuid" | "pci_bus_id")``, or None when no NVML device matches (or CUDA
        gave neither identity).
    """
    count = pynvml.nvmlDeviceGetCount()
    devices = [handle(pynvml, i) for i in range(count)]
    if cuda.uuid:
        for i, device in enumerate(devices):
            uuid = optional(pynvml, pynvml.nvmlDeviceGetUUID, device)
            if uuid and str(uuid).lower() == cuda.uuid.lower():
                return i, "uuid"
    if cuda.pci is not None:
        for i, device in enumerate(devices):
            if pci_address(pynvml, device) == cuda.pci:
                return i, "pci_bus_id"
    return None


def resolve(
    pynvml: Any, gpu_indices: Sequence[int] | None, cuda: Sequence[CudaDevice] | None = None
) -> list[tuple[int, int, CudaMatch]]:
    """Return ``(cuda_index, nvml_index, how)`` for the given CUDA indices (None: all visible).

    Each index CUDA identifies (``cuda``) is matched by UUID, else PCI bus id; an index it does
    not identify, or that no NVML device matches (a MIG device, a virtual GPU), is mapped by
    order from ``CUDA_VISIBLE_DEVICES`` (:func:`visible_nvml_indices`), and says so (``order``).

    Args:
        pynvml: the initialised ``pynvml`` module.
        gpu_indices: CUDA indices.
        cuda: CUDA's own identities of its devices (:func:`cuda_devices`); None to map by order.

    Raises:
        UsageError: for an index that names no visible GPU.
    """
    visible = visible_nvml_indices(pynvml)
    known = len(cuda) if cuda is not None else 0
    indices = list(range(max(known, len(visible)))) if gpu_indices is None else list(gpu_indices)
    pairs: list[tuple[int, int, CudaMatch]] = []
    for index in indices:
        found = match_cuda_device(pynvml, cuda[index]) if cuda is not None and 0 <= index < known else None
        if found is not None:
            pairs.append((index, found[0], found[1]))
            continue
        if not 0 <= index < len(visible):
            raise UsageError(
                f"GPU index {index} does not exist: {len(visible)} GPU(s) visible"
                + (
                    f" (CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']!r})"
                    if "CUDA_VISIBLE_DEVICES" in os.environ
                    else ""
                )
            )
        pairs.append((index, visible[index], "order"))
    return pairs


def has_energy_counter(pynvml: Any, device: Any) -> bool:
    """Volta or newer (Zeus's test) and the counter actually reads (vGPUs may refuse it)."""
    arch = optional(pynvml, pynvml.nvmlDeviceGetArchitecture, device)
    if arch is not None and arch != _ARCH_UNKNOWN and arch < ARCH_VOLTA:
        return False
    try:
        pynvml.nvmlDeviceGetTotalEnergyConsumption(device)
    except pynvml.NVMLError:
        return False
    return True


def architecture_name(pynvml: Any, device: Any) -> str | None:
    """The GPU's architecture (``"Hopper"``), None where NVML does not say."""
    arch = optional(pynvml, pynvml.nvmlDeviceGetArchitecture, device)
    return None if arch is None else _ARCH_NAMES.get(arch, f"architecture {arch}")


def _cuda_version_string(version: int | None) -> str | None:
    if not version:
        return None
    return f"{version // 1000}.{(version % 1000) // 10}"


def cuda_driver_version(pynvml: Any) -> str | None:
    """The CUDA version the driver supports (``"12.4"``), None where NVML does not say."""
    getter = (
        getattr(pynvml, "nvmlSystemGetCudaDriverVersion_v2", None) or pynvml.nvmlSystemGetCudaDriverVersion
    )
    version = optional(pynvml, getter)
    if version is None and getter is not pynvml.nvmlSystemGetCudaDriverVersion:
        version = optional(pynvml, pynvml.nvmlSystemGetCudaDriverVersion)
    return _cuda_version_string(version)


def process_lists(pynvml: Any) -> list[tuple[str, Callable[..., Any]]]:
    """NVML's process-list getters by kind: ``compute``, ``graphics`` and (where present) ``mps``."""
    lists: list[tuple[str, Callable[..., Any]]] = [
        ("compute", pynvml.nvmlDeviceGetComputeRunningProcesses),
        ("graphics", pynvml.nvmlDeviceGetGraphicsRunningProcesses),
    ]
    mps = getattr(pynvml, "nvmlDeviceGetMPSComputeRunningProcesses", None)
    if mps is not None:
        lists.append(("mps", mps))
    return lists
