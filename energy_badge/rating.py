"""The rating stage: stars for a result against a rating table.

A rating table (``schemas/rating-table.schema.json``) holds, per task and hardware class, four
ascending cut points in Wh per 1000 queries. 5 stars is the least energy::

    value < c1 -> 5     c1 <= value < c2 -> 4     c2 <= value < c3 -> 3
    c3 <= value < c4 -> 2     value >= c4 -> 1

:func:`calibrate` computes cut points from a population of canonical results. The default method
cuts [population min, max] into five equal bands on a *log* scale: energies within a task span
orders of magnitude, and equal bands on a linear scale (the AI Energy Score's method) put nearly
every model in the lowest band. ``linear`` (the AI Energy Score's way) and ``quantile`` (the 20,
40, 60 and 80 % quantiles) are also offered.

Text generation is rated per model size class, as in the AI Energy Score: class A up to 20B
parameters, B up to 66B, C above (:func:`size_class`, from the result's ``model.parameters``). A
table entry may carry a ``size_class``; such an entry rates only text-generation models of that
class, and an entry without one rates every size (tables written before size classes keep working).
:func:`calibrate` groups text-generation results by size class.

A result is never rated by guesswork: a non-canonical result, a result without a GPU energy
measurement, or one whose task, hardware class or size class has no table entry gets
``stars=None`` and the reason in ``unrated_reason``.

Several shipped tables: the default table (:func:`load_table` with no file, used by ``rate``,
``badge``, ``card``, ``publish``, bulk, the service and the GitHub action) is a *composite* of
every table in ``energy_badge/data/rating_tables/`` (:func:`compose_tables`). A calibration
campaign on one GPU ships a ``measured`` table for that hardware class only; it must replace the
provisional entries for that hardware and leave the others rated as before. The rule:

* Tables are ranked: ``measured`` before ``provisional``, then the later ``created`` date, then
  the higher ``table_version`` (compared part by part, numbers as numbers: 0.10.0 > 0.9.0). Two
  shipped tables with the same ``table_version`` are a packaging error (a card names its table by
  version), so the ranking never ties.
* For each (task, hardware class) pair, *all* the composite's entries come from the single
  highest-ranked table that has any entry for that pair; the entries of lower-ranked tables for
  that pair are dropped, whatever their workload version or size class.

The choice is per (task, hardware class) and not per exact entry key because the keys of two
tables rarely line up: :func:`calibrate` pins every entry to a workload version and splits text
generation by size class, while the provisional table has unpinned entries. Merged key by key,
a measured H100 entry would sit beside the provisional H100 entry it is meant to replace, and
:func:`find_entry` would rate some H100 results by one table and the rest by the other. With the
rule, a task on one GPU is rated by one table: a model that the measured table does not cover
there (another workload version, a size class with too few results to calibrate) is unrated with
the reason, not rated against the provisional guess. Pairs the measured table lacks (another GPU,
another task) keep the provisional entries.

Each composite entry records its own table (``table_version``, ``status``, ``method``), the
composite's ``composed_from`` lists the tables used (most preferred first), and a :class:`Rating`
reports the table of the entry that rated it (for an unrated result: the table that covers its
task and hardware class, else the most preferred one). A table file given explicitly (``--table
FILE``) is used alone, as it is.
"""

from __future__ import annotations

import bisect
import copy
import datetime as _dt
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from energy_badge.errors import InputError, InvalidFileError, UsageError
from energy_badge.files import read_json, write_atomic

UNIT = "Wh per 1000 queries"
METHODS = ("log", "linear", "quantile")
DEFAULT_METHOD = "log"
MIN_POPULATION = 10
QUANTILES = (0.2, 0.4, 0.6, 0.8)
TABLE_SCHEMA = "rating-table.schema.json"
TABLE_SCHEMA_VERSION = "1.0"
# Provenance fields: on a composite's entries, the table each entry comes from.
PROVENANCE = ("table_version", "status", "method")
_STATUS_RANK = {"provisional": 0, "measured": 1}

# The AI Energy Score's text-generation size classes: (class, largest parameter count; None = no limit).
SIZE_CLASSES: tuple[tuple[str, int | None], ...] = (("A", 20_000_000_000), ("B", 66_000_000_000), ("C", None))
SIZE_CLASS_TASKS = frozenset({"text-generation"})


