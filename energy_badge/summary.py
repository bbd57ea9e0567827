"""Markdown summaries of a result and of a comparison: GitHub job summaries, ``--format markdown``.

:func:`result_markdown` gives a heading, the badge (a shields.io static badge image, with the
stars and the figure as its alt text, so it reads without images too) and a table of the figures;
:func:`comparison_markdown` a table of baseline against new with the change, its 95 % interval and
the verdict. Everything taken from a result (model ids, paths, reasons) is escaped, so a file
cannot inject HTML or Markdown into a job summary. Nothing here prints or touches the network.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from energy_badge.render import BADGE_LABEL, SHIELDS_COLORS, UNRATED_SHIELDS_COLOR, badge_message
from energy_badge.tasks import energy_unit
from energy_badge.text import format_value, stars_text

if TYPE_CHECKING:
    from energy_badge.compare import Comparison
    from energy_badge.rating import Rating
    from energy_badge.result import EnergyResult

__all__ = ["SHIELDS_BADGE_URL", "badge_image_url", "comparison_markdown", "md", "result_markdown"]

SHIELDS_BADGE_URL = "https://img.shields.io/badge/"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_VERDICT_MARK = {"regressed": "❌", "worse": "⚠️", "improved": "✅", "unchanged": "➖"}


def md(text: object) -> str:
    """Escape text for one Markdown table cell: specials backslash-escaped, line breaks as spaces."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _shields_part(text: str) -> str:
    # shields.io static badge path: "-" is written "--", "_" is "__"; the rest percent-encoded.
    return quote(text.replace("-", "--").replace("_", "__"), safe="")


def badge_image_url(rating: Rating) -> str:
    """A shields.io static badge showing the same text and colour as our badge."""
    color = SHIELDS_COLORS[rating.stars] if rating.stars else UNRATED_SHIELDS_COLOR
    return (
        f"{SHIELDS_BADGE_URL}{_shields_part(BADGE_LABEL)}-{_shields_part(badge_message(rating))}-"
        f"{_shields_part(color)}"
    )


def _table(rows: list[tuple[str, str]]) -> list[str]:
    lines = ["| | |", "| --- | --- |"]
    lines += [f"| {what} | {value} |" for what, value in rows]
    return lines


