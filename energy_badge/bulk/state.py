"""The state of a bulk run: one SQLite file, owned by the driver, that makes a run resumable.

One row per **job**: a (model, resolved revision, task, workload version, hardware class). A job
goes through these statuses::

    pending -> measuring -> measured -> publishing -> published    (a commit on main)
                                                   -> pr_open      (our open pull request)
       any  -> failed (with a reason; ``permanent`` or given up after retries)
       any  -> skipped (with a reason: skip list, card opt-out, our closed pull request)

``measured`` is final for a result that is not published (the publish policy is ``none``, or the
result is not canonical: then ``reason`` says ``not published: ...``). ``publishing`` is written
*before* the Hub is asked to commit (write-ahead), so a run that stops mid-publish leaves a row that
says so; the next run publishes it again, and :func:`energy_badge.hub.commit_plan` finds the pull
request (or commit) the first attempt made instead of opening a second one.

``revision`` is the commit sha the revision resolved to, or ``@<ref>`` (``@main``) for a model whose
revision could not be resolved (not found, or the Hub kept failing).

Consistency: every change is one transaction; the database is in WAL mode (readers, such as
``bulk-report``, never block the run, and a killed process leaves the last committed state) with
``synchronous=NORMAL`` (durable across a process crash; a power cut may lose the last transactions,
never corrupt the file). A run that stopped leaves rows ``measuring`` / ``publishing``;
:meth:`StateStore.recover` puts them back in the queue. An exclusive lock file (``<state>.lock``)
keeps a second driver off the same state; it is keyed on the real file (a symlink to the state
shares it) and removed when released.

The badge service's webhook writes through the same store (:mod:`energy_badge.bulk.queue`: the
``pushes`` table records each push's ``oldSha -> newSha``, so its pending rows follow the Hub's
commit order).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from energy_badge.bulk.inputs import InputProblem
from energy_badge.bulk.queue import WebhookQueue
from energy_badge.bulk.records import (
    FINAL_STATUSES,
    MEASURED_STATUSES,
    STATUSES,
    UNRESOLVED_PREFIX,
    Enqueued,
    JobKey,
    JobRow,
    StoredResult,
    utc_now,
)
from energy_badge.bulk.state_schema import SCHEMA as _SCHEMA
from energy_badge.bulk.state_schema import SCHEMA_NAMES as _SCHEMA_NAMES
from energy_badge.bulk.state_schema import SCHEMA_VERSION, schema_problem
from energy_badge.errors import InvalidFileError, UsageError

__all__ = [
    "FINAL_STATUSES",
    "MEASURED_STATUSES",
    "STATUSES",
    "UNRESOLVED_PREFIX",
    "Enqueued",
    "JobKey",
    "JobRow",
    "StateStore",
    "StoredResult",
    "utc_now",
]

_COLUMNS = tuple(f.name for f in fields(JobRow))
_STORED = ", ".join(f.name for f in fields(StoredResult))
_HAS_RESULT = "result_json IS NOT NULL AND status IN ({})".format(
    ", ".join(f"'{s}'" for s in MEASURED_STATUSES)
)
_LIGHT = ", ".join("NULL AS result_json" if c == "result_json" else c for c in _COLUMNS)
_UPDATABLE = frozenset(_COLUMNS) - {"id", "model", "task", "workload_version", "hardware_class", "created_at"}


def _busy(err: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for another connection's lock (``database is locked``)."""
    return getattr(err, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or (
        "locked" in str(err)
    )


def _stored(row: sqlite3.Row) -> StoredResult:
    data = dict(row)
    if data["canonical"] is not None:
        data["canonical"] = bool(data["canonical"])
    return StoredResult(**data)


class StateStore(WebhookQueue):
    """The SQLite state file of bulk runs.

    Args:
        path: the database file (created with its folder when missing); symlinks are resolved.
        exclusive: take the lock, ``<real path>.lock`` (a run's driver does; ``bulk-report`` does not).
        create: create the file when missing (False: a missing file is an error).
        busy_timeout_s: how long a write waits for another connection's transaction.

    Raises:
        UsageError: another process holds the lock (another run is using this state).
        InvalidFileError: the file is not an energy-badge state database, is read-only (or its
            folder is), or stayed locked by another process for ``busy_timeout_s``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        exclusive: bool = True,
        create: bool = True,
        busy_timeout_s: float = 30.0,
    ) -> None:
        self.path = Path(path)
        #: The file itself, symlinks resolved: what is locked and opened (two paths to one file
        #: share one lock).
        self.real_path = Path(os.path.realpath(self.path))
        if not create and not self.real_path.is_file():
            raise InvalidFileError(f"{self.path}: no such state file")
        self.real_path.parent.mkdir(parents=True, exist_ok=True)
        self._check_writable()
        #: True when this store created the file (it did not exist before).
        self.created = not self.real_path.exists()
        self._lock_file: Any = None
        self._identity: tuple[int, int] | None = None
        self._busy_timeout_s = busy_timeout_s
        if exclusive:
            self._take_lock()
        try:
            self.conn = sqlite3.connect(
                os.fspath(self.real_path), timeout=busy_timeout_s, isolation_level=None
            )
            self.conn.row_factory = sqlite3.Row
            mode = self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # pragma: no cover - e.g. a network file system
                raise InvalidFileError(f"{self.path}: SQLite cannot use WAL mode here ({mode})")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            if problem := schema_problem(self.conn):
                raise InvalidFileError(f"{self.path}: {problem}")
            if not self._schema_current():
                self._create_schema()
            stat = os.stat(self.real_path)
            self._identity = (stat.st_dev, stat.st_ino)
        except sqlite3.OperationalError as err:
            self.close()
            if _busy(err):
                raise InvalidFileError(
                    f"{self.path}: the state is locked by another process (waited {busy_timeout_s:g} s)"
                ) from err
            raise InvalidFileError(f"{self.path}: cannot open the state database ({err})") from err
        except sqlite3.DatabaseError as err:
            self.close()
            raise InvalidFileError(f"{self.path}: not an energy-badge state database ({err})") from err
        except BaseException:
            self.close()
            raise

    def _schema_current(self) -> bool:
        """Whether the file holds this version's schema already (a read: no write lock needed)."""
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        if not set(_SCHEMA_NAMES) <= tables:
            return False
        found = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return found is not None and found[0] == SCHEMA_VERSION

    def _create_schema(self) -> None:
        """Create what is missing of the schema (one write transaction); check the version."""
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            found = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if found is None:
                self.conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            elif found[0] != SCHEMA_VERSION:
                raise InvalidFileError(
                    f"{self.path}: state schema version {found[0]}, this energy-badge reads {SCHEMA_VERSION}"
                )

    # -- lifecycle ---------------------------------------------------------------------------

    def _check_writable(self) -> None:
        """Refuse a state that cannot be written, saying so (SQLite would only say it cannot open it)."""
        real = self.real_path
        if real.exists() and not os.access(real, os.W_OK):
            raise InvalidFileError(f"{self.path}: the state file is read-only; it must be writable")
        if not os.access(real.parent, os.W_OK):
            raise InvalidFileError(
                f"{self.path}: the folder {real.parent} is read-only; SQLite writes the state's "
                "-wal and -shm files (and the lock) beside it"
            )

    def _take_lock(self) -> None:
        """Take ``<real path>.lock`` (``flock``); keyed on the real file, so a symlink shares it.

        The lock file is removed when the lock is released (:meth:`close`); a lock taken on a file
        that was removed meanwhile is taken again on the new one.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            return
        lock_path = str(self.real_path) + ".lock"
        for _ in range(100):
            handle = open(lock_path, "a+")  # noqa: SIM115 - held until close()
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip()
                handle.close()
                raise UsageError(
                    f"{self.path} is in use by another bulk run{f' (pid {holder})' if holder else ''}; "
                    "wait for it to finish or stop it"
                ) from None
            try:
                same = os.path.samestat(os.fstat(handle.fileno()), os.stat(lock_path))
            except FileNotFoundError:
                same = False
            if same:
                break
            handle.close()  # its holder removed it as we opened it: take the new one
        else:  # pragma: no cover - a hundred removals in a row
            raise UsageError(f"{self.path}: could not take its lock file {lock_path}")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def close(self) -> None:
        """Close the database and release the lock (the lock file is removed)."""
        conn = getattr(self, "conn", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self.conn = None  # type: ignore[assignment]
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._lock_file.name)  # while still holding it: see _take_lock
            with contextlib.suppress(OSError):
                self._lock_file.close()
            self._lock_file = None

    def discard(self) -> None:
        """Close the store and remove its files: for a state this run created and left without a job.

        Nothing is removed when the store did not create the file, or when it holds any job.
        """
        conn = getattr(self, "conn", None)
        holds = conn is None or conn.execute("SELECT EXISTS (SELECT 1 FROM jobs)").fetchone()[0]
        self.close()
        if holds or not self.created:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(self.real_path) + suffix)

    def write_lock_problem(self, wait_s: float) -> str | None:
        """Why a write could not start now (another connection holds the write lock for longer than
        ``wait_s``), or None. Takes the lock and lets it go at once; writes nothing."""
        self.conn.execute(f"PRAGMA busy_timeout = {int(wait_s * 1000)}")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("ROLLBACK")
        except sqlite3.OperationalError as err:
            return f"the state {self.path} is locked by another process ({err})"
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
        return None

    def file_problem(self) -> str | None:
        """Why the state's path no longer leads to the file this store opened (deleted, replaced),
        or None: SQLite would go on writing to a deleted file, and nothing would reach the disk."""
        try:
            stat = os.stat(self.real_path)
        except OSError as err:
            return f"the state file {self.path} is gone ({err.strerror}) since it was opened"
        if self._identity is not None and (stat.st_dev, stat.st_ino) != self._identity:
            return f"the state file {self.path} was replaced by another file since it was opened"
        if not os.access(self.real_path, os.W_OK):
            return f"the state file {self.path} is read-only now"
        return None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception (KeyboardInterrupt included) rolls back."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, options: Mapping[str, object]) -> int:
        """Record the start of a run (its options as JSON); returns the run id."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (started_at, options) VALUES (?, ?)",
                (utc_now(), json.dumps(options, sort_keys=True, default=str)),
            )
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)

    def finish_run(self, run_id: int, outcome: str) -> None:
        """Record how a run ended (``completed``, ``interrupted``, ``dry run``, ``failed: ...``)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?", (utc_now(), outcome, run_id)
            )

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM runs ORDER BY id")]

    def add_problems(self, run_id: int, problems: Iterable[InputProblem]) -> None:
        """Record skipped input lines (:class:`~energy_badge.bulk.inputs.InputProblem`) of a run."""
        rows = [(run_id, p.source, p.line, p.text, p.reason) for p in problems]
        if rows:
            with self.transaction() as conn:
                conn.executemany("INSERT INTO input_problems VALUES (?, ?, ?, ?, ?)", rows)

    def problems(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """Skipped input lines, of one run or (None) of the latest run that had any."""
        if run_id is None:
            found = self.conn.execute("SELECT MAX(run_id) FROM input_problems").fetchone()[0]
            if found is None:
                return []
            run_id = int(found)
        query = "SELECT * FROM input_problems WHERE run_id = ? ORDER BY source, line"
        return [dict(r) for r in self.conn.execute(query, (run_id,))]

    # -- jobs: reads -------------------------------------------------------------------------

    def get(self, row_id: int) -> JobRow:
        """One row by id."""
        row = self.conn.execute("SELECT * FROM jobs WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise KeyError(row_id)
        return JobRow.from_sqlite(row)

    def rows(self, ids: Sequence[int] | None = None, *, light: bool = False) -> list[JobRow]:
        """Rows by id (in id order), or every row.

        Args:
            ids: the rows; None for all.
            light: leave ``result_json`` out (None): what planning and reports need, at a fraction
                of the memory once thousands of results are stored.
        """
        columns = _LIGHT if light else "*"
        if ids is None:
            query = f"SELECT {columns} FROM jobs ORDER BY id"
            return [JobRow.from_sqlite(r) for r in self.conn.execute(query)]
        out: list[JobRow] = []
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT {columns} FROM jobs WHERE id IN ({marks}) ORDER BY id"
            out += [JobRow.from_sqlite(r) for r in self.conn.execute(query, chunk)]
        return out

    def rows_for(
        self, task: str, workload_version: str, hardware_class: str, *, light: bool = False
    ) -> list[JobRow]:
        """Every row of one (task, workload version, hardware class), in id order (``light``: as rows)."""
        columns = _LIGHT if light else "*"
        where = "task = ? AND workload_version = ? AND hardware_class = ?"
        query = f"SELECT {columns} FROM jobs WHERE {where} ORDER BY id"
        return [
            JobRow.from_sqlite(r) for r in self.conn.execute(query, (task, workload_version, hardware_class))
        ]

    def counts(self, ids: Sequence[int] | None = None) -> Counter[str]:
        """How many rows have each status (of ``ids``, or of the whole state)."""
        if ids is None:
            return Counter(
                {r[0]: r[1] for r in self.conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY 1")}
            )
        return Counter(r.status for r in self.rows(ids))

    def latest_result(self, model: str, *, canonical: bool) -> StoredResult | None:
        """The latest measured row of ``model`` (only a canonical one when asked), or None."""
        where = f"model = ? AND {_HAS_RESULT}" + (" AND canonical = 1" if canonical else "")
        # by the model's index (a badge's lookup), never by the leaderboard's jobs_by_result
        query = (
            f"SELECT {_STORED} FROM jobs INDEXED BY service_jobs_by_model WHERE {where} "
            "ORDER BY finished_at DESC, id DESC LIMIT 1"
        )
        row = self.conn.execute(query, (model,)).fetchone()
        return _stored(row) if row is not None else None

    def latest_canonical_results(self) -> list[StoredResult]:
        """Each (task, model)'s latest canonical measured row with an energy figure, oldest first."""
        query = (
            f"SELECT {_STORED} FROM jobs WHERE canonical = 1 AND wh_per_1k IS NOT NULL AND {_HAS_RESULT} "
            "ORDER BY finished_at, id"
        )
        latest: dict[tuple[str, str], StoredResult] = {}
        for row in self.conn.execute(query):
            stored = _stored(row)
            latest[(stored.task, stored.model)] = stored
        return list(latest.values())

    def leaderboard_version(self) -> tuple[object, ...]:
        """A cheap fingerprint (one covering-index scan) of the rows :meth:`latest_canonical_results`
        reads: it changes when a canonical result is stored, changed or removed, so a cache of the
        leaderboard can key on it."""
        statuses = ", ".join(f"'{s}'" for s in MEASURED_STATUSES)
        query = (
            "SELECT COUNT(*), MAX(updated_at), TOTAL(wh_per_1k), TOTAL(stars), TOTAL(id), "
            f"TOTAL(length(status)) FROM jobs WHERE canonical = 1 AND status IN ({statuses})"
        )
        return tuple(self.conn.execute(query).fetchone())

    def result_text(self, row_id: int) -> str | None:
        """The stored result's JSON text of a row (None before it is measured)."""
        row = self.conn.execute("SELECT result_json FROM jobs WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise KeyError(row_id)
        return row[0] if row[0] is None else str(row[0])

    # -- jobs: writes ------------------------------------------------------------------------

    def insert_many(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert new rows in one transaction; a row whose key exists already is left alone.

        Args:
            rows: mappings with the key columns, ``status`` and any other column.

        Returns:
            How many rows were inserted.
        """
        now = utc_now()
        inserted = 0
        with self.transaction() as conn:
            for row in rows:
                data = {"created_at": now, "updated_at": now, **row}
                columns = ", ".join(data)
                marks = ", ".join("?" * len(data))
                cursor = conn.execute(
                    f"INSERT INTO jobs ({columns}) VALUES ({marks}) "
                    "ON CONFLICT (model, revision, task, workload_version, hardware_class) DO NOTHING",
                    tuple(data.values()),
                )
                inserted += cursor.rowcount
        return inserted

    def update(self, row_id: int, **values: Any) -> None:
        """Change columns of one row (one transaction); ``updated_at`` is set."""
        self.update_many([(row_id, values)])

    def update_many(self, changes: Iterable[tuple[int, dict[str, Any]]]) -> None:
        """Change columns of several rows in one transaction; ``updated_at`` is set on each."""
        now = utc_now()
        with self.transaction() as conn:
            for row_id, values in changes:
                unknown = set(values) - _UPDATABLE
                if unknown:
                    raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
                if "status" in values and values["status"] not in STATUSES:
                    raise ValueError(f"unknown status {values['status']!r}")
                data = {**values, "updated_at": now}
                assignments = ", ".join(f"{k} = ?" for k in data)
                conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*data.values(), row_id))

    def delete_many(self, ids: Iterable[int]) -> None:
        """Delete rows (a transient resolution failure once the model resolved)."""
        ids = list(ids)
        if ids:
            with self.transaction() as conn:
                conn.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in ids])

    def recover(self, ids: Sequence[int], *, max_attempts: int, run_id: int | None = None) -> dict[str, int]:
        """Put back in the queue the rows a stopped run left in progress.

        A ``measuring`` row becomes ``pending`` again (its attempt stays counted, so a model that
        crashes the process every time still reaches ``max_attempts`` and is marked failed); a
        ``publishing`` row becomes ``measured``, to be published again.

        Returns:
            How many rows were reset: ``{"measuring": n, "publishing": m, "gave_up": k}``.
        """
        changes: list[tuple[int, dict[str, Any]]] = []
        counts = Counter[str]()
        for row in self.rows(ids):
            if row.status == "measuring":
                counts["measuring"] += 1
                if row.attempts >= max_attempts:
                    counts["gave_up"] += 1
                    reason = (
                        f"gave up after {row.attempts} attempts: the run stopped while measuring it each time"
                    )
                    changes.append(
                        (
                            row.id,
                            {
                                "status": "failed",
                                "reason": reason,
                                "reason_code": "interrupted",
                                "permanent": False,
                                "finished_at": utc_now(),
                                "run_id": run_id,
                            },
                        )
                    )
                else:
                    changes.append((row.id, {"status": "pending", "next_attempt_at": None, "run_id": run_id}))
            elif row.status == "publishing":
                counts["publishing"] += 1
                changes.append((row.id, {"status": "measured", "run_id": run_id}))
        if changes:
            self.update_many(changes)
        return {
            "measuring": counts["measuring"],
            "publishing": counts["publishing"],
            "gave_up": counts["gave_up"],
        }
