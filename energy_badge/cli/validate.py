"""``energy-badge validate``: check result files against the schema."""

from __future__ import annotations

import sys

import click

from energy_badge.errors import EXIT_CHECK_FAILED


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check result FILES against schemas/energy-result.schema.json.

    Prints each problem with its JSON path. Exits 1 if any file is invalid.
    """
    from energy_badge.result import validate_file

    bad = 0
    for path in files:
        errors = validate_file(path)
        if errors:
            bad += 1
            click.echo(f"{path}: INVALID ({len(errors)} problem{'s' if len(errors) != 1 else ''})")
            for error in errors:
                click.echo(f"  {error}")
        else:
            click.echo(f"{path}: valid")
    if bad:
        click.echo(f"{bad} of {len(files)} file(s) invalid", err=True)
        sys.exit(EXIT_CHECK_FAILED)
