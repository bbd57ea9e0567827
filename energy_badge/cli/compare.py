"""``energy-badge compare``: fail when a new result regressed against a baseline."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from energy_badge.compare import Comparison


@click.command()
@click.argument("base_file", metavar="BASE", type=click.Path(dir_okay=False))
@click.argument("new_file", metavar="NEW", type=click.Path(dir_okay=False))
@click.option(
    "--max-regression",
    default="5%",
    show_default=True,
    metavar="PERCENT",
    help="How much worse NEW may be (with 95% confidence) before it counts as a regression.",
)
@click.option(
    "--metric",
    type=click.Choice(["energy", "throughput"]),
    default="energy",
    show_default=True,
    help="GPU energy per 1000 queries, or queries/s (for --no-energy results; must be asked for).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="How to print the comparison.",
)
def compare(base_file: str, new_file: str, max_regression: str, metric: str, fmt: str) -> None:
    """Compare NEW with the baseline BASE; exit code 1 when NEW regressed.

    The change is new/base - 1, with a 95% interval that combines both results' intervals:
    (new/base) * exp(+-h) - 1, where h = sqrt(b^2 + n^2) and b, n are the two intervals'
    half-widths over their means. NEW regressed when the lower end of that interval is above
    --max-regression (for --metric throughput: the upper end below minus the allowance), i.e.
    it is worse by more than the allowance with 95% confidence. A difference inside the noise
    never counts.

    Both results must be of the same task, workload (version, queries, batch size) and hardware
    class (exit code 4 otherwise). Non-canonical results, such as a pull request's smoke run with
    --queries, are compared, and the output says so. Results measured with --no-energy have no
    GPU energy: compare them with --metric throughput.
    """
    from energy_badge.compare import compare_results, parse_max_regression
    from energy_badge.errors import CheckFailedError, UsageError
    from energy_badge.result import load_result

    try:
        allowance = parse_max_regression(max_regression)
    except UsageError as err:
        raise click.BadParameter(str(err), param_hint="--max-regression") from None
    base = load_result(base_file)
    new = load_result(new_file)
    comparison = compare_results(
        base, new, max_regression=allowance, metric=metric, base_label="base", new_label="new"
    )
    if fmt == "json":
        click.echo(json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        from energy_badge.summary import comparison_markdown

        click.echo(comparison_markdown(comparison), nl=False)
    else:
        print_comparison(comparison, base_file, new_file)
    if comparison.regressed:
        raise CheckFailedError(comparison.sentence())


def print_comparison(comparison: Comparison, base_file: str, new_file: str) -> None:
    """Print the comparison as a table, then its verdict, the rule and the notes."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from energy_badge.compare import rule_text, side_text
    from energy_badge.text import pct

    what = "GPU energy" if comparison.metric == "energy" else "throughput"
    table = Table(
        title=escape(f"{comparison.task} · {comparison.workload} · {comparison.hardware_class}"),
        show_header=True,
    )
    table.add_column("")
    table.add_column("base", overflow="fold")
    table.add_column("new", overflow="fold")
    table.add_row("file", escape(base_file), escape(new_file))
    table.add_row("model", escape(comparison.base.model_id), escape(comparison.new.model_id))
    table.add_row(f"{what} ({comparison.unit})", side_text(comparison.base), side_text(comparison.new))
    table.add_row(
        "canonical",
        "yes" if comparison.base.canonical else "no",
        "yes" if comparison.new.canonical else "no",
    )
    table.add_row("measured", comparison.base.created_at, comparison.new.created_at)
    table.add_row(
        "change",
        "",
        f"[bold]{pct(comparison.change)}[/bold] (95 % CI {pct(comparison.change_low)} to "
        f"{pct(comparison.change_high)})",
    )
    console = Console(soft_wrap=False, highlight=False)
    console.print(table)
    color = {"regressed": "red", "worse": "yellow", "improved": "green"}.get(comparison.verdict, "")
    verdict = f"[{color}]{comparison.verdict}[/{color}]" if color else comparison.verdict
    console.print(f"verdict: {verdict}: {escape(comparison.sentence())}", soft_wrap=True)
    console.print(f"rule: {escape(rule_text(comparison))}", soft_wrap=True)
    for note in comparison.notes:
        console.print(f"note: {escape(note)}", soft_wrap=True)
