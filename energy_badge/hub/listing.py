"""The Hub's model listing (``/api/models``), page by page: :meth:`HubClient.list_models
<energy_badge.hub.client.HubClient.list_models>`.

Each page (``Link: <...>; rel="next"``) is one read under the client's retry policy, so a page
that fails is tried again, not the whole listing (huggingface_hub's own ``list_models`` retries
every page itself, on top of ours, with its own waits and log lines). A page that is not a JSON
list of models is a :class:`~energy_badge.errors.HubError`, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from energy_badge.errors import HubError, InvalidFileError
from energy_badge.files import parse_json
from energy_badge.hub.records import RepoInfo, repo_info_from

if TYPE_CHECKING:
    from energy_badge.hub.client import HubClient

__all__ = ["list_models"]


def list_models(
    client: HubClient,
    *,
    search: str | None,
    author: str | None,
    pipeline_tag: str | None,
    limit: int | None,
    expand: Sequence[str],
) -> list[RepoInfo]:
    """Models matching a Hub listing query, in the Hub's order.

    Args:
        client: the client whose endpoint, token and retry policy the pages are read with.
        search, author, pipeline_tag: the query (each left out when empty).
        limit: the most models to return (None: every page).
        expand: the properties to ask for of each model.

    Returns:
        The models, at most ``limit``.

    Raises:
        HubError: a page is not a list of models; as :meth:`HubClient.read
            <energy_badge.hub.client.HubClient.read>` for a page that keeps failing.
    """
    from huggingface_hub.hf_api import ModelInfo

    params: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (("search", search), ("author", author), ("pipeline_tag", pipeline_tag)):
        if value:
            params.append((key, value))
    if limit is not None:
        params.append(("limit", limit))
    params += [("expand", e) for e in expand]
    what = f"list models (search={search!r}, author={author!r}, pipeline_tag={pipeline_tag!r})"
    headers = client.headers()
    url: str | None = f"{client.endpoint}/api/models"
    page_params: list[tuple[str, str | int | float | bool | None]] | None = (
        params  # the next pages' URLs carry them
    )
    out: list[RepoInfo] = []
    while url is not None and (limit is None or len(out) < limit):
        items, url = client.read(what, functools.partial(_models_page, url, page_params, headers))
        page_params = None
        for item in items:
            item.setdefault("siblings", None)
            out.append(repo_info_from(ModelInfo(**item)))
    return out[:limit] if limit is not None else out


def _models_page(
    url: str, params: list[tuple[str, str | int | float | bool | None]] | None, headers: dict[str, str]
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a model listing and the next page's URL (``Link: <...>; rel="next"``), if any."""
    from huggingface_hub.utils import get_session, hf_raise_for_status

    response = get_session().get(url, params=params, headers=headers)
    hf_raise_for_status(response)
    try:
        items = parse_json(response.content, source="the Hub's model listing")
    except InvalidFileError as err:  # not JSON, duplicate keys, nested too deep: never a traceback
        raise HubError(str(err)) from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise HubError("the Hub's model listing is not a list of models")
    return items, response.links.get("next", {}).get("url")
