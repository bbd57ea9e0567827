"""The Hub client: the one place that constructs huggingface_hub's ``HfApi`` and talks to the Hub.

:class:`HubClient` holds the endpoint, the token (never logged, scrubbed from every message) and a
:class:`~energy_badge.hub.retry.RetryPolicy`. Its reads (:meth:`~HubClient.model_info`,
:meth:`~HubClient.read_file`, :meth:`~HubClient.download_file`, :meth:`~HubClient.snapshot`,
:meth:`~HubClient.pull_requests`, :meth:`~HubClient.commits`, :meth:`~HubClient.list_models`,
:meth:`~HubClient.account`) are retried by that policy and their failures translated by
:func:`~energy_badge.hub.translate.translate_error`; they return this module's frozen dataclasses,
not huggingface_hub's objects. :meth:`~HubClient.create_commit` is the one write: one POST, never
retried, its failure raised as the client raised it, for the publish round to sort.

An endpoint that refuses connections before it ever answered is down or mistyped, not busy: a
client made with ``unreachable_is_final=True`` (the bulk job's) does not retry that, and raises
:class:`HubUnreachableError` at once; once the Hub has answered, a failed connection is retried
like any transient failure.

huggingface_hub is imported inside the methods; ``HF_ENDPOINT``, ``HF_TOKEN`` and ``hf auth login``
work as for any Hub tool.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from energy_badge import __version__
from energy_badge.errors import EnergyBadgeError, HubError, InvalidFileError, NetworkError
from energy_badge.files import parse_json
from energy_badge.hub.retry import RetryPolicy, http_status, is_connect_failure
from energy_badge.hub.translate import failure_types, scrub, translate_error

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import ModelInfo

__all__ = [
    "CommitEntry",
    "CommitResult",
    "HubClient",
    "HubUnreachableError",
    "PullRequest",
    "RepoFile",
    "RepoInfo",
    "clear_account_cache",
    "resolve_endpoint",
]

T = TypeVar("T")

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


class HubUnreachableError(NetworkError):
    """The Hub endpoint refused the connection (or has no such host) before it ever answered."""


@dataclass(frozen=True)
class RepoFile:
    """One file of a repository at a revision.

    Attributes:
        path: its path in the repository.
        blob_id: its git blob sha1 (None when the Hub did not say).
        lfs_sha256: the sha256 of its content when it is stored with LFS, else None.
    """

    path: str
    blob_id: str | None
    lfs_sha256: str | None = None

    @property
    def content_id(self) -> str | None:
        """What identifies the content: the LFS sha256, else the blob id."""
        return self.lfs_sha256 if self.lfs_sha256 is not None else self.blob_id


@dataclass(frozen=True)
class RepoInfo:
    """A model repository as the Hub describes it at one revision.

    Attributes:
        repo_id: the repository.
        sha: the commit the revision is at (None when the Hub did not say).
        files: its files (with blob ids when asked for ``files_metadata``; empty when not listed).
        card_data: the model card's front matter (when the Hub sent it), else None.
        pipeline_tag: the Hub's pipeline tag (when asked for with ``expand`` and the model has one).
    """

    repo_id: str
    sha: str | None
    files: tuple[RepoFile, ...] = ()
    card_data: Mapping[str, object] | None = None
    pipeline_tag: str | None = None

    @property
    def paths(self) -> list[str]:
        """The files' paths."""
        return [f.path for f in self.files]


@dataclass(frozen=True)
class PullRequest:
    """A pull request (or discussion) of a repository.

    Attributes:
        num: its number.
        title: its title.
        author: the account that opened it.
        status: ``open``, ``closed``, ``merged`` or ``draft``.
        is_pull_request: False for a plain discussion.
        git_reference: its branch (``refs/pr/<num>``).
        url: its page.
    """

    num: int
    title: str
    author: str
    status: str
    is_pull_request: bool
    git_reference: str
    url: str


@dataclass(frozen=True)
class CommitEntry:
    """One commit of a branch's history: its sha and the first line of its message."""

    commit_id: str
    title: str


@dataclass(frozen=True)
class CommitResult:
    """What a commit made: the commit (``oid``) and, when it opened a pull request, its URL and number."""

    oid: str
    pr_url: str | None
    pr_num: int | None


