"""The processes on a GPU, from NVML's process lists: the meter's isolation check.

:func:`gpu_process_check` lists the processes other than this one holding a context on the given
GPUs, says when NVML refused a list (the answer is then *unknown*, never "nobody"), and recognises
this process under its host pid inside a container (see the function). ``pynvml`` is reached
through :mod:`energy_badge.nvml`. Re-exported by :mod:`energy_badge.hardware`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from energy_badge.errors import MeterError
from energy_badge.nvml import (
    MIB,
    CudaDevice,
    NVMLUnavailableError,
    handle,
    nvml_session,
    process_lists,
    resolve,
)

__all__ = [
    "INITIAL_PID_NAMESPACE",
    "PROC_ROOT",
    "PROC_STATUS",
    "GPUProcess",
    "ProcessCheck",
    "gpu_process_check",
    "other_gpu_processes",
    "own_pids",
]


@dataclass(frozen=True)
class GPUProcess:
    """Another process holding a context on a GPU.

    Attributes:
        pid: its pid, as NVML reports it.
        used_memory_mib: GPU memory it uses, None where NVML does not say.
        gpu_index: CUDA index of the GPU.
        kind: the NVML list it appears in: ``"compute"``, ``"graphics"``, ``"mps"``, or several
            joined with ``+`` (``"compute+graphics"``).
    """

    pid: int
    used_memory_mib: int | None
    gpu_index: int
    kind: str


PROC_STATUS = "/proc/self/status"
#: Where this process's pid namespace shows its processes (a pid without a folder here is not in
#: it) and its own namespace (``self/ns/pid``).
PROC_ROOT = "/proc"
#: ``readlink /proc/self/ns/pid`` in the kernel's initial pid namespace (``PROC_PID_INIT_INO``).
INITIAL_PID_NAMESPACE = "pid:[4026531836]"


def _in_initial_pid_namespace() -> bool | None:
    """Whether this process runs in the host's pid namespace (None where Linux does not say)."""
    try:
        return os.readlink(os.path.join(PROC_ROOT, "self", "ns", "pid")) == INITIAL_PID_NAMESPACE
    except OSError:
        return None


def own_pids(status_path: str | None = None) -> set[int]:
    """Return this process's pid as every pid namespace this process can see names it.

    The ``NSpid`` line of ``/proc/self/status`` lists the pid in each namespace from the one
    ``/proc`` was mounted in down to this process's own. Inside a container ``/proc`` is usually
    the container's, so the host's pid (which NVML may report) is not among them: see
    :func:`gpu_process_check` for how that case is handled.

    Args:
        status_path: the status file to read (default :data:`PROC_STATUS`).

    Returns:
        ``os.getpid()`` plus every pid on the ``NSpid`` line (just ``os.getpid()`` where there is none).
    """
    pids = {os.getpid()}
    try:
        with open(status_path or PROC_STATUS, encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    pids.update(int(p) for p in line.split()[1:] if p.isdigit())
                    break
    except OSError:
        pass
    return pids


@dataclass(frozen=True)
class ProcessCheck:
    """What NVML's process lists say about the processes on some GPUs.

    Attributes:
        others: processes other than this one, one per (GPU, pid), in NVML's order; a process
            in several lists appears once, its ``kind`` naming each (``"compute+graphics"``).
        unknown_reason: why the lists could not all be read (NVML refused one: no permission,
            or cannot list compute processes here), None when they were.
        attributed_pid: a pid taken to be this process under its host pid (see
            :func:`gpu_process_check`), None if none was.
    """

    others: tuple[GPUProcess, ...]
    unknown_reason: str | None
    attributed_pid: int | None


def _listed(pynvml: Any, device: Any, cuda_index: int, unknown: list[str]) -> dict[int, GPUProcess]:
    """Every process NVML lists on one device, by pid; lists NVML refuses go to ``unknown``."""
    denied = {pynvml.NVML_ERROR_NO_PERMISSION}
    absent = {pynvml.NVML_ERROR_NOT_SUPPORTED, pynvml.NVML_ERROR_FUNCTION_NOT_FOUND}
    found: dict[int, GPUProcess] = {}
    for kind, getter in process_lists(pynvml):
        try:
            processes = getter(device) or []
        except pynvml.NVMLError as error:
            code = getattr(error, "value", None)
            if code in denied or (kind == "compute" and code in absent):
                unknown.append(f"NVML refused the {kind} process list of GPU {cuda_index} ({error})")
                continue
            if code in absent:
                continue
            raise
        for process in processes:
            pid = int(process.pid)
            entry = found.get(pid)
            if entry is None:
                used = getattr(process, "usedGpuMemory", None)
                found[pid] = GPUProcess(pid, None if used is None else int(used // MIB), cuda_index, kind)
            elif kind not in entry.kind.split("+"):
                found[pid] = replace(entry, kind=f"{entry.kind}+{kind}")
    return found


def gpu_process_check(
    gpu_indices: Sequence[int], *, cuda: Sequence[CudaDevice] | None = None
) -> ProcessCheck:
    """Ask NVML which processes other than this one hold a context on the given GPUs.

    Reads the compute, graphics and (where supported) MPS lists. A list NVML refuses (no
    permission, or no compute list at all) makes the answer *unknown*, never "nobody".

    Host pids: inside a container (a pid namespace other than the host's) whose driver reports
    host pids, this process appears under a pid that is not in its own namespace (no
    ``/proc/<pid>`` here, see :data:`PROC_ROOT`). When none of this process's pids
    (:func:`own_pids`) is listed on a GPU and exactly one listed pid is outside the namespace,
    that pid is taken to be this process (``attributed_pid``): the meter holds a context on the
    GPU it measures, so it must be listed. With several such pids all are reported (at most one
    of them can be this process). In the host's own pid namespace nothing is attributed.

    Args:
        gpu_indices: CUDA indices.
        cuda: CUDA's identities of its devices (see :func:`energy_badge.hardware.probe_hardware`).

    Returns:
        The :class:`ProcessCheck`.

    Raises:
        MeterError: if NVML is unavailable or fails.
        UsageError: if an index names no visible GPU.
    """
    own = own_pids()
    contained = _in_initial_pid_namespace() is False
    unknown: list[str] = []
    others: list[GPUProcess] = []
    attributed = None
    try:
        with nvml_session() as pynvml:
            try:
                for cuda_index, nvml_index, _ in resolve(pynvml, gpu_indices, cuda):
                    listed = _listed(pynvml, handle(pynvml, nvml_index), cuda_index, unknown)
                    foreign = [pid for pid in listed if not os.path.exists(os.path.join(PROC_ROOT, str(pid)))]
                    if contained and len(foreign) == 1 and not own.intersection(listed):
                        attributed = foreign[0]
                        own = own | {attributed}
                    others.extend(p for pid, p in listed.items() if pid not in own)
            except pynvml.NVMLError as error:
                raise MeterError(
                    f"NVML failed while listing processes on GPU(s) {list(gpu_indices)}: {error}"
                ) from error
    except NVMLUnavailableError as error:
        raise MeterError(str(error)) from error
    return ProcessCheck(tuple(others), "; ".join(unknown) or None, attributed)


def other_gpu_processes(gpu_indices: Sequence[int]) -> list[GPUProcess]:
    """The processes other than this one on the given GPUs (:func:`gpu_process_check`'s ``others``).

    Raises:
        MeterError: if NVML is unavailable or fails.
        UsageError: if an index names no visible GPU.
    """
    return list(gpu_process_check(gpu_indices).others)
