"""``energy-badge doctor``: can this machine measure energy?"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from energy_badge.doctor import DoctorReport


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def doctor(as_json: bool) -> None:
    """Report the GPUs NVML sees and whether each has an energy counter, RAPL (CPU/DRAM energy),
    torch and CUDA, and whether a Hub token is configured (never the token itself).

    Exit code 0 when this machine can measure energy, 3 when it cannot.
    """
    import sys

    from energy_badge.doctor import doctor_report
    from energy_badge.errors import EXIT_CANNOT_MEASURE

    report = doctor_report()
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report), indent=2))
    else:
        _print_report(report)
    if not report.can_measure:
        sys.exit(EXIT_CANNOT_MEASURE)


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


def doctor_rows(report: DoctorReport) -> list[tuple[str, str]]:
    """Turn a :class:`~energy_badge.doctor.DoctorReport` into (check, finding) lines a person can read.

    Args:
        report: the report.

    Returns:
        One ``(check, finding)`` pair per line of the table.
    """
    nvml = report.nvml
    rows = [
        (
            "NVML (NVIDIA driver)",
            f"available, driver {nvml.driver_version}, CUDA {nvml.cuda_driver_version}"
            if nvml.available
            else f"not available: {nvml.error}",
        )
    ]
    if report.cuda_visible_devices is not None:
        rows.append(("CUDA_VISIBLE_DEVICES", report.cuda_visible_devices))
    if not report.gpus:
        rows.append(("GPUs", "none seen"))
    for gpu in report.gpus:
        finding = f"{gpu.name} ({gpu.architecture or 'unknown architecture'}), "
        finding += "energy counter: " + _yes(gpu.energy_counter)
        if gpu.other_processes:
            finding += f", other processes: {list(gpu.other_processes)}"
        rows.append((f"GPU {gpu.index}", finding))
    rapl = report.rapl
    rows.append(
        (
            "CPU/DRAM energy (RAPL)",
            ("readable" if rapl.readable else "present but not readable (needs root)")
            if rapl.present
            else "not present (CPU and DRAM energy will be null)",
        )
    )
    rows.append(("CPU", f"{report.cpu.model} x {report.cpu.count}"))
    torch = report.torch
    rows.append(
        (
            "torch",
            f"{torch.version}, CUDA available: {_yes(torch.cuda_available)}"
            if torch.version
            else f"not importable: {torch.error}",
        )
    )
    token = report.hub_token
    rows.append(("Hub token", f"configured ({token.source})" if token.configured else "not configured"))
    verdict = "yes" if report.can_measure else f"no: {report.reason}"
    rows.append((f"can measure on GPU {report.gpu_index}", verdict))
    return rows


def _print_report(report: DoctorReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="energy-badge doctor", show_header=False)
    table.add_column("check", style="bold")
    table.add_column("finding", overflow="fold")
    for check, finding in doctor_rows(report):
        table.add_row(check, finding)
    Console().print(table)
