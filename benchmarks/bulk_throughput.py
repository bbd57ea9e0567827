"""Badges per GPU-hour for a bulk run: full vs sampled protocol, sequential vs pipelined.

Two parts, said apart:

* **Measured on the simulated GPU**: the GPU time of one model's measurement (the warm-up and
  every repetition's window, all stages of the sampled protocol) comes from driving the real
  protocol (``energy_badge.meter.sampling.run_sampled``, or one full phase) through the real
  measurement loop with simulated windows (``benchmarks/sampling_coverage.py``'s simulated GPU,
  ``--noise`` run-to-run noise, 0.5 % by default), on a population with the task's seconds
  per query and spread.
* **Modelled** (a cost model, not a run): what happens around it. Per model: download its files
  (``size / bandwidth``), verify them (sha256 at ``verify`` bytes/s), read the weights into host
  memory, copy them to the GPU, prepare the inputs (tokenize, decode and resize images), the idle
  sample (5 s), then the measurement. *Sequential*: each step after the other, the GPU held
  throughout (the bulk job's loop before issue 16). *Prefetch* (what is implemented:
  ``energy_badge.bulk.prefetch``, one model ahead): the next model's download and verification
  run during this one's measurement; the rest stays on the GPU's path. *Pipelined* (modelled,
  not implemented beyond the prefetch): download, verification, host load and
  input preparation of the next models run while the current one is measured (one model ahead,
  within the disk budget); only the copy to the GPU, the idle sample and the measurement hold the
  GPU, and the idle baseline is reused for ``--idle-ttl`` seconds (a fresh sample when older).
  A model whose off-GPU work takes longer than the previous one's GPU work makes the GPU wait:
  that wait counts as idle.

Printed per task and configuration: badges per GPU-hour, the GPU's idle share (time the GPU is
held but runs no model work: downloads, loads, preparation, idle samples, waiting for the
pipeline) and the gain of each part. The parameters are flags (defaults: an H100, a 1 Gb/s
link); ``--task`` restricts the tasks.

Usage::

    python benchmarks/bulk_throughput.py [--bandwidth 125e6] [--trials 20] [--idle-ttl 600]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import sampling_coverage as sim  # noqa: E402

from energy_badge.meter import MeterConfig  # noqa: E402
from energy_badge.meter.sampling import run_sampled, stratify  # noqa: E402


@dataclass(frozen=True)
class Task:
    """A task's cost model.

    Attributes:
        name: the task.
        query_s: GPU seconds per query at batch size 1.
        spread: relative spread of a query's cost.
        model_bytes: weight files of a typical model.
        prepare_s: CPU seconds to prepare the 1000 inputs.
        proxy_varies: the cost proxy varies (text lengths) or not (resized images).
    """

    name: str
    query_s: float
    spread: float
    model_bytes: float
    prepare_s: float
    proxy_varies: bool


TASKS = (
    # bert-base-sized classifiers: ~6 ms a query on an H100 at batch 1, 440 MB of weights.
    Task("text-classification", 0.006, 0.15, 440e6, 1.0, True),
    # BLIP-large-sized captioners forced to 100 new tokens: ~1 s a query, 1.9 GB of weights.
    Task("image-to-text", 1.0, 0.02, 1.9e9, 20.0, False),
)


def measurement_seconds(
    task: Task, protocol: str, trials: int, seed: int, noise: float = 0.005
) -> tuple[float, float]:
    """Mean GPU seconds of one measurement (warm-up + windows) and the mean fraction measured."""
    config = MeterConfig()
    seconds, fractions = [], []
    for i in range(trials):
        rng = np.random.default_rng(seed + i)
        n = 1000
        proxy = rng.lognormal(5.0, 0.5, n) if task.proxy_varies else np.zeros(n)
        if task.proxy_varies:  # time linear in the proxy, with a 3 % residual
            t = task.query_s * (1 + task.spread * (proxy / proxy.mean() - 1))
            t = t * (1 + 0.03 * rng.standard_normal(n))
        else:
            t = task.query_s * (1 + task.spread * rng.standard_normal(n))
        pop = sim.Population(task.name, proxy, t, 300.0 * t)
        clock = sim.Clock()
        spq = sim.warmup(pop, config, clock, rng)
        stage = sim.make_stage(pop, clock, rng, noise)
        if protocol == "full":
            stage(None, config, True)
            fractions.append(1.0)
        else:
            design = stratify(proxy.tolist(), seed=seed + i, proxy_name="proxy")
            run = run_sampled(design, stage, config, seconds_per_query=spq)
            fractions.append(1.0 if run.estimate is None else run.estimate.queries / n)
        seconds.append(clock.now)
    return statistics.fmean(seconds), statistics.fmean(fractions)


@dataclass(frozen=True)
class Costs:
    """One model's steps, in seconds."""

    download: float
    verify: float
    host_load: float
    gpu_copy: float
    prepare: float
    idle: float
    measure: float


