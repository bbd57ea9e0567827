"""The bulk job end to end at the library level: plan, measure, publish, resume.

What is simulated, and only that:
- the Hub's HTTP side (tests/hub_server.py, a loopback server speaking the Hub's protocol; the
  client is the real huggingface_hub, through energy_badge.hub.commit_plan), with injected faults: 429
  with RateLimit, 5xx before processing, and a commit that LANDS while the client sees a 5xx;
- the measurement: a CPU cannot produce a canonical (publishable) result, so the measuring step is
  injected (BulkJob(measure=...)) and returns SYNTHETIC canonical results from
  tests/results_factory.py (their model.note says so), pinned to the revision the job asked for.
  The real measure_model path is covered in test_bulk_cli.py and test_bulk_ray.py;
- time: waits go to a fake clock (FakeClock), so backoffs and throttles are checked, not slept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_clock import FakeClock
from hub_server import Fault, HubServer, running_hub
from results_factory import make_result

from energy_badge import hub as hub_module
from energy_badge.bulk.inputs import ModelRef, query_models
from energy_badge.bulk.job import BulkConfig, BulkJob
from energy_badge.bulk.publishing import Publishing
from energy_badge.bulk.report import write_reports
from energy_badge.bulk.state import StateStore
from energy_badge.errors import GatedModelError, HubError, NetworkError, RuntimeFailure, UsageError
from energy_badge.publish import AUTOMATED_COMMIT_TITLE

TOKEN = "hf_botToken0123456789abcdefghijkl"
CARD = b"---\nlicense: mit\ntags:\n- text-classification\n---\n\n# A model\n\nIt classifies.\n"
MODELS = ("alice/m0", "alice/m1", "alice/m2")
COMMIT = r"/commit/"


class Synthetic:
    """The injected measuring step: a SYNTHETIC canonical result per call, pinned to the asked revision.

    ``behaviour[model]`` is a list of what successive calls do: an exception to raise, a dict of
    make_result() arguments, or a callable run first (e.g. a push to the Hub during the measurement).
    """

    def __init__(self, **behaviour: list) -> None:
        self.behaviour = {k.replace("__", "/"): list(v) for k, v in behaviour.items()}
        self.calls: Counter[str] = Counter()

    def __call__(self, model: str, task: str, options) -> dict:
        self.calls[model] += 1
        kwargs: dict = {}
        plan = self.behaviour.get(model)
        if plan:
            step = plan.pop(0)
            if isinstance(step, BaseException):
                raise step
            if callable(step):
                step()
            elif isinstance(step, dict):
                kwargs = step
        data = make_result(model_id=model, task=task, samples=(0.79, 0.8, 0.81), **kwargs)
        data["model"]["revision"] = options.revision
        assert options.revision and len(options.revision) == 40  # the job pins the planned sha
        return data


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    """A loopback Hub: alice owns alice/m0..m2 (with CARD); the bot account has a write token."""
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        server.add_user("bot", TOKEN)
        for model in MODELS:
            server.create_repo(model, {"README.md": CARD, "config.json": b'{"model_type": "bert"}'})
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


def make_job(state: StateStore, hub: HubServer, measure, clock: FakeClock, **config) -> BulkJob:
    settings = {
        "task": "text-classification",
        "publish": "pr",
        "hardware_class": "H100",  # what the synthetic results record
        "endpoint": hub.url,
        "token": TOKEN,
        "retry_backoff_s": 10.0,
        **config,
    }
    return BulkJob(state, BulkConfig(**settings), measure=measure, sleep=clock.sleep, clock=clock)


def refs(*models: str) -> list[ModelRef]:
    return [ModelRef(m, None, f"test:{i}") for i, m in enumerate(models, 1)]


def statuses(state: StateStore, ids: list[int] | None = None) -> dict[str, str]:
    return {r.model: r.status for r in state.rows(ids, light=True)}


def prs(hub: HubServer, model: str) -> list:
    return hub.pull_requests(model)


# ------------------------------------------------------------------------------------------------


def test_publish_pr_flow_then_a_second_run_redoes_nothing(hub, tmp_path):
    clock, measure = FakeClock(), Synthetic()
    with StateStore(tmp_path / "bot.sqlite") as state:
        plan, summary = make_job(state, hub, measure, clock).execute(refs(*MODELS))
        assert summary.outcome == "completed" and summary.counts == {"pr_open": 3}
        assert (summary.measured, summary.published, summary.failed) == (3, 3, 0)
        assert plan.lookups == 3 and plan.to_measure == 3 and plan.created == 3
        for model in MODELS:
            (pr,) = prs(hub, model)
            assert pr.title == AUTOMATED_COMMIT_TITLE and pr.author == "bot" and pr.status == "open"
            assert pr.description.startswith("**This is an automated change.**")
            assert "`energy_badge: false`" in pr.description and "close this pull request" in pr.description
            row = [r for r in state.rows() if r.model == model][0]
            assert row.url == f"{hub.url}/{model}/discussions/{pr.num}" and row.pr_num == pr.num
            assert row.revision == hub.head(model) and row.stars == 1 and row.wh_per_1k == pytest.approx(0.8)
            assert row.result is not None and str(row.result.model.note).startswith("synthetic")
        assert hub.head("alice/m0") == hub.history("alice/m0")[0].sha  # main untouched: PR mode

        posts = hub.count("POST", COMMIT)
        plan2, summary2 = make_job(state, hub, measure, clock).execute(refs(*MODELS))
        assert plan2.row_ids == plan.row_ids and plan2.created == 0 and plan2.done == 3
        assert (summary2.measured, summary2.published) == (0, 0)
        assert sum(measure.calls.values()) == 3 and hub.count("POST", COMMIT) == posts
        csv_path, html_path = write_reports(state, tmp_path / "report")
    assert csv_path.read_text().count("pr_open") == 3 and "alice/m2" in html_path.read_text()


def test_no_duplicate_pull_requests_under_429_and_5xx(hub, tmp_path):
    """Simulated: 429s with RateLimit on the commit, 503s before processing, and a commit whose PR
    LANDS while the client sees a 500 (the ambiguous case)."""
    clock, measure = FakeClock(), Synthetic()
    hub.inject(Fault.rate_limit(reset=7), method="POST", path=COMMIT, times=2)
    hub.inject(Fault.error(503), method="POST", path=r"/preupload/", times=1)
    hub.inject(Fault.error(502), method="GET", path=r"^/api/models/alice/m1$", times=1)
    landed = hub.inject(Fault.error_after(500), method="POST", path=COMMIT, times=2)
    with StateStore(tmp_path / "bot.sqlite") as state:
        _, summary = make_job(state, hub, measure, clock).execute(refs(*MODELS))
        assert summary.counts == {"pr_open": 3}, statuses(state)
        assert landed.hits == 2  # two PRs were opened while their client saw a 500
    for model in MODELS:
        assert len(prs(hub, model)) == 1, model
    assert 8.0 in clock.sleeps  # the RateLimit t=7 wait (+1 s), as the Hub said


def test_a_crash_between_pr_creation_and_the_state_write_opens_no_second_pr(hub, tmp_path, monkeypatch):
    """Simulated crash: the process dies right after hub.commit_plan opened the PR, before the state
    says so (the row is left `publishing`). The next run publishes again and finds that PR."""

    class Crash(BaseException):
        pass

    clock, measure = FakeClock(), Synthetic()
    original = Publishing.record

    def crash_once(self, done, *args):
        monkeypatch.setattr(Publishing, "record", original)
        raise Crash

    monkeypatch.setattr(Publishing, "record", crash_once)
    with StateStore(tmp_path / "bot.sqlite") as state:
        with pytest.raises(Crash):
            make_job(state, hub, measure, clock).execute(refs("alice/m0"))
        (row,) = state.rows()
        assert row.status == "publishing" and len(prs(hub, "alice/m0")) == 1
        _, summary = make_job(state, hub, measure, clock).execute(refs("alice/m0"))
        (row,) = state.rows()
        assert summary.counts == {"pr_open": 1} and row.pr_num == 1 and row.publish_attempts == 2
    assert len(prs(hub, "alice/m0")) == 1 and measure.calls["alice/m0"] == 1


def test_an_exception_inside_the_executor_leaves_a_state_the_next_run_finishes(hub, tmp_path):
    """Simulated crash: the measuring step raises a BaseException (as a dying process would stop)
    on the second model. What was done is kept; the next run measures only what is left."""

    class Crash(BaseException):
        pass

    clock = FakeClock()
    measure = Synthetic(alice__m1=[Crash()])
    with StateStore(tmp_path / "bot.sqlite") as state:
        with pytest.raises(Crash):
            make_job(state, hub, measure, clock, publish="none").execute(refs(*MODELS))
        assert statuses(state) == {"alice/m0": "measured", "alice/m1": "pending", "alice/m2": "pending"}
        attempts = {r.model: r.attempts for r in state.rows()}
        assert attempts == {"alice/m0": 1, "alice/m1": 0, "alice/m2": 0}  # the interrupted one is not counted
        run = state.runs()[-1]
        assert run["outcome"] is not None  # the run's end was recorded on the way out
        _, summary = make_job(state, hub, measure, clock, publish="none").execute(refs(*MODELS))
        assert summary.counts == {"measured": 3}
    assert measure.calls == {"alice/m0": 1, "alice/m1": 2, "alice/m2": 1}


def test_non_canonical_results_are_measured_not_published(hub, tmp_path):
    clock = FakeClock()
    reason = "--queries 100: a subset of the 1000 canonical queries"
    measure = Synthetic(alice__m0=[{"queries": 100}])  # a subset of the workload: not canonical
    with StateStore(tmp_path / "bot.sqlite") as state:
        _, summary = make_job(state, hub, measure, clock).execute(refs("alice/m0", "alice/m1"))
        assert summary.counts == {"measured": 1, "pr_open": 1}
        row = [r for r in state.rows() if r.model == "alice/m0"][0]
        assert row.status == "measured" and row.canonical is False and row.reason_code == "not-publishable"
        assert (
            row.reason.startswith("not published: alice/m0: the result is not canonical")
            and reason in row.reason
        )
        assert row.stars is None
    assert prs(hub, "alice/m0") == [] and hub.api_commit_count("alice/m0") == 0


def test_permanent_failures_are_not_retried_transient_ones_are(hub, tmp_path):
    clock = FakeClock()
    measure = Synthetic(
        alice__m0=[GatedModelError("alice/m0 is gated")],
        alice__m1=[NetworkError("connection reset"), NetworkError("connection reset")],
        alice__m2=[RuntimeFailure("out of GPU memory")] * 3,
    )
    with StateStore(tmp_path / "bot.sqlite") as state:
        _, summary = make_job(state, hub, measure, clock, publish="none").execute(refs(*MODELS))
        rows = {r.model: r for r in state.rows()}
        assert summary.counts == {"failed": 2, "measured": 1}
        assert rows["alice/m0"].permanent is True and rows["alice/m0"].reason_code == "gated"
        assert rows["alice/m0"].attempts == 1
        assert rows["alice/m1"].status == "measured" and rows["alice/m1"].attempts == 3
        assert rows["alice/m2"].permanent is False and rows["alice/m2"].reason_code == "runtime"
        assert rows["alice/m2"].reason == "gave up after 3 attempts: out of GPU memory"
        assert measure.calls == {"alice/m0": 1, "alice/m1": 3, "alice/m2": 3}
        assert clock.sleeps == pytest.approx([10.0, 20.0])  # both retry 10 s, then 20 s later

        make_job(state, hub, measure, clock, publish="none").execute(refs(*MODELS))
        assert measure.calls == {"alice/m0": 1, "alice/m1": 3, "alice/m2": 3}  # failed rows are final
        _, summary = make_job(state, hub, measure, clock, publish="none", retry_failed=True).execute(
            refs(*MODELS)
        )
        assert summary.counts == {"measured": 3}
        assert measure.calls == {"alice/m0": 2, "alice/m1": 3, "alice/m2": 4}


def test_a_machine_that_cannot_measure_stops_the_run(hub, tmp_path):
    from energy_badge.errors import NoEnergyCounterError

    clock = FakeClock()
    measure = Synthetic(alice__m0=[NoEnergyCounterError("no GPU energy counter here")])
    with StateStore(tmp_path / "bot.sqlite") as state:
        with pytest.raises(NoEnergyCounterError, match="no GPU energy counter"):
            make_job(state, hub, measure, clock).execute(refs(*MODELS))
        assert statuses(state) == dict.fromkeys(MODELS, "pending")  # nothing counted against the models
        assert state.runs()[-1]["outcome"].startswith("failed: no GPU energy counter")
    assert measure.calls == {"alice/m0": 1}


def test_publishing_needs_a_token_the_hub_accepts_before_anything_is_measured(hub, tmp_path):
    clock, measure = FakeClock(), Synthetic()
    with StateStore(tmp_path / "bot.sqlite") as state:
        with pytest.raises(HubError, match="did not accept the token"):
            make_job(state, hub, measure, clock, token="hf_unknownToken000000000000000").execute(
                refs("alice/m0")
            )
        assert state.rows() == []  # a refused token fails the run, not every model's lookup
        with pytest.raises(HubError, match="needs a Hugging Face token"):
            make_job(state, hub, measure, clock, token=None).execute(refs("alice/m0"))
    assert measure.calls == {} and hub.count("GET", r"^/api/models/") == 0


def test_opt_outs_skip_list_card_key_card_changed_before_publish_and_closed_pr(hub, tmp_path):
    """Opt-outs: a skip list (no Hub request at all), the card key at planning, the card key
    added by the owner while the model was being measured, and our PR closed without merging."""
    hub.create_repo("alice/no-thanks", {"README.md": b"---\nenergy_badge: false\n---\n# no\n"})
    clock = FakeClock()
    optout_card = CARD.replace(b"license: mit\n", b"license: mit\nenergy_score: false\n")
    measure = Synthetic(alice__m1=[lambda: hub.push("alice/m1", {"README.md": optout_card}, author="alice")])
    with StateStore(tmp_path / "bot.sqlite") as state:
        job = make_job(state, hub, measure, clock, skip=frozenset({"alice/m2"}))
        plan, summary = job.execute(refs("alice/m0", "alice/m1", "alice/m2", "alice/no-thanks"))
        rows = {r.model: r for r in state.rows()}
        assert plan.lookups == 3  # the skip-listed model is never looked up
        assert rows["alice/m2"].status == "skipped" and rows["alice/m2"].reason == "on the skip list"
        assert (
            rows["alice/no-thanks"].reason_code == "opted-out"
            and "energy_badge: false" in rows["alice/no-thanks"].reason
        )
        assert rows["alice/m1"].status == "skipped" and "energy_score: false" in rows["alice/m1"].reason
        assert rows["alice/m0"].status == "pr_open"
        assert measure.calls == {"alice/m0": 1, "alice/m1": 1}
        assert prs(hub, "alice/m1") == [] and prs(hub, "alice/no-thanks") == []

        # the owner closes our PR, then changes the weights: the bot measures the new revision
        # but never opens another PR on that model
        (pr,) = prs(hub, "alice/m0")
        pr.status = "closed"
        hub.push("alice/m0", {"config.json": b'{"model_type": "bert", "hidden_size": 64}'}, author="alice")
        plan, summary = make_job(state, hub, measure, clock).execute(refs("alice/m0"))
        (new,) = state.rows(plan.row_ids)
        assert new.revision == hub.head("alice/m0") and new.status == "skipped"
        assert new.reason == f"our pull request #{pr.num} was closed without merging: not opening another"
    assert len(prs(hub, "alice/m0")) == 1 and measure.calls["alice/m0"] == 2


def test_commit_mode_our_own_commit_and_card_edits_do_not_requeue_a_model(hub, tmp_path):
    clock, measure = FakeClock(), Synthetic()
    hub.repos["alice/m0"].writers.add("bot")  # commit mode: the bot may write to this repo
    with StateStore(tmp_path / "bot.sqlite") as state:
        plan, summary = make_job(state, hub, measure, clock, publish="commit").execute(refs("alice/m0"))
        (row,) = state.rows()
        assert row.status == "published" and row.commit_sha == hub.head("alice/m0") != row.revision
        assert row.url == f"{hub.url}/alice/m0/commit/{row.commit_sha}"
        assert hub.history("alice/m0")[0].title == AUTOMATED_COMMIT_TITLE

        plan, _ = make_job(state, hub, measure, clock, publish="commit").execute(refs("alice/m0"))
        assert plan.row_ids == [row.id] and plan.lookups == 1  # main moved by our commit: same job

        hub.push(
            "alice/m0", {"README.md": hub.file("alice/m0", "README.md") + b"\nMore text.\n"}, author="alice"
        )
        plan, _ = make_job(state, hub, measure, clock, publish="commit").execute(refs("alice/m0"))
        assert plan.row_ids == [row.id] and plan.lookups == 3  # only the card changed: same job

        hub.push("alice/m0", {"model.safetensors": b"new weights"}, author="alice")
        plan, summary = make_job(state, hub, measure, clock, publish="commit").execute(refs("alice/m0"))
        assert plan.row_ids != [row.id] and summary.counts == {"published": 1}
    assert measure.calls == {"alice/m0": 2} and hub.api_commit_count("alice/m0") == 2


def test_the_write_throttle_spaces_hub_writes_and_obeys_429(hub, tmp_path):
    """Simulated time: 6 writes per minute, no burst; the commits' times on the fake clock show the
    spacing, and a 429 (RateLimit t=30) holds every later write too."""
    clock, measure = FakeClock(), Synthetic()
    times: list[float] = []
    hub.inject(Fault.rate_limit(reset=30), method="POST", path=COMMIT, times=1)
    hub.inject(Fault.on_request(lambda _: times.append(clock.now)), method="POST", path=COMMIT, times=10)
    with StateStore(tmp_path / "bot.sqlite") as state:
        job = make_job(state, hub, measure, clock, writes_per_minute=6, write_burst=1)
        _, summary = job.execute(refs(*MODELS))
        assert summary.counts == {"pr_open": 3}
    # the first commit (at 1000) got the 429 and went through 31 s later; the bucket starts empty
    # after the hold, so the next writes are 10 s apart
    assert times == pytest.approx([1031.0, 1041.0, 1051.0])
    assert 31.0 in clock.sleeps


def test_a_hub_query_input_needs_no_lookup_per_model(hub, tmp_path):
    """Simulated: the Hub's listing endpoint (search, author, pipeline tag, limit, Link pagination)."""
    hub.models_page_size = 2
    for i in range(5):
        hub.create_repo(
            f"zed/bert-{i}",
            {"README.md": CARD},
            pipeline_tag="text-classification" if i != 1 else "fill-mask",
        )
    hub.create_repo(
        "yan/bert-x", {"README.md": b"---\nenergy_badge: false\n---\n"}, pipeline_tag="text-classification"
    )
    found = query_models(search="BERT", pipeline_tag="text-classification", endpoint=hub.url)
    assert [r.model for r in found] == ["zed/bert-0", "zed/bert-2", "zed/bert-3", "zed/bert-4", "yan/bert-x"]
    assert all(r.sha == hub.head(r.model) and r.source == "hub query" for r in found)
    assert found[-1].card_data == {"energy_badge": False}
    assert [r.model for r in query_models(author="zed", limit=3, endpoint=hub.url)] == [
        "zed/bert-0",
        "zed/bert-1",
        "zed/bert-2",
    ]
    assert hub.count("GET", r"^/api/models$") >= 5  # pages of 2 followed through the Link header
    with pytest.raises(UsageError, match="lists the whole Hub"):
        query_models(endpoint=hub.url)

    clock, measure = FakeClock(), Synthetic()
    with StateStore(tmp_path / "bot.sqlite") as state:
        plan, summary = make_job(state, hub, measure, clock, publish="none").execute(found)
        assert plan.lookups == 0 and summary.counts == {"measured": 4, "skipped": 1}


