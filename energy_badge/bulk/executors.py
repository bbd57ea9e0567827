"""Where measurements run: in this process (``local``) or as Ray tasks on a cluster (``ray``).

An executor takes :class:`MeasureRequest` s and gives back :class:`Completion` s. It only
*measures*: the driver (:class:`~energy_badge.bulk.job.BulkJob`) alone writes the state file and
talks to the Hub for writes. A measurement is :func:`energy_badge.measure.measure_model` (or the
``measure`` callable a test injects), run by :func:`run_measurement`, which returns the result's
JSON form or a description of the error, never raises for a model's failure; the driver validates
the JSON against the result schema before it records anything.

* :class:`LocalExecutor`: one measurement at a time, in this process, on ``--gpu-index``.
* :class:`RayExecutor`: each measurement a Ray task asking for ``num_gpus`` (default 1: Ray sets
  ``CUDA_VISIBLE_DEVICES`` so the task sees its GPU as ``cuda:0``) and ``num_cpus``; on an existing
  cluster (``address``) or a local instance started for the run. At most ``max_in_flight`` tasks
  are submitted at once (default: as many as the cluster's GPUs, or CPUs, can run together), so a
  stop cancels little and the state says exactly what is being measured. Ray's own task retries are
  off: retries are the driver's, counted in the state.

A note on ``import ray``: ray (2.60) probes for AMD GPUs at import through the ``amdsmi`` package,
catching only ``ImportError``; the ``amdsmi`` wheel that Zeus depends on raises ``KeyError`` at
import on a machine without ROCm's ``libamd_smi.so``. :func:`import_ray` works around it: when
``amdsmi`` is broken that way, it is hidden from this process and (through ``PYTHONPATH``, which a
local Ray instance passes to its workers) from the workers, so Zeus and Ray both see "no AMD GPU".
On an existing cluster, start the nodes with the same workaround (see the README).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from energy_badge.errors import (
    EnergyBadgeError,
    InputError,
    NoEnergyCounterError,
    UsageError,
)

if TYPE_CHECKING:
    from energy_badge.measure import MeasureOptions
    from energy_badge.result import EnergyResult

__all__ = [
    "Completion",
    "Executor",
    "LocalExecutor",
    "MeasureRequest",
    "RayExecutor",
    "import_ray",
    "probe_hardware_key",
    "result_hardware_key",
    "run_measurement",
]

#: ``measure(model, task, options) -> EnergyResult | dict``: what runs a measurement.
MeasureFn = Callable[[str, str, "MeasureOptions"], "EnergyResult | Mapping[str, object]"]

_SHIM_DIR = Path(__file__).with_name("_no_amdsmi")


@dataclass
class MeasureRequest:
    """One measurement to run (a plain, picklable description).

    Attributes:
        row_id: the state row it is for.
        model: the Hub repo id.
        revision: the commit sha to measure (pinned when the run was planned).
        task: the task.
        options: :class:`~energy_badge.measure.MeasureOptions` fields as JSON (``meter`` a dict);
            never a token (workers use their own ``HF_TOKEN``).
    """

    row_id: int
    model: str
    revision: str
    task: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    """What came back for one request.

    Attributes:
        row_id: the state row.
        ok: True when ``result`` holds the result's JSON form.
        result: the result's JSON form (not yet validated by the driver), or None.
        error: the exception class name on failure.
        message: its one-line message.
        kind: ``"permanent"`` (an input problem: not found, gated, wrong task, unsafe), ``"transient"``
            (worth retrying: network, out of memory, a crashed worker) or ``"fatal"`` (this machine or
            this configuration cannot measure at all: the run stops).
        seconds: how long the measurement took.
    """

    row_id: int
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None
    message: str | None = None
    kind: str | None = None
    seconds: float = 0.0


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 500 else line[:497] + "..."


def error_kind(error: BaseException) -> str:
    """``"permanent"``, ``"transient"`` or ``"fatal"`` for an exception a measurement raised.

    Input problems (:class:`~energy_badge.errors.InputError`: not found, gated, wrong task, unsafe,
    invalid file) are permanent. A machine without an energy counter and a usage error are fatal:
    every other model would fail the same way. Everything else (network, out of memory, NVML errors,
    another process on the GPU, an unexpected exception) is transient.
    """
    if isinstance(error, InputError):
        return "permanent"
    if isinstance(error, (NoEnergyCounterError, UsageError)):
        return "fatal"
    return "transient"  # SharedGPUError (a CannotMeasureError) included: the other process may be gone


def measure_options(options: dict[str, Any], revision: str) -> MeasureOptions:
    """Build :class:`~energy_badge.measure.MeasureOptions` from a request's JSON options."""
    from energy_badge.measure import MeasureOptions
    from energy_badge.meter import MeterConfig

    values = dict(options)
    meter = MeterConfig(**values.pop("meter", {}))
    return MeasureOptions(revision=revision, meter=meter, **values)


