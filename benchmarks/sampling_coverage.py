"""Coverage of the sampled protocol's intervals, the share of the workload it measures, and its time.

Drives the real sampled protocol (``energy_badge.meter.sampling.run_sampled``: strata, nested
samples, the stratified estimator with the finite population correction, growth to the full
workload) through the real measurement loop (``energy_badge.meter.loop.BaseMeter.measure``
with the stop rule, outlier guard and drift check), with simulated windows in place of Zeus's:
each query has a true time and energy, so the full-pass value (the figure the full protocol
estimates: the workload's mean energy per query, in Wh per 1000 queries) is known exactly.

Populations (per task), each a workload of 1000 queries:

* **cpu** (``--costs``, default ``benchmarks/results/cpu/sampling-costs.json``, written by
  ``benchmarks/record_sampling_costs.py``): real per-query latencies of real tiny models on the
  real canonical text workloads, on a CPU, with the real input-token counts as the cost proxy.
  A query's true cost is its mean latency over the recorded passes (times a constant 100 W for
  an "energy"), and what the runner reports for it in each simulated pass is one of its
  recorded latencies (the real per-query timing jitter); the windows' run-to-run noise is the
  GPU's (``--noise``), not this CPU's (about 2 % a pass on a loaded two-core machine, which would
  only measure the stop rule, not the estimator).
* **sim**: simulated GPU traces with realistic spreads. Text tasks take the real workloads'
  token counts (the same file) and a time linear in them (prefill) plus a fixed part (launch
  overhead, the forced decode steps), with a 5 % per-query residual; the prefill draws 300 W,
  the rest 200 W, so a longer query also draws more power (energy is not simply proportional to
  time, which the estimator's variance allows for up to that ratio: ``POWER_ELASTICITY``);
  constant-cost tasks (images resized to one resolution, forced 100-token captions and
  transcripts, 30 fixed diffusion steps) have 0.5-3 % spreads; ``reasoning-on`` is the hard case,
  output lengths from a heavy-tailed distribution unrelated to the input (the strata do not help).

Every window also carries run-to-run noise (``--noise``, 0.5 % by default: one normal draw per
window, the same for every query of it) and per-query timing jitter of 3 % in what the runner
reports. Times per query are those of an H100 at batch size 1 (text classification about 6 ms,
a 100-token caption about 1 s), with the meter's defaults: a window lasts at least 5 s (whole
passes), a warm-up of up to 10 s, 3 to 10 repetitions, target +-1 %.

Printed per population: the coverage of the final 95 % interval over the trials (with its
Monte-Carlo standard error), the mean fraction of the workload in the final sample, the share of
runs that measured the full workload (a pass shorter than five windows is measured whole at once,
and a sample that cannot meet the target grows to it), and the ratio of simulated GPU time
(warm-up and every stage's windows) to the full protocol's on the same population. Where the
protocol measured the whole workload, "estimator alone" runs the trials again with sampling
forced (no shortcut to the full workload) and gives that coverage and the fraction measured, so
the estimator is checked on every population's spread.

Usage::

    python benchmarks/sampling_coverage.py [--trials 400] [--noise 0.005] [--seed 1] [--only sim|cpu]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the simulated clock the tests use

from fake_clock import FakeClock  # noqa: E402

from energy_badge.hardware import GPUProcess  # noqa: E402
from energy_badge.meter import MeterConfig  # noqa: E402
from energy_badge.meter.loop import BaseMeter, IsolationCheck, Window  # noqa: E402
from energy_badge.meter.sampling import StageRun, run_sampled, stratify  # noqa: E402
from energy_badge.run.runner import PassStats  # noqa: E402

COSTS = ROOT / "benchmarks" / "results" / "cpu" / "sampling-costs.json"
J_PER_WH = 3600.0


@dataclass(frozen=True)
class Population:
    """A workload whose every query's cost is known.

    Attributes:
        name: what it is.
        proxy: the cost proxy per query (what the strata are cut by).
        time_s: each query's true time (s).
        energy_j: each query's true energy (J).
        replay: observed times per pass, one row per recorded pass (None: ``time_s`` with jitter).
    """

    name: str
    proxy: np.ndarray
    time_s: np.ndarray
    energy_j: np.ndarray
    replay: np.ndarray | None = None

    @property
    def truth(self) -> float:
        """The full-pass value: mean energy per query in Wh per 1000 queries."""
        return float(self.energy_j.mean()) * 1000.0 / J_PER_WH


class Clock(FakeClock):
    """Simulated time from 0 (the tests' clock): moves only when something sleeps."""

    def __init__(self) -> None:
        super().__init__(start=0.0)


class SimulatedGPU(BaseMeter):
    """The real loop; each window's energy is the true energy of the passes it ran, times noise."""

    energy_source = "simulated"

    def __init__(self, config: MeterConfig, clock: Clock, rng: np.random.Generator, noise: float) -> None:
        self.config, self.clock, self.rng, self.noise = config, clock, rng, noise
        self.energy = 0.0
        self._start = 0.0

    def _begin(self, key: str, what: str) -> None:
        self._start = self.energy

    def _end(self, key: str, what: str) -> Window:
        return Window(gpu_j=(self.energy - self._start) * (1.0 + self.noise * self.rng.standard_normal()))

    def _isolation(self, what: str, seen: dict[int, GPUProcess]) -> IsolationCheck:
        return IsolationCheck(checked=True)


def make_stage(
    pop: Population, clock: Clock, rng: np.random.Generator, noise: float, jitter: float = 0.03
) -> Callable[[tuple[int, ...] | None, MeterConfig, bool], StageRun]:
    """The sampled protocol's ``measure`` callable over a simulated GPU running ``pop``."""

    def stage(indices: tuple[int, ...] | None, config: MeterConfig, first: bool) -> StageRun:
        idx = np.arange(len(pop.time_s)) if indices is None else np.asarray(indices)
        meter = SimulatedGPU(config, clock, rng, noise)
        true_t, true_e = pop.time_s[idx], float(pop.energy_j[idx].sum())

        def one_pass() -> PassStats:
            if pop.replay is not None:
                rows = rng.integers(0, pop.replay.shape[0], size=len(idx))
                seen = pop.replay[rows, idx]
            else:
                seen = true_t * (1.0 + jitter * rng.standard_normal(len(idx)))
            energy = true_e
            clock.sleep(float(true_t.sum()))
            meter.energy += energy
            return PassStats(latencies_s=tuple(seen.tolist()), queries=len(idx))

        phase = meter.measure(one_pass, len(idx), warmup=lambda: None, measure_idle=False)
        if indices is None:
            return StageRun(phase, ())
        passes = np.array([p.latencies_s for p in phase.pass_results])
        return StageRun(phase, tuple(passes.mean(axis=0).tolist()))

    return stage


@dataclass(frozen=True)
class Outcome:
    covered: bool
    fraction: float
    full: bool
    seconds: float


def warmup(pop: Population, config: MeterConfig, clock: Clock, rng: np.random.Generator) -> float:
    """The warm-up: queries in workload order for ``warmup_max_s`` (or one pass); their mean time."""
    ends = np.cumsum(pop.time_s)
    m = min(len(ends), int(np.searchsorted(ends, config.warmup_max_s)) + 1)
    clock.sleep(float(ends[m - 1]))
    return float((pop.time_s[:m] * (1.0 + 0.03 * rng.standard_normal(m))).mean())


def trial(pop: Population, config: MeterConfig, seed: int, noise: float, shortcut: bool = True) -> Outcome:
    """One sampled-protocol run on ``pop`` (the warm-up, then the stages).

    ``shortcut=False`` hides the warm-up's time per query from the protocol, so it samples even a
    workload whose pass is shorter than five windows (the estimator alone, on that population).
    """
    rng = np.random.default_rng(seed)
    clock = Clock()
    design = stratify(pop.proxy.tolist(), seed=seed, proxy_name="proxy")
    spq = warmup(pop, config, clock, rng)
    stage = make_stage(pop, clock, rng, noise)
    run = run_sampled(design, stage, config, seconds_per_query=spq if shortcut else None)
    if run.estimate is not None:
        mean, half = run.estimate.mean, run.estimate.half_width
        fraction = run.estimate.queries / design.population
    else:
        stats = run.phase.gpu_wh_per_1k
        assert stats is not None and stats.ci95_half_width is not None
        mean, half, fraction = stats.mean, stats.ci95_half_width, 1.0
    return Outcome(abs(mean - pop.truth) <= half, fraction, run.estimate is None, clock.now)


def full_seconds(pop: Population, config: MeterConfig, seed: int, noise: float) -> float:
    """Simulated GPU time of the full protocol on ``pop`` (warm-up and windows)."""
    rng, clock = np.random.default_rng(seed), Clock()
    warmup(pop, config, clock, rng)
    make_stage(pop, clock, rng, noise)(None, config, True)
    return clock.now


# --------------------------------------------------------------------------------------------
# Populations


def _tokens(costs: dict, task: str) -> np.ndarray:
    return np.asarray(costs["tasks"][task]["input_tokens"], dtype=float)


def cpu_populations(costs: dict) -> list[Population]:
    """Real CPU latencies of real tiny models (see the module docstring)."""
    pops = []
    for task, entry in costs["tasks"].items():
        replay = np.asarray(entry["latency_s"], dtype=float)
        time_s = replay.mean(axis=0)
        pops.append(Population(f"cpu {task}", _tokens(costs, task), time_s, 100.0 * time_s, replay))
    return pops


def sim_populations(costs: dict, rng: np.random.Generator) -> list[Population]:
    """Simulated GPU per-query traces (see the module docstring)."""
    pops = []
    n = 1000

    def text(name: str, tokens: np.ndarray, base_s: float, per_token_s: float, decode_s: float) -> Population:
        residual = 1.0 + 0.05 * rng.standard_normal(len(tokens))
        fixed, prefill = (base_s + decode_s) * residual, per_token_s * tokens * residual
        # The input-length part (prefill, the encoder pass) draws 1.5 x the power of the rest.
        return Population(name, tokens, fixed + prefill, 200.0 * fixed + 300.0 * prefill)

    def constant(name: str, proxy: np.ndarray, seconds: float, spread: float, watts: float) -> Population:
        t = seconds * (1.0 + spread * rng.standard_normal(n))
        return Population(name, proxy, t, watts * t * (1.0 + 0.3 * spread * rng.standard_normal(n)))

    recorded = costs.get("tasks", {})
    specs = [  # (task, name, base s, s per input token, forced decode s)
        ("text-classification", "text-classification", 0.004, 2e-5, 0.0),
        ("sentence-similarity", "sentence-similarity", 0.004, 2e-5, 0.0),
        ("question-answering", "question-answering", 0.004, 2e-5, 0.0),
        ("summarization", "summarization (64 forced)", 0.01, 4e-5, 64 * 0.012),
        ("text-generation", "text-generation (10 forced)", 0.01, 6e-5, 10 * 0.015),
    ]
    for task, name, base, per_token, decode in specs:
        if task in recorded:
            pops.append(text(f"sim {name}", _tokens(costs, task), base, per_token, decode))
    if "text-generation" in recorded:
        tokens = _tokens(costs, "text-generation")
        out = np.minimum(8192, rng.lognormal(mean=6.5, sigma=1.0, size=len(tokens)))
        t = (0.01 + 6e-5 * tokens + 0.015 * out) * (1.0 + 0.03 * rng.standard_normal(len(tokens)))
        pops.append(Population("sim reasoning-on (EOS, heavy tail)", tokens, t, 300.0 * t))
    pixels = rng.choice([224 * 224, 500 * 375, 640 * 480, 1024 * 768], size=n).astype(float)
    seconds = rng.uniform(2.0, 30.0, size=n)
    pops += [
        constant("sim image-classification (resized)", pixels, 0.008, 0.01, 200.0),
        constant("sim object-detection (resized)", pixels, 0.03, 0.03, 300.0),
        constant("sim automatic-speech-recognition (100 forced)", seconds, 1.0, 0.02, 350.0),
        constant("sim image-to-text (100 forced)", pixels, 1.0, 0.02, 330.0),
        constant("sim text-to-image (30 steps)", np.zeros(n), 2.0, 0.005, 600.0),
    ]
    return pops


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument(
        "--noise", type=float, default=0.005, help="run-to-run noise per window (0.005 = 0.5 %%)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=["sim", "cpu"])
    parser.add_argument("--costs", type=Path, default=COSTS)
    args = parser.parse_args(argv)
    costs = json.loads(args.costs.read_text()) if args.costs.exists() else {}
    rng = np.random.default_rng(args.seed)
    pops = []
    if args.only != "sim":
        pops += cpu_populations(costs) if costs else []
    if args.only != "cpu":
        pops += sim_populations(costs, rng)
    config = MeterConfig()
    print(
        f"sampled protocol: {args.trials} trials per population, run-to-run noise {100 * args.noise:g} %, "
        f"target +-{100 * config.target_ci_rel:g} %, window >= {config.min_window_s:g} s"
    )
    print(
        f"{'population':48} {'coverage':>15} {'measured':>9} {'→ full':>7} {'time ratio':>10}"
        f" {'estimator alone':>16}"
    )
    worst = 1.0
    started = time.perf_counter()
    for k, pop in enumerate(pops):
        outcomes = [
            trial(pop, config, args.seed * 100003 + k * 7919 + i, args.noise) for i in range(args.trials)
        ]
        cover = sum(o.covered for o in outcomes) / len(outcomes)
        se = math.sqrt(cover * (1 - cover) / len(outcomes))
        full = sum(full_seconds(pop, config, 17 + i, args.noise) for i in range(20)) / 20
        ratio = sum(o.seconds for o in outcomes) / len(outcomes) / full
        fraction = sum(o.fraction for o in outcomes) / len(outcomes)
        grew = sum(o.full for o in outcomes) / len(outcomes)
        worst = min(worst, cover)
        alone = "same"
        if grew > 0:  # the protocol measured the whole workload: check the estimator on it too
            forced = [
                trial(pop, config, args.seed * 100003 + k * 7919 + i, args.noise, shortcut=False)
                for i in range(args.trials)
            ]
            cover_alone = sum(o.covered for o in forced) / len(forced)
            worst = min(worst, cover_alone)
            frac_alone = sum(o.fraction for o in forced) / len(forced)
            alone = f"{cover_alone:.3f} at {frac_alone:.2f}"
        print(
            f"{pop.name:48} {cover:8.3f} ± {se:.3f} {fraction:9.3f} {grew:7.2f} {ratio:10.3f} {alone:>16}",
            flush=True,
        )
    print(f"lowest coverage {worst:.3f} (target >= 0.94); {time.perf_counter() - started:.0f} s")
    return 0 if worst >= 0.94 else 1


if __name__ == "__main__":
    sys.exit(main())
