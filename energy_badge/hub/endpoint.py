"""Where the Hub is (:func:`resolve_endpoint`) and which account a token is there, remembered for the
process (:func:`remembered_account`): facts about an endpoint, shared by every
:class:`~energy_badge.hub.client.HubClient` of it. huggingface_hub is imported inside the function
that needs it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable

__all__ = ["clear_account_cache", "remembered_account", "resolve_endpoint"]

# (endpoint, sha256 of the token) -> account name. whoami-v2 is strictly rate limited on the Hub,
# and a bulk run publishes to many repos with one token.
_ACCOUNTS: dict[tuple[str, str], str] = {}
_ACCOUNTS_LOCK = threading.Lock()


def clear_account_cache() -> None:
    """Forget the account names learnt from tokens (tests start each Hub afresh)."""
    with _ACCOUNTS_LOCK:
        _ACCOUNTS.clear()


def resolve_endpoint(endpoint: str | None = None) -> str:
    """The Hub endpoint to talk to.

    Args:
        endpoint: an explicit endpoint; wins when given.

    Returns:
        ``endpoint``, else ``HF_ENDPOINT`` as the environment holds it *now*, else the endpoint
        huggingface_hub fixed at import time (``https://huggingface.co`` by default); no trailing ``/``.
    """
    if endpoint:
        return endpoint.rstrip("/")
    from_env = os.environ.get("HF_ENDPOINT")
    if from_env:
        return from_env.rstrip("/")
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def remembered_account(endpoint: str, token: str, look_up: Callable[[], str]) -> str:
    """The name of the account ``token`` belongs to at ``endpoint``: remembered, else ``look_up()``.

    Only the token's sha256 is kept, as part of the key.

    Args:
        endpoint: the Hub endpoint.
        token: the token.
        look_up: asks the Hub (``whoami``); its answer is remembered.

    Returns:
        The account name.

    Raises:
        Exception: whatever ``look_up`` raises (nothing is remembered then).
    """
    key = (endpoint, hashlib.sha256(token.encode()).hexdigest())
    with _ACCOUNTS_LOCK:
        known = _ACCOUNTS.get(key)
    if known is not None:
        return known
    name = look_up()
    with _ACCOUNTS_LOCK:
        _ACCOUNTS[key] = name
    return name
