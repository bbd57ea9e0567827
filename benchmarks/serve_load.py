"""Badge requests against a real ``energy-badge serve`` on loopback: requests/s and latency percentiles.

Starts ``python -m energy_badge serve --port 0`` (uvicorn, one process) on 127.0.0.1 over a state
holding ``--models`` synthetic canonical results (tests/results_factory.py: not measurements), then
sends ``--requests`` badge requests (SVG and shields JSON, alternating, over all models; a quarter
revalidate with ``If-None-Match`` and get 304) from ``--threads`` client threads, each with its own
keep-alive connection. Loopback only and bounded: it never talks to anything but the server it
started, and stops it at the end.

With ``--page-clients N`` (N > 0), N more threads, in a process of their own, fetch the leaderboard
page (``GET /``) in a loop for as long as the badge requests last (``--gzip``: accepting gzip, as
browsers do), and one more thread asks ``/healthz`` every 100 ms: the figures then say whether the
page starves the badges (issue 13: with 3000 results, 40 page clients slowed ``/healthz`` to 5.2 s
and a badge to 2.5 s). Every figure is printed; nothing is asserted.

    python benchmarks/serve_load.py                          # 2000 requests, 4 threads, 50 models
    python benchmarks/serve_load.py --requests 5000 --threads 8
    python benchmarks/serve_load.py --models 3000 --page-clients 40 --requests 4000 [--gzip]

The client shares this machine's cores with the server, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--page-clients", type=int, default=0, help="threads hammering GET / meanwhile")
    parser.add_argument("--gzip", action="store_true", help="the page clients accept gzip, as browsers do")
    args = parser.parse_args()
    if not (
        1 <= args.requests <= 100_000
        and 1 <= args.threads <= 64
        and 1 <= args.models <= 10_000
        and 0 <= args.page_clients <= 200
    ):
        parser.error("--requests 1..100000, --threads 1..64, --models 1..10000, --page-clients 0..200")

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "bot.sqlite"
        models = [f"org{i % 7}/model-{i}" for i in range(args.models)]
        started = time.perf_counter()
        _fill_state(state, models)
        print(f"state: {args.models} synthetic results written in {time.perf_counter() - started:.1f} s")
        cmd = [sys.executable, "-m", "energy_badge", "serve", "--host", "127.0.0.1", "--port", "0"]
        cmd += ["--state", str(state), "--task", "text-classification", "--hardware-class", "H100"]
        env = {**os.environ, "ENERGY_BADGE_WEBHOOK_SECRET": "benchmark-secret"}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            while line.startswith("warning"):
                line = proc.stderr.readline()
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if not match:
                raise SystemExit(f"the server did not start: {line}{proc.stderr.read()}")
            port = int(match[1])
            _wait_ready(port)
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # never block the server
            background = _Background(port, args.page_clients, args.gzip)
            background.start()
            try:
                latencies, statuses, seconds = _load(port, models, args.requests, args.threads)
            finally:
                background.stop()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    print(
        f"{len(latencies)} badge requests, {args.threads} threads, {args.models} models, one uvicorn process"
        + (
            f", {args.page_clients} threads fetching GET /{' (gzip)' if args.gzip else ''} meanwhile"
            if args.page_clients
            else ""
        )
    )
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"throughput: {len(latencies) / seconds:.0f} badge requests/s")
    print("badge latency ms: " + _percentiles(latencies))
    if args.page_clients:
        codes = dict(sorted(background.codes.items()))
        print(f"GET /: {len(background.pages)} pages served, statuses {codes}")
        print("GET / latency ms: " + _percentiles(background.pages))
        print("/healthz latency ms: " + _percentiles(background.health))


def _fill_state(state: Path, models: list[str]) -> None:
    """Synthetic canonical results (tests/results_factory.py), written in one transaction."""
    from results_factory import make_result

    from energy_badge.bulk.state import StateStore, utc_now
    from energy_badge.rating import load_table, rate
    from energy_badge.result import decode_result
    from energy_badge.service.worker import queue_key

    table = load_table()
    rows = []
    for i, model in enumerate(models):
        value = 0.2 * 1.15**i % 20 + 0.2
        data = make_result(model_id=model, samples=(value, value * 1.02))
        result = decode_result(data)
        gpu = result.gpu_energy
        rows.append(
            {
                "model": model,
                "revision": f"{i:040x}",
                **queue_key(result.task, "H100").columns(),
                "status": "measured",
                "result_json": json.dumps(data),
                "canonical": result.canonical,
                "stars": rate(result, table).stars,
                "wh_per_1k": gpu.mean if gpu is not None else None,
                "finished_at": utc_now(),
            }
        )
    with StateStore(state, exclusive=False) as store:
        store.insert_many(rows)


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"p50 {pct(0.50):.2f}  p90 {pct(0.90):.2f}  p99 {pct(0.99):.2f}  "
        f"max {ordered[-1] * 1000:.2f}  mean {statistics.fmean(ordered) * 1000:.2f}  (n={len(ordered)})"
    )


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server never became ready")


class _Background:
    """``page_clients`` threads fetching ``GET /`` in a loop, in a process of their own (so their
    work does not slow this process's badge clients down: the figures are the server's), and one
    thread here asking ``/healthz`` every 100 ms."""

    def __init__(self, port: int, page_clients: int, gzip: bool) -> None:
        self.port = port
        self.page_clients = page_clients
        self.gzip = gzip
        self.pages: list[float] = []
        self.health: list[float] = []
        self.codes: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: multiprocessing.Process | None = None

    def start(self) -> None:
        if not self.page_clients:
            return
        context = multiprocessing.get_context("spawn")
        self._done = context.Event()
        self._results = context.Queue()
        self._process = context.Process(
            target=_page_clients, args=(self.port, self.page_clients, self.gzip, self._done, self._results)
        )
        self._process.start()
        self._thread = threading.Thread(target=self._healthz, daemon=True)
        self._thread.start()
        time.sleep(1.0)  # let the page load build up before the badges are timed

    def stop(self) -> None:
        self._stop.set()
        if self._process is not None:
            self._done.set()
            self.pages, self.codes = self._results.get(timeout=300)
            self._process.join(60)
        if self._thread is not None:
            self._thread.join(60)

    def _healthz(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        while not self._stop.wait(0.1):
            started = time.perf_counter()
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            self.health.append(time.perf_counter() - started)
        conn.close()


def _page_clients(port: int, clients: int, gzip: bool, done: Any, results: Any) -> None:
    """In a child process: ``clients`` threads fetching ``GET /`` until ``done``; their latencies
    and status codes go back through ``results``."""
    pages: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()
    headers = {"Accept-Encoding": "gzip"} if gzip else {}

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while not done.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/", headers=headers)
                response = conn.getresponse()
                response.read()
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            with lock:
                pages.append(time.perf_counter() - started)
                codes[response.status] = codes.get(response.status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((pages, codes))


def _load(port: int, models: list[str], total: int, threads: int) -> tuple[list[float], dict, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    etags: dict[str, str] = {}

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, codes = [], {}
        for n in range(index, total, threads):
            path = f"/badge/{models[n % len(models)]}.{'svg' if n % 2 else 'json'}"
            headers = {"If-None-Match": etags[path]} if n % 4 == 3 and path in etags else {}
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            codes[response.status] = codes.get(response.status, 0) + 1
            if response.status == 200:
                etags[path] = response.headers["ETag"]
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, statuses, time.perf_counter() - started


if __name__ == "__main__":
    main()
