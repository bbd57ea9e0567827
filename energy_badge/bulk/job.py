"""A bulk run: plan the jobs, measure them on an executor, publish the badges, all resumable.

:class:`BulkJob` composes the stages; it reimplements none of them:

* **plan** (:meth:`BulkJob.plan`): each input model's revision is resolved to a commit sha on the
  Hub (a bounded thread pool of ``model_info`` reads through the read :class:`TokenBucket`; a Hub
  listing already carries the sha), the card's opt-out key is read, and one state row per (model,
  sha, task, workload version, hardware class) is written, in batches. A row that exists already
  is *resumed*, not redone. A model whose ``main`` moved only because of our own badge commit (or
  whose new revision changed nothing but the card and ``energy/``) keeps its earlier row.
* **measure**: :func:`energy_badge.measure.measure_model` on the executor (in this process, or Ray
  tasks); the result comes back as its JSON form and is validated against the schema here, then
  rated (:func:`energy_badge.rating.rate`) and stored in the row.
* **publish** (policy ``pr`` or ``commit``): :func:`energy_badge.publish.publish_plan` with the
  automated wording, carried out by :func:`energy_badge.hub.publish` (412 re-reads, 429 waits,
  ambiguous-failure checks, PR reuse by title and author) from one publisher thread, spaced by the
  write :class:`TokenBucket`. Only canonical results are published (``publish_plan`` refuses the
  others: they stay ``measured`` with a ``not published: ...`` reason).

Opt-out, checked before every write: a ``--skip`` file; the key ``energy_badge: false`` (or
``energy_score: false``) in the card's front matter, read when planning and again from the card
about to be edited; and, in PR mode, a pull request of ours with our title that was *closed*
without merging: the bot never opens another one on that model.

Failures: an input problem (not found, gated, wrong task, unsafe model, the Hub refusing a write)
is recorded as ``failed`` with ``permanent`` set and never retried (``--retry-failed`` re-queues
failed rows); anything else (network, out of memory, a crashed worker) is retried with exponential
backoff up to ``max_attempts``. A machine that cannot measure at all (no GPU energy counter) stops
the run.

Stopping: ``KeyboardInterrupt`` (the CLI turns SIGTERM into one too) or :meth:`BulkJob.stop` ends
the run at once: measurements in flight are abandoned and their rows put back to ``pending``
without counting the attempt, the publisher finishes or abandons its current write (a row left
``publishing`` is published again next time, and ``hub.publish`` finds what the first try made).
Every state change is one SQLite transaction, so the state is consistent at any instant, even
after ``kill -9``. Library code: it prints nothing; progress goes to ``on_event``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from energy_badge.bulk.executors import (
    Completion,
    Executor,
    LocalExecutor,
    MeasureRequest,
    result_hardware_key,
)
from energy_badge.bulk.inputs import InputProblem, ModelRef
from energy_badge.bulk.state import UNRESOLVED_PREFIX, JobRow, StateStore, utc_now
from energy_badge.bulk.throttle import (
    DEFAULT_READ_BURST,
    DEFAULT_READS_PER_MINUTE,
    DEFAULT_WRITE_BURST,
    DEFAULT_WRITES_PER_MINUTE,
    TokenBucket,
    retry_after,
)
from energy_badge.errors import (
    EnergyBadgeError,
    HubError,
    InputError,
    InvalidFileError,
    NetworkError,
    UsageError,
)
from energy_badge.hub import DEFAULT_MAX_WAIT_S
from energy_badge.meter import MeterConfig

__all__ = ["PUBLISH_POLICIES", "BulkConfig", "BulkJob", "OptedOutError", "Plan", "Summary", "card_opt_out"]

PUBLISH_POLICIES = ("none", "pr", "commit")
#: Card keys whose value ``false`` opts a model out (ours, and the metadata key itself).
OPT_OUT_KEYS = ("energy_badge", "energy_score")
#: reason_code of a measured result that is not published (not canonical, random weights...).
NOT_PUBLISHABLE = "not-publishable"
_BATCH = 500
_MODEL_INFO_EXPAND = ["sha", "cardData", "pipeline_tag", "gated", "private"]
_CARD_ONLY = ("README.md", ".gitattributes")

_REASON_CODES = {
    "ModelNotFoundError": "not-found",
    "GatedModelError": "gated",
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


class _Stopped(Exception):
    """Raised inside a wait when the run is stopping."""


class _Fatal(Exception):
    def __init__(self, error: EnergyBadgeError) -> None:
        super().__init__(str(error))
        self.error = error


def card_opt_out(card_data: dict[str, Any] | None) -> str | None:
    """Why a card's front matter opts the model out (``energy_badge: false``), or None."""
    if not isinstance(card_data, dict):
        return None
    for key in OPT_OUT_KEYS:
        if key in card_data and card_data[key] is False:
            return f"the model card opts out of automated badges ({key}: false)"
    return None