def result_markdown(result: EnergyResult, rating: Rating | None = None) -> str:
    """A result as Markdown: heading, badge (when ``rating`` is given) and a table of the figures.

    Args:
        result: the result.
        rating: its rating, or None to leave the stars out.

    Returns:
        Markdown text ending in a newline.
    """
    lines = [f"### AI energy: {md(result.model_id)} · {md(result.task)}", ""]
    if rating is not None:
        from energy_badge.publish import badge_alt_text

        lines += [f"![{md(badge_alt_text(rating))}]({badge_image_url(rating)})", ""]
    rows: list[tuple[str, str]] = []
    energy = result.energy
    gpu = energy.gpu
    if gpu is not None:
        interval = (
            f" (95 % CI {format_value(gpu.ci95_low)} to {format_value(gpu.ci95_high)}, n = {gpu.n})"
            if gpu.ci95_low is not None
            else f" (n = {gpu.n}, no interval)"
        )
        rows.append(("GPU energy", f"**{format_value(gpu.mean)} {energy_unit(result.task)}**{interval}"))
    else:
        rows.append(("GPU energy", "not measured (performance only)"))
    for stats, label in (
        (energy.prefill_gpu, "prefill"),
        (energy.decode_gpu, "decode"),
        (energy.cpu, "CPU energy"),
        (energy.dram, "DRAM energy"),
    ):
        if stats is not None:
            rows.append((label, f"{format_value(stats.mean)} {energy_unit(result.task)}"))
    if rating is not None:
        if rating.stars is not None:
            stars = stars_text(rating.stars)
            rated = f"{stars} ({rating.stars} of 5)"
        else:
            rated = f"unrated: {md(rating.unrated_reason or 'no reason given')}"
        table = f"rating table {md(rating.table_version)}"
        if rating.table_status == "provisional":
            table += ", provisional"
        rows.append(("rating", f"{rated}; {table}"))
    perf = result.performance
    throughput = f"{perf.queries_per_s:.2f} queries/s"
    if perf.tokens_per_s:
        throughput += f", {perf.tokens_per_s:.1f} generated tokens/s"
    rows.append(("throughput", throughput))
    lat = perf.latency_ms
    latency = f"p50 {lat.p50:.2f} ms · p95 {lat.p95:.2f} ms · p99 {lat.p99:.2f} ms"
    rows.append((f"latency per {md(lat.per)}", latency))
    hw = result.hardware
    hardware = ", ".join(g.name for g in hw.gpus) or f"{hw.device} ({hw.cpu.model})"
    if hw.hardware_class:
        hardware += f" (class {hw.hardware_class})"
    rows.append(("hardware", md(hardware)))
    workload = result.workload
    rows.append(
        (
            "workload",
            f"{md(workload.name.rsplit('/', 1)[-1])}@{md(workload.version)}, {workload.queries} "
            f"queries, batch size {workload.batch_size}",
        )
    )
    if workload.reasoning is not None:
        from energy_badge.text import reasoning_text

        rows.append(("reasoning", md(reasoning_text(workload.reasoning, detail=True))))
    model = result.model
    described = f"{md(model.architecture)}, {model.parameters:,} parameters, {md(model.dtype)}"
    if model.revision:
        described += f", revision {md(model.revision[:12])}"
    rows.append(("model", described))
    measurement = result.measurement
    stopped = measurement.stopped_because.replace("_", " ")
    rows.append(("repetitions", f"{len(measurement.repetitions)} ({md(stopped)})"))
    rows.append(
        ("canonical", "yes" if result.canonical else "no: " + md("; ".join(result.non_canonical_reasons)))
    )
    rows.append(("measured", f"{md(result.created_at)} with energy-badge {md(result.tool_version)}"))
    lines += _table(rows)
    return "\n".join(lines) + "\n"


def comparison_markdown(
    comparison: Comparison, *, base_name: str | None = None, new_name: str | None = None
) -> str:
    """A :class:`~energy_badge.compare.Comparison` as Markdown: verdict heading, table, rule, notes.

    Args:
        comparison: the comparison.
        base_name, new_name: optional names of the two results (file names, "Hub main"), shown
            in the table's header.

    Returns:
        Markdown text ending in a newline.
    """
    from energy_badge.compare import rule_text, side_text
    from energy_badge.text import pct

    what = "GPU energy" if comparison.metric == "energy" else "Throughput"
    mark = _VERDICT_MARK.get(comparison.verdict, "")
    lines = [f"### {mark} {what} vs baseline: {comparison.verdict}", ""]
    base_head = f"base ({md(base_name)})" if base_name else "base"
    new_head = f"new ({md(new_name)})" if new_name else "new"
    lines += [f"| | {base_head} | {new_head} |", "| --- | --- | --- |"]
    base, new = comparison.base, comparison.new
    lines.append(f"| model | {md(base.model_id)} | {md(new.model_id)} |")
    lines.append(f"| {md(what)} ({md(comparison.unit)}) | {md(side_text(base))} | {md(side_text(new))} |")
    lines.append(
        f"| change | | **{pct(comparison.change)}** (95 % CI {pct(comparison.change_low)} to "
        f"{pct(comparison.change_high)}) |"
    )
    lines.append(f"| canonical | {'yes' if base.canonical else 'no'} | {'yes' if new.canonical else 'no'} |")
    lines.append(f"| measured | {md(base.created_at)} | {md(new.created_at)} |")
    lines += [
        "",
        f"**{md(comparison.sentence())}.** {md(comparison.task)}, {md(comparison.workload)}, "
        f"{md(comparison.hardware_class)}.",
        "",
        f"Rule: {md(rule_text(comparison))}.",
    ]
    if comparison.notes:
        lines.append("")
        lines += [f"- note: {md(note)}" for note in comparison.notes]
    return "\n".join(lines) + "\n"
