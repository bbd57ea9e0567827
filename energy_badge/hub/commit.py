"""The publish round: commit the badge, the card change and the result to a Hub model repo.

One call to :func:`commit_plan` reads the model card (``README.md``) at the head of ``main``,
applies the plan's edit, and writes the new card plus the plan's files in **one atomic commit**
whose parent is the commit the card was read at. Every request goes through
:class:`~energy_badge.hub.client.HubClient` (the real ``huggingface_hub`` client), so
``HF_ENDPOINT``, ``HF_TOKEN``, ``hf auth login`` and the Hub's error headers all behave as they do
for any Hub tool.

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
  compares the ``oid`` the Hub's ``/preupload`` returns) and skips a commit left empty.
* **Rate limits and transient failures**: the reads follow :mod:`energy_badge.hub.retry`'s policy;
  a 429 on the commit is waited out the same way (a wait longer than ``max_wait_s`` gives up with
  :class:`~energy_badge.errors.NetworkError`); the rounds themselves are that policy's
  :meth:`~energy_badge.hub.retry.RetryPolicy.rounds`.
* **Clear failures**: one line, from :mod:`energy_badge.hub.translate` (repo not found, gated,
  read-only or invalid token: exit 4; Hub unreachable or still failing: exit 5). Nothing is
  half-written: the commit is atomic. The token is never logged or put in a message.

Pull requests (``create_pr=True``): the PR that is ours is an *open* PR whose title is the plan's
``commit_title`` and whose author is the account the token belongs to (``whoami``). If there is
none, ``create_commit(create_pr=True)`` opens one (branched from the ``main`` commit the card was
read at). If there is one, the new commit goes onto its branch ``refs/pr/N``, with that branch's
head as the parent. **Choice:** the edit is always applied to ``main``'s *current* card, and the
result is compared with (and committed over) the card on the PR branch. So the PR always holds
"main as it is now, plus our change": merging it can never bring back an old version of lines the
author edited on ``main`` after the PR was opened, and a card that only changed on ``main`` is
brought into the PR by the next run. When ``main`` itself already has exactly our content,
nothing is done (``"unchanged"``), whatever PR exists.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Literal

from energy_badge.errors import HubError, NetworkError
from energy_badge.hub.client import CommitResult, HubClient, PullRequest, RepoFile
from energy_badge.hub.repo_id import repo_id_problem
from energy_badge.hub.retry import (
    DEFAULT_ATTEMPTS,
    DEFAULT_MAX_WAIT_S,
    Again,
    RetryPolicy,
    Wait,
    backoff,
    http_status,
    retry_after,
    too_long,
)
from energy_badge.hub.translate import failure_types

__all__ = ["README_PATH", "PublishOutcome", "PublishPlan", "PublishStatus", "commit_plan"]

logger = logging.getLogger("energy_badge.hub")

README_PATH = "README.md"

PublishStatus = Literal["committed", "pr_opened", "pr_updated", "unchanged", "dry_run"]


@dataclass(frozen=True)
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
    files: Mapping[str, bytes]
    edit_readme: Callable[[bytes], bytes]
    commit_title: str
    commit_description: str = ""
    create_pr: bool = False


@dataclass(frozen=True)
class PublishOutcome:
    """What :func:`commit_plan` did.

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

    def to_dict(self) -> dict[str, object]:
        """The JSON form of the outcome (for logs, job summaries and bulk reports)."""
        return asdict(self)


def commit_plan(
    plan: PublishPlan,
    *,
    token: str | None = None,
    endpoint: str | None = None,
    dry_run: bool = False,
    max_attempts: int = DEFAULT_ATTEMPTS,
    on_event: Callable[[str], None] | None = None,
    sleep: Callable[[float], object] | None = None,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
) -> PublishOutcome:
    """Commit the plan's card edit and files to the Hub atomically, or open/update a pull request.

    Args:
        plan: the repo, the files, the card edit, the commit title/description and PR mode.
        token: a Hub token; when None, huggingface_hub's own resolution applies (``HF_TOKEN``, then the
            ``hf auth login`` token). Never logged, never put in an error message.
        endpoint: the Hub endpoint; default :func:`~energy_badge.hub.client.resolve_endpoint`.
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
    return _CommitRound(
        plan,
        token=token,
        endpoint=endpoint,
        dry_run=dry_run,
        on_event=on_event,
        policy=RetryPolicy(max_attempts=max_attempts, max_wait_s=max_wait_s, sleep=sleep),
    ).run()


def _check_plan(plan: PublishPlan) -> None:
    problem = repo_id_problem(plan.repo_id)
    if problem is not None:
        raise ValueError(f"invalid repo id: {problem} (expected 'org/name')")
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


@dataclass(frozen=True)
class _Snapshot:
    """One revision of the repo as read: its commit, its files, and the card's bytes."""

    revision: str
    sha: str
    files: Mapping[str, RepoFile]
    readme: bytes

    def holds(self, path: str, content: bytes) -> bool:
        """Whether the file at ``path`` already has exactly ``content``."""
        found = self.files.get(path)
        if found is None:
            return False
        if found.lfs_sha256 is not None:
            return found.lfs_sha256 == hashlib.sha256(content).hexdigest()
        return found.blob_id is not None and found.blob_id == _git_blob_sha1(content)


