"""The badge service under faults and load: a locked, read-only, deleted or replaced state; a
half-sent webhook body; its security headers; the leaderboard page under many concurrent readers.

Real files, real SQLite locks (another connection holding the write lock), a real uvicorn server on
127.0.0.1 spoken to over raw sockets where a client misbehaves, and `energy-badge serve` as a real
process for the start-up check. A read-only state is a read-only file (or, for root, a read-only
bind mount in a private mount namespace, made with `unshare`). Results in the state are synthetic
canonical results from tests/results_factory.py (not measurements). Nothing sleeps: a slow
rendering is held on a threading.Event.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from service_support import SECRET, SHA1, SHA2, TASK, payload, request, serving, store_result

from energy_badge.cli import main
from energy_badge.service.app import create_app
from energy_badge.service.page import page_csp

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"X-Webhook-Secret": SECRET}


def make_app(state: Path, **kwargs):
    return create_app(str(state), webhook_secret=SECRET, task=TASK, hardware_class="H100", **kwargs)


def jobs(state: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(state)
    try:
        return [tuple(r) for r in conn.execute("SELECT revision, status FROM jobs ORDER BY id")]
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------
# A locked state: 503 with Retry-After at once, and an honest /healthz


def test_a_state_locked_by_another_process_gets_503_with_retry_after(tmp_path):
    state = tmp_path / "bot.sqlite"
    app = make_app(state, busy_timeout_s=0.05)
    with TestClient(app, raise_server_exceptions=False) as client:
        other = sqlite3.connect(state, isolation_level=None)  # another process's connection, say
        other.execute("BEGIN EXCLUSIVE")  # holds the write lock
        try:
            response = client.post("/webhook", json=payload(), headers=HEADERS)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert "is locked by another process" in response.json()["error"]
            health = client.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "unavailable"
            assert "locked by another process" in health.json()["problems"][0]
            assert client.get("/badge/alice/tiny-classifier.svg").status_code == 200  # reads go on
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert jobs(state) == []
        assert client.post("/webhook", json=payload(), headers=HEADERS).status_code == 202  # redelivered
        assert client.get("/healthz").json()["status"] == "ok"
        metrics = client.get("/metrics").text
        assert 'energy_badge_webhooks_total{outcome="unavailable"} 1' in metrics
    assert jobs(state) == [(SHA1, "pending")]


# ------------------------------------------------------------------------------------------------
# A state deleted or replaced under the running service: never "queued" into a deleted file


def test_a_state_deleted_while_serving_is_reported_not_written_into_the_void(tmp_path):
    state = tmp_path / "bot.sqlite"
    with TestClient(make_app(state), raise_server_exceptions=False) as client:
        assert client.post("/webhook", json=payload(), headers=HEADERS).status_code == 202
        for suffix in ("", "-wal", "-shm"):
            Path(str(state) + suffix).unlink(missing_ok=True)
        response = client.post("/webhook", json=payload(model="bob/other"), headers=HEADERS)
        assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
        assert f"the state file {state} is gone" in response.json()["error"]
        health = client.get("/healthz")
        assert health.status_code == 503 and "is gone" in health.json()["problems"][0]
        assert not state.exists()

        state.write_bytes(b"")  # another file now at the path
        response = client.post("/webhook", json=payload(model="bob/other"), headers=HEADERS)
        assert response.status_code == 503 and "was replaced by another file" in response.json()["error"]
        assert "replaced" in client.get("/healthz").json()["problems"][0]


# ------------------------------------------------------------------------------------------------
# A read-only state at start: a true message


def _read_only_command(folder: Path, command: list[str]) -> list[str]:
    """``command`` run where ``folder`` is read-only: a plain chmod for a normal user; for root
    (whom permissions do not stop) a read-only bind mount in a private mount namespace."""
    if os.geteuid() != 0:
        for path in folder.iterdir():
            path.chmod(0o444)
        folder.chmod(0o555)
        return command
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without unshare: no way to make a read-only state here")
    probe = subprocess.run(
        [unshare, "-m", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}' && touch '{folder}/x'"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot make a read-only bind mount here: {probe.stderr.strip()[:200]}")
    script = f"mount --bind -o ro '{folder}' '{folder}' && exec \"$@\""
    return [unshare, "-m", "sh", "-c", script, "sh", *command]


def test_a_read_only_state_at_start_is_named_as_such(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    state = folder / "bot.sqlite"
    store_result(state, "alice/tiny-classifier")
    command = [sys.executable, "-m", "energy_badge", "serve", "--state", str(state), "--task", TASK,
               "--hardware-class", "H100", "--port", "0"]  # fmt: skip
    env = {**os.environ, "ENERGY_BADGE_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            _read_only_command(folder, command),
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
    finally:
        folder.chmod(0o755)
    assert done.returncode == 4, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {state}: the state file is read-only; it must be writable"
    ]


# ------------------------------------------------------------------------------------------------
# Half-sent bodies are not held open


def test_a_half_sent_webhook_body_is_answered_408_and_closed(tmp_path):
    """A client sends the headers and 10 of the 500 bytes it announced, then nothing: the server
    answers 408 after body_timeout_s and closes the connection (before: held open for ever)."""
    with serving(make_app(tmp_path / "bot.sqlite", body_timeout_s=0.2)) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(
                b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"X-Webhook-Secret: {SECRET}\r\nContent-Length: 500\r\n\r\n".encode()
                + b'{"event": '
            )
            answer = b""
            while chunk := sock.recv(65536):  # until the server closes the connection
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 ")
        assert json.loads(body) == {"error": "the body did not arrive within 0.2 s"}
        status, _, _ = request(base, "GET", "/healthz")  # the server is fine
        assert status == 200
    assert jobs(tmp_path / "bot.sqlite") == []


# ------------------------------------------------------------------------------------------------
# Headers


def test_every_answer_says_nosniff_and_the_page_and_badges_carry_a_csp(tmp_path, monkeypatch):
    state = tmp_path / "bot.sqlite"
    store_result(state, "alice/tiny-classifier", samples=(2.0, 2.1, 2.05))
    with TestClient(make_app(state), raise_server_exceptions=False) as client:
        page = client.get("/")
        svg = client.get("/badge/alice/tiny-classifier.svg")
        answers = [
            page,
            svg,
            client.get("/badge/alice/tiny-classifier.json"),
            client.get("/badge/alice/tiny-classifier.svg", headers={"If-None-Match": svg.headers["etag"]}),
            client.get("/results/alice/tiny-classifier"),
            client.get("/results/alice/nothing"),
            client.get("/healthz"),
            client.get("/metrics"),
            client.get("/nope"),
            client.post("/webhook", json=payload(), headers={}),
            client.post("/webhook", content=b"{", headers=HEADERS),
        ]
        monkeypatch.setattr(client.app.state.service, "badge", lambda *a: 1 / 0)
        answers.append(client.get("/badge/alice/tiny-classifier.svg"))
        assert [a.status_code for a in answers] == [
            200,
            200,
            200,
            304,
            200,
            404,
            200,
            200,
            404,
            401,
            422,
            500,
        ]
        assert all(a.headers["x-content-type-options"] == "nosniff" for a in answers)

        csp = page.headers["content-security-policy"]
        assert csp == page_csp() and "default-src 'none'" in csp and "unsafe-inline" not in csp
        for tag in ("script", "style"):  # the page's own inline blocks, and only they, are allowed
            (block,) = re.findall(rf"<{tag}>(.*?)</{tag}>", page.text, re.S)
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            assert re.search(rf"{tag}-src 'sha256-{re.escape(digest)}';", csp)
        assert "script-src 'none'" not in csp and "frame-ancestors 'none'" in csp
        assert svg.headers["content-security-policy"].startswith("default-src 'none'")
        assert "script" not in svg.headers["content-security-policy"]


def test_the_secret_on_the_command_line_is_discouraged():
    help_text = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200).output
    flat = " ".join(help_text.split())
    assert "Prefer $ENERGY_BADGE_WEBHOOK_SECRET" in flat
    assert "visible to every user of this machine in the process list" in flat
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:  # the warning comes first; the busy port then stops the command before it serves
        run = CliRunner().invoke(
            main,
            [
                "serve",
                "--webhook-secret",
                SECRET,
                "--task",
                TASK,
                "--hardware-class",
                "H100",
                "--port",
                str(busy.getsockname()[1]),
                "--state",
                os.devnull + "-x",
            ],  # fmt: skip
        )
    finally:
        busy.close()
    assert run.stderr.startswith("warning: --webhook-secret is visible to every user of this machine")
    assert "ENERGY_BADGE_WEBHOOK_SECRET" in run.stderr.splitlines()[0]


# ------------------------------------------------------------------------------------------------
# The page under load: rendered once per change, never starving the badges


def test_concurrent_page_requests_share_one_rendering_and_badges_are_served_meanwhile(tmp_path):
    """40 concurrent GET / while the first rendering is held (a slow rendering, on an Event):
    badges and /healthz answer meanwhile, and all 40 get the one page rendered."""
    state = tmp_path / "bot.sqlite"
    for i in range(30):
        store_result(state, f"org/model-{i}", samples=(0.2 + i, 0.21 + i))
    app = make_app(state, page_check_s=0)  # every request checks the state (no grace period)
    service = app.state.service
    real_build = service.build_page
    started, release = threading.Event(), threading.Event()
    builds: list[int] = []

    def slow_build():
        builds.append(1)
        started.set()
        assert release.wait(60)
        return real_build()

    service.build_page = slow_build
    with serving(app) as base:
        answers: list[tuple[int, str]] = []

        def get_page() -> None:
            status, headers, body = request(base, "GET", "/")
            answers.append((status, headers.get("etag", "")))

        readers = [threading.Thread(target=get_page) for _ in range(40)]
        for reader in readers:
            reader.start()
        assert started.wait(60)
        for i in range(45):  # more than the 40 worker threads the readers could have held
            status, _, body = request(base, "GET", f"/badge/org/model-{i % 30}.svg")
            assert status == 200 and body.startswith(b"<svg")
        assert request(base, "GET", "/healthz")[0] == 200
        release.set()
        for reader in readers:
            reader.join(60)
        assert len(answers) == 40 and {a[0] for a in answers} == {200} and len({a[1] for a in answers}) == 1
        assert len(builds) == 1
        status, headers, _ = request(base, "GET", "/", headers={"If-None-Match": answers[0][1]})
        assert status == 304 and len(builds) == 1  # nothing changed: not rendered again

        store_result(state, "org/newcomer", sha=SHA2, samples=(0.01, 0.011))
        status, headers, body = request(base, "GET", "/")
        assert status == 200 and b"org/newcomer" in body and len(builds) == 2
        assert headers["etag"] != answers[0][1]