def run_measurement(
    request: MeasureRequest | dict[str, Any], measure: MeasureFn | None = None
) -> dict[str, Any]:
    """Run one measurement and describe what happened (the worker side of every executor).

    Args:
        request: the :class:`MeasureRequest` (or its dict form).
        measure: ``measure(model, task, options)``; default :func:`energy_badge.measure.measure_model`.

    Returns:
        The :class:`Completion`'s dict form. Never raises for a failed measurement; a
        ``KeyboardInterrupt`` (a stop, a Ray cancel) propagates.
    """
    if isinstance(request, dict):
        request = MeasureRequest(**request)
    started = time.monotonic()
    try:
        from energy_badge.bulk.codec import worker_form

        if measure is None:
            from energy_badge.measure import measure_model

            measure = measure_model
        options = measure_options(request.options, request.revision)
        result = measure(request.model, request.task, options)
        completion = Completion(request.row_id, True, result=worker_form(result))
    except EnergyBadgeError as error:
        completion = Completion(
            request.row_id,
            False,
            error=type(error).__name__,
            message=_one_line(str(error)),
            kind=error_kind(error),
        )
    except Exception as error:  # a bug or a library crash on this model: retry a few times, then give up
        where = traceback.extract_tb(error.__traceback__)[-1:]
        at = f" (at {Path(where[0].filename).name}:{where[0].lineno})" if where else ""
        completion = Completion(
            request.row_id,
            False,
            error=type(error).__name__,
            message=_one_line(f"{type(error).__name__}: {error}{at}"),
            kind="transient",
        )
    completion.seconds = time.monotonic() - started
    return asdict(completion)


def probe_hardware_key(gpu_index: int = 0, energy: bool = True) -> str:
    """The hardware class a measurement here would record: ``H100``, a GPU name, or ``cpu``.

    It describes the machine the way the meters do (:func:`energy_badge.hardware.probe_hardware`
    on ``gpu_index``), so it matches :func:`result_hardware_key` of a result measured here.

    Raises:
        NoEnergyCounterError: ``energy`` and no GPU is visible here.
    """
    from energy_badge.errors import MeterError
    from energy_badge.hardware import probe_hardware

    try:
        info = probe_hardware([gpu_index])
    except (UsageError, MeterError):
        if energy:
            raise
        return "cpu"
    if not info.gpus:
        if energy:
            raise NoEnergyCounterError(
                "no NVIDIA GPU is visible here, so no energy can be measured: run on a GPU machine, "
                "or add --no-energy for a performance-only (never published) run"
            )
        return "cpu"
    return info.hardware_class or info.gpus[0].name


def result_hardware_key(result: EnergyResult) -> str:
    """The hardware class a result was measured on, as :func:`probe_hardware_key` names it."""
    return result.hardware_class or result.gpu_name or "cpu"


class Executor(Protocol):
    """What :class:`~energy_badge.bulk.job.BulkJob` needs from an executor."""

    name: str

    @property
    def capacity(self) -> int:
        """How many requests may be in flight at once."""

    def hardware_class(self, energy: bool) -> str:
        """The hardware class measurements will be made on (see :func:`probe_hardware_key`)."""

    def submit(self, request: MeasureRequest) -> None:
        """Start (or queue) a measurement."""

    def poll(self, timeout: float) -> list[Completion]:
        """Completed measurements, waiting up to ``timeout`` seconds for one (the local one runs it)."""

    def in_flight(self) -> list[int]:
        """Row ids submitted and not yet returned."""

    def cancel(self) -> list[int]:
        """Abandon every measurement in flight; returns their row ids."""

    def close(self) -> None:
        """Release the executor's resources."""


