"""Publishing a bulk run's badges: one thread, throttled writes, opt-outs checked before each write.

Each measured, canonical row is published with :func:`energy_badge.publish.publish_plan` (the
automated wording), carried out by :func:`energy_badge.hub.commit_plan` (412 re-reads, 429 waits,
ambiguous-failure checks, PR reuse by title and author) from one :class:`PublisherThread`, spaced
by the run's write :class:`~energy_badge.bulk.throttle.TokenBucket`; a 429 (or a struggling Hub)
holds that bucket, so every later write waits too.

Opt-out, checked right before the write: the key ``energy_badge: false`` (or ``energy_score:
false``) in the card about to be edited, and, in PR mode, a pull request of ours with our title
that was *closed* without merging: the bot never opens another one on that model.

The row is written ``publishing`` before the Hub is asked (write-ahead); :meth:`Publishing.record`
then writes what came back: ``pr_open`` / ``published``, ``skipped`` (opted out), ``failed`` (an
input problem, for good), or back to ``measured`` for a retry with backoff.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections import Counter
from dataclasses import dataclass

from energy_badge.bulk.config import OptedOutError, reason_code
from energy_badge.bulk.context import RunContext, Stopped
from energy_badge.bulk.plan import readme_opt_out
from energy_badge.bulk.state import utc_now
from energy_badge.errors import EnergyBadgeError, InputError
from energy_badge.hub import PublishOutcome

__all__ = ["PublishDone", "PublishWork", "PublisherThread", "Publishing"]


@dataclass(frozen=True)
class PublishWork:
    """One badge to publish: the row, its model and its stored result's JSON text."""

    row_id: int
    model: str
    result_json: str


@dataclass(frozen=True)
class PublishDone:
    """What came back for one :class:`PublishWork`: the outcome, or the error it raised."""

    row_id: int
    outcome: PublishOutcome | None = None
    error: BaseException | None = None


