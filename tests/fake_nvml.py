"""A simulated NVML (and RAPL), for running the real meter and the real Zeus without a GPU.

The simulation sits at the lowest boundary, as Zeus's own tests do: the functions of the real
``pynvml`` module object (the one ``zeus.device.gpu.nvidia`` and ``energy_badge.hardware`` call)
are replaced with ``monkeypatch.setattr``, and Zeus's device singletons and availability caches
are reset for the test and restored after it. Everything above ``pynvml`` -- ``ZeusMonitor``,
Zeus's ``NVIDIAGPUs``, the meter's loop -- runs for real.

Each GPU's energy counter (``nvmlDeviceGetTotalEnergyConsumption``, mJ since "driver load") is
the integral of a power trace you script as watts against the time of a clock since the fake was
installed. Tests pass the clock they also give the meter (``tests/fake_clock.py``, which moves
only when something sleeps): simulated seconds then cost no real time, and every window's energy
is exact. Without a clock the fake integrates over real monotonic time (the GPU campaign's
subprocesses, which run real models, use that).

Typical use::

    from fake_clock import FakeClock
    from fake_nvml import FakeGPU, install_fake_nvml

    def test_something(monkeypatch):
        clock = FakeClock()
        fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=lambda t: 300.0)], clock=clock)
        meter = EnergyMeter(config, clock=clock)   # a pass "runs" with clock.sleep(seconds)
        ...
        fake.add_process(0, pid=4242)           # another process appears on GPU 0
        fake.fail("nvmlDeviceGetTotalEnergyConsumption", pynvml.NVML_ERROR_GPU_IS_LOST)

    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)  # no driver
    install_fake_nvml(monkeypatch, gpus=[])                                         # no GPU

Any ``pynvml`` function the fake does not simulate fails with ``NVML_ERROR_FUNCTION_NOT_FOUND``
(the fake replaces ``pynvml._nvmlGetFunctionPointer``), so no test ever reaches a real GPU.

The meter samples power in a background thread while a window is open, waiting on its clock.
:class:`TickingClock` is a ``FakeClock`` whose sleeps wake such waiters at their exact simulated
deadlines, one at a time, so the samples (and the cross-check) are as deterministic as the rest;
on a plain ``FakeClock`` the sampler falls back to real-time steps and its verdict is usually
``inconclusive`` (the simulated time jumps past it).
"""

from __future__ import annotations

import atexit
import functools
import gc
import math
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pynvml
from fake_clock import FakeClock

PowerTrace = float | Callable[[float], float]

_MIB = 1024 * 1024
_INTEGRATION_STEP_S = 0.001


@dataclass
class FakeProcess:
    """A process holding a context on a fake GPU.

    Attributes:
        pid: its pid (use ``os.getpid()`` for the test process itself).
        used_memory_mib: GPU memory it uses; None where NVML would not say.
        kind: ``"compute"``, ``"graphics"`` or ``"mps"`` (which NVML list it appears in).
        in_namespace: whether the pid exists in this process's pid namespace (the simulated
            ``/proc``): False for a host pid seen from inside a container.
    """

    pid: int
    used_memory_mib: int | None = 1024
    kind: str = "compute"
    in_namespace: bool = True


