"""``energy-badge bulk`` and ``energy-badge bulk-report``: label many Hub models, resumably."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from energy_badge.cli._options import (
    executor_options,
    idle_reuse_option,
    measurement_options,
    meter_config,
    protocol_option,
    retry_options,
    table_option,
)
from energy_badge.tasks import AUTO
from energy_badge.text import stars_text
from energy_badge.workload import TASKS

if TYPE_CHECKING:
    from energy_badge.bulk.config import Plan, Summary
    from energy_badge.bulk.executors import Executor

EXIT_INTERRUPTED = 130
DEFAULT_STATE = "energy-bulk.sqlite"


def _default_report_dir(state_path: str) -> Path:
    path = Path(state_path)
    return path.with_name(f"{path.stem}-report")


@click.command()
@click.argument("models_file", metavar="[MODELS_FILE]", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--task",
    required=True,
    type=click.Choice((*TASKS, AUTO)),
    help="The task every model is measured on; auto: each model on the task its Hub pipeline tag names "
    "(a model whose tag names none of the tasks is skipped, with the reason).",
)
@click.option("--search", help="Hub query: a substring of the model id (instead of MODELS_FILE).")
@click.option("--author", help="Hub query: the namespace (user or organisation).")
@click.option("--pipeline-tag", help="Hub query: the Hub pipeline tag, e.g. text-classification.")
@click.option("--limit", type=click.IntRange(min=1), help="Hub query: at most this many models.")
@click.option(
    "--publish",
    "policy",
    type=click.Choice(["none", "pr", "commit"]),
    default="none",
    show_default=True,
    help="What to do with a canonical result: nothing, one pull request per model, or a commit to main.",
)
@click.option(
    "--state",
    "state_path",
    default=DEFAULT_STATE,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The SQLite state file; running again resumes it.",
)
@click.option(
    "--skip",
    "skip_file",
    type=click.Path(dir_okay=False),
    help="A file of model ids never to measure nor publish (opt-outs).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Plan only: resolve revisions and write the state; measure nothing, write nothing to the Hub.",
)
@executor_options
@click.option(
    "--cpus-per-task",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Ray: CPUs per measurement.",
)
@click.option(
    "--max-in-flight",
    type=click.IntRange(min=1),
    help="Ray: measurements submitted at once [default: what the cluster runs together].",
)
@click.option(
    "--hardware-class",
    help="The GPU class measurements run on (e.g. H100) [default: asked of the executor]; with Ray it "
    "also pins tasks to that accelerator type.",
)
@retry_options
@click.option("--retry-failed", is_flag=True, help="Try this input's failed models again.")
@click.option(
    "--write-burst",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Hub writes allowed at once.",
)
@click.option(
    "--reads-per-minute",
    type=click.FloatRange(min=0),
    default=150.0,
    show_default=True,
    help="Hub reads while planning; 0: no throttle.",
)
@click.option(
    "--lookup-threads",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Concurrent revision lookups while planning.",
)
@measurement_options
@protocol_option("sampled")
@idle_reuse_option
@table_option
@click.option(
    "-o",
    "--report-dir",
    type=click.Path(file_okay=False),
    help="Where the CSV and HTML reports go [default: <state>-report/ next to the state].",
)
@click.option("-v", "--verbose", is_flag=True, help="Also show each Hub step of every publish.")
def bulk(
    models_file: str | None,
    task: str,
    search: str | None,
    author: str | None,
    pipeline_tag: str | None,
    limit: int | None,
    policy: str,
    state_path: str,
    skip_file: str | None,
    dry_run: bool,
    executor: str,
    ray_address: str | None,
    gpus_per_task: float,
    cpus_per_task: float,
    max_in_flight: int | None,
    hardware_class: str | None,
    max_attempts: int,
    retry_backoff: float,
    retry_failed: bool,
    writes_per_minute: float,
    write_burst: int,
    reads_per_minute: float,
    lookup_threads: int,
    no_energy: bool,
    queries: int | None,
    device: str | None,
    gpu_index: int,
    min_repetitions: int,
    max_repetitions: int,
    target_ci: float,
    min_window: float,
    warmup: float,
    idle_seconds: float,
    table_file: str | None,
    report_dir: str | None,
    verbose: bool,
    protocol: str = "sampled",
    idle_reuse: float = 600.0,
) -> None:
    """Measure (and badge) many Hub models: from MODELS_FILE, or from a Hub query.

    \b
    MODELS_FILE has one model per line: org/name or org/name@revision; '#' starts a comment.
    A bad line is reported with its line number and skipped. Or query the Hub instead:
      energy-badge bulk --search bert --pipeline-tag text-classification --limit 500 \\
          --task text-classification --executor ray
    --task auto measures each model on the task its Hub pipeline tag names, e.g.
      energy-badge bulk --search blip --pipeline-tag image-to-text --task auto

    Every job is a row of the SQLite state file (--state): running the same command again
    resumes: done work is not redone, a model left half-measured by a crash is measured again.
    Ctrl-C (or SIGTERM) stops at once and leaves the state consistent (exit code 130).
    Transient failures are retried with backoff (--max-attempts); permanent ones (not found,
    gated, wrong task, unsafe model) are recorded and not retried (--retry-failed to insist).

    With --publish pr|commit, each canonical result is published as one automated pull request
    (never a second one per model) or commit, at most --writes-per-minute, obeying the Hub's
    429s. A model opts out with `energy_badge: false` in its card, by closing our pull request,
    or through --skip FILE. Non-canonical results (--no-energy, --queries...) are never
    published. At the end a CSV and an HTML report are written (also: energy-badge bulk-report).
    Exit codes: 0 done (failures are in the report), 2 usage, 3 nothing can be measured here,
    4 no or bad Hub token / unreadable input file, 5 Hub unreachable, 130 interrupted.
    """
    from energy_badge.bulk.inputs import query_models, read_model_file, read_skip_file
    from energy_badge.bulk.job import BulkConfig, BulkJob
    from energy_badge.bulk.report import write_reports
    from energy_badge.bulk.state import StateStore
    from energy_badge.errors import EnergyBadgeError, UsageError

    query = any(v is not None for v in (search, author, pipeline_tag))
    if models_file and query:
        raise UsageError("give MODELS_FILE or a Hub query (--search/--author/--pipeline-tag), not both")
    if not models_file and not query:
        raise UsageError("give MODELS_FILE, or a Hub query with --search, --author or --pipeline-tag")
    if limit is not None and not query:
        raise UsageError("--limit applies to a Hub query")
    if executor == "local" and any(v is not None for v in (ray_address, max_in_flight)):
        raise UsageError("--ray-address and --max-in-flight apply to --executor ray")
    if min_repetitions > max_repetitions:
        raise UsageError("--min-repetitions cannot exceed --max-repetitions")

    err = _console()
    skip: frozenset[str] = frozenset()
    problems = []
    if skip_file:
        skip, skip_problems = read_skip_file(skip_file)
        problems += skip_problems
    if models_file:
        refs, file_problems = read_model_file(models_file)
        problems += file_problems
    else:
        refs = query_models(search=search, author=author, pipeline_tag=pipeline_tag, limit=limit)
        err.print(f"the Hub query found {len(refs)} model(s)")
    for problem in problems:
        err.print(f"[yellow]warning[/yellow]: {_escape(str(problem))} (skipped)")

    config = BulkConfig(
        task=task,
        publish=policy,
        dry_run=dry_run,
        energy=not no_energy,
        queries=queries,
        device=device,
        protocol=protocol,
        meter=meter_config(locals(), gpu_index=0 if executor == "ray" else gpu_index),
        hardware_class=hardware_class,
        max_attempts=max_attempts,
        retry_backoff_s=retry_backoff,
        retry_failed=retry_failed,
        writes_per_minute=writes_per_minute,
        write_burst=write_burst,
        reads_per_minute=reads_per_minute,
        lookup_threads=lookup_threads,
        skip=skip,
        table=table_file,
    )
    if not dry_run:
        from energy_badge.cli.measure import _quiet_libraries

        _quiet_libraries()
    with contextlib.ExitStack() as stack:
        state = stack.enter_context(StateStore(state_path))
        try:
            runner = _make_executor(
                executor, ray_address, gpus_per_task, cpus_per_task, max_in_flight, hardware_class, gpu_index
            )
            stack.callback(runner.close)
            progress = stack.enter_context(_Progress(err, verbose=verbose))
            job = BulkJob(state, config, executor=runner, on_event=progress.event)
            try:
                with _sigterm_as_interrupt():
                    plan, summary = job.execute(refs, problems)
            except EnergyBadgeError:
                progress.stop(clear=True)  # the error's one line says it all
                raise
            finally:
                progress.stop()
        except KeyboardInterrupt:
            err.print(f"interrupted while planning; the state in {_escape(state_path)} is consistent")
            sys.exit(EXIT_INTERRUPTED)
        except EnergyBadgeError:
            state.discard()  # a state this run created and left without a job is not left behind
            raise
        csv_path, html_path = write_reports(state, report_dir or _default_report_dir(state_path))
        _print_summary(plan, summary, state_path, csv_path, html_path)
    if summary.outcome == "interrupted":
        err.print("interrupted: run the same command again to resume")
        sys.exit(EXIT_INTERRUPTED)


@click.command("bulk-report")
@click.option(
    "--state",
    "state_path",
    default=DEFAULT_STATE,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The state file of `energy-badge bulk`.",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Where bulk-report.csv and bulk-report.html go [default: <state>-report/].",
)
def bulk_report(state_path: str, output_dir: str | None) -> None:
    """Write the CSV and HTML report of a bulk state (works while a run is going on)."""
    from energy_badge.bulk.report import write_reports
    from energy_badge.bulk.state import StateStore

    with StateStore(state_path, exclusive=False, create=False) as state:
        counts = state.counts()
        csv_path, html_path = write_reports(state, output_dir or _default_report_dir(state_path))
    click.echo(", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "no jobs")
    click.echo(f"report: {csv_path}")
    click.echo(f"report: {html_path}")


# ------------------------------------------------------------------------------------------------
# Helpers


def _make_executor(
    kind: str,
    address: str | None,
    gpus_per_task: float,
    cpus_per_task: float,
    max_in_flight: int | None,
    hardware_class: str | None,
    gpu_index: int,
) -> Executor:
    from energy_badge.bulk.executors import LocalExecutor, RayExecutor

    if kind == "local":
        return LocalExecutor(gpu_index=gpu_index)
    return RayExecutor(
        address,
        gpus_per_task=gpus_per_task,
        cpus_per_task=cpus_per_task,
        max_in_flight=max_in_flight,
        accelerator_type=hardware_class,
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler, `kill`) stops the run the way Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _plan_task(plan: Any) -> str:
    """``task X, workload V`` (or, with --task auto, ``task auto: each model's pipeline tag``)."""
    if plan.task == AUTO:
        return "task auto (each model's Hub pipeline tag)"
    return f"task {plan.task}, workload {plan.workload_version}"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


class _Progress:
    """A rich progress display on stderr (done / failed / remaining, ETA) fed by BulkJob's events."""

    def __init__(self, console: Any, *, verbose: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console
        self.verbose = verbose
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed[/red]"),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.resolving: Any = None
        self.main: Any = None
        self.failed = 0
        self.lock = threading.Lock()
        self._stopped = False

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, *, clear: bool = False) -> None:
        """Stop the display; ``clear``: leave no trace of it (a failed run's error says it all)."""
        if not self._stopped:
            self._stopped = True
            if clear:
                self.progress.live.transient = True
                quiet, self.console.quiet = self.console.quiet, True
                try:
                    self.progress.stop()
                finally:
                    self.console.quiet = quiet
                return
            if self.main is not None:
                self.progress.update(self.main, description="models")
            self.progress.stop()

    def print(self, text: str) -> None:
        self.progress.console.print(text)

    def event(self, kind: str, details: dict[str, Any]) -> None:
        with self.lock:
            self._event(kind, details)

    def _event(self, kind: str, d: dict[str, Any]) -> None:
        if kind == "resolving":
            if d["total"]:
                self.resolving = self.progress.add_task("resolving revisions", total=d["total"], failed=0)
        elif kind == "resolved" and self.resolving is not None:
            self.progress.update(self.resolving, completed=d["done"], failed=d["failed"])
        elif kind == "planned":
            plan = d["plan"]
            final = ", ".join(f"{n} {status}" for status, n in sorted(plan.final.items()))
            self.print(
                f"{plan.inputs} model(s), {_plan_task(plan)}, hardware "
                f"{_escape(plan.hardware_class)}: {plan.to_measure} to measure, {plan.to_publish} to "
                f"publish, {plan.done} final already{f' ({final})' if final else ''}; {plan.created} new "
                f"job(s), {plan.lookups} Hub lookup(s) in {plan.seconds:.1f} s"
            )
        elif kind == "started":
            recovered = d["recovered"]
            if recovered["measuring"] or recovered["publishing"]:
                self.print(
                    f"resuming: {recovered['measuring']} model(s) left measuring and "
                    f"{recovered['publishing']} left publishing by a stopped run go back in the queue"
                )
            self.main = self.progress.add_task("models", total=d["total"], failed=0)
        elif kind == "measuring" and self.main is not None:
            self.progress.update(self.main, description=f"measuring {_escape(d['model'])}")
        elif kind == "publishing" and self.main is not None:
            self.progress.update(self.main, description=f"publishing {_escape(d['model'])}")
        elif kind == "done" and self.main is not None:
            status = d["status"]
            if status == "failed":
                self.failed += 1
            self.progress.update(self.main, advance=1, failed=self.failed)
            mark = {"failed": "[red]✗[/red]", "skipped": "[yellow]-[/yellow]"}.get(status, "[green]✓[/green]")
            stars = stars_text(d["stars"]) if d.get("stars") else ""
            line = f"{mark} {_escape(d['model'])}: {status} {stars}".rstrip()
            if d.get("url"):
                line += f" {_escape(d['url'])}"
            if d.get("reason"):
                line += f" [dim]({_escape(d['reason'])})[/dim]"
            self.print(line)
        elif kind == "retry":
            self.print(f"[dim]retry {_escape(d['model'])} in {d['in_s']:.0f} s: {_escape(d['reason'])}[/dim]")
        elif kind == "wait":
            if d["seconds"] >= 10 or "Hub" in d["reason"]:
                self.print(f"[dim]waiting {d['seconds']:.0f} s: {_escape(d['reason'])}[/dim]")
        elif kind == "hub" and self.verbose:
            self.print(f"[dim]  {_escape(d['model'])}: {_escape(d['message'])}[/dim]")


def _print_summary(plan: Plan, summary: Summary, state_path: str, csv_path: Path, html_path: Path) -> None:
    counts = ", ".join(f"{status} {n}" for status, n in sorted(summary.counts.items())) or "nothing to do"
    if summary.outcome == "dry run":
        click.echo(
            f"dry run: planned {len(plan.row_ids)} job(s) in {plan.seconds:.1f} s: {plan.to_measure} to "
            f"measure, {plan.to_publish} to publish, {plan.done} done already; nothing measured, nothing "
            "written to the Hub"
        )
    else:
        unresolved = f" ({plan.unresolved} could not be resolved on the Hub)" if plan.unresolved else ""
        click.echo(
            f"{summary.outcome}: measured {summary.measured}, published {summary.published}, "
            f"failed {summary.failed}{unresolved} in {summary.seconds:.1f} s"
        )
    click.echo(f"jobs of this input: {counts}")
    click.echo(f"state: {state_path}")
    click.echo(f"report: {csv_path}")
    click.echo(f"report: {html_path}")
