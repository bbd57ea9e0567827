"""Webhook pushes are queued in the Hub's commit order, whatever order (and however many at once)
their webhooks arrive in: one revision per model stays pending, and it is main's head.

What is simulated, and only that: the Hub's HTTP side (tests/hub_server.py on loopback: real
commits pushed to real repos there, so "main's head" is the server's), and the measurement in the
worker test (a synthetic canonical result from tests/results_factory.py, not a measurement). The
web app runs under real uvicorn servers (two of them on one state file) and is hammered by real
client threads; the state is a real SQLite file.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hub_server import HubServer, running_hub
from service_support import SECRET, TASK, payload, request, serving, synthetic_measure

from energy_badge import hub as hub_module
from energy_badge.bulk.job import BulkConfig
from energy_badge.bulk.revisions import Push, order
from energy_badge.hub import HubClient, RetryPolicy
from energy_badge.service.app import create_app
from energy_badge.service.worker import ServiceWorker

HEADERS = {"X-Webhook-Secret": SECRET, "Content-Type": "application/json"}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


def make_app(state: Path, hub: HubServer | str, **kwargs):
    url = hub if isinstance(hub, str) else hub.url
    client = HubClient(endpoint=url, retry=RetryPolicy(max_attempts=1))
    return create_app(
        str(state), webhook_secret=SECRET, task=TASK, hardware_class="H100", hub=client, **kwargs
    )


def pushes(hub: HubServer, model: str, n: int) -> list[tuple[str, str]]:
    """Create ``model`` and push ``n`` commits to its main: [(parent, sha), ...] in commit order."""
    hub.create_repo(model, {"README.md": b"# v0\n"})
    chain = []
    for i in range(1, n + 1):
        parent = hub.head(model)
        chain.append((parent, hub.push(model, {"README.md": f"# v{i}\n".encode()})))
    return chain


def pending(state: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(state)
    try:
        out: dict[str, list[str]] = {}
        for model, revision in conn.execute("SELECT model, revision FROM jobs WHERE status = 'pending'"):
            out.setdefault(model, []).append(revision)
        return out
    finally:
        conn.close()


def test_the_order_of_revisions_from_the_push_chain_and_main_s_head():
    chain = [Push("a", "b"), Push("b", "c"), Push("c", "d")]
    assert order("d", "b", chain).verdict == "newest"  # b -> c -> d
    late = order("b", "d", chain)
    assert late.verdict == "stale" and late.newer == "c" and "late delivery" in (late.reason or "")
    assert order("x", "b", [*chain, Push("w", "x")]).verdict == "unknown"  # a delivery is missing
    assert order("x", "b", chain, head="x").verdict == "newest"
    assert order("x", "b", chain, head="b").verdict == "stale"
    main_moved_on = order("x", "b", chain, head="z")
    assert main_moved_on.verdict == "head" and main_moved_on.newer == "z"
    assert order("e", None, []).verdict == "newest"


def test_late_and_reordered_deliveries_never_queue_an_older_commit(hub, tmp_path):
    """Pushes v1..v4 of one model delivered newest first (each payload with its updatedRefs): the
    chain alone orders them, no Hub lookup; the old ones are recorded as superseded."""
    state = tmp_path / "bot.sqlite"
    chain = pushes(hub, "alice/m", 4)
    lookups = hub.count("GET", r"^/api/models/alice/m")
    with TestClient(make_app(state, hub)) as client:
        answers = []
        for parent, sha in reversed(chain):
            body = payload(model="alice/m", sha=sha, parent=parent)
            answers.append(client.post("/webhook", json=body, headers=HEADERS))
        assert [a.status_code for a in answers] == [202, 200, 200, 200]
        assert [a.json()["status"] for a in answers] == ["queued", "superseded", "superseded", "superseded"]
        assert "a late delivery" in answers[1].json()["reason"]
    assert pending(state) == {"alice/m": [chain[-1][1]]}
    assert hub.count("GET", r"^/api/models/alice/m") == lookups  # the chain sufficed


def test_without_update_refs_the_hub_is_asked_and_main_s_head_is_queued(hub, tmp_path):
    """Payloads that say only the head (no updatedRefs), out of order: the Hub says where main is;
    a head no webhook has brought yet is queued itself, and its own webhook is then a duplicate."""
    state = tmp_path / "bot.sqlite"
    chain = pushes(hub, "alice/m", 3)
    (_, v1), (_, v2), (_, v3) = chain
    with TestClient(make_app(state, hub)) as client:
        first = client.post("/webhook", json=payload(model="alice/m", sha=v2, refs=False), headers=HEADERS)
        assert first.status_code == 202 and pending(state) == {"alice/m": [v2]}
        late = client.post("/webhook", json=payload(model="alice/m", sha=v1, refs=False), headers=HEADERS)
        assert late.status_code == 202 and late.json()["status"] == "superseded"  # 202: v3 was queued
        assert late.json()["queued_revision"] == v3  # main is at v3: that is what gets measured
        assert pending(state) == {"alice/m": [v3]}
        last = client.post("/webhook", json=payload(model="alice/m", sha=v3, refs=False), headers=HEADERS)
        assert last.json()["status"] == "duplicate"
    assert pending(state) == {"alice/m": [v3]}


def test_when_the_hub_cannot_be_asked_the_webhook_gets_503_and_nothing_is_queued(hub, tmp_path):
    state = tmp_path / "bot.sqlite"
    chain = pushes(hub, "alice/m", 2)
    url = hub.url
    with TestClient(make_app(state, url)) as client:
        first = payload(model="alice/m", sha=chain[1][1], refs=False)
        assert client.post("/webhook", json=first, headers=HEADERS).status_code == 202
        hub.stop()
        late = payload(model="alice/m", sha=chain[0][1], refs=False)
        response = client.post("/webhook", json=late, headers=HEADERS)
        assert response.status_code == 503 and response.headers["retry-after"] == "60"
        assert "cannot tell which revision of alice/m is the newest" in response.json()["error"]
    assert pending(state) == {"alice/m": [chain[1][1]]}


def test_many_concurrent_pushes_leave_exactly_the_newest_revision_pending(hub, tmp_path):
    """150 models, 4 pushes each, their 600 webhooks posted at once from 12 threads in a random
    order to two servers sharing one state file; a third of the models' payloads carry no
    updatedRefs (the Hub is asked). Every model ends with exactly one pending revision: main's."""
    state = tmp_path / "bot.sqlite"
    models = [f"alice/m{i}" for i in range(150)]
    bodies = []
    for n, model in enumerate(models):
        for parent, sha in pushes(hub, model, 4):
            bodies.append(json.dumps(payload(model=model, sha=sha, parent=parent, refs=n % 3 != 0)).encode())
    random.Random(13).shuffle(bodies)
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    with serving(make_app(state, hub)) as one, serving(make_app(state, hub)) as two:

        def deliver(part: list[bytes], index: int) -> None:
            for body in part:
                status, _, _ = request(one if index % 2 else two, "POST", "/webhook", body, HEADERS)
                with lock:
                    codes[status] += 1

        threads = [threading.Thread(target=deliver, args=(bodies[i::12], i)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    assert sum(codes.values()) == 600 and set(codes) <= {200, 202}, codes
    assert pending(state) == {model: [hub.head(model)] for model in models}


def test_the_worker_never_measures_a_revision_superseded_after_it_planned(hub, tmp_path):
    """The worker plans m0 and m1@v1; while it measures m0, m1@v2's webhook arrives: m1@v1 is not
    measured (the worker claims a row only while it is still pending), m1@v2 is, next round."""
    state = tmp_path / "bot.sqlite"
    (_, a1), = pushes(hub, "alice/m0", 1)  # fmt: skip
    (p1, v1), (p2, v2) = pushes(hub, "alice/m1", 2)
    with TestClient(make_app(state, hub)) as client:

        def post(model: str, sha: str, parent: str | None = None) -> int:
            return client.post(
                "/webhook", json=payload(model=model, sha=sha, parent=parent), headers=HEADERS
            ).status_code

        measure = synthetic_measure()

        def measure_and_push(model, task, options):
            if model == "alice/m0":  # m1's next push arrives while the worker measures m0
                assert post("alice/m1", v2, p2) == 202
            return measure(model, task, options)

        assert post("alice/m0", a1) == 202 and post("alice/m1", v1, p1) == 202
        config = BulkConfig(task=TASK, hardware_class="H100")
        worker = ServiceWorker(str(state), config, measure=measure_and_push)
        worker.open()
        try:
            first = worker.run_once()
            assert first is not None and first.measured == 1
            assert worker.run_once() is not None
            assert worker.run_once() is None
        finally:
            worker.close()
    assert [(m, r) for m, _, r in measure.calls] == [("alice/m0", a1), ("alice/m1", v2)]
    conn = sqlite3.connect(state)
    rows = dict(conn.execute("SELECT revision, status FROM jobs WHERE model = 'alice/m1'").fetchall())
    assert rows == {v1: "skipped", v2: "measured"}
