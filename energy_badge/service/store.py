"""The badge service's view of its state file: per-thread stores, caches, the queue, and its health.

:class:`ServiceState` is what the web app (:mod:`energy_badge.service.app`) reads and writes
through. Every read and write of jobs goes through :class:`~energy_badge.bulk.state.StateStore`'s
API; stored results are decoded by :mod:`energy_badge.bulk.codec` (once per stored version).

When the state cannot be written as asked (another process holds its lock past
``busy_timeout_s``, the file was deleted or replaced under the running service, it became
read-only), or the Hub cannot say which revision of a model is the newest, the operation raises
:class:`Unavailable`: the app answers 503 with ``Retry-After``, so the Hub delivers the webhook
again later, and ``/healthz`` says what is wrong. Nothing is ever answered ``queued`` that did not
reach the file.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from energy_badge.bulk.state import Enqueued, StateStore, StoredResult
from energy_badge.errors import EnergyBadgeError, InvalidFileError, NetworkError
from energy_badge.service.page import Entry, render_page
from energy_badge.service.worker import queue_key
from energy_badge.tasks import AUTO

if TYPE_CHECKING:
    from energy_badge.hub import HubClient
    from energy_badge.rating import RatingTable
    from energy_badge.result import EnergyResult
    from energy_badge.tasks import TaskChoice

__all__ = ["Page", "ServiceState", "Unavailable"]

log = logging.getLogger("energy_badge.service")

_CACHE_SIZE = 4096
#: How long the webhook's write waits for another connection's lock before answering 503.
DEFAULT_BUSY_TIMEOUT_S = 2.0


class Unavailable(Exception):
    """The service cannot do this now (answered 503 with ``Retry-After: retry_after``).

    Args:
        message: one line: what is wrong.
        retry_after: seconds after which trying again may work.
    """

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Page:
    """The rendered leaderboard page (also gzip-compressed, for clients that accept it), its ETags,
    and the state's :meth:`~energy_badge.bulk.state.StateStore.leaderboard_version` it shows."""

    html: bytes
    gzipped: bytes
    etag: str
    gzip_etag: str
    version: tuple[object, ...]


