"""What the parts of one bulk run share: the state, the settings, the clock, the throttles and the Hub.

:class:`RunContext` is built by :class:`~energy_badge.bulk.job.BulkJob` and handed to the planner
(:mod:`~energy_badge.bulk.plan`), the driver (:mod:`~energy_badge.bulk.run`) and the publisher
(:mod:`~energy_badge.bulk.publishing`). It owns the things that must be one per run: the stop
flag and the interruptible sleep, the read and write :class:`~energy_badge.bulk.throttle.TokenBucket` s,
the Hub reads (one :class:`~energy_badge.hub.HubClient` whose retry policy takes a read token
before each try and holds the read bucket on a 429), the token check, the rating table, and the
in-memory copy of the rows being worked on (every change goes to the state first).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from energy_badge.bulk.config import BulkConfig, EventCallback
from energy_badge.bulk.executors import Executor
from energy_badge.bulk.prefetch import Prefetcher
from energy_badge.bulk.state import JobRow, StateStore, utc_now
from energy_badge.bulk.throttle import TokenBucket
from energy_badge.errors import HubError
from energy_badge.hub import HubClient, RetryPolicy, Wait

if TYPE_CHECKING:
    from energy_badge.rating import RatingTable

__all__ = ["RunContext", "Stopped"]


class Stopped(Exception):
    """Raised inside a wait when the run is stopping."""


class RunContext:
    """The shared parts of one bulk run (see the module docstring).

    Args:
        state: the state store.
        config: the run's settings.
        executor: where measurements run.
        on_event: progress callback.
        sleep: how to wait (default: a wait that :meth:`stop` interrupts).
        clock: seconds for the throttles and the retry times (default :func:`time.monotonic` for
            the throttles, :func:`time.time` for retry times, which the state keeps across runs).
    """

    def __init__(
        self,
        state: StateStore,
        config: BulkConfig,
        executor: Executor,
        *,
        on_event: EventCallback | None = None,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.state = state
        self.config = config
        self.executor = executor
        #: The pipeline's prefetcher of the next models' files (:mod:`energy_badge.bulk.prefetch`),
        #: None when the run does not prefetch.
        self.prefetcher: Prefetcher | None = None
        self._on_event = on_event
        self._stop = threading.Event()
        self._injected_sleep = sleep
        self.now: Callable[[], float] = clock or time.time
        monotonic = clock or time.monotonic
        self.read_bucket = TokenBucket(
            config.reads_per_minute, config.read_burst, clock=monotonic, sleep=self.sleep
        )
        self.write_bucket = TokenBucket(
            config.writes_per_minute, config.write_burst, clock=monotonic, sleep=self.sleep
        )
        self.rows: dict[int, JobRow] = {}
        self.run_id: int | None = None
        self.token: str | None = None
        self.me: str | None = None
        self._table: RatingTable | None = None
        self._hub: HubClient | None = None

    # -- stopping and waiting -------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the run to stop (thread-safe); waits in progress end at once."""
        self._stop.set()

    def resume(self) -> None:
        """Clear a stop (a new :meth:`~energy_badge.bulk.job.BulkJob.run` starts)."""
        self._stop.clear()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``; raises :class:`Stopped` when the run stops before or during the wait."""
        if self._stop.is_set():
            raise Stopped
        if self._injected_sleep is not None:
            self._injected_sleep(seconds)
        elif self._stop.wait(max(0.0, seconds)):
            raise Stopped

    def emit(self, kind: str, **details: Any) -> None:
        """Report progress to ``on_event``."""
        if self._on_event is not None:
            self._on_event(kind, details)

    # -- the Hub --------------------------------------------------------------------------------

    @property
    def hub(self) -> HubClient:
        """The Hub client for reads: through the read throttle, 429s hold it, waits interruptible."""
        if self._hub is None:
            policy = RetryPolicy(
                max_wait_s=self.config.max_wait_s,
                sleep=self.sleep,
                on_wait=self._read_wait,
                before_attempt=self._take_read_token,
            )
            self._hub = HubClient(
                token=self.config.token,
                endpoint=self.config.endpoint,
                retry=policy,
                unreachable_is_final=True,  # a Hub that refuses the run's first request is down
            )
        return self._hub

    def _take_read_token(self) -> None:
        self.read_bucket.acquire(on_wait=lambda s: self.emit("wait", seconds=s, reason="read throttle"))

    def _read_wait(self, wait: Wait) -> None:
        if wait.rate_limited:  # the other lookups wait too
            self.read_bucket.hold(wait.seconds)
            self.emit("wait", seconds=wait.seconds, reason=wait.reason)

    def check_token(self, *, required: bool) -> None:
        """Check the token once, before planning: a token the Hub refuses would otherwise fail every
        model's lookup (and be recorded as that model's failure); publishing needs one at all.

        Raises:
            HubError: no token while ``required``, or the Hub does not accept the token.
        """
        self.token = self.hub.token
        if not self.token:
            if required:
                raise HubError("publishing needs a Hugging Face token: set HF_TOKEN or run `hf auth login`")
            return
        try:
            self.me = self.hub.account()
        except HubError as err:
            raise HubError(f"the Hub did not accept the token: {err}") from None

    # -- the rating table and the rows ----------------------------------------------------------

    @property
    def table(self) -> RatingTable:
        """The run's rating table (loaded once)."""
        if self._table is None:
            from energy_badge.rating import load_table

            self._table = load_table(self.config.table)
        return self._table

    def set(self, row_id: int, **values: Any) -> None:
        """Change a row: in the state (one transaction), then in :attr:`rows`."""
        values.setdefault("run_id", self.run_id)
        self.state.update(row_id, **values)
        row = self.rows[row_id]
        for key, value in values.items():
            if key != "result_json":
                setattr(row, key, value)

    def claim(self, row_id: int, expected: str, **values: Any) -> bool:
        """Change a row only if the state still has it ``expected`` (see :meth:`set`); otherwise
        :attr:`rows` takes the row as the state has it now (a webhook superseded it since the plan).

        Returns:
            Whether the row was changed.
        """
        values.setdefault("run_id", self.run_id)
        row = self.rows[row_id]
        if self.state.claim(row_id, expected, **values):
            for key, value in values.items():
                setattr(row, key, value)
            return True
        now = self.state.rows([row_id], light=True)
        for key in ("status", "reason", "reason_code", "updated_at"):
            if now:
                setattr(row, key, getattr(now[0], key))
        return False

    def wants_publish(self, row: JobRow) -> bool:
        """Whether a measured row is to be published under the run's policy."""
        from energy_badge.bulk.config import NOT_PUBLISHABLE

        return self.config.publish != "none" and row.reason_code != NOT_PUBLISHABLE and row.canonical is True

    def done(self, row: JobRow) -> None:
        """Report that a row reached its status for this run."""
        self.emit("done", model=row.model, status=row.status, reason=row.reason, url=row.url, stars=row.stars)

    def retry_or_give_up(
        self,
        row: JobRow,
        attempts: int,
        step: str,
        message: str,
        code: str,
        *,
        retry_status: str,
        requeue: list[int],
        stats: Counter[str],
    ) -> None:
        """After a transient failure: fail the row for good past ``max_attempts``, else put it back
        in ``requeue`` (with ``retry_status``) after the backoff for its ``attempts``.

        Args:
            row: the row.
            attempts: the tries of this step so far.
            step: ``""`` (measuring) or ``"publish"``, for the reason.
            message: what went wrong.
            code: its reason code.
            retry_status: the status of a row waiting for its retry.
            requeue: the queue it goes back to.
            stats: the run's counters (``failed``).
        """
        if attempts >= self.config.max_attempts:
            gave_up = f"gave up {step}ing" if step else "gave up"
            self.set(
                row.id,
                status="failed",
                reason=f"{gave_up} after {attempts} attempts: {message}",
                reason_code=code,
                permanent=False,
                finished_at=utc_now(),
            )
            stats["failed"] += 1
            self.done(row)
            return
        wait = self.config.backoff(attempts)
        attempt = f"{step} attempt" if step else "attempt"
        self.set(
            row.id,
            status=retry_status,
            reason=f"{attempt} {attempts} failed, retrying: {message}",
            reason_code=code,
            next_attempt_at=self.now() + wait,
        )
        requeue.append(row.id)
        self.emit("retry", model=row.model, reason=message, in_s=wait)
