"""The badge service's web app through FastAPI's TestClient: webhooks, badges, results, metrics.

Results in the state are synthetic canonical results from tests/results_factory.py (not
measurements); webhook payloads are this project's fixtures in the Hub's documented format
(tests/webhooks/README.md).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import SECRET, SHA1, SHA2, TASK, payload, store_result

from energy_badge.bulk.state import StateStore
from energy_badge.errors import UsageError
from energy_badge.hub import repo_id_problem
from energy_badge.service.app import BADGE_MAX_AGE, create_app
from energy_badge.service.webhook import WebhookError, parse_event

HEADERS = {"X-Webhook-Secret": SECRET}


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite"


@pytest.fixture
def client(state_path: Path):
    app = create_app(str(state_path), webhook_secret=SECRET, task=TASK, hardware_class="H100")
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def rows(state_path: Path) -> list[dict]:
    conn = sqlite3.connect(state_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM jobs ORDER BY id")]
    finally:
        conn.close()


# -- webhook --------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-Webhook-Secret": "wrong"}, {"X-Webhook-Secret": SECRET + "x"}])
def test_webhook_refuses_a_missing_or_wrong_secret(client, state_path, headers):
    response = client.post("/webhook", json=payload(), headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong X-Webhook-Secret"}
    assert rows(state_path) == []


def test_a_model_push_queues_one_job_and_duplicates_collapse(client, state_path):
    response = client.post("/webhook", json=payload(), headers=HEADERS)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["model"] == "alice/tiny-classifier"
    assert body["revision"] == SHA1 and body["task"] == TASK
    again = client.post("/webhook", json=payload(), headers=HEADERS)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["job"] == body["job"]
    (row,) = rows(state_path)
    assert (row["model"], row["revision"], row["task"], row["status"]) == (
        "alice/tiny-classifier",
        SHA1,
        TASK,
        "pending",
    )
    assert row["hardware_class"] == "H100" and row["source"] == "webhook"

    newer = client.post("/webhook", json=payload(sha=SHA2, parent=SHA1), headers=HEADERS)  # pushed on SHA1
    assert newer.status_code == 202
    first, second = rows(state_path)
    assert first["status"] == "skipped" and first["reason_code"] == "superseded"
    assert second["revision"] == SHA2 and second["status"] == "pending"


@pytest.mark.parametrize(
    ("name", "reason"),
    [("discussion-created.json", "does not change"), ("dataset-push.json", "a dataset repo, not a model")],
)
def test_other_events_are_acknowledged_and_ignored(client, state_path, name, reason):
    response = client.post("/webhook", json=payload(name), headers=HEADERS)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored" and reason in response.json()["reason"]
    assert rows(state_path) == []


def test_pushes_to_other_refs_and_private_repos_and_our_own_commit_are_ignored(client, state_path):
    branch = payload()
    branch["updatedRefs"][0]["ref"] = "refs/pr/3"
    assert client.post("/webhook", json=branch, headers=HEADERS).json()["status"] == "ignored"
    private = payload()
    private["repo"]["private"] = True
    assert "private" in client.post("/webhook", json=private, headers=HEADERS).json()["reason"]
    row_id = store_result(state_path, "alice/tiny-classifier")
    with StateStore(state_path, exclusive=False) as state:
        state.update(row_id, status="published", commit_sha=SHA2)
    own = client.post("/webhook", json=payload(sha=SHA2), headers=HEADERS).json()
    assert own["status"] == "ignored" and "our own badge commit" in own["reason"]
    assert len(rows(state_path)) == 1


def test_an_oversized_body_is_refused_before_parsing(client, state_path):
    big = payload()
    big["padding"] = "x" * (70 * 1024)
    response = client.post("/webhook", json=big, headers=HEADERS)
    assert response.status_code == 413 and "larger than 65536 bytes" in response.json()["error"]

    def chunks():  # chunked transfer: no Content-Length at all
        for _ in range(100):
            yield b" " * 1024

    response = client.post("/webhook", content=chunks(), headers=HEADERS)
    assert response.status_code == 413
    # a Content-Length that lies (says small, sends more) is caught on the bytes received
    body = json.dumps(big).encode()
    response = client.post("/webhook", content=body, headers={**HEADERS, "Content-Length": "10"})
    assert response.status_code in (413, 422)
    assert rows(state_path) == []


@pytest.mark.parametrize(
    "body", [b"{not json", b"\xff\xfe", b"[]", b'{"event": 3}', b'{"event": {"action": "update"}}']
)
def test_malformed_payloads_get_422_with_a_json_error(client, body):
    response = client.post("/webhook", content=body, headers={**HEADERS, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert set(response.json()) == {"error"} and "Traceback" not in response.text


@pytest.mark.parametrize(
    "name",
    [
        "noslash",
        "a/b/c",
        "-bad/name",
        "alice/bad--name",
        "alice/na..me",
        "alice/x.git",
        "alice/sp ace",
        "alice/" + "n" * 97,
        "alice/ünï",
        "/name",
        "alice/",
    ],
)
def test_invalid_repo_ids_get_422(client, state_path, name):
    response = client.post("/webhook", json=payload(model=name), headers=HEADERS)
    assert response.status_code == 422 and response.json()["error"].startswith("repo.name:")
    assert rows(state_path) == []


def test_repo_id_rules_and_payload_parser():
    assert repo_id_problem("alice/tiny-classifier") is None
    assert repo_id_problem("Org_1/model.v2-final") is None
    assert repo_id_problem("a/" + "n" * 96) is None
    assert repo_id_problem(None) is not None
    bad_sha = payload(sha="NOTASHA")
    with pytest.raises(WebhookError, match="headSha"):
        parse_event(bad_sha)
    event = parse_event(payload())
    assert event.enqueue and event.model == "alice/tiny-classifier" and event.sha == SHA1


def test_create_app_requires_a_secret(state_path):
    with pytest.raises(UsageError, match="webhook secret is required"):
        create_app(str(state_path), webhook_secret="", task=TASK, hardware_class="H100")


# -- badges and results ---------------------------------------------------------------------------


def test_badges_for_a_model_without_results_say_not_measured(client):
    svg = client.get("/badge/alice/nothing.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "unrated" in svg.text and "not measured" in svg.text
    assert "rating table 0.3.0-provisional" in svg.text  # the shipped table's version, not "?"
    shields = client.get("/badge/alice/nothing.json")
    assert shields.json() == {
        "schemaVersion": 1,
        "label": "AI energy",
        "message": "not measured",
        "color": "lightgrey",
        "labelColor": "grey",
        "cacheSeconds": BADGE_MAX_AGE,
    }


def test_badges_show_the_latest_canonical_result_with_caching_headers(client, state_path):
    store_result(state_path, "alice/tiny-classifier", samples=(0.30, 0.32, 0.31))
    svg = client.get("/badge/alice/tiny-classifier.svg")
    assert svg.status_code == 200 and "★★★☆☆" in svg.text and "0.31 Wh/1k texts" in svg.text
    assert svg.headers["cache-control"] == f"public, max-age={BADGE_MAX_AGE}"
    etag = svg.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    cached = client.get("/badge/alice/tiny-classifier.svg", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    weak = client.get("/badge/alice/tiny-classifier.svg", headers={"If-None-Match": f'"x", W/{etag}'})
    assert weak.status_code == 304
    shields = client.get("/badge/alice/tiny-classifier.json")
    assert shields.json()["message"] == "★★★☆☆ 0.31 Wh/1k texts" and shields.json()["color"] == "yellow"
    assert shields.headers["etag"] != etag
    # a newer result changes the badge and its ETag
    store_result(state_path, "alice/tiny-classifier", sha=SHA2, samples=(10.0, 10.2))
    newer = client.get("/badge/alice/tiny-classifier.svg", headers={"If-None-Match": etag})
    assert newer.status_code == 200 and "★☆☆☆☆" in newer.text and newer.headers["etag"] != etag


def test_badge_routes_validate_the_repo_id_and_format(client):
    assert client.get("/badge/alice/tiny.png").status_code == 404
    bad = client.get("/badge/alice/bad--name.svg")
    assert bad.status_code == 422 and bad.json()["error"].startswith("invalid repo id")
    assert client.get("/badge/alice").json() == {"error": "not found"}


def test_results_endpoint(client, state_path):
    missing = client.get("/results/alice/tiny-classifier")
    assert missing.status_code == 404 and missing.json() == {"error": "no result for alice/tiny-classifier"}
    store_result(state_path, "alice/tiny-classifier")
    found = client.get("/results/alice/tiny-classifier")
    assert found.status_code == 200 and found.json()["model"]["id"] == "alice/tiny-classifier"
    assert found.headers["x-energy-badge-status"] == "measured"
    assert client.get("/results/alice/x--y").status_code == 422


def test_healthz_and_metrics(client, state_path):
    client.post("/webhook", json=payload(), headers=HEADERS)
    client.post("/webhook", json=payload(), headers=HEADERS)
    client.post("/webhook", json=payload(), headers={})
    client.post("/webhook", json=payload("dataset-push.json"), headers=HEADERS)
    client.get("/badge/alice/tiny-classifier.svg")
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["queue"] == {"pending": 1, "measuring": 0}
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in metrics.text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) energy_badge_\w+ .+", line)
            continue
        match = re.fullmatch(r'(energy_badge_\w+)\{((?:\w+="[^"]*",?)+)\} (\d+)', line)
        assert match, line
        samples[(match[1], match[2])] = int(match[3])
    assert samples[("energy_badge_jobs", 'status="pending"')] == 1
    assert samples[("energy_badge_webhooks_total", 'outcome="queued"')] == 1
    assert samples[("energy_badge_webhooks_total", 'outcome="duplicate"')] == 1
    assert samples[("energy_badge_webhooks_total", 'outcome="unauthorized"')] == 1
    assert samples[("energy_badge_webhooks_total", 'outcome="ignored"')] == 1
    assert samples[("energy_badge_badge_requests_total", 'format="svg",code="200"')] == 1


def test_the_page_lists_results_escaped(client, state_path):
    store_result(state_path, "alice/tiny-classifier", samples=(2.0, 2.1, 2.05))
    store_result(state_path, "bob/other", samples=(0.3, 0.31))
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "alice/tiny-classifier" in page.text and "bob/other" in page.text
    assert "<script src" not in page.text and "http://" not in page.text and "https://" not in page.text
    assert page.text.index("bob/other") < page.text.index("alice/tiny-classifier")  # least energy first


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/nope").json() == {"error": "not found"}
    wrong = client.get("/webhook")
    assert wrong.status_code == 405 and set(wrong.json()) == {"error"}


def test_page_output_is_escaped():
    from energy_badge.service.page import Entry, render_page

    evil = '<script>alert("x")</script>'
    entry = Entry(evil, "text-classification", 4, 1.0, 0.9, 1.1, "<b>H100</b>", "2026-11-21T00:00:00Z")
    page = render_page([entry])
    # Jinja2's autoescape (markupsafe) writes " as &#34;, the same character as &quot;
    assert evil not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<b>H100</b>" not in page and page.count("<script>") == 1  # only the page's own


def test_help_does_not_import_fastapi():
    import subprocess
    import sys

    code = "import sys; from energy_badge.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
    code += "assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules, 'imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout and "worker" in done.stdout


def test_an_unexpected_error_is_a_json_500_without_a_stack_trace(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(client.app.state.service, "badge", broken)
    response = client.get("/badge/alice/tiny-classifier.svg")
    assert response.status_code == 500 and response.json() == {"error": "internal error"}
    assert "secret internals" not in response.text