def _repo_info(info: ModelInfo) -> RepoInfo:
    files = tuple(
        RepoFile(s.rfilename, s.blob_id, s.lfs.sha256 if s.lfs is not None else None)
        for s in info.siblings or []
    )
    card = info.card_data.to_dict() if info.card_data is not None else None
    tag = info.pipeline_tag if isinstance(info.pipeline_tag, str) else None
    return RepoInfo(info.id, str(info.sha) if info.sha else None, files, card, tag)


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


class HubClient:
    """A connection to one Hub endpoint with one token (see the module docstring).

    Args:
        token: a Hub token; when None, huggingface_hub's own resolution applies (``HF_TOKEN``,
            then the ``hf auth login`` token), and there may be none.
        endpoint: the Hub endpoint (default :func:`resolve_endpoint`).
        retry: how reads are retried (default :class:`~energy_badge.hub.retry.RetryPolicy()`).
        unreachable_is_final: a connection that cannot be made before the Hub ever answered this
            client is not retried: :class:`HubUnreachableError` at once (see the module docstring).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        endpoint: str | None = None,
        retry: RetryPolicy | None = None,
        unreachable_is_final: bool = False,
    ) -> None:
        from huggingface_hub import HfApi, get_token

        self.endpoint = resolve_endpoint(endpoint)
        self.retry = retry or RetryPolicy()
        self.unreachable_is_final = unreachable_is_final
        self._reached = False
        self._secrets: list[str] = [token] if token else []
        self.token: str | None = token or get_token()
        if self.token and self.token not in self._secrets:
            self._secrets.append(self.token)
        self._api: HfApi = HfApi(
            endpoint=self.endpoint, token=self.token, library_name="energy-badge", library_version=__version__
        )

    # -- the two things every call does ---------------------------------------------------------

    def scrub(self, text: str) -> str:
        """``text`` without this client's token."""
        return scrub(text, self._secrets)

    def translate(
        self, err: BaseException, *, what: str, repo_id: str | None = None, revision: str | None = None
    ) -> EnergyBadgeError:
        """One energy-badge error for a failed request (see :mod:`energy_badge.hub.translate`)."""
        return translate_error(
            err, what=what, endpoint=self.endpoint, repo_id=repo_id, revision=revision, secrets=self._secrets
        )

    def read(
        self, what: str, fn: Callable[[], T], *, repo_id: str | None = None, revision: str | None = None
    ) -> T:
        """Run one read under the retry policy, translating its failure.

        Args:
            what: what it does, as a verb phrase (``read alice/x@main``), for waits and errors.
            fn: the read.
            repo_id, revision: named in the error.

        Raises:
            HubUnreachableError: ``unreachable_is_final`` and no connection could be made to a Hub
                that never answered this client.
            HubError, ModelNotFoundError, GatedModelError, NetworkError: see
                :mod:`energy_badge.hub.translate`.
        """

        def attempt() -> T:
            try:
                out = fn()
            except BaseException as err:
                if http_status(err) is not None:
                    self._reached = True
                raise
            self._reached = True
            return out

        try:
            return self.retry.call(attempt, what=what, subject=repo_id or "the Hub", final=self._unreachable)
        except failure_types() as err:
            error = self.translate(err, what=what, repo_id=repo_id, revision=revision)
            if self._unreachable(err) and isinstance(error, NetworkError):
                raise HubUnreachableError(str(error)) from err
            raise error from err

    @property
    def reached(self) -> bool:
        """Whether the Hub has answered this client at least once (any HTTP answer counts)."""
        return self._reached

    def _unreachable(self, err: BaseException) -> bool:
        return self.unreachable_is_final and not self._reached and is_connect_failure(err)

    # -- reads ----------------------------------------------------------------------------------

    def model_info(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        files_metadata: bool = False,
        expand: Sequence[str] | None = None,
        what: str | None = None,
    ) -> RepoInfo:
        """A model repository at ``revision`` (default: the main branch).

        Args:
            repo_id: the repository.
            revision: a branch, tag or commit.
            files_metadata: ask for each file's blob id and LFS sha256.
            expand: the properties to ask for (``sha``, ``cardData`` ...), instead of the defaults.
            what: how to name the read in messages.
        """

        def get() -> ModelInfo:
            return self._api.model_info(
                repo_id,
                revision=revision,
                files_metadata=files_metadata,
                expand=list(expand) if expand is not None else None,  # type: ignore[arg-type]
            )

        label = what or f"read {repo_id}@{revision or 'main'}"
        return _repo_info(self.read(label, get, repo_id=repo_id, revision=revision))

    def dataset_sha(self, repo_id: str, revision: str | None = None) -> str:
        """The commit a dataset repository's ``revision`` (default: the main branch) is at.

        Raises:
            HubError, ModelNotFoundError, NetworkError: as for :meth:`read`; HubError also when
                the Hub gave no sha.
        """

        def get() -> str | None:
            return self._api.dataset_info(repo_id, revision=revision, expand=["sha"]).sha

        sha = self.read(
            f"read the dataset {repo_id}@{revision or 'main'}", get, repo_id=repo_id, revision=revision
        )
        if not sha:
            raise HubError(f"the Hub gave no commit sha for the dataset {repo_id}@{revision or 'main'}")
        return str(sha)

    def head(self, repo_id: str, revision: str) -> str:
        """The commit ``revision`` of ``repo_id`` is at.

        Raises:
            NetworkError: the Hub did not say.
        """
        sha = self.model_info(repo_id, revision=revision).sha
        if not sha:
            raise NetworkError(f"{repo_id}: the Hub did not say which commit {revision} is at")
        return sha

    def read_file(self, repo_id: str, path: str, revision: str) -> bytes:
        """The bytes of one file at ``revision`` (a commit sha, so no cache can be stale)."""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        url = hf_hub_url(repo_id, path, revision=revision, endpoint=self.endpoint)

        def get() -> bytes:
            headers = build_hf_headers(
                token=self.token if self.token else False,
                library_name="energy-badge",
                library_version=__version__,
            )
            response = get_session().get(url, headers=headers)
            hf_raise_for_status(response)
            return bytes(response.content)

        return self.read(f"download {path} at {revision[:8]}", get, repo_id=repo_id, revision=revision)

    def download_file(
        self,
        repo_id: str,
        path: str,
        *,
        revision: str,
        cache_dir: str | os.PathLike[str],
        etag_timeout: float = 30,
    ) -> Path | None:
        """Download one file into ``cache_dir`` (huggingface_hub's cache layout).

        Returns:
            The local file, or None when the repository has no such file at ``revision``.
        """
        from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

        def get() -> Path | None:
            try:
                found = self._api.hf_hub_download(
                    repo_id, path, revision=revision, cache_dir=Path(cache_dir), etag_timeout=etag_timeout
                )
            except EntryNotFoundError as err:
                if isinstance(err, LocalEntryNotFoundError):  # the Hub could not be reached
                    raise
                return None
            return Path(str(found))

        return self.read(f"download {repo_id}/{path}", get, repo_id=repo_id, revision=revision)

    def snapshot(
        self,
        repo_id: str,
        *,
        revision: str,
        patterns: Iterable[str],
        cache_dir: str | os.PathLike[str] | None,
    ) -> Path:
        """Download the files of ``repo_id`` at ``revision`` that match ``patterns``; the local folder."""
        allow = list(patterns)
        cache = Path(cache_dir) if cache_dir is not None else None

        def get() -> Path:
            return Path(
                str(
                    self._api.snapshot_download(
                        repo_id, revision=revision, allow_patterns=allow, cache_dir=cache
                    )
                )
            )

        return self.read(f"download {repo_id}@{revision[:12]}", get, repo_id=repo_id, revision=revision)

    def account(self) -> str:
        """The name of the account the token belongs to (``whoami``; remembered per token).

        Raises:
            HubError: no token, or the Hub does not accept it.
        """
        if not self.token:
            raise HubError("no Hugging Face token: pass one, set HF_TOKEN, or run `hf auth login`")
        token = self.token
        key = (self.endpoint, hashlib.sha256(token.encode()).hexdigest())
        with _ACCOUNTS_LOCK:
            known = _ACCOUNTS.get(key)
        if known is not None:
            return known
        data = self.read("identify the token's account", lambda: self._api.whoami(token=token))
        name = str(data["name"])
        with _ACCOUNTS_LOCK:
            _ACCOUNTS[key] = name
        return name

    def pull_requests(
        self, repo_id: str, *, author: str | None, status: Literal["open", "closed"]
    ) -> list[PullRequest]:
        """The pull requests of ``repo_id`` with ``status`` (by ``author`` when given)."""

        def get() -> list[PullRequest]:
            return [
                PullRequest(
                    d.num, d.title, d.author, d.status, d.is_pull_request, str(d.git_reference), d.url
                )
                for d in self._api.get_repo_discussions(
                    repo_id, author=author, discussion_type="pull_request", discussion_status=status
                )
            ]

        return self.read(f"list the {status} pull requests", get, repo_id=repo_id)

    def commits(self, repo_id: str, revision: str) -> list[CommitEntry]:
        """The history of ``revision``, newest first."""

        def get() -> list[CommitEntry]:
            return [
                CommitEntry(c.commit_id, c.title)
                for c in self._api.list_repo_commits(repo_id, revision=revision)
            ]

        return self.read(f"list the commits of {revision}", get, repo_id=repo_id, revision=revision)

    def list_models(
        self,
        *,
        search: str | None,
        author: str | None,
        pipeline_tag: str | None,
        limit: int | None,
        expand: Sequence[str],
    ) -> list[RepoInfo]:
        """Models matching a Hub listing query, in the Hub's order.

        Each page (``Link: <...>; rel="next"``) is one read under the retry policy: a page that
        fails is tried again, not the whole listing (huggingface_hub's own ``list_models`` retries
        every page itself, on top of ours, with its own waits and log lines).
        """
        import functools

        from huggingface_hub.hf_api import ModelInfo
        from huggingface_hub.utils import build_hf_headers

        params: list[tuple[str, str | int | float | bool | None]] = []
        for key, value in (("search", search), ("author", author), ("pipeline_tag", pipeline_tag)):
            if value:
                params.append((key, value))
        if limit is not None:
            params.append(("limit", limit))
        params += [("expand", e) for e in expand]
        what = f"list models (search={search!r}, author={author!r}, pipeline_tag={pipeline_tag!r})"
        headers = build_hf_headers(
            token=self.token if self.token else False,
            library_name="energy-badge",
            library_version=__version__,
        )
        url: str | None = f"{self.endpoint}/api/models"
        page_params: list[tuple[str, str | int | float | bool | None]] | None = (
            params  # the next pages' URLs carry them
        )
        out: list[RepoInfo] = []
        while url is not None and (limit is None or len(out) < limit):
            items, url = self.read(what, functools.partial(_models_page, url, page_params, headers))
            page_params = None
            for item in items:
                item.setdefault("siblings", None)
                out.append(_repo_info(ModelInfo(**item)))
        return out[:limit] if limit is not None else out

    # -- the one write --------------------------------------------------------------------------

    def create_commit(
        self,
        repo_id: str,
        contents: Mapping[str, bytes],
        *,
        title: str,
        description: str,
        parent_commit: str,
        revision: str | None,
        create_pr: bool,
    ) -> CommitResult:
        """One ``create_commit`` (preupload, validate-yaml, the commit POST): never retried.

        Args:
            repo_id: the repository.
            contents: path -> new bytes of every file to write.
            title, description: the commit's (and a new pull request's).
            parent_commit: the commit the change was made against (a stale one gets HTTP 412).
            revision: the branch (``main``, ``refs/pr/3``); None with ``create_pr``.
            create_pr: open a pull request from ``parent_commit`` instead.

        Raises:
            Exception: whatever huggingface_hub raised, unchanged: the caller decides what a failed
                commit means (:meth:`translate` turns it into a one-line error).
        """
        from huggingface_hub import CommitOperationAdd

        operations = [
            CommitOperationAdd(path_in_repo=p, path_or_fileobj=data) for p, data in contents.items()
        ]
        info = self._api.create_commit(
            repo_id,
            operations,
            commit_message=title,
            commit_description=description,
            parent_commit=parent_commit,
            revision=revision,
            create_pr=create_pr or None,
        )
        from huggingface_hub.hf_api import CommitInfo

        assert isinstance(info, CommitInfo)  # not a Future: run_as_future is never used
        return CommitResult(str(info.oid), info.pr_url, info.pr_num)
