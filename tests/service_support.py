"""Helpers for the badge service tests: webhook payloads and a state with stored results."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from results_factory import make_result

from energy_badge.bulk.state import StateStore, utc_now
from energy_badge.rating import rate
from energy_badge.result import decode_result
from energy_badge.service.worker import queue_key

WEBHOOKS = Path(__file__).with_name("webhooks")
SECRET = "whsec-test-0123456789"
TASK = "text-classification"
SHA1 = "0123456789abcdef0123456789abcdef01234567"
SHA2 = "1111111111111111111111111111111111111111"


def payload(
    name: str = "model-push.json",
    *,
    model: str | None = None,
    sha: str | None = None,
    parent: str | None = None,
    refs: bool = True,
) -> dict:
    """A webhook fixture (tests/webhooks/), optionally for another model, head sha, or commit the
    push moved ``main`` from (``parent``: ``updatedRefs``' ``oldSha``); ``refs=False`` drops
    ``updatedRefs`` (the head is then all the payload says)."""
    data = json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    if model is not None:
        data["repo"]["name"] = model
    if sha is not None:
        data["repo"]["headSha"] = sha
        for ref in data.get("updatedRefs", []):
            ref["newSha"] = sha
    if parent is not None:
        for ref in data.get("updatedRefs", []):
            ref["oldSha"] = parent
    if not refs:
        data.pop("updatedRefs", None)
    return data


def store_result(
    state_path: Path, model: str, *, sha: str = SHA1, hardware: str = "H100", **kwargs: Any
) -> int:
    """Write a measured row holding a synthetic canonical result (results_factory) into the state."""
    data = make_result(model_id=model, **kwargs)
    data["model"]["revision"] = sha
    result = decode_result(data)
    rating = rate(result)
    with StateStore(state_path, exclusive=False) as state:
        state.insert_many(
            [
                {
                    "model": model,
                    "revision": sha,
                    **queue_key(result.task, hardware).columns(),
                    "status": "measured",
                    "result_json": json.dumps(data),
                    "canonical": result.canonical,
                    "stars": rating.stars,
                    "wh_per_1k": result.gpu_energy.mean if result.gpu_energy else None,
                    "finished_at": utc_now(),
                }
            ]
        )
        return max(r.id for r in state.rows(light=True))


def synthetic_measure(samples: tuple[float, ...] = (0.0021, 0.0022, 0.0021)) -> Any:
    """An injected ``measure`` for the worker: a synthetic canonical result (tests/results_factory.py)
    for the requested model and revision. Not a measurement."""
    calls: list[tuple[str, str, str]] = []

    def measure(model: str, task: str, options: Any) -> dict:
        calls.append((model, task, options.revision))
        data = make_result(model_id=model, task=task, samples=samples)
        data["model"]["revision"] = options.revision
        return data

    measure.calls = calls  # type: ignore[attr-defined]
    return measure


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` under a real uvicorn server on 127.0.0.1 in a thread; yields its base URL.

    The socket listens before the server starts, so a first request simply waits in its backlog
    until the server serves it (no polling).
    """
    import socket
    import threading

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def request(
    base: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request with its own connection: (status, headers with lower-case names, body)."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()
