"""``energy-badge measure``: measure a model on its task's canonical workload."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.markup import escape

from energy_badge.cli._options import (
    allow_pickle_option,
    measurement_options,
    meter_config,
    protocol_option,
    revision_option,
    trust_remote_code_option,
)
from energy_badge.workload import TASKS

if TYPE_CHECKING:
    from types import TracebackType

    from rich.progress import TaskID

    from energy_badge.measure import MeasureEvent
    from energy_badge.result import EnergyResult


@click.command()
@click.argument("model")
@click.option(
    "--task", required=True, type=click.Choice(TASKS), help="The task whose canonical workload to run."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Result file [default: energy-results/<model>--<task>--<time>.json].",
)
@measurement_options
@protocol_option("full")
@click.option(
    "--sample-seed",
    type=click.IntRange(0, 2**31 - 1),
    help="--protocol sampled: the sample's seed [default: a fresh random one; recorded].",
)
@revision_option("Hub branch, tag or commit; resolved to a commit sha and recorded.")
@click.option(
    "--workload",
    "workload_source",
    default="energy-badge",
    show_default=True,
    metavar="energy-badge|aes[@REVISION]",
    help="The inputs: the task's canonical workload, or the AI Energy Score's own Hub dataset "
    "(EnergyStarAI/<task>, at REVISION or main, pinned to its commit; needs the datasets library): "
    "comparable with the AES leaderboard, recorded, never canonical nor rated.",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float16", "bfloat16"]),
    help="Override the task's dtype (non-canonical).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Batch size; anything but 1 is non-canonical.",
)
@click.option(
    "--allow-shared-gpu",
    is_flag=True,
    help="Measure even if other processes use the GPU (recorded; non-canonical if any did).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse (exit 5) a window whose energy counter disagrees with the sampled power, instead of "
    "recording it (such a result is non-canonical either way).",
)
@trust_remote_code_option("Allow the model's own Python code to run (recorded).")
@allow_pickle_option("Allow pickle-based weight files (.bin/.pt) (recorded).")
@click.option(
    "--random-weights",
    is_flag=True,
    help="Build the architecture from its config with random weights (no weights downloaded): measures "
    "the architecture only; recorded, and never published as the model's badge.",
)
@click.option(
    "--reasoning",
    type=click.Choice(["off", "on", "low", "medium", "high"]),
    default="off",
    show_default=True,
    help="text-generation on a model whose chat template switches reasoning (enable_thinking, /think and "
    "/no_think, reasoning effort): the mode passed to it. off: the workload's forced tokens; on (or an "
    "effort level): greedy until end-of-sequence, at most --reasoning-cap tokens. Other models run the raw "
    "prompts.",
)
@click.option(
    "--reasoning-cap",
    type=click.IntRange(min=1),
    default=8192,
    show_default=True,
    help="Most new tokens per query with reasoning on (the AI Energy Score's 8192; another cap is "
    "non-canonical).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="How to print the summary (markdown: a GitHub job summary, with the rating).",
)
def measure(
    model: str,
    task: str,
    output: str | None,
    revision: str | None,
    no_energy: bool,
    queries: int | None,
    dtype: str | None,
    batch_size: int,
    device: str | None,
    gpu_index: int,
    min_repetitions: int,
    max_repetitions: int,
    target_ci: float,
    min_window: float,
    warmup: float,
    idle_seconds: float,
    allow_shared_gpu: bool,
    strict: bool,
    trust_remote_code: bool,
    allow_pickle: bool,
    random_weights: bool,
    reasoning: str,
    reasoning_cap: int,
    fmt: str,
    protocol: str = "full",
    sample_seed: int | None = None,
    workload_source: str = "energy-badge",
) -> None:
    """Measure MODEL (a Hub id like org/name, or a local folder) on TASK's canonical workload.

    The headline is GPU energy in Wh per 1000 queries, with its 95% interval over repetitions
    of the whole workload (Zeus, NVML energy counter). The result file is validated before it is
    written; a failed run writes nothing.
    """
    from energy_badge.aes_workload import AES_SOURCE, load_aes_workload, parse_workload_option
    from energy_badge.measure import MeasureOptions, measure_model
    from energy_badge.result import default_output_path, write_result

    meter = meter_config(locals(), allow_shared_gpu=allow_shared_gpu, strict=strict)
    choice = parse_workload_option(workload_source)
    _quiet_libraries(diffusers=task == "text-to-image")
    workload = load_aes_workload(task, choice.revision) if choice.source == AES_SOURCE else None
    options = MeasureOptions(
        revision=revision,
        dtype=dtype,
        batch_size=batch_size,
        queries=queries,
        device=device,
        energy=not no_energy,
        meter=meter,
        trust_remote_code=trust_remote_code,
        allow_pickle=allow_pickle,
        random_weights=random_weights,
        reasoning=reasoning,
        reasoning_cap=reasoning_cap,
        protocol="sampled" if protocol == "sampled" else "full",
        sample_seed=sample_seed,
        workload=workload,
    )
    with _Progress(quiet=fmt == "json") as progress:
        result = measure_model(model, task, options, on_event=progress.event)
    path = write_result(result, output or default_output_path(result.model_id, task, result.created_at))
    if fmt == "json":
        click.echo(result.to_json(), nl=False)
    elif fmt == "markdown":
        from energy_badge.rating import rate
        from energy_badge.summary import result_markdown

        click.echo(result_markdown(result, rate(result)), nl=False)
    else:
        print_summary(result)
    click.echo(f"result written to {path}", err=fmt != "table")


def _quiet_libraries(*, diffusers: bool = True) -> None:
    """Keep transformers' (and, with ``diffusers``, diffusers') own progress bars and load reports off
    the terminal: ours is the one shown. Only text-to-image runs diffusers, and importing it costs a
    measure process about a quarter of a second."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if not diffusers:
        return
    try:  # a pipeline's "Loading pipeline components" bar and deprecation notes
        from diffusers.utils import logging as diffusers_logging
    except ImportError:  # pragma: no cover - diffusers is a dependency
        return
    diffusers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()