class LocalExecutor:
    """Measurements one at a time, in this process (the default; one GPU).

    Args:
        measure: ``measure(model, task, options)``; default :func:`~energy_badge.measure.measure_model`.
            Tests inject a function returning synthetic canonical results.
        gpu_index: the GPU measured (also in each request's meter options).
    """

    name = "local"

    def __init__(self, measure: MeasureFn | None = None, gpu_index: int = 0) -> None:
        self.measure = measure
        self.gpu_index = gpu_index
        self._queue: list[MeasureRequest] = []

    @property
    def capacity(self) -> int:
        return 1

    def hardware_class(self, energy: bool) -> str:
        return probe_hardware_key(self.gpu_index, energy)

    def submit(self, request: MeasureRequest) -> None:
        self._queue.append(request)

    def poll(self, timeout: float) -> list[Completion]:
        if not self._queue:
            if timeout > 0:
                time.sleep(timeout)
            return []
        request = self._queue[0]
        outcome = run_measurement(request, self.measure)  # a KeyboardInterrupt leaves it queued
        self._queue.pop(0)
        return [Completion(**outcome)]

    def in_flight(self) -> list[int]:
        return [r.row_id for r in self._queue]

    def cancel(self) -> list[int]:
        ids = self.in_flight()
        self._queue.clear()
        return ids

    def close(self) -> None:
        self._queue.clear()


def _amdsmi_is_broken() -> bool:
    """True when ``import amdsmi`` fails with something other than ImportError (no ROCm library)."""
    if "amdsmi" in sys.modules:
        return sys.modules["amdsmi"] is None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # amdsmi prints its failure to stdout
            import amdsmi  # noqa: F401
    except ImportError:
        return False
    except Exception:
        for name in [n for n in sys.modules if n == "amdsmi" or n.startswith("amdsmi.")]:
            del sys.modules[name]
        return True
    return False


def import_ray() -> Any:
    """Import ray, hiding a broken ``amdsmi`` from this process and from local Ray workers.

    Returns:
        The ``ray`` module.

    Raises:
        UsageError: ray is not installed (``pip install "energy-badge[ray]"``).
    """
    if "ray" not in sys.modules and _amdsmi_is_broken():
        sys.modules["amdsmi"] = None  # type: ignore[assignment]  # `import amdsmi` -> ImportError
        shim = str(_SHIM_DIR)
        paths = os.environ.get("PYTHONPATH", "").split(os.pathsep) if os.environ.get("PYTHONPATH") else []
        if shim not in paths:
            os.environ["PYTHONPATH"] = os.pathsep.join([shim, *paths])
    try:
        import ray
    except ImportError as err:
        raise UsageError(f'--executor ray needs ray: pip install "energy-badge[ray]" ({err})') from err
    return ray


def _ray_measure(request: dict[str, Any], measure: MeasureFn | None) -> dict[str, Any]:
    """The Ray task body: quiet transformers, then :func:`run_measurement`."""
    with contextlib.suppress(Exception):
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    return run_measurement(request, measure)