def test_a_row_left_measuring_by_a_killed_run_is_measured_again(hub, tmp_path):
    """Simulated kill: the state is edited the way `kill -9` mid-measurement leaves it."""
    clock, measure = FakeClock(), Synthetic()
    with StateStore(tmp_path / "bot.sqlite") as state:
        job = make_job(state, hub, measure, clock, publish="none", dry_run=True)
        plan, summary = job.execute(refs("alice/m0", "alice/m1"))
        assert summary.outcome == "dry run" and summary.counts == {"pending": 2} and measure.calls == {}
        assert hub.count("POST", COMMIT) == 0
        first, second = plan.row_ids
        state.update(first, status="measuring", attempts=1)
        state.update(second, status="measuring", attempts=3)  # it already "crashed" the run 3 times
        _, summary = make_job(state, hub, measure, clock, publish="none").execute(
            refs("alice/m0", "alice/m1")
        )
        rows = {r.id: r for r in state.rows()}
        assert rows[first].status == "measured" and rows[first].attempts == 2
        assert rows[second].status == "failed" and "stopped while measuring" in rows[second].reason
    assert measure.calls == {"alice/m0": 1}


def test_a_429_while_planning_holds_the_read_throttle_for_every_lookup(hub, tmp_path):
    """Simulated: the Hub answers one revision lookup with 429 and RateLimit t=7. The lookup waits
    as told (8 s on the fake clock), says so, and the read bucket is held, so the next lookup waits
    for it too instead of being sent into the same limit."""
    clock, measure = FakeClock(), Synthetic()
    events: list[tuple[str, dict]] = []
    limited = hub.inject(Fault.rate_limit(reset=7), method="GET", path=r"^/api/models/alice/m1$")
    times: list[float] = []
    hub.inject(
        Fault.on_request(lambda _: times.append(clock.now)), method="GET", path=r"^/api/models/alice/m2$"
    )
    with StateStore(tmp_path / "bot.sqlite") as state:
        job = make_job(state, hub, measure, clock, publish="none", dry_run=True, lookup_threads=1)
        job.context._on_event = lambda kind, details: events.append((kind, details))
        plan, _ = job.execute(refs(*MODELS))
    assert limited.hits == 1 and plan.lookups == 3 and plan.unresolved == 0
    assert clock.sleeps == pytest.approx([8.0, 0.4, 0.4])  # the bucket starts empty after the hold
    assert ("wait", {"seconds": 8.0, "reason": "rate limited by the Hub (HTTP 429)"}) in events
    assert times and times[0] >= 1008.0  # m2 was looked up only once the hold was over
