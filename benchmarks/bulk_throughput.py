"""Badges per GPU-hour for a bulk run: full vs sampled protocol, and each part of the pipeline.

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
  sample (5 s), then the measurement. The configurations, each adding one part to the one above:

  1. *sequential*: each step after the other, the GPU held throughout (bulk before issue 16);
  2. *+ prefetch* (built: ``energy_badge.bulk.prefetch``, one model ahead): the next model's
     download and verification run during this one's measurement;
  3. *+ idle reuse* (built: ``energy_badge.meter.baseline``, ``--idle-reuse``): one idle sample
     per ``--idle-ttl`` seconds on the GPU, shared by the models measured meanwhile;
  4. *+ inputs ahead* (built: ``energy_badge.ahead``, ``energy_badge.run.prepared``): the
     prefetcher also prepares the next model's inputs, on a weightless copy of its runner, into the
     prepared-input cache; its measurement then prepares only the probe (10 of 1000 batches) to
     check the fingerprint. A model whose preprocessing has the fingerprint of one prepared
     earlier needs no preparation at all: ``--input-reuse`` is the share of models that do (an
     assumption, 0.8 by default: most models of a task are fine-tunes of a few base models and
     keep their tokenizer or image processor), which shortens the off-GPU work only;
  5. *pipelined* (modelled, not built): also the next model's weights are read into host memory
     during the current measurement; only the copy to the GPU, the idle sample and the
     measurement hold it.

  Where a model's off-GPU work takes longer than the previous one's GPU work, the GPU waits: that
  wait counts as idle.

Printed per task and configuration: badges per GPU-hour, the GPU's idle share (time the GPU is
held but runs no model work: downloads, loads, preparation, idle samples, waiting for the
pipeline), the gain of each part, and the floor the protocol itself sets (the warm-up and the
fewest windows it may stop at), which no pipeline removes. The parameters are flags (defaults:
an H100, a 1 Gb/s link); ``--task`` restricts the tasks.

Usage::

    python benchmarks/bulk_throughput.py [--bandwidth 125e6] [--trials 20] [--idle-ttl 600]
"""

from __future__ import annotations

import argparse
import math
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


#: The configurations, in the order each adds its part (see the module docstring).
MODES = ("sequential", "+ prefetch", "+ idle reuse", "+ inputs ahead", "pipelined")
#: The share of a model's preparation its measurement still does with inputs prepared ahead (the probe).
PROBE_SHARE = 0.01


def held(c: Costs, mode: str, idle_ttl: float, input_reuse: float) -> float:
    """GPU-held seconds per model in steady state under ``mode``."""
    if mode == "sequential":
        return c.download + c.verify + c.host_load + c.gpu_copy + c.prepare + c.idle + c.measure
    off_gpu = c.download + c.verify  # the next model's, during this one's measurement
    idle, prepare = c.idle, c.prepare
    if mode != "+ prefetch":  # idle reuse: a fresh sample once per idle_ttl seconds
        rough = c.host_load + c.gpu_copy + c.prepare + c.measure
        idle = c.idle * min(1.0, rough / idle_ttl) if idle_ttl > 0 else c.idle
    host_load = c.host_load
    if mode in ("+ inputs ahead", "pipelined"):
        off_gpu += c.prepare * (1.0 - input_reuse)  # the next model's, unless its inputs are shared
        prepare = c.prepare * PROBE_SHARE
    if mode == "pipelined":
        off_gpu += c.host_load
        host_load = 0.0
    return max(host_load + c.gpu_copy + prepare + idle + c.measure, off_gpu)


