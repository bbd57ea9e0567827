"""Hub webhook payloads: what an event means for the badge service (no web framework here).

The payload format is the Hub's, as documented at https://huggingface.co/docs/hub/webhooks::

    {"event": {"action": "update", "scope": "repo.content"},
     "repo": {"type": "model", "name": "alice/tiny", "id": "...", "private": false,
              "headSha": "<40 hex>", "url": {"web": "...", "api": "..."}, "owner": {"id": "..."}},
     "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "...", "newSha": "..."}],
     "webhook": {"id": "...", "version": 3}}

The secret configured on the Hub is sent verbatim in the ``X-Webhook-Secret`` header (no HMAC
signature); it is compared in constant time by the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from energy_badge.hub import repo_id_problem

__all__ = ["Event", "WebhookError", "parse_event"]

_SHA = re.compile(r"[0-9a-f]{40}")
#: Scopes and actions that mean "the model's files changed": a push to the repo.
CONTENT_SCOPE = "repo.content"
CONTENT_ACTIONS = frozenset({"create", "update"})
MAIN_REF = "refs/heads/main"
_NO_COMMIT = "0" * 40  # git's "no commit": a branch created, or deleted


class WebhookError(ValueError):
    """A payload that is not a valid Hub webhook (answered with HTTP 422)."""


@dataclass(frozen=True)
class Event:
    """What a webhook asks of the service.

    Attributes:
        action, scope: the Hub's ``event.action`` and ``event.scope``.
        repo_type: ``model``, ``dataset`` or ``space``.
        model: the repo id (validated by :func:`energy_badge.hub.repo_id_problem` when ``enqueue``).
        sha: the new head commit of ``main`` (when ``enqueue``).
        enqueue: True when a measurement should be queued; otherwise ``reason`` says why not.
        reason: why the event is ignored.
        parent: the commit ``main`` moved from (``updatedRefs``' ``oldSha``), when the payload says
            (None for a new branch, or a payload without ``updatedRefs``): how pushes are put in
            the Hub's commit order whatever order their webhooks arrive in.
    """

    action: str
    scope: str
    repo_type: str | None
    model: str | None
    sha: str | None
    enqueue: bool
    reason: str | None = None
    parent: str | None = None


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise WebhookError(f"{where}.{key} must be a string")
    return value


def parse_event(payload: Any) -> Event:
    """Read a Hub webhook payload.

    A model repo content update (``repo.content`` create/update) that moved ``main`` is queued;
    every other event (datasets, spaces, discussions, config changes, pushes to other branches or
    pull-request refs, private repos) is acknowledged and ignored.

    Raises:
        WebhookError: not a Hub webhook payload (missing ``event``/``repo``), or a model update whose
            repo name or head sha is invalid.
    """
    if not isinstance(payload, dict):
        raise WebhookError("the payload must be a JSON object")
    event = payload.get("event")
    repo = payload.get("repo")
    if not isinstance(event, dict):
        raise WebhookError("event must be an object with action and scope")
    action, scope = _text(event, "action", "event"), _text(event, "scope", "event")
    if not isinstance(repo, dict):
        if scope.startswith("repo") or scope.startswith("discussion"):
            raise WebhookError("repo must be an object")
        return Event(action, scope, None, None, None, False, f"event scope {scope!r} is not a repo event")
    repo_type = repo.get("type")
    if not isinstance(repo_type, str):
        raise WebhookError("repo.type must be a string")

    def ignored(reason: str) -> Event:
        name = repo.get("name")
        return Event(action, scope, repo_type, name if isinstance(name, str) else None, None, False, reason)

    if repo_type != "model":
        return ignored(f"a {repo_type} repo, not a model")
    if scope != CONTENT_SCOPE or action not in CONTENT_ACTIONS:
        return ignored(f"event {scope}/{action} does not change the model's files")
    name = _text(repo, "name", "repo")
    problem = repo_id_problem(name)
    if problem is not None:
        raise WebhookError(f"repo.name: {problem}")
    if repo.get("private") is True:
        return ignored("a private repo: the service measures public models only")
    refs = payload.get("updatedRefs")
    main_moved: str | None = None
    parent: str | None = None
    if refs is not None:
        if not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs):
            raise WebhookError("updatedRefs must be a list of objects")
        for ref in refs:
            if ref.get("ref") == MAIN_REF:
                main_moved = ref.get("newSha") if isinstance(ref.get("newSha"), str) else ""
                old = ref.get("oldSha")
                parent = old if isinstance(old, str) and _SHA.fullmatch(old) and old != _NO_COMMIT else None
        if main_moved is None:
            return ignored("the push did not change the main branch")
    sha = repo.get("headSha", main_moved)
    if not isinstance(sha, str) or not _SHA.fullmatch(sha):
        raise WebhookError("repo.headSha must be a 40-character lowercase hex commit sha")
    if main_moved and main_moved != sha:
        parent = None  # the head is not where this push moved main: the push says nothing of it
    return Event(action, scope, repo_type, name, sha, True, parent=parent)
