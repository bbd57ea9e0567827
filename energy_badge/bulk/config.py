"""What a bulk run is asked to do (:class:`BulkConfig`) and what it reports (:class:`Plan`, :class:`Summary`).

Also the vocabulary every part of a run shares: the publish policies, the short reason codes a
failure is grouped by in the state and the report, and :class:`OptedOutError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from energy_badge.bulk.inputs import InputProblem
from energy_badge.bulk.state import JobKey
from energy_badge.bulk.throttle import (
    DEFAULT_READ_BURST,
    DEFAULT_READS_PER_MINUTE,
    DEFAULT_WRITE_BURST,
    DEFAULT_WRITES_PER_MINUTE,
)
from energy_badge.errors import InputError, UsageError
from energy_badge.hub.retry import DEFAULT_MAX_WAIT_S
from energy_badge.meter import DEFAULT_IDLE_REUSE_S, MeterConfig

__all__ = [
    "NOT_PUBLISHABLE",
    "PUBLISH_POLICIES",
    "BulkConfig",
    "EventCallback",
    "OptedOutError",
    "Plan",
    "Summary",
    "reason_code",
]

PUBLISH_POLICIES = ("none", "pr", "commit")
#: reason_code of a measured result that is not published (not canonical, random weights...).
NOT_PUBLISHABLE = "not-publishable"

#: ``on_event(kind, details)``: a run's progress (see :class:`~energy_badge.bulk.job.BulkJob`).
EventCallback = Callable[[str, dict[str, Any]], None]

_REASON_CODES = {
    "ModelNotFoundError": "not-found",
    "HubNotFoundError": "not-found",
    "GatedModelError": "gated",
    "HubGatedError": "gated",
    "WrongTaskError": "wrong-task",
    "UnsafeModelError": "unsafe-model",
    "InvalidFileError": "invalid-file",
    "NotCanonicalError": "not-canonical",
    "HubError": "hub-refused",
    "OptedOutError": "opted-out",
    "NetworkError": "network",
    "MeterError": "meter",
    "SharedGPUError": "shared-gpu",
    "RuntimeFailure": "runtime",
    "NoEnergyCounterError": "no-energy-counter",
    "UsageError": "usage",
    "InputError": "input",
    "HardwareMismatch": "hardware-mismatch",
}


def reason_code(error_name: str) -> str:
    """A short, stable class of a failure for grouping (``not-found``, ``network``, ``error:KeyError``)."""
    return _REASON_CODES.get(error_name, f"error:{error_name}")


class OptedOutError(InputError):
    """The model opted out of automated badges (card key, or a pull request of ours it closed)."""


@dataclass(frozen=True)
class BulkConfig:
    """The settings of a bulk run.

    Attributes:
        task: the task every model is measured on, or ``auto``: each model's own, the task its Hub
            pipeline tag names (:func:`energy_badge.tasks.task_for_pipeline_tag`).
        publish: ``none`` (measure only), ``pr`` (open or update one pull request per model) or
            ``commit`` (commit to ``main``).
        dry_run: plan only: resolve revisions and write the state's rows, measure and write nothing.
        energy, queries, device, meter: how to measure (see :class:`~energy_badge.measure.MeasureOptions`);
            anything but the defaults makes results non-canonical, so they are never published. The
            default meter reuses an idle sample for up to ``DEFAULT_IDLE_REUSE_S`` (600 s) on the
            same GPU (:mod:`energy_badge.meter.baseline`; recorded with its age).
        protocol: ``sampled`` (the default: a stratified sample, its interval holding the sampling
            error; published only when within the target) or ``full`` (:mod:`energy_badge.protocol`).
        prefetch: models whose files are downloaded ahead, while the current one is measured
            (:mod:`energy_badge.bulk.prefetch`; 0: none); only for energy runs of the default
            local executor measuring with ``measure_model``.
        prefetch_max_bytes: disk budget of the prefetched, not yet measured files.
        hardware_class: the class measurements are made on; default: asked of the executor.
        max_attempts: measurements (and, separately, publishes) tried per row on transient failures.
        retry_backoff_s, max_backoff_s: the first retry waits ``retry_backoff_s``, doubling up to
            ``max_backoff_s``.
        retry_failed: re-queue this run's ``failed`` rows (a measured result is published again,
            not measured again).
        writes_per_minute, write_burst: the write throttle (see :mod:`energy_badge.bulk.throttle`).
        reads_per_minute, read_burst: the read throttle; 0 per minute: unthrottled.
        lookup_threads: concurrent ``model_info`` reads while planning.
        skip: model ids never measured nor published.
        table: rating table file (default: all the shipped tables combined).
        endpoint: Hub endpoint (default ``HF_ENDPOINT`` / huggingface.co).
        token: Hub token (default: huggingface_hub's own); never stored, never printed.
        max_wait_s: the longest single 429 wait the Hub gateway honours.
    """

    task: str
    publish: str = "none"
    dry_run: bool = False
    energy: bool = True
    queries: int | None = None
    device: str | None = None
    meter: MeterConfig = field(default_factory=lambda: MeterConfig(idle_reuse_s=DEFAULT_IDLE_REUSE_S))
    protocol: str = "sampled"
    prefetch: int = 1
    prefetch_max_bytes: int | None = 50 * 2**30
    hardware_class: str | None = None
    max_attempts: int = 3
    retry_backoff_s: float = 60.0
    max_backoff_s: float = 1800.0
    retry_failed: bool = False
    writes_per_minute: float = DEFAULT_WRITES_PER_MINUTE
    write_burst: int = DEFAULT_WRITE_BURST
    reads_per_minute: float = DEFAULT_READS_PER_MINUTE
    read_burst: int = DEFAULT_READ_BURST
    lookup_threads: int = 8
    skip: frozenset[str] = frozenset()
    table: str | None = None
    endpoint: str | None = None
    token: str | None = field(default=None, repr=False)
    max_wait_s: float = DEFAULT_MAX_WAIT_S

    def __post_init__(self) -> None:
        from energy_badge.tasks import AUTO
        from energy_badge.workload import TASKS

        if self.task not in TASKS and self.task != AUTO:
            raise UsageError(f"unknown task {self.task!r}: one of {', '.join(TASKS)} or {AUTO}")
        if self.publish not in PUBLISH_POLICIES:
            raise UsageError(f"--publish must be one of {', '.join(PUBLISH_POLICIES)}")
        if self.max_attempts < 1:
            raise UsageError("--max-attempts must be at least 1")
        if self.prefetch < 0:
            raise UsageError("--prefetch must be 0 or more")
        if self.protocol not in ("full", "sampled"):
            raise UsageError(f"--protocol must be full or sampled, not {self.protocol!r}")
        if self.lookup_threads < 1:
            raise UsageError("--lookup-threads must be at least 1")

    def to_dict(self) -> dict[str, object]:
        """The JSON form recorded with each run (never the token)."""
        data = dataclasses.asdict(self)
        data.pop("token")
        data["skip"] = sorted(self.skip)
        return data

    def measure_options(self) -> dict[str, Any]:
        """The JSON options of each :class:`~energy_badge.bulk.executors.MeasureRequest`."""
        from energy_badge.hub import resolve_endpoint

        return {
            "queries": self.queries,
            "energy": self.energy,
            "device": self.device,
            "protocol": self.protocol,
            "reuse_inputs": True,
            "meter": self.meter.to_dict(),
            "endpoint": resolve_endpoint(self.endpoint),
        }

    def backoff(self, attempts: int) -> float:
        """Seconds before retrying a row that failed ``attempts`` times."""
        return min(self.max_backoff_s, self.retry_backoff_s * 2 ** max(0, attempts - 1))


@dataclass
class Plan:
    """What :meth:`~energy_badge.bulk.job.BulkJob.plan` found.

    Attributes:
        run_id: the run's id in the state.
        task, workload_version, hardware_class: the key shared by the run's rows.
        row_ids: the run's rows, in input order.
        inputs: models given; problems: input lines skipped.
        created: rows created by this plan.
        lookups: Hub reads made while planning.
        unresolved: models whose revision could not be resolved (recorded as failed).
        to_measure, to_publish, done: rows waiting for a measurement, for a publish, and already final.
        final: status -> rows among ``done``.
        seconds: how long planning took.
    """

    run_id: int
    task: str
    workload_version: str
    hardware_class: str
    row_ids: list[int]
    inputs: int
    problems: list[InputProblem]
    created: int = 0
    lookups: int = 0
    unresolved: int = 0
    to_measure: int = 0
    to_publish: int = 0
    done: int = 0
    final: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @classmethod
    def of_rows(cls, run_id: int, key: JobKey, row_ids: Sequence[int]) -> Plan:
        """A plan of rows already in the state (the service's queue): nothing to resolve."""
        return cls(
            run_id, key.task, key.workload_version, key.hardware_class, list(row_ids), len(row_ids), []
        )

    @property
    def key(self) -> JobKey:
        """The (task, workload version, hardware class) of the run's rows."""
        return JobKey(self.task, self.workload_version, self.hardware_class)


@dataclass(frozen=True)
class Summary:
    """How a run ended.

    Attributes:
        run_id: the run.
        outcome: ``completed``, ``interrupted`` or ``dry run``.
        counts: status -> rows of this run, at the end.
        measured, published, failed: what this run itself did.
        seconds: wall time of :meth:`~energy_badge.bulk.job.BulkJob.run`.
    """

    run_id: int
    outcome: str
    counts: dict[str, int]
    measured: int = 0
    published: int = 0
    failed: int = 0
    seconds: float = 0.0
