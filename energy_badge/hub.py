"""The hub stage: commit the badge, the card change and the result to a Hub model repo.

One call to :func:`publish` reads the model card (``README.md``) at the head of ``main``, applies
the plan's edit, and writes the new card plus the plan's files in **one atomic commit** whose parent
is the commit the card was read at. Everything goes through the real ``huggingface_hub`` client
(imported lazily, inside the functions), so ``HF_ENDPOINT``, ``HF_TOKEN``, ``hf auth login`` and the
Hub's error headers all behave as they do for any Hub tool.

How it stays safe when run unattended (a CI job, a bot labelling thousands of models):

* **No lost updates.** The commit carries ``parent_commit``; if someone pushed in between, the Hub
  answers 412 and the whole read-edit-commit round runs again (up to ``max_attempts``), so the other
  person's change is kept and ours is applied on top of it.
* **No duplicates.** The commit POST is never retried blindly. After an ambiguous failure (a 5xx, a
  dropped connection, a timeout *on the commit request itself*) the Hub is asked whether the commit
  landed (head moved and a commit with our title follows the parent we used) or whether our pull
  request now exists; only if not is the round run again, and the ``parent_commit`` check still
  protects a direct commit from landing twice. Pull requests are found again by title and author,
  so a re-run updates the open PR instead of opening a second one.
* **No empty commits.** When the card and every file are byte-identical to what is there, nothing
  is committed (status ``"unchanged"``). huggingface_hub itself also drops unchanged files (it
  compares the ``oid`` the Hub's ``/preupload`` returns) and skips a commit left empty; the Hub's
  commit endpoint would otherwise record an empty commit.
* **Rate limits.** A 429 is waited out as the Hub says: ``RateLimit: "api";r=0;t=<seconds>`` (the
  IETF draft header huggingface_hub 2.4 parses), else ``Retry-After: <seconds>``, else exponential
  backoff; one wait longer than ``max_wait_s`` gives up with :class:`NetworkError` instead.
* **Clear failures.** Repo not found, gated, private, read-only or invalid token ->
  :class:`HubError` (exit 4), one line; Hub unreachable or still failing after bounded retries ->
  :class:`NetworkError` (exit 5). Nothing is half-written: the commit is atomic. The token is never
  logged or put in a message.

Pull requests (``create_pr=True``): the PR that is ours is an *open* PR whose title is the plan's
``commit_title`` and whose author is the account the token belongs to (``whoami``). If there is
none, ``create_commit(create_pr=True)`` opens one (branched from the ``main`` commit the card was
read at). If there is one, the new commit goes onto its branch ``refs/pr/N``, with that branch's
head as the parent. **Choice:** the edit is always applied to ``main``'s *current* card, and the
result is compared with (and committed over) the card on the PR branch. So the PR always holds
"main as it is now, plus our change": merging it can never bring back an old version of lines the
author edited on ``main`` after the PR was opened, and a card that only changed on ``main`` is
brought into the PR by the next run. The cost is that when ``main`` moved, the PR's diff against its
original base also shows those ``main`` edits (identical on both sides, so they merge cleanly).
When ``main`` itself already has exactly our content, nothing is done (``"unchanged"``), whatever PR
exists.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from energy_badge import __version__
from energy_badge.errors import EnergyBadgeError, HubError, NetworkError

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.community import Discussion

__all__ = ["PublishOutcome", "PublishPlan", "README_PATH", "publish", "resolve_endpoint"]

logger = logging.getLogger(__name__)

README_PATH = "README.md"
DEFAULT_MAX_WAIT_S = 900.0
_MAX_BACKOFF_S = 30.0
_RETRYABLE_STATUS = (408, 500, 502, 503, 504)

PublishStatus = Literal["committed", "pr_opened", "pr_updated", "unchanged", "dry_run"]


@dataclass
class PublishPlan:
    """What to publish to one model repo.

    Attributes:
        repo_id: the model repo, ``"org/name"``.
        files: path in the repo -> content, e.g. ``{"energy/badge.svg": b"<svg ...", "energy/result.json":
            b"{...}"}``. Must not contain ``README.md`` (that is what ``edit_readme`` is for).
        edit_readme: given the current ``README.md`` bytes (``b""`` when the repo has none), returns the
            new bytes. It may raise; the error propagates unchanged and nothing is committed. It must be
            idempotent (applying it to its own output changes nothing), as the card editor is: a
            re-run then finds nothing to do.
        commit_title: the commit summary; also the pull request's title, which is how a re-run finds
            the PR it opened before.
        commit_description: the commit (and pull request) description.
        create_pr: open (or update) a pull request instead of committing to ``main``.
    """

    repo_id: str
    files: dict[str, bytes]
    edit_readme: Callable[[bytes], bytes]
    commit_title: str
    commit_description: str = ""
    create_pr: bool = False


@dataclass
class PublishOutcome:
    """What :func:`publish` did.

    Attributes:
        repo_id: the model repo.
        status: ``"committed"`` (a commit on ``main``), ``"pr_opened"``, ``"pr_updated"`` (a commit on
            our open PR's branch), ``"unchanged"`` (the content is already there; no commit) or
            ``"dry_run"`` (nothing written).
        commit_sha: the commit that now holds the content: the new commit, or for ``"unchanged"`` the
            head that already has it; None for a dry run.
        pr_url: the pull request's URL when a PR is involved, else None.
        pr_num: the pull request's number when a PR is involved, else None.
        attempts: read-edit-commit rounds run (1 when nothing got in the way).
        readme_diff: unified diff of ``README.md`` (what was, or for a dry run would be, committed);
            ``""`` when the card does not change.
        files: paths whose content the commit changes (or would change), ``README.md`` first; empty
            when unchanged.
    """

    repo_id: str
    status: PublishStatus
    commit_sha: str | None
    pr_url: str | None
    pr_num: int | None
    attempts: int
    readme_diff: str
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the outcome (for logs, job summaries and bulk reports)."""
        return asdict(self)


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


def publish(
    plan: PublishPlan,
    *,
    token: str | None = None,
    endpoint: str | None = None,
    dry_run: bool = False,
    max_attempts: int = 4,
    on_event: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] | None = None,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
) -> PublishOutcome:
    """Commit the plan's card edit and files to the Hub atomically, or open/update a pull request.

    Args:
        plan: the repo, the files, the card edit, the commit title/description and PR mode.
        token: a Hub token; when None, huggingface_hub's own resolution applies (``HF_TOKEN``, then the
            ``hf auth login`` token). Never logged, never put in an error message.
        endpoint: the Hub endpoint; default :func:`resolve_endpoint` (``HF_ENDPOINT`` or huggingface.co).
        dry_run: do every read (card, files, our open PR), compute the diff and the file list, and
            commit nothing. Works without a token on a public repo (then an existing PR is not looked up).
        max_attempts: the most read-edit-commit rounds (after 412s, 429s, ambiguous failures) and the
            most tries of each read on transient errors.
        on_event: called with one short human-readable line per step (progress, waits, retries).
        sleep: how to wait (default :func:`time.sleep`); tests pass a recorder.
        max_wait_s: the longest single rate-limit wait honoured; a longer one gives up.

    Returns:
        A :class:`PublishOutcome`.

    Raises:
        HubError: repo not found or private, gated without access, no/invalid/read-only token, no write
            access, the Hub refusing the card's metadata.
        NetworkError: the Hub cannot be reached, or keeps failing (5xx, 429, 412) after bounded retries.
        ValueError: an invalid plan (empty title, a bad path, ``README.md`` in ``files``).
        Exception: whatever ``plan.edit_readme`` raises, unchanged.
    """
    _check_plan(plan)
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    return _Publisher(
        plan,
        token=token,
        endpoint=resolve_endpoint(endpoint),
        dry_run=dry_run,
        max_attempts=max_attempts,
        on_event=on_event,
        sleep=sleep or time.sleep,
        max_wait_s=max_wait_s,
    ).run()


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------

