"""The records of a bulk state: a job's statuses, its row, its queue key, and what the service reads.

See :mod:`energy_badge.bulk.state` for the statuses' life cycle; :class:`~energy_badge.bulk.state.StateStore`
reads and writes these records, and every other module (the driver, the report, the service) gets
them from it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from energy_badge.text import utc_now

if TYPE_CHECKING:
    from energy_badge.result import EnergyResult

__all__ = [
    "FINAL_STATUSES",
    "MEASURED_STATUSES",
    "STATUSES",
    "UNRESOLVED_PREFIX",
    "Enqueued",
    "JobKey",
    "JobRow",
    "StoredResult",
    "utc_now",
]

STATUSES = ("pending", "measuring", "measured", "publishing", "published", "pr_open", "failed", "skipped")
#: Statuses that need no more work in this run (``measured`` only when nothing is left to publish).
FINAL_STATUSES = frozenset({"published", "pr_open", "failed", "skipped"})
#: Statuses of a row that holds a measured result.
MEASURED_STATUSES = ("measured", "publishing", "published", "pr_open")
UNRESOLVED_PREFIX = "@"


@dataclass(frozen=True)
class JobKey:
    """What the rows of one queue share: the task, the workload version and the hardware class."""

    task: str
    workload_version: str
    hardware_class: str

    def columns(self) -> dict[str, str]:
        """The key as the ``jobs`` table's column values."""
        return {
            "task": self.task,
            "workload_version": self.workload_version,
            "hardware_class": self.hardware_class,
        }


@dataclass(frozen=True)
class StoredResult:
    """A row that holds a measured result, without the result itself (see :meth:`StateStore.result_text`).

    Attributes:
        id: the row.
        model, revision, task, hardware_class: what was measured, on what.
        status: one of :data:`MEASURED_STATUSES`.
        canonical, stars, wh_per_1k: from the result and its rating.
        updated_at, finished_at: RFC 3339 UTC times.
    """

    id: int
    model: str
    revision: str
    task: str
    hardware_class: str
    status: str
    canonical: bool | None
    stars: int | None
    wh_per_1k: float | None
    updated_at: str
    finished_at: str | None


@dataclass(frozen=True)
class Enqueued:
    """What :meth:`StateStore.enqueue` did.

    Attributes:
        status: ``queued`` (a new pending row), ``duplicate`` (the row exists), ``ignored`` (our own
            badge commit), ``superseded`` (an older commit than one known: recorded as skipped), or
            ``unordered`` (nothing written: the caller must ask the Hub for main's head and call again).
        row_id: the row queued, found, recorded, or (ignored) the row whose commit the new head is.
        reason: why it was ignored or superseded.
        pending: the revision now queued in its place, when that is another one (main's head).
        pending_row: that revision's row.
    """

    status: Literal["queued", "duplicate", "ignored", "superseded", "unordered"]
    row_id: int | None
    reason: str | None = None
    pending: str | None = None
    pending_row: int | None = None


@dataclass
class JobRow:
    """One row of the ``jobs`` table (see the module docstring for the statuses).

    Attributes:
        id: the row id.
        model, revision, task, workload_version, hardware_class: the job's key.
        requested_revision: what the input asked for (None: the main branch).
        status: one of :data:`STATUSES`.
        reason: why it failed or was skipped; for ``measured``, a ``not published: ...`` note.
        reason_code: a short class of the reason, for grouping (``not-found``, ``gated``, ``network``...).
        permanent: for a failure, True when retrying cannot help (None otherwise).
        attempts: measurements started; publish_attempts: publishes started.
        next_attempt_at: epoch seconds before which a retry waits (backoff), or None.
        source: where the model came from (``models.txt:12``, ``hub query``).
        run_id: the last run that changed the row.
        created_at, updated_at, started_at, finished_at: RFC 3339 UTC times.
        result_json: the result's JSON form once measured.
        canonical, stars, wh_per_1k: from the result and its rating.
        url: the commit or pull request URL once published; commit_sha, pr_num likewise.
    """

    id: int
    model: str
    revision: str
    requested_revision: str | None
    task: str
    workload_version: str
    hardware_class: str
    status: str
    reason: str | None
    reason_code: str | None
    permanent: bool | None
    attempts: int
    publish_attempts: int
    next_attempt_at: float | None
    source: str | None
    run_id: int | None
    created_at: str
    updated_at: str
    started_at: str | None
    finished_at: str | None
    result_json: str | None
    canonical: bool | None
    stars: int | None
    wh_per_1k: float | None
    url: str | None
    commit_sha: str | None
    pr_num: int | None

    @property
    def resolved(self) -> bool:
        """True when ``revision`` is a commit sha (not ``@<ref>``)."""
        return not self.revision.startswith(UNRESOLVED_PREFIX)

    @property
    def result(self) -> EnergyResult | None:
        """The stored result, decoded and validated (None before it is measured, or for a light row).

        Raises:
            InvalidFileError: the stored text is not a valid result.
        """
        from energy_badge.bulk.codec import result_from_state

        return result_from_state(self.result_json, model=self.model) if self.result_json else None

    @classmethod
    def from_sqlite(cls, row: sqlite3.Row) -> JobRow:
        data = dict(row)
        for key in ("permanent", "canonical"):
            if data[key] is not None:
                data[key] = bool(data[key])
        return cls(**data)
