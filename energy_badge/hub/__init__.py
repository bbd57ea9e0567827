"""The Hub gateway: every request energy-badge makes to the Hugging Face Hub goes through here.

The modules, from the bottom up:

``repo_id``    the one repo-id validator (:func:`repo_id_problem`, :func:`is_repo_id`)
``retry``      the one retry policy (:class:`RetryPolicy`, on tenacity): 429 waited as the Hub says,
               408/5xx/network/not-JSON with bounded backoff, injectable sleep
``translate``  the one translation of huggingface_hub errors into energy-badge's (one line, no token)
``endpoint``   where the Hub is (:func:`resolve_endpoint`) and the account names learnt from tokens
``records``    what the Hub's answers become (:class:`RepoInfo`, :class:`PullRequest` ...: frozen dataclasses)
``listing``    the model listing, page by page (:meth:`HubClient.list_models`)
``client``     :class:`HubClient`: the only module that constructs huggingface_hub's ``HfApi``
``commit``     the publish round: :func:`commit_plan` (read card at main, edit, commit with
               ``parent_commit``; 412 re-reads, ambiguous failures checked, PRs reused)

Publishing (``energy-badge publish``, the GitHub Action, ``bulk`` and the service), measuring a
Hub model (:mod:`energy_badge.run.source`), the bulk inputs and the Action's baseline download all
use it. huggingface_hub is imported only inside functions.
"""

from energy_badge.errors import HubGatedError, HubNotFoundError
from energy_badge.hub.client import (
    CommitEntry,
    CommitResult,
    HubClient,
    PullRequest,
    RepoFile,
    RepoInfo,
    clear_account_cache,
    resolve_endpoint,
)
from energy_badge.hub.commit import README_PATH, PublishOutcome, PublishPlan, PublishStatus, commit_plan
from energy_badge.hub.repo_id import MAX_PART_LENGTH, is_repo_id, repo_id_problem
from energy_badge.hub.retry import (
    DEFAULT_ATTEMPTS,
    DEFAULT_MAX_WAIT_S,
    Again,
    RetryPolicy,
    Wait,
    backoff,
    rate_limit_wait,
    retry_after,
)
from energy_badge.hub.translate import translate_error

__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_MAX_WAIT_S",
    "MAX_PART_LENGTH",
    "README_PATH",
    "Again",
    "CommitEntry",
    "CommitResult",
    "HubClient",
    "HubGatedError",
    "HubNotFoundError",
    "PublishOutcome",
    "PublishPlan",
    "PublishStatus",
    "PullRequest",
    "RepoFile",
    "RepoInfo",
    "RetryPolicy",
    "Wait",
    "backoff",
    "clear_account_cache",
    "commit_plan",
    "is_repo_id",
    "rate_limit_wait",
    "repo_id_problem",
    "resolve_endpoint",
    "retry_after",
    "translate_error",
]
