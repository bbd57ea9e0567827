"""Tests of the Hub gateway's shared parts: the repo-id validator, the retry policy, the error
translation, and the client's reads, with the real huggingface_hub client.

Only HTTP is simulated: the client talks to the loopback Hub in tests/hub_server.py, which answers
with the Hub's URLs, JSON shapes and error headers; faults (429 with ``RateLimit`` or
``Retry-After``, 5xx, dropped connections) are injected there. Time: every wait goes to a
FakeClock (tests/fake_clock.py), so nothing sleeps for real.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_clock import FakeClock
from hub_server import Fault, HubServer, running_hub

from energy_badge import hub as hub_module
from energy_badge.errors import (
    EXIT_INPUT,
    EXIT_RUNTIME,
    GatedModelError,
    HubError,
    InputError,
    ModelNotFoundError,
    NetworkError,
)
from energy_badge.hub import (
    HubClient,
    HubGatedError,
    HubNotFoundError,
    RetryPolicy,
    Wait,
    is_repo_id,
    repo_id_problem,
    translate_error,
)

ROOT = Path(__file__).resolve().parents[1]
REPO = "alice/tiny-model"
TOKEN = "hf_aliceWriteToken0123456789abcdef"
READ_ONLY = "hf_ritaReadOnlyToken0123456789abc"
INFO = r"^/api/models/alice/tiny-model/revision/main$"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    """A loopback Hub with alice's public repo, a gated repo, and a read-only token."""
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice", TOKEN)
        server.add_user("rita", READ_ONLY, role="read")
        server.create_repo(REPO, {"README.md": b"# tiny\n", "config.json": b"{}"})
        server.create_repo("meta/gated", {"README.md": b"# gated\n"}, gated=True)
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


def client(server: HubServer, clock: FakeClock, waits: list[Wait] | None = None, **policy) -> HubClient:
    retry = RetryPolicy(sleep=clock.sleep, on_wait=(waits.append if waits is not None else None), **policy)
    return HubClient(token=TOKEN, endpoint=server.url, retry=retry)


# ------------------------------------------------------------------------------------------------
# The one repo-id validator


@pytest.mark.parametrize(
    "repo_id", ["alice/tiny-classifier", "Org_1/model.v2-final", "a/" + "n" * 96, "_x/y_"]
)
def test_valid_repo_ids(repo_id: str) -> None:
    assert repo_id_problem(repo_id) is None and is_repo_id(repo_id)


@pytest.mark.parametrize(
    ("repo_id", "words"),
    [
        ("gpt2", "namespace/name"),
        ("a/b/c", "namespace/name"),
        ("/name", "namespace/name"),
        ("alice/", "namespace/name"),
        ("./local-folder", "cannot start or end"),
        ("~/models/x", "namespace/name"),
        ("-bad/name", "cannot start or end"),
        ("alice/na.", "cannot start or end"),
        ("alice/sp ace", "only letters"),
        ("alice/ünï", "only letters"),
        ("a\\b/c", "only letters"),
        ("alice/bad--name", "'--' and '..'"),
        ("alice/na..me", "'--' and '..'"),
        ("alice/x.git", ".git"),
        ("alice/" + "n" * 97, "1 to 96"),
        (None, "string"),
        (42, "string"),
    ],
)
def test_invalid_repo_ids_say_why(repo_id: object, words: str) -> None:
    problem = repo_id_problem(repo_id)
    assert problem is not None and words in problem and not is_repo_id(repo_id)


def test_a_long_bad_id_is_quoted_short() -> None:
    problem = repo_id_problem("x" * 5000 + "/y/z")
    assert problem is not None and len(problem) < 300


def test_every_command_asks_the_same_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    """publish, the action, measure's local-or-Hub choice, bulk inputs and the webhook agree."""
    from energy_badge.action import hub_repo
    from energy_badge.bulk.inputs import parse_model_lines
    from energy_badge.run.source import looks_like_repo_id
    from energy_badge.service.webhook import WebhookError, parse_event

    for repo_id in ("alice/ok-model", "_x/y_", "alice/bad--name", "-x/y", "alice/x.git", "gpt2"):
        valid = is_repo_id(repo_id)
        assert looks_like_repo_id(repo_id) is valid
        refs, _ = parse_model_lines([repo_id], "m.txt")
        assert bool(refs) is valid
        payload = {
            "event": {"action": "update", "scope": "repo.content"},
            "repo": {"type": "model", "name": repo_id, "headSha": "0" * 40},
        }
        if valid:
            assert parse_event(payload).model == repo_id
        else:
            with pytest.raises(WebhookError):
                parse_event(payload)
    monkeypatch.setenv("EB_REPO", "alice/bad--name")
    with pytest.raises(InputError, match="not a Hub model repo id"):
        hub_repo()


