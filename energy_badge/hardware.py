"""NVML probes: GPU inventory, state snapshots, processes on the GPU, hardware class, doctor info.

Everything here talks to NVML through ``pynvml`` (the official ``nvidia-ml-py`` bindings), the
same module object Zeus uses, so a test that simulates NVML by patching ``pynvml`` simulates both.
``pynvml``, ``zeus``, ``torch`` and ``huggingface_hub`` are imported inside the functions that
need them, so importing this module stays cheap and works on machines without any of them.

GPU indices are CUDA indices: the index torch and Zeus use, after ``CUDA_VISIBLE_DEVICES``
(``CUDA_VISIBLE_DEVICES=2,3`` makes index 1 the NVML device 3). Like Zeus, the mapping assumes
CUDA and NVML enumerate GPUs in the same order (``CUDA_DEVICE_ORDER=PCI_BUS_ID`` guarantees it).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from energy_badge.errors import MeterError, UsageError

#: NVML reports architectures as small integers; Volta (5) is the first with the total-energy counter.
_ARCH_VOLTA = 5
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

_MIB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# Data objects
# --------------------------------------------------------------------------------------------


@dataclass
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
    """

    index: int
    name: str
    uuid: str | None
    memory_total_mib: int | None
    power_limit_w: float | None
    energy_counter: bool
    persistence_mode: bool | None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return asdict(self)


@dataclass
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

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return asdict(self)


@dataclass
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

    gpus: list[GPUInfo] = field(default_factory=list)
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

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (the GPU list plus ``gpu_count`` and ``gpu_name`` for convenience)."""
        return {
            "gpu_name": self.gpu_name,
            "gpu_count": self.gpu_count,
            "gpus": [gpu.to_dict() for gpu in self.gpus],
            "driver_version": self.driver_version,
            "cuda_driver_version": self.cuda_driver_version,
            "hardware_class": self.hardware_class,
            "cpu_model": self.cpu_model,
            "cpu_count": self.cpu_count,
        }


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


# --------------------------------------------------------------------------------------------
# NVML access
# --------------------------------------------------------------------------------------------


class NVMLUnavailableError(RuntimeError):
    """NVML cannot be used here: bindings missing, library or driver absent, or init failed."""


def _import_pynvml() -> Any:
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

    Raises:
        NVMLUnavailableError: if the bindings are missing or ``nvmlInit`` fails (library not
            found, driver not loaded, ...); the message says which.
    """
    pynvml = _import_pynvml()
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
    """Return why NVML cannot be used here, or None when it initialises."""
    try:
        with nvml_session():
            return None
    except NVMLUnavailableError as error:
        return str(error)


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
                    _optional(pynvml, pynvml.nvmlDeviceGetUUID, _handle(pynvml, i)) or ""
                    for i in range(count)
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


def _handle(pynvml: Any, nvml_index: int) -> Any:
    return pynvml.nvmlDeviceGetHandleByIndex(nvml_index)


def _optional(pynvml: Any, fn: Any, *args: Any) -> Any:
    """Call an NVML getter; None if the GPU or driver does not support it."""
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


def _resolve(pynvml: Any, gpu_indices: Sequence[int] | None) -> list[tuple[int, int]]:
    """Return ``(cuda_index, nvml_index)`` pairs; UsageError for an index that is not visible."""
    visible = visible_nvml_indices(pynvml)
    if gpu_indices is None:
        return list(enumerate(visible))
    pairs = []
    for index in gpu_indices:
        if not 0 <= index < len(visible):
            raise UsageError(
                f"GPU index {index} does not exist: {len(visible)} GPU(s) visible"
                + (
                    f" (CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']!r})"
                    if "CUDA_VISIBLE_DEVICES" in os.environ
                    else ""
                )
            )
        pairs.append((index, visible[index]))
    return pairs


