"""The service's worker: webhook -> queued row -> the bulk job's code -> badge; and ``serve`` for real.

The first tests inject ``measure`` into the worker: it returns a synthetic canonical result from
tests/results_factory.py (not a measurement). One test runs the REAL ``measure_model`` on a real
tiny BERT classifier (tests/tiny_models.py) served by the loopback Hub (tests/hub_server.py), in
``--no-energy`` mode on this CPU: measured, never published. The last test starts
``energy-badge serve`` with uvicorn in a subprocess on 127.0.0.1 and talks HTTP to it with urllib.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hub_server import folder_files, running_hub
from service_support import SECRET, TASK, payload, synthetic_measure
from tiny_models import build_tiny_model

from energy_badge import hub as hub_module
from energy_badge.bulk.job import BulkConfig
from energy_badge.bulk.state import StateStore
from energy_badge.errors import UsageError
from energy_badge.meter import MeterConfig
from energy_badge.service.app import create_app
from energy_badge.service.worker import ServiceWorker

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"X-Webhook-Secret": SECRET}
TOKEN = "hf_botToken0123456789abcdefghijkl"


def test_webhook_to_worker_to_badge_with_an_injected_measure(tmp_path):
    state = tmp_path / "bot.sqlite"
    app = create_app(str(state), webhook_secret=SECRET, task=TASK, hardware_class="H100")
    measure = synthetic_measure(samples=(0.30, 0.32, 0.31))
    worker = ServiceWorker(str(state), BulkConfig(task=TASK, hardware_class="H100"), measure=measure)
    with TestClient(app) as client:
        assert client.get("/badge/alice/tiny-classifier.json").json()["message"] == "not measured"
        job = client.post("/webhook", json=payload(), headers=HEADERS).json()["job"]
        client.post("/webhook", json=payload(model="bob/other"), headers=HEADERS)
        worker.open()  # the worker holds the state's lock while the app keeps reading and writing it
        try:
            with pytest.raises(UsageError, match="in use by another bulk run"):
                StateStore(state)  # a second worker (or a bulk run) is kept off
            summary = worker.run_once()
            assert summary is not None and summary.measured == 2 and summary.outcome == "completed"
            assert worker.run_once() is None  # nothing left
            client.post("/webhook", json=payload(), headers=HEADERS)  # a replayed webhook: no new work
            assert worker.run_once() is None
        finally:
            worker.close()
        assert [c[0] for c in measure.calls] == ["alice/tiny-classifier", "bob/other"]
        badge = client.get("/badge/alice/tiny-classifier.svg")
        assert "★★★☆☆ 0.31 Wh/1k texts" in badge.text
        assert client.get("/badge/alice/tiny-classifier.json").json()["message"] == "★★★☆☆ 0.31 Wh/1k texts"
        result = client.get("/results/alice/tiny-classifier").json()
        assert result["model"]["revision"] == payload()["repo"]["headSha"]
        page = client.get("/").text
        assert "alice/tiny-classifier" in page and "bob/other" in page
        health = client.get("/healthz").json()
        assert health["queue"] == {"pending": 0, "measuring": 0}
    with StateStore(state, exclusive=False) as store:
        row = store.get(job)
        assert row.status == "measured" and row.stars == 3 and row.canonical is True and row.reason is None


def test_the_worker_publishes_a_pull_request_with_the_bulk_policy(tmp_path, monkeypatch):
    state = tmp_path / "bot.sqlite"
    with running_hub(monkeypatch, tmp_path) as hub:
        hub.add_user("alice")
        hub.add_user("bot", TOKEN)
        hub.create_repo("alice/tiny-classifier", {"README.md": b"# tiny classifier\n", "config.json": b"{}"})
        hub_module.clear_account_cache()
        sha = hub.head("alice/tiny-classifier")
        app = create_app(str(state), webhook_secret=SECRET, task=TASK, hardware_class="H100")
        config = BulkConfig(task=TASK, publish="pr", hardware_class="H100", endpoint=hub.url, token=TOKEN)
        worker = ServiceWorker(str(state), config, measure=synthetic_measure())
        with TestClient(app) as client:
            assert client.post("/webhook", json=payload(sha=sha), headers=HEADERS).status_code == 202
            try:
                summary = worker.run_once()
            finally:
                worker.close()
            assert summary is not None and summary.published == 1
            (pr,) = hub.pull_requests("alice/tiny-classifier")
            with StateStore(state, exclusive=False) as store:
                (row,) = store.rows()
            assert row.status == "pr_open" and row.pr_num == pr.num
            assert client.get("/results/alice/tiny-classifier").headers["x-energy-badge-status"] == "pr_open"
            assert "★★★★★" in client.get("/badge/alice/tiny-classifier.svg").text
    hub_module.clear_account_cache()


def test_the_real_measure_model_in_no_energy_mode_is_measured_not_published(tmp_path, monkeypatch):
    folder = build_tiny_model("text-classification", tmp_path / "tiny")
    files = folder_files(folder)
    state = tmp_path / "bot.sqlite"
    with running_hub(monkeypatch, tmp_path) as hub:
        hub.add_user("alice")
        hub.create_repo("alice/tc-a", files)
        sha = hub.head("alice/tc-a")
        app = create_app(str(state), webhook_secret=SECRET, task=TASK, hardware_class="cpu")
        meter = MeterConfig(min_repetitions=1, max_repetitions=1, idle_seconds=0, min_window_s=0.05)
        config = BulkConfig(
            task=TASK, energy=False, queries=5, meter=meter, hardware_class="cpu", endpoint=hub.url
        )
        worker = ServiceWorker(str(state), config)
        with TestClient(app) as client:
            response = client.post("/webhook", json=payload(model="alice/tc-a", sha=sha), headers=HEADERS)
            assert response.status_code == 202
            try:
                summary = worker.run_once()
            finally:
                worker.close()
            assert summary is not None and summary.measured == 1, summary
            result = client.get("/results/alice/tc-a").json()
            assert result["model"]["revision"] == sha and result["canonical"] is False
            assert result["energy"]["gpu"] is None
            # non-canonical: never rated on the badge, never published
            assert client.get("/badge/alice/tc-a.json").json()["message"] == "not measured"
        with StateStore(state, exclusive=False) as store:
            (row,) = store.rows()
        assert row.status == "measured" and row.reason.startswith("not published:")
        assert hub.pull_requests("alice/tc-a") == [] and hub.count("POST", r"/commit/") == 0


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _post(url: str, data: bytes, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def start_server(state: Path, *extra: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """``python -m energy_badge serve --port 0`` in a subprocess; returns it and its base URL."""
    args = [sys.executable, "-m", "energy_badge", "serve", "--host", "127.0.0.1", "--port", "0"]
    hardware = "cpu" if "--no-energy" in extra else "H100"
    args += ["--state", str(state), "--task", TASK, "--hardware-class", hardware, *extra]
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match:
            base = match[1]
            while time.monotonic() < deadline:  # uvicorn accepts once the app started
                try:
                    if _get(base + "/healthz")[0] == 200:
                        return proc, base
                except OSError:
                    time.sleep(0.05)
            break
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the server did not start: {line}{proc.stderr.read()}")


def test_energy_badge_serve_runs_under_uvicorn(tmp_path):
    state = tmp_path / "bot.sqlite"
    proc, base = start_server(state, env={"ENERGY_BADGE_WEBHOOK_SECRET": SECRET})
    try:
        body = json.dumps(payload()).encode()
        assert _post(base + "/webhook", body, {})[0] == 401
        code, answer = _post(base + "/webhook", body, HEADERS)
        assert code == 202 and json.loads(answer)["status"] == "queued"
        assert _post(base + "/webhook", b"x" * (65 * 1024), HEADERS)[0] == 413
        code, headers, svg = _get(base + "/badge/alice/tiny-classifier.svg")
        assert code == 200 and b"not measured" in svg and "server" not in {k.lower() for k in headers}
        assert _get(base + "/badge/alice/tiny-classifier.svg", {"If-None-Match": headers["etag"]})[0] == 304
        code, _, text = _get(base + "/metrics")
        assert code == 200 and b'energy_badge_jobs{status="pending"} 1' in text
        code, _, page = _get(base + "/")
        assert code == 200 and b"No model has been measured yet" in page
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal (so -SIGTERM, or 0 on older ones)
    assert proc.returncode in (0, -signal.SIGTERM)


def test_serve_usage_errors(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ENERGY_BADGE_WEBHOOK_SECRET"}
    args = [sys.executable, "-m", "energy_badge", "serve", "--state", str(tmp_path / "s.sqlite")]
    done = subprocess.run(
        [*args, "--task", TASK, "--hardware-class", "H100"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "webhook secret is required" in done.stderr


def test_serve_with_an_in_process_worker_measures_what_a_webhook_queued(tmp_path, monkeypatch):
    """``serve --workers 1``: the real measure_model (--no-energy, this CPU) inside the server process."""
    folder = build_tiny_model("text-classification", tmp_path / "tiny")
    files = folder_files(folder)
    with running_hub(monkeypatch, tmp_path) as hub:  # HF_ENDPOINT reaches the subprocess
        hub.add_user("alice")
        hub.create_repo("alice/tc-a", files)
        sha = hub.head("alice/tc-a")
        fast = ["--no-energy", "--queries", "5", "--idle-seconds", "0", "--min-repetitions", "1"]
        fast += ["--max-repetitions", "1", "--min-window", "0.05", "--poll", "0.1"]
        proc, base = start_server(
            tmp_path / "bot.sqlite", "--workers", "1", "--webhook-secret", SECRET, *fast
        )
        try:
            body = json.dumps(payload(model="alice/tc-a", sha=sha)).encode()
            assert _post(base + "/webhook", body, HEADERS)[0] == 202
            deadline = time.monotonic() + 60
            code = 404
            while time.monotonic() < deadline and code != 200:
                code, headers, text = _get(base + "/results/alice/tc-a")
                time.sleep(0.2)
            assert code == 200 and json.loads(text)["model"]["revision"] == sha
            assert headers["x-energy-badge-status"] == "measured"
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
        assert hub.count("POST", r"/commit/") == 0