# --------------------------------------------------------------------------------------------
# Tables: load and check


def shipped_tables() -> list[Path]:
    """Return the paths of the rating tables shipped in the package, sorted by file name."""
    folder = resources.files("energy_badge").joinpath("data").joinpath("rating_tables")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".json"))


def table_errors(table: Any) -> list[str]:
    """Check a table against its schema and the rules a schema cannot say.

    Beyond the schema: cut points strictly ascending and inside [population min, max]; min below
    max; at most one entry per (task, hardware class, workload version, size class); a size class
    only on a task rated per size class (text generation); ``model_ids`` as many as ``n``. On a
    composite (a table with ``composed_from``): every entry names a listed table in its
    provenance fields, and all entries of one (task, hardware class) come from the same table.

    Args:
        table: the parsed JSON document.

    Returns:
        One ``"<json path>: <message>"`` string per problem; empty when the table is valid.
    """
    from energy_badge.result import schema_errors

    errors = schema_errors(table, TABLE_SCHEMA)
    if errors:
        return errors
    seen: dict[tuple[str, str, str | None, str | None], int] = {}
    for i, entry in enumerate(table["entries"]):
        path = f"$.entries[{i}]"
        cuts = entry["cut_points"]
        pop = entry["population"]
        if any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
            errors.append(f"{path}.cut_points: must be strictly ascending, got {cuts}")
        if pop["min"] >= pop["max"]:
            errors.append(f"{path}.population: min {pop['min']} must be below max {pop['max']}")
        elif cuts[0] < pop["min"] or cuts[-1] > pop["max"]:
            errors.append(
                f"{path}.cut_points: must lie within the population range [{pop['min']}, {pop['max']}]"
            )
        if "model_ids" in pop and len(pop["model_ids"]) != pop["n"]:
            errors.append(f"{path}.population.model_ids: {len(pop['model_ids'])} ids for n = {pop['n']}")
        if "size_class" in entry and entry["task"] not in SIZE_CLASS_TASKS:
            errors.append(
                f"{path}.size_class: only {', '.join(sorted(SIZE_CLASS_TASKS))} is rated per size class, "
                f"not {entry['task']}"
            )
        key = (entry["task"], entry["hardware_class"], entry.get("workload_version"), entry.get("size_class"))
        if key in seen:
            errors.append(f"{path}: duplicates $.entries[{seen[key]}] ({_describe_key(key)})")
        else:
            seen[key] = i
    if "composed_from" in table:
        errors += _composite_errors(table)
    return errors


def _composite_errors(table: dict) -> list[str]:
    sources = {s["table_version"]: s for s in table["composed_from"]}
    errors = []
    if len(sources) != len(table["composed_from"]):
        errors.append("$.composed_from: a table version is listed twice")
    pair_source: dict[tuple[str, str], tuple[str, int]] = {}
    for i, entry in enumerate(table["entries"]):
        path = f"$.entries[{i}]"
        missing = [k for k in PROVENANCE if k not in entry]
        if missing:
            errors.append(f"{path}: an entry of a composite table needs {', '.join(missing)}")
            continue
        source = sources.get(entry["table_version"])
        if source is None:
            errors.append(f"{path}.table_version: {entry['table_version']} is not in $.composed_from")
            continue
        for k in ("status", "method"):
            if entry[k] != source[k]:
                errors.append(f"{path}.{k}: {entry[k]}, but table {source['table_version']} is {source[k]}")
        pair = (entry["task"], entry["hardware_class"])
        first = pair_source.setdefault(pair, (entry["table_version"], i))
        if first[0] != entry["table_version"]:
            errors.append(
                f"{path}.table_version: {pair[0]} on {pair[1]} comes from table {first[0]} "
                f"($.entries[{first[1]}]), not also from {entry['table_version']}"
            )
    return errors


def _describe_key(key: tuple[str, str, str | None, str | None]) -> str:
    task, hardware, workload, size = key
    return (
        f"{task} on {hardware}"
        + (f", workload {workload}" if workload else "")
        + (f", size class {size}" if size else "")
    )


def validate_table(table: Any, *, source: str = "rating table") -> dict:
    """Return ``table`` if it is a valid rating table.

    Raises:
        InvalidFileError: naming the JSON path of the first problem; ``errors`` lists all.
    """
    errors = table_errors(table)
    if errors:
        raise InvalidFileError(f"{source} is not a valid rating table: {errors[0]}", errors)
    return table