@dataclass
class FakeGPU:
    """One simulated GPU. Defaults describe an H100 SXM drawing 300 W.

    Attributes:
        name: what ``nvmlDeviceGetName`` returns.
        power_trace: watts, constant or a function of seconds since the fake was installed (on
            the fake's clock); drives both the energy counter and ``nvmlDeviceGetPowerUsage``.
        architecture: ``pynvml.NVML_DEVICE_ARCH_*``; below Volta there is no energy counter.
        energy_counter: False makes the counter raise ``NOT_SUPPORTED`` even on Volta or newer
            (as on some vGPUs).
        uuid: ``nvmlDeviceGetUUID``; generated from the index when None.
        memory_total_mib, power_limit_w, persistence_mode, temperature_c, sm_clock_mhz,
        mem_clock_mhz: what the matching getters return (persistence None: ``NOT_SUPPORTED``).
        processes: processes on the GPU (see :class:`FakeProcess`).
        counter_update_s: if above 0, the counter only changes every this many seconds, like the
            real one (about 0.1 s); 0 gives a continuous counter.
        initial_energy_mj: the counter's value at install time.
        counter_scale: the counter integrates this times the power trace (constant, or a function
            of time): 1.25 is a counter reading 25 % high; ``lambda t: 1 + 0.01 * t`` one that
            drifts away from the power the power readings report.
        mig_mode: ``nvmlDeviceGetMigMode``'s current mode (None: ``NOT_SUPPORTED``).
        pci_bus: the PCI bus number ``nvmlDeviceGetPciInfo`` reports (domain 0, device 0); from
            the GPU's position when None.
    """

    name: str = "NVIDIA H100 80GB HBM3"
    power_trace: PowerTrace = 300.0
    architecture: int = pynvml.NVML_DEVICE_ARCH_HOPPER
    energy_counter: bool = True
    uuid: str | None = None
    memory_total_mib: int = 81559
    power_limit_w: float = 700.0
    persistence_mode: bool | None = True
    temperature_c: int = 41
    sm_clock_mhz: int = 1980
    mem_clock_mhz: int = 2619
    processes: list[FakeProcess] = field(default_factory=list)
    counter_update_s: float = 0.0
    initial_energy_mj: int = 987_654_321
    counter_scale: float | Callable[[float], float] = 1.0
    mig_mode: bool | None = None
    pci_bus: int | None = None

    # Simulation state (set by FakeNVML).
    _energy_mj: float = field(default=0.0, repr=False, init=False)
    _integrated_to: float = field(default=0.0, repr=False, init=False)
    _published_mj: float = field(default=0.0, repr=False, init=False)
    _published_at: float = field(default=-1.0, repr=False, init=False)

    def power_at(self, t: float) -> float:
        """Watts at ``t`` seconds after install."""
        trace = self.power_trace
        return float(trace(t) if callable(trace) else trace)

    def counter_power_at(self, t: float) -> float:
        """What the energy counter integrates at ``t``: the power times ``counter_scale``."""
        scale = self.counter_scale
        return self.power_at(t) * float(scale(t) if callable(scale) else scale)

    @property
    def has_counter(self) -> bool:
        """Whether ``nvmlDeviceGetTotalEnergyConsumption`` works on this GPU."""
        return self.energy_counter and self.architecture >= pynvml.NVML_DEVICE_ARCH_VOLTA


@dataclass(frozen=True)
class _Handle:
    index: int


