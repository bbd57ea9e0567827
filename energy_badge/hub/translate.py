"""The one translation of huggingface_hub (and HTTP transport) errors into energy-badge's errors.

Every failure of a Hub request becomes one line, with any token scrubbed out:

=====================================  =====================================  ====
what the client raised                 error                                  exit
=====================================  =====================================  ====
repository not found / private         :class:`HubNotFoundError`              4
gated without access                   :class:`HubGatedError`                 4
revision or file not found             :class:`~energy_badge.errors.ModelNotFoundError`  4
401, 403, other 4xx, bad card metadata :class:`~energy_badge.errors.HubError`   4
429 or 5xx after the retries           :class:`~energy_badge.errors.NetworkError`  5
unreachable, offline, not JSON         :class:`~energy_badge.errors.NetworkError`  5
=====================================  =====================================  ====

:class:`HubNotFoundError` and :class:`HubGatedError` are both a :class:`~energy_badge.errors.HubError`
(what publishing callers catch) and a :class:`~energy_badge.errors.ModelNotFoundError` /
:class:`~energy_badge.errors.GatedModelError` (what measuring callers and the bulk reason codes
tell apart); every one of them exits 4.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from energy_badge.errors import (
    EnergyBadgeError,
    HubError,
    HubGatedError,
    HubNotFoundError,
    ModelNotFoundError,
    NetworkError,
)
from energy_badge.hub.retry import http_status

__all__ = ["failure_types", "first_line", "scrub", "translate_error"]


def failure_types() -> tuple[type[BaseException], ...]:
    """The exception classes :func:`translate_error` turns into energy-badge errors."""
    import httpx2

    return (ValueError, OSError, httpx2.HTTPError)


def first_line(text: str | None) -> str:
    """The first line of ``text``, at most 200 characters ("" for none)."""
    if not text or not text.strip():
        return ""
    line = text.strip().splitlines()[0]
    return line if len(line) <= 200 else line[:197] + "..."


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret (a token) replaced by ``hf_***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "hf_***")
    return text


def _is_write(err: BaseException) -> bool:
    request = getattr(getattr(err, "response", None), "request", None)
    return getattr(request, "method", "GET") not in ("GET", "HEAD")


def translate_error(
    err: BaseException,
    *,
    what: str,
    endpoint: str,
    repo_id: str | None = None,
    revision: str | None = None,
    secrets: Sequence[str] = (),
) -> EnergyBadgeError:
    """Turn what a Hub request raised into a one-line energy-badge error (see the module docstring).

    Args:
        err: the exception (an :class:`~energy_badge.errors.EnergyBadgeError` comes back as it is).
        what: what the request tried to do, as a verb phrase (``read the model card``).
        endpoint: the Hub endpoint, named when it cannot be reached.
        repo_id: the repository, named first in the message (None: a listing).
        revision: the revision asked for, named when it does not exist.
        secrets: tokens to scrub out of the message.

    Returns:
        The error to raise (``raise translate_error(...) from err``).
    """
    if isinstance(err, EnergyBadgeError):
        return err
    import httpx2
    from huggingface_hub.errors import (
        DisabledRepoError,
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        LocalTokenNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    name = repo_id or "the repository"
    who = f"{repo_id}: " if repo_id else ""

    def line(cls: type[EnergyBadgeError], message: str) -> EnergyBadgeError:
        return cls(scrub(message, secrets))

    if isinstance(err, GatedRepoError):
        return line(
            HubGatedError,
            f"{name} is gated and this token's account has no access: request access on its Hub page, "
            "or use a token (--token or HF_TOKEN) of an account that has it",
        )
    if isinstance(err, RepositoryNotFoundError):
        return line(
            HubNotFoundError,
            f"{name}: repository not found on {endpoint} (or it is private and this token cannot see it)",
        )
    if isinstance(err, RevisionNotFoundError):
        at = f" {revision!r}" if revision else ""
        return line(ModelNotFoundError, f"{name}: revision{at} not found while trying to {what}")
    if isinstance(err, DisabledRepoError):
        return line(HubError, f"{name}: the repository is disabled on the Hub")
    if isinstance(err, OfflineModeIsEnabled):
        return line(NetworkError, f"{who}HF_HUB_OFFLINE is set, so the Hub cannot be reached")
    if isinstance(err, LocalEntryNotFoundError) or isinstance(err, (httpx2.TransportError, ConnectionError)):
        cause = err.__cause__ if isinstance(err, LocalEntryNotFoundError) and err.__cause__ else err
        reason = f"{type(cause).__name__}: {first_line(str(cause))}".rstrip(": ")
        return line(NetworkError, f"cannot reach the Hub at {endpoint} to {what} ({reason})")
    if isinstance(err, EntryNotFoundError):
        at = f" at {revision}" if revision else ""
        return line(ModelNotFoundError, f"{name}{at} lacks a needed file: {first_line(str(err))}")
    if isinstance(err, HfHubHTTPError):
        status = http_status(err)
        server = first_line(err.server_message)
        detail = f": {server}" if server else ""
        if status == 401:
            return line(HubError, f"{who}the Hub rejected the token (HTTP 401{detail})")
        if status == 403:
            if _is_write(err):
                return line(HubError, f"{who}no write access with this token (HTTP 403{detail})")
            return line(HubError, f"{who}this token may not {what} (HTTP 403{detail})")
        if status == 429:
            return line(NetworkError, f"{who}still rate limited by the Hub after retries ({what})")
        if status is None or status >= 500 or status == 408:
            return line(NetworkError, f"{who}the Hub kept failing (HTTP {status}) to {what}")
        return line(HubError, f"{who}the Hub refused to {what} (HTTP {status}{detail})")
    if isinstance(err, LocalTokenNotFoundError):
        return HubError(f"{who}no Hugging Face token: pass one, set HF_TOKEN, or run `hf auth login`")
    if isinstance(err, json.JSONDecodeError):
        return line(NetworkError, f"{who}the Hub kept sending answers that are not JSON to {what}")
    if isinstance(err, ValueError) and str(err).startswith("Invalid metadata in README.md"):
        reasons = "; ".join(part.lstrip("- ").strip() for part in str(err).splitlines()[1:] if part.strip())
        return line(HubError, f"{who}the Hub rejected the card's metadata: {reasons or err}")
    return line(HubError, f"{who}could not {what}: {type(err).__name__}: {first_line(str(err))}")
