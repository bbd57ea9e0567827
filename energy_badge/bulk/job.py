"""A bulk run: plan the jobs, measure them on an executor, publish the badges, all resumable.

:class:`BulkJob` composes the project's stages and reimplements none of them; its parts, in the
order a run uses them:

* **plan** (:mod:`energy_badge.bulk.plan`): each model's revision resolved to a commit sha, its
  card's opt-out read, one state row per (model, sha, task, workload version, hardware class);
* **run** (:mod:`energy_badge.bulk.run`): :func:`energy_badge.measure.measure_model` on the
  executor (in this process, or Ray tasks); each result validated, checked, rated and stored;
  transient failures retried with backoff, input problems failed for good;
* **publishing** (:mod:`energy_badge.bulk.publishing`, policy ``pr`` or ``commit``): the automated
  badge, through the Hub gateway (:func:`energy_badge.hub.commit_plan`) from one publisher thread,
  spaced by the write throttle, after the opt-out checks. Only canonical results are published.

What they share (the state, the stop flag and its interruptible sleep, the throttles, the Hub
reads, the rating table) is a :class:`~energy_badge.bulk.context.RunContext`; the settings and
the reports are :mod:`energy_badge.bulk.config`'s.

Opt-out, checked before every write: a ``--skip`` file; the key ``energy_badge: false`` (or
``energy_score: false``) in the card's front matter, read when planning and again from the card
about to be edited; and, in PR mode, a pull request of ours with our title that was *closed*
without merging: the bot never opens another one on that model.

Stopping: ``KeyboardInterrupt`` (the CLI turns SIGTERM into one too) or :meth:`BulkJob.stop` ends
the run at once; every state change is one SQLite transaction, so the state is consistent at any
instant, even after ``kill -9``. Library code: it prints nothing; progress goes to ``on_event``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from energy_badge.bulk.config import (
    NOT_PUBLISHABLE,
    PUBLISH_POLICIES,
    BulkConfig,
    EventCallback,
    OptedOutError,
    Plan,
    Summary,
    reason_code,
)
from energy_badge.bulk.context import RunContext
from energy_badge.bulk.executors import Executor, LocalExecutor, MeasureFn
from energy_badge.bulk.inputs import InputProblem, ModelRef
from energy_badge.bulk.plan import OPT_OUT_KEYS, Planner, card_opt_out
from energy_badge.bulk.publishing import Publishing
from energy_badge.bulk.run import Driver
from energy_badge.bulk.state import StateStore

__all__ = [
    "NOT_PUBLISHABLE",
    "OPT_OUT_KEYS",
    "PUBLISH_POLICIES",
    "BulkConfig",
    "BulkJob",
    "EventCallback",
    "OptedOutError",
    "Plan",
    "Summary",
    "card_opt_out",
    "reason_code",
]


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
        measure: MeasureFn | None = None,
        on_event: EventCallback | None = None,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.state = state
        self.config = config
        self.executor: Executor = executor or LocalExecutor(measure, gpu_index=config.meter.gpu_index)
        self.context = RunContext(state, config, self.executor, on_event=on_event, sleep=sleep, clock=clock)
        if (
            config.prefetch > 0
            and executor is None
            and measure is None
            and config.energy
            and not config.dry_run
        ):
            from energy_badge.bulk.prefetch import Prefetcher, hub_fetch, prepare_ahead_for

            fetch = hub_fetch(token=config.token, endpoint=config.endpoint)
            self.context.prefetcher = Prefetcher(
                fetch,
                depth=config.prefetch,
                max_bytes=config.prefetch_max_bytes,
                after=prepare_ahead_for(self.context),
            )
        self.publishing = Publishing(self.context)
        self._planner = Planner(self.context)
        self._driver = Driver(self.context, self.publishing)

    def stop(self) -> None:
        """Ask the run to stop at the next step (thread-safe); waits in progress end at once."""
        self.context.stop()

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
            HubError: publishing is asked for and there is no token the Hub accepts.
        """
        return self._planner.plan(refs, problems, self.hardware_class)

    def run(self, plan: Plan) -> Summary:
        """Measure and publish the plan's rows until each is final, or the run is stopped.

        Returns:
            The :class:`Summary`; ``outcome`` is ``interrupted`` after a KeyboardInterrupt or :meth:`stop`.

        Raises:
            CannotMeasureError, UsageError: a measurement found that nothing can be measured here
                (the run stops; rows in flight go back to ``pending``).
            HubError: publishing is asked for and there is no valid token (before anything is measured).
        """
        try:
            return self._driver.run_plan(plan)
        finally:
            if self.context.prefetcher is not None:
                self.context.prefetcher.close()

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
