"""Rating tables: their typed form, their codec, and the composite of the shipped tables.

A table's JSON form (``schemas/rating-table.schema.json``) is read and written only here
(:func:`decode_table`, :func:`encode_table`, :func:`load_table`, :func:`write_table`); every other
module works on :class:`RatingTable`. The rules a schema cannot say are checked on the way in
(:func:`table_errors`): cut points strictly ascending and inside the population's range, one entry
per (task, hardware class, workload version, size class), a size class only on a task rated per
size, ``model_ids`` as many as ``n``, and on a composite, every entry's provenance names a listed
table and each (task, hardware class) comes from one table.

The composite rule (:func:`compose_tables`) is described in :mod:`energy_badge.rating`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from energy_badge.errors import InvalidFileError
from energy_badge.files import read_json, schema_errors, write_atomic
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
    "compose_tables",
    "decode_table",
    "encode_table",
    "find_entry",
    "load_table",
    "shipped_tables",
    "table_errors",
    "table_rank",
    "table_source",
    "write_table",
]

UNIT = "Wh per 1000 queries"
TABLE_SCHEMA = "rating-table.schema.json"
TABLE_SCHEMA_VERSION = "1.0"
Method = Literal["log", "linear", "quantile"]
Status = Literal["provisional", "measured"]
_STATUS_RANK = {"provisional": 0, "measured": 1}


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
# Codec


def table_errors(data: object) -> list[str]:
    """Check a table's JSON form against its schema and the rules a schema cannot say.

    Args:
        data: the parsed JSON document.

    Returns:
        One ``"<json path>: <message>"`` string per problem; empty when the table is valid.
    """
    errors = schema_errors(data, TABLE_SCHEMA)
    if errors:
        return errors
    assert isinstance(data, dict)
    return _rule_errors(_table(data))


def decode_table(data: object, *, source: str = "rating table") -> RatingTable:
    """Build a table from its JSON form, checking it.

    Raises:
        InvalidFileError: naming the JSON path of the first problem; ``errors`` lists all.
    """
    errors = table_errors(data)
    if errors:
        raise InvalidFileError(f"{source} is not a valid rating table: {errors[0]}", errors)
    assert isinstance(data, dict)
    return _table(data)


def encode_table(table: RatingTable) -> dict[str, object]:
    """The JSON form of a table, in the file's key order."""
    data: dict[str, object] = {
        "schema_version": table.schema_version,
        "table_version": table.table_version,
        "created": table.created,
        "status": table.status,
        "source": table.source,
        "method": table.method,
        "unit": table.unit,
    }
    if table.tool_version is not None:
        data["tool_version"] = table.tool_version
    data["entries"] = [_encode_entry(e) for e in table.entries]
    if table.excluded_results:
        data["excluded_results"] = [
            _without_none(
                {
                    "model_id": x.model_id,
                    "task": x.task,
                    "hardware_class": x.hardware_class,
                    "reason": x.reason,
                },
                keep=("hardware_class",),
            )
            for x in table.excluded_results
        ]
    if table.skipped_groups:
        data["skipped_groups"] = [
            _without_none(
                {
                    "task": g.task,
                    "hardware_class": g.hardware_class,
                    "workload_version": g.workload_version,
                    "size_class": g.size_class,
                    "count": g.count,
                    "reason": g.reason,
                }
            )
            for g in table.skipped_groups
        ]
    if table.composed_from:
        data["composed_from"] = [
            _without_none(
                {
                    "table_version": c.table_version,
                    "status": c.status,
                    "method": c.method,
                    "created": c.created,
                    "file": c.file,
                }
            )
            for c in table.composed_from
        ]
    return data


def load_table(path: str | os.PathLike[str] | None = None) -> RatingTable:
    """Read and check a rating table.

    Args:
        path: a table file, used alone and as it is; None for the composite of all the shipped
            tables (:func:`compose_tables`).

    Returns:
        The table.

    Raises:
        InvalidFileError: the file is missing, not JSON, or not a valid table (the message names
            the JSON path); with None, also no table shipped or two shipped with one version.
    """
    if path is None:
        paths = shipped_tables()
        if not paths:
            raise InvalidFileError("no rating table is shipped with energy-badge")
        return compose_tables([load_table(p) for p in paths], files=[Path(p).name for p in paths])
    return decode_table(read_json(path), source=str(path))


def write_table(table: RatingTable, path: str | os.PathLike[str]) -> Path:
    """Check a table, then write it as indented JSON (atomically).

    Raises:
        InvalidFileError: the table is not valid; nothing is written.
    """
    data = encode_table(table)
    decode_table(data, source="the table to write")
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return Path(path)


def shipped_tables() -> list[Path]:
    """Return the paths of the rating tables shipped in the package, sorted by file name."""
    folder = resources.files("energy_badge").joinpath("data").joinpath("rating_tables")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".json"))


# --------------------------------------------------------------------------------------------
# Composite


def table_rank(table: RatingTable) -> tuple[int, str, tuple[tuple[int, int, str], ...], str]:
    """The sort key of a table's preference: ``measured`` over ``provisional``, then the later
    ``created``, then the higher ``table_version`` (numbers compared as numbers)."""
    version = table.table_version
    return (_STATUS_RANK[table.status], table.created, _version_key(version), version)