def costs(task: Task, measure_s: float, args: argparse.Namespace) -> Costs:
    return Costs(
        download=task.model_bytes / args.bandwidth,
        verify=task.model_bytes / args.verify,
        host_load=task.model_bytes / args.disk,
        gpu_copy=task.model_bytes / args.pcie,
        prepare=task.prepare_s,
        idle=args.idle,
        measure=measure_s,
    )


def sequential(c: Costs) -> tuple[float, float]:
    """(GPU-held seconds per model, busy seconds) when every step runs after the other."""
    held = c.download + c.verify + c.host_load + c.gpu_copy + c.prepare + c.idle + c.measure
    return held, c.measure


def prefetched(c: Costs) -> tuple[float, float]:
    """(GPU-held seconds per model, busy seconds) with what is implemented: the next model's
    download and verification run during this one's measurement (``energy_badge.bulk.prefetch``);
    loading, preparation and the idle sample stay on the GPU's path."""
    off_gpu = c.download + c.verify
    on_gpu = c.host_load + c.gpu_copy + c.prepare + c.idle + c.measure
    return max(on_gpu, off_gpu), c.measure


def pipelined(c: Costs, idle_ttl: float) -> tuple[float, float]:
    """(GPU-held seconds per model, busy seconds) in steady state with one model prefetched."""
    off_gpu = c.download + c.verify + c.host_load + c.prepare  # the next model's, meanwhile
    on_gpu = c.gpu_copy + c.measure
    cycle = max(on_gpu, off_gpu)
    # A fresh idle sample once per idle_ttl seconds, shared by the models measured meanwhile.
    idle = c.idle * min(1.0, cycle / idle_ttl) if idle_ttl > 0 else c.idle
    return max(on_gpu + idle, off_gpu), c.measure


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bandwidth", type=float, default=125e6, help="download, bytes/s (1 Gb/s)")
    parser.add_argument("--verify", type=float, default=1.5e9, help="sha256 verification, bytes/s")
    parser.add_argument("--disk", type=float, default=2e9, help="weights read into host memory, bytes/s")
    parser.add_argument("--pcie", type=float, default=20e9, help="host to GPU copy, bytes/s")
    parser.add_argument("--idle", type=float, default=5.0, help="idle sample, s")
    parser.add_argument("--idle-ttl", type=float, default=600.0, help="reuse an idle baseline this long, s")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.005, help="run-to-run noise per window")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--task", choices=[t.name for t in TASKS])
    args = parser.parse_args(argv)
    print(
        f"cost model: download {args.bandwidth / 1e6:g} MB/s, verify {args.verify / 1e9:g} GB/s, "
        f"host load {args.disk / 1e9:g} GB/s, GPU copy {args.pcie / 1e9:g} GB/s, idle sample "
        f"{args.idle:g} s (pipelined: reused for {args.idle_ttl:g} s); measurement GPU time from the real "
        f"protocols on the simulated GPU ({args.trials} runs each, {100 * args.noise:g} % noise, target 1 %)"
    )
    for task in TASKS:
        if args.task and task.name != args.task:
            continue
        print(f"\n{task.name}: {1000 * task.query_s:g} ms a query, {task.model_bytes / 1e9:g} GB of weights")
        head = f"  {'configuration':22} {'measure s':>9} {'measured':>8} {'GPU s/model':>11}"
        print(f"{head} {'badges/GPU-h':>12} {'GPU idle':>8}")
        rates = {}
        for protocol in ("full", "sampled"):
            measure_s, fraction = measurement_seconds(task, protocol, args.trials, args.seed, args.noise)
            c = costs(task, measure_s, args)
            for mode in ("sequential", "prefetch", "pipelined"):
                if mode == "sequential":
                    held, busy = sequential(c)
                elif mode == "prefetch":
                    held, busy = prefetched(c)
                else:
                    held, busy = pipelined(c, args.idle_ttl)
                rate = 3600.0 / held
                rates[(protocol, mode)] = rate
                print(
                    f"  {protocol + ', ' + mode:22} {measure_s:9.1f} {fraction:8.2f} {held:11.1f} "
                    f"{rate:12.1f} {1 - busy / held:8.1%}"
                )
        base = rates[("full", "sequential")]
        print(
            f"  gains over full, sequential: sampled x{rates[('sampled', 'sequential')] / base:.2f}, "
            f"prefetch x{rates[('full', 'prefetch')] / base:.2f}, "
            f"pipelined x{rates[('full', 'pipelined')] / base:.2f}, "
            f"both x{rates[('sampled', 'pipelined')] / base:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
