"""The bulk state's SQLite schema, and the check that a file holds it whole.

:data:`SCHEMA` is what :class:`energy_badge.bulk.state.StateStore` creates in a new file (and
adds to an older one: the ``pushes`` table came later within version 1). :func:`schema_problem`
refuses a file that claims to be a state but lacks a table the first version already had, or a
column of any table: every query would otherwise end in ``sqlite3.OperationalError: no such
column`` deep inside ``bulk`` or ``bulk-report``. The check reads only ``sqlite_master`` and
``PRAGMA table_info``, so it needs no write lock.
"""

from __future__ import annotations

import functools
import re
import sqlite3

from energy_badge.bulk.records import STATUSES

__all__ = ["SCHEMA", "SCHEMA_NAMES", "SCHEMA_VERSION", "schema_problem"]

SCHEMA_VERSION = "1"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT,
    options TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS input_problems (
    run_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    line INTEGER NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    revision TEXT NOT NULL,
    requested_revision TEXT,
    task TEXT NOT NULL,
    workload_version TEXT NOT NULL,
    hardware_class TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in STATUSES)})),
    reason TEXT,
    reason_code TEXT,
    permanent INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    publish_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    source TEXT,
    run_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    result_json TEXT,
    canonical INTEGER,
    stars INTEGER,
    wh_per_1k REAL,
    url TEXT,
    commit_sha TEXT,
    pr_num INTEGER,
    UNIQUE (model, revision, task, workload_version, hardware_class)
);
CREATE TABLE IF NOT EXISTS pushes (
    model TEXT NOT NULL,
    old_sha TEXT NOT NULL,
    new_sha TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (model, new_sha, old_sha)
);
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (task, workload_version, hardware_class, model);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
CREATE INDEX IF NOT EXISTS service_jobs_by_model ON jobs (model);
CREATE INDEX IF NOT EXISTS jobs_by_result ON jobs (canonical, status, updated_at, wh_per_1k, stars);
"""

#: The tables and indexes :data:`SCHEMA` creates.
SCHEMA_NAMES = tuple(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA))
#: The tables every state has had since the first version (``pushes`` came later and is added).
FIRST_TABLES = ("meta", "runs", "input_problems", "jobs")


@functools.cache
def _expected_columns() -> dict[str, tuple[str, ...]]:
    """Each table's columns, as SQLite itself reads :data:`SCHEMA` (an in-memory database)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA)
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: tuple(r[1] for r in conn.execute(f"PRAGMA table_info({t})")) for t in tables}
    finally:
        conn.close()


def schema_problem(conn: sqlite3.Connection) -> str | None:
    """Why the open database is a damaged or foreign state, or None (also for a new, empty file).

    Args:
        conn: the open state database.

    Returns:
        One line naming the first missing table or column, or None when every table the file has
        holds every column, and a file that records this schema version has every table of the
        first version (a file of another version is refused by its version, elsewhere).
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" in tables:
        found = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        missing = [t for t in FIRST_TABLES if t not in tables]
        if found is not None and found[0] == SCHEMA_VERSION and missing:  # another version: said elsewhere
            return f"the state has no {missing[0]} table: a damaged state file (or not energy-badge's)"
    for table, columns in _expected_columns().items():
        if table not in tables:
            continue
        found = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if lacking := [c for c in columns if c not in found]:
            return (
                f"the state's {table} table has no {lacking[0]} column: a damaged state file "
                "(or not energy-badge's)"
            )
    return None
