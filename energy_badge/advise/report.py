"""The advise report: its typed form, its JSON (``schemas/advise-report.schema.json``) and Markdown.

The JSON is checked against its schema before it is written (each error names its JSON path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from energy_badge.advise.frontier import Recommendation, frontier, metric_of, recommend
from energy_badge.advise.quality_card import ReportedQuality
from energy_badge.advise.sweep import PointResult, SweepResult
from energy_badge.errors import InvalidFileError

__all__ = [
    "REPORT_SCHEMA",
    "REPORT_VERSION",
    "AdviseReport",
    "ModelAdvice",
    "build_report",
    "number_text",
    "point_row",
    "report_json",
    "report_markdown",
    "table_header",
    "write_report",
]

REPORT_SCHEMA = "advise-report.schema.json"
REPORT_VERSION = "1.0"


@dataclass(frozen=True)
class ModelAdvice:
    """One model's sweep, its frontier, its recommendation and its card's reported quality."""

    sweep: SweepResult
    frontier: tuple[PointResult, ...]
    recommendation: Recommendation
    reported: ReportedQuality | None


@dataclass(frozen=True)
class AdviseReport:
    """Everything ``advise`` found.

    Attributes:
        task: the task.
        energy: whether energy was measured (False: a latency/throughput-only frontier).
        max_latency_ms: the deadline asked for, or None.
        models: one :class:`ModelAdvice` per model.
        sentence: the one sentence to act on.
        created_at: when (RFC 3339, UTC).
    """

    task: str
    energy: bool
    max_latency_ms: float | None
    models: tuple[ModelAdvice, ...]
    sentence: str
    created_at: str

    @property
    def metric_label(self) -> str:
        """The first axis in words."""
        return "GPU Wh per 1000 queries" if self.energy else "ms per query (time; NO energy measured)"


def build_report(
    sweeps: Sequence[SweepResult],
    reported: Sequence[ReportedQuality | None] | None = None,
    max_latency_ms: float | None = None,
) -> AdviseReport:
    """Put sweeps together: frontier and recommendation per model, and the sentence."""
    from energy_badge.text import utc_now

    if not sweeps:
        raise ValueError("no sweep to report")
    energy = all(s.energy for s in sweeps)
    qualities = list(reported) if reported is not None else [None] * len(sweeps)
    models = tuple(
        ModelAdvice(s, tuple(frontier(s.points, energy)), recommend(s, max_latency_ms), q)
        for s, q in zip(sweeps, qualities, strict=True)
    )
    if len(models) == 1:
        sentence = models[0].recommendation.sentence
    else:
        sentence = _across_models(models, energy)
    if not energy:
        sentence = "Latency and throughput only (no energy measured): " + sentence
    return AdviseReport(sweeps[0].task, energy, max_latency_ms, models, sentence, utc_now())


def _across_models(models: Sequence[ModelAdvice], energy: bool) -> str:
    ranked = []
    for advice in models:
        point = advice.recommendation.point or advice.recommendation.canonical
        value = metric_of(point, energy)
        if value is not None:
            ranked.append((value, advice, point))
    ranked.sort(key=lambda item: item[0])
    (low, first, p1), (high, last, _) = ranked[0], ranked[-1]
    quality = first.reported.describe() if first.reported is not None else "quality not read"
    what = "energy" if energy else "time"
    return (
        f"{first.sweep.model} ({p1.label}) uses {high / low:.2g}× less {what} per query than "
        f"{last.sweep.model}; its card: {quality}."
    )


def _point_json(point: PointResult, energy: bool, on_frontier: bool, recommended: bool) -> dict[str, object]:
    s, e, q = point.setting, point.energy, point.quality
    return {
        "key": point.key,
        "label": point.label,
        "dtype": s.dtype,
        "batch_size": s.batch_size,
        "quantization": s.quantization,
        "attention": s.attention,
        "compile": s.compile,
        "transform": point.name,
        "status": point.status,
        "reason": point.reason,
        "energy_wh_per_1k": (
            {"mean": e.mean, "ci95_low": e.ci95_low, "ci95_high": e.ci95_high, "n": e.n}
            if e is not None
            else None
        ),
        "ms_per_query": 1000.0 * point.seconds_per_query if point.seconds_per_query is not None else None,
        "queries_per_s": point.queries_per_s,
        "latency_p50_ms": point.latency_p50_ms,
        "latency_p95_ms": point.latency_p95_ms,
        "peak_memory_mib": point.peak_memory_mib,
        "repetitions": point.repetitions,
        "quality": (
            {
                "measure": q.measure,
                "agreement": q.agreement,
                "threshold": q.threshold,
                "queries": q.queries,
                "passed": q.passed,
            }
            if q is not None
            else None
        ),
        "on_frontier": on_frontier,
        "recommended": recommended,
    }


def report_json(report: AdviseReport) -> dict[str, object]:
    """The report's JSON form, checked against its schema.

    Raises:
        InvalidFileError: the document breaks the schema (a bug; the message names the path).
    """
    from energy_badge import __version__
    from energy_badge.files import schema_errors

    models = []
    for advice in report.models:
        sweep, rec = advice.sweep, advice.recommendation
        keys = {p.key for p in advice.frontier}
        reported = advice.reported
        models.append(
            {
                "model": sweep.model,
                "parameters": sweep.parameters,
                "device": sweep.device,
                "hardware": sweep.hardware,
                "protocol": sweep.protocol,
                "canonical": rec.canonical.key,
                "points": [
                    _point_json(
                        p, report.energy, p.key in keys, rec.point is not None and p.key == rec.point.key
                    )
                    for p in sweep.points
                ],
                "frontier": [p.key for p in advice.frontier],
                "recommendation": {
                    "key": rec.point.key if rec.point is not None else None,
                    "factor": rec.factor,
                    "sentence": rec.sentence,
                },
                "reported_quality": (
                    {
                        "metrics": [
                            {"metric": m.metric, "value": m.value, "dataset": m.dataset}
                            for m in reported.metrics
                        ],
                        "note": reported.note,
                    }
                    if reported is not None
                    else None
                ),
            }
        )
    doc: dict[str, object] = {
        "report_version": REPORT_VERSION,
        "tool": {"name": "energy-badge", "version": __version__},
        "created_at": report.created_at,
        "task": report.task,
        "energy_measured": report.energy,
        "metric": "gpu_wh_per_1k_queries" if report.energy else "ms_per_query",
        "metric_label": report.metric_label,
        "max_latency_ms": report.max_latency_ms,
        "models": models,
        "sentence": report.sentence,
    }
    errors = schema_errors(doc, REPORT_SCHEMA)
    if errors:
        raise InvalidFileError("the advise report breaks its schema: " + "; ".join(errors[:5]))
    return doc


def write_report(report: AdviseReport, path: str | Path) -> Path:
    """Validate and write the JSON report (atomically)."""
    import json

    from energy_badge.files import write_atomic

    text = json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
    return write_atomic(path, text.encode("utf-8"))


def number_text(value: float | None) -> str:
    """3 significant digits, never in scientific notation below a million (1500, 41.2, 0.0123)."""
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    from energy_badge.text import format_energy

    return format_energy(value)


def point_row(point: PointResult, energy: bool, on_frontier: bool, recommended: bool) -> list[str]:
    """One table row: setting, first axis (with interval), p50, p95, throughput, memory, quality, mark."""
    value = metric_of(point, energy)
    if point.status != "measured":
        return [
            point.label,
            f"{point.status.replace('_', ' ')}: {point.reason or ''}",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    first = number_text(value)
    if (
        energy
        and point.energy is not None
        and point.energy.ci95_low is not None
        and point.energy.ci95_high is not None
    ):
        first += f" ({number_text(point.energy.ci95_low)}–{number_text(point.energy.ci95_high)})"
    quality = "reference" if point.quality is None else point.quality.describe().split(" (of")[0]
    if point.quality is not None and not point.quality.passed:
        quality += " ✗ below threshold"
    mark = "★ recommended" if recommended else ("frontier" if on_frontier else "")
    return [
        point.label,
        first,
        number_text(point.latency_p50_ms),
        number_text(point.latency_p95_ms),
        number_text(point.queries_per_s),
        number_text(point.peak_memory_mib) if point.peak_memory_mib is not None else "–",
        quality,
        mark,
    ]


def table_header(energy: bool) -> list[str]:
    """The table's column names."""
    first = "Wh/1k queries (95 % CI)" if energy else "ms/query (time, no energy)"
    return ["setting", first, "p50 ms", "p95 ms", "queries/s", "peak MiB", "quality", ""]


