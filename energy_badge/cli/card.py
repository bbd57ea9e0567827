"""``energy-badge card``: show (or write) the model-card change for a result."""

from __future__ import annotations

import click

from energy_badge.cli._options import reasoning_on_option, table_option


@click.command()
@click.argument("result_file", metavar="RESULT", type=click.Path(dir_okay=False))
@click.option(
    "--readme",
    "readme",
    required=True,
    type=click.Path(dir_okay=False),
    help="The model card (README.md) to change.",
)
@click.option(
    "--write", is_flag=True, help="Apply the change to the file (atomically); default: only show it."
)
@table_option
@reasoning_on_option
def card(
    result_file: str, readme: str, write: bool, table_file: str | None, reasoning_on_file: str | None
) -> None:
    """Show the change RESULT makes to a model card, as a unified diff; --write applies it.

    The change is the `energy_score:` key in the YAML front matter and the badge block between
    `<!-- energy-badge:start -->` and `<!-- energy-badge:end -->`; every other byte of the card
    stays as it is. The badge links to energy/badge.svg and energy/result.json, the files
    `energy-badge publish` puts next to the card. Only a canonical result measured with the
    model's own weights goes on a card (exit code 4 otherwise).

    README must be a regular file (a symbolic link, FIFO or device is refused, exit code 4) of at
    most 4 MiB. When the card's pipeline_tag or base_model contradicts the result (say,
    pipeline_tag: sentence-similarity and a text-classification result), a `warning:` line says so
    on stderr; the change is still shown or written.

    With --reasoning-on, the block and the key add the multiplier of the same model measured with
    reasoning on (linking to energy/result-reasoning-on.json, which `publish --reasoning-on` puts
    there); two results that are not one model's off and on are refused (exit code 2).
    """
    from energy_badge.card import card_conflicts
    from energy_badge.publish import edit_card_file
    from energy_badge.rating import load_table, rate
    from energy_badge.result import load_result

    result = load_result(result_file)
    reasoning_on = load_result(reasoning_on_file) if reasoning_on_file is not None else None
    rating = rate(result, load_table(table_file))
    edit = edit_card_file(result, rating, readme, write=write, reasoning_on=reasoning_on)
    hub_model = result.model_source == "hub"
    for line in card_conflicts(
        edit.original, task=result.task, model_id=result.model_id, hub_model=hub_model
    ):
        click.echo(f"warning: {line}", err=True)
    if not edit.changed:
        click.echo(f"no change: {readme} already has this badge and metadata")
        return
    click.echo(edit.diff(path_label="README.md"), nl=False)
    if write:
        click.echo(f"wrote {readme}")
    else:
        click.echo(f"(nothing written: run again with --write to change {readme})")
