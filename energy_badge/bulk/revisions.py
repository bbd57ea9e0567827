"""Which of a model's revisions is the newest, in the Hub's commit order (not in delivery order).

A Hub webhook for a push to ``main`` says where the branch moved: ``updatedRefs`` holds
``{"ref": "refs/heads/main", "oldSha": A, "newSha": B}``. The service records each such move as a
:class:`Push`; the moves of one model form a chain (A -> B -> C ...), whatever order their webhooks
arrived in. From the chain alone:

* a revision that a recorded push moved ``main`` *away from* is stale (a late delivery);
* a revision whose chain of recorded pushes leads back to the newest revision known so far is newer
  than it.

When the chain cannot tell (a delivery lost or still on its way, a payload without
``updatedRefs``, a revision measured by ``bulk`` that no push recorded), the Hub is asked which
commit ``main`` is at now (one read); :func:`order` then decides with that head: the head is by
definition the newest, and a head that no webhook has brought yet is queued itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Order", "Push", "descends", "moved_on", "order"]

#: The most pushes followed when walking a chain (a model with a longer history falls back to the Hub).
MAX_CHAIN = 10_000


@dataclass(frozen=True)
class Push:
    """One recorded move of a model's ``main``: from ``old`` to ``new`` (commit shas)."""

    old: str
    new: str


@dataclass(frozen=True)
class Order:
    """Where a pushed revision stands.

    Attributes:
        verdict: ``newest`` (queue it), ``stale`` (an older commit: ``newer`` is newer),
            ``head`` (main's head ``newer`` is newer than every revision known: queue that one),
            or ``unknown`` (the chain cannot tell: ask the Hub for main's head).
        newer: the revision newer than the pushed one (``stale``, ``head``).
        reason: one line for the state and the webhook's answer (``stale``, ``head``).
    """

    verdict: Literal["newest", "stale", "head", "unknown"]
    newer: str | None = None
    reason: str | None = None


def moved_on(sha: str, pushes: Iterable[Push]) -> str | None:
    """The revision a recorded push moved ``main`` to from ``sha`` (None: no such push)."""
    for push in pushes:
        if push.old == sha and push.new != sha:
            return push.new
    return None


def descends(newer: str, older: str, pushes: Iterable[Push]) -> bool:
    """Whether a chain of recorded pushes leads from ``older`` to ``newer`` (``older`` != ``newer``)."""
    parents: dict[str, set[str]] = {}
    for push in pushes:
        parents.setdefault(push.new, set()).add(push.old)
    seen: set[str] = set()
    frontier = [newer]
    while frontier and len(seen) < MAX_CHAIN:
        sha = frontier.pop()
        for parent in parents.get(sha, ()):
            if parent == older:
                return True
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return False


def order(sha: str, current: str | None, pushes: Iterable[Push], head: str | None = None) -> Order:
    """Where the pushed revision ``sha`` stands against the newest revision known so far.

    Args:
        sha: the revision a webhook brought.
        current: the model's newest revision known so far (its latest row that nothing superseded),
            other than ``sha``; None when there is none.
        pushes: the model's recorded pushes (this one included).
        head: the commit ``main`` is at on the Hub now (our own badge commit already mapped to the
            revision it was made on), when the chain could not tell; None: not asked yet.

    Returns:
        The :class:`Order`.
    """
    pushes = list(pushes)
    moved = moved_on(sha, pushes)
    if moved is not None:
        return Order("stale", moved, f"superseded: main moved on from it to {moved[:12]} (a late delivery)")
    if current is None:
        return Order("newest")
    if head is None:
        return Order("newest") if descends(sha, current, pushes) else Order("unknown")
    if sha == head or descends(sha, head, pushes):
        return Order("newest")  # main's head, or pushed after the Hub was asked
    if current == head or descends(current, head, pushes):
        return Order("stale", current, f"superseded: main is at {current[:12]}, a newer commit")
    return Order("head", head, f"superseded: main has moved on to {head[:12]}, queued instead")