class FakeNVML:
    """The simulated NVML library; :func:`install_fake_nvml` creates and installs one.

    Attributes:
        gpus: the simulated GPUs, in NVML order.
        init_error: an ``NVML_ERROR_*`` code ``nvmlInit`` raises (None: init works).
        driver_version: ``nvmlSystemGetDriverVersion``.
        cuda_driver_version: ``nvmlSystemGetCudaDriverVersion`` (12040 means 12.4).
        calls: how often each simulated function was called.
        init_count: NVML's init reference count (calls other than init fail when it is 0).
        clock: seconds on a monotonic clock, the time base of the power traces (``time.monotonic``
            unless given, e.g. a ``FakeClock``).
        proc_root: a simulated ``/proc`` (``energy_badge.gpu_processes.PROC_ROOT`` points at it):
            ``self/ns/pid`` says whether this process runs in the host's pid namespace
            (``host_namespace``), and a folder per pid in it (this process and every
            :class:`FakeProcess` with ``in_namespace``).
    """

    def __init__(
        self,
        gpus: list[FakeGPU],
        *,
        init_error: int | None = None,
        driver_version: str = "550.54.15",
        cuda_driver_version: int = 12040,
        clock: Callable[[], float] | None = None,
        host_namespace: bool = True,
    ) -> None:
        self.gpus = gpus
        self.host_namespace = host_namespace
        self.proc_root = Path(tempfile.mkdtemp(prefix="fake-proc-"))
        atexit.register(shutil.rmtree, self.proc_root, ignore_errors=True)
        self._sync_proc()
        self.init_error = init_error
        self.driver_version = driver_version
        self.cuda_driver_version = cuda_driver_version
        self.calls: Counter[str] = Counter()
        self.init_count = 0
        self._failures: dict[str, tuple[int, int]] = {}
        self._lock = threading.RLock()
        self.clock: Callable[[], float] = clock or time.monotonic
        self._t0 = self.clock()
        for index, gpu in enumerate(gpus):
            if gpu.uuid is None:
                gpu.uuid = f"GPU-fa4e0000-0000-4000-8000-{index:012d}"
            gpu._energy_mj = float(gpu.initial_energy_mj)
            gpu._published_mj = gpu._energy_mj

    # Control ---------------------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the fake was installed, on its clock (the ``t`` of power traces)."""
        return self.clock() - self._t0

    def energy_j(self, index: int) -> float:
        """The exact (unquantised) counter of GPU ``index`` now, in joules."""
        with self._lock:
            gpu = self.gpus[index]
            self._integrate(gpu, self.now())
            return gpu._energy_mj / 1000.0

    def set_power(self, index: int, power_trace: PowerTrace) -> None:
        """Change GPU ``index``'s power trace from now on (energy so far is kept)."""
        with self._lock:
            gpu = self.gpus[index]
            self._integrate(gpu, self.now())
            gpu.power_trace = power_trace

    def set_energy_mj(self, index: int, value: float) -> None:
        """Jump GPU ``index``'s counter to ``value`` mJ (e.g. lower: a driver reload)."""
        with self._lock:
            gpu = self.gpus[index]
            self._integrate(gpu, self.now())
            gpu._energy_mj = float(value)
            gpu._published_mj = float(value)

    def add_process(
        self, index: int, pid: int, used_memory_mib: int | None = 1024, kind: str = "compute"
    ) -> FakeProcess:
        """Put a process on GPU ``index``; returns it."""
        process = FakeProcess(pid=pid, used_memory_mib=used_memory_mib, kind=kind)
        self.gpus[index].processes.append(process)
        return process

    def clear_processes(self, index: int) -> None:
        """Remove every process from GPU ``index``."""
        self.gpus[index].processes.clear()

    def fail(self, function: str, code: int = pynvml.NVML_ERROR_GPU_IS_LOST, after: int = 0) -> None:
        """Make ``pynvml.<function>`` raise ``NVMLError(code)`` after ``after`` more successful calls.

        The failure persists (a lost GPU stays lost) until :meth:`heal`.
        """
        self._failures[function] = (code, self.calls[function] + after)

    def heal(self, function: str | None = None) -> None:
        """Remove the failure set on ``function`` (all failures if None)."""
        if function is None:
            self._failures.clear()
        else:
            self._failures.pop(function, None)

    # Simulation ------------------------------------------------------------------------------
    def _integrate(self, gpu: FakeGPU, until: float) -> None:
        start = gpu._integrated_to
        if until <= start:
            return
        if not callable(gpu.power_trace) and not callable(gpu.counter_scale):
            gpu._energy_mj += gpu.counter_power_at(start) * (until - start) * 1000.0
        else:
            steps = max(1, math.ceil((until - start) / _INTEGRATION_STEP_S))
            width = (until - start) / steps
            total = sum(gpu.counter_power_at(start + (k + 0.5) * width) for k in range(steps))
            gpu._energy_mj += total * width * 1000.0
        gpu._integrated_to = until

    def _counter_mj(self, gpu: FakeGPU) -> int:
        now = self.now()
        period = gpu.counter_update_s
        if period <= 0:
            self._integrate(gpu, now)
            return int(round(gpu._energy_mj))
        tick = math.floor(now / period) * period
        if tick > gpu._published_at:
            self._integrate(gpu, tick)
            gpu._published_mj = gpu._energy_mj
            gpu._published_at = tick
        return int(round(gpu._published_mj))

    def _sync_proc(self) -> None:
        """Write the simulated ``/proc``: the namespace link and a folder per visible pid."""
        ns = self.proc_root / "self" / "ns"
        if not ns.exists():
            ns.mkdir(parents=True)
            namespace = "pid:[4026531836]" if self.host_namespace else "pid:[4026532777]"
            (ns / "pid").symlink_to(namespace)
        pids = {os.getpid()} | {p.pid for g in self.gpus for p in g.processes if p.in_namespace}
        for pid in pids:
            (self.proc_root / str(pid)).mkdir(exist_ok=True)

    def _gpu(self, handle: Any) -> FakeGPU:
        if not isinstance(handle, _Handle) or not 0 <= handle.index < len(self.gpus):
            raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return self.gpus[handle.index]

    def _processes(self, handle: Any, kind: str) -> list[SimpleNamespace]:
        self._sync_proc()
        return [
            SimpleNamespace(
                pid=p.pid,
                usedGpuMemory=None if p.used_memory_mib is None else p.used_memory_mib * _MIB,
                gpuInstanceId=0xFFFFFFFF,
                computeInstanceId=0xFFFFFFFF,
            )
            for p in self._gpu(handle).processes
            if p.kind == kind
        ]

    # The simulated NVML functions ------------------------------------------------------------
    def functions(self) -> dict[str, Callable[..., Any]]:
        """The ``pynvml`` attributes this fake replaces, by name."""

        def not_supported(*_args: Any, **_kwargs: Any) -> Any:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)

        def handle_by_index(index: int) -> _Handle:
            if not 0 <= int(index) < len(self.gpus):
                raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
            return _Handle(int(index))

        def handle_by_uuid(uuid: str | bytes) -> _Handle:
            text = uuid.decode() if isinstance(uuid, bytes) else uuid
            for index, gpu in enumerate(self.gpus):
                if gpu.uuid == text:
                    return _Handle(index)
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_FOUND)

        def total_energy(handle: Any) -> int:
            gpu = self._gpu(handle)
            if not gpu.has_counter:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
            return self._counter_mj(gpu)

        def power_usage(handle: Any) -> int:
            return int(round(self._gpu(handle).power_at(self.now()) * 1000))

        def field_values(handle: Any, fields: list[Any]) -> list[SimpleNamespace]:
            gpu = self._gpu(handle)
            power_fields = {pynvml.NVML_FI_DEV_POWER_INSTANT, pynvml.NVML_FI_DEV_POWER_AVERAGE}
            out = []
            for item in fields:
                field_id = item[0] if isinstance(item, tuple) else item
                ok = field_id in power_fields
                out.append(
                    SimpleNamespace(
                        fieldId=field_id,
                        nvmlReturn=pynvml.NVML_SUCCESS if ok else pynvml.NVML_ERROR_NOT_SUPPORTED,
                        value=SimpleNamespace(uiVal=int(round(gpu.power_at(self.now()) * 1000)) if ok else 0),
                    )
                )
            return out

        def clock_info(handle: Any, clock_type: int) -> int:
            gpu = self._gpu(handle)
            if clock_type == pynvml.NVML_CLOCK_SM or clock_type == pynvml.NVML_CLOCK_GRAPHICS:
                return gpu.sm_clock_mhz
            if clock_type == pynvml.NVML_CLOCK_MEM:
                return gpu.mem_clock_mhz
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)

        def temperature(handle: Any, sensor: int, *args: Any, **kwargs: Any) -> int:
            return self._gpu(handle).temperature_c

        def memory_info(handle: Any, version: Any = None) -> SimpleNamespace:
            total = self._gpu(handle).memory_total_mib * _MIB
            used = sum((p.used_memory_mib or 0) * _MIB for p in self._gpu(handle).processes)
            return SimpleNamespace(total=total, used=used, free=total - used)

        def persistence(handle: Any) -> int:
            mode = self._gpu(handle).persistence_mode
            if mode is None:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
            return pynvml.NVML_FEATURE_ENABLED if mode else pynvml.NVML_FEATURE_DISABLED

        def power_limit(handle: Any) -> int:
            return int(round(self._gpu(handle).power_limit_w * 1000))

        def mig_mode(handle: Any) -> list[int]:
            mode = self._gpu(handle).mig_mode
            if mode is None:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
            return [int(mode), int(mode)]

        def pci_info(handle: Any) -> SimpleNamespace:
            gpu = self._gpu(handle)
            bus = gpu.pci_bus if gpu.pci_bus is not None else 0x18 + 0x10 * self.gpus.index(gpu)
            return SimpleNamespace(domain=0, bus=bus, device=0, busId=f"00000000:{bus:02X}:00.0".encode())

        table: dict[str, Callable[..., Any]] = {
            "nvmlDeviceGetCount": lambda: len(self.gpus),
            "nvmlDeviceGetHandleByIndex": handle_by_index,
            "nvmlDeviceGetHandleByUUID": handle_by_uuid,
            "nvmlDeviceGetName": lambda handle: self._gpu(handle).name,
            "nvmlDeviceGetUUID": lambda handle: self._gpu(handle).uuid,
            "nvmlDeviceGetArchitecture": lambda handle: self._gpu(handle).architecture,
            "nvmlDeviceGetTotalEnergyConsumption": total_energy,
            "nvmlDeviceGetC2cModeInfoV": not_supported,
            "nvmlDeviceGetPowerUsage": power_usage,
            "nvmlDeviceGetFieldValues": field_values,
            "nvmlDeviceGetClockInfo": clock_info,
            "nvmlDeviceGetTemperature": temperature,
            "nvmlDeviceGetTemperatureV": temperature,
            "nvmlDeviceGetMemoryInfo": memory_info,
            "nvmlDeviceGetPersistenceMode": persistence,
            "nvmlDeviceGetPowerManagementLimit": power_limit,
            "nvmlDeviceGetEnforcedPowerLimit": power_limit,
            "nvmlDeviceGetPowerManagementDefaultLimit": power_limit,
            "nvmlDeviceGetPowerManagementLimitConstraints": lambda handle: (
                100_000,
                power_limit(handle),
            ),
            "nvmlDeviceGetMigMode": mig_mode,
            "nvmlDeviceGetPciInfo": pci_info,
            "nvmlDeviceGetComputeRunningProcesses": lambda handle: self._processes(handle, "compute"),
            "nvmlDeviceGetGraphicsRunningProcesses": lambda handle: self._processes(handle, "graphics"),
            "nvmlDeviceGetMPSComputeRunningProcesses": lambda handle: self._processes(handle, "mps"),
            "nvmlSystemGetDriverVersion": lambda: self.driver_version,
            "nvmlSystemGetCudaDriverVersion": lambda: self.cuda_driver_version,
            "nvmlSystemGetCudaDriverVersion_v2": lambda: self.cuda_driver_version,
        }
        wrapped = {name: self._guard(name, fn) for name, fn in table.items()}
        wrapped["nvmlInit"] = self._guard("nvmlInit", self._init, needs_init=False)
        wrapped["nvmlInitWithFlags"] = self._guard(
            "nvmlInitWithFlags", lambda flags=0: self._init(), needs_init=False
        )
        wrapped["nvmlShutdown"] = self._guard("nvmlShutdown", self._shutdown, needs_init=False)
        return wrapped

    def _init(self) -> None:
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)
        self.init_count += 1

    def _shutdown(self) -> None:
        if self.init_count == 0:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        self.init_count -= 1

    def _guard(self, name: str, fn: Callable[..., Any], needs_init: bool = True) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] += 1
                failure = self._failures.get(name)
                if failure is not None and self.calls[name] > failure[1]:
                    raise pynvml.NVMLError(failure[0])
                if needs_init and self.init_count == 0:
                    raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
                return fn(*args, **kwargs)

        return call

    @staticmethod
    def _no_function(name: str) -> Any:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)


