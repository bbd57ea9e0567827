"""How long the media workloads take to decode and check, per input and per workload.

Run with ``python benchmarks/workload_decode.py [--queries N] [--task T ...]``. It prints figures;
it asserts nothing about time. For each task: the time to load the workload (specs, hash of the
records), then to decode its first ``N`` inputs (default all 1000) with
:meth:`energy_badge.workload.Workload.input_at`, which synthesises each picture or clip and checks
its sha256 against the record, split into synthesis and hashing, with the median, p90 and max per
input, and the CPU time of the process (less sensitive than wall time to other work on the
machine). A runner decodes every input before its measured window: a one-off cost per run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from energy_badge import media
from energy_badge.workload import MEDIA_TASKS, input_kind, load_workload


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000, help="inputs decoded per task")
    parser.add_argument("--task", action="append", choices=MEDIA_TASKS, help="only this task (repeatable)")
    args = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    print(f"{cpu}, {os.cpu_count()} CPUs, one process, load average {os.getloadavg()[0]:.1f}")
    print(f"{'task':30} {'inputs':>6} {'load s':>7} {'decode s':>9} {'hash s':>7} {'total s':>8} "
          f"{'cpu s':>7} {'median ms':>9} {'p90 ms':>7} {'max ms':>7} {'MB':>7}")  # fmt: skip
    media.decode("image", {"width": 64, "height": 48, "seed": 0, "scene": "object"})  # imports, tables
    media.decode("audio", {"samples": 8000, "seed": 0, "voice": "low"})
    for task in args.task or MEDIA_TASKS:
        start = time.perf_counter()
        w = load_workload(task)
        loaded = time.perf_counter() - start
        kind = input_kind(task)
        n = min(args.queries, len(w))
        each, decode_s, hash_s, size = [], 0.0, 0.0, 0
        cpu = time.process_time()
        for i in range(n):
            t0 = time.perf_counter()
            if kind == "text":
                value = w.input_at(i)
                size += len(str(value).encode())
                t1 = t2 = time.perf_counter()
            else:
                value = media.decode(kind, w.queries[i][kind])
                t1 = time.perf_counter()
                found = media.describe(kind, value)
                t2 = time.perf_counter()
                assert found.sha256 == w.queries[i]["sha256"], w.queries[i]["id"]
                size += 4 * found.shape[0] if kind == "audio" else found.shape[0] * found.shape[1] * 3
            decode_s, hash_s = decode_s + (t1 - t0), hash_s + (t2 - t1)
            each.append((t2 - t0) * 1000)
        cpu = time.process_time() - cpu
        each.sort()
        print(
            f"{task:30} {n:>6} {loaded:>7.2f} {decode_s:>9.2f} {hash_s:>7.2f} {decode_s + hash_s:>8.2f} "
            f"{cpu:>7.2f} "
            f"{statistics.median(each):>9.2f} {each[int(0.9 * (n - 1))]:>7.2f} {each[-1]:>7.2f} "
            f"{size / 1e6:>7.1f}"
        )


if __name__ == "__main__":
    main()