def _readme_opt_out(data: bytes) -> str | None:
    from energy_badge.card import read_front_matter

    try:
        return card_opt_out(read_front_matter(data.decode("utf-8")))
    except (UnicodeDecodeError, InvalidFileError):
        return None  # the card editor itself refuses such a card, with its own message


@dataclass
class BulkConfig:
    """The settings of a bulk run.

    Attributes:
        task: the task every model is measured on.
        publish: ``none`` (measure only), ``pr`` (open or update one pull request per model) or
            ``commit`` (commit to ``main``).
        dry_run: plan only: resolve revisions and write the state's rows, measure and write nothing.
        energy, queries, device, meter: how to measure (see :class:`~energy_badge.measure.MeasureOptions`);
            anything but the defaults makes results non-canonical, so they are never published.
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
        max_wait_s: the longest single 429 wait :func:`energy_badge.hub.publish` honours.
    """

    task: str
    publish: str = "none"
    dry_run: bool = False
    energy: bool = True
    queries: int | None = None
    device: str | None = None
    meter: MeterConfig = field(default_factory=MeterConfig)
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
        from energy_badge.workload import TASKS

        if self.task not in TASKS:
            raise UsageError(f"unknown task {self.task!r}: one of {', '.join(TASKS)}")
        if self.publish not in PUBLISH_POLICIES:
            raise UsageError(f"--publish must be one of {', '.join(PUBLISH_POLICIES)}")
        if self.max_attempts < 1:
            raise UsageError("--max-attempts must be at least 1")
        if self.lookup_threads < 1:
            raise UsageError("--lookup-threads must be at least 1")

    def to_dict(self) -> dict[str, Any]:
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
            "meter": self.meter.to_dict(),
            "endpoint": resolve_endpoint(self.endpoint),
        }