def test_only_the_gateway_constructs_hfapi() -> None:
    found = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "energy_badge").rglob("*.py")
        if re.search(r"\bHfApi\(", path.read_text(encoding="utf-8"))
    ]
    assert found == ["energy_badge/hub/client.py"]


# ------------------------------------------------------------------------------------------------
# The one retry policy, through the loopback Hub


def test_429_with_ratelimit_waits_as_told_and_says_so(hub: HubServer) -> None:
    clock, waits = FakeClock(), []
    fault = hub.inject(Fault.rate_limit(reset=7), method="GET", path=INFO)
    info = client(hub, clock, waits).model_info(REPO, revision="main")
    assert info.sha == hub.head(REPO) and fault.hits == 1
    assert clock.sleeps == [8.0]  # t=7, plus the second huggingface_hub adds for rounding
    assert waits == [Wait(8.0, "rate limited by the Hub (HTTP 429)", True)]


def test_429_with_retry_after_only(hub: HubServer) -> None:
    clock = FakeClock()
    hub.inject(Fault.rate_limit(reset=None, retry_after=5), method="GET", path=INFO, times=2)
    client(hub, clock).model_info(REPO, revision="main")
    assert clock.sleeps == [5.0, 5.0]


def test_429_that_says_nothing_backs_off_exponentially(hub: HubServer) -> None:
    clock = FakeClock()
    hub.inject(Fault.rate_limit(reset=None), method="GET", path=INFO, times=3)
    client(hub, clock).model_info(REPO, revision="main")
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_a_429_longer_than_max_wait_gives_up_at_once(hub: HubServer) -> None:
    clock = FakeClock()
    hub.inject(Fault.rate_limit(reset=3600), method="GET", path=INFO)
    with pytest.raises(
        NetworkError, match="rate limited by the Hub for 3601 s, longer than the 600 s"
    ) as caught:
        client(hub, clock, max_wait_s=600).model_info(REPO, revision="main")
    assert clock.sleeps == [] and caught.value.exit_code == EXIT_RUNTIME


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_408_and_5xx_back_off_then_succeed(hub: HubServer, status: int) -> None:
    clock, waits = FakeClock(), []
    hub.inject(Fault.error(status), method="GET", path=INFO, times=2)
    assert client(hub, clock, waits).model_info(REPO, revision="main").sha == hub.head(REPO)
    assert clock.sleeps == [1.0, 2.0]
    assert [w.reason for w in waits] == [f"the Hub answered HTTP {status} to 'read {REPO}@main'"] * 2


def test_5xx_every_time_gives_up_after_the_bounded_tries(hub: HubServer) -> None:
    clock = FakeClock()
    hub.inject(Fault.error(503), method="GET", path=INFO, times=99)
    with pytest.raises(NetworkError, match=r"kept failing \(HTTP 503\)") as caught:
        client(hub, clock, max_attempts=3).model_info(REPO, revision="main")
    assert clock.sleeps == [1.0, 2.0] and hub.count("GET", INFO) == 3
    assert "\n" not in str(caught.value)


def test_a_dropped_connection_is_retried(hub: HubServer) -> None:
    clock, waits = FakeClock(), []
    hub.inject(Fault.drop(), method="GET", path=INFO)
    client(hub, clock, waits).model_info(REPO, revision="main")
    assert (
        clock.sleeps == [1.0]
        and waits[0].reason.startswith("network error during")
        and not waits[0].rate_limited
    )


def test_the_backoff_is_capped(hub: HubServer) -> None:
    clock = FakeClock()
    hub.inject(Fault.error(502), method="GET", path=INFO, times=5)
    client(hub, clock, max_attempts=6, max_backoff_s=3.0).model_info(REPO, revision="main")
    assert clock.sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_refusals_are_not_retried(hub: HubServer) -> None:
    clock = FakeClock()
    tries: list[int] = []
    retry = RetryPolicy(sleep=clock.sleep, before_attempt=lambda: tries.append(1))
    with pytest.raises(HubNotFoundError):
        HubClient(token=TOKEN, endpoint=hub.url, retry=retry).model_info("alice/missing")
    assert clock.sleeps == [] and len(tries) == 1