class TickingClock(FakeClock):
    """A ``FakeClock`` that background waiters (the meter's power sampler) can wait on.

    ``wait_until(deadline, stop)`` blocks a thread until the simulated time reaches ``deadline``;
    a :meth:`sleep` that crosses deadlines stops at each in turn, wakes its waiter, and goes on
    only once that waiter has done its work and waits again (or has left). So the sampler reads
    the simulated NVML at exact simulated times, however the threads are scheduled.
    """

    #: Real seconds a sleep waits for a woken waiter before giving up on it.
    PATIENCE_S = 10.0

    def __init__(self, start: float = 1_000.0) -> None:
        super().__init__(start)
        self._cond = threading.Condition()
        self._deadlines: dict[int, float | None] = {}  # waiter thread -> deadline (None: busy)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        with self._cond:
            target = self.now + seconds
            while True:
                self._cond.wait_for(lambda: None not in self._deadlines.values(), timeout=self.PATIENCE_S)
                due = [d for d in self._deadlines.values() if d is not None and d <= target]
                if not due:
                    break
                self.now = max(self.now, min(due))
                for key, deadline in self._deadlines.items():
                    if deadline is not None and deadline <= self.now:
                        self._deadlines[key] = None
                self._cond.notify_all()
            self.now = target

    def wait_until(self, deadline: float, stop: threading.Event) -> bool:
        key = threading.get_ident()
        with self._cond:
            if stop.is_set():
                self._deadlines.pop(key, None)
                self._cond.notify_all()
                return False
            if self.now >= deadline:
                self._deadlines[key] = None
                return True
            self._deadlines[key] = deadline
            self._cond.notify_all()
            while self._deadlines.get(key) is not None:
                if stop.is_set():
                    self._deadlines.pop(key, None)
                    self._cond.notify_all()
                    return False
                self._cond.wait(0.002)
            return True


