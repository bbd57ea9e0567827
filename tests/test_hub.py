"""Tests of the hub stage (energy_badge.hub) with the real huggingface_hub client.

Only HTTP is simulated: every call goes through huggingface_hub 2.x (HfApi.model_info,
create_commit with its validate-yaml / preupload / NDJSON commit requests, get_repo_discussions,
list_repo_commits, whoami, the resolve download) to the loopback Hub in tests/hub_server.py, which
answers with the Hub's URLs, JSON shapes and error headers. Faults (429, 5xx, dropped connections,
a commit that lands while the client sees an error, a concurrent push) are injected at that server.
Waits go through an injected ``sleep`` so the tests never really sleep.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from energy_badge import hub as hub_module
from energy_badge.errors import HubError, NetworkError
from energy_badge.hub import PublishPlan, commit_plan

try:
    from hub_server import Fault, HubServer, running_hub
except ImportError:  # pragma: no cover - when tests/ is imported as a package
    from tests.hub_server import Fault, HubServer, running_hub

REPO = "alice/tiny-model"
ALICE = "hf_aliceWriteToken0123456789abcdef"
BOB = "hf_bobWriteToken0123456789abcdef"
READ_ONLY = "hf_ritaReadOnlyToken0123456789abc"
START, END = "<!-- energy-badge:start -->", "<!-- energy-badge:end -->"
CARD = b"---\nlicense: mit\ntags:\n- text-classification # comment kept\n---\n# Tiny\n\nA tiny model.\n"
BADGE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><text>4 stars</text></svg>'
RESULT = b'{"energy": {"gpu_wh_per_1k": 0.12}}\n'
ROOT = Path(__file__).resolve().parents[1]


def block_editor(badge: str) -> Callable[[bytes], bytes]:
    """A simple, idempotent card edit: put ``badge`` between the markers (replace or append)."""

    def edit(data: bytes) -> bytes:
        text = data.decode("utf-8")
        block = f"{START}\n{badge}\n{END}\n"
        if START in text:
            before, rest = text.split(START, 1)
            after = rest.split(END, 1)[1]
            return (before + block + after.removeprefix("\n")).encode("utf-8")
        separator = "\n" if text and not text.endswith("\n") else ""
        return (text + separator + block).encode("utf-8")

    return edit


def make_plan(badge: str = "![energy](energy/badge.svg) 4 stars", *, create_pr: bool = False, **files: bytes):
    return PublishPlan(
        repo_id=REPO,
        files={"energy/badge.svg": BADGE_SVG, "energy/result.json": RESULT, **files},
        edit_readme=block_editor(badge),
        commit_title="Add energy badge",
        commit_description="Energy measured with energy-badge.",
        create_pr=create_pr,
    )


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    """A loopback Hub with alice (owner of alice/tiny-model), bob (another user) and a read-only token."""
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice", ALICE)
        server.add_user("bob", BOB)
        server.add_user("rita", READ_ONLY, role="read")
        server.create_repo(REPO, {"README.md": CARD, "config.json": b"{}"})
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def run(server: HubServer, plan: PublishPlan, sleeps: list[float] | None = None, **kwargs):
    kwargs.setdefault("token", ALICE)
    return commit_plan(
        plan, endpoint=server.url, sleep=(sleeps if sleeps is not None else []).append, **kwargs
    )


def our_commits(server: HubServer, revision: str = "main") -> list[str]:
    return [c.sha for c in server.history(REPO, revision) if c.title == "Add energy badge"]


# ------------------------------------------------------------------------------------------------
# Committing to main


def test_new_card_on_a_repo_without_readme(hub: HubServer) -> None:
    """A repo with no README.md gets one with the block, plus the files, in one commit on main."""
    hub.create_repo("alice/no-card", {"config.json": b"{}"})
    before = hub.head("alice/no-card")
    plan = replace(make_plan(), repo_id="alice/no-card")
    outcome = run(hub, plan)
    assert outcome.status == "committed"
    assert outcome.files == ["README.md", "energy/badge.svg", "energy/result.json"]
    assert outcome.attempts == 1
    head = hub.history("alice/no-card")[0]
    assert outcome.commit_sha == head.sha and head.parents == [before]
    assert head.tree["README.md"] == f"{START}\n![energy](energy/badge.svg) 4 stars\n{END}\n".encode()
    assert head.tree["energy/badge.svg"] == BADGE_SVG and head.tree["energy/result.json"] == RESULT
    assert head.title == "Add energy badge" and head.message == "Energy measured with energy-badge."
    assert "+<!-- energy-badge:start -->" in outcome.readme_diff
    assert hub.api_commit_count("alice/no-card") == 1


def test_card_without_our_block_keeps_everything_else(hub: HubServer) -> None:
    """The existing card's bytes are all kept; only the block is added; one commit on top of the head."""
    before = hub.head(REPO)
    outcome = run(hub, make_plan())
    assert outcome.status == "committed"
    readme = hub.file(REPO, "README.md")
    assert readme is not None and readme.startswith(CARD)
    assert hub.history(REPO)[0].parents == [before]
    assert hub.file(REPO, "config.json") == b"{}"
    assert outcome.readme_diff.startswith("--- a/README.md\n+++ b/README.md\n")


