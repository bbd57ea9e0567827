"""Calibration: a new rating table from a population of results.

The default method cuts [population min, max] into five equal bands on a *log* scale: energies
within a task span orders of magnitude, and equal bands on a linear scale (the AI Energy Score's
method) put nearly every model in the lowest band. ``linear`` and ``quantile`` (the 20, 40, 60 and
80 % quantiles) are also offered.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Sequence

from energy_badge.errors import InputError, UsageError
from energy_badge.rating.codec import decode_table, encode_table
from energy_badge.rating.sizes import SIZE_CLASS_TASKS
from energy_badge.rating.stars import result_size_class
from energy_badge.rating.tables import (
    UNIT,
    ExcludedResult,
    Method,
    Population,
    RatingTable,
    SkippedGroup,
    TableEntry,
)
from energy_badge.result import EnergyResult
from energy_badge.stats import percentile
from energy_badge.text import parse_time

__all__ = ["DEFAULT_METHOD", "METHODS", "MIN_POPULATION", "QUANTILES", "calibrate", "cut_points"]

METHODS: tuple[Method, ...] = ("log", "linear", "quantile")
DEFAULT_METHOD: Method = "log"
MIN_POPULATION = 10
QUANTILES = (0.2, 0.4, 0.6, 0.8)

_Key = tuple[str, str, str, "str | None"]


def cut_points(values: Sequence[float], method: str = DEFAULT_METHOD) -> tuple[float, float, float, float]:
    """Compute four cut points from a population of energies.

    Args:
        values: energies (Wh per 1000 queries), all positive, at least two distinct.
        method: ``log`` (equal bands on a log scale between min and max), ``linear`` (equal
            bands on a linear scale) or ``quantile`` (20/40/60/80 % quantiles, linear
            interpolation between order statistics).

    Returns:
        Four cut points, rounded to 4 significant digits.

    Raises:
        UsageError: unknown method.
        ValueError: fewer than two distinct values, a non-positive value, or (quantile) ties that
            make two cut points equal.
    """
    if method not in METHODS:
        raise UsageError(f"unknown rating method {method!r}; choose one of {', '.join(METHODS)}")
    data = sorted(float(v) for v in values)
    if not data or data[0] <= 0 or not all(math.isfinite(v) for v in data):
        raise ValueError("energies must be positive finite numbers")
    low, high = data[0], data[-1]
    if low == high:
        raise ValueError(f"all {len(data)} results have the same energy ({low}); there is nothing to split")
    if method == "log":
        span = math.log(high) - math.log(low)
        cuts = [math.exp(math.log(low) + span * k / 5) for k in range(1, 5)]
    elif method == "linear":
        cuts = [low + (high - low) * k / 5 for k in range(1, 5)]
    else:
        cuts = [percentile(data, 100 * q) for q in QUANTILES]
    rounded = [float(f"{c:.4g}") for c in cuts]
    if not (low <= rounded[0] and rounded[-1] <= high):
        rounded = cuts
    if any(b <= a for a, b in zip(rounded, rounded[1:], strict=False)):
        raise ValueError(f"tied energies give cut points that are not distinct: {rounded}")
    return (rounded[0], rounded[1], rounded[2], rounded[3])


def calibrate(
    results: Iterable[EnergyResult],
    method: str = DEFAULT_METHOD,
    *,
    version: str | None = None,
    created: str | None = None,
    allow_random_weights: bool = False,
) -> RatingTable:
    """Build a rating table from a population of results.

    Results are grouped by (task, hardware class, workload version), and text generation also by
    size class (A, B, C), each group giving one entry. Non-canonical results (as the policy
    decides), results without GPU energy or hardware class (or, for text generation, without a
    parameter count), and older duplicates of a model already in its group are excluded (listed
    with the reason under ``excluded_results``). A group with fewer than 10 results
    (``MIN_POPULATION``) is skipped (listed under ``skipped_groups``); if no group qualifies,
    nothing is tabled.

    Args:
        results: the population.
        method: ``log`` (default), ``linear`` or ``quantile``.
        version: the table version; default ``<date>-<method>``.
        created: the date (YYYY-MM-DD); default today (UTC).
        allow_random_weights: also take results that are canonical but for their random weights
            (a calibration campaign measuring real architectures without their weights); the
            table's ``source`` says so.

    Returns:
        The table, status ``measured``.

    Raises:
        UsageError: unknown method.
        InputError: no group has enough results; the message names each task, hardware class
            and count.
    """
    from energy_badge import __version__

    if method not in METHODS:
        raise UsageError(f"unknown rating method {method!r}; choose one of {', '.join(METHODS)}")
    created = created or _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    version = version or f"{created.replace('-', '.')}-{method}"
    excluded: list[ExcludedResult] = []
    groups: dict[_Key, dict[str, EnergyResult]] = {}
    offered = 0
    for result in results:
        offered += 1
        reason = _exclusion(result, allow_random_weights)
        if reason is not None:
            excluded.append(_excluded(result, reason))
            continue
        hardware = str(result.hardware_class)
        key = (result.task, hardware, result.workload_version, result_size_class(result))
        members = groups.setdefault(key, {})
        previous = members.get(result.model_id)
        if previous is None:
            members[result.model_id] = result
            continue
        newer, older = (result, previous) if _when(result) > _when(previous) else (previous, result)
        members[result.model_id] = newer
        excluded.append(
            _excluded(older, f"an older result of the same model (newer one from {newer.created_at})")
        )
    if offered == 0:
        raise InputError("cannot calibrate: no results given")

    entries: list[TableEntry] = []
    skipped: list[SkippedGroup] = []
    for (task, hardware, workload, size), members in sorted(
        groups.items(), key=lambda item: tuple(part or "" for part in item[0])
    ):
        if len(members) < MIN_POPULATION:
            reason = f"{len(members)} canonical results, at least {MIN_POPULATION} are needed"
            skipped.append(SkippedGroup(task, hardware, len(members), reason, workload, size))
            continue
        values = [r.gpu_energy.mean for r in members.values() if r.gpu_energy is not None]
        try:
            cuts = cut_points(values, method)
        except ValueError as err:
            skipped.append(SkippedGroup(task, hardware, len(members), str(err), workload, size))
            continue
        entries.append(
            TableEntry(
                task=task,
                hardware_class=hardware,
                workload_version=workload,
                size_class=size,
                cut_points=cuts,
                population=Population(len(values), min(values), max(values), tuple(sorted(members))),
            )
        )
    if not entries:
        details = "; ".join(f"{_group_name(g)}: {g.reason}" for g in skipped)
        if not details:
            details = f"none of the {offered} results can be used ({excluded[0].reason}, ...)"
        raise InputError(f"cannot calibrate: no task and hardware group qualifies ({details})")
    n_used = sum(e.population.n for e in entries)
    tabled = {(e.task, e.hardware_class, e.workload_version, e.size_class) for e in entries}
    random = sum(
        r.random_weights for key, members in groups.items() if key in tabled for r in members.values()
    )
    table = RatingTable(
        table_version=version,
        created=created,
        status="measured",
        source=(
            f"Calibrated by energy-badge {__version__} from {n_used} results "
            f"(GPU energy, {UNIT}) in {len(entries)} task and hardware group(s), method {method}"
            + (
                f"; {random} of them measured real architectures with random weights (canonical "
                "but for the weights), the rest canonical"
                if random
                else ", all canonical"
            )
            + (f"; {len(skipped)} group(s) skipped" if skipped else "")
            + (f"; {len(excluded)} result(s) excluded" if excluded else "")
            + "."
        ),
        method=method,
        tool_version=__version__,
        entries=tuple(entries),
        excluded_results=tuple(excluded),
        skipped_groups=tuple(skipped),
    )
    return decode_table(encode_table(table), source="calibrated table")


def _exclusion(result: EnergyResult, allow_random_weights: bool) -> str | None:
    from energy_badge.policy import departures

    found = [d for d in departures(result) if not (allow_random_weights and d.code == "random_weights")]
    if found:
        return f"not from the canonical workload ({'; '.join(d.reason for d in found)})"
    energy = result.gpu_energy
    if energy is None:  # pragma: no cover - the policy calls such a result non-canonical
        return "GPU energy was not measured"
    if not math.isfinite(energy.mean) or energy.mean <= 0:
        return f"GPU energy {energy.mean} is not a positive number"
    if not result.hardware_class:
        return f"the GPU ({result.gpu_name or 'none recorded'}) has no hardware class"
    from energy_badge.run.reasoning import REASONING_CLASS_REASON, is_reasoning

    if is_reasoning(result.workload.reasoning):
        return REASONING_CLASS_REASON
    if result.task in SIZE_CLASS_TASKS and result_size_class(result) is None:  # pragma: no cover
        return f"{result.task} is grouped by model size, and the result gives no parameter count"
    return None


def _when(result: EnergyResult) -> _dt.datetime:
    """When a result was made, as a UTC time (``created_at`` strings do not sort as times)."""
    return parse_time(result.created_at) or _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)


def _group_name(group: SkippedGroup) -> str:
    name = f"{group.task} on {group.hardware_class}"
    return name + (f" (size class {group.size_class})" if group.size_class else "")


def _excluded(result: EnergyResult, reason: str) -> ExcludedResult:
    return ExcludedResult(result.model_id, reason, result.task, result.hardware_class)