def load_table(path: str | os.PathLike[str] | None = None) -> dict:
    """Read and validate a rating table.

    Args:
        path: a table file, used alone and as it is; None for the composite of all the shipped
            tables (:func:`compose_tables`; the rule is in the module docstring).

    Returns:
        The table as a dict.

    Raises:
        InvalidFileError: the file is missing, not JSON, or not a valid table (the message names
            the JSON path); with None, also no table shipped or two shipped with one version.
    """
    if path is None:
        paths = shipped_tables()
        if not paths:
            raise InvalidFileError("no rating table is shipped with energy-badge")
        return compose_tables([load_table(p) for p in paths], files=[Path(p).name for p in paths])
    data = read_json(path)
    return validate_table(data, source=str(path))


def table_rank(table: dict) -> tuple:
    """The sort key of a table's preference: ``measured`` over ``provisional``, then the later
    ``created``, then the higher ``table_version`` (numbers compared as numbers)."""
    version = table["table_version"]
    return (_STATUS_RANK[table["status"]], table["created"], _version_key(version), version)


def compose_tables(tables: Sequence[dict], *, files: Sequence[str] | None = None) -> dict:
    """Combine valid tables into one: per (task, hardware class), the entries of the best table.

    For each (task, hardware class) pair, every entry comes from the highest-ranked table
    (:func:`table_rank`) that has any entry for the pair; lower-ranked tables' entries for the
    pair are left out. Each entry gets its table's ``table_version``, ``status`` and ``method``;
    ``composed_from`` lists the tables that gave entries, best first. The top-level
    ``table_version``, ``created`` and ``method`` are the best table's; ``status`` is ``measured``
    only when every entry is.

    Args:
        tables: validated tables (see :func:`validate_table`).
        files: their file names, in the same order (recorded in ``composed_from``).

    Returns:
        The composite, valid against the schema.

    Raises:
        InvalidFileError: no table, or two tables with the same ``table_version``.
    """
    if not tables:
        raise InvalidFileError("no rating table to compose")
    names = list(files) if files is not None else [None] * len(tables)
    by_version: dict[str, str | None] = {}
    for table, name in zip(tables, names, strict=True):
        version = table["table_version"]
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
        for entry in table["entries"]:
            owner.setdefault((entry["task"], entry["hardware_class"]), table["table_version"])
    used = []  # (table, file name, its entries in the composite), best table first
    for table, name in ranked:
        mine = [
            e for e in table["entries"] if owner[(e["task"], e["hardware_class"])] == table["table_version"]
        ]
        if mine:
            used.append((table, name, mine))
    entries: list[dict] = []
    composed_from: list[dict] = []
    for table, name, mine in used:
        provenance = {k: table[k] for k in PROVENANCE}
        entries += [{**copy.deepcopy(entry), **provenance} for entry in mine]
        composed_from.append({**provenance, "created": table["created"], **({"file": name} if name else {})})
    best = composed_from[0]
    if len(used) == 1:
        source = used[0][0]["source"]
    else:
        described = ", ".join(f"{s['table_version']} ({s['status']})" for s in composed_from)
        source = (
            f"Combined from the shipped rating tables {described}: each task and hardware class is "
            "rated by the one most preferred table that covers it (measured over provisional, then "
            "newer, then higher version), and each entry names its table. "
            + " ".join(f"Table {t['table_version']}: {t['source']}" for t, _, _ in used)
        )
    composite = {
        "schema_version": TABLE_SCHEMA_VERSION,
        "table_version": best["table_version"],
        "created": best["created"],
        "status": "measured" if all(s["status"] == "measured" for s in composed_from) else "provisional",
        "source": source,
        "method": best["method"],
        "unit": UNIT,
        "entries": entries,
        "composed_from": composed_from,
    }
    return validate_table(composite, source="composite of the shipped rating tables")


def table_source(table: dict, entry: dict | None = None) -> dict[str, str]:
    """The table an entry comes from: its ``table_version``, ``status`` and ``method``.

    An entry of a composite carries them; an entry of a single table (or ``entry=None``: no entry)
    takes the table's own, on a composite the most preferred table's (``composed_from[0]``).
    """
    default = table["composed_from"][0] if table.get("composed_from") else table
    return {k: (entry.get(k, default[k]) if entry is not None else default[k]) for k in PROVENANCE}