# (endpoint, sha256 of the token) -> account name. whoami-v2 is strictly rate limited on the Hub,
# and a bulk run publishes to many repos with one token.
_WHOAMI_CACHE: dict[tuple[str, str], str] = {}


def _check_plan(plan: PublishPlan) -> None:
    if not re.fullmatch(r"[\w.\-]+(/[\w.\-]+)?", plan.repo_id or ""):
        raise ValueError(f"invalid repo id: {plan.repo_id!r} (expected 'org/name')")
    if not plan.commit_title.strip():
        raise ValueError("the commit title must not be empty")
    for path, content in plan.files.items():
        parts = path.split("/")
        if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
            raise ValueError(f"invalid path in the repo: {path!r}")
        if path == README_PATH:
            raise ValueError("README.md is written through edit_readme, not through files")
        if not isinstance(content, bytes):
            raise ValueError(f"the content of {path} must be bytes")


@dataclass
class _Snapshot:
    """One revision of the repo as read: its commit, its files' blob ids, and the card's bytes."""

    revision: str
    sha: str
    blob_ids: dict[str, str | None]
    lfs_sha256: dict[str, str]
    readme: bytes

    def holds(self, path: str, content: bytes) -> bool:
        """Whether the file at ``path`` already has exactly ``content``."""
        if path not in self.blob_ids:
            return False
        if path in self.lfs_sha256:
            return self.lfs_sha256[path] == hashlib.sha256(content).hexdigest()
        blob_id = self.blob_ids[path]
        return blob_id is not None and blob_id == _git_blob_sha1(content)