class _Progress:
    """A rich progress display fed by ``measure_model``'s events (stderr, so stdout stays clean)."""

    def __init__(self, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=self.console,
            disable=quiet,
            transient=False,
        )
        self.quiet = quiet
        self.current: TaskID | None = None

    def __enter__(self) -> _Progress:
        self.progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.progress.__exit__(kind, error, trace)

    def event(self, event: MeasureEvent) -> None:
        from energy_badge.measure import PhaseEvent, RepetitionEvent, StageEvent

        if isinstance(event, StageEvent) and not self.quiet:
            self.progress.console.print(f"[dim]·[/dim] {escape(event.message)}")
        elif isinstance(event, PhaseEvent):
            self.current = self.progress.add_task(f"{event.name}: repetitions", total=event.max_repetitions)
        elif isinstance(event, RepetitionEvent) and self.current is not None:
            rep, stats = event.repetition, event.stats
            text = f"{event.phase}: repetition {rep.index}"
            if rep.wh_per_1k is not None:
                text += f", {rep.wh_per_1k:.4g} Wh/1k"
            if stats is not None and stats.relative_half_width is not None:
                text += f" (±{100 * stats.relative_half_width:.2g}%)"
            self.progress.update(self.current, advance=1, description=text)


def _checks(result: EnergyResult) -> list[tuple[str, str]]:
    """The summary rows of the measurement's checks: stop rule, outliers, cross-check, isolation."""
    m = result.measurement
    rows = []
    outcome = m.outcome
    if outcome is not None:
        how = "the target's width (early stop)" if outcome.interval == "target" else "Student's t"
        met = "met" if outcome.target_met else "NOT reached"
        rows.append(("interval", f"target ±{100 * m.config.target_ci_rel:g}% {met}; interval: {how}"))
        if outcome.drift.detected:
            rows.append(("drift", f"detected: {outcome.drift.reason}; every repetition was run"))
    for dropped in m.dropped:
        rows.append(
            ("dropped", f"repetition {dropped.repetition.index} ({dropped.reason}): {dropped.detail}")
        )
    windows = [r.crosscheck for r in m.repetitions if r.crosscheck is not None]
    if m.idle is not None and m.idle.crosscheck is not None:
        windows.append(m.idle.crosscheck)
    if windows:
        verdicts = [w.verdict for w in windows]
        counts = ", ".join(
            f"{verdicts.count(v)} {v}" for v in ("agree", "disagree", "inconclusive") if v in verdicts
        )
        rows.append(("cross-check", f"energy counter vs sampled power: {counts}"))
    if m.isolation.unknown_reason:
        rows.append(("isolation", f"unknown: {m.isolation.unknown_reason}"))
    return rows


