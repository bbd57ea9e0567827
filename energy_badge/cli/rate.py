"""``energy-badge rate`` and ``energy-badge calibrate``: stars against a rating table, and new tables."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from energy_badge.cli._options import table_option

if TYPE_CHECKING:
    from energy_badge.rating import Rating
    from energy_badge.result import EnergyResult


@click.command()
@click.argument("result_file", metavar="RESULT", type=click.Path(dir_okay=False))
@table_option
@click.option("--json", "as_json", is_flag=True, help="Print the rating as JSON.")
def rate(result_file: str, table_file: str | None, as_json: bool) -> None:
    """Rate RESULT: its stars, the table's cut points and where the result sits.

    A non-canonical result, or a task or GPU the table has no entry for, is reported unrated with
    the reason (exit code 0: unrated is an answer, not an error).
    """
    from energy_badge.rating import load_table
    from energy_badge.rating import rate as rate_result
    from energy_badge.result import load_result

    result = load_result(result_file)
    table = load_table(table_file)
    rating = rate_result(result, table)
    if as_json:
        click.echo(json.dumps(rating.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_rating(result, rating)


def _print_rating(result: EnergyResult, rating: Rating) -> None:
    from rich.console import Console
    from rich.table import Table

    from energy_badge.tasks import energy_unit
    from energy_badge.text import format_energy, format_interval, stars_text

    console = Console()
    summary = Table(show_header=False, title=f"Rating of {result.model_id}", title_justify="left")
    summary.add_column("field", style="bold")
    summary.add_column("value", overflow="fold")
    hardware = rating.hardware_class or "-"
    if result.gpu_name and result.gpu_name != rating.hardware_class:
        hardware += f" ({result.gpu_name})"
    summary.add_row("task", f"{rating.task} (workload v{rating.workload_version})")
    if rating.size_class is not None:
        from energy_badge.rating import describe_size_class

        summary.add_row("model size", describe_size_class(rating.size_class))
    summary.add_row("hardware", hardware)
    if rating.value is None:
        summary.add_row("GPU energy", "not measured")
    else:
        energy = f"{format_energy(rating.value)} {energy_unit(rating.task)}"
        if rating.ci95_low is not None and rating.ci95_high is not None:
            low, high = format_interval(rating.ci95_low, rating.ci95_high)
            energy += f" (95 % CI {low} – {high})"
        summary.add_row("GPU energy", energy)
    if rating.stars is None or rating.position is None:
        summary.add_row("stars", f"[yellow]unrated[/yellow]: {rating.unrated_reason}")
    else:
        stars = stars_text(rating.stars) + f"  {rating.stars} of 5"
        if rating.stars_ci and rating.stars_ci[0] != rating.stars_ci[1]:
            stars += f" ({rating.stars_ci[0]}–{rating.stars_ci[1]} within the 95 % interval)"
        summary.add_row("stars", stars)
        summary.add_row(
            "position", f"{rating.position:.2f} along the {rating.method} scale (0 = population min, 1 = max)"
        )
    summary.add_row("table", f"{rating.table_version} ({rating.table_status}, method {rating.method})")
    console.print(summary)
    if rating.cut_points is None:
        return
    bands = Table(title=f"Bands ({energy_unit(rating.task)})", title_justify="left")
    for column in ("stars", "from", "below", ""):
        bands.add_column(column)
    edges = (None, *rating.cut_points, None)
    for k in range(5):
        band_stars = 5 - k
        edge_low, edge_high = edges[k], edges[k + 1]
        mark = "◀ this result" if band_stars == rating.stars else ""
        bands.add_row(
            "★" * band_stars,
            "-" if edge_low is None else f"{edge_low:.4g}",
            "-" if edge_high is None else f"{edge_high:.4g}",
            mark,
            style="bold" if mark else None,
        )
    console.print(bands)
    if rating.table_status == "provisional":
        console.print(
            f"[dim]Rating table {rating.table_version} is provisional: not calibrated from "
            "energy-badge measurements (its 'source' says where the numbers come from).[/dim]"
        )


@click.command()
@click.argument(
    "result_files", metavar="RESULTS...", nargs=-1, required=True, type=click.Path(dir_okay=False)
)
@click.option(
    "--method",
    type=click.Choice(["log", "linear", "quantile"]),
    default="log",
    show_default=True,
    help="log: equal bands on a log scale; linear: equal bands; quantile: 20/40/60/80 % quantiles.",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="Where to write the table."
)
@click.option("--version", "table_version", help="Table version (default: <date>-<method>).")
@click.option(
    "--allow-random-weights",
    is_flag=True,
    help="Also use results that are canonical but for their random weights (a calibration campaign "
    "measuring real architectures without their weights); the table's source says so.",
)
def calibrate(
    result_files: tuple[str, ...],
    method: str,
    output: str,
    table_version: str | None,
    allow_random_weights: bool,
) -> None:
    """Build a rating table from RESULTS (at least 10 canonical results per task and GPU class).

    Groups with fewer results are skipped and listed; non-canonical results are excluded with the
    reason. Exit code 4 when no group qualifies.
    """
    from rich.console import Console
    from rich.table import Table

    from energy_badge.errors import UsageError
    from energy_badge.rating import calibrate as calibrate_table
    from energy_badge.rating import write_table
    from energy_badge.result import load_result

    if table_version is not None and not table_version.strip():
        raise UsageError("--version must not be empty")
    results = [load_result(path) for path in result_files]
    table = calibrate_table(results, method, version=table_version, allow_random_weights=allow_random_weights)
    write_table(table, output)

    console = Console()
    entries = Table(
        title=f"Rating table {table.table_version} ({method}) written to {output}", title_justify="left"
    )
    for column in ("task", "hardware", "workload", "n", "min", "c1", "c2", "c3", "c4", "max"):
        entries.add_column(column, overflow="fold")
    for e in table.entries:
        pop = e.population
        entries.add_row(
            e.task + (f" ({e.size_class})" if e.size_class else ""),
            e.hardware_class,
            e.workload_version or "-",
            str(pop.n),
            f"{pop.min:.4g}",
            *(f"{c:.4g}" for c in e.cut_points),
            f"{pop.max:.4g}",
        )
    console.print(entries)
    for group in table.skipped_groups:
        size = f" (size class {group.size_class})" if group.size_class else ""
        console.print(
            f"[yellow]skipped[/yellow] {group.task}{size} on {group.hardware_class}: {group.reason}"
        )
    for item in table.excluded_results:
        console.print(f"[yellow]excluded[/yellow] {item.model_id}: {item.reason}")
