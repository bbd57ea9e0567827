"""What the Hub's answers become: frozen dataclasses, not huggingface_hub's objects.

:class:`~energy_badge.hub.client.HubClient` returns these (a repository at a revision and its
files, pull requests, commits, what a commit made); :func:`repo_info_from` converts
huggingface_hub's ``ModelInfo`` (a read's, or one entry of the model listing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from huggingface_hub.hf_api import ModelInfo

__all__ = ["CommitEntry", "CommitResult", "PullRequest", "RepoFile", "RepoInfo", "repo_info_from"]


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


def repo_info_from(info: ModelInfo) -> RepoInfo:
    """The :class:`RepoInfo` of huggingface_hub's ``ModelInfo`` (its card data as a plain mapping)."""
    files = tuple(
        RepoFile(s.rfilename, s.blob_id, s.lfs.sha256 if s.lfs is not None else None)
        for s in info.siblings or []
    )
    card = info.card_data.to_dict() if info.card_data is not None else None
    tag = info.pipeline_tag if isinstance(info.pipeline_tag, str) else None
    return RepoInfo(info.id, str(info.sha) if info.sha else None, files, card, tag)
