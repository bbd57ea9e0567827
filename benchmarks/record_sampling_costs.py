"""Record real per-query costs for ``benchmarks/sampling_coverage.py``: CPU latencies of real tiny models.

The sampled protocol's estimator does not care what it estimates, so its coverage can be checked
on a cost measured here: the latency of each query of the real canonical text workloads, run by
real (tiny) transformers through energy-badge's own runners on this CPU (batch size 1, as
measured). For each task: the model (a tiny model built from a config with seeded random
weights and long enough positions not to truncate; the real all-MiniLM-L6-v2 snapshot for
sentence similarity), each query's input tokens (the cost proxy the strata use), and each
query's latency in ``--passes`` passes over the whole workload after a short warm-up.

Written once to ``benchmarks/results/cpu/sampling-costs.json`` so the coverage benchmark is
reproducible; rerun to refresh (minutes on two cores; the figures depend on the machine's load).

Usage::

    python benchmarks/record_sampling_costs.py [--passes 2] [--tasks text-classification,...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

OUT = ROOT / "benchmarks" / "results" / "cpu" / "sampling-costs.json"
TASKS = (
    "text-classification",
    "sentence-similarity",
    "question-answering",
    "summarization",
    "text-generation",
)
POSITIONS = {"summarization": 1024, "text-generation": 1024}


def record(task: str, passes: int, folder: Path) -> dict[str, object]:
    """One task's model, token counts and per-query latencies."""
    import torch
    from tiny_models import build_tiny_model, minilm_dir

    from energy_badge.run import load_runner
    from energy_badge.workload import load_workload

    torch.set_num_threads(1)
    if task == "sentence-similarity":
        model, name = minilm_dir(), "sentence-transformers/all-MiniLM-L6-v2 (real snapshot)"
    else:
        model = build_tiny_model(task, folder / task, max_positions=POSITIONS.get(task, 512))
        name = f"tiny {task} model from tests/tiny_models.py (random weights)"
    dtype = "float32"
    runner = load_runner(str(model), task, dtype=dtype, device="cpu", random_weights=False)
    runner.prepare(load_workload(task))
    runner.run_warmup(2.0)
    latencies = []
    started = time.perf_counter()
    for _ in range(passes):
        latencies.append(list(runner.run_pass().latencies_s))
    return {
        "model": name,
        "truncated_queries": runner.truncated_queries,
        "input_tokens": list(runner.input_token_counts),
        "latency_s": [[round(v, 7) for v in p] for p in latencies],
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--tasks", default=",".join(TASKS))
    args = parser.parse_args()
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data.setdefault("tasks", {})
    data["about"] = (
        "Per-query CPU latencies (seconds, batch size 1) of real tiny models on energy-badge's canonical "
        "text workloads, written by benchmarks/record_sampling_costs.py; input for "
        "benchmarks/sampling_coverage.py"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks.split(","):
            entry = record(task, args.passes, Path(tmp))
            data["tasks"][task] = entry
            OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
            print(f"{task}: {len(entry['input_tokens'])} queries, {entry['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
