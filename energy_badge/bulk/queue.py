"""The badge service's queue in the state: webhook pushes, queued in the Hub's commit order.

:class:`WebhookQueue` is the part of :class:`~energy_badge.bulk.state.StateStore` the service's
webhook writes through (its SQL lives here, beside the state's; every change is one transaction of
the store). Each push to ``main`` is recorded in the ``pushes`` table (``oldSha`` -> ``newSha``),
and :func:`energy_badge.bulk.revisions.order` places the pushed revision against the model's newest
revision known so far: so one revision per model is ``pending``, and it is the newest in the Hub's
commit order, whatever order the webhooks arrived in, and however many arrive at once.

:meth:`WebhookQueue.claim` is how a run takes a ``pending`` row: only if it is still ``pending``
(a webhook may have superseded it since the run planned).
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from energy_badge.bulk.records import UNRESOLVED_PREFIX, Enqueued, JobKey, utc_now

__all__ = ["WebhookQueue"]

_KEY = "model = ? AND task = ? AND workload_version = ? AND hardware_class = ?"


class WebhookQueue:
    """The webhook queue's writes (a part of :class:`~energy_badge.bulk.state.StateStore`)."""

    conn: sqlite3.Connection

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (the store's)."""
        raise NotImplementedError

    def enqueue(
        self,
        model: str,
        sha: str,
        key: JobKey,
        *,
        source: str,
        parent: str | None = None,
        head: str | None = None,
    ) -> Enqueued:
        """Queue (model, sha) as a ``pending`` row of ``key``, in the Hub's commit order (one transaction).

        A head that is our own badge commit (a row's ``commit_sha``) is ignored; a row that exists
        is a duplicate. Otherwise :func:`~energy_badge.bulk.revisions.order` places ``sha`` against
        the model's newest revision known so far (its latest row that nothing superseded), from the
        recorded pushes: newer, it is queued and every other ``pending`` row of the model is marked
        skipped (superseded); older (a late delivery), it is recorded as skipped; when the pushes
        cannot tell, nothing is queued and the answer is ``unordered``: the caller asks the Hub where
        ``main`` is and calls again with ``head``.

        Args:
            model: the repo id.
            sha: the head commit to measure.
            key: the queue's task, workload version and hardware class.
            source: where the request came from (``webhook``).
            parent: the commit ``main`` moved from to ``sha`` (the webhook's ``oldSha``), if known.
            head: the commit ``main`` is at on the Hub now (after an ``unordered`` answer).

        Returns:
            What was done (:class:`~energy_badge.bulk.records.Enqueued`).
        """
        from energy_badge.bulk.revisions import Push, order

        now = utc_now()
        values = (model, key.task, key.workload_version, key.hardware_class)
        with self.transaction() as conn:
            if parent is not None and parent != sha:
                conn.execute(
                    "INSERT OR IGNORE INTO pushes (model, old_sha, new_sha, received_at) VALUES (?, ?, ?, ?)",
                    (model, parent, sha, now),
                )
            own = conn.execute(
                "SELECT id FROM jobs WHERE model = ? AND commit_sha = ? LIMIT 1", (model, sha)
            ).fetchone()
            if own is not None:
                return Enqueued("ignored", int(own[0]), "the new head is our own badge commit")
            found = _row(conn, values, sha)
            if found is not None:
                return Enqueued("duplicate", int(found[0]))
            query = "SELECT old_sha, new_sha FROM pushes WHERE model = ?"
            pushes = [Push(old, new) for old, new in conn.execute(query, (model,))]
            latest = conn.execute(
                f"SELECT revision FROM jobs WHERE {_KEY} AND revision NOT LIKE '{UNRESOLVED_PREFIX}%' "
                "AND COALESCE(reason_code, '') != 'superseded' ORDER BY id DESC LIMIT 1",
                values,
            ).fetchone()
            if head is not None:
                ours = conn.execute(
                    "SELECT revision FROM jobs WHERE model = ? AND commit_sha = ? LIMIT 1", (model, head)
                ).fetchone()
                head = str(ours[0]) if ours is not None else head  # main is at our badge commit on it
            placed = order(sha, str(latest[0]) if latest is not None else None, pushes, head)
            if placed.verdict == "unknown":
                return Enqueued("unordered", None)
            if placed.verdict == "stale":
                row_id = _insert(conn, values, sha, source, now, placed.reason)
                return Enqueued("superseded", row_id, placed.reason)
            if placed.verdict == "newest":
                row_id = _insert(conn, values, sha, source, now)
                _supersede_pending_but(conn, values, row_id, sha, now)
                return Enqueued("queued", row_id)
            assert placed.newer is not None  # "head": main's head, newer than every known revision
            head_row = _row(conn, values, placed.newer)
            if head_row is None:
                head_id = _insert(conn, values, placed.newer, source, now)
            else:
                head_id = int(head_row[0])
                if head_row[1] == "skipped":  # superseded by a mistaken order before: it is the newest
                    conn.execute(
                        "UPDATE jobs SET status = 'pending', reason = NULL, reason_code = NULL, "
                        "updated_at = ? WHERE id = ?",
                        (now, head_id),
                    )
            _supersede_pending_but(conn, values, head_id, placed.newer, now)
            row_id = _insert(conn, values, sha, source, now, placed.reason)
            return Enqueued("queued", row_id, placed.reason, pending=placed.newer, pending_row=head_id)

    def claim(self, row_id: int, expected: str, **values: Any) -> bool:
        """Change a row only if its status is still ``expected`` (one transaction).

        Args:
            row_id: the row.
            expected: the status it must have (``pending``).
            values: the columns to set (``status`` ...); ``updated_at`` is set.

        Returns:
            Whether the row was changed (False: another writer changed its status meanwhile).
        """
        data = {**values, "updated_at": utc_now()}
        assignments = ", ".join(f"{k} = ?" for k in data)
        with self.transaction() as conn:
            query = f"UPDATE jobs SET {assignments} WHERE id = ? AND status = ?"
            cursor = conn.execute(query, (*data.values(), row_id, expected))
            return cursor.rowcount == 1


def _row(conn: sqlite3.Connection, values: tuple[str, ...], revision: str) -> tuple[Any, ...] | None:
    found = conn.execute(f"SELECT id, status FROM jobs WHERE {_KEY} AND revision = ?", (*values, revision))
    row = found.fetchone()
    return tuple(row) if row is not None else None


def _insert(
    conn: sqlite3.Connection,
    values: tuple[str, ...],
    revision: str,
    source: str,
    now: str,
    superseded: str | None = None,
) -> int:
    """A new row: ``pending``, or (``superseded``: its reason) skipped as superseded."""
    model, task, workload_version, hardware_class = values
    status, code = ("skipped", "superseded") if superseded else ("pending", None)
    cursor = conn.execute(
        "INSERT INTO jobs (model, revision, task, workload_version, hardware_class, status, reason, "
        "reason_code, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (model, revision, task, workload_version, hardware_class, status, superseded, code, source, now, now),
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


def _supersede_pending_but(
    conn: sqlite3.Connection, values: tuple[str, ...], keep: int, revision: str, now: str
) -> None:
    conn.execute(
        "UPDATE jobs SET status = 'skipped', reason = ?, reason_code = 'superseded', updated_at = ? "
        f"WHERE {_KEY} AND status = 'pending' AND id != ?",
        (f"superseded by a newer revision {revision[:12]}", now, *values, keep),
    )