class _Stale(Exception):
    """The round must start again (412, a wait, a transient failure before the commit was sent)."""


class _Ambiguous(Exception):
    """The commit request failed in a way that does not say whether it landed."""


class _Publisher:
    def __init__(
        self,
        plan: PublishPlan,
        *,
        token: str | None,
        endpoint: str,
        dry_run: bool,
        max_attempts: int,
        on_event: Callable[[str], None] | None,
        sleep: Callable[[float], None],
        max_wait_s: float,
    ) -> None:
        from huggingface_hub import HfApi

        self.plan = plan
        self.repo_id = plan.repo_id
        self.endpoint = endpoint
        self.dry_run = dry_run
        self.max_attempts = max_attempts
        self.on_event = on_event
        self.sleep = sleep
        self.max_wait_s = max_wait_s
        self._secrets: list[str] = [token] if token else []
        self.token = self._resolve_token(token)
        if self.token and self.token not in self._secrets:
            self._secrets.append(self.token)
        self.api: HfApi = HfApi(
            endpoint=endpoint, token=self.token, library_name="energy-badge", library_version=__version__
        )

    # -- the round ---------------------------------------------------------------------------

    def run(self) -> PublishOutcome:
        if self.token is None and not self.dry_run:
            raise HubError(
                f"{self.repo_id}: no Hugging Face token: pass one, set HF_TOKEN, or run `hf auth login`"
            )
        problem = ""
        for attempt in range(1, self.max_attempts + 1):
            self._emit(f"reading {self.repo_id} (round {attempt}/{self.max_attempts})")
            main = self._snapshot("main")
            new_readme = self.plan.edit_readme(main.readme)
            if not isinstance(new_readme, bytes):
                raise TypeError("edit_readme must return bytes")
            if not self._changed(main, new_readme):
                self._emit(
                    f"{self.repo_id}@{main.sha[:8]} already has this card and these files: nothing to do"
                )
                return self._outcome("unchanged", main.sha, None, attempt, "", [])

            pr = self._find_our_pr() if self.plan.create_pr else None
            target = self._snapshot(pr.git_reference) if pr is not None else main
            changed = self._changed(target, new_readme)
            if pr is not None and not changed:
                self._emit(f"pull request #{pr.num} already has this content: nothing to do")
                return self._outcome("unchanged", target.sha, pr, attempt, "", [])
            diff = _readme_diff(target.readme, new_readme)
            if self.dry_run:
                self._emit(f"dry run: would write {', '.join(changed)}")
                return self._outcome("dry_run", None, pr, attempt, diff, changed)

            try:
                return self._commit(target, pr, new_readme, changed, diff, attempt)
            except _Stale as stale:
                problem = str(stale)
            except _Ambiguous as ambiguous:
                problem = str(ambiguous)
                self._emit(f"{ambiguous}; checking whether the commit landed")
                landed = self._landed(target, pr, diff, changed, attempt)
                if landed is not None:
                    return landed
                if attempt < self.max_attempts:
                    self._wait(_backoff(attempt), "the commit did not land")
        plural = "s" if self.max_attempts > 1 else ""
        raise NetworkError(
            self._scrub(
                f"{self.repo_id}: gave up after {self.max_attempts} attempt{plural} (last problem: {problem})"
            )
        )

    def _commit(
        self,
        target: _Snapshot,
        pr: Discussion | None,
        new_readme: bytes,
        changed: list[str],
        diff: str,
        attempt: int,
    ) -> PublishOutcome:
        from huggingface_hub import CommitOperationAdd

        contents = {README_PATH: new_readme, **self.plan.files}
        operations = [
            CommitOperationAdd(path_in_repo=path, path_or_fileobj=contents[path]) for path in changed
        ]
        kwargs: dict[str, Any] = {
            "repo_id": self.repo_id,
            "operations": operations,
            "commit_message": self.plan.commit_title,
            "commit_description": self.plan.commit_description,
            "parent_commit": target.sha,
        }
        if pr is not None:
            kwargs["revision"] = pr.git_reference
            self._emit(f"committing {len(changed)} file(s) to pull request #{pr.num}")
        elif self.plan.create_pr:
            kwargs["create_pr"] = True
            self._emit(f"opening a pull request with {len(changed)} file(s)")
        else:
            kwargs["revision"] = "main"
            self._emit(f"committing {len(changed)} file(s) to main on top of {target.sha[:8]}")

        info = self._send(kwargs, attempt)

        if pr is not None:
            if info.oid == target.sha:  # huggingface_hub found nothing to commit
                return self._outcome("unchanged", target.sha, pr, attempt, "", [])
            self._emit(f"updated pull request #{pr.num}: {info.oid[:8]}")
            return self._outcome("pr_updated", info.oid, pr, attempt, diff, changed)
        if self.plan.create_pr:
            if info.pr_url is None:  # huggingface_hub found nothing to commit: no PR was opened
                return self._outcome("unchanged", info.oid, None, attempt, "", [])
            self._emit(f"opened pull request #{info.pr_num}: {info.pr_url}")
            return PublishOutcome(
                self.repo_id, "pr_opened", info.oid, info.pr_url, info.pr_num, attempt, diff, list(changed)
            )
        if info.oid == target.sha:
            return self._outcome("unchanged", target.sha, None, attempt, "", [])
        self._emit(f"committed {info.oid[:8]} to main")
        return self._outcome("committed", info.oid, None, attempt, diff, changed)

    def _send(self, kwargs: dict[str, Any], attempt: int) -> Any:
        """One ``create_commit``; sorts its failures into stale / ambiguous / final."""
        import httpx2
        from huggingface_hub.errors import HfHubHTTPError

        try:
            return self.api.create_commit(**kwargs)
        except HfHubHTTPError as err:
            status = err.response.status_code if err.response is not None else None
            on_commit = _is_commit_request(err.response.request if err.response is not None else None)
            if status == 412:
                self._emit("someone pushed since the card was read (412): reading it again")
                raise _Stale("the branch kept moving (HTTP 412)") from err
            if status == 429:
                self._wait_rate_limit(err, attempt)
                raise _Stale("rate limited (HTTP 429)") from err
            if status in _RETRYABLE_STATUS:
                if on_commit:
                    raise _Ambiguous(f"the commit request failed with HTTP {status}") from err
                if attempt < self.max_attempts:
                    self._wait(_backoff(attempt), f"the Hub answered HTTP {status} before the commit")
                raise _Stale(f"HTTP {status} before the commit") from err
            raise self._translate(err, "commit") from err
        except httpx2.TransportError as err:
            if _is_commit_request(_request_of(err)):
                raise _Ambiguous(
                    f"the connection failed during the commit request ({type(err).__name__})"
                ) from err
            if attempt < self.max_attempts:
                self._wait(_backoff(attempt), f"network error before the commit ({type(err).__name__})")
            raise _Stale(f"network error before the commit ({type(err).__name__})") from err
        except json.JSONDecodeError as err:  # e.g. an HTML error page from a proxy, maybe after the commit
            raise _Ambiguous("the Hub sent an answer that is not JSON") from err
        except (ValueError, OSError) as err:
            raise self._translate(err, "commit") from err

    def _landed(
        self, target: _Snapshot, pr: Discussion | None, diff: str, changed: list[str], attempt: int
    ) -> PublishOutcome | None:
        """After an ambiguous failure: did our commit (or PR) land? Returns its outcome, or None."""
        if pr is None and self.plan.create_pr:
            found = self._find_our_pr()
            if found is None:
                self._emit("no pull request of ours appeared: the commit did not land")
                return None
            head = self._head(found.git_reference)
            self._emit(f"the pull request did land: #{found.num}")
            return self._outcome("pr_opened", head, found, attempt, diff, changed)
        revision = pr.git_reference if pr is not None else "main"
        if self._head(revision) == target.sha:
            self._emit(f"{revision} has not moved: the commit did not land")
            return None
        ours = None
        for commit in self._call(
            f"list the commits of {revision}", self.api.list_repo_commits, self.repo_id, revision=revision
        ):
            if commit.commit_id == target.sha:
                break
            if commit.title.strip() == self.plan.commit_title.strip():
                ours = commit.commit_id  # keep the oldest one after our parent
        if ours is None:
            self._emit(f"{revision} moved, but not by our commit")
            return None
        self._emit(f"the commit did land: {ours[:8]}")
        status: PublishStatus = "pr_updated" if pr is not None else "committed"
        return self._outcome(status, ours, pr, attempt, diff, changed)

    # -- reads -------------------------------------------------------------------------------

    def _snapshot(self, revision: str) -> _Snapshot:
        info = self._call(
            f"read {self.repo_id}@{revision}",
            self.api.model_info,
            self.repo_id,
            revision=revision,
            files_metadata=True,
        )
        if not info.sha:
            raise NetworkError(f"{self.repo_id}: the Hub did not say which commit {revision} is at")
        blob_ids: dict[str, str | None] = {}
        lfs: dict[str, str] = {}
        for sibling in info.siblings or []:
            blob_ids[sibling.rfilename] = sibling.blob_id
            if sibling.lfs is not None:
                lfs[sibling.rfilename] = sibling.lfs.sha256
        readme = self._download(README_PATH, info.sha) if README_PATH in blob_ids else b""
        return _Snapshot(revision, info.sha, blob_ids, lfs, readme)

    def _head(self, revision: str) -> str:
        info = self._call(
            f"read {self.repo_id}@{revision}", self.api.model_info, self.repo_id, revision=revision
        )
        return str(info.sha)

    def _download(self, path: str, sha: str) -> bytes:
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        url = hf_hub_url(self.repo_id, path, revision=sha, endpoint=self.endpoint)

        def get() -> bytes:
            headers = build_hf_headers(
                token=self.token if self.token else False,
                library_name="energy-badge",
                library_version=__version__,
            )
            response = get_session().get(url, headers=headers)
            hf_raise_for_status(response)
            return response.content

        return self._call(f"download {path} at {sha[:8]}", get)

    def _find_our_pr(self) -> Discussion | None:
        if self.token is None:
            self._emit("no token: cannot tell which open pull request is ours; comparing with main")
            return None
        me = self._whoami()
        title = self.plan.commit_title.strip()

        def list_prs() -> list[Discussion]:
            return list(
                self.api.get_repo_discussions(
                    self.repo_id, author=me, discussion_type="pull_request", discussion_status="open"
                )
            )

        ours = [
            d
            for d in self._call("list the open pull requests", list_prs)
            if d.is_pull_request and d.status == "open" and d.author == me and d.title.strip() == title
        ]
        if not ours:
            return None
        pr = min(ours, key=lambda d: d.num)
        self._emit(f"found our open pull request #{pr.num}")
        return pr

    def _whoami(self) -> str:
        assert self.token is not None
        key = (self.endpoint, hashlib.sha256(self.token.encode()).hexdigest())
        if key not in _WHOAMI_CACHE:
            data = self._call("identify the token's account", self.api.whoami, token=self.token)
            _WHOAMI_CACHE[key] = str(data["name"])
        return _WHOAMI_CACHE[key]

    def _changed(self, snapshot: _Snapshot, new_readme: bytes) -> list[str]:
        """Paths whose content differs from ``snapshot`` (README.md first; an absent card equals b"")."""
        changed = [README_PATH] if new_readme != snapshot.readme else []
        changed += sorted(p for p, content in self.plan.files.items() if not snapshot.holds(p, content))
        return changed

    # -- retries, waits, errors --------------------------------------------------------------

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a read, retrying transient failures (429 as told, 5xx and network errors with backoff)."""
        import httpx2
        from huggingface_hub.errors import HfHubHTTPError

        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                return fn(*args, **kwargs)
            except HfHubHTTPError as err:
                status = err.response.status_code if err.response is not None else None
                if status == 429 and not last:
                    self._wait_rate_limit(err, attempt)
                    continue
                if status in _RETRYABLE_STATUS and not last:
                    self._wait(_backoff(attempt), f"the Hub answered HTTP {status} to '{what}'")
                    continue
                raise self._translate(err, what) from err
            except httpx2.TransportError as err:
                if not last:
                    self._wait(_backoff(attempt), f"network error during '{what}' ({type(err).__name__})")
                    continue
                raise self._translate(err, what) from err
            except json.JSONDecodeError as err:
                if not last:
                    self._wait(_backoff(attempt), f"the Hub's answer to '{what}' was not JSON")
                    continue
                raise self._translate(err, what) from err
            except (ValueError, OSError) as err:
                raise self._translate(err, what) from err
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_rate_limit(self, err: Any, attempt: int) -> None:
        seconds = _rate_limit_wait(err.response.headers) if err.response is not None else None
        if seconds is None:
            seconds = _backoff(attempt)
        if seconds > self.max_wait_s:
            raise NetworkError(
                f"{self.repo_id}: rate limited by the Hub for {seconds:.0f} s, longer than the "
                f"{self.max_wait_s:.0f} s this run waits; try again later"
            ) from err
        self._wait(seconds, "rate limited by the Hub (HTTP 429)")

    def _wait(self, seconds: float, reason: str) -> None:
        self._emit(f"{reason}: waiting {seconds:g} s")
        self.sleep(seconds)

    def _translate(self, err: BaseException, what: str) -> EnergyBadgeError:
        """Turn a huggingface_hub / transport error into a one-line HubError or NetworkError."""
        import httpx2
        from huggingface_hub.errors import (
            DisabledRepoError,
            GatedRepoError,
            HfHubHTTPError,
            LocalTokenNotFoundError,
            OfflineModeIsEnabled,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        repo = self.repo_id
        if isinstance(err, GatedRepoError):
            message = (
                f"{repo} is gated and this account has not been granted access: "
                "request access on its Hub page or use a token of an account that has it"
            )
            return HubError(self._scrub(message))
        if isinstance(err, RepositoryNotFoundError):
            message = (
                f"{repo}: repository not found on {self.endpoint} "
                "(or it is private and this token cannot see it)"
            )
            return HubError(self._scrub(message))
        if isinstance(err, RevisionNotFoundError):
            return HubError(self._scrub(f"{repo}: revision not found while trying to {what}"))
        if isinstance(err, DisabledRepoError):
            return HubError(self._scrub(f"{repo}: the repository is disabled on the Hub"))
        if isinstance(err, HfHubHTTPError):
            status = err.response.status_code if err.response is not None else None
            server = _first_line(err.server_message)
            detail = f": {server}" if server else ""
            if status == 401:
                return HubError(self._scrub(f"{repo}: the Hub rejected the token (HTTP 401{detail})"))
            if status == 403:
                return HubError(self._scrub(f"{repo}: no write access with this token (HTTP 403{detail})"))
            if status == 429:
                return NetworkError(
                    self._scrub(f"{repo}: still rate limited by the Hub after retries ({what})")
                )
            if status is not None and status >= 500:
                return NetworkError(self._scrub(f"{repo}: the Hub kept failing (HTTP {status}) to {what}"))
            return HubError(self._scrub(f"{repo}: the Hub refused to {what} (HTTP {status}{detail})"))
        if isinstance(err, LocalTokenNotFoundError):
            return HubError(f"{repo}: no Hugging Face token: pass one, set HF_TOKEN, or run `hf auth login`")
        if isinstance(err, OfflineModeIsEnabled):
            return NetworkError(f"{repo}: HF_HUB_OFFLINE is set, so the Hub cannot be reached")
        if isinstance(err, httpx2.TransportError):
            reason = f"{type(err).__name__}: {_first_line(str(err))}"
            return NetworkError(self._scrub(f"cannot reach the Hub at {self.endpoint} to {what} ({reason})"))
        if isinstance(err, json.JSONDecodeError):
            return NetworkError(f"{repo}: the Hub kept sending answers that are not JSON to {what}")
        if isinstance(err, ValueError) and str(err).startswith("Invalid metadata in README.md"):
            reasons = "; ".join(
                line.lstrip("- ").strip() for line in str(err).splitlines()[1:] if line.strip()
            )
            return HubError(self._scrub(f"{repo}: the Hub rejected the card's metadata: {reasons or err}"))
        return HubError(
            self._scrub(f"{repo}: could not {what}: {type(err).__name__}: {_first_line(str(err))}")
        )

    # -- small helpers -----------------------------------------------------------------------

    @staticmethod
    def _resolve_token(token: str | None) -> str | None:
        if token:
            return token
        from huggingface_hub import get_token

        return get_token()

    def _outcome(
        self,
        status: PublishStatus,
        sha: str | None,
        pr: Discussion | None,
        attempts: int,
        diff: str,
        changed: list[str],
    ) -> PublishOutcome:
        pr_url = pr.url if pr is not None else None
        pr_num = pr.num if pr is not None else None
        return PublishOutcome(self.repo_id, status, sha, pr_url, pr_num, attempts, diff, list(changed))

    def _emit(self, message: str) -> None:
        message = self._scrub(message)
        logger.info("%s", message)
        if self.on_event is not None:
            self.on_event(message)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "hf_***")
        return text


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _backoff(attempt: int) -> float:
    return min(_MAX_BACKOFF_S, float(2 ** (attempt - 1)))


def _rate_limit_wait(headers: Any) -> float | None:
    """Seconds to wait before retrying a 429, as the Hub says; None when it does not say.

    ``RateLimit: "api";r=0;t=<seconds>`` is what huggingface_hub 2.4 parses (it too only trusts it when
    ``r`` is 0, and adds one second for rounding); ``Retry-After: <seconds>`` is the fallback.
    """
    from huggingface_hub.utils import parse_ratelimit_headers

    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds) + 1.0
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    return None


def _request_of(err: BaseException) -> Any:
    try:
        return err.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return None


def _is_commit_request(request: Any) -> bool:
    if request is None:
        return False
    return request.method == "POST" and "/commit/" in request.url.path


def _first_line(text: str | None) -> str:
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 200 else line[:197] + "..."


def _lines(text: str) -> list[str]:
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _readme_diff(old: bytes, new: bytes) -> str:
    """A unified diff of the card (lines split on ``\\n`` only, so CRLF and unicode separators survive)."""
    if old == new:
        return ""
    out = []
    old_lines = _lines(old.decode("utf-8", errors="replace"))
    new_lines = _lines(new.decode("utf-8", errors="replace"))
    for line in difflib.unified_diff(
        old_lines, new_lines, fromfile=f"a/{README_PATH}", tofile=f"b/{README_PATH}"
    ):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
