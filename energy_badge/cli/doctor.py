"""``energy-badge doctor``: can this machine measure energy?"""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def doctor(as_json: bool) -> None:
    """Report the GPUs NVML sees and whether each has an energy counter, RAPL (CPU/DRAM energy),
    torch and CUDA, and whether a Hub token is configured (never the token itself).

    Exit code 0 when this machine can measure energy, 3 when it cannot.
    """
    import sys

    from energy_badge.errors import EXIT_CANNOT_MEASURE
    from energy_badge.hardware import doctor_report

    report = doctor_report()
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_report(report)
    if not report.get("can_measure"):
        sys.exit(EXIT_CANNOT_MEASURE)


def _print_report(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="energy-badge doctor", show_header=False)
    table.add_column("check")
    table.add_column("finding", overflow="fold")
    for key, value in report.items():
        if key == "gpus":
            if not value:
                table.add_row("GPUs", "none seen")
            for gpu in value:
                counter = "energy counter" if gpu.get("energy_counter") else "NO energy counter"
                table.add_row(f"GPU {gpu.get('index')}", f"{gpu.get('name')} ({counter})")
        else:
            table.add_row(key.replace("_", " "), str(value))
    console.print(table)
