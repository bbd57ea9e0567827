"""Rating tables: their typed form, the rules a table must keep, and finding an entry.

The rules a schema cannot say (:func:`rule_errors`): cut points strictly ascending and inside the
population's range, one entry per (task, hardware class, workload version, size class), a size
class only on a task rated per size, ``model_ids`` as many as ``n``, and on a composite, every
entry's provenance names a listed table and each (task, hardware class) comes from one table.
The JSON form is read and written by :mod:`energy_badge.rating.codec`; the composite of the
shipped tables is built by :mod:`energy_badge.rating.compose`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from energy_badge.rating.sizes import SIZE_CLASS_TASKS

__all__ = [
    "TABLE_SCHEMA",
    "TABLE_SCHEMA_VERSION",
    "UNIT",
    "ComposedFrom",
    "ExcludedResult",
    "Method",
    "Population",
    "Provenance",
    "RatingTable",
    "SkippedGroup",
    "Status",
    "TableEntry",
    "entries_for",
    "find_entry",
    "rule_errors",
    "table_source",
]

UNIT = "Wh per 1000 queries"
TABLE_SCHEMA = "rating-table.schema.json"
TABLE_SCHEMA_VERSION = "1.0"
Method = Literal["log", "linear", "quantile"]
Status = Literal["provisional", "measured"]


@dataclass(frozen=True)
class Provenance:
    """Which table an entry (or a rating) comes from: its version, status and method."""

    table_version: str
    status: Status
    method: Method


@dataclass(frozen=True)
class Population:
    """What an entry's cut points split: ``n`` results (0 for a provisional table), their energy
    range, and the model ids when calibrated."""

    n: int
    min: float
    max: float
    model_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableEntry:
    """The four cut points of one task on one hardware class.

    Attributes:
        task, hardware_class: what the entry rates.
        cut_points: four strictly ascending energies (Wh per 1000 queries).
        population: what they split.
        workload_version: when set, only results of this workload version are rated by it.
        size_class: when set (text generation), only models of this size class.
        note: a remark in words.
        provenance: on a composite's entries, the table the entry comes from; else None.
    """

    task: str
    hardware_class: str
    cut_points: tuple[float, float, float, float]
    population: Population
    workload_version: str | None = None
    size_class: str | None = None
    note: str | None = None
    provenance: Provenance | None = None


@dataclass(frozen=True)
class ComposedFrom:
    """A table a composite takes entries from (most preferred first)."""

    table_version: str
    status: Status
    method: Method
    created: str
    file: str | None = None

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.table_version, self.status, self.method)


@dataclass(frozen=True)
class ExcludedResult:
    """A result ``calibrate`` was offered and left out, with the reason."""

    model_id: str
    reason: str
    task: str | None = None
    hardware_class: str | None = None


@dataclass(frozen=True)
class SkippedGroup:
    """A (task, hardware class, ...) group ``calibrate`` could not table, with the reason."""

    task: str
    hardware_class: str
    count: int
    reason: str
    workload_version: str | None = None
    size_class: str | None = None


@dataclass(frozen=True)
class RatingTable:
    """A rating table (one shipped file, a calibrated table, or the composite of the shipped ones).

    Attributes:
        table_version: the version cards quote.
        created: its date (YYYY-MM-DD).
        status: ``provisional`` or ``measured``.
        source: where the numbers come from, in words.
        method: how the cut points split the population (``log``, ``linear``, ``quantile``).
        entries: the entries.
        tool_version: the energy-badge version that wrote it (calibrated tables).
        composed_from: on the composite, the tables its entries come from; else empty.
        excluded_results, skipped_groups: what calibration left out, and why.
        unit, schema_version: fixed.
    """

    table_version: str
    created: str
    status: Status
    source: str
    method: Method
    entries: tuple[TableEntry, ...]
    tool_version: str | None = None
    composed_from: tuple[ComposedFrom, ...] = ()
    excluded_results: tuple[ExcludedResult, ...] = ()
    skipped_groups: tuple[SkippedGroup, ...] = ()
    unit: str = UNIT
    schema_version: str = TABLE_SCHEMA_VERSION

    @property
    def provenance(self) -> Provenance:
        """The table's own provenance; of a composite, its most preferred table's."""
        if self.composed_from:
            return self.composed_from[0].provenance
        return Provenance(self.table_version, self.status, self.method)


# --------------------------------------------------------------------------------------------
# Finding an entry


def table_source(table: RatingTable, entry: TableEntry | None = None) -> Provenance:
    """The table an entry comes from: its own provenance on a composite, else the table's
    (on a composite, with ``entry=None``: the most preferred table's)."""
    if entry is not None and entry.provenance is not None:
        return entry.provenance
    return table.provenance


def find_entry(
    table: RatingTable,
    task: str,
    hardware_class: str | None,
    workload_version: str | None = None,
    size_class: str | None = None,
) -> TableEntry | None:
    """Return the table entry for a task and hardware class, or None.

    An entry pinned to a workload version matches only that version and is preferred over an
    unpinned entry for the same task and hardware class. Likewise an entry with a ``size_class``
    matches only that size class (``size_class=None``: a model of unknown size, or a task not rated
    per size, matches no such entry) and is preferred over an entry without one. The workload pin
    weighs more than the size class.
    """
    best, best_rank = None, -1
    for entry in entries_for(table, task, hardware_class):
        pinned, sized = entry.workload_version, entry.size_class
        if (pinned is not None and pinned != workload_version) or (sized is not None and sized != size_class):
            continue
        rank = 2 * (pinned is not None) + (sized is not None)
        if rank > best_rank:
            best, best_rank = entry, rank
    return best


def entries_for(table: RatingTable, task: str, hardware_class: str | None) -> list[TableEntry]:
    """The entries of one task on one hardware class."""
    return [e for e in table.entries if e.task == task and e.hardware_class == hardware_class]


# --------------------------------------------------------------------------------------------
# Rules


def rule_errors(table: RatingTable) -> list[str]:
    """Every way ``table`` breaks the rules a schema cannot say, each with its JSON path."""
    errors: list[str] = []
    seen: dict[tuple[str, str, str | None, str | None], int] = {}
    for i, entry in enumerate(table.entries):
        path = f"$.entries[{i}]"
        cuts, pop = list(entry.cut_points), entry.population
        if any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
            errors.append(f"{path}.cut_points: must be strictly ascending, got {cuts}")
        if pop.min >= pop.max:
            errors.append(f"{path}.population: min {pop.min} must be below max {pop.max}")
        elif cuts[0] < pop.min or cuts[-1] > pop.max:
            errors.append(f"{path}.cut_points: must lie within the population range [{pop.min}, {pop.max}]")
        if pop.model_ids is not None and len(pop.model_ids) != pop.n:
            errors.append(f"{path}.population.model_ids: {len(pop.model_ids)} ids for n = {pop.n}")
        if entry.size_class is not None and entry.task not in SIZE_CLASS_TASKS:
            errors.append(
                f"{path}.size_class: only {', '.join(sorted(SIZE_CLASS_TASKS))} is rated per size class, "
                f"not {entry.task}"
            )
        key = (entry.task, entry.hardware_class, entry.workload_version, entry.size_class)
        if key in seen:
            errors.append(f"{path}: duplicates $.entries[{seen[key]}] ({_describe_key(key)})")
        else:
            seen[key] = i
    if table.composed_from:
        errors += _composite_errors(table)
    return errors


def _composite_errors(table: RatingTable) -> list[str]:
    sources = {c.table_version: c for c in table.composed_from}
    errors = []
    if len(sources) != len(table.composed_from):
        errors.append("$.composed_from: a table version is listed twice")
    pair_source: dict[tuple[str, str], tuple[str, int]] = {}
    for i, entry in enumerate(table.entries):
        path = f"$.entries[{i}]"
        p = entry.provenance
        missing = [k for k in ("table_version", "status", "method") if p is None or not getattr(p, k)]
        if p is None or missing:
            errors.append(f"{path}: an entry of a composite table needs {', '.join(missing)}")
            continue
        listed = sources.get(p.table_version)
        if listed is None:
            errors.append(f"{path}.table_version: {p.table_version} is not in $.composed_from")
            continue
        for k in ("status", "method"):
            if getattr(p, k) != getattr(listed, k):
                errors.append(
                    f"{path}.{k}: {getattr(p, k)}, but table {listed.table_version} is {getattr(listed, k)}"
                )
        pair = (entry.task, entry.hardware_class)
        first = pair_source.setdefault(pair, (p.table_version, i))
        if first[0] != p.table_version:
            errors.append(
                f"{path}.table_version: {pair[0]} on {pair[1]} comes from table {first[0]} "
                f"($.entries[{first[1]}]), not also from {p.table_version}"
            )
    return errors


def _describe_key(key: tuple[str, str, str | None, str | None]) -> str:
    task, hardware, workload, size = key
    return (
        f"{task} on {hardware}"
        + (f", workload {workload}" if workload else "")
        + (f", size class {size}" if size else "")
    )
