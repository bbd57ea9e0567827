"""The service's worker: measures and publishes the rows webhooks queued, with the bulk job's code.

Nothing is reimplemented: each round builds a :class:`~energy_badge.bulk.job.Plan` of the rows that
need work and hands it to :meth:`energy_badge.bulk.job.BulkJob.run` (measure on the executor,
validate, rate, store; publish with ``hub.commit_plan`` under the same policy, throttles, opt-out and
retry rules as ``bulk``). The worker opens the state with the bulk driver's exclusive lock, so one
worker (or one ``bulk`` run) works on a state at a time; the web app opens it without the lock
(WAL: readers and the webhook's short write transactions run beside the worker).
"""

from __future__ import annotations

import threading

from energy_badge.bulk.executors import Executor, MeasureFn
from energy_badge.bulk.job import NOT_PUBLISHABLE, BulkConfig, BulkJob, EventCallback, Plan, Summary
from energy_badge.bulk.state import JobKey, StateStore

__all__ = ["ServiceWorker", "queue_key", "queue_keys"]


def queue_key(task: str, hardware_class: str) -> JobKey:
    """What the rows a service queues share: the task, its workload's version, the hardware class."""
    from energy_badge.workload import canonical_spec

    return JobKey(task, canonical_spec(task).version, hardware_class)


def queue_keys(task: str, hardware_class: str) -> list[JobKey]:
    """The keys of the rows a service works on: its task's, or with ``auto`` every task's."""
    from energy_badge.tasks import AUTO
    from energy_badge.workload import TASKS

    return [queue_key(t, hardware_class) for t in (TASKS if task == AUTO else (task,))]


class ServiceWorker:
    """Consume the service's queue (the rows of one task, workload version and hardware class; with
    the task ``auto``, of every task's current workload version).

    Args:
        state_path: the state file shared with ``energy-badge serve``.
        config: the bulk settings (task, publish policy, ``energy``...); ``hardware_class`` must be
            set to the class the service queues rows for (``serve --hardware-class``), else it is
            asked of the executor, as ``bulk`` does.
        measure: ``measure(model, task, options)`` for the local executor (tests inject one).
        executor: another executor (default: :class:`~energy_badge.bulk.executors.LocalExecutor`).
        on_event: progress callback, as for :class:`BulkJob`.
        poll_s: how long to wait between looks at an empty queue.
    """

    def __init__(
        self,
        state_path: str,
        config: BulkConfig,
        *,
        measure: MeasureFn | None = None,
        executor: Executor | None = None,
        on_event: EventCallback | None = None,
        poll_s: float = 2.0,
    ) -> None:
        self.state_path = state_path
        self.config = config
        self._measure = measure
        self._executor = executor
        self._on_event = on_event
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._job: BulkJob | None = None
        self.state: StateStore | None = None
        self.key: JobKey | None = None
        self.keys: list[JobKey] = []

    def open(self) -> None:
        """Open the state with the lock (in the thread that will run the worker: SQLite connections
        belong to their thread)."""
        self.state = StateStore(self.state_path, exclusive=True)
        try:
            self._job = BulkJob(
                self.state,
                self.config,
                executor=self._executor,
                measure=self._measure,
                on_event=self._on_event,
            )
            hardware = self._job.hardware_class()
            self.keys = queue_keys(self.config.task, hardware)
            self.key = self.keys[0] if len(self.keys) == 1 else JobKey(self.config.task, "", hardware)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the executor and the state (and release the lock)."""
        if self._job is not None:
            self._job.executor.close()
            self._job = None
        if self.state is not None:
            self.state.close()
            self.state = None

    def stop(self) -> None:
        """Ask the worker to stop (thread-safe); a measurement in flight is queued again."""
        self._stop.set()
        if self._job is not None:
            self._job.stop()

    def due_rows(self) -> list[int]:
        """The rows that need work: pending, left in progress by a stopped worker, or measured and
        waiting for a publish under the configured policy."""
        assert self.state is not None and self.key is not None
        out = []
        rows = [
            row
            for key in self.keys
            for row in self.state.rows_for(key.task, key.workload_version, key.hardware_class, light=True)
        ]
        for row in rows:
            if row.status in ("pending", "measuring", "publishing") and row.resolved:
                out.append(row.id)
            elif (
                row.status == "measured"
                and self.config.publish != "none"
                and row.canonical is True
                and row.reason_code != NOT_PUBLISHABLE
            ):
                out.append(row.id)
        return out

    def run_once(self) -> Summary | None:
        """One round: run the bulk job on the rows due now (None when there are none)."""
        if self._job is None:
            self.open()
        assert self._job is not None and self.state is not None and self.key is not None
        ids = self.due_rows()
        if not ids:
            return None
        run_id = self.state.start_run(
            {**self.config.to_dict(), **self.key.columns(), "service": True, "inputs": len(ids)}
        )
        return self._job.run(Plan.of_rows(run_id, self.key, ids))

    def run(self) -> None:
        """Rounds until :meth:`stop`; waits ``poll_s`` whenever the queue is empty."""
        try:
            if self._job is None:
                self.open()
            while not self._stop.is_set():
                summary = self.run_once()
                if self._stop.is_set():
                    break
                if summary is not None and summary.outcome == "interrupted":
                    break
                if summary is None:
                    self._stop.wait(self.poll_s)
        finally:
            self.close()