class RayExecutor:
    """Each measurement a Ray task; the driver keeps the state and the Hub writes.

    Args:
        address: a running cluster (``ray://host:10001``, ``auto``, ``host:6379``); None starts a
            local instance for the run (or joins the one this process already started).
        gpus_per_task: ``num_gpus`` of each task (0 for CPU ``--no-energy`` runs).
        cpus_per_task: ``num_cpus`` of each task.
        max_in_flight: the most tasks submitted at once (default: what the cluster can run together).
        accelerator_type: Ray ``accelerator_type`` to pin tasks to (e.g. ``H100``) on a mixed cluster.
        measure: ``measure(model, task, options)`` shipped to the workers (default
            :func:`~energy_badge.measure.measure_model`, imported there).
        num_cpus: CPUs of a local instance started here (default: Ray's own choice).
        runtime_env: Ray runtime environment for a local instance (e.g. ``{"env_vars": {...}}``).

    Raises:
        UsageError: ray missing, or the cluster has no GPU while tasks ask for one.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        gpus_per_task: float = 1.0,
        cpus_per_task: float = 1.0,
        max_in_flight: int | None = None,
        accelerator_type: str | None = None,
        measure: MeasureFn | None = None,
        num_cpus: int | None = None,
        runtime_env: dict[str, Any] | None = None,
    ) -> None:
        ray = import_ray()
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "address": address,
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if address is None:
                if num_cpus is not None:
                    kwargs["num_cpus"] = num_cpus
                if runtime_env is not None:
                    kwargs["runtime_env"] = runtime_env
            ray.init(**kwargs)
            self._started = True
        resources = ray.cluster_resources()
        gpus, cpus = float(resources.get("GPU", 0)), float(resources.get("CPU", 0))
        if gpus_per_task > 0 and gpus < gpus_per_task:
            raise UsageError(
                f"the Ray cluster has {gpus:g} GPU(s) and each task asks for {gpus_per_task:g}: "
                "add GPU nodes, or use --gpus-per-task 0 with --no-energy for a CPU run"
            )
        if cpus_per_task > cpus:
            raise UsageError(f"the Ray cluster has {cpus:g} CPU(s) and each task asks for {cpus_per_task:g}")
        if accelerator_type and gpus_per_task > 0 and f"accelerator_type:{accelerator_type}" not in resources:
            known = sorted(k.split(":", 1)[1] for k in resources if k.startswith("accelerator_type:"))
            raise UsageError(
                f"no node of the Ray cluster has accelerator type {accelerator_type!r} (its nodes have: "
                f"{', '.join(known) or 'none'}); tasks pinned to it would wait forever"
            )
        if max_in_flight is None:
            by_gpu = int(gpus // gpus_per_task) if gpus_per_task > 0 else 10**9
            by_cpu = int(cpus // cpus_per_task) if cpus_per_task > 0 else 10**9
            max_in_flight = max(1, min(by_gpu, by_cpu, 10_000))
        self._capacity = max(1, int(max_in_flight))
        self.gpus_per_task = gpus_per_task
        options: dict[str, Any] = {"num_gpus": gpus_per_task, "num_cpus": cpus_per_task, "max_retries": 0}
        if accelerator_type and gpus_per_task > 0:
            options["accelerator_type"] = accelerator_type
        self._options = options
        self._remote = ray.remote(_ray_measure).options(**options)
        self._probe = ray.remote(probe_hardware_key).options(**{**options, "max_retries": 0})
        self._measure = measure
        self._refs: dict[Any, int] = {}

    @property
    def capacity(self) -> int:
        return self._capacity

    def hardware_class(self, energy: bool) -> str:
        try:
            return str(self._ray.get(self._probe.remote(0, energy), timeout=600))
        except self._ray.exceptions.RayTaskError as err:
            cause = err.cause if isinstance(getattr(err, "cause", None), BaseException) else None
            if isinstance(cause, EnergyBadgeError):
                raise cause from None
            raise

    def submit(self, request: MeasureRequest) -> None:
        ref = self._remote.remote(asdict(request), self._measure)
        self._refs[ref] = request.row_id

    def poll(self, timeout: float) -> list[Completion]:
        if not self._refs:
            if timeout > 0:
                time.sleep(timeout)
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=max(0.0, timeout))
        if ready:  # take every other finished one too
            more, _ = self._ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0)
            ready = list(dict.fromkeys([*ready, *more]))
        out = []
        for ref in ready:
            row_id = self._refs.pop(ref)
            try:
                out.append(Completion(**self._ray.get(ref)))
            except self._ray.exceptions.RayError as err:  # the worker died, the node went away...
                message = _one_line(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
                out.append(
                    Completion(row_id, False, error=type(err).__name__, message=message, kind="transient")
                )
        return out

    def in_flight(self) -> list[int]:
        return list(self._refs.values())

    def cancel(self) -> list[int]:
        ids = list(self._refs.values())
        for ref in list(self._refs):
            with contextlib.suppress(Exception):
                self._ray.cancel(ref, force=False)
        self._refs.clear()
        return ids

    def close(self) -> None:
        self.cancel()
        if self._started:
            with contextlib.suppress(Exception):
                self._ray.shutdown()
            self._started = False