def test_answers_that_are_not_json_are_retried() -> None:
    clock = FakeClock()
    answers = iter([json.JSONDecodeError("x", "<html>", 0), json.JSONDecodeError("x", "<html>", 0), "ok"])

    def read() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert RetryPolicy(sleep=clock.sleep).call(read, what="read") == "ok"
    assert clock.sleeps == [1.0, 2.0]


def test_rounds_wait_what_each_round_asks_and_give_up_with_the_last_reason() -> None:
    from energy_badge.hub import Again

    clock = FakeClock()
    seen: list[int] = []

    def round_(number: int) -> str:
        seen.append(number)
        raise Again(f"problem {number}", Wait(float(number * 10), "busy") if number != 2 else None)

    with pytest.raises(Again, match="problem 3"):
        RetryPolicy(max_attempts=3, sleep=clock.sleep).rounds(round_)
    assert seen == [1, 2, 3] and clock.sleeps == [10.0]  # round 2 asked for no wait; none after the last


# ------------------------------------------------------------------------------------------------
# The one translation


def test_not_found_and_gated_are_both_hub_and_model_errors(hub: HubServer) -> None:
    c = client(hub, FakeClock())
    with pytest.raises(HubNotFoundError, match="repository not found") as missing:
        c.model_info("alice/missing")
    assert isinstance(missing.value, ModelNotFoundError) and isinstance(missing.value, HubError)
    assert missing.value.exit_code == EXIT_INPUT
    with pytest.raises(HubGatedError, match="gated") as gated:
        c.read_file("meta/gated", "README.md", "main")
    assert isinstance(gated.value, GatedModelError) and isinstance(gated.value, HubError)
    with pytest.raises(ModelNotFoundError, match="revision 'nope' not found"):
        c.model_info(REPO, revision="nope")


def test_token_refusals(hub: HubServer) -> None:
    bad = HubClient(token="hf_notARealToken000000000000000000", endpoint=hub.url, retry=RetryPolicy())
    with pytest.raises(HubError, match=r"rejected the token \(HTTP 401") as caught:
        bad.account()
    assert "hf_notARealToken" not in str(caught.value)
    reader = HubClient(token=READ_ONLY, endpoint=hub.url)
    with pytest.raises(Exception) as raw:  # the one write comes back as huggingface_hub raised it
        reader.create_commit(
            REPO,
            {"x.txt": b"x"},
            title="t",
            description="",
            parent_commit=hub.head(REPO),
            revision="main",
            create_pr=False,
        )
    refused = reader.translate(raw.value, what="commit", repo_id=REPO)
    assert isinstance(refused, HubError) and "no write access with this token (HTTP 403" in str(refused)


def test_an_unreachable_hub_is_a_network_error_naming_the_endpoint() -> None:
    from hub_server import HubServer as Server

    server = Server().start()
    url = server.url
    server.stop()
    clock = FakeClock()
    c = HubClient(token=TOKEN, endpoint=url, retry=RetryPolicy(max_attempts=2, sleep=clock.sleep))
    with pytest.raises(NetworkError, match=f"cannot reach the Hub at {re.escape(url)} to read {REPO}@main"):
        c.model_info(REPO, revision="main")
    assert clock.sleeps == [1.0]


def test_messages_are_one_line_and_never_hold_the_token() -> None:
    error = translate_error(
        ValueError(f"something broke for {TOKEN}\nsecond line"),
        what="read the card",
        endpoint="http://hub",
        repo_id=REPO,
        secrets=[TOKEN],
    )
    assert isinstance(error, HubError) and TOKEN not in str(error) and "hf_***" in str(error)
    assert "\n" not in str(error) and str(error).startswith(f"{REPO}: could not read the card")
    same = NetworkError("already ours")
    assert translate_error(same, what="x", endpoint="http://hub") is same


# ------------------------------------------------------------------------------------------------
# Reads the other stages use


