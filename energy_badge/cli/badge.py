"""``energy-badge badge``: draw a result's badge or label as SVG, PNG or shields.io endpoint JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from energy_badge.cli._options import table_option

SUFFIX_FORMATS = {".svg": "svg", ".png": "png", ".json": "shields-json"}


@click.command()
@click.argument("result_file", metavar="RESULT", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option(
    "--kind",
    type=click.Choice(["badge", "label"]),
    default="badge",
    show_default=True,
    help="badge: the small shields-style badge; label: the Energy-Star-like card.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "png", "shields-json"]),
    help="Output format (default: from the -o suffix: .svg, .png, .json).",
)
@table_option
@click.option(
    "--scale",
    type=click.FloatRange(min=0.1, max=16),
    default=1.0,
    show_default=True,
    help="PNG pixels per px.",
)
def badge(
    result_file: str, output: str, kind: str, fmt: str | None, table_file: str | None, scale: float
) -> None:
    """Draw RESULT's badge or label, rated against the rating table."""
    from energy_badge import render
    from energy_badge.errors import UsageError
    from energy_badge.files import write_atomic
    from energy_badge.rating import load_table, rate
    from energy_badge.result import load_result

    path = Path(output)
    if fmt is None:
        fmt = SUFFIX_FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise UsageError(
                f"cannot tell the format from {output!r}: give --format svg|png|shields-json "
                "or an output ending in .svg, .png or .json"
            )
    if fmt == "shields-json" and kind != "badge":
        raise UsageError(
            "the shields.io endpoint JSON describes a badge; use --kind badge with --format shields-json"
        )

    result = load_result(result_file)
    rating = rate(result, load_table(table_file))
    if fmt == "shields-json":
        data = (json.dumps(render.shields_json(rating), indent=2, ensure_ascii=False) + "\n").encode()
    else:
        svg = render.badge_svg(result, rating) if kind == "badge" else render.label_svg(result, rating)
        data = svg.encode("utf-8") if fmt == "svg" else render.to_png(svg, scale=scale)
    write_atomic(path, data)
    stars = f"{rating.stars} of 5 stars" if rating.stars else f"unrated ({rating.unrated_reason})"
    click.echo(f"wrote {path} ({kind}, {fmt}): {stars}")
