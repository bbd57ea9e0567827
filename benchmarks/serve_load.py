"""Badge requests against a real ``energy-badge serve`` on loopback: requests/s and latency percentiles.

Starts ``python -m energy_badge serve --port 0`` (uvicorn, one process) on 127.0.0.1 over a state
holding ``--models`` synthetic canonical results (tests/results_factory.py: not measurements), then
sends ``--requests`` badge requests (SVG and shields JSON, alternating, over all models; a quarter
revalidate with ``If-None-Match`` and get 304) from ``--threads`` client threads, each with its own
keep-alive connection. Loopback only and bounded: it never talks to anything but the server it
started, and stops it at the end.

    python benchmarks/serve_load.py                          # 2000 requests, 4 threads
    python benchmarks/serve_load.py --requests 5000 --threads 8

The client shares this machine's cores with the server, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--models", type=int, default=50)
    args = parser.parse_args()
    if not (1 <= args.requests <= 100_000 and 1 <= args.threads <= 64 and 1 <= args.models <= 10_000):
        parser.error("--requests 1..100000, --threads 1..64, --models 1..10000")

    from service_support import store_result

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "bot.sqlite"
        models = [f"org{i % 7}/model-{i}" for i in range(args.models)]
        for i, model in enumerate(models):
            value = 0.2 * 1.15**i % 20 + 0.2
            store_result(state, model, samples=(value, value * 1.02))
        cmd = [sys.executable, "-m", "energy_badge", "serve", "--host", "127.0.0.1", "--port", "0"]
        cmd += ["--state", str(state), "--task", "text-classification", "--hardware-class", "H100"]
        env = {**os.environ, "ENERGY_BADGE_WEBHOOK_SECRET": "benchmark-secret"}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if not match:
                raise SystemExit(f"the server did not start: {line}{proc.stderr.read()}")
            port = int(match[1])
            _wait_ready(port)
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # never block the server
            latencies, statuses, seconds = _load(port, models, args.requests, args.threads)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    print(
        f"{len(latencies)} badge requests, {args.threads} threads, {args.models} models, one uvicorn process"
    )
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"throughput: {len(latencies) / seconds:.0f} requests/s")
    print(
        f"latency ms: p50 {pct(0.50):.2f}  p90 {pct(0.90):.2f}  p99 {pct(0.99):.2f}  "
        f"max {latencies[-1] * 1000:.2f}  mean {statistics.fmean(latencies) * 1000:.2f}"
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


def _load(port: int, models: list[str], total: int, threads: int) -> tuple[list[float], dict, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    etags: dict[str, str] = {}

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
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