class _Ambiguous(Exception):
    """The commit request failed in a way that does not say whether it landed."""


class _CommitRound:
    """The read-edit-commit rounds of one :func:`commit_plan` call."""

    def __init__(
        self,
        plan: PublishPlan,
        *,
        token: str | None,
        endpoint: str | None,
        dry_run: bool,
        on_event: Callable[[str], None] | None,
        policy: RetryPolicy,
    ) -> None:
        from dataclasses import replace

        self.plan = plan
        self.repo_id = plan.repo_id
        self.dry_run = dry_run
        self.on_event = on_event
        self.policy = replace(policy, on_wait=self._announce)
        self.client = HubClient(token=token, endpoint=endpoint, retry=self.policy)

    def run(self) -> PublishOutcome:
        if self.client.token is None and not self.dry_run:
            raise HubError(
                f"{self.repo_id}: no Hugging Face token: pass one, set HF_TOKEN, or run `hf auth login`"
            )
        try:
            return self.policy.rounds(self._round)
        except Again as again:
            rounds = self.policy.max_attempts
            plural = "s" if rounds > 1 else ""
            message = f"{self.repo_id}: gave up after {rounds} attempt{plural} (last problem: {again.reason})"
            raise NetworkError(self.client.scrub(message)) from again

    def _round(self, attempt: int) -> PublishOutcome:
        self._emit(f"reading {self.repo_id} (round {attempt}/{self.policy.max_attempts})")
        main = self._snapshot("main")
        new_readme = self.plan.edit_readme(main.readme)
        if not isinstance(new_readme, bytes):
            raise TypeError("edit_readme must return bytes")
        if not self._changed(main, new_readme):
            self._emit(f"{self.repo_id}@{main.sha[:8]} already has this card and these files: nothing to do")
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
        except _Ambiguous as ambiguous:
            self._emit(f"{ambiguous}; checking whether the commit landed")
            landed = self._landed(target, pr, diff, changed, attempt)
            if landed is not None:
                return landed
            raise Again(str(ambiguous), Wait(backoff(attempt), "the commit did not land")) from ambiguous

    def _commit(
        self,
        target: _Snapshot,
        pr: PullRequest | None,
        new_readme: bytes,
        changed: list[str],
        diff: str,
        attempt: int,
    ) -> PublishOutcome:
        everything = {README_PATH: new_readme, **self.plan.files}
        contents = {path: everything[path] for path in changed}
        if pr is not None:
            revision: str | None = pr.git_reference
            self._emit(f"committing {len(changed)} file(s) to pull request #{pr.num}")
        elif self.plan.create_pr:
            revision = None
            self._emit(f"opening a pull request with {len(changed)} file(s)")
        else:
            revision = "main"
            self._emit(f"committing {len(changed)} file(s) to main on top of {target.sha[:8]}")

        info = self._send(contents, target.sha, revision, attempt)

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

    def _send(
        self, contents: dict[str, bytes], parent: str, revision: str | None, attempt: int
    ) -> CommitResult:
        """One ``create_commit``; sorts its failures into again / ambiguous / final."""
        import httpx2
        from huggingface_hub.errors import HfHubHTTPError

        try:
            return self.client.create_commit(
                self.repo_id,
                contents,
                title=self.plan.commit_title,
                description=self.plan.commit_description,
                parent_commit=parent,
                revision=revision,
                create_pr=revision is None,
            )
        except HfHubHTTPError as err:
            status = http_status(err)
            on_commit = _is_commit_request(err.response.request if err.response is not None else None)
            if status == 412:
                self._emit("someone pushed since the card was read (412): reading it again")
                raise Again("the branch kept moving (HTTP 412)") from err
            if status == 429:
                told = retry_after(err)
                seconds = told if told is not None else backoff(attempt)
                if seconds > self.policy.max_wait_s:
                    raise too_long(seconds, self.policy.max_wait_s, self.repo_id) from err
                wait = Wait(seconds, "rate limited by the Hub (HTTP 429)", True)
                raise Again("rate limited (HTTP 429)", wait) from err
            if status is not None and (status == 408 or status >= 500):
                if on_commit:
                    raise _Ambiguous(f"the commit request failed with HTTP {status}") from err
                wait = Wait(backoff(attempt), f"the Hub answered HTTP {status} before the commit")
                raise Again(f"HTTP {status} before the commit", wait) from err
            raise self.client.translate(err, what="commit", repo_id=self.repo_id) from err
        except httpx2.TransportError as err:
            if _is_commit_request(_request_of(err)):
                raise _Ambiguous(
                    f"the connection failed during the commit request ({type(err).__name__})"
                ) from err
            reason = f"network error before the commit ({type(err).__name__})"
            raise Again(reason, Wait(backoff(attempt), reason)) from err
        except json.JSONDecodeError as err:  # e.g. an HTML error page from a proxy, maybe after the commit
            raise _Ambiguous("the Hub sent an answer that is not JSON") from err
        except failure_types() as err:
            raise self.client.translate(err, what="commit", repo_id=self.repo_id) from err

    def _landed(
        self, target: _Snapshot, pr: PullRequest | None, diff: str, changed: list[str], attempt: int
    ) -> PublishOutcome | None:
        """After an ambiguous failure: did our commit (or PR) land? Returns its outcome, or None."""
        if pr is None and self.plan.create_pr:
            found = self._find_our_pr()
            if found is None:
                self._emit("no pull request of ours appeared: the commit did not land")
                return None
            head = self.client.head(self.repo_id, found.git_reference)
            self._emit(f"the pull request did land: #{found.num}")
            return self._outcome("pr_opened", head, found, attempt, diff, changed)
        revision = pr.git_reference if pr is not None else "main"
        if self.client.head(self.repo_id, revision) == target.sha:
            self._emit(f"{revision} has not moved: the commit did not land")
            return None
        ours = None
        for commit in self.client.commits(self.repo_id, revision):
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
        info = self.client.model_info(self.repo_id, revision=revision, files_metadata=True)
        if not info.sha:
            raise NetworkError(f"{self.repo_id}: the Hub did not say which commit {revision} is at")
        files = {f.path: f for f in info.files}
        readme = self.client.read_file(self.repo_id, README_PATH, info.sha) if README_PATH in files else b""
        return _Snapshot(revision, info.sha, files, readme)

    def _find_our_pr(self) -> PullRequest | None:
        if self.client.token is None:
            self._emit("no token: cannot tell which open pull request is ours; comparing with main")
            return None
        me = self.client.account()
        title = self.plan.commit_title.strip()
        ours = [
            d
            for d in self.client.pull_requests(self.repo_id, author=me, status="open")
            if d.is_pull_request and d.status == "open" and d.author == me and d.title.strip() == title
        ]
        if not ours:
            return None
        pr = min(ours, key=lambda d: d.num)
        self._emit(f"found our open pull request #{pr.num}")
        return pr

    def _changed(self, snapshot: _Snapshot, new_readme: bytes) -> list[str]:
        """Paths whose content differs from ``snapshot`` (README.md first; an absent card equals b"")."""
        changed = [README_PATH] if new_readme != snapshot.readme else []
        changed += sorted(p for p, content in self.plan.files.items() if not snapshot.holds(p, content))
        return changed

    # -- small helpers -----------------------------------------------------------------------

    def _outcome(
        self,
        status: PublishStatus,
        sha: str | None,
        pr: PullRequest | None,
        attempts: int,
        diff: str,
        changed: list[str],
    ) -> PublishOutcome:
        pr_url = pr.url if pr is not None else None
        pr_num = pr.num if pr is not None else None
        return PublishOutcome(self.repo_id, status, sha, pr_url, pr_num, attempts, diff, list(changed))

    def _announce(self, wait: Wait) -> None:
        self._emit(f"{wait.reason}: waiting {wait.seconds:g} s")

    def _emit(self, message: str) -> None:
        client = getattr(self, "client", None)
        message = client.scrub(message) if client is not None else message
        logger.info("%s", message)
        if self.on_event is not None:
            self.on_event(message)


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _request_of(err: BaseException) -> object:
    try:
        return err.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return None


def _is_commit_request(request: object) -> bool:
    if request is None:
        return False
    url = getattr(request, "url", None)
    return getattr(request, "method", None) == "POST" and "/commit/" in str(getattr(url, "path", ""))


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
