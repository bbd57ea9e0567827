"""Stars for a result against a rating table (see :mod:`energy_badge.rating` for the rules)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from energy_badge.rating.codec import load_table
from energy_badge.rating.sizes import SIZE_CLASS_TASKS, billions, describe_size_class, size_class
from energy_badge.rating.tables import (
    UNIT,
    Method,
    Provenance,
    RatingTable,
    Status,
    TableEntry,
    entries_for,
    find_entry,
    table_source,
)
from energy_badge.result import EnergyResult
from energy_badge.stats import Stats

__all__ = ["Rating", "position", "rate", "result_size_class", "stars_for", "unmeasured_rating"]


@dataclass(frozen=True)
class Rating:
    """The stars of one result against one rating table.

    Attributes:
        stars: 1-5, or None when the result is unrated.
        unrated_reason: why there are no stars (None when rated).
        model_id, task, hardware_class, workload_version: what was rated.
        value: GPU energy in Wh per 1000 queries (the mean of the repetitions), or None.
        ci95_low, ci95_high: its 95 % confidence interval, or None.
        cut_points: the entry's four cut points, or None when no entry applies.
        band_low, band_high: the edges of the star band the value is in (None is an open end:
            5 stars has no lower edge, 1 star no upper edge).
        position: where the value sits on the table's scale, 0 at the population min and 1 at
            its max (see :func:`position`).
        stars_ci: (stars at ci95_high, stars at ci95_low): the rating's range over the interval;
            equal values mean the interval crosses no cut point.
        table_version, table_status, method: the table whose entry rated the result. Of the
            default (composite) table, that is the entry's own table (see
            :func:`~energy_badge.rating.tables.table_source`); when no entry applies, the table
            covering the result's task and hardware class, else the most preferred shipped table.
        unit: always ``"Wh per 1000 queries"``.
        size_class: the model's size class for tasks rated per size (text generation: A, B, C),
            else None.
    """

    stars: int | None
    unrated_reason: str | None
    model_id: str
    task: str
    hardware_class: str | None
    workload_version: str | None
    value: float | None
    ci95_low: float | None
    ci95_high: float | None
    cut_points: tuple[float, float, float, float] | None
    band_low: float | None
    band_high: float | None
    position: float | None
    stars_ci: tuple[int, int] | None
    table_version: str
    table_status: Status
    method: Method
    unit: str = UNIT
    size_class: str | None = None

    @property
    def rated(self) -> bool:
        """True when the result got stars."""
        return self.stars is not None

    def to_dict(self) -> dict[str, object]:
        """The JSON form ``rate --json`` prints (tuples as lists; an infinite position as null)."""
        position = self.position if self.position is not None and math.isfinite(self.position) else None
        return {
            "stars": self.stars,
            "unrated_reason": self.unrated_reason,
            "model_id": self.model_id,
            "task": self.task,
            "hardware_class": self.hardware_class,
            "workload_version": self.workload_version,
            "value": self.value,
            "ci95_low": self.ci95_low,
            "ci95_high": self.ci95_high,
            "cut_points": list(self.cut_points) if self.cut_points is not None else None,
            "band_low": self.band_low,
            "band_high": self.band_high,
            "position": position,
            "stars_ci": list(self.stars_ci) if self.stars_ci is not None else None,
            "table_version": self.table_version,
            "table_status": self.table_status,
            "method": self.method,
            "unit": self.unit,
            "size_class": self.size_class,
        }


def stars_for(value: float, cut_points: Sequence[float]) -> int:
    """Return the stars (1-5) of an energy value: below c1 is 5, at or above c4 is 1."""
    return 5 - bisect.bisect_right(list(cut_points), value)


def position(value: float, entry: TableEntry, method: Method) -> float:
    """Where ``value`` sits along the entry's scale: 0 at the population min, 1 at its max.

    The five star bands each take a fifth of the scale (band k, counted from the least energy,
    spans k/5 to (k+1)/5), and within a band the value is interpolated on the table's scale (log
    for ``log`` and ``quantile`` tables, linear for ``linear``). Values outside the population
    range extrapolate the outer bands, so they fall below 0 or above 1.
    """
    if value <= 0 and method != "linear":
        return -math.inf
    edges = [entry.population.min, *entry.cut_points, entry.population.max]
    band = min(max(bisect.bisect_right(edges, value) - 1, 0), 4)
    low, high = _scale(edges[band], method), _scale(edges[band + 1], method)
    return (band + (_scale(value, method) - low) / (high - low)) / 5


def result_size_class(result: EnergyResult) -> str | None:
    """The size class a result is rated in: only for tasks rated per size (text generation)."""
    if result.task not in SIZE_CLASS_TASKS:
        return None
    return size_class(result.parameters)


def rate(result: EnergyResult, table: RatingTable | None = None) -> Rating:
    """Rate a result against a table.

    Args:
        result: the result.
        table: a table (see :func:`~energy_badge.rating.tables.load_table`); None for the
            composite of the shipped tables.

    Returns:
        The :class:`Rating`, naming the table of the entry used. A non-canonical result (as the
        policy decides), one without GPU energy, or one whose task or hardware class has no entry
        is unrated, with the reason.
    """
    if table is None:
        table = load_table()
    group = entries_for(table, result.task, result.hardware_class)
    source = table_source(table, group[0] if group else None)
    energy = result.gpu_energy
    size = result_size_class(result)

    def unrated(reason: str) -> Rating:
        return _unrated(
            result.model_id,
            result.task,
            result.hardware_class,
            result.workload_version,
            energy,
            source,
            size,
            reason,
        )

    reason = _unrated_reason(result)
    if reason is not None:
        return unrated(reason)
    assert energy is not None  # _unrated_reason checked it
    entry = find_entry(table, result.task, result.hardware_class, result.workload_version, size)
    if entry is None:
        return unrated(_no_entry_reason(result, table, group))
    source = table_source(table, entry)
    cuts = entry.cut_points
    stars = stars_for(energy.mean, cuts)
    edges = (None, *cuts, None)
    band = 5 - stars
    stars_ci = None
    if energy.ci95_low is not None and energy.ci95_high is not None:
        stars_ci = (stars_for(energy.ci95_high, cuts), stars_for(energy.ci95_low, cuts))
    return Rating(
        stars=stars,
        unrated_reason=None,
        model_id=result.model_id,
        task=result.task,
        hardware_class=result.hardware_class,
        workload_version=result.workload_version,
        value=energy.mean,
        ci95_low=energy.ci95_low,
        ci95_high=energy.ci95_high,
        cut_points=cuts,
        band_low=edges[band],
        band_high=edges[band + 1],
        position=position(energy.mean, entry, source.method),
        stars_ci=stars_ci,
        table_version=source.table_version,
        table_status=source.status,
        method=source.method,
        size_class=size,
    )


def unmeasured_rating(model_id: str, task: str, table: RatingTable) -> Rating:
    """The rating of a model that has no result yet (the badge service's placeholder badge)."""
    return _unrated(model_id, task, None, None, None, table.provenance, None, "not measured yet")


def _unrated(
    model_id: str,
    task: str,
    hardware_class: str | None,
    workload_version: str | None,
    energy: Stats | None,
    source: Provenance,
    size: str | None,
    reason: str,
) -> Rating:
    return Rating(
        stars=None,
        unrated_reason=reason,
        model_id=model_id,
        task=task,
        hardware_class=hardware_class,
        workload_version=workload_version,
        value=energy.mean if energy is not None else None,
        ci95_low=energy.ci95_low if energy is not None else None,
        ci95_high=energy.ci95_high if energy is not None else None,
        cut_points=None,
        band_low=None,
        band_high=None,
        position=None,
        stars_ci=None,
        table_version=source.table_version,
        table_status=source.status,
        method=source.method,
        size_class=size,
    )


# --------------------------------------------------------------------------------------------
# Why a result is unrated


def _scale(value: float, method: Method) -> float:
    return math.log(value) if method != "linear" else value


def _unrated_reason(result: EnergyResult) -> str | None:
    from energy_badge.policy import canonical_reasons

    reasons = canonical_reasons(result)
    if reasons:
        return f"not from the canonical workload ({'; '.join(reasons)}); only canonical results are rated"
    energy = result.gpu_energy
    if energy is None:  # pragma: no cover - the policy calls such a result non-canonical
        return "GPU energy was not measured"
    if not math.isfinite(energy.mean) or energy.mean <= 0:
        return f"GPU energy {energy.mean} Wh per 1000 queries is not a positive number"
    from energy_badge.run.reasoning import REASONING_CLASS_REASON, is_reasoning

    if is_reasoning(result.workload.reasoning):
        return REASONING_CLASS_REASON
    if not result.hardware_class:
        gpu = result.gpu_name or "no GPU recorded"
        return f"the GPU ({gpu}) belongs to no hardware class that rating tables cover"
    return None


def _no_entry_reason(result: EnergyResult, table: RatingTable, group: list[TableEntry]) -> str:
    sources = table.composed_from
    if len(sources) > 1:
        versions = ", ".join(s.table_version for s in sources)
        tables, has, it = f"the shipped rating tables ({versions})", "have", "they cover"
    else:
        tables, has, it = f"rating table {table.table_version}", "has", "it covers"
    hardware = sorted({e.hardware_class for e in table.entries if e.task == result.task})
    if not hardware:
        tasks = ", ".join(sorted({e.task for e in table.entries}))
        return f"{tables} {has} no entry for task {result.task} ({it}: {tasks})"
    if not group:
        return (
            f"{tables} {has} no entry for {result.task} on {result.hardware_class} "
            f"({it} {result.task} on: {', '.join(hardware)}); a result is rated only against cut "
            "points for its own GPU class, since the same work takes different energy on "
            "different GPUs"
        )
    # The task and hardware class are covered, by one table (of a composite: the preferred one).
    version = table_source(table, group[0]).table_version
    alone = (
        f" (of the shipped tables, only this one is used for {result.task} on {result.hardware_class})"
        if len(sources) > 1
        else ""
    )
    candidates = [e for e in group if e.workload_version in (None, result.workload_version)]
    if not candidates:
        return (
            f"rating table {version} has no entry for {result.task} on {result.hardware_class} "
            f"with workload version {result.workload_version}{alone}"
        )
    # Every candidate is for another size class (text generation is rated per size class).
    covered = ", ".join(describe_size_class(s) for s in sorted({str(e.size_class) for e in candidates}))
    where = f"{result.task} on {result.hardware_class}"
    parameters = result.parameters
    if parameters <= 0:  # pragma: no cover - the schema requires at least 1
        return (
            f"rating table {version} rates {where} only for {covered}, "
            f"and the result does not give the model's parameter count{alone}"
        )
    return (
        f"rating table {version} has no entry for {where} in "
        f"{describe_size_class(str(result_size_class(result)))}: this model has "
        f"{billions(parameters)} parameters, and the table covers only {covered}{alone}"
    )
