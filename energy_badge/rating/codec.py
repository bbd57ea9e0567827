"""The JSON form of rating tables (``schemas/rating-table.schema.json``): the one place it is
read, checked and written."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from energy_badge.errors import InvalidFileError
from energy_badge.files import read_json, schema_errors, write_atomic
from energy_badge.rating.compose import compose_tables
from energy_badge.rating.tables import (
    TABLE_SCHEMA,
    ComposedFrom,
    ExcludedResult,
    Population,
    Provenance,
    RatingTable,
    SkippedGroup,
    TableEntry,
    rule_errors,
)

__all__ = ["decode_table", "encode_table", "load_table", "shipped_tables", "table_errors", "write_table"]


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
    return rule_errors(_table(data))


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
