"""Planning a bulk run: resolve each model's revision, read its opt-out, write (or find) its state row.

Each input model's revision is resolved to a commit sha on the Hub (a bounded thread pool of
``model_info`` reads through the run's read throttle; a Hub listing already carries the sha), the
card's opt-out key is read, and one state row per (model, sha, task, workload version, hardware
class) is written, in batches. A row that exists already is *resumed*, not redone. A model whose
``main`` moved only because of our own badge commit (or whose new revision changed nothing but the
card and ``energy/``) keeps its earlier row. A model on the skip list is never looked up; a
permanent failure to resolve is not looked up again (unless ``retry_failed``). A Hub that refuses
the run's first requests (down, or a wrong ``HF_ENDPOINT``) stops the planning at once with
:class:`~energy_badge.hub.client.HubUnreachableError`: no model is marked failed for it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from energy_badge.bulk.config import Plan, reason_code
from energy_badge.bulk.context import RunContext
from energy_badge.bulk.inputs import InputProblem, ModelRef
from energy_badge.bulk.state import UNRESOLVED_PREFIX, JobKey, JobRow, utc_now
from energy_badge.errors import EnergyBadgeError, HubError, InvalidFileError
from energy_badge.hub.client import HubUnreachableError

if TYPE_CHECKING:
    from energy_badge.tasks import TaskChoice

__all__ = ["NO_TASK", "OPT_OUT_KEYS", "Planner", "card_opt_out", "readme_opt_out"]

#: The reason code of a model ``--task auto`` skipped: its pipeline tag names no task we measure.
NO_TASK = "no-task"

#: Card keys whose value ``false`` opts a model out (ours, and the metadata key itself).
OPT_OUT_KEYS = ("energy_badge", "energy_score")
_BATCH = 500
_MODEL_INFO_EXPAND = ["sha", "cardData", "pipeline_tag", "gated", "private"]
_CARD_ONLY = ("README.md", ".gitattributes")


def card_opt_out(card_data: Mapping[str, object] | None) -> str | None:
    """Why a card's front matter opts the model out (``energy_badge: false``), or None."""
    if not isinstance(card_data, Mapping):
        return None
    for key in OPT_OUT_KEYS:
        if key in card_data and card_data[key] is False:
            return f"the model card opts out of automated badges ({key}: false)"
    return None


def readme_opt_out(data: bytes) -> str | None:
    """Why a model card (``README.md`` bytes) opts the model out, or None (also for a card that
    does not parse: the card editor refuses such a card with its own message)."""
    from energy_badge.card import read_front_matter

    try:
        return card_opt_out(read_front_matter(data.decode("utf-8")))
    except (UnicodeDecodeError, InvalidFileError):
        return None


@dataclass
class _Resolved:
    index: int
    ref: ModelRef
    sha: str | None = None
    card_data: Mapping[str, object] | None = None
    same_as: int | None = None
    error: EnergyBadgeError | None = None
    lookups: int = 0