#: Per-query times (ms) at which the protocol's floor is printed for 1000-query workloads.
FLOOR_QUERY_MS = (1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


def protocol_floor(pass_s: float, config: MeterConfig) -> float:
    """The fewest GPU seconds the full protocol spends on a model whose pass lasts ``pass_s``:
    the warm-up, then ``min_repetitions`` windows, each of whole passes lasting ``min_window_s``."""
    window = math.ceil(config.min_window_s / pass_s - 1e-9) * pass_s
    return min(config.warmup_max_s, pass_s) + config.min_repetitions * window


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bandwidth", type=float, default=125e6, help="download, bytes/s (1 Gb/s)")
    parser.add_argument("--verify", type=float, default=1.5e9, help="sha256 verification, bytes/s")
    parser.add_argument("--disk", type=float, default=2e9, help="weights read into host memory, bytes/s")
    parser.add_argument("--pcie", type=float, default=20e9, help="host to GPU copy, bytes/s")
    parser.add_argument("--idle", type=float, default=5.0, help="idle sample, s")
    parser.add_argument("--idle-ttl", type=float, default=600.0, help="reuse an idle baseline this long, s")
    parser.add_argument(
        "--input-reuse", type=float, default=0.8, help="share of models whose prepared inputs are reused"
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.005, help="run-to-run noise per window")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--task", choices=[t.name for t in TASKS])
    args = parser.parse_args(argv)
    print(
        f"cost model: download {args.bandwidth / 1e6:g} MB/s, verify {args.verify / 1e9:g} GB/s, "
        f"host load {args.disk / 1e9:g} GB/s, GPU copy {args.pcie / 1e9:g} GB/s, idle sample "
        f"{args.idle:g} s (reused for {args.idle_ttl:g} s), inputs reused for {args.input_reuse:.0%} "
        f"of models; measurement GPU time from the real protocols on the simulated GPU ({args.trials} "
        f"runs each, {100 * args.noise:g} % noise, target 1 %)"
    )
    config = MeterConfig()
    for task in TASKS:
        if args.task and task.name != args.task:
            continue
        print(f"\n{task.name}: {1000 * task.query_s:g} ms a query, {task.model_bytes / 1e9:g} GB of weights")
        head = f"  {'configuration':24} {'measure s':>9} {'measured':>8} {'GPU s/model':>11}"
        print(f"{head} {'badges/GPU-h':>12} {'GPU idle':>8}")
        rates = {}
        for protocol in ("full", "sampled"):
            measure_s, fraction = measurement_seconds(task, protocol, args.trials, args.seed, args.noise)
            c = costs(task, measure_s, args)
            for mode in MODES:
                seconds = held(c, mode, args.idle_ttl, args.input_reuse)
                rate = 3600.0 / seconds
                rates[(protocol, mode)] = rate
                print(
                    f"  {protocol + ', ' + mode:24} {measure_s:9.1f} {fraction:8.2f} {seconds:11.1f} "
                    f"{rate:12.1f} {1 - c.measure / seconds:8.1%}"
                )
        steps = [("full", m) for m in MODES[:4]]
        gains = ", ".join(
            f"{b[1].lstrip('+ ')} x{rates[b] / rates[a]:.3f}" for a, b in zip(steps, steps[1:], strict=False)
        )
        print(f"  gains of each part (full protocol): {gains}")
        print(
            f"  sampled protocol x{rates[('sampled', 'sequential')] / rates[('full', 'sequential')]:.2f}; "
            f"everything built (sampled, + inputs ahead) x"
            f"{rates[('sampled', '+ inputs ahead')] / rates[('full', 'sequential')]:.2f}; "
            f"with the pipeline modelled x"
            f"{rates[('sampled', 'pipelined')] / rates[('full', 'sequential')]:.2f}"
        )
        pass_s = 1000 * task.query_s
        floor = protocol_floor(pass_s, config)
        print(
            f"  the full protocol's floor (warm-up, then {config.min_repetitions} windows of whole passes "
            f">= {config.min_window_s:g} s, nothing else): {floor:.1f} s a model, at most "
            f"{3600 / floor:.0f} badges/GPU-h"
        )
    bounds = ", ".join(f"{q:g} ms {3600 / protocol_floor(q, MeterConfig()):.0f}" for q in FLOOR_QUERY_MS)
    print(f"\nthe floor's badges/GPU-h bound for 1000-query workloads, by ms a query: {bounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
