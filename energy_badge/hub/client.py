"""The Hub client: the one place that constructs huggingface_hub's ``HfApi`` and talks to the Hub.

:class:`HubClient` holds the endpoint, the token (never logged, scrubbed from every message) and a
:class:`~energy_badge.hub.retry.RetryPolicy`. Its reads (:meth:`~HubClient.model_info`,
:meth:`~HubClient.read_file`, :meth:`~HubClient.download_file`, :meth:`~HubClient.snapshot`,
:meth:`~HubClient.pull_requests`, :meth:`~HubClient.commits`, :meth:`~HubClient.list_models`,
:meth:`~HubClient.account`) are retried by that policy and their failures translated by
:func:`~energy_badge.hub.translate.translate_error`; they return the frozen dataclasses of
:mod:`~energy_badge.hub.records` (importable from here too), not huggingface_hub's objects; the
model listing's pages are read by :mod:`~energy_badge.hub.listing` through :meth:`~HubClient.read`.
:meth:`~HubClient.create_commit` is the one write: one POST, never retried, its failure raised as
the client raised it, for the publish round to sort.

An endpoint that refuses connections before it ever answered is down or mistyped, not busy: a
client made with ``unreachable_is_final=True`` (the bulk job's) does not retry that, and raises
:class:`HubUnreachableError` at once; once the Hub has answered, a failed connection is retried
like any transient failure.

huggingface_hub is imported inside the methods; ``HF_ENDPOINT``, ``HF_TOKEN`` and ``hf auth login``
work as for any Hub tool.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from energy_badge import __version__
from energy_badge.errors import EnergyBadgeError, HubError, NetworkError
from energy_badge.hub.endpoint import clear_account_cache, remembered_account, resolve_endpoint
from energy_badge.hub.listing import list_models
from energy_badge.hub.records import (
    CommitEntry,
    CommitResult,
    PullRequest,
    RepoFile,
    RepoInfo,
    repo_info_from,
)
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


class HubUnreachableError(NetworkError):
    """The Hub endpoint refused the connection (or has no such host) before it ever answered."""


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

    def headers(self) -> dict[str, str]:
        """The HTTP headers of a request made without ``HfApi``: the token (when there is one) and
        energy-badge's user agent."""
        from huggingface_hub.utils import build_hf_headers

        return build_hf_headers(
            token=self.token if self.token else False,
            library_name="energy-badge",
            library_version=__version__,
        )

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
        return repo_info_from(self.read(label, get, repo_id=repo_id, revision=revision))

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
        from huggingface_hub.utils import get_session, hf_raise_for_status

        url = hf_hub_url(repo_id, path, revision=revision, endpoint=self.endpoint)

        def get() -> bytes:
            response = get_session().get(url, headers=self.headers())
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

        def look_up() -> str:
            return str(
                self.read("identify the token's account", lambda: self._api.whoami(token=token))["name"]
            )

        return remembered_account(self.endpoint, token, look_up)

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
        fails is tried again, not the whole listing (:mod:`energy_badge.hub.listing`).
        """
        return list_models(
            self, search=search, author=author, pipeline_tag=pipeline_tag, limit=limit, expand=expand
        )

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