def print_summary(result: EnergyResult) -> None:
    """Print a result's summary table (used by ``measure``)."""
    from rich.console import Console
    from rich.table import Table

    from energy_badge.text import ENERGY_UNIT, format_value

    table = Table(
        title=escape(f"{result.model_id} · {result.task} · workload {result.workload_version}"),
        show_header=False,
    )
    table.add_column("what")
    table.add_column("value", overflow="fold")
    energy = result.energy
    gpu = energy.gpu
    if gpu is not None:
        interval = (
            f"  (95% CI {format_value(gpu.ci95_low)} – {format_value(gpu.ci95_high)}, n={gpu.n})"
            if gpu.ci95_low is not None
            else f"  (n={gpu.n})"
        )
        table.add_row("GPU energy", f"[bold]{format_value(gpu.mean)} {ENERGY_UNIT}[/bold]{interval}")
    else:
        table.add_row("GPU energy", "not measured (performance only)")
    for stats, label in (
        (energy.prefill_gpu, "  prefill"),
        (energy.decode_gpu, "  decode"),
        (energy.cpu, "CPU energy"),
        (energy.dram, "DRAM energy"),
    ):
        if stats is not None:
            table.add_row(label, f"{format_value(stats.mean)} {ENERGY_UNIT}")
    measurement = result.measurement
    idle = measurement.idle
    if idle is not None and idle.gpu_power_w is not None:
        reused = "" if idle.age_s is None else f"; reused, taken {idle.age_s:.0f} s earlier"
        table.add_row("idle GPU power", f"{idle.gpu_power_w:.1f} W (recorded, not subtracted{reused})")
    perf = result.performance
    lat = perf.latency_ms
    from energy_badge.throughput import throughput

    rate = throughput(result)  # the one definition, the figure `compare --metric throughput` compares
    rate_interval = ""
    if rate.ci95_low is not None and rate.ci95_high is not None:
        rate_interval = f"  (95% CI {rate.ci95_low:.2f} – {rate.ci95_high:.2f}, n={rate.n})"
    table.add_row(
        "throughput",
        f"{rate.value:.2f} queries/s{rate_interval}"
        + (f", {perf.tokens_per_s:.1f} generated tokens/s" if perf.tokens_per_s else ""),
    )
    table.add_row(
        f"latency per {lat.per}", f"p50 {lat.p50:.2f} ms · p95 {lat.p95:.2f} ms · p99 {lat.p99:.2f} ms"
    )
    reps = measurement.repetitions
    table.add_row(
        "repetitions",
        f"{len(reps)} ({measurement.stopped_because.replace('_', ' ')}), "
        f"{reps[0].passes} pass(es) of {result.workload.queries} queries each",
    )
    for label, text in _checks(result):
        table.add_row(label, escape(text))
    hw = result.hardware
    table.add_row("hardware", escape(", ".join(g.name for g in hw.gpus) or f"{hw.device} ({hw.cpu.model})"))
    model = result.model
    table.add_row(
        "model",
        escape(
            f"{model.architecture}, {model.parameters:,} parameters, {model.dtype}"
            + (f", revision {model.revision[:12]}" if model.revision else "")
        ),
    )
    if result.workload.reasoning is not None:
        from energy_badge.text import reasoning_text

        table.add_row("reasoning", escape(reasoning_text(result.workload.reasoning, detail=True)))
    table.add_row(
        "canonical", "yes" if result.canonical else "no: " + escape("; ".join(result.non_canonical_reasons))
    )
    Console().print(table)