class Publishing:
    """The publishing side of a run (see the module docstring).

    Args:
        run: the run's shared parts.
    """

    def __init__(self, run: RunContext) -> None:
        self.run = run

    def send(self, thread: PublisherThread, row_id: int) -> None:
        """Mark a row ``publishing`` (write-ahead) and hand it to the thread."""
        run = self.run
        row = run.rows[row_id]
        result_json = run.state.result_text(row_id) or ""
        run.set(row_id, status="publishing", publish_attempts=row.publish_attempts + 1, next_attempt_at=None)
        run.emit("publishing", model=row.model)
        thread.send(PublishWork(row_id, row.model, result_json))

    def publish_one(self, work: PublishWork) -> PublishOutcome:
        """Runs in the publisher thread: one badge, through the write bucket and ``commit_plan``.

        Raises:
            OptedOutError: the card opts out, or our pull request was closed without merging.
            EnergyBadgeError: whatever publishing raised (translated by the Hub gateway).
        """
        from energy_badge import hub
        from energy_badge.bulk.codec import result_from_state
        from energy_badge.publish import AUTOMATED_COMMIT_TITLE, publish_plan
        from energy_badge.rating import rate

        run = self.run
        result = result_from_state(work.result_json, model=work.model)
        create_pr = run.config.publish == "pr"
        plan = publish_plan(
            result, rate(result, run.table), repo_id=work.model, create_pr=create_pr, automated=True
        )
        if create_pr:
            for pr in run.hub.pull_requests(work.model, author=run.me, status="closed"):
                if (
                    pr.is_pull_request
                    and pr.status == "closed"
                    and pr.author == run.me
                    and pr.title.strip() == AUTOMATED_COMMIT_TITLE
                ):
                    raise OptedOutError(
                        f"our pull request #{pr.num} was closed without merging: not opening another"
                    )
        edit = plan.edit_readme

        def edit_readme(data: bytes) -> bytes:  # the card is read again right before the write
            reason = readme_opt_out(data)
            if reason is not None:
                raise OptedOutError(reason)
            return edit(data)

        plan = dataclasses.replace(plan, edit_readme=edit_readme)
        run.write_bucket.acquire(on_wait=lambda s: run.emit("wait", seconds=s, reason="write throttle"))

        def hub_sleep(seconds: float) -> None:  # a 429 (or a struggling Hub) slows every later write too
            run.write_bucket.hold(seconds)
            run.emit("wait", seconds=seconds, reason=f"the Hub asked {work.model}'s publish to wait")
            run.sleep(seconds)

        return hub.commit_plan(
            plan,
            token=run.token,
            endpoint=run.config.endpoint,
            on_event=lambda message: run.emit("hub", model=work.model, message=message),
            sleep=hub_sleep,
            max_wait_s=run.config.max_wait_s,
        )

    def record(self, done: PublishDone, publish_queue: list[int], stats: Counter[str]) -> None:
        """Write what a publish did into the row (in the driver's thread)."""
        from energy_badge.hub import resolve_endpoint

        run = self.run
        row = run.rows[done.row_id]
        error, outcome = done.error, done.outcome
        if error is None and outcome is not None:
            if outcome.pr_num is not None:
                run.set(
                    row.id,
                    status="pr_open",
                    url=outcome.pr_url,
                    pr_num=outcome.pr_num,
                    commit_sha=outcome.commit_sha,
                    reason=None,
                    reason_code=None,
                    finished_at=utc_now(),
                )
            else:
                endpoint = resolve_endpoint(run.config.endpoint)
                run.set(
                    row.id,
                    status="published",
                    url=f"{endpoint}/{row.model}/commit/{outcome.commit_sha}",
                    commit_sha=outcome.commit_sha,
                    reason=None,
                    reason_code=None,
                    finished_at=utc_now(),
                )
            stats["published"] += 1
            run.done(row)
        elif isinstance(error, (Stopped, KeyboardInterrupt)):
            run.set(row.id, status="measured", publish_attempts=max(0, row.publish_attempts - 1))
        elif isinstance(error, OptedOutError):
            run.set(
                row.id, status="skipped", reason=str(error), reason_code="opted-out", finished_at=utc_now()
            )
            run.done(row)
        elif isinstance(error, InputError):
            run.set(
                row.id,
                status="failed",
                reason=f"publish: {error}",
                reason_code=reason_code(type(error).__name__),
                permanent=True,
                finished_at=utc_now(),
            )
            stats["failed"] += 1
            run.done(row)
        else:
            if isinstance(error, EnergyBadgeError):
                message = str(error)
            else:
                message = f"{type(error).__name__}: {error}"
            run.retry_or_give_up(
                row,
                row.publish_attempts,
                "publish",
                message,
                reason_code(type(error).__name__),
                retry_status="measured",
                requeue=publish_queue,
                stats=stats,
            )


class PublisherThread:
    """One thread that carries out publishes, one at a time; the driver records what comes back.

    Args:
        publishing: what each publish does (:meth:`Publishing.publish_one`).
    """

    def __init__(self, publishing: Publishing) -> None:
        self._publishing = publishing
        self._inbox: queue.Queue[PublishWork | None] = queue.Queue()
        self._outbox: queue.Queue[PublishDone] = queue.Queue()
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name="energy-badge-publisher", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        """True when no publish is in progress."""
        return not self._busy

    def send(self, work: PublishWork) -> None:
        """Start a publish."""
        self._busy = True
        self._inbox.put(work)

    def _loop(self) -> None:
        while True:
            work = self._inbox.get()
            if work is None:
                return
            try:
                done = PublishDone(work.row_id, outcome=self._publishing.publish_one(work))
            except BaseException as err:  # recorded by the driver, whatever it is
                done = PublishDone(work.row_id, error=err)
            self._outbox.put(done)
            self._busy = False

    def wait(self, timeout: float) -> None:
        """Wait until something comes back (or ``timeout``)."""
        try:
            item = self._outbox.get(timeout=timeout)
        except queue.Empty:
            return
        self._outbox.put(item)

    def drain(self) -> list[PublishDone]:
        """What came back since the last drain."""
        out = []
        while True:
            try:
                out.append(self._outbox.get_nowait())
            except queue.Empty:
                return out

    def close(self, timeout: float) -> None:
        """Stop the thread once its current publish is done (or ``timeout``)."""
        self._inbox.put(None)
        self._thread.join(timeout)