def compose_tables(
    tables: Sequence[RatingTable], *, files: Sequence[str | None] | None = None
) -> RatingTable:
    """Combine valid tables into one: per (task, hardware class), the entries of the best table.

    For each (task, hardware class) pair, every entry comes from the highest-ranked table
    (:func:`table_rank`) that has any entry for the pair. Each entry gets its table's provenance;
    ``composed_from`` lists the tables that gave entries, best first. The top-level
    ``table_version``, ``created`` and ``method`` are the best table's; ``status`` is ``measured``
    only when every entry is.

    Args:
        tables: the tables.
        files: their file names, in the same order (recorded in ``composed_from``).

    Returns:
        The composite.

    Raises:
        InvalidFileError: no table, or two tables with the same ``table_version``.
    """
    if not tables:
        raise InvalidFileError("no rating table to compose")
    names: list[str | None] = list(files) if files is not None else [None] * len(tables)
    by_version: dict[str, str | None] = {}
    for table, name in zip(tables, names, strict=True):
        version = table.table_version
        if version in by_version:
            where = " and ".join(n for n in (by_version[version], name) if n) or "two tables"
            raise InvalidFileError(
                f"rating tables {where} have the same table_version {version}; "
                "a rating names its table by version, so each table needs its own"
            )
        by_version[version] = name
    ranked = sorted(zip(tables, names, strict=True), key=lambda item: table_rank(item[0]), reverse=True)
    owner: dict[tuple[str, str], str] = {}
    for table, _ in ranked:
        for entry in table.entries:
            owner.setdefault((entry.task, entry.hardware_class), table.table_version)
    entries: list[TableEntry] = []
    used: list[tuple[RatingTable, ComposedFrom]] = []
    for table, name in ranked:
        mine = [e for e in table.entries if owner[(e.task, e.hardware_class)] == table.table_version]
        if not mine:
            continue
        provenance = Provenance(table.table_version, table.status, table.method)
        entries += [replace(e, provenance=provenance) for e in mine]
        used.append(
            (table, ComposedFrom(table.table_version, table.status, table.method, table.created, name))
        )
    best = used[0][1]
    if len(used) == 1:
        source = used[0][0].source
    else:
        described = ", ".join(f"{c.table_version} ({c.status})" for _, c in used)
        source = (
            f"Combined from the shipped rating tables {described}: each task and hardware class is "
            "rated by the one most preferred table that covers it (measured over provisional, then "
            "newer, then higher version), and each entry names its table. "
            + " ".join(f"Table {t.table_version}: {t.source}" for t, _ in used)
        )
    composite = RatingTable(
        table_version=best.table_version,
        created=best.created,
        status="measured" if all(c.status == "measured" for _, c in used) else "provisional",
        source=source,
        method=best.method,
        entries=tuple(entries),
        composed_from=tuple(c for _, c in used),
    )
    errors = _rule_errors(composite)
    if errors:  # pragma: no cover - valid tables compose into a valid composite
        raise InvalidFileError(
            f"the composite of the shipped rating tables is not valid: {errors[0]}", errors
        )
    return composite


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
# Helpers

_Doc = Mapping[str, Any]


def _table(d: _Doc) -> RatingTable:
    return RatingTable(
        schema_version=d["schema_version"],
        table_version=d["table_version"],
        created=d["created"],
        status=d["status"],
        source=d["source"],
        method=d["method"],
        unit=d["unit"],
        tool_version=d.get("tool_version"),
        entries=tuple(_entry(e) for e in d["entries"]),
        composed_from=tuple(
            ComposedFrom(c["table_version"], c["status"], c["method"], c["created"], c.get("file"))
            for c in d.get("composed_from", ())
        ),
        excluded_results=tuple(
            ExcludedResult(x["model_id"], x["reason"], x.get("task"), x.get("hardware_class"))
            for x in d.get("excluded_results", ())
        ),
        skipped_groups=tuple(
            SkippedGroup(
                g["task"],
                g["hardware_class"],
                g["count"],
                g["reason"],
                g.get("workload_version"),
                g.get("size_class"),
            )
            for g in d.get("skipped_groups", ())
        ),
    )


def _entry(d: _Doc) -> TableEntry:
    pop = d["population"]
    provenance = None
    if any(k in d for k in ("table_version", "status", "method")):
        provenance = Provenance(d.get("table_version", ""), d.get("status", ""), d.get("method", ""))
    cuts = d["cut_points"]
    return TableEntry(
        task=d["task"],
        hardware_class=d["hardware_class"],
        cut_points=(cuts[0], cuts[1], cuts[2], cuts[3]),
        population=Population(
            pop["n"], pop["min"], pop["max"], tuple(pop["model_ids"]) if "model_ids" in pop else None
        ),
        workload_version=d.get("workload_version"),
        size_class=d.get("size_class"),
        note=d.get("note"),
        provenance=provenance,
    )


def _encode_entry(e: TableEntry) -> dict[str, object]:
    pop: dict[str, object] = {"n": e.population.n, "min": e.population.min, "max": e.population.max}
    if e.population.model_ids is not None:
        pop["model_ids"] = list(e.population.model_ids)
    data: dict[str, object] = {"task": e.task, "hardware_class": e.hardware_class}
    if e.workload_version is not None:
        data["workload_version"] = e.workload_version
    if e.size_class is not None:
        data["size_class"] = e.size_class
    data["cut_points"] = list(e.cut_points)
    data["population"] = pop
    if e.note is not None:
        data["note"] = e.note
    if e.provenance is not None:
        data.update(
            table_version=e.provenance.table_version, status=e.provenance.status, method=e.provenance.method
        )
    return data


def _without_none(data: dict[str, object], keep: tuple[str, ...] = ()) -> dict[str, object]:
    return {k: v for k, v in data.items() if v is not None or k in keep}


def _rule_errors(table: RatingTable) -> list[str]:
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


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    parts = version.replace("-", ".").replace("+", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