def test_update_of_an_existing_badge(hub: HubServer) -> None:
    """A second result replaces the block where it is and rewrites the result file."""
    run(hub, make_plan("old badge"))
    outcome = run(hub, make_plan("new badge", **{"energy/result.json": b'{"energy": 2}\n'}))
    assert outcome.status == "committed"
    assert outcome.files == ["README.md", "energy/result.json"]  # the SVG did not change
    readme = hub.file(REPO, "README.md")
    assert readme == CARD + f"{START}\nnew badge\n{END}\n".encode()
    assert "-old badge" in outcome.readme_diff and "+new badge" in outcome.readme_diff
    assert len(our_commits(hub)) == 2


def test_unchanged_content_makes_no_commit(hub: HubServer) -> None:
    """Publishing the same thing again writes nothing (no preupload, no commit request)."""
    first = run(hub, make_plan())
    commits_before = hub.count("POST", r"/commit/")
    again = run(hub, make_plan())
    assert again.status == "unchanged"
    assert again.commit_sha == first.commit_sha == hub.head(REPO)
    assert again.files == [] and again.readme_diff == ""
    assert hub.count("POST", r"/commit/") == commits_before
    assert hub.count("POST", r"/preupload/") == 1
    assert hub.api_commit_count(REPO) == 1


def test_dry_run_reads_everything_and_commits_nothing(hub: HubServer) -> None:
    """A dry run reports the diff and the files, and makes no write request at all."""
    head = hub.head(REPO)
    outcome = run(hub, make_plan(), dry_run=True)
    assert outcome.status == "dry_run" and outcome.commit_sha is None
    assert outcome.files == ["README.md", "energy/badge.svg", "energy/result.json"]
    assert "+![energy](energy/badge.svg) 4 stars" in outcome.readme_diff
    assert hub.head(REPO) == head
    assert not [r for r in hub.requests if r.method == "POST"]


def test_dry_run_without_a_token_works_on_a_public_repo(hub: HubServer) -> None:
    outcome = commit_plan(make_plan(create_pr=True), endpoint=hub.url, dry_run=True)
    assert outcome.status == "dry_run"
    assert all(r.user is None for r in hub.requests)


