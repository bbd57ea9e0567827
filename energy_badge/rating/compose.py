"""The composite of the shipped rating tables (the rule is in :mod:`energy_badge.rating`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from energy_badge.errors import InvalidFileError
from energy_badge.rating.tables import ComposedFrom, Provenance, RatingTable, TableEntry, rule_errors

__all__ = ["compose_tables", "table_rank"]

_STATUS_RANK = {"provisional": 0, "measured": 1}


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
    errors = rule_errors(composite)
    if errors:  # pragma: no cover - valid tables compose into a valid composite
        raise InvalidFileError(
            f"the composite of the shipped rating tables is not valid: {errors[0]}", errors
        )
    return composite


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    parts = version.replace("-", ".").replace("+", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