@dataclass
class Plan:
    """What :meth:`BulkJob.plan` found.

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


@dataclass
class Summary:
    """How a run ended.

    Attributes:
        run_id: the run.
        outcome: ``completed``, ``interrupted`` or ``dry run``.
        counts: status -> rows of this run, at the end.
        measured, published, failed: what this run itself did.
        seconds: wall time of :meth:`BulkJob.run`.
    """

    run_id: int
    outcome: str
    counts: dict[str, int]
    measured: int = 0
    published: int = 0
    failed: int = 0
    seconds: float = 0.0


@dataclass
class _Resolved:
    index: int
    ref: ModelRef
    sha: str | None = None
    card_data: dict[str, Any] | None = None
    same_as: int | None = None
    error: EnergyBadgeError | None = None
    lookups: int = 0


@dataclass
class _PublishWork:
    row_id: int
    model: str
    result_json: str


@dataclass
class _PublishDone:
    row_id: int
    outcome: Any = None
    error: BaseException | None = None


EventCallback = Callable[[str, dict[str, Any]], None]


class BulkJob:
    """Plan, measure and publish a list of models, resumably (see the module docstring).

    Args:
        state: the state store (opened with its lock).
        config: the run's settings.
        executor: where measurements run (default: :class:`LocalExecutor` with ``measure``).
        measure: ``measure(model, task, options) -> EnergyResult | dict`` for the default executor;
            default :func:`energy_badge.measure.measure_model`. Tests inject synthetic results here.
        on_event: ``on_event(kind, details)`` for progress: ``resolving`` {total}, ``resolved``
            {done, total}, ``planned`` {plan}, ``started`` {total, recovered}, ``measuring`` {model},
            ``done`` {model, status, reason}, ``retry`` {model, reason, in_s}, ``publishing``
            {model}, ``hub`` {model, message}, ``wait`` {seconds, reason}.
        sleep: how to wait (default: a wait that a stop interrupts); tests pass a recorder.
        clock: seconds, for the throttles and the retry times (default: :func:`time.monotonic` for
            the throttles, :func:`time.time` for retry times, which the state keeps across runs);
            tests pass one fake clock that ``sleep`` advances.
    """

    def __init__(
        self,
        state: StateStore,
        config: BulkConfig,
        *,
        executor: Executor | None = None,
        measure: Callable[..., Any] | None = None,
        on_event: EventCallback | None = None,
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.state = state
        self.config = config
        self.executor: Executor = executor or LocalExecutor(measure, gpu_index=config.meter.gpu_index)
        self._on_event = on_event
        self._stop = threading.Event()
        self._injected_sleep = sleep
        self._now: Callable[[], float] = clock or time.time
        monotonic = clock or time.monotonic
        self.read_bucket = TokenBucket(
            config.reads_per_minute, config.read_burst, clock=monotonic, sleep=self._sleep
        )
        self.write_bucket = TokenBucket(
            config.writes_per_minute, config.write_burst, clock=monotonic, sleep=self._sleep
        )
        self._table: dict | None = None
        self._me: str | None = None
        self._token: str | None = None
        self._rows: dict[int, JobRow] = {}
        self._run_id: int | None = None

    # -- small helpers -----------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the run to stop at the next step (thread-safe); waits in progress end at once."""
        self._stop.set()

    def _emit(self, kind: str, **details: Any) -> None:
        if self._on_event is not None:
            self._on_event(kind, details)

    def _sleep(self, seconds: float) -> None:
        if self._stop.is_set():
            raise _Stopped
        if self._injected_sleep is not None:
            self._injected_sleep(seconds)
        elif self._stop.wait(max(0.0, seconds)):
            raise _Stopped

    def _backoff(self, attempts: int) -> float:
        return min(self.config.max_backoff_s, self.config.retry_backoff_s * 2 ** max(0, attempts - 1))

    @property
    def table(self) -> dict:
        if self._table is None:
            from energy_badge.rating import load_table

            self._table = load_table(self.config.table)
        return self._table

    def _api(self) -> Any:
        from huggingface_hub import HfApi

        from energy_badge import __version__
        from energy_badge.hub import resolve_endpoint

        return HfApi(
            endpoint=resolve_endpoint(self.config.endpoint),
            token=self.config.token,
            library_name="energy-badge",
            library_version=__version__,
        )

    def _hub_read(self, what: str, model: str, revision: str | None, fn: Callable[[], Any]) -> Any:
        """One Hub read through the read bucket: 429s wait as told, network errors retry with backoff."""
        from huggingface_hub.errors import HfHubHTTPError

        from energy_badge.hub import _backoff
        from energy_badge.run.source import hub_errors

        attempts = 4
        for attempt in range(1, attempts + 1):
            self.read_bucket.acquire(on_wait=lambda s: self._emit("wait", seconds=s, reason="read throttle"))
            try:
                with hub_errors(model, revision):
                    try:
                        return fn()
                    except HfHubHTTPError as err:
                        status = err.response.status_code if err.response is not None else None
                        if status == 429 and attempt < attempts:
                            seconds = retry_after(err) or _backoff(attempt)
                            self.read_bucket.hold(seconds)
                            self._emit("wait", seconds=seconds, reason=f"rate limited by the Hub ({what})")
                            continue
                        raise
            except NetworkError:
                if attempt == attempts:
                    raise
                self._sleep(_backoff(attempt))
        raise NetworkError(f"{model}: the Hub kept failing to {what}")  # pragma: no cover

    # -- planning ----------------------------------------------------------------------------

    def hardware_class(self) -> str:
        """The hardware class of this run's rows (configured, or asked of the executor)."""
        return self.config.hardware_class or self.executor.hardware_class(self.config.energy)

    def plan(self, refs: Sequence[ModelRef], problems: Iterable[InputProblem] = ()) -> Plan:
        """Resolve each model's revision and write (or find) its state row.

        Args:
            refs: the models (from :func:`~energy_badge.bulk.inputs.read_model_file` or
                :func:`~energy_badge.bulk.inputs.query_models`).
            problems: the input lines that were skipped (recorded with the run, for the report).

        Returns:
            The :class:`Plan`; its ``row_ids`` are what :meth:`run` works on.

        Raises:
            CannotMeasureError: the executor has no GPU energy counter and energy is asked for.
        """
        from energy_badge.workload import load_workload

        started = time.monotonic()
        problems = list(problems)
        config = self.config
        self._check_token(required=config.publish != "none" and not config.dry_run)
        workload_version = load_workload(config.task).version
        hardware = self.hardware_class()
        run_id = self.state.start_run(
            {
                **config.to_dict(),
                "hardware_class": hardware,
                "inputs": len(refs),
                "executor": self.executor.name,
            }
        )
        self._run_id = run_id
        self.state.add_problems(run_id, problems)
        plan = Plan(run_id, config.task, workload_version, hardware, [], len(refs), problems)
        common = {"task": config.task, "workload_version": workload_version, "hardware_class": hardware}

        existing = self.state.rows_for(config.task, workload_version, hardware, light=True)
        by_key: dict[tuple[str, str], JobRow] = {(r.model, r.revision): r for r in existing}
        by_id: dict[int, JobRow] = {r.id: r for r in existing}
        latest: dict[str, JobRow] = {}
        for row in existing:
            if row.resolved:
                latest[row.model] = row

        inserts: list[dict[str, Any]] = []
        updates: dict[int, dict[str, Any]] = {}
        deletes: list[int] = []
        slots: list[tuple[str, str] | int | None] = [None] * len(refs)

        def flush(force: bool = False) -> None:
            if force or len(inserts) + len(updates) + len(deletes) >= _BATCH:
                if deletes:
                    self.state.delete_many(deletes)
                if inserts:
                    plan.created += self.state.insert_many(inserts)
                if updates:
                    self.state.update_many(list(updates.items()))
                inserts.clear()
                updates.clear()
                deletes.clear()

        def unresolved_row(ref: ModelRef, values: dict[str, Any]) -> tuple[str, str]:
            key = (ref.model, UNRESOLVED_PREFIX + ref.ref)
            row = by_key.get(key)
            if row is None:
                inserts.append(
                    {
                        "model": ref.model,
                        "revision": key[1],
                        "requested_revision": ref.revision,
                        "source": ref.source,
                        "run_id": run_id,
                        **common,
                        **values,
                    }
                )
            else:
                updates[row.id] = {**values, "run_id": run_id}
            return key

        def apply(res: _Resolved) -> None:
            ref = res.ref
            plan.lookups += res.lookups
            stale = by_key.get((ref.model, UNRESOLVED_PREFIX + ref.ref))
            if res.error is not None:
                from energy_badge.bulk.executors import error_kind

                permanent = error_kind(res.error) == "permanent"
                plan.unresolved += 1
                slots[res.index] = unresolved_row(
                    ref,
                    {
                        "status": "failed",
                        "reason": f"could not resolve {ref.model}@{ref.ref}: {res.error}",
                        "reason_code": reason_code(type(res.error).__name__),
                        "permanent": permanent,
                        "finished_at": utc_now(),
                    },
                )
                return
            if stale is not None:
                deletes.append(stale.id)  # it resolves now: the earlier failure no longer applies
            opt_out = card_opt_out(res.card_data)
            target: JobRow | None = None
            if res.same_as is not None:
                target = by_id.get(res.same_as)
                if target is not None and target.reason_code == "opted-out" and opt_out is None:
                    target = None  # the card no longer opts out: a new row for the new revision
            if target is None:
                target = by_key.get((ref.model, res.sha or ""))
            if target is not None:
                slots[res.index] = target.id
                if opt_out and target.status in ("pending", "measured"):
                    updates[target.id] = {"status": "skipped", "reason": opt_out, "reason_code": "opted-out"}
                return
            previous = latest.get(ref.model)
            if previous is not None and previous.status in ("pending", "measuring"):  # never measured
                updates[previous.id] = {
                    "status": "skipped",
                    "reason": f"superseded by a newer revision {str(res.sha)[:12]}",
                    "reason_code": "superseded",
                }
            values: dict[str, Any] = {"status": "pending"}
            if opt_out:
                values = {"status": "skipped", "reason": opt_out, "reason_code": "opted-out"}
            inserts.append(
                {
                    "model": ref.model,
                    "revision": res.sha,
                    "requested_revision": ref.revision,
                    "source": ref.source,
                    "run_id": run_id,
                    **common,
                    **values,
                }
            )
            slots[res.index] = (ref.model, str(res.sha))

        lookups: list[tuple[int, ModelRef]] = []
        for index, ref in enumerate(refs):
            if ref.model in config.skip:
                slots[index] = unresolved_row(
                    ref, {"status": "skipped", "reason": "on the skip list", "reason_code": "skip-list"}
                )
                continue
            known = by_key.get((ref.model, UNRESOLVED_PREFIX + ref.ref))
            if known is not None and known.status == "failed" and known.permanent and not config.retry_failed:
                slots[index] = known.id  # a permanent failure: not looked up again
                continue
            lookups.append((index, ref))

        self._emit("resolving", total=len(lookups))
        api = self._api()
        done = 0
        window = max(1, config.lookup_threads) * 4
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=config.lookup_threads)
        try:
            pending: set[concurrent.futures.Future[_Resolved]] = set()
            items = iter(lookups)
            exhausted = False
            while pending or not exhausted:
                while not exhausted and len(pending) < window:
                    item = next(items, None)
                    if item is None:
                        exhausted = True
                        break
                    index, ref = item
                    pending.add(pool.submit(self._resolve, api, index, ref, latest.get(ref.model)))
                finished, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in finished:
                    apply(future.result())
                    done += 1
                    self._emit("resolved", done=done, total=len(lookups), failed=plan.unresolved)
                flush()
            flush(force=True)
        except BaseException:  # a stop while planning: what was resolved so far is kept
            self._stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            flush(force=True)
            self.state.finish_run(run_id, "interrupted while planning")
            raise
        pool.shutdown(wait=True)

        ids_by_key = {
            (r.model, r.revision): r.id
            for r in self.state.rows_for(config.task, workload_version, hardware, light=True)
        }
        seen: set[int] = set()
        for slot in slots:
            row_id = ids_by_key.get(slot) if isinstance(slot, tuple) else slot
            if row_id is not None and row_id not in seen:
                seen.add(row_id)
                plan.row_ids.append(row_id)

        if config.retry_failed:
            self._requeue_failed(plan.row_ids)
        rows = self.state.rows(plan.row_ids, light=True)
        for row in rows:
            if row.status in ("pending", "measuring"):
                plan.to_measure += 1
            elif row.status in ("measured", "publishing") and self._wants_publish(row):
                plan.to_publish += 1
            else:
                plan.done += 1
                plan.final[row.status] = plan.final.get(row.status, 0) + 1
        plan.seconds = time.monotonic() - started
        self._emit("planned", plan=plan)
        return plan

    def _resolve(self, api: Any, index: int, ref: ModelRef, previous: JobRow | None) -> _Resolved:
        """In the lookup pool: one model's sha and card data, and whether an earlier row already covers it."""
        res = _Resolved(index, ref, sha=ref.sha, card_data=ref.card_data)
        try:
            if res.sha is None:
                res.lookups += 1
                info = self._hub_read(
                    "read the model's revision",
                    ref.model,
                    ref.revision,
                    lambda: api.model_info(ref.model, revision=ref.revision, expand=_MODEL_INFO_EXPAND),
                )
                if not info.sha:
                    raise HubError(f"the Hub gave no commit sha for {ref.model}@{ref.ref}")
                res.sha = str(info.sha)
                res.card_data = info.card_data.to_dict() if info.card_data is not None else None
            if previous is not None and previous.revision != res.sha:
                if res.sha == previous.commit_sha:
                    res.same_as = previous.id  # main moved by our own badge commit
                else:
                    res.lookups += 2
                    if self._files(api, ref.model, previous.revision) == self._files(api, ref.model, res.sha):
                        res.same_as = previous.id  # only the card or energy/ changed
        except EnergyBadgeError as err:
            res.error = err
        return res

    def _files(self, api: Any, model: str, revision: str) -> dict[str, str | None]:
        """The repository's files at ``revision`` (but the card and ``energy/``) with their blob ids."""
        info = self._hub_read(
            "list the model's files",
            model,
            revision,
            lambda: api.model_info(model, revision=revision, files_metadata=True),
        )
        out: dict[str, str | None] = {}
        for sibling in info.siblings or []:
            name = sibling.rfilename
            if name in _CARD_ONLY or name.startswith("energy/"):
                continue
            out[name] = sibling.lfs.sha256 if sibling.lfs is not None else sibling.blob_id
        return out

    def _requeue_failed(self, ids: Sequence[int]) -> None:
        changes = []
        for row in self.state.rows(ids, light=True):
            if row.status != "failed" or not row.resolved:
                continue
            values: dict[str, Any] = {
                "reason": None,
                "reason_code": None,
                "permanent": None,
                "next_attempt_at": None,
            }
            if row.canonical is not None:  # measured already: publish it again, do not measure again
                changes.append((row.id, {**values, "status": "measured", "publish_attempts": 0}))
            else:
                changes.append((row.id, {**values, "status": "pending", "attempts": 0}))
        if changes:
            self.state.update_many(changes)

    def _wants_publish(self, row: JobRow) -> bool:
        return self.config.publish != "none" and row.reason_code != NOT_PUBLISHABLE and row.canonical is True

    # -- running -----------------------------------------------------------------------------

    def execute(
        self, refs: Sequence[ModelRef], problems: Iterable[InputProblem] = ()
    ) -> tuple[Plan, Summary]:
        """:meth:`plan`, then :meth:`run` (or, for a dry run, only the plan)."""
        plan = self.plan(refs, problems)
        if self.config.dry_run:
            self.state.finish_run(plan.run_id, "dry run")
            counts = dict(self.state.counts(plan.row_ids))
            return plan, Summary(plan.run_id, "dry run", counts, seconds=plan.seconds)
        return plan, self.run(plan)

    def run(self, plan: Plan) -> Summary:
        """Measure and publish the plan's rows until each is final, or the run is stopped.

        Returns:
            The :class:`Summary`; ``outcome`` is ``interrupted`` after a KeyboardInterrupt or :meth:`stop`.

        Raises:
            CannotMeasureError, UsageError: a measurement found that nothing can be measured here
                (the run stops; rows in flight go back to ``pending``).
            HubError: publishing is asked for and there is no valid token (before anything is measured).
        """
        started = time.monotonic()
        self._stop.clear()
        self._run_id = plan.run_id
        config = self.config
        recovered = self.state.recover(plan.row_ids, max_attempts=config.max_attempts, run_id=plan.run_id)
        self._rows = {row.id: row for row in self.state.rows(plan.row_ids, light=True)}
        order = [i for i in plan.row_ids if i in self._rows]
        measure_queue = [i for i in order if self._rows[i].status == "pending"]
        publish_queue = [
            i for i in order if self._rows[i].status == "measured" and self._wants_publish(self._rows[i])
        ]
        self._emit("started", total=len(measure_queue) + len(publish_queue), recovered=recovered)
        stats = Counter[str]()
        publisher: _Publisher | None = None
        outcome = "completed"
        fatal: EnergyBadgeError | None = None
        if config.publish != "none" and (measure_queue or publish_queue):
            if self._me is None:
                self._check_token(required=True)
            publisher = _Publisher(self)
        try:
            while not self._stop.is_set():
                now = self._now()
                while len(self.executor.in_flight()) < self.executor.capacity:
                    row_id = self._next_due(measure_queue, now)
                    if row_id is None:
                        break
                    self._submit(row_id)
                if publisher is not None and publisher.idle:
                    row_id = self._next_due(publish_queue, now)
                    if row_id is not None:
                        self._send_publish(publisher, row_id)
                measuring = bool(self.executor.in_flight())
                publishing = publisher is not None and not publisher.idle
                if not (measuring or publishing or measure_queue or publish_queue):
                    break
                if measuring:
                    for completion in self.executor.poll(0.2 if publishing else 1.0):
                        self._record_measurement(completion, measure_queue, publish_queue, stats)
                elif publishing:
                    assert publisher is not None
                    publisher.wait(1.0)
                else:  # only retries waiting for their time: sleep until the first (a stop wakes it)
                    due = [self._rows[i].next_attempt_at or 0 for i in (*measure_queue, *publish_queue)]
                    self._sleep(max(0.01, min(due, default=now) - self._now()))
                if publisher is not None:
                    for done in publisher.drain():
                        self._record_publish(done, publish_queue, stats)
        except (KeyboardInterrupt, _Stopped):
            outcome = "interrupted"
        except _Fatal as err:
            fatal = err.error
            outcome = f"failed: {err.error}"
        finally:
            if self._stop.is_set() and outcome == "completed":
                outcome = "interrupted"
            self._wind_down(publisher, stats, publish_queue)
            self.state.finish_run(plan.run_id, outcome)
        if fatal is not None:
            raise fatal
        counts = dict(self.state.counts(plan.row_ids))
        return Summary(
            plan.run_id,
            "interrupted" if outcome == "interrupted" else "completed",
            counts,
            measured=stats["measured"],
            published=stats["published"],
            failed=stats["failed"],
            seconds=time.monotonic() - started,
        )

    def _wind_down(self, publisher: _Publisher | None, stats: Counter[str], publish_queue: list[int]) -> None:
        """Abandon measurements in flight (rows back to pending, attempt not counted), stop the publisher."""
        self._stop.set()
        cancelled = self.executor.cancel()
        if cancelled:
            self.state.update_many(
                [
                    (
                        i,
                        {
                            "status": "pending",
                            "attempts": max(0, self._rows[i].attempts - 1),
                            "started_at": None,
                        },
                    )
                    for i in cancelled
                    if i in self._rows
                ]
            )
        if publisher is not None:
            publisher.close(timeout=15.0)
            for done in publisher.drain():
                self._record_publish(done, publish_queue, stats)

    def _next_due(self, queue_: list[int], now: float) -> int | None:
        for position, row_id in enumerate(queue_):
            due = self._rows[row_id].next_attempt_at
            if due is None or due <= now:
                return queue_.pop(position)
        return None

    def _set(self, row_id: int, **values: Any) -> None:
        values.setdefault("run_id", self._run_id)
        self.state.update(row_id, **values)
        row = self._rows[row_id]
        for key, value in values.items():
            if key != "result_json":
                setattr(row, key, value)

    def _submit(self, row_id: int) -> None:
        row = self._rows[row_id]
        self._set(
            row_id, status="measuring", attempts=row.attempts + 1, started_at=utc_now(), next_attempt_at=None
        )
        self._emit("measuring", model=row.model, attempt=row.attempts)
        self.executor.submit(
            MeasureRequest(row_id, row.model, row.revision, row.task, self.config.measure_options())
        )

    def _done(self, row: JobRow) -> None:
        self._emit(
            "done", model=row.model, status=row.status, reason=row.reason, url=row.url, stars=row.stars
        )

    def _record_measurement(
        self, completion: Completion, measure_queue: list[int], publish_queue: list[int], stats: Counter[str]
    ) -> None:
        from energy_badge.publish import publish_plan
        from energy_badge.rating import rate
        from energy_badge.result import EnergyResult

        row = self._rows[completion.row_id]
        kind, error, message = completion.kind, completion.error, completion.message
        if completion.ok:
            try:
                result = EnergyResult.from_dict(completion.result or {}, source=f"the result for {row.model}")
                problem = self._mismatch(row, result)
            except InvalidFileError as err:
                result, problem = (
                    None,
                    ("transient", "InvalidFileError", f"the worker sent an invalid result: {err}"),
                )
            if problem is None and result is not None:
                rating = rate(result, self.table)
                note, code = None, None
                try:
                    publish_plan(
                        result,
                        rating,
                        repo_id=row.model,
                        create_pr=self.config.publish == "pr",
                        automated=True,
                    )
                except InputError as err:
                    note, code = f"not published: {err}", NOT_PUBLISHABLE
                energy = result.gpu_energy
                self._set(
                    row.id,
                    status="measured",
                    result_json=json.dumps(result.data, separators=(",", ":"), ensure_ascii=False),
                    canonical=result.canonical,
                    stars=rating.stars,
                    wh_per_1k=energy.mean if energy is not None else None,
                    reason=note,
                    reason_code=code,
                    permanent=None,
                    finished_at=utc_now(),
                )
                stats["measured"] += 1
                if self._wants_publish(row):
                    publish_queue.append(row.id)
                else:
                    self._done(row)
                return
            kind, error, message = problem
        if kind == "fatal":
            from energy_badge import errors as errors_module

            self._set(row.id, status="pending", attempts=max(0, row.attempts - 1), started_at=None)
            cls = getattr(errors_module, str(error), None)
            if not (isinstance(cls, type) and issubclass(cls, EnergyBadgeError)):
                cls = errors_module.CannotMeasureError
            raise _Fatal(cls(message or str(error)))
        code = reason_code(str(error))
        if kind == "permanent":
            self._set(
                row.id,
                status="failed",
                reason=message,
                reason_code=code,
                permanent=True,
                finished_at=utc_now(),
            )
            stats["failed"] += 1
            self._done(row)
        else:
            self._retry_or_give_up(
                row,
                row.attempts,
                "",
                message,
                code,
                retry_status="pending",
                requeue=measure_queue,
                stats=stats,
            )

    def _mismatch(self, row: JobRow, result: Any) -> tuple[str, str, str] | None:
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

    # -- publishing --------------------------------------------------------------------------

    def _check_token(self, *, required: bool) -> None:
        """Check the token once, before planning: a token the Hub refuses would otherwise fail every
        model's lookup (and be recorded as that model's failure); publishing needs one at all.

        Raises:
            HubError: no token while ``required``, or the Hub does not accept the token.
        """
        from huggingface_hub import get_token
        from huggingface_hub.errors import HfHubHTTPError

        self._token = self.config.token or get_token()
        if not self._token:
            if required:
                raise HubError("publishing needs a Hugging Face token: set HF_TOKEN or run `hf auth login`")
            return
        api = self._api()
        try:
            me = self._hub_read(
                "identify the token's account", "the token", None, lambda: api.whoami(token=self._token)
            )
        except HubError as err:
            raise HubError(f"the Hub did not accept the token: {err}") from None
        except HfHubHTTPError as err:  # pragma: no cover - hub_errors translates them
            raise HubError(f"the Hub did not accept the token (HTTP {err.response.status_code})") from None
        self._me = str(me["name"])

    def _send_publish(self, publisher: _Publisher, row_id: int) -> None:
        row = self._rows[row_id]
        result_json = self.state.get(row_id).result_json or ""
        self._set(
            row_id, status="publishing", publish_attempts=row.publish_attempts + 1, next_attempt_at=None
        )
        self._emit("publishing", model=row.model)
        publisher.send(_PublishWork(row_id, row.model, result_json))

    def _publish_one(self, work: _PublishWork) -> Any:
        """Runs in the publisher thread: one badge, through the write bucket and ``hub.publish``."""
        from energy_badge import hub
        from energy_badge.publish import AUTOMATED_COMMIT_TITLE, publish_plan
        from energy_badge.rating import rate
        from energy_badge.result import EnergyResult

        result = EnergyResult.from_dict(
            json.loads(work.result_json), source=f"the stored result of {work.model}"
        )
        create_pr = self.config.publish == "pr"
        plan = publish_plan(
            result, rate(result, self.table), repo_id=work.model, create_pr=create_pr, automated=True
        )
        if create_pr:
            api = self._api()

            def closed_prs() -> list[Any]:
                return list(
                    api.get_repo_discussions(
                        work.model,
                        author=self._me,
                        discussion_type="pull_request",
                        discussion_status="closed",
                    )
                )

            for discussion in self._hub_read("list our closed pull requests", work.model, None, closed_prs):
                if (
                    discussion.is_pull_request
                    and discussion.status == "closed"
                    and discussion.author == self._me
                    and discussion.title.strip() == AUTOMATED_COMMIT_TITLE
                ):
                    raise OptedOutError(
                        f"our pull request #{discussion.num} was closed without merging: not opening another"
                    )
        edit = plan.edit_readme

        def edit_readme(data: bytes) -> bytes:  # the card is read again right before the write
            reason = _readme_opt_out(data)
            if reason is not None:
                raise OptedOutError(reason)
            return edit(data)

        plan = dataclasses.replace(plan, edit_readme=edit_readme)
        self.write_bucket.acquire(on_wait=lambda s: self._emit("wait", seconds=s, reason="write throttle"))

        def hub_sleep(seconds: float) -> None:  # a 429 (or a struggling Hub) slows every later write too
            self.write_bucket.hold(seconds)
            self._emit("wait", seconds=seconds, reason=f"the Hub asked {work.model}'s publish to wait")
            self._sleep(seconds)

        return hub.publish(
            plan,
            token=self._token,
            endpoint=self.config.endpoint,
            on_event=lambda message: self._emit("hub", model=work.model, message=message),
            sleep=hub_sleep,
            max_wait_s=self.config.max_wait_s,
        )

    def _record_publish(self, done: _PublishDone, publish_queue: list[int], stats: Counter[str]) -> None:
        from energy_badge.hub import resolve_endpoint

        row = self._rows[done.row_id]
        error = done.error
        if error is None:
            outcome = done.outcome
            if outcome.pr_num is not None:
                self._set(
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
                endpoint = resolve_endpoint(self.config.endpoint)
                self._set(
                    row.id,
                    status="published",
                    url=f"{endpoint}/{row.model}/commit/{outcome.commit_sha}",
                    commit_sha=outcome.commit_sha,
                    reason=None,
                    reason_code=None,
                    finished_at=utc_now(),
                )
            stats["published"] += 1
            self._done(row)
        elif isinstance(error, (_Stopped, KeyboardInterrupt)):
            self._set(row.id, status="measured", publish_attempts=max(0, row.publish_attempts - 1))
        elif isinstance(error, OptedOutError):
            self._set(
                row.id, status="skipped", reason=str(error), reason_code="opted-out", finished_at=utc_now()
            )
            self._done(row)
        elif isinstance(error, InputError):
            self._set(
                row.id,
                status="failed",
                reason=f"publish: {error}",
                reason_code=reason_code(type(error).__name__),
                permanent=True,
                finished_at=utc_now(),
            )
            stats["failed"] += 1
            self._done(row)
        else:
            message = (
                str(error) if isinstance(error, EnergyBadgeError) else f"{type(error).__name__}: {error}"
            )
            code = reason_code(type(error).__name__)
            self._retry_or_give_up(
                row,
                row.publish_attempts,
                "publish",
                message,
                code,
                retry_status="measured",
                requeue=publish_queue,
                stats=stats,
            )

    def _retry_or_give_up(
        self,
        row: JobRow,
        attempts: int,
        step: str,
        message: str,
        code: str,
        *,
        retry_status: str,
        requeue: Any,
        stats: Counter[str],
    ) -> None:
        """After a transient failure: fail the row for good past ``max_attempts``, else put it back
        in ``requeue`` (with ``retry_status``) after the backoff for its ``attempts``."""
        if attempts >= self.config.max_attempts:
            gave_up = f"gave up {step}ing" if step else "gave up"
            self._set(
                row.id,
                status="failed",
                reason=f"{gave_up} after {attempts} attempts: {message}",
                reason_code=code,
                permanent=False,
                finished_at=utc_now(),
            )
            stats["failed"] += 1
            self._done(row)
            return
        wait = self._backoff(attempts)
        attempt = f"{step} attempt" if step else "attempt"
        self._set(
            row.id,
            status=retry_status,
            reason=f"{attempt} {attempts} failed, retrying: {message}",
            reason_code=code,
            next_attempt_at=self._now() + wait,
        )
        requeue.append(row.id)
        self._emit("retry", model=row.model, reason=message, in_s=wait)


class _Publisher:
    """One thread that carries out publishes, one at a time; the driver records what comes back."""

    def __init__(self, job: BulkJob) -> None:
        self._job = job
        self._inbox: queue.Queue[_PublishWork | None] = queue.Queue()
        self._outbox: queue.Queue[_PublishDone] = queue.Queue()
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name="energy-badge-publisher", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        return not self._busy

    def send(self, work: _PublishWork) -> None:
        self._busy = True
        self._inbox.put(work)

    def _loop(self) -> None:
        while True:
            work = self._inbox.get()
            if work is None:
                return
            try:
                done = _PublishDone(work.row_id, outcome=self._job._publish_one(work))
            except BaseException as err:  # recorded by the driver, whatever it is
                done = _PublishDone(work.row_id, error=err)
            self._outbox.put(done)
            self._busy = False

    def wait(self, timeout: float) -> None:
        """Wait until something comes back (or ``timeout``)."""
        try:
            item = self._outbox.get(timeout=timeout)
        except queue.Empty:
            return
        self._outbox.put(item)

    def drain(self) -> list[_PublishDone]:
        out = []
        while True:
            try:
                out.append(self._outbox.get_nowait())
            except queue.Empty:
                return out

    def close(self, timeout: float) -> None:
        self._inbox.put(None)
        self._thread.join(timeout)