def test_token_comes_from_hf_token(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no token argument, huggingface_hub's resolution applies: HF_TOKEN."""
    monkeypatch.setenv("HF_TOKEN", ALICE)
    outcome = commit_plan(make_plan(), endpoint=hub.url)
    assert outcome.status == "committed"
    assert hub.history(REPO)[0].author == "alice"


def test_endpoint_defaults_to_hf_endpoint(hub: HubServer) -> None:
    """The fixture set HF_ENDPOINT; with no endpoint argument, commit_plan() uses it (read at call time)."""
    assert os.environ["HF_ENDPOINT"] == hub.url
    assert commit_plan(make_plan(), token=ALICE).status == "committed"


# ------------------------------------------------------------------------------------------------
# Pull requests


def test_pr_mode_twice_opens_exactly_one_pr(hub: HubServer) -> None:
    """The first run opens a PR; a re-run with the same content is a no-op; a new result updates the
    same PR on refs/pr/N; main is never touched and no second PR is opened."""
    main_head = hub.head(REPO)
    first = run(hub, make_plan(create_pr=True))
    assert first.status == "pr_opened" and first.pr_num == 1
    assert first.pr_url == f"{hub.url}/{REPO}/discussions/1"
    assert first.commit_sha == hub.head(REPO, "refs/pr/1")

    second = run(hub, make_plan(create_pr=True))
    assert second.status == "unchanged" and second.pr_num == 1

    third = run(hub, make_plan("5 stars now", create_pr=True))
    assert third.status == "pr_updated" and third.pr_num == 1
    assert third.commit_sha == hub.head(REPO, "refs/pr/1")
    assert hub.file(REPO, "README.md", "refs/pr/1") == CARD + f"{START}\n5 stars now\n{END}\n".encode()

    assert hub.head(REPO) == main_head
    assert len(hub.pull_requests(REPO)) == 1


def test_pr_of_another_author_with_the_same_title_is_not_ours(hub: HubServer) -> None:
    hub.open_pull_request(REPO, "Add energy badge", "bob", {"energy/result.json": b"{}"})
    outcome = run(hub, make_plan(create_pr=True))
    assert outcome.status == "pr_opened" and outcome.pr_num == 2
    assert hub.file(REPO, "energy/result.json", "refs/pr/1") == b"{}"  # bob's PR untouched


def test_closed_pr_is_not_reused(hub: HubServer) -> None:
    from huggingface_hub import HfApi

    run(hub, make_plan(create_pr=True))
    HfApi(endpoint=hub.url, token=ALICE).change_discussion_status(REPO, 1, "closed")
    outcome = run(hub, make_plan(create_pr=True))
    assert outcome.status == "pr_opened" and outcome.pr_num == 2


def test_pr_update_carries_main_changes_and_merges_cleanly(hub: HubServer) -> None:
    """The edit applies to main's current card: after the author edits main, the PR is brought up to
    date, and merging it gives main's new card plus our block."""
    from huggingface_hub import HfApi

    run(hub, make_plan(create_pr=True))
    edited = CARD.replace(b"# Tiny\n", b"# Tiny, now documented\n")
    hub.push(REPO, {"README.md": edited}, author="alice", title="Improve card")
    outcome = run(hub, make_plan(create_pr=True))
    assert outcome.status == "pr_updated"
    assert outcome.files == ["README.md"]
    expected = edited + f"{START}\n![energy](energy/badge.svg) 4 stars\n{END}\n".encode()
    assert hub.file(REPO, "README.md", "refs/pr/1") == expected
    HfApi(endpoint=hub.url, token=ALICE).merge_pull_request(REPO, 1)
    assert hub.file(REPO, "README.md") == expected
    assert run(hub, make_plan(create_pr=True)).status == "unchanged"


def test_pr_content_already_on_main_opens_nothing(hub: HubServer) -> None:
    run(hub, make_plan())
    outcome = run(hub, make_plan(create_pr=True))
    assert outcome.status == "unchanged" and outcome.pr_num is None
    assert hub.pull_requests(REPO) == []


def test_dry_run_in_pr_mode_diffs_against_our_open_pr(hub: HubServer) -> None:
    run(hub, make_plan("first", create_pr=True))
    outcome = run(hub, make_plan("second", create_pr=True), dry_run=True)
    assert outcome.status == "dry_run" and outcome.pr_num == 1
    assert "-first" in outcome.readme_diff and "+second" in outcome.readme_diff
    assert outcome.files == ["README.md"]
    assert len(hub.pull_requests(REPO)) == 1


# ------------------------------------------------------------------------------------------------
# Concurrency, rate limits, ambiguous failures


def test_stale_parent_is_retried_and_the_concurrent_change_kept(hub: HubServer, sleeps: list[float]) -> None:
    """Someone pushes between our read and our commit: the Hub answers 412, we read again, edit again,
    and commit on top of their change."""

    def author_edits_card(server: HubServer) -> None:
        card = server.file(REPO, "README.md") or b""
        server.push(
            REPO, {"README.md": card.replace(b"# Tiny", b"# Tiny (edited meanwhile)")}, author="alice"
        )

    hook = hub.inject(Fault.on_request(author_edits_card), method="POST", path=r"/commit/main$")
    events: list[str] = []
    outcome = run(hub, make_plan(), sleeps, on_event=events.append)
    assert hook.hits == 1
    assert outcome.status == "committed" and outcome.attempts == 2
    readme = hub.file(REPO, "README.md") or b""
    assert b"# Tiny (edited meanwhile)" in readme and START.encode() in readme
    history = hub.history(REPO)
    assert history[0].sha == outcome.commit_sha and history[1].title == "Update files"
    assert len(our_commits(hub)) == 1
    assert any("412" in e for e in events)
    assert sleeps == []


def test_stale_parent_every_time_gives_up(hub: HubServer) -> None:
    def push(server: HubServer) -> None:
        server.push(REPO, {"notes.txt": os.urandom(4).hex().encode()})

    hub.inject(Fault.on_request(push), method="POST", path=r"/commit/main$", times=10)
    with pytest.raises(NetworkError, match="gave up after 3 attempts"):
        run(hub, make_plan(), max_attempts=3)
    assert our_commits(hub) == []


def test_rate_limited_commit_waits_as_told(hub: HubServer, sleeps: list[float]) -> None:
    """429 with RateLimit: "api";r=0;t=7 -> wait 7 s (+1 s, as huggingface_hub does), then succeed."""
    fault = hub.inject(Fault.rate_limit(reset=7), method="POST", path=r"/commit/main$")
    outcome = run(hub, make_plan(), sleeps)
    assert fault.hits == 1
    assert sleeps == [8.0]
    assert outcome.status == "committed" and outcome.attempts == 2
    assert len(our_commits(hub)) == 1


def test_rate_limited_read_obeys_retry_after(hub: HubServer, sleeps: list[float]) -> None:
    hub.inject(Fault.rate_limit(reset=None, retry_after=5), method="GET", path=r"/revision/main$")
    outcome = run(hub, make_plan(), sleeps)
    assert sleeps == [5.0]
    assert outcome.status == "committed" and outcome.attempts == 1


def test_rate_limit_longer_than_max_wait_gives_up(hub: HubServer, sleeps: list[float]) -> None:
    hub.inject(Fault.rate_limit(reset=3600), method="POST", path=r"/commit/main$")
    with pytest.raises(NetworkError, match="rate limited by the Hub for 3601 s"):
        run(hub, make_plan(), sleeps, max_wait_s=600)
    assert sleeps == []
    assert our_commits(hub) == []


@pytest.mark.parametrize("fault", [Fault.error_after(500), Fault.drop_after()], ids=["500", "dropped"])
def test_commit_that_landed_while_the_client_saw_an_error_is_not_repeated(
    hub: HubServer, sleeps: list[float], fault: Fault
) -> None:
    """The commit lands but the answer is a 500 / the connection drops: we find our commit instead
    of committing again."""
    hub.inject(fault, method="POST", path=r"/commit/main$")
    outcome = run(hub, make_plan(), sleeps)
    assert fault.hits == 1
    assert outcome.status == "committed" and outcome.attempts == 1
    assert our_commits(hub) == [outcome.commit_sha]
    assert hub.api_commit_count(REPO) == 1
    assert hub.count("POST", r"/commit/") == 1
    assert sleeps == []


def test_commit_lost_before_it_landed_is_sent_again(hub: HubServer, sleeps: list[float]) -> None:
    hub.inject(Fault.drop(), method="POST", path=r"/commit/main$")
    outcome = run(hub, make_plan(), sleeps)
    assert outcome.status == "committed" and outcome.attempts == 2
    assert sleeps == [1.0]
    assert our_commits(hub) == [outcome.commit_sha]


def test_pr_that_opened_while_the_client_saw_an_error_is_not_opened_twice(
    hub: HubServer, sleeps: list[float]
) -> None:
    hub.inject(Fault.drop_after(), method="POST", path=r"/commit/main$")
    outcome = run(hub, make_plan(create_pr=True), sleeps)
    assert outcome.status == "pr_opened" and outcome.pr_num == 1
    assert outcome.commit_sha == hub.head(REPO, "refs/pr/1")
    assert len(hub.pull_requests(REPO)) == 1
    assert run(hub, make_plan(create_pr=True)).status == "unchanged"
    assert len(hub.pull_requests(REPO)) == 1


def test_pr_request_lost_before_it_landed_is_sent_again(hub: HubServer, sleeps: list[float]) -> None:
    hub.inject(Fault.error(503), method="POST", path=r"/commit/main$")
    outcome = run(hub, make_plan(create_pr=True), sleeps)
    assert outcome.status == "pr_opened" and outcome.attempts == 2 and outcome.pr_num == 1
    assert sleeps == [1.0]
    assert len(hub.pull_requests(REPO)) == 1


def test_pr_update_that_landed_while_the_client_saw_an_error(hub: HubServer, sleeps: list[float]) -> None:
    run(hub, make_plan("one", create_pr=True))
    hub.inject(Fault.error_after(502), method="POST", path=r"/commit/refs/pr/1$")
    outcome = run(hub, make_plan("two", create_pr=True), sleeps)
    assert outcome.status == "pr_updated" and outcome.pr_num == 1
    assert [c.title for c in hub.history(REPO, "refs/pr/1")[:2]] == ["Add energy badge"] * 2
    assert hub.api_commit_count(REPO) == 2


def test_transient_read_errors_are_retried(hub: HubServer, sleeps: list[float]) -> None:
    hub.inject(Fault.error(503), method="GET", path=r"/revision/main$", times=2)
    outcome = run(hub, make_plan(), sleeps)
    assert outcome.status == "committed"
    assert sleeps == [1.0, 2.0]


def test_html_error_page_before_the_commit_is_retried(hub: HubServer, sleeps: list[float]) -> None:
    """huggingface_hub reads validate-yaml's body as JSON before checking the status: a proxy's HTML
    502 page surfaces as a JSON error, which is retried after checking nothing landed."""
    hub.inject(Fault.html_error(502), method="POST", path=r"/api/validate-yaml$")
    outcome = run(hub, make_plan(), sleeps)
    assert outcome.status == "committed" and outcome.attempts == 2
    assert our_commits(hub) == [outcome.commit_sha]


def test_hub_failing_every_commit_gives_up_without_duplicates(hub: HubServer, sleeps: list[float]) -> None:
    hub.inject(Fault.error(503), method="POST", path=r"/commit/main$", times=99)
    with pytest.raises(NetworkError, match="gave up after 3 attempts"):
        run(hub, make_plan(), sleeps, max_attempts=3)
    assert sleeps == [1.0, 2.0]
    assert hub.api_commit_count(REPO) == 0


# ------------------------------------------------------------------------------------------------
# Refusals and outages


def test_repo_not_found(hub: HubServer) -> None:
    plan = replace(make_plan(), repo_id="alice/does-not-exist")
    with pytest.raises(HubError, match="repository not found"):
        run(hub, plan)


def test_private_repo_of_someone_else_looks_not_found(hub: HubServer) -> None:
    hub.create_repo("bob/secret", {"README.md": b"x"}, private=True)
    plan = replace(make_plan(), repo_id="bob/secret")
    with pytest.raises(HubError, match="repository not found"):
        run(hub, plan)


def test_gated_repo_without_access(hub: HubServer) -> None:
    hub.create_repo("meta/gated-model", {"README.md": CARD}, gated=True)
    plan = replace(make_plan(), repo_id="meta/gated-model")
    with pytest.raises(HubError, match="gated") as caught:
        run(hub, plan)
    assert "\n" not in str(caught.value)
    assert hub.api_commit_count("meta/gated-model") == 0


def test_read_only_token_cannot_commit(hub: HubServer) -> None:
    with pytest.raises(HubError, match="no write access") as caught:
        run(hub, make_plan(), token=READ_ONLY)
    assert "\n" not in str(caught.value)
    assert hub.api_commit_count(REPO) == 0


def test_someone_elses_repo_without_write_access(hub: HubServer) -> None:
    with pytest.raises(HubError, match="no write access"):
        run(hub, make_plan(), token=BOB)


def test_invalid_token(hub: HubServer) -> None:
    with pytest.raises(HubError, match="rejected the token"):
        run(hub, make_plan(), token="hf_notARealToken000000000000000000")


def test_no_token_at_all(hub: HubServer) -> None:
    with pytest.raises(HubError, match="no Hugging Face token"):
        commit_plan(make_plan(), endpoint=hub.url)
    assert hub.requests == []


def test_card_metadata_rejected_by_the_hub(hub: HubServer) -> None:
    """The Hub rejects duplicate YAML keys; nothing is committed."""
    plan = replace(
        make_plan(),
        edit_readme=lambda data: data.replace(b"license: mit\n", b"license: mit\nlicense: apache-2.0\n"),
    )
    with pytest.raises(HubError, match="metadata"):
        run(hub, plan)
    assert hub.api_commit_count(REPO) == 0


def test_edit_readme_errors_propagate(hub: HubServer) -> None:
    class CardProblem(Exception):
        pass

    def broken(data: bytes) -> bytes:
        raise CardProblem("cannot edit this card")

    plan = replace(make_plan(), edit_readme=broken)
    with pytest.raises(CardProblem):
        run(hub, plan)
    assert not [r for r in hub.requests if r.method == "POST"]


def test_server_down_is_a_network_error(sleeps: list[float]) -> None:
    server = HubServer().start()
    url = server.url
    server.stop()
    with pytest.raises(NetworkError, match="cannot reach the Hub"):
        commit_plan(make_plan(), token=ALICE, endpoint=url, sleep=sleeps.append, max_attempts=2)
    assert sleeps == [1.0]


def test_invalid_plans_are_refused() -> None:
    with pytest.raises(ValueError, match="README.md"):
        commit_plan(
            PublishPlan(REPO, {"README.md": b""}, lambda b: b, "t"),
            token=ALICE,
            endpoint="http://127.0.0.1:9",
        )
    with pytest.raises(ValueError, match="invalid path"):
        commit_plan(
            PublishPlan(REPO, {"../x": b""}, lambda b: b, "t"), token=ALICE, endpoint="http://127.0.0.1:9"
        )
    with pytest.raises(ValueError, match="title"):
        commit_plan(PublishPlan(REPO, {}, lambda b: b, "  "), token=ALICE, endpoint="http://127.0.0.1:9")


# ------------------------------------------------------------------------------------------------
# Secrets


def test_token_never_appears_in_logs_events_or_errors(
    hub: HubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    events: list[str] = []
    texts: list[str] = []
    hub.inject(Fault.rate_limit(reset=2), method="POST", path=r"/commit/main$")
    hub.inject(Fault.drop_after(), method="POST", path=r"/commit/main$")
    run(hub, make_plan(), on_event=events.append)
    for token, repo in (
        (READ_ONLY, REPO),
        (ALICE, "alice/missing"),
        ("hf_bogusTokenValue00000000000000", REPO),
    ):
        plan = replace(make_plan("other"), repo_id=repo)
        with pytest.raises(HubError) as caught:
            run(hub, plan, token=token, on_event=events.append)
        texts.append(str(caught.value))
        texts.append("".join(traceback.format_exception(caught.value)))
    everything = caplog.text + "\n".join(events) + "\n".join(texts)
    assert events and caplog.records
    for token in (ALICE, READ_ONLY, "hf_bogusTokenValue00000000000000"):
        assert token not in everything


# ------------------------------------------------------------------------------------------------
# The environment path and the card editor


def test_subprocess_with_hf_endpoint_and_hf_token_in_its_environment(hub: HubServer, tmp_path: Path) -> None:
    """A fresh interpreter: huggingface_hub reads HF_ENDPOINT at import, the token comes from HF_TOKEN,
    and commit_plan() is called with neither an endpoint nor a token."""
    code = (
        "import json, os\n"
        "import huggingface_hub.constants as c\n"
        "assert c.ENDPOINT == os.environ['HF_ENDPOINT'], c.ENDPOINT\n"
        "from energy_badge.hub import PublishPlan, commit_plan\n"
        "def edit(data):\n"
        "    block = b'<!-- energy-badge:start -->\\nfrom a subprocess\\n<!-- energy-badge:end -->\\n'\n"
        "    return data + block\n"
        "plan = PublishPlan('alice/tiny-model', {'energy/result.json': b'{}'}, edit, 'Add energy badge')\n"
        "print(json.dumps(commit_plan(plan).to_dict()))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_TOKEN=ALICE, HF_HOME=str(tmp_path / "sub-home"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "committed"
    assert outcome["commit_sha"] == hub.head(REPO)
    assert hub.file(REPO, "README.md") == CARD + f"{START}\nfrom a subprocess\n{END}\n".encode()
    assert ALICE not in proc.stdout + proc.stderr


def test_with_the_real_card_editor(hub: HubServer, minilm_path: Path) -> None:
    """The card stage's editor on the real all-MiniLM-L6-v2 card, published, then re-published as a no-op."""
    card = pytest.importorskip("energy_badge.card")
    original = (minilm_path / "README.md").read_bytes()
    hub.create_repo("sentence-transformers/all-MiniLM-L6-v2", {"README.md": original}, writers=["alice"])
    metadata = {
        "stars": 4,
        "task": "sentence-similarity",
        "wh_per_1k_queries": {"value": 0.12, "ci95_low": 0.11, "ci95_high": 0.13},
        "hardware": "NVIDIA H100 80GB HBM3",
        "hardware_class": "H100",
        "workload": "sentence-similarity@1.0.0",
        "rating_table": "2025.1",
        "measured_at": "2025-06-01",
        "tool": "energy-badge 0.1.0",
        "result": "energy/result.json",
    }

    def edit(data: bytes) -> bytes:
        return card.apply_to_card_bytes(data, metadata, "![Energy: 4 stars](energy/badge.svg)")[0]

    plan = PublishPlan(
        "sentence-transformers/all-MiniLM-L6-v2", {"energy/result.json": RESULT}, edit, "Add energy badge"
    )
    outcome = run(hub, plan)
    assert outcome.status == "committed"
    new = hub.file(plan.repo_id, "README.md") or b""
    assert b"energy_score:" in new and card.BLOCK_START.encode() in new
    assert run(hub, plan).status == "unchanged"