def _has_energy_counter(pynvml: Any, handle: Any) -> bool:
    """Volta or newer (Zeus's test) and the counter actually reads (vGPUs may refuse it)."""
    arch = _optional(pynvml, pynvml.nvmlDeviceGetArchitecture, handle)
    if arch is not None and arch != _ARCH_UNKNOWN and arch < _ARCH_VOLTA:
        return False
    try:
        pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    except pynvml.NVMLError:
        return False
    return True


def _architecture_name(pynvml: Any, handle: Any) -> str | None:
    arch = _optional(pynvml, pynvml.nvmlDeviceGetArchitecture, handle)
    return None if arch is None else _ARCH_NAMES.get(arch, f"architecture {arch}")


def _gpu_info(pynvml: Any, cuda_index: int, nvml_index: int) -> GPUInfo:
    handle = _handle(pynvml, nvml_index)
    memory = _optional(pynvml, pynvml.nvmlDeviceGetMemoryInfo, handle)
    limit_mw = _optional(pynvml, pynvml.nvmlDeviceGetEnforcedPowerLimit, handle)
    if limit_mw is None:
        limit_mw = _optional(pynvml, pynvml.nvmlDeviceGetPowerManagementLimit, handle)
    persistence = _optional(pynvml, pynvml.nvmlDeviceGetPersistenceMode, handle)
    return GPUInfo(
        index=cuda_index,
        name=str(pynvml.nvmlDeviceGetName(handle)),
        uuid=_optional(pynvml, pynvml.nvmlDeviceGetUUID, handle),
        memory_total_mib=None if memory is None else int(memory.total // _MIB),
        power_limit_w=None if limit_mw is None else limit_mw / 1000.0,
        energy_counter=_has_energy_counter(pynvml, handle),
        persistence_mode=None if persistence is None else persistence == pynvml.NVML_FEATURE_ENABLED,
    )


def _cuda_version_string(version: int | None) -> str | None:
    if not version:
        return None
    return f"{version // 1000}.{(version % 1000) // 10}"


def _cuda_driver_version(pynvml: Any) -> str | None:
    getter = (
        getattr(pynvml, "nvmlSystemGetCudaDriverVersion_v2", None) or pynvml.nvmlSystemGetCudaDriverVersion
    )
    version = _optional(pynvml, getter)
    if version is None and getter is not pynvml.nvmlSystemGetCudaDriverVersion:
        version = _optional(pynvml, pynvml.nvmlSystemGetCudaDriverVersion)
    return _cuda_version_string(version)


def _class_of(gpus: list[GPUInfo]) -> str | None:
    classes = {hardware_class(gpu.name) for gpu in gpus}
    return classes.pop() if len(classes) == 1 else None


def probe_hardware(gpu_indices: Sequence[int] | None = None) -> HardwareInfo:
    """Describe the machine: the given GPUs (through NVML) and the CPU.

    Args:
        gpu_indices: CUDA indices of the GPUs to describe; None for all visible GPUs.

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
                gpus = [_gpu_info(pynvml, c, n) for c, n in _resolve(pynvml, gpu_indices)]
                driver = _optional(pynvml, pynvml.nvmlSystemGetDriverVersion)
                cuda = _cuda_driver_version(pynvml)
            except pynvml.NVMLError as error:
                raise MeterError(f"NVML failed while describing the GPUs: {error}") from error
    except NVMLUnavailableError:
        return HardwareInfo(cpu_model=model, cpu_count=count)
    return HardwareInfo(
        gpus=gpus,
        driver_version=None if driver is None else str(driver),
        cuda_driver_version=cuda,
        hardware_class=_class_of(gpus),
        cpu_model=model,
        cpu_count=count,
    )


def _temperature(pynvml: Any, handle: Any) -> int | None:
    getter_v = getattr(pynvml, "nvmlDeviceGetTemperatureV", None)
    if getter_v is not None:
        value = _optional(pynvml, getter_v, handle, pynvml.NVML_TEMPERATURE_GPU)
        if value is not None:
            return int(value)
    value = _optional(pynvml, pynvml.nvmlDeviceGetTemperature, handle, pynvml.NVML_TEMPERATURE_GPU)
    return None if value is None else int(value)


def gpu_state(gpu_indices: Sequence[int]) -> list[GPUState]:
    """Snapshot temperature, SM and memory clocks and power of the given GPUs.

    Args:
        gpu_indices: CUDA indices.

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
                for cuda_index, nvml_index in _resolve(pynvml, gpu_indices):
                    handle = _handle(pynvml, nvml_index)
                    power_mw = _optional(pynvml, pynvml.nvmlDeviceGetPowerUsage, handle)
                    sm = _optional(pynvml, pynvml.nvmlDeviceGetClockInfo, handle, pynvml.NVML_CLOCK_SM)
                    mem = _optional(pynvml, pynvml.nvmlDeviceGetClockInfo, handle, pynvml.NVML_CLOCK_MEM)
                    states.append(
                        GPUState(
                            index=cuda_index,
                            temperature_c=_temperature(pynvml, handle),
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


def _process_lists(pynvml: Any) -> list[tuple[str, Any]]:
    lists = [
        ("compute", pynvml.nvmlDeviceGetComputeRunningProcesses),
        ("graphics", pynvml.nvmlDeviceGetGraphicsRunningProcesses),
    ]
    mps = getattr(pynvml, "nvmlDeviceGetMPSComputeRunningProcesses", None)
    if mps is not None:
        lists.append(("mps", mps))
    return lists


PROC_STATUS = "/proc/self/status"


def own_pids(status_path: str | None = None) -> set[int]:
    """Return this process's pid as every pid namespace sees it.

    Inside a container NVML reports the host's pid for this process, not ``os.getpid()``. The
    ``NSpid`` line of ``/proc/self/status`` lists the pid in each namespace, outermost first, so
    this process is recognised in NVML's lists wherever it runs.

    Args:
        status_path: the status file to read (default ``/proc/self/status``).

    Returns:
        ``os.getpid()`` plus every pid on the ``NSpid`` line (just ``os.getpid()`` where there is none).
    """
    pids = {os.getpid()}
    try:
        with open(status_path or PROC_STATUS, encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    pids.update(int(p) for p in line.split()[1:] if p.isdigit())
                    break
    except OSError:
        pass
    return pids


def other_gpu_processes(gpu_indices: Sequence[int]) -> list[dict[str, Any]]:
    """List processes other than this one that hold a context on the given GPUs.

    Asks NVML for compute, graphics and (where supported) MPS client processes and drops this
    process's own pid. Inside a container whose pid namespace differs from the host's, NVML may
    report host pids: this process is recognised under each of them (see :func:`own_pids`).

    Args:
        gpu_indices: CUDA indices.

    Returns:
        One dict per (GPU, process): ``pid``, ``used_memory_mib`` (None where NVML does not say),
        ``gpu_index`` and ``kind`` (``"compute"``, ``"graphics"``, ``"mps"``, or several joined
        with ``+``).

    Raises:
        MeterError: if NVML is unavailable or fails.
        UsageError: if an index names no visible GPU.
    """
    own = own_pids()
    try:
        with nvml_session() as pynvml:
            try:
                found: dict[tuple[int, int], dict[str, Any]] = {}
                for cuda_index, nvml_index in _resolve(pynvml, gpu_indices):
                    handle = _handle(pynvml, nvml_index)
                    for kind, getter in _process_lists(pynvml):
                        processes = _optional(pynvml, getter, handle) or []
                        for process in processes:
                            pid = int(process.pid)
                            if pid in own:
                                continue
                            used = getattr(process, "usedGpuMemory", None)
                            entry = found.setdefault(
                                (cuda_index, pid),
                                {
                                    "pid": pid,
                                    "used_memory_mib": None if used is None else int(used // _MIB),
                                    "gpu_index": cuda_index,
                                    "kind": kind,
                                },
                            )
                            if kind not in entry["kind"].split("+"):
                                entry["kind"] += "+" + kind
                return list(found.values())
            except pynvml.NVMLError as error:
                raise MeterError(
                    f"NVML failed while listing processes on GPU(s) {list(gpu_indices)}: {error}"
                ) from error
    except NVMLUnavailableError as error:
        raise MeterError(str(error)) from error


# --------------------------------------------------------------------------------------------
# CPU, RAPL
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
        with open(path, encoding="utf-8", errors="replace") as handle:
            fields: dict[str, str] = {}
            for line in handle:
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


def _rapl_dirs() -> list[str]:
    try:
        from zeus.device.cpu import rapl
    except ImportError:
        return ["/sys/class/powercap/intel-rapl", "/zeus_sys/class/powercap/intel-rapl"]
    return [rapl.RAPL_DIR, rapl.CONTAINER_RAPL_DIR]


def rapl_status() -> dict[str, Any]:
    """Say whether RAPL (CPU and DRAM energy counters) is present and readable, where Zeus looks.

    Returns:
        ``{"present": bool, "readable": bool, "path": str | None}``; RAPL is usually absent in
        VMs and readable only by root on recent kernels.
    """
    for directory in _rapl_dirs():
        if not os.path.isdir(directory):
            continue
        zones = sorted(name for name in os.listdir(directory) if re.fullmatch(r"intel-rapl:\d+", name))
        readable = False
        for zone in zones:
            try:
                with open(os.path.join(directory, zone, "energy_uj"), encoding="ascii") as handle:
                    float(handle.read().strip())
                readable = True
                break
            except (OSError, ValueError):
                continue
        return {"present": bool(zones), "readable": readable, "path": directory}
    return {"present": False, "readable": False, "path": None}


def rapl_available() -> bool:
    """Return True if Zeus can read CPU energy through RAPL on this machine."""
    return bool(rapl_status()["readable"])


# --------------------------------------------------------------------------------------------
# Doctor
# --------------------------------------------------------------------------------------------


def _torch_status() -> dict[str, Any]:
    try:
        import torch
    except ImportError as error:
        return {"version": None, "cuda_available": False, "cuda_version": None, "error": str(error)}
    try:
        available = bool(torch.cuda.is_available())
    except Exception as error:  # a broken CUDA install must not break the doctor
        return {
            "version": torch.__version__,
            "cuda_available": False,
            "cuda_version": None,
            "error": str(error),
        }
    return {
        "version": str(torch.__version__),
        "cuda_available": available,
        "cuda_version": getattr(torch.version, "cuda", None),
        "error": None,
    }


def hub_token_status() -> dict[str, Any]:
    """Say whether a Hugging Face Hub token is configured and where from, never the token itself.

    Looks at ``HF_TOKEN`` (and the legacy ``HUGGING_FACE_HUB_TOKEN``), ``HF_OIDC_RESOURCE``
    (trusted publishing) and the token file ``huggingface_hub login`` writes. Makes no network call.

    Returns:
        ``{"configured": bool, "source": "HF_TOKEN env" | "HUGGING_FACE_HUB_TOKEN env" |
        "OIDC (HF_OIDC_RESOURCE)" | "huggingface_hub login" | None}``.
    """
    for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if os.environ.get(variable, "").strip():
            return {"configured": True, "source": f"{variable} env"}
    if os.environ.get("HF_OIDC_RESOURCE", "").strip():
        return {"configured": True, "source": "OIDC (HF_OIDC_RESOURCE)"}
    try:
        from huggingface_hub import constants

        path = constants.HF_TOKEN_PATH
    except ImportError:
        path = os.path.join(os.path.expanduser("~"), ".cache", "huggingface", "token")
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read().strip():
                return {"configured": True, "source": "huggingface_hub login"}
    except OSError:
        pass
    return {"configured": False, "source": None}


def doctor_report(gpu_index: int = 0) -> dict[str, Any]:
    """Collect everything that decides whether this machine can measure energy.

    Args:
        gpu_index: the CUDA index a measurement would use.

    Returns:
        A JSON-ready dict: ``nvml`` (``available``, ``error``, ``driver_version``,
        ``cuda_driver_version``), ``cuda_visible_devices``, ``gpus`` (per visible GPU: ``index``,
        ``name``, ``hardware_class``, ``architecture``, ``energy_counter``, ``other_processes``),
        ``rapl`` (``present``, ``readable``, ``path``), ``cpu`` (``model``, ``count``), ``torch``
        (``version``, ``cuda_available``, ``cuda_version``, ``error``), ``hub_token``
        (``configured``, ``source``; never the token), ``gpu_index``, ``can_measure`` and
        ``reason`` (one line: why not, or what will be measured).
    """
    model, count = cpu_info()
    report: dict[str, Any] = {
        "nvml": {"available": False, "error": None, "driver_version": None, "cuda_driver_version": None},
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "gpus": [],
        "rapl": rapl_status(),
        "cpu": {"model": model, "count": count},
        "torch": _torch_status(),
        "hub_token": hub_token_status(),
        "gpu_index": gpu_index,
        "can_measure": False,
        "reason": "",
    }
    try:
        with nvml_session() as pynvml:
            report["nvml"]["available"] = True
            try:
                report["nvml"]["driver_version"] = _optional(pynvml, pynvml.nvmlSystemGetDriverVersion)
                report["nvml"]["cuda_driver_version"] = _cuda_driver_version(pynvml)
                own = own_pids()
                for cuda_index, nvml_index in enumerate(visible_nvml_indices(pynvml)):
                    handle = _handle(pynvml, nvml_index)
                    name = str(pynvml.nvmlDeviceGetName(handle))
                    others = set()
                    for _kind, getter in _process_lists(pynvml):
                        for process in _optional(pynvml, getter, handle) or []:
                            if int(process.pid) not in own:
                                others.add(int(process.pid))
                    report["gpus"].append(
                        {
                            "index": cuda_index,
                            "name": name,
                            "hardware_class": hardware_class(name),
                            "architecture": _architecture_name(pynvml, handle),
                            "energy_counter": _has_energy_counter(pynvml, handle),
                            "other_processes": sorted(others),
                        }
                    )
            except pynvml.NVMLError as error:
                report["nvml"]["error"] = f"NVML failed while listing GPUs: {error}"
    except NVMLUnavailableError as error:
        report["nvml"]["error"] = str(error)

    report["can_measure"], report["reason"] = _verdict(report, gpu_index)
    return report


def _verdict(report: dict[str, Any], gpu_index: int) -> tuple[bool, str]:
    nvml = report["nvml"]
    if not nvml["available"]:
        return (
            False,
            f"no NVML (NVIDIA driver library): {nvml['error']}; use --no-energy for a performance-only run",
        )
    if nvml["error"]:
        return False, f"{nvml['error']}; use --no-energy for a performance-only run"
    gpus = report["gpus"]
    if not gpus:
        return False, "NVML works but sees no GPU (check CUDA_VISIBLE_DEVICES); use --no-energy"
    if not 0 <= gpu_index < len(gpus):
        return False, f"GPU index {gpu_index} does not exist: {len(gpus)} GPU(s) visible"
    gpu = gpus[gpu_index]
    if not gpu["energy_counter"]:
        arch = gpu["architecture"] or "unknown architecture"
        return False, (
            f"GPU {gpu_index} ({gpu['name']}, {arch}) has no NVML total-energy counter "
            "(Volta or newer needed); use --no-energy for a performance-only run"
        )
    if problem := zeus_can_map_visible_devices():
        return False, problem
    if not report["torch"]["cuda_available"]:
        return False, f"GPU {gpu_index} ({gpu['name']}) has an energy counter, but torch cannot use CUDA"
    reason = f"GPU {gpu_index} ({gpu['name']}) has an NVML total-energy counter and torch can use it"
    if gpu["other_processes"]:
        reason += (
            f"; note: other processes use it now (pids {gpu['other_processes']}), a measurement would refuse"
        )
    return True, reason
