"""Right-sizing: which setting, and which model, does the job with the least energy.

``energy-badge advise MODEL --task TASK`` sweeps the settings a deployer controls (batch size,
dtype, torchao weight quantization, attention implementation, ``torch.compile``), measures each
with the badge's meter on a shorter protocol, guards the answers against the canonical setting's,
and reports the Pareto frontier of energy per query against p95 latency, a plot, a JSON report
(``schemas/advise-report.schema.json``) and one sentence to act on.

::

    sweep = run_sweep("org/model", "text-classification", AdviseOptions(grid=parse_grid("dtype=fp32,bf16")))
    report = build_report([sweep], max_latency_ms=50)
    write_report(report, "advise.json"); write_plot(report, "advise.png")

Modules: :mod:`~energy_badge.advise.settings` (the axes, ``--grid``, ``--budget``, what the device
can run), :mod:`~energy_badge.advise.sweep` (the plan and the measurements),
:mod:`~energy_badge.advise.quality` (the guard), :mod:`~energy_badge.advise.frontier` (frontier
and recommendation), :mod:`~energy_badge.advise.quality_card` (a card's reported quality),
:mod:`~energy_badge.advise.report` (JSON and Markdown), :mod:`~energy_badge.advise.plot` (PNG).
"""

from energy_badge.advise.frontier import Recommendation, frontier, recommend
from energy_badge.advise.quality import QUALITY_MEASURES, QualityCheck, compare_outputs
from energy_badge.advise.quality_card import (
    ReportedMetric,
    ReportedQuality,
    parse_model_index,
    reported_quality,
)
from energy_badge.advise.report import (
    REPORT_SCHEMA,
    AdviseReport,
    ModelAdvice,
    build_report,
    report_json,
    report_markdown,
    write_report,
)
from energy_badge.advise.settings import (
    Grid,
    Setting,
    canonical_setting,
    parse_budget,
    parse_grid,
    skip_reason,
)
from energy_badge.advise.sweep import ADVISE_PROTOCOL, AdviseOptions, PointResult, SweepResult, run_sweep

__all__ = [
    "ADVISE_PROTOCOL",
    "QUALITY_MEASURES",
    "REPORT_SCHEMA",
    "AdviseOptions",
    "AdviseReport",
    "Grid",
    "ModelAdvice",
    "PointResult",
    "QualityCheck",
    "Recommendation",
    "ReportedMetric",
    "ReportedQuality",
    "Setting",
    "SweepResult",
    "build_report",
    "canonical_setting",
    "compare_outputs",
    "frontier",
    "parse_budget",
    "parse_grid",
    "parse_model_index",
    "recommend",
    "report_json",
    "report_markdown",
    "reported_quality",
    "run_sweep",
    "skip_reason",
    "write_report",
]