def report_markdown(report: AdviseReport, plot: str | None = None) -> str:
    """The report as Markdown (a GitHub job summary): the sentence, then one table per model."""
    from energy_badge.summary import md

    lines = [f"### energy-badge advise · {md(report.task)}", "", f"**{md(report.sentence)}**", ""]
    if not report.energy:
        lines += ["> Latency and throughput only: **no energy was measured** (`--no-energy`).", ""]
    for advice in report.models:
        sweep, rec = advice.sweep, advice.recommendation
        lines += [f"#### {md(sweep.model)} on {md(sweep.hardware)}", ""]
        if advice.reported is not None:
            lines += [f"Card: {md(advice.reported.describe())}", ""]
        header = table_header(report.energy)
        lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        keys = {p.key for p in advice.frontier}
        for p in sweep.points:
            row = point_row(p, report.energy, p.key in keys, rec.point is not None and p.key == rec.point.key)
            lines.append("| " + " | ".join(md(c) for c in row) + " |")
        lines += ["", f"_{md(sweep.protocol)}; latency per batch (a query waits for its whole batch)._", ""]
    if plot:
        axis = "energy per query" if report.energy else "time per query (no energy measured)"
        lines += [f"![{axis} vs p95 latency]({plot})", ""]
    return "\n".join(lines)
