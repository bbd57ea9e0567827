"""``energy-badge tasks``: the canonical workloads."""

from __future__ import annotations

import json

import click

from energy_badge.workload_settings import DiffusionSettings, GenerationSettings


def _generation(gen: GenerationSettings | DiffusionSettings | None) -> str:
    if isinstance(gen, DiffusionSettings):
        size = f", {gen.width}x{gen.height}" if gen.width and gen.height else ""
        return f"{gen.num_inference_steps} steps, {gen.num_images_per_prompt} image, seed {gen.seed}{size}"
    if gen is None:
        return "-"
    return (
        f"{gen.max_new_tokens} new tokens"
        + ("" if gen.min_new_tokens == gen.max_new_tokens else f" (min {gen.min_new_tokens})")
        + (", sampled" if gen.do_sample else ", greedy")
        + (f", {gen.num_beams} beams" if gen.num_beams > 1 else "")
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def tasks(as_json: bool) -> None:
    """List the canonical workloads: task, version, query count, batch size, generation
    settings, default dtype and the sha256 of the exact inputs."""
    from energy_badge.workload import list_workloads

    workloads = list_workloads()
    if as_json:
        click.echo(json.dumps([w.to_dict() for w in workloads], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Canonical workloads")
    table.add_column("task", no_wrap=True)
    for column in ("version", "queries", "batch", "dtype", "generation"):
        table.add_column(column)
    for w in workloads:
        table.add_row(
            w.task,
            w.version,
            str(len(w.queries)),
            str(w.batch_size),
            w.default_dtype,
            _generation(w.generation),
        )
    Console().print(table)
    # Hashes as sha256sum prints them: full, one per line, easy to copy and compare.
    click.echo(
        "\nsha256 of the exact inputs (text: canonical JSONL; images, audio: decoded pixels, samples):"
    )
    for w in workloads:
        click.echo(f"{w.sha256}  {w.task}")
