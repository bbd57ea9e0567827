"""The rating stage: stars for a result against a rating table.

A rating table (``schemas/rating-table.schema.json``) holds, per task and hardware class, four
ascending cut points in Wh per 1000 queries. 5 stars is the least energy::

    value < c1 -> 5     c1 <= value < c2 -> 4     c2 <= value < c3 -> 3
    c3 <= value < c4 -> 2     value >= c4 -> 1

:func:`calibrate` (:mod:`energy_badge.rating.calibrate`) computes cut points from a population of
canonical results. The default method cuts [population min, max] into five equal bands on a *log*
scale: energies within a task span orders of magnitude, and equal bands on a linear scale (the AI
Energy Score's method) put nearly every model in the lowest band. ``linear`` (the AI Energy
Score's way) and ``quantile`` (the 20, 40, 60 and 80 % quantiles) are also offered.

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

from energy_badge.rating.calibrate import (
    DEFAULT_METHOD,
    METHODS,
    MIN_POPULATION,
    QUANTILES,
    calibrate,
    cut_points,
)
from energy_badge.rating.codec import (
    decode_table,
    encode_table,
    load_table,
    shipped_tables,
    table_errors,
    write_table,
)
from energy_badge.rating.compose import compose_tables, table_rank
from energy_badge.rating.sizes import SIZE_CLASS_TASKS, SIZE_CLASSES, describe_size_class, size_class
from energy_badge.rating.stars import Rating, position, rate, result_size_class, stars_for, unmeasured_rating
from energy_badge.rating.tables import (
    TABLE_SCHEMA,
    TABLE_SCHEMA_VERSION,
    UNIT,
    ComposedFrom,
    ExcludedResult,
    Method,
    Population,
    Provenance,
    RatingTable,
    SkippedGroup,
    Status,
    TableEntry,
    entries_for,
    find_entry,
    table_source,
)

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "MIN_POPULATION",
    "QUANTILES",
    "SIZE_CLASSES",
    "SIZE_CLASS_TASKS",
    "TABLE_SCHEMA",
    "TABLE_SCHEMA_VERSION",
    "UNIT",
    "ComposedFrom",
    "ExcludedResult",
    "Method",
    "Population",
    "Provenance",
    "Rating",
    "RatingTable",
    "SkippedGroup",
    "Status",
    "TableEntry",
    "calibrate",
    "compose_tables",
    "cut_points",
    "decode_table",
    "describe_size_class",
    "encode_table",
    "entries_for",
    "find_entry",
    "load_table",
    "position",
    "rate",
    "result_size_class",
    "shipped_tables",
    "size_class",
    "stars_for",
    "table_errors",
    "table_rank",
    "table_source",
    "unmeasured_rating",
    "write_table",
]
