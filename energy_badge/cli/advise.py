"""``energy-badge advise``: the setting (and the model) that does the job with the least energy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from energy_badge.cli._options import (
    allow_pickle_option,
    device_options,
    no_energy_option,
    queries_option,
    revision_option,
    trust_remote_code_option,
)
from energy_badge.workload import TASKS

if TYPE_CHECKING:
    from energy_badge.advise import AdviseReport, PointResult


@click.command()
@click.argument("models", nargs=-1, required=True)
@click.option(
    "--task", required=True, type=click.Choice(TASKS), help="The task whose canonical workload to run."
)
@click.option(
    "--models",
    "several",
    is_flag=True,
    help="Compare the models given (each at its canonical setting, or swept with --grid), beside the "
    "quality their cards report (model-index).",
)
@click.option(
    "--grid",
    help="Narrow the sweep: 'dtype=fp32,bf16 batch=1,8 quant=none,int8 attn=sdpa,eager compile=off' "
    "(batch=max=N bounds the doubling).",
)
@click.option("--budget", help="Time budget (20m, 90s, 1h30m): cheapest and most promising points first.")
@click.option(
    "--max-latency",
    type=click.FloatRange(min=0, min_open=True),
    help="Recommend the least energy per query with p95 latency at most this many ms.",
)
@queries_option("Queries of the canonical workload each point runs.", default=100)
@click.option(
    "--quality-queries",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="Queries whose outputs the quality guard compares with the canonical setting's.",
)
@no_energy_option("Latency and throughput only (no energy meter; works on the CPU); every output says so.")
@device_options
@click.option("--min-repetitions", type=click.IntRange(1, 10), default=2, show_default=True)
@click.option("--max-repetitions", type=click.IntRange(1, 10), default=3, show_default=True)
@click.option(
    "--target-ci",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Stop a point once its 95% interval is within this percent of the mean.",
)
@click.option("--min-window", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True)
@click.option("--warmup", type=click.FloatRange(0, 3600), default=3.0, show_default=True)
@click.option("--idle-seconds", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False),
    default="advise",
    show_default=True,
    help="Where to write advise.json (schema-checked), advise.png and advise.md.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="What to print (the files are written either way).",
)
@revision_option("Hub branch, tag or commit (one model only).")
@trust_remote_code_option("Allow the model's own Python code to run.")
@allow_pickle_option("Allow pickle-based weight files (.bin/.pt).")
def advise(
    models: tuple[str, ...],
    task: str,
    several: bool,
    grid: str | None,
    budget: str | None,
    max_latency: float | None,
    queries: int,
    quality_queries: int,
    no_energy: bool,
    device: str | None,
    gpu_index: int,
    min_repetitions: int,
    max_repetitions: int,
    target_ci: float,
    min_window: float,
    warmup: float,
    idle_seconds: float,
    output_dir: str,
    fmt: str,
    revision: str | None,
    trust_remote_code: bool,
    allow_pickle: bool,
) -> None:
    """Sweep MODEL's settings on TASK's workload and say which uses the least energy per query.

    Batch size (1, 2, 4, ... until out of memory or no gain), dtype (fp32, tf32, bf16, fp16),
    torchao weight quantization (int8, fp8 on Hopper, int4), attention (sdpa, eager) and
    torch.compile, one factor at a time around the best so far. Each point is metered on a short
    protocol; its outputs are compared with the canonical setting's, and a point that changes
    them is shown but never recommended. Ray is not used for the points.
    """
    from energy_badge.advise import AdviseOptions, parse_budget, parse_grid, write_report
    from energy_badge.advise.plot import write_plot
    from energy_badge.advise.report import report_json, report_markdown
    from energy_badge.cli.measure import _quiet_libraries
    from energy_badge.errors import UsageError
    from energy_badge.files import write_atomic
    from energy_badge.meter import MeterConfig

    if len(models) > 1 and not several:
        raise UsageError("several models given: pass --models to compare them")
    if min_repetitions > max_repetitions:
        raise UsageError("--min-repetitions cannot exceed --max-repetitions")
    if revision is not None and len(models) > 1:
        raise UsageError("--revision applies to one model")
    if several and not grid:
        grid_value = parse_grid("batch=1 quant=none attn=sdpa compile=off")
        from dataclasses import replace

        from energy_badge.advise import canonical_setting

        grid_value = replace(grid_value, dtypes=(canonical_setting(task).dtype,))
    else:
        grid_value = parse_grid(grid)
    meter = MeterConfig(
        min_repetitions=min_repetitions,
        max_repetitions=max_repetitions,
        target_ci_rel=target_ci / 100.0,
        min_window_s=min_window,
        idle_seconds=idle_seconds,
        warmup_max_s=warmup,
        gpu_index=gpu_index,
    )
    options = AdviseOptions(
        grid=grid_value,
        queries=queries,
        quality_queries=quality_queries,
        energy=not no_energy,
        device=device,
        meter=meter,
        budget_s=parse_budget(budget),
        trust_remote_code=trust_remote_code,
        allow_pickle=allow_pickle,
        revision=revision,
    )
    _quiet_libraries()
    report = _run(models, task, options, several, max_latency, quiet=fmt != "table")
    out = Path(output_dir)
    png = write_plot(report, out / "advise.png")
    json_path = write_report(report, out / "advise.json")
    markdown = report_markdown(report, plot="advise.png")
    md_path = write_atomic(out / "advise.md", markdown.encode("utf-8"))
    if fmt == "json":
        import json

        click.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(markdown, nl=False)
    else:
        _print(report)
    click.echo(f"report written to {json_path}, {png} and {md_path}", err=fmt != "table")


def _run(
    models: tuple[str, ...],
    task: str,
    options: object,
    several: bool,
    max_latency: float | None,
    *,
    quiet: bool,
) -> AdviseReport:
    from rich.console import Console

    from energy_badge.advise import AdviseOptions, build_report, reported_quality, run_sweep

    assert isinstance(options, AdviseOptions)
    console = Console(stderr=True, quiet=quiet)
    sweeps, qualities = [], []
    for model in models:
        console.print(f"[dim]·[/dim] sweeping {escape(model)} on {task}")

        def show(point: PointResult) -> None:
            console.print(f"  [dim]{escape(point.label)}: {escape(_status(point))}[/dim]")

        sweeps.append(run_sweep(model, task, options, on_point=show))
        qualities.append(
            reported_quality(model, token=options.token, endpoint=options.endpoint) if several else None
        )
    return build_report(sweeps, qualities, max_latency)


def _status(point: PointResult) -> str:
    if point.status != "measured":
        return f"{point.status.replace('_', ' ')} ({point.reason})"
    from energy_badge.advise.report import number_text

    text = f"{number_text(point.queries_per_s)} queries/s, p95 {number_text(point.latency_p95_ms)} ms"
    if point.energy is not None:
        text = f"{number_text(point.energy.mean)} Wh/1k, " + text
    if point.quality is not None:
        text += f", {point.quality.describe()}"
    return text


def _print(report: AdviseReport) -> None:
    from rich.console import Console
    from rich.table import Table

    from energy_badge.advise.report import point_row, table_header

    console = Console()
    if not console.is_terminal:  # piped or captured: no terminal width to fit, keep rows on one line
        console = Console(width=160)
    if not report.energy:
        console.print(
            "[bold yellow]Latency and throughput only: NO energy was measured (--no-energy).[/bold yellow]"
        )
    for advice in report.models:
        sweep, rec = advice.sweep, advice.recommendation
        table = Table(title=escape(f"{sweep.model} · {sweep.task} · {sweep.hardware}"))
        for column in table_header(report.energy):
            table.add_column(column, overflow="fold")
        keys = {p.key for p in advice.frontier}
        for p in sweep.points:
            row = point_row(p, report.energy, p.key in keys, rec.point is not None and p.key == rec.point.key)
            table.add_row(*(escape(c) for c in row))
        console.print(table)
        if advice.reported is not None:
            console.print(f"card: {escape(advice.reported.describe())}")
        console.print(f"[dim]{escape(sweep.protocol)}; latency per batch.[/dim]")
    console.print(f"[bold]{escape(report.sentence)}[/bold]")