class ServiceState:
    """The app's view of the state file (see the module docstring).

    Args:
        state_path: the SQLite state shared with the worker (and ``bulk``).
        task: the task queued models are measured on.
        hardware_class: the class queued rows are keyed by.
        table: rating table file (default: all the shipped tables combined).
        hub: the Hub client asked where ``main`` is when pushes arrive out of order (default: one
            for ``HF_ENDPOINT`` / ``HF_TOKEN``, made when first needed, one try per read).
        busy_timeout_s: how long a write waits for another connection's lock.
        page_check_s: the rendered page is checked against the state at most this often (the
            check is one index scan; under a crowd of readers it need not run for each).

    Raises:
        InvalidFileError: the state cannot be opened (read-only, not a state, locked...).
    """

    def __init__(
        self,
        state_path: str,
        *,
        task: str,
        hardware_class: str,
        table: str | None = None,
        hub: HubClient | None = None,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        page_check_s: float = 0.5,
    ) -> None:
        self.state_path = state_path
        self.page_check_s = page_check_s
        self._page_checked = 0.0
        self.task = task
        self.hardware_class = hardware_class
        #: The queue's key, None with the task ``auto`` (each model's own, from its pipeline tag).
        self.key = queue_key(task, hardware_class) if task != AUTO else None
        self.table_path = table
        self.busy_timeout_s = busy_timeout_s
        self._hub = hub
        self._local = threading.local()
        self._lock = threading.Lock()
        self.webhooks: Counter[str] = Counter()
        self.badges: Counter[tuple[str, int]] = Counter()
        self._cache: dict[tuple[int, str, str], tuple[bytes, str]] = {}
        self._results: dict[tuple[int, str], EnergyResult] = {}
        self._intervals: dict[tuple[int, str], tuple[float, float] | None] = {}
        self._table: RatingTable | None = None
        self._stores: list[StateStore] = []
        self._page: Page | None = None
        self.store()  # creates the file, its schema and its indexes once, up front

    def store(self) -> StateStore:
        """This thread's store (SQLite connections belong to their thread); opened without the lock."""
        store: StateStore | None = getattr(self._local, "store", None)
        if store is None:
            store = StateStore(self.state_path, exclusive=False, busy_timeout_s=self.busy_timeout_s)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    def close(self) -> None:
        """Close every thread's store."""
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()

    def count(self, counter: Counter[Any], key: object) -> None:
        """Count one request (thread-safe)."""
        with self._lock:
            counter[key] += 1

    @property
    def table(self) -> RatingTable:
        """The rating table (loaded once)."""
        if self._table is None:
            from energy_badge.rating import load_table

            self._table = load_table(self.table_path)
        return self._table

    # -- faults ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def guarded(self) -> Iterator[StateStore]:
        """This thread's store, with the state's faults raised as :class:`Unavailable`.

        Raises:
            Unavailable: the file is gone, replaced or read-only, or another process held its lock
                for ``busy_timeout_s``.
        """
        try:
            store = self.store()  # a thread's first store opens a connection (read-only when it can)
        except InvalidFileError as err:
            raise Unavailable(str(err), 5 if "locked" in str(err) else 60) from err
        problem = store.file_problem()
        if problem is not None:
            raise Unavailable(f"{problem}; the service must be restarted on a good state file", 300)
        try:
            yield store
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise Unavailable(
                    f"the state {self.state_path} is locked by another process "
                    f"(waited {self.busy_timeout_s:g} s); try again shortly",
                    5,
                ) from err
            raise Unavailable(f"the state {self.state_path} cannot be written: {err}", 60) from err

    def health(self) -> tuple[list[str], Counter[str]]:
        """What is wrong with the state now (empty: nothing), and the job counts.

        Checks that the path still leads to the file the service opened, that it is writable, that
        it can be read, and that its write lock can be had (within a short wait).
        """
        problems: list[str] = []
        counts: Counter[str] = Counter()
        try:
            with self.guarded() as store:
                counts = store.counts()
                locked = store.write_lock_problem(min(self.busy_timeout_s, 0.5))
                if locked is not None:
                    problems.append(f"{locked}: webhooks cannot be queued")
        except Unavailable as err:
            problems.append(str(err))
        except sqlite3.Error as err:
            problems.append(f"the state {self.state_path} cannot be read: {err}")
        return problems, counts

    # -- reads ----------------------------------------------------------------------------------

    def latest(self, model: str, *, canonical: bool) -> StoredResult | None:
        """The latest measured row of ``model`` (canonical only when asked), or None."""
        return self.store().latest_result(model, canonical=canonical)

    def result_text(self, row: StoredResult) -> str:
        """The JSON text of a row's stored result."""
        return self.store().result_text(row.id) or ""

    def result(self, row: StoredResult) -> EnergyResult:
        """A row's stored result, decoded (once per stored version).

        Raises:
            InvalidFileError: the stored result is not a valid result.
        """
        from energy_badge.bulk.codec import result_from_state

        key = (row.id, row.updated_at)
        with self._lock:
            hit = self._results.get(key)
        if hit is not None:
            return hit
        result = result_from_state(self.result_text(row), model=row.model)
        with self._lock:
            if len(self._results) > _CACHE_SIZE:
                self._results.clear()
            self._results[key] = result
        return result

    def badge(self, model: str, fmt: str, max_age: int) -> tuple[bytes, str]:
        """(body, etag) of a model's badge in ``svg`` or ``json`` (whose ``cacheSeconds`` is
        ``max_age``); rendered once per stored result."""
        import hashlib
        import json

        from energy_badge.rating import Rating, rate, unmeasured_rating
        from energy_badge.render import badge_svg, shields_json

        row = self.latest(model, canonical=True)
        key = (row.id, row.updated_at, fmt) if row is not None else (0, model, fmt)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        result: EnergyResult | None = None
        rating: Rating
        if row is None:
            rating = unmeasured_rating(model, self.task, self.table)
        else:
            result = self.result(row)
            rating = rate(result, self.table)
        if fmt == "svg":
            body = badge_svg(result, rating).encode("utf-8")
        else:
            data = shields_json(rating)
            data["cacheSeconds"] = max_age
            if row is None:
                data["message"] = "not measured"
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self._lock:
            if len(self._cache) > _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (body, etag)
        return body, etag

    def _interval(self, row: StoredResult) -> tuple[float, float] | None:
        """A row's 95 % interval (decoded once per stored version; only the two numbers are kept)."""
        key = (row.id, row.updated_at)
        with self._lock:
            if key in self._intervals:
                return self._intervals[key]
        try:
            energy = self.result(row).gpu_energy
        except InvalidFileError as err:  # shown without its interval rather than not at all
            log.warning("leaderboard: %s", err)
            energy = None
        interval = None
        if energy is not None and energy.ci95_low is not None and energy.ci95_high is not None:
            interval = (energy.ci95_low, energy.ci95_high)
        with self._lock:
            self._intervals[key] = interval
        return interval

    def leaderboard(self) -> list[Entry]:
        """Each model's latest canonical result, per task."""
        entries = []
        for row in self.store().latest_canonical_results():
            interval = self._interval(row)
            entries.append(
                Entry(
                    model=row.model,
                    task=row.task,
                    stars=row.stars,
                    wh=float(row.wh_per_1k or 0.0),
                    low=interval[0] if interval is not None else None,
                    high=interval[1] if interval is not None else None,
                    hardware=row.hardware_class,
                    date=row.finished_at or "",
                )
            )
        return entries

    def cached_page(self) -> tuple[Page | None, bool]:
        """The last rendered page and whether it is still current (checked against the state at most
        every ``page_check_s``, with one index scan)."""
        import time

        page = self._page
        if page is None:
            return None, False
        now = time.monotonic()
        if now - self._page_checked < self.page_check_s:
            return page, True
        fresh = page.version == self.store().leaderboard_version()
        if fresh:
            self._page_checked = now
        return page, fresh

    def build_page(self) -> Page:
        """Render the leaderboard page from the state now (and keep it for :meth:`cached_page`)."""
        import gzip
        import hashlib
        import time

        checked = time.monotonic()
        version = self.store().leaderboard_version()
        html = render_page(self.leaderboard()).encode("utf-8")
        etag = hashlib.sha256(html).hexdigest()[:32]
        page = Page(html, gzip.compress(html, 6, mtime=0), f'"{etag}"', f'"{etag}-gzip"', version)
        self._page, self._page_checked = page, checked
        return page

    # -- writes ---------------------------------------------------------------------------------

    def enqueue(self, model: str, sha: str, parent: str | None = None) -> Enqueued:
        """Queue (model, sha) for the service's task, in the Hub's commit order
        (:meth:`~energy_badge.bulk.state.StateStore.enqueue`); when the recorded pushes cannot
        tell which revision is newer, the Hub is asked where ``main`` is.

        Args:
            model: the repo id.
            sha: the pushed head.
            parent: the commit ``main`` moved from (the webhook's ``oldSha``), if it said.

        Raises:
            Unavailable: the state cannot be written now, or the Hub did not say where ``main`` is.
        """
        key = self.key
        if key is None:  # --task auto: the task the model's pipeline tag names
            choice = self.task_of(model)
            if choice.task is None:
                return Enqueued("ignored", None, choice.reason)
            key = queue_key(choice.task, self.hardware_class)
        with self.guarded() as store:
            queued = store.enqueue(model, sha, key, source="webhook", parent=parent)
        if queued.status != "unordered":
            return queued
        head = self.main_head(model)
        if head is None:
            return Enqueued("ignored", None, "the Hub does not show this model (deleted, or made private)")
        with self.guarded() as store:
            return store.enqueue(model, sha, key, source="webhook", parent=parent, head=head)

    def task_of(self, model: str) -> TaskChoice:
        """``--task auto``: the task ``model``'s Hub pipeline tag names, or why there is none.

        Raises:
            Unavailable: the Hub could not be asked.
        """
        from energy_badge.errors import ModelNotFoundError
        from energy_badge.tasks import TaskChoice, task_for_pipeline_tag

        try:
            info = self._hub_client().model_info(
                model, revision="main", expand=["pipeline_tag"], what="read the model's pipeline tag"
            )
        except ModelNotFoundError:
            return TaskChoice(None, None, "the Hub does not show this model (deleted, or made private)")
        except EnergyBadgeError as err:
            retry = 60 if isinstance(err, NetworkError) else 300
            raise Unavailable(
                f"cannot tell which task to measure {model} on: the Hub did not give its pipeline tag "
                f"({err}); deliver the webhook again later",
                retry,
            ) from err
        return task_for_pipeline_tag(info.pipeline_tag)

    def main_head(self, model: str) -> str | None:
        """The commit ``main`` of ``model`` is at on the Hub now (None: the Hub does not show it).

        Raises:
            Unavailable: the Hub could not be asked.
        """
        from energy_badge.errors import ModelNotFoundError

        hub = self._hub_client()
        try:
            info = hub.model_info(model, revision="main", expand=["sha"], what="find where main is")
        except ModelNotFoundError:
            return None
        except EnergyBadgeError as err:
            retry = 60 if isinstance(err, NetworkError) else 300
            raise Unavailable(
                f"cannot tell which revision of {model} is the newest: the Hub did not say where main is "
                f"({err}); deliver the webhook again later",
                retry,
            ) from err
        if not info.sha:
            raise Unavailable(f"cannot tell which revision of {model} is the newest: the Hub gave no sha", 60)
        return info.sha

    def _hub_client(self) -> HubClient:
        if self._hub is None:
            from energy_badge.hub import HubClient, RetryPolicy

            self._hub = HubClient(retry=RetryPolicy(max_attempts=1))
        return self._hub

    # -- metrics --------------------------------------------------------------------------------

    def metrics(self) -> str:
        """The Prometheus text of the job counts and request counters."""
        from energy_badge.bulk.state import STATUSES

        counts = self.store().counts()
        lines = [
            "# HELP energy_badge_jobs Jobs in the state by status.",
            "# TYPE energy_badge_jobs gauge",
        ]
        lines += [f'energy_badge_jobs{{status="{s}"}} {counts.get(s, 0)}' for s in STATUSES]
        lines += [
            "# HELP energy_badge_webhooks_total Webhook requests by outcome.",
            "# TYPE energy_badge_webhooks_total counter",
        ]
        with self._lock:
            webhooks = dict(self.webhooks)
            badges = dict(self.badges)
        known = {"queued", "duplicate", "ignored", "superseded", "unauthorized", "invalid", "unavailable"}
        for outcome in sorted(set(webhooks) | known):
            lines.append(f'energy_badge_webhooks_total{{outcome="{outcome}"}} {webhooks.get(outcome, 0)}')
        lines += [
            "# HELP energy_badge_badge_requests_total Badge requests by format and status code.",
            "# TYPE energy_badge_badge_requests_total counter",
        ]
        for (fmt, code), n in sorted(badges.items()):
            lines.append(f'energy_badge_badge_requests_total{{format="{fmt}",code="{code}"}} {n}')
        return "\n".join(lines) + "\n"
