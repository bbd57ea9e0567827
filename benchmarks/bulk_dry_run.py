"""A dry-run bulk over many generated model ids against the loopback Hub: models/s and peak memory.

Everything a bulk run does except measuring and writing to the Hub: parsing the model file,
resolving each model's revision on the Hub (one ``model_info`` per model, through the real
huggingface_hub client, a bounded thread pool, the read throttle switched off since the Hub is on
loopback), reading the card's opt-out key, writing the state rows in batches, and planning. It runs
twice on the same state: the first run creates every row, the second resumes (every model is
looked up again, no row is created).

The Hub is ``tests/hub_server.py`` in a *separate process* (so its request handling does not share
this process's interpreter lock; a real Hub is elsewhere too). Peak memory is this process's
maximum resident set size (``ru_maxrss``): the client, not the server.

    python benchmarks/bulk_dry_run.py                 # 10 000 models, 8 lookup threads
    python benchmarks/bulk_dry_run.py --models 2000 --threads 4
    python benchmarks/bulk_dry_run.py --models 2000 --latency-ms 50 --threads 1   # a far-away Hub
    python benchmarks/bulk_dry_run.py --models 2000 --task auto   # each model's task from its pipeline tag

On loopback the client is CPU-bound and the lookup threads barely matter; ``--latency-ms`` makes the
server wait before answering each ``model_info``, as a Hub across the internet does, which is what
the bounded thread pool is for.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

OPT_OUT_CARD = b"---\nlicense: mit\nenergy_badge: false\n---\n# opted out\n"
CARD = b"---\nlicense: apache-2.0\ntags:\n- text-classification\n---\n# A generated model\n"


def model_ids(n: int) -> list[str]:
    """``n`` generated ids over 100 namespaces."""
    return [f"bench-org{i % 100:02d}/classifier-{i:05d}" for i in range(n)]


def serve(n: int, conn: object, latency_ms: float = 0.0) -> None:
    """The child process: a loopback Hub with the generated repos (1 % missing, 1 % opted out)."""
    from hub_server import Fault, HubServer

    server = HubServer().start()
    if latency_ms > 0:
        server.inject(
            Fault.on_request(lambda _: time.sleep(latency_ms / 1000)),
            method="GET",
            path="^/api/models/",
            times=10**9,
        )
    for i, repo in enumerate(model_ids(n)):
        if i % 100 == 99:
            continue  # not on the Hub: resolution fails, recorded as a permanent failure
        readme = OPT_OUT_CARD if i % 100 == 42 else CARD
        server.create_repo(
            repo, {"README.md": readme, "config.json": b"{}"}, pipeline_tag="text-classification"
        )
    conn.send(server.url)  # type: ignore[attr-defined]
    conn.recv()  # type: ignore[attr-defined]  # wait until told to stop
    conn.send(len(server.requests))  # type: ignore[attr-defined]
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000, help="model ids to generate (default 10000)")
    parser.add_argument("--threads", type=int, default=8, help="concurrent model_info lookups (default 8)")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="server delay per model_info (default 0)"
    )
    parser.add_argument(
        "--task", default="text-classification", help="the bulk --task, or auto (default text-classification)"
    )
    args = parser.parse_args()

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    started = time.perf_counter()
    server = ctx.Process(target=serve, args=(args.models, child, args.latency_ms), daemon=True)
    server.start()
    url = parent.recv()
    print(f"loopback Hub with {args.models} generated repos ready in {time.perf_counter() - started:.1f} s")

    os.environ["HF_ENDPOINT"] = url
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.pop("HF_TOKEN", None)
    from energy_badge.bulk.executors import LocalExecutor
    from energy_badge.bulk.inputs import read_model_file
    from energy_badge.bulk.job import BulkConfig, BulkJob
    from energy_badge.bulk.state import StateStore

    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models.txt"
        lines = ["# generated for the dry-run benchmark"]
        for i, repo in enumerate(model_ids(args.models)):
            lines.append(f"{repo}@main" if i % 10 == 3 else repo)
        lines += ["not a model id", "org/x@"]  # two bad lines, reported and skipped
        models.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for label in ("first run (creates the rows)", "second run (resumes)"):
            t0 = time.perf_counter()
            refs, problems = read_model_file(models)
            parsed = time.perf_counter() - t0
            with StateStore(Path(tmp) / "bench.sqlite") as state:
                config = BulkConfig(
                    task=args.task,
                    publish="pr",
                    dry_run=True,
                    hardware_class="H100",  # a dry run on a machine without the GPU it plans for
                    reads_per_minute=0,
                    lookup_threads=args.threads,
                    endpoint=url,
                )
                job = BulkJob(state, config, executor=LocalExecutor())
                plan, summary = job.execute(refs, problems)
            seconds = time.perf_counter() - t0
            print(
                f"{label}: {len(refs)} models in {seconds:.1f} s = {len(refs) / seconds:.0f} models/s "
                f"(parsing {parsed:.2f} s, {len(problems)} bad lines; {plan.lookups} Hub lookups; "
                f"{plan.created} rows created); jobs: {dict(sorted(summary.counts.items()))}"
            )
    parent.send("stop")
    requests = parent.recv()
    server.join(timeout=10)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"requests served by the loopback Hub: {requests}")
    print(f"peak memory of the bulk process (ru_maxrss): {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