class Planner:
    """Plans a run's rows in the state (see the module docstring).

    Args:
        run: the run's shared parts.
    """

    def __init__(self, run: RunContext) -> None:
        self.run = run

    def plan(
        self, refs: Sequence[ModelRef], problems: Iterable[InputProblem], hardware_class: Callable[[], str]
    ) -> Plan:
        """Resolve each model's revision and write (or find) its state row.

        Args:
            refs: the models.
            problems: the input lines that were skipped (recorded with the run, for the report).
            hardware_class: asked for the run's hardware class (after the token check).

        Returns:
            The :class:`~energy_badge.bulk.config.Plan`.

        Raises:
            HubUnreachableError: the Hub refused the run's first requests (it is down or mistyped):
                no model is marked failed for it.
        """
        from energy_badge.tasks import AUTO
        from energy_badge.workload import canonical_spec

        run, config, state = self.run, self.run.config, self.run.state
        started = time.monotonic()
        problems = list(problems)
        run.check_token(required=config.publish != "none" and not config.dry_run)
        hardware = hardware_class()
        tag_lookups = 0
        if config.task == AUTO:
            groups, tag_lookups = self._auto_groups(refs, hardware)
            workload_version = ""
        else:
            groups = {config.task: [(index, ref, None) for index, ref in enumerate(refs)]}
            workload_version = canonical_spec(config.task).version
        options = {
            **config.to_dict(),
            "hardware_class": hardware,
            "inputs": len(refs),
            "executor": run.executor.name,
        }
        run_id = state.start_run(options)
        run.run_id = run_id
        state.add_problems(run_id, problems)
        plan = Plan(run_id, config.task, workload_version, hardware, [], len(refs), problems)
        plan.lookups += tag_lookups
        for task, items in groups.items():
            version = canonical_spec(task).version if task != AUTO else ""
            self._plan_key(plan, JobKey(task, version, hardware), items)

        if config.retry_failed:
            self._requeue_failed(plan.row_ids)
        for row in state.rows(plan.row_ids, light=True):
            if row.status in ("pending", "measuring"):
                plan.to_measure += 1
            elif row.status in ("measured", "publishing") and run.wants_publish(row):
                plan.to_publish += 1
            else:
                plan.done += 1
                plan.final[row.status] = plan.final.get(row.status, 0) + 1
        plan.seconds = time.monotonic() - started
        run.emit("planned", plan=plan)
        return plan

    def _plan_key(self, plan: Plan, key: JobKey, items: list[tuple[int, ModelRef, _Resolved | None]]) -> None:
        """Write (or find) the rows of the inputs measured under one (task, workload version,
        hardware class) and add them to ``plan.row_ids``, in input order. An item that carries a
        :class:`_Resolved` was settled while choosing its task (``--task auto``): no task, or the
        lookup failed."""
        from energy_badge.tasks import AUTO

        config, state = self.run.config, self.run.state
        writes = _Writes(self, plan, key)
        lookups: list[tuple[int, ModelRef]] = []
        for index, ref, settled in items:
            if ref.model in config.skip:
                writes.unresolved(
                    index,
                    ref,
                    {"status": "skipped", "reason": "on the skip list", "reason_code": "skip-list"},
                )
                continue
            if settled is not None:
                writes.apply(settled)
                continue
            known = writes.by_key.get((ref.model, UNRESOLVED_PREFIX + ref.ref))
            if known is not None and known.status == "failed" and known.permanent and not config.retry_failed:
                writes.slots[index] = known.id  # a permanent failure: not looked up again
                continue
            if key.task == AUTO:  # the model's pipeline tag names no task we measure
                choice = _task_choice(ref)
                skip = {"status": "skipped", "reason": choice.reason, "reason_code": NO_TASK}
                writes.unresolved(index, ref, skip)
                continue
            lookups.append((index, ref))
        self._resolve_all(lookups, writes)
        writes.flush(force=True)

        ids_by_key = {(r.model, r.revision): r.id for r in state.rows_for(*_key(key), light=True)}
        seen = set(plan.row_ids)
        for slot in writes.slots:
            row_id = ids_by_key.get(slot) if isinstance(slot, tuple) else slot
            if row_id is not None and row_id not in seen:
                seen.add(row_id)
                plan.row_ids.append(row_id)

    def _auto_groups(
        self, refs: Sequence[ModelRef], hardware: str
    ) -> tuple[dict[str, list[tuple[int, ModelRef, _Resolved | None]]], int]:
        """``--task auto``: each input's task, from its Hub pipeline tag (a listing carries it; a
        model file's line is looked up, which also resolves its revision). Inputs with no task, or
        whose lookup failed, go under the key ``auto`` (recorded skipped or failed, with the reason).
        Returns the groups by task and the number of Hub lookups made.

        Raises:
            HubUnreachableError: the Hub refused the first lookups (nothing is recorded).
        """
        from energy_badge.tasks import AUTO

        config = self.run.config
        skip = config.skip
        failed = {  # permanent failures of earlier auto runs: not looked up again (unless retry_failed)
            (r.model, r.revision)
            for r in self.run.state.rows_for(AUTO, "", hardware, light=True)
            if r.status == "failed" and r.permanent and not config.retry_failed
        }
        todo = [
            (i, ref)
            for i, ref in enumerate(refs)
            if ref.sha is None
            and ref.model not in skip
            and (ref.model, UNRESOLVED_PREFIX + ref.ref) not in failed
        ]
        looked: dict[int, ModelRef | _Resolved] = {}
        if todo:
            with concurrent.futures.ThreadPoolExecutor(max_workers=config.lookup_threads) as pool:
                for (index, _), found in zip(
                    todo, pool.map(lambda item: self._tagged(*item), todo), strict=True
                ):
                    if isinstance(found, _Resolved) and isinstance(found.error, HubUnreachableError):
                        raise found.error  # every lookup would fail the same way: stop, say why
                    looked[index] = found
        groups: dict[str, list[tuple[int, ModelRef, _Resolved | None]]] = {}
        for index, ref in enumerate(refs):
            found = looked.get(index, ref)
            if isinstance(found, _Resolved):
                groups.setdefault(AUTO, []).append((index, ref, found))
                continue
            known = found.sha is not None and found.model not in skip  # a listing, or looked up
            task = _task_choice(found).task if known else AUTO
            groups.setdefault(task or AUTO, []).append((index, found, None))
        return groups, len(todo)

    def _tagged(self, index: int, ref: ModelRef) -> ModelRef | _Resolved:
        """In the lookup pool: ``ref`` with its sha, card data and pipeline tag from the Hub, or the
        failure (a :class:`_Resolved` with its error)."""
        try:
            info = self.run.hub.model_info(
                ref.model,
                revision=ref.revision,
                expand=_MODEL_INFO_EXPAND,
                what="read the model's pipeline tag",
            )
            if not info.sha:
                raise HubError(f"the Hub gave no commit sha for {ref.model}@{ref.ref}")
        except EnergyBadgeError as err:
            return _Resolved(index, ref, error=err)  # its lookup is counted with the others
        return dataclasses.replace(
            ref, sha=info.sha, card_data=info.card_data, pipeline_tag=info.pipeline_tag
        )

    def _resolve_all(self, lookups: list[tuple[int, ModelRef]], writes: _Writes) -> None:
        """Resolve in a bounded pool, applying results as they come; a stop keeps what was resolved."""
        run = self.run
        run.emit("resolving", total=len(lookups))
        done = 0
        threads = run.config.lookup_threads
        window = max(1, threads) * 4
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
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
                    pending.add(pool.submit(self._resolve, index, ref, writes.latest.get(ref.model)))
                finished, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in finished:
                    resolved = future.result()
                    if isinstance(resolved.error, HubUnreachableError):
                        raise resolved.error  # every lookup would fail the same way: stop, say why
                    writes.apply(resolved)
                    done += 1
                    run.emit("resolved", done=done, total=len(lookups), failed=writes.plan.unresolved)
                writes.flush()
            writes.flush(force=True)
        except BaseException as err:  # a stop while planning: what was resolved so far is kept
            run.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            writes.flush(force=True)
            failed = isinstance(err, HubUnreachableError)
            outcome = f"failed: {err}" if failed else "interrupted while planning"
            run.state.finish_run(writes.plan.run_id, outcome)
            raise
        pool.shutdown(wait=True)

    def _resolve(self, index: int, ref: ModelRef, previous: JobRow | None) -> _Resolved:
        """In the lookup pool: one model's sha and card data, and whether an earlier row already covers it."""
        res = _Resolved(index, ref, sha=ref.sha, card_data=ref.card_data)
        hub = self.run.hub
        try:
            if res.sha is None:
                res.lookups += 1
                info = hub.model_info(
                    ref.model,
                    revision=ref.revision,
                    expand=_MODEL_INFO_EXPAND,
                    what="read the model's revision",
                )
                if not info.sha:
                    raise HubError(f"the Hub gave no commit sha for {ref.model}@{ref.ref}")
                res.sha = info.sha
                res.card_data = info.card_data
            if previous is not None and previous.revision != res.sha:
                if res.sha == previous.commit_sha:
                    res.same_as = previous.id  # main moved by our own badge commit
                else:
                    res.lookups += 2
                    if self._files(ref.model, previous.revision) == self._files(ref.model, res.sha):
                        res.same_as = previous.id  # only the card or energy/ changed
        except EnergyBadgeError as err:
            res.error = err
        return res

    def _files(self, model: str, revision: str) -> dict[str, str | None]:
        """The repository's files at ``revision`` (but the card and ``energy/``) with their content ids."""
        info = self.run.hub.model_info(
            model, revision=revision, files_metadata=True, what="list the model's files"
        )
        return {
            f.path: f.content_id
            for f in info.files
            if f.path not in _CARD_ONLY and not f.path.startswith("energy/")
        }

    def _requeue_failed(self, ids: Sequence[int]) -> None:
        changes = []
        for row in self.run.state.rows(ids, light=True):
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
            self.run.state.update_many(changes)


