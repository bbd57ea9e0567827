"""``energy-badge badge``: draw a result's badge or label as SVG, PNG or shields.io endpoint JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from energy_badge.cli._options import reasoning_on_option, table_option

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
@reasoning_on_option
def badge(
    result_file: str,
    output: str,
    kind: str,
    fmt: str | None,
    table_file: str | None,
    scale: float,
    reasoning_on_file: str | None,
) -> None:
    """Draw RESULT's badge or label, rated against the rating table.

    With --reasoning-on, the label gets a last line with the reasoning-on multiplier (the badge says
    it in its description); two results that are not one model's off and on are refused (exit code 2).
    """
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

    from energy_badge.multiplier import reasoning_multiplier

    result = load_result(result_file)
    multiplier = None
    if reasoning_on_file is not None:
        multiplier = reasoning_multiplier(result, load_result(reasoning_on_file))
    rating = rate(result, load_table(table_file))
    if fmt == "shields-json":
        data = (json.dumps(render.shields_json(rating), indent=2, ensure_ascii=False) + "\n").encode()
    else:
        if kind == "badge":
            svg = render.badge_svg(result, rating, multiplier)
        else:
            svg = render.label_svg(result, rating, multiplier)
        data = svg.encode("utf-8") if fmt == "svg" else render.to_png(svg, scale=scale)
    write_atomic(path, data)
    stars = f"{rating.stars} of 5 stars" if rating.stars else f"unrated ({rating.unrated_reason})"
    click.echo(f"wrote {path} ({kind}, {fmt}): {stars}")