_NO_RAPL = "/nonexistent/energy-badge-tests/powercap/intel-rapl"


def reset_zeus(monkeypatch: Any, rapl_dir: str | None = None) -> None:
    """Give Zeus fresh device singletons and availability caches for this test; restored after it.

    ``nvml_is_available`` and ``rapl_is_available`` are replaced by fresh ``lru_cache`` copies of
    Zeus's own functions (so a cached answer never leaks between tests), AMD GPUs are declared
    absent, the Zeus daemon variables are removed, and RAPL is pointed at ``rapl_dir`` (absent
    when None, so a host's real RAPL never enters a test).
    """
    import zeus.device.cpu as zcpu
    import zeus.device.cpu.rapl as zrapl
    import zeus.device.gpu as zgpu
    import zeus.device.gpu.nvidia as znvidia
    import zeus.device.soc as zsoc

    nvml_cached = getattr(znvidia.nvml_is_available, "__wrapped__", znvidia.nvml_is_available)
    fresh_nvml = functools.lru_cache(maxsize=1)(nvml_cached)
    monkeypatch.setattr(znvidia, "nvml_is_available", fresh_nvml)
    monkeypatch.setattr(zgpu, "nvml_is_available", fresh_nvml)
    monkeypatch.setattr(zgpu, "amdsmi_is_available", lambda: False)

    rapl_cached = getattr(zrapl.rapl_is_available, "__wrapped__", zrapl.rapl_is_available)
    fresh_rapl = functools.lru_cache(maxsize=1)(rapl_cached)
    monkeypatch.setattr(zrapl, "rapl_is_available", fresh_rapl)
    monkeypatch.setattr(zcpu, "rapl_is_available", fresh_rapl)
    monkeypatch.setattr(zrapl, "RAPL_DIR", rapl_dir or _NO_RAPL)
    monkeypatch.setattr(zrapl, "CONTAINER_RAPL_DIR", _NO_RAPL)

    for variable in ("ZEUSD_SOCK_PATH", "ZEUSD_HOST_PORT", "ZEUSD_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(zcpu, "_cpus", None)
    monkeypatch.setattr(zsoc, "_soc", None)
    # Set last, so it is restored first: Zeus's NVIDIAGPUs object made in the test is then
    # dropped (its __del__ calls nvmlShutdown) while pynvml is still the fake.
    monkeypatch.setattr(zgpu, "_gpus", None)


def install_fake_nvml(
    monkeypatch: Any,
    gpus: list[FakeGPU] | None = None,
    *,
    init_error: int | None = None,
    driver_version: str = "550.54.15",
    cuda_driver_version: int = 12040,
    rapl_dir: str | None = None,
    clock: Callable[[], float] | None = None,
    host_namespace: bool = True,
) -> FakeNVML:
    """Install a simulated NVML for one test (undone by ``monkeypatch`` after it).

    Args:
        monkeypatch: the test's ``monkeypatch`` fixture.
        gpus: the simulated GPUs; None for one default :class:`FakeGPU` (H100, 300 W);
            ``[]`` for a driver that sees no GPU.
        init_error: make ``nvmlInit`` raise this ``pynvml.NVML_ERROR_*`` code (e.g.
            ``NVML_ERROR_LIBRARY_NOT_FOUND`` for a machine without the NVIDIA driver).
        driver_version: what ``nvmlSystemGetDriverVersion`` returns.
        cuda_driver_version: what ``nvmlSystemGetCudaDriverVersion`` returns (12040 = 12.4).
        rapl_dir: a RAPL sysfs tree for Zeus to read (see :func:`install_fake_rapl`); None: no RAPL.
        clock: the time base of the power traces: pass the ``FakeClock`` the meter gets, so a
            simulated pass (``clock.sleep``) draws power for exactly its simulated seconds; None:
            real monotonic time.
        host_namespace: whether the simulated ``/proc`` says this process runs in the host's
            pid namespace (False: a container; see :attr:`FakeNVML.proc_root`).

    Returns:
        The :class:`FakeNVML`, to script power, processes and failures during the test.
    """
    fake = FakeNVML(
        [FakeGPU()] if gpus is None else gpus,
        init_error=init_error,
        driver_version=driver_version,
        cuda_driver_version=cuda_driver_version,
        clock=clock,
        host_namespace=host_namespace,
    )
    import energy_badge.gpu_processes

    monkeypatch.setattr(energy_badge.gpu_processes, "PROC_ROOT", str(fake.proc_root))
    global _installed_in_this_test
    _installed_in_this_test = True
    for name, function in fake.functions().items():
        monkeypatch.setattr(pynvml, name, function)
    monkeypatch.setattr(pynvml, "_nvmlGetFunctionPointer", FakeNVML._no_function)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    reset_zeus(monkeypatch, rapl_dir)
    return fake


_installed_in_this_test = False


def release_leftovers() -> None:
    """End-of-test clean-up, called by ``tests/conftest.py`` before ``monkeypatch`` is undone.

    A Zeus ``NVIDIAGPUs`` object calls ``pynvml.nvmlShutdown`` when it is finalised. When a
    test leaves one in a reference cycle (a failed meter's traceback keeps its frames, and so
    its ``ZeusMonitor``, alive), the cyclic garbage collector finalises it at some later moment
    -- possibly in the middle of another test, where that shutdown lowers the *other* test's
    NVML init count to zero and Zeus then sees no GPU. Collecting here, while this test's fake
    is still installed, makes every such shutdown land on the fake it belongs to.
    """
    global _installed_in_this_test
    if _installed_in_this_test:
        _installed_in_this_test = False
        gc.collect()


class FakeRAPL:
    """A RAPL sysfs tree (``intel-rapl:N/energy_uj`` with a ``dram`` sub-zone) that Zeus reads.

    Energy only advances when the test calls :meth:`add`, so CPU and DRAM joules are exact.
    Zeus starts a helper process per counter file to watch for wrap-arounds; it ends with pytest.
    """

    def __init__(self, root: Path, packages: int = 1, dram: bool = True) -> None:
        self.root = root
        self.files: dict[tuple[int, str], Path] = {}
        self.values: dict[tuple[int, str], int] = {}
        root.mkdir(parents=True, exist_ok=True)
        for package in range(packages):
            zone = root / f"intel-rapl:{package}"
            self._zone(zone, f"package-{package}", (package, "cpu"))
            if dram:
                self._zone(zone / f"intel-rapl:{package}:0", "dram", (package, "dram"))

    def _zone(self, path: Path, name: str, key: tuple[int, str]) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "name").write_text(name + "\n")
        (path / "max_energy_range_uj").write_text("262143328850\n")
        self.files[key] = path / "energy_uj"
        self.values[key] = 1_000_000
        self._write(key)

    def _write(self, key: tuple[int, str]) -> None:
        target = self.files[key]
        temporary = target.with_name(f".energy_uj.{os.getpid()}")
        temporary.write_text(f"{self.values[key]}\n")
        os.replace(temporary, target)  # atomic: Zeus's watcher never reads a half-written file

    def add(self, cpu_j: float, dram_j: float = 0.0, package: int = 0) -> None:
        """Advance package ``package``'s CPU counter by ``cpu_j`` and its DRAM counter by ``dram_j``."""
        for kind, joules in (("cpu", cpu_j), ("dram", dram_j)):
            key = (package, kind)
            if key in self.files and joules:
                self.values[key] += int(round(joules * 1_000_000))
                self._write(key)


def install_fake_rapl(monkeypatch: Any, root: Path, packages: int = 1, dram: bool = True) -> FakeRAPL:
    """Create a RAPL tree under ``root`` and point Zeus (and ``energy_badge.hardware``) at it.

    Call after :func:`install_fake_nvml` (which points RAPL at nothing).
    """
    rapl = FakeRAPL(root, packages=packages, dram=dram)
    reset_zeus(monkeypatch, str(root))
    return rapl