def _task_choice(ref: ModelRef) -> TaskChoice:
    from energy_badge.tasks import task_for_pipeline_tag

    return task_for_pipeline_tag(ref.pipeline_tag)


def _key(key: JobKey) -> tuple[str, str, str]:
    return key.task, key.workload_version, key.hardware_class


class _Writes:
    """The rows a plan inserts, updates and deletes, written in batches, and where each input landed."""

    def __init__(self, planner: Planner, plan: Plan, key: JobKey) -> None:
        self.run = planner.run
        self.plan = plan
        self.common = key.columns()
        existing = self.run.state.rows_for(*_key(key), light=True)
        self.by_key: dict[tuple[str, str], JobRow] = {(r.model, r.revision): r for r in existing}
        self.by_id: dict[int, JobRow] = {r.id: r for r in existing}
        self.latest: dict[str, JobRow] = {r.model: r for r in existing if r.resolved}
        self.inserts: list[dict[str, Any]] = []
        self.updates: dict[int, dict[str, Any]] = {}
        self.deletes: list[int] = []
        self.slots: list[tuple[str, str] | int | None] = [None] * plan.inputs

    def flush(self, force: bool = False) -> None:
        if force or len(self.inserts) + len(self.updates) + len(self.deletes) >= _BATCH:
            state = self.run.state
            if self.deletes:
                state.delete_many(self.deletes)
            if self.inserts:
                self.plan.created += state.insert_many(self.inserts)
            if self.updates:
                state.update_many(list(self.updates.items()))
            self.inserts.clear()
            self.updates.clear()
            self.deletes.clear()

    def _insert(self, ref: ModelRef, revision: str, values: dict[str, Any]) -> None:
        row = {
            "model": ref.model,
            "revision": revision,
            "requested_revision": ref.revision,
            "source": ref.source,
        }
        self.inserts.append({**row, "run_id": self.plan.run_id, **self.common, **values})

    def unresolved(self, index: int, ref: ModelRef, values: dict[str, Any]) -> None:
        """The input's row keyed by the revision it asked for (``@main``): skipped or failed."""
        key = (ref.model, UNRESOLVED_PREFIX + ref.ref)
        row = self.by_key.get(key)
        if row is None:
            self._insert(ref, key[1], values)
        else:
            self.updates[row.id] = {**values, "run_id": self.plan.run_id}
        self.slots[index] = key

    def apply(self, res: _Resolved) -> None:
        from energy_badge.bulk.executors import error_kind

        ref, plan = res.ref, self.plan
        plan.lookups += res.lookups
        stale = self.by_key.get((ref.model, UNRESOLVED_PREFIX + ref.ref))
        if res.error is not None:
            plan.unresolved += 1
            failed = {
                "status": "failed",
                "reason": f"could not resolve {ref.model}@{ref.ref}: {res.error}",
                "reason_code": reason_code(type(res.error).__name__),
                "permanent": error_kind(res.error) == "permanent",
                "finished_at": utc_now(),
            }
            self.unresolved(res.index, ref, failed)
            return
        if stale is not None:
            self.deletes.append(stale.id)  # it resolves now: the earlier failure no longer applies
        opt_out = card_opt_out(res.card_data)
        target: JobRow | None = None
        if res.same_as is not None:
            target = self.by_id.get(res.same_as)
            if target is not None and target.reason_code == "opted-out" and opt_out is None:
                target = None  # the card no longer opts out: a new row for the new revision
        if target is None:
            target = self.by_key.get((ref.model, res.sha or ""))
        if target is not None:
            self.slots[res.index] = target.id
            if opt_out and target.status in ("pending", "measured"):
                self.updates[target.id] = {"status": "skipped", "reason": opt_out, "reason_code": "opted-out"}
            return
        previous = self.latest.get(ref.model)
        if previous is not None and previous.status in ("pending", "measuring"):  # never measured
            self.updates[previous.id] = {
                "status": "skipped",
                "reason": f"superseded by a newer revision {str(res.sha)[:12]}",
                "reason_code": "superseded",
            }
        values: dict[str, Any] = {"status": "pending"}
        if opt_out:
            values = {"status": "skipped", "reason": opt_out, "reason_code": "opted-out"}
        self._insert(ref, str(res.sha), values)
        self.slots[res.index] = (ref.model, str(res.sha))
