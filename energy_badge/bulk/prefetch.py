"""The bulk pipeline's prefetcher: the next models' files come down while the current one is measured.

A bulk run measures one model at a time on its GPU; downloading and verifying the next models'
files needs no GPU. :class:`Prefetcher` does that in one background thread, for the models the
run will measure next (:meth:`Prefetcher.want`, called with the queue's head each time a
measurement starts), so the measurement's own download finds them in the Hub cache.

Bounds:

* **look-ahead**: at most ``depth`` models ahead of the one being measured;
* **disk**: once the files prefetched and not yet measured add up to ``max_bytes``, nothing
  more is fetched until :meth:`Prefetcher.measured` releases some;
* **the measured window**: the fetch pauses between its steps (``pause()``) while a repetition
  window of any meter in this process is open (:func:`energy_badge.meter.loop.quiet_gate`), so
  its work (hashing, writing files) falls between windows: during warm-ups, idle samples, model
  loads. A step under way when a window opens runs on to its end: the default Hub fetch's steps
  are the metadata lookup and the download (a snapshot of the model's files), so a large weight
  file can still overlap a window; a finer fetch (file by file, chunk by chunk) pauses sooner.
  ``tests/test_bulk_pipeline.py`` checks on the simulated GPU that a CPU-heavy fetch that
  pauses leaves the measured figure unchanged, and that one that does not pause changes it.

Once a model's files are in, an ``after`` hook may do more for it in the same thread: the bulk
run prepares its inputs ahead (:func:`energy_badge.ahead.prepare_ahead`: tokenizing or
preprocessing the workload for a weightless copy of its runner, into the prepared-input cache its
measurement reads, pausing before each batch while a window is open).

A prefetch that fails is only recorded (:attr:`Prefetcher.failed`): the measurement then
downloads the files (or prepares the inputs) itself and reports its own error. The thread never
raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from energy_badge.bulk.context import RunContext

__all__ = ["Prefetched", "Prefetcher", "hub_fetch", "prepare_ahead_for"]

#: ``fetch(model, revision, pause) -> bytes``: bring a model's files into the local cache,
#: calling ``pause()`` between its steps (files, chunks): it returns at once unless a measured
#: window is open, and then when it closes.
FetchFn = Callable[[str, str, Callable[[], None]], int]
#: ``after(model, revision, pause)``: more work for a model once its files are in (preparing its
#: inputs: :func:`energy_badge.ahead.prepare_ahead`), pausing the same way.
AfterFn = Callable[[str, str, Callable[[], None]], None]


@dataclass(frozen=True)
class Prefetched:
    """A model whose files the prefetcher brought into the cache.

    Attributes:
        model: the repo id.
        revision: the commit sha.
        bytes: the size of its files.
    """

    model: str
    revision: str
    bytes: int


class Prefetcher:
    """Fetch the next models' files in a background thread (see the module docstring).

    Args:
        fetch: brings one model's files into the cache and returns their size in bytes.
        depth: models fetched ahead of the one being measured.
        max_bytes: disk budget for prefetched, not yet measured files (None: no limit).
        quiet: waited on before each model (default: the meters' window gate).
        after: called for each model once its files are fetched (its inputs prepared ahead);
            a failure there is recorded like a failed fetch, and the files stay fetched.
    """

    def __init__(
        self,
        fetch: FetchFn,
        *,
        depth: int = 1,
        max_bytes: int | None = None,
        quiet: threading.Event | None = None,
        after: AfterFn | None = None,
    ) -> None:
        from energy_badge.meter.loop import quiet_gate

        self._fetch = fetch
        self._after = after
        self.depth = max(0, depth)
        self.max_bytes = max_bytes
        self._quiet = quiet if quiet is not None else quiet_gate()
        self._wanted: list[tuple[str, str]] = []
        self._held: dict[tuple[str, str], int] = {}
        self.done: list[Prefetched] = []
        self.failed: list[tuple[str, str, str]] = []
        self._seen: set[tuple[str, str]] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="energy-badge-prefetch", daemon=True)
        self._thread.start()

    def want(self, upcoming: Sequence[tuple[str, str]]) -> None:
        """The models to be measured next, in order (the first ``depth`` are fetched)."""
        with self._cond:
            self._wanted = [item for item in upcoming[: self.depth] if item not in self._seen]
            self._cond.notify_all()

    def measured(self, model: str, revision: str) -> None:
        """``model`` has been measured: its files no longer count against the disk budget."""
        with self._cond:
            self._held.pop((model, revision), None)
            self._cond.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (a fetch under way is waited for up to ``timeout`` seconds)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing wanted is left to fetch (tests); True if so within ``timeout``."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._wanted or self._closed, timeout)

    def _over_budget(self) -> bool:
        return self.max_bytes is not None and sum(self._held.values()) >= self.max_bytes

    def _pause(self) -> None:
        while not self._quiet.wait(0.05):  # a measured window is open: wait for it to close
            if self._closed:
                return

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or (self._wanted and not self._over_budget()))
                if self._closed:
                    return
                item = self._wanted[0]
            self._pause()
            if self._closed:
                return
            try:
                size = int(self._fetch(*item, self._pause))
            except Exception as error:  # the measurement will download (and report) it itself
                with self._cond:
                    self.failed.append((*item, f"{type(error).__name__}: {error}"[:300]))
            else:
                with self._cond:
                    self._held[item] = size
                    self.done.append(Prefetched(item[0], item[1], size))
                if self._after is not None and not self._closed:
                    try:
                        self._after(*item, self._pause)
                    except Exception as error:  # the measurement prepares (and reports) it itself
                        with self._cond:
                            self.failed.append(
                                (*item, f"preparing its inputs: {type(error).__name__}: {error}"[:300])
                            )
            with self._cond:
                self._seen.add(item)
                if self._wanted and self._wanted[0] == item:
                    self._wanted.pop(0)
                self._cond.notify_all()


def hub_fetch(*, token: str | None = None, endpoint: str | None = None) -> FetchFn:
    """The default fetch: a Hub model's metadata and safetensors weights at its pinned commit,
    into the Hub cache the measurement's loader reads (:mod:`energy_badge.run.source`)."""

    def fetch(model: str, revision: str, pause: Callable[[], None]) -> int:
        from energy_badge.run import source

        snap = source.resolve_hub(model, revision=revision, token=token, endpoint=endpoint)
        pause()
        folder = source.download(
            snap, (*source.META_PATTERNS, "*.safetensors"), token=token, endpoint=endpoint, cache_dir=None
        )
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

    return fetch


def prepare_ahead_for(context: RunContext) -> AfterFn:
    """The bulk run's ``after`` hook: prepare a fetched model's inputs for the task its row is
    queued for, with the options its measurement will have (:func:`energy_badge.ahead.prepare_ahead`)."""

    def after(model: str, revision: str, pause: Callable[[], None]) -> None:
        import dataclasses

        from energy_badge.ahead import prepare_ahead
        from energy_badge.bulk.executors import measure_options

        tasks = {r.task for r in list(context.rows.values()) if (r.model, r.revision) == (model, revision)}
        options = measure_options(context.config.measure_options(), revision)
        options = dataclasses.replace(options, token=context.config.token)
        for task in sorted(tasks):
            prepare_ahead(model, task, options, pause=pause)

    return after