def test_download_file_tells_a_missing_file_from_an_unreachable_hub(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A download that cannot reach the Hub was already retried by huggingface_hub itself (its
    backoff, not really waited here): the gateway does not retry it again."""
    c = client(hub, FakeClock())
    assert c.download_file(REPO, "energy/result.json", revision="main", cache_dir=tmp_path / "a") is None
    got = c.download_file(REPO, "config.json", revision="main", cache_dir=tmp_path / "b")
    assert got is not None and got.read_bytes() == b"{}"
    url = hub.url
    hub.stop()
    clock, backoff = FakeClock(), FakeClock()
    monkeypatch.setattr(time, "sleep", backoff.sleep)
    offline = HubClient(token=TOKEN, endpoint=url, retry=RetryPolicy(max_attempts=2, sleep=clock.sleep))
    with pytest.raises(NetworkError, match="cannot reach the Hub"):
        offline.download_file(REPO, "energy/result.json", revision="main", cache_dir=tmp_path / "c")
    assert clock.sleeps == [] and backoff.sleeps  # huggingface_hub's own retries only


def test_account_is_asked_once_per_token(hub: HubServer) -> None:
    c = client(hub, FakeClock())
    assert c.account() == "alice" and c.account() == "alice"
    assert hub.count("GET", r"/api/whoami-v2$") == 1


def test_pull_requests_and_commits_are_plain_records(hub: HubServer) -> None:
    hub.open_pull_request(REPO, "Add energy badge", "alice", {"energy/result.json": b"{}"})
    c = client(hub, FakeClock())
    (pr,) = c.pull_requests(REPO, author="alice", status="open")
    assert (pr.num, pr.title, pr.author, pr.git_reference) == (1, "Add energy badge", "alice", "refs/pr/1")
    assert pr.url == f"{hub.url}/{REPO}/discussions/1"
    assert c.pull_requests(REPO, author="alice", status="closed") == []
    history = c.commits(REPO, "main")
    assert history[0].commit_id == hub.head(REPO)


# ------------------------------------------------------------------------------------------------
# A Hub that refuses connections from the start, and the listing's own pagination (issue 13)


def test_a_hub_that_never_answered_is_not_retried_when_the_client_says_so(hub: HubServer) -> None:
    """``unreachable_is_final`` (the bulk job's clients): a refused first connection is final at once;
    once the Hub answered, a refused connection is transient again and retried."""
    from energy_badge.hub.client import HubUnreachableError

    url = hub.url
    clock = FakeClock()
    retry = RetryPolicy(sleep=clock.sleep)
    eager = HubClient(token=TOKEN, endpoint=url, retry=retry, unreachable_is_final=True)
    assert eager.model_info(REPO).sha == hub.head(REPO) and eager.reached
    hub.stop()
    with pytest.raises(NetworkError, match=f"cannot reach the Hub at {re.escape(url)}") as later:
        eager.model_info(REPO)
    assert not isinstance(later.value, HubUnreachableError)
    assert clock.sleeps == [1.0, 2.0, 4.0]  # mid-run: retried like any transient failure

    fresh_clock = FakeClock()
    fresh = HubClient(
        token=TOKEN, endpoint=url, retry=RetryPolicy(sleep=fresh_clock.sleep), unreachable_is_final=True
    )
    with pytest.raises(HubUnreachableError, match=r"\(ConnectError: .*refused") as caught:
        fresh.model_info(REPO)
    assert fresh_clock.sleeps == [] and not fresh.reached
    assert caught.value.exit_code == EXIT_RUNTIME and "\n" not in str(caught.value)


def test_the_listing_retries_a_failed_page_alone_without_the_librarys_own_backoff(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """huggingface_hub's list_models retries each page itself (time.sleep, a log line per try) inside
    our policy's tries; the gateway pages through the Link header itself, one read per page."""
    library = FakeClock()
    monkeypatch.setattr(time, "sleep", library.sleep)
    hub.models_page_size = 2
    for i in range(5):
        hub.create_repo(f"zed/bert-{i}", {"README.md": b"# x\n"})
    # the first page's request arms a 503 for the next listing request: the second page
    hub.inject(
        Fault.on_request(lambda s: s.inject(Fault.error(503), method="GET", path=r"^/api/models$")),
        method="GET",
        path=r"^/api/models$",
    )
    clock = FakeClock()
    query = {"search": "bert", "author": None, "pipeline_tag": None}
    found = client(hub, clock).list_models(**query, limit=None, expand=["sha"])
    assert [r.repo_id for r in found] == [f"zed/bert-{i}" for i in range(5)]
    assert all(r.sha == hub.head(r.repo_id) for r in found)
    assert clock.sleeps == [1.0] and library.sleeps == []
    assert hub.count("GET", r"^/api/models$") == 4  # 3 pages, the second one twice
    limited = client(hub, FakeClock()).list_models(**query, limit=3, expand=[])
    assert [r.repo_id for r in limited] == ["zed/bert-0", "zed/bert-1", "zed/bert-2"]
