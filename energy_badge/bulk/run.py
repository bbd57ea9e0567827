"""Running a planned bulk run: the measuring loop, its retries, and the hand-over to publishing.

The driver submits ``pending`` rows to the executor (as many as it can run at once), validates
each result that comes back (:mod:`~energy_badge.bulk.codec`), checks it is the row's
measurement (model, revision, task, workload, hardware class), rates it and stores it
(``measured``), and queues it for the publisher when the policy and the result allow. A result
that may not be published (not canonical, random weights...) stays ``measured`` with a ``not
published: ...`` reason.

Failures: an input problem (not found, gated, wrong task, unsafe model) is recorded as ``failed``
with ``permanent`` set and never retried; anything else (network, out of memory, a crashed worker)
is retried with exponential backoff up to ``max_attempts``. A machine that cannot measure at all
(no GPU energy counter) stops the run: its rows go back to ``pending`` without counting the try.

Stopping: ``KeyboardInterrupt`` or :meth:`~energy_badge.bulk.job.BulkJob.stop` ends the run at
once: measurements in flight are abandoned and their rows put back to ``pending`` without counting
the attempt, the publisher finishes or abandons its current write (a row left ``publishing`` is
published again next time, and the Hub gateway finds what the first try made).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

from energy_badge.bulk.config import NOT_PUBLISHABLE, Plan, Summary, reason_code
from energy_badge.bulk.context import RunContext, Stopped
from energy_badge.bulk.executors import Completion, MeasureRequest, result_hardware_key
from energy_badge.bulk.publishing import PublisherThread, Publishing
from energy_badge.bulk.state import JobRow, utc_now
from energy_badge.errors import EnergyBadgeError, InputError, InvalidFileError

if TYPE_CHECKING:
    from energy_badge.result import EnergyResult

__all__ = ["Driver"]

# (kind, error class name, message) of a measurement that did not give the row's result
_Problem = tuple[str, str, str]


class _Fatal(Exception):
    def __init__(self, error: EnergyBadgeError) -> None:
        super().__init__(str(error))
        self.error = error


class Driver:
    """Measures (and hands over for publishing) a plan's rows (see the module docstring).

    Args:
        run: the run's shared parts.
        publishing: the publishing side.
    """

    def __init__(self, run: RunContext, publishing: Publishing) -> None:
        self.run = run
        self.publishing = publishing

    def run_plan(self, plan: Plan) -> Summary:
        """Measure and publish the plan's rows until each is final, or the run is stopped.

        Raises:
            CannotMeasureError, UsageError: a measurement found that nothing can be measured here.
            HubError: publishing is asked for and there is no valid token.
        """
        run, config = self.run, self.run.config
        started = time.monotonic()
        run.resume()
        run.run_id = plan.run_id
        recovered = run.state.recover(plan.row_ids, max_attempts=config.max_attempts, run_id=plan.run_id)
        run.rows = {row.id: row for row in run.state.rows(plan.row_ids, light=True)}
        order = [i for i in plan.row_ids if i in run.rows]
        measure_queue = [i for i in order if run.rows[i].status == "pending"]
        publish_queue = [
            i for i in order if run.rows[i].status == "measured" and run.wants_publish(run.rows[i])
        ]
        run.emit("started", total=len(measure_queue) + len(publish_queue), recovered=recovered)
        stats = Counter[str]()
        thread: PublisherThread | None = None
        outcome = "completed"
        fatal: EnergyBadgeError | None = None
        if config.publish != "none" and (measure_queue or publish_queue):
            if run.me is None:
                run.check_token(required=True)
            thread = PublisherThread(self.publishing)
        try:
            self._loop(thread, measure_queue, publish_queue, stats)
        except (KeyboardInterrupt, Stopped):
            outcome = "interrupted"
        except _Fatal as err:
            fatal = err.error
            outcome = f"failed: {err.error}"
        finally:
            if run.stopping and outcome == "completed":
                outcome = "interrupted"
            self._wind_down(thread, stats, publish_queue)
            run.state.finish_run(plan.run_id, outcome)
        if fatal is not None:
            raise fatal
        return Summary(
            plan.run_id,
            "interrupted" if outcome == "interrupted" else "completed",
            dict(run.state.counts(plan.row_ids)),
            measured=stats["measured"],
            published=stats["published"],
            failed=stats["failed"],
            seconds=time.monotonic() - started,
        )

    def _loop(
        self,
        thread: PublisherThread | None,
        measure_queue: list[int],
        publish_queue: list[int],
        stats: Counter[str],
    ) -> None:
        run, executor = self.run, self.run.executor
        while not run.stopping:
            now = run.now()
            while len(executor.in_flight()) < executor.capacity:
                row_id = self._next_due(measure_queue, now)
                if row_id is None:
                    break
                self._submit(row_id)
            if run.prefetcher is not None:  # the next models' files, while this one is measured
                run.prefetcher.want([(run.rows[i].model, run.rows[i].revision) for i in measure_queue])
            if thread is not None and thread.idle:
                row_id = self._next_due(publish_queue, now)
                if row_id is not None:
                    self.publishing.send(thread, row_id)
            measuring = bool(executor.in_flight())
            publishing = thread is not None and not thread.idle
            if not (measuring or publishing or measure_queue or publish_queue):
                break
            if measuring:
                for completion in executor.poll(0.2 if publishing else 1.0):
                    self.record(completion, measure_queue, publish_queue, stats)
            elif thread is not None and publishing:
                thread.wait(1.0)
            else:  # only retries waiting for their time: sleep until the first (a stop wakes it)
                due = [run.rows[i].next_attempt_at or 0 for i in (*measure_queue, *publish_queue)]
                run.sleep(max(0.01, min(due, default=now) - run.now()))
            if thread is not None:
                for done in thread.drain():
                    self.publishing.record(done, publish_queue, stats)

    def _wind_down(
        self, thread: PublisherThread | None, stats: Counter[str], publish_queue: list[int]
    ) -> None:
        """Abandon measurements in flight (rows back to pending, attempt not counted), stop the publisher."""
        run = self.run
        run.stop()
        cancelled = run.executor.cancel()
        if cancelled:
            run.state.update_many(
                [
                    (
                        i,
                        {
                            "status": "pending",
                            "attempts": max(0, run.rows[i].attempts - 1),
                            "started_at": None,
                        },
                    )
                    for i in cancelled
                    if i in run.rows
                ]
            )
        if thread is not None:
            thread.close(timeout=15.0)
            for done in thread.drain():
                self.publishing.record(done, publish_queue, stats)

    def _next_due(self, queue_: list[int], now: float) -> int | None:
        for position, row_id in enumerate(queue_):
            due = self.run.rows[row_id].next_attempt_at
            if due is None or due <= now:
                return queue_.pop(position)
        return None

    def _submit(self, row_id: int) -> None:
        run = self.run
        row = run.rows[row_id]
        claimed = run.claim(
            row_id,
            "pending",
            status="measuring",
            attempts=row.attempts + 1,
            started_at=utc_now(),
            next_attempt_at=None,
        )
        if not claimed:  # no longer pending: a newer revision's webhook superseded it since the plan
            run.done(row)
            return
        run.emit("measuring", model=row.model, attempt=row.attempts)
        request = MeasureRequest(row_id, row.model, row.revision, row.task, run.config.measure_options())
        run.executor.submit(request)

    def record(
        self, completion: Completion, measure_queue: list[int], publish_queue: list[int], stats: Counter[str]
    ) -> None:
        """Store what a measurement gave: the rated result, a failure, or a retry."""
        from energy_badge.bulk.codec import result_from_worker, result_to_state
        from energy_badge.publish import publish_plan
        from energy_badge.rating import rate

        run = self.run
        row = run.rows[completion.row_id]
        if run.prefetcher is not None:
            run.prefetcher.measured(row.model, row.revision)
        problem: _Problem = (str(completion.kind), str(completion.error), completion.message or "")
        if completion.ok:
            try:
                result = result_from_worker(completion.result, model=row.model)
            except InvalidFileError as err:
                problem = ("transient", "InvalidFileError", f"the worker sent an invalid result: {err}")
            else:
                mismatch = self._mismatch(row, result)
                if mismatch is None:
                    rating = rate(result, run.table)
                    note, code = None, None
                    try:
                        publish_plan(
                            result,
                            rating,
                            repo_id=row.model,
                            create_pr=run.config.publish == "pr",
                            automated=True,
                        )
                    except InputError as err:
                        note, code = f"not published: {err}", NOT_PUBLISHABLE
                    energy = result.gpu_energy
                    run.set(
                        row.id,
                        status="measured",
                        result_json=result_to_state(result),
                        canonical=result.canonical,
                        stars=rating.stars,
                        wh_per_1k=energy.mean if energy is not None else None,
                        reason=note,
                        reason_code=code,
                        permanent=None,
                        finished_at=utc_now(),
                    )
                    stats["measured"] += 1
                    if run.wants_publish(row):
                        publish_queue.append(row.id)
                    else:
                        run.done(row)
                    return
                problem = mismatch
        kind, error, message = problem
        if kind == "fatal":
            from energy_badge import errors as errors_module

            run.set(row.id, status="pending", attempts=max(0, row.attempts - 1), started_at=None)
            cls = getattr(errors_module, error, None)
            if not (isinstance(cls, type) and issubclass(cls, EnergyBadgeError)):
                cls = errors_module.CannotMeasureError
            raise _Fatal(cls(message or error))
        code = reason_code(error)
        if kind == "permanent":
            run.set(
                row.id,
                status="failed",
                reason=message,
                reason_code=code,
                permanent=True,
                finished_at=utc_now(),
            )
            stats["failed"] += 1
            run.done(row)
        else:
            run.retry_or_give_up(
                row,
                row.attempts,
                "",
                message,
                code,
                retry_status="pending",
                requeue=measure_queue,
                stats=stats,
            )

    @staticmethod
    def _mismatch(row: JobRow, result: EnergyResult) -> _Problem | None:
        """Whether a result is not the row's measurement: (kind, error, message), or None."""
        if result.model_id != row.model or result.model_revision != row.revision:
            found = f"{result.model_id}@{result.model_revision}"
            return "permanent", "InputError", f"the worker measured {found}, not {row.model}@{row.revision}"
        if result.task != row.task or result.workload_version != row.workload_version:
            found = f"{result.task} workload {result.workload_version}"
            return "permanent", "InputError", f"the worker ran {found}, not {row.task} {row.workload_version}"
        hardware = result_hardware_key(result)
        if hardware != row.hardware_class:
            return (
                "transient",
                "HardwareMismatch",
                f"measured on {hardware}, not on {row.hardware_class} (pin the class with --hardware-class)",
            )
        return None