def _version_key(version: str) -> tuple:
    parts = version.replace("-", ".").replace("+", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def write_table(table: dict, path: str | os.PathLike[str]) -> Path:
    """Validate a table, then write it as indented JSON.

    Raises:
        InvalidFileError: the table is not valid; nothing is written.
    """
    validate_table(table)
    write_atomic(path, (json.dumps(table, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return Path(path)


def find_entry(
    table: dict,
    task: str,
    hardware_class: str,
    workload_version: str | None = None,
    size_class: str | None = None,
) -> dict | None:
    """Return the table entry for a task and hardware class, or None.

    An entry pinned to a workload version matches only that version and is preferred over an
    unpinned entry for the same task and hardware class. Likewise an entry with a ``size_class``
    matches only that size class (``size_class=None``: a model of unknown size, or a task not rated
    per size, matches no such entry) and is preferred over an entry without one. The workload pin
    weighs more than the size class.
    """
    best, best_rank = None, -1
    for entry in table["entries"]:
        if entry["task"] != task or entry["hardware_class"] != hardware_class:
            continue
        pinned = entry.get("workload_version")
        sized = entry.get("size_class")
        if (pinned is not None and pinned != workload_version) or (sized is not None and sized != size_class):
            continue
        rank = 2 * (pinned is not None) + (sized is not None)
        if rank > best_rank:
            best, best_rank = entry, rank
    return best


def size_class(parameters: int | None) -> str | None:
    """The AI Energy Score size class of a text-generation model: ``A`` up to 20B parameters,
    ``B`` up to 66B, ``C`` above; None when the count is unknown (None or not positive)."""
    if parameters is None or parameters <= 0:
        return None
    for name, limit in SIZE_CLASSES:
        if limit is None or parameters <= limit:
            return name
    raise AssertionError("unreachable")  # pragma: no cover


def model_parameters(result: Any) -> int | None:
    """The result's parameter count (``model.parameters``), or None when it does not give one."""
    value = getattr(result, "parameters", None)
    if value is None:
        data = getattr(result, "data", None)
        if isinstance(data, dict):
            value = (data.get("model") or {}).get("parameters")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def result_size_class(result: Any) -> str | None:
    """The size class a result is rated in: only for tasks rated per size (text generation)."""
    if result.task not in SIZE_CLASS_TASKS:
        return None
    return size_class(model_parameters(result))


def describe_size_class(name: str) -> str:
    """``A`` -> ``"size class A (up to 20B parameters)"``."""
    bounds = dict(SIZE_CLASSES)
    names = [n for n, _ in SIZE_CLASSES]
    limit = bounds[name]
    if limit is not None:
        return f"size class {name} (up to {limit / 1e9:g}B parameters)"
    previous = bounds[names[names.index(name) - 1]]
    return f"size class {name} (over {previous / 1e9:g}B parameters)"


def _billions(parameters: int) -> str:
    return f"{parameters / 1e9:.3g}B" if parameters >= 1e8 else f"{parameters / 1e6:.3g}M"


# --------------------------------------------------------------------------------------------
# Stars


def stars_for(value: float, cut_points: Sequence[float]) -> int:
    """Return the stars (1-5) of an energy value: below c1 is 5, at or above c4 is 1."""
    return 5 - bisect.bisect_right(list(cut_points), value)


def _scale(value: float, method: str) -> float:
    return math.log(value) if method != "linear" else value


def position(value: float, entry: dict, method: str) -> float:
    """Where ``value`` sits along the entry's scale: 0 at the population min, 1 at its max.

    The five star bands each take a fifth of the scale (band k, counted from the least energy,
    spans k/5 to (k+1)/5), and within a band the value is interpolated on the table's scale (log
    for ``log`` and ``quantile`` tables, linear for ``linear``). Values outside the population
    range extrapolate the outer bands, so they fall below 0 or above 1.
    """
    if value <= 0 and method != "linear":
        return -math.inf
    pop = entry["population"]
    edges = [pop["min"], *entry["cut_points"], pop["max"]]
    band = min(max(bisect.bisect_right(edges, value) - 1, 0), 4)
    low, high = _scale(edges[band], method), _scale(edges[band + 1], method)
    return (band + (_scale(value, method) - low) / (high - low)) / 5


@dataclass(frozen=True)
class Rating:
    """The stars of one result against one rating table.

    Attributes:
        stars: 1-5, or None when the result is unrated.
        unrated_reason: why there are no stars (None when rated).
        model_id, task, hardware_class, workload_version: what was rated.
        value: GPU energy in Wh per 1000 queries (the mean of the repetitions), or None.
        ci95_low, ci95_high: its 95 % confidence interval, or None.
        unit: always ``"Wh per 1000 queries"``.
        cut_points: the entry's four cut points, or None when no entry applies.
        band_low, band_high: the edges of the star band the value is in (None is an open end:
            5 stars has no lower edge, 1 star no upper edge).
        position: where the value sits on the table's scale, 0 at the population min and 1 at
            its max (see :func:`position`).
        stars_ci: (stars at ci95_high, stars at ci95_low): the rating's range over the interval;
            equal values mean the interval crosses no cut point.
        table_version, table_status, method: the table whose entry rated the result. Of the
            default (composite) table, that is the entry's own table (see :func:`table_source`);
            when no entry applies, the table covering the result's task and hardware class, else
            the most preferred shipped table.
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
    table_status: str
    method: str
    unit: str = UNIT
    size_class: str | None = None

    @property
    def rated(self) -> bool:
        """True when the result got stars."""
        return self.stars is not None

    def to_dict(self) -> dict:
        """Return the JSON form (tuples as lists)."""
        data = asdict(self)
        for key in ("cut_points", "stars_ci"):
            if data[key] is not None:
                data[key] = list(data[key])
        if data["position"] is not None and not math.isfinite(data["position"]):
            data["position"] = None
        return data


def rate(result: Any, table: dict | None = None) -> Rating:
    """Rate a result against a table.

    Args:
        result: an :class:`energy_badge.result.EnergyResult` (or anything with its accessors).
        table: a validated table (see :func:`load_table`); None for the composite of the shipped
            tables.

    Returns:
        The :class:`Rating`, naming the table of the entry used (:func:`table_source`). A
        non-canonical result, one without GPU energy, or one whose task or hardware class has no
        entry is unrated, with the reason.
    """
    if table is None:
        table = load_table()
    group = _group_entries(table, result.task, result.hardware_class)
    source = table_source(table, group[0] if group else None)
    energy = result.gpu_energy
    common = {
        "model_id": result.model_id,
        "task": result.task,
        "hardware_class": result.hardware_class,
        "workload_version": result.workload_version,
        "value": energy.mean if energy is not None else None,
        "ci95_low": energy.ci95_low if energy is not None else None,
        "ci95_high": energy.ci95_high if energy is not None else None,
        "table_version": source["table_version"],
        "table_status": source["status"],
        "method": source["method"],
        "size_class": result_size_class(result),
    }
    unrated = {
        "stars": None,
        "cut_points": None,
        "band_low": None,
        "band_high": None,
        "position": None,
        "stars_ci": None,
    }
    reason = _unrated_reason(result, table)
    if reason is not None:
        return Rating(unrated_reason=reason, **unrated, **common)
    entry = find_entry(
        table, result.task, result.hardware_class, result.workload_version, common["size_class"]
    )
    if entry is None:
        return Rating(unrated_reason=_no_entry_reason(result, table, group), **unrated, **common)
    source = table_source(table, entry)
    common.update(
        table_version=source["table_version"], table_status=source["status"], method=source["method"]
    )
    value = energy.mean
    cuts = tuple(entry["cut_points"])
    stars = stars_for(value, cuts)
    edges = (None, *cuts, None)
    band = 5 - stars
    stars_ci = None
    if energy.ci95_low is not None and energy.ci95_high is not None:
        stars_ci = (stars_for(energy.ci95_high, cuts), stars_for(energy.ci95_low, cuts))
    return Rating(
        stars=stars,
        unrated_reason=None,
        cut_points=cuts,
        band_low=edges[band],
        band_high=edges[band + 1],
        position=position(value, entry, source["method"]),
        stars_ci=stars_ci,
        **common,
    )


def _unrated_reason(result: Any, table: dict) -> str | None:
    if not result.canonical:
        reasons = "; ".join(result.non_canonical_reasons) or "no reason recorded"
        return f"not from the canonical workload ({reasons}); only canonical results are rated"
    energy = result.gpu_energy
    if energy is None:
        return "GPU energy was not measured"
    if not math.isfinite(energy.mean) or energy.mean <= 0:
        return f"GPU energy {energy.mean} Wh per 1000 queries is not a positive number"
    if not result.hardware_class:
        gpu = result.gpu_name or "no GPU recorded"
        return f"the GPU ({gpu}) belongs to no hardware class that rating tables cover"
    return None


def _group_entries(table: dict, task: str, hardware_class: str | None) -> list[dict]:
    return [e for e in table["entries"] if e["task"] == task and e["hardware_class"] == hardware_class]


def _no_entry_reason(result: Any, table: dict, group: list[dict]) -> str:
    sources = table.get("composed_from") or []
    if len(sources) > 1:
        versions = ", ".join(s["table_version"] for s in sources)
        tables, has, it = f"the shipped rating tables ({versions})", "have", "they cover"
    else:
        tables, has, it = f"rating table {table['table_version']}", "has", "it covers"
    hardware = sorted({e["hardware_class"] for e in table["entries"] if e["task"] == result.task})
    if not hardware:
        tasks = ", ".join(sorted({e["task"] for e in table["entries"]}))
        return f"{tables} {has} no entry for task {result.task} ({it}: {tasks})"
    if not group:
        return (
            f"{tables} {has} no entry for {result.task} on {result.hardware_class} "
            f"({it} {result.task} on: {', '.join(hardware)})"
        )
    # The task and hardware class are covered, by one table (of a composite: the preferred one).
    version = table_source(table, group[0])["table_version"]
    alone = (
        f" (of the shipped tables, only this one is used for {result.task} on {result.hardware_class})"
        if len(sources) > 1
        else ""
    )
    candidates = [e for e in group if e.get("workload_version") in (None, result.workload_version)]
    if not candidates:
        return (
            f"rating table {version} has no entry for {result.task} on {result.hardware_class} "
            f"with workload version {result.workload_version}{alone}"
        )
    # Every candidate is for another size class (text generation is rated per size class).
    covered = ", ".join(describe_size_class(s) for s in sorted({e["size_class"] for e in candidates}))
    where = f"{result.task} on {result.hardware_class}"
    parameters = model_parameters(result)
    if parameters is None or parameters <= 0:
        return (
            f"rating table {version} rates {where} only for {covered}, "
            f"and the result does not give the model's parameter count{alone}"
        )
    return (
        f"rating table {version} has no entry for {where} in "
        f"{describe_size_class(str(result_size_class(result)))}: this model has "
        f"{_billions(parameters)} parameters, and the table covers only {covered}{alone}"
    )


# --------------------------------------------------------------------------------------------
# Calibration


def cut_points(values: Sequence[float], method: str = DEFAULT_METHOD) -> list[float]:
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
        cuts = [_quantile(data, q) for q in QUANTILES]
    rounded = [float(f"{c:.4g}") for c in cuts]
    if not (low <= rounded[0] and rounded[-1] <= high):
        rounded = cuts
    if any(b <= a for a, b in zip(rounded, rounded[1:], strict=False)):
        raise ValueError(f"tied energies give cut points that are not distinct: {rounded}")
    return rounded


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    h = (len(sorted_values) - 1) * q
    i = math.floor(h)
    j = min(i + 1, len(sorted_values) - 1)
    return sorted_values[i] + (h - i) * (sorted_values[j] - sorted_values[i])


def calibrate(
    results: Iterable[Any],
    method: str = DEFAULT_METHOD,
    *,
    version: str | None = None,
    created: str | None = None,
) -> dict:
    """Build a rating table from a population of results.

    Results are grouped by (task, hardware class, workload version), and text generation also by
    size class (A, B, C; see :func:`size_class`), each group giving one entry. Non-canonical
    results, results without GPU energy or hardware class (or, for text generation, without a
    parameter count), and older duplicates of a model already in its group are excluded (listed
    with the reason under ``excluded_results``). A group with fewer than 10 results
    (``MIN_POPULATION``) is skipped (listed under ``skipped_groups``); if no group qualifies,
    nothing is tabled.

    Args:
        results: the population (``EnergyResult`` objects or anything with their accessors).
        method: ``log`` (default), ``linear`` or ``quantile``.
        version: the table version; default ``<date>-<method>``.
        created: the date (YYYY-MM-DD); default today (UTC).

    Returns:
        The table dict, valid against ``schemas/rating-table.schema.json``, status ``measured``.

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
    excluded: list[dict] = []
    groups: dict[tuple[str, str, str, str | None], dict[str, Any]] = {}
    offered = 0
    for result in results:
        offered += 1
        reason = _calibration_exclusion(result)
        if reason is not None:
            excluded.append(_excluded(result, reason))
            continue
        key = (result.task, result.hardware_class, result.workload_version, result_size_class(result))
        members = groups.setdefault(key, {})
        previous = members.get(result.model_id)
        if previous is None:
            members[result.model_id] = result
            continue
        newer, older = (result, previous) if result.created_at > previous.created_at else (previous, result)
        members[result.model_id] = newer
        excluded.append(
            _excluded(older, f"an older result of the same model (newer one from {newer.created_at})")
        )
    if offered == 0:
        raise InputError("cannot calibrate: no results given")

    entries: list[dict] = []
    skipped: list[dict] = []
    for (task, hardware, workload, size), members in sorted(
        groups.items(), key=lambda item: tuple(part or "" for part in item[0])
    ):
        group = {
            "task": task,
            "hardware_class": hardware,
            "workload_version": workload,
            **({"size_class": size} if size is not None else {}),
            "count": len(members),
        }
        if len(members) < MIN_POPULATION:
            reason = f"{len(members)} canonical results, at least {MIN_POPULATION} are needed"
            skipped.append({**group, "reason": reason})
            continue
        values = [r.gpu_energy.mean for r in members.values()]
        try:
            cuts = cut_points(values, method)
        except ValueError as err:
            skipped.append({**group, "reason": str(err)})
            continue
        entries.append(
            {
                "task": task,
                "hardware_class": hardware,
                "workload_version": workload,
                **({"size_class": size} if size is not None else {}),
                "cut_points": cuts,
                "population": {
                    "n": len(values),
                    "min": min(values),
                    "max": max(values),
                    "model_ids": sorted(members),
                },
            }
        )
    if not entries:
        details = "; ".join(f"{_group_name(g)}: {g['reason']}" for g in skipped)
        if not details:
            details = f"none of the {offered} results can be used ({excluded[0]['reason']}, ...)"
        raise InputError(f"cannot calibrate: no task and hardware group qualifies ({details})")
    n_used = sum(e["population"]["n"] for e in entries)
    table = {
        "schema_version": TABLE_SCHEMA_VERSION,
        "table_version": version,
        "created": created,
        "status": "measured",
        "source": (
            f"Calibrated by energy-badge {__version__} from {n_used} canonical results "
            f"(GPU energy, {UNIT}) in {len(entries)} task and hardware group(s), method {method}"
            + (f"; {len(skipped)} group(s) skipped" if skipped else "")
            + (f"; {len(excluded)} result(s) excluded" if excluded else "")
            + "."
        ),
        "method": method,
        "unit": UNIT,
        "tool_version": __version__,
        "entries": entries,
    }
    if excluded:
        table["excluded_results"] = excluded
    if skipped:
        table["skipped_groups"] = skipped
    return validate_table(table, source="calibrated table")


def _calibration_exclusion(result: Any) -> str | None:
    if not result.canonical:
        reasons = "; ".join(result.non_canonical_reasons) or "no reason recorded"
        return f"not from the canonical workload ({reasons})"
    energy = result.gpu_energy
    if energy is None:
        return "GPU energy was not measured"
    if not math.isfinite(energy.mean) or energy.mean <= 0:
        return f"GPU energy {energy.mean} is not a positive number"
    if not result.hardware_class:
        return f"the GPU ({result.gpu_name or 'none recorded'}) has no hardware class"
    if result.task in SIZE_CLASS_TASKS and result_size_class(result) is None:
        return f"{result.task} is grouped by model size, and the result gives no parameter count"
    return None


def _group_name(group: dict) -> str:
    name = f"{group['task']} on {group['hardware_class']}"
    return name + (f" (size class {group['size_class']})" if group.get("size_class") else "")


def _excluded(result: Any, reason: str) -> dict:
    return {
        "model_id": result.model_id,
        "task": result.task,
        "hardware_class": result.hardware_class,
        "reason": reason,
    }
