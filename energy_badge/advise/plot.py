"""The advise plot: energy (or time) per query against p95 latency, the frontier drawn through.

matplotlib is imported here only, with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path

from energy_badge.advise.frontier import metric_of
from energy_badge.advise.report import AdviseReport
from energy_badge.advise.sweep import PointResult

__all__ = ["write_plot"]


def _xy(points: list[PointResult], energy: bool) -> tuple[list[float], list[float]]:
    """The points' p95 latencies and first-axis values (points missing either are left out)."""
    pairs = [(p.latency_p95_ms, metric_of(p, energy)) for p in points]
    kept = [(x, y) for x, y in pairs if x is not None and y is not None]
    return [x for x, _ in kept], [y for _, y in kept]


_COLOURS = ("#1b7837", "#2166ac", "#b2182b", "#762a83", "#e08214", "#4d4d4d")


def write_plot(report: AdviseReport, path: str | Path) -> Path:
    """Draw the report's measured points and frontiers into a PNG.

    Each model has its colour; frontier points are joined by a line; the recommended point is a
    star; points that failed the quality guard are grey crosses (shown, never recommended); the
    canonical setting is ringed. Both axes are logarithmic.

    Args:
        report: the report.
        path: the PNG to write.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    energy = report.energy
    for i, advice in enumerate(report.models):
        colour = _COLOURS[i % len(_COLOURS)]
        name = advice.sweep.model if len(report.models) > 1 else "settings"
        rec = advice.recommendation
        passing = [p for p in advice.sweep.points if p.status == "measured" and p.quality_ok]
        failing = [p for p in advice.sweep.points if p.status == "measured" and not p.quality_ok]
        ax.scatter(
            *_xy(passing, energy),
            color=colour,
            alpha=0.6,
            label=f"{name} (measured)",
        )
        if failing:
            ax.scatter(
                *_xy(failing, energy),
                marker="x",
                color="#999999",
                label="failed the quality guard (never recommended)",
            )
        front = sorted(advice.frontier, key=lambda p: p.latency_p95_ms or 0.0)
        ax.plot(
            *_xy(front, energy),
            color=colour,
            linewidth=1.5,
            label=f"{name}: Pareto frontier",
        )
        base = rec.canonical
        ax.scatter(
            *_xy([base], energy),
            s=160,
            facecolors="none",
            edgecolors=colour,
            linewidths=1.5,
            label=f"{name}: canonical ({base.setting.describe()})",
        )
        if rec.point is not None:
            ax.scatter(
                *_xy([rec.point], energy),
                marker="*",
                s=260,
                color=colour,
                edgecolors="black",
                label=f"{name}: recommended ({rec.point.label})",
                zorder=5,
            )
        for p in passing + failing:
            ax.annotate(
                p.setting.key + (f"+{p.name}" if p.name else ""),
                (p.latency_p95_ms or 0.0, metric_of(p, energy) or 0.0),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
                color="#333333",
            )
    if report.max_latency_ms is not None:
        ax.axvline(
            report.max_latency_ms,
            color="#b2182b",
            linestyle="--",
            label=f"--max-latency {report.max_latency_ms:g} ms",
        )
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(plain)
    ax.set_xlabel("p95 latency per batch (ms)")
    ax.set_ylabel("GPU energy, Wh per 1000 queries" if energy else "time per query (ms): NO energy measured")
    title = f"energy-badge advise · {report.task}"
    if not energy:
        title += " · latency/throughput only (no energy)"
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    plt.close(fig)
    return out
