"""The sampled protocol's estimator (energy_badge.meter.sampling), alone and through the real loop.

What is simulated: the per-query costs are known populations built in the test, and the GPU's
windows come from ``benchmarks/sampling_coverage.py``'s simulated meter (the real measurement
loop of ``energy_badge.meter.loop`` with each window's energy the true energy of the passes it
ran, times run-to-run noise). The estimator, the strata, the growth rule and the record's check
run for real.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import random
import statistics
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from energy_badge.errors import UsageError
from energy_badge.meter import MeterConfig
from energy_badge.meter.sampling import (
    POWER_ELASTICITY,
    estimate,
    make_record,
    record_problems,
    run_sampled,
    stratified_estimate,
    stratify,
)
from energy_badge.stats import Stats

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "sampling_coverage.py"


def _bench() -> ModuleType:
    """The benchmark script as a module (registered first: its dataclasses need it)."""
    if "sampling_coverage" in sys.modules:
        return sys.modules["sampling_coverage"]
    spec = importlib.util.spec_from_file_location("sampling_coverage", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sampling_coverage"] = module
    spec.loader.exec_module(module)
    return module


def test_strata_are_equal_quantiles_and_samples_nest():
    """Strata cut the proxy's order into equal parts; a larger sample contains a smaller one,
    allocated in proportion to the strata's sizes, at least two each."""
    proxy = [float((i * 37) % 101) for i in range(1000)]
    design = stratify(proxy, seed=3, proxy_name="input_tokens")
    assert [len(s) for s in design.strata] == [50] * 20
    highs = [hi for _, hi in design.bounds]
    lows = [lo for lo, _ in design.bounds]
    assert all(h <= lo for h, lo in zip(highs, lows[1:], strict=False))  # ordered by the proxy
    assert design.allocation(100) == (5,) * 20  # exactly proportional: self-weighting
    assert design.allocation(5) == (2,) * 20  # two per stratum at least
    assert sum(design.allocation(257)) == 257
    small, large = set(design.sample(120)), set(design.sample(480))
    assert len(small) == 120 and small <= large
    assert design.sample(1000) == tuple(range(1000))
    assert stratify(proxy, seed=4, proxy_name="x").sample(100) != design.sample(100)  # the seed matters
    assert stratify(proxy, seed=3, proxy_name="x").sample(100) == design.sample(100)  # and says it all


def test_finite_population_correction_matches_repeated_sampling():
    """A known population (three strata of unequal spread, 60 queries): over many stratified
    samples of half of each stratum, the estimator's variance is the true sampling variance
    (the FPC halves it here: without it the estimate would be twice the truth), and with
    every query sampled the estimate is exact with no sampling error."""
    rng = random.Random(5)
    sizes = [20, 20, 20]
    population = [[rng.uniform(1, 2) * (1 + 2 * h) for _ in range(size)] for h, size in enumerate(sizes)]
    k = 0.5  # Wh/1k per second: every query's energy is k x its time, so the estimand is known
    truth = k * statistics.fmean(c for stratum in population for c in stratum)
    means, variances = [], []
    for _ in range(4000):
        groups = [rng.sample(stratum, 10) for stratum in population]
        costs = [c for g in groups for c in g]
        est = stratified_estimate(sizes, groups, k * statistics.fmean(costs), 0.0)
        means.append(est.mean)
        # Undo the power-elasticity bound and the t quantile: the plain variance estimate.
        df = max(1, math.floor(est.sampling_df or 1))
        from energy_badge.stats import t975

        variances.append((est.sampling_half_width / t975(df) / (1 + POWER_ELASTICITY)) ** 2)
    exact = sum(
        (size / 60) ** 2 * (1 - 10 / size) * statistics.variance(stratum) / 10
        for size, stratum in zip(sizes, population, strict=True)
    )
    assert statistics.fmean(means) == pytest.approx(truth, rel=2e-3)  # unbiased
    assert statistics.variance(means) == pytest.approx(k * k * exact, rel=0.1)  # the FPC is right
    assert statistics.fmean(variances) == pytest.approx(k * k * exact, rel=0.05)  # its estimate too
    whole = stratified_estimate(sizes, population, truth, 0.01)
    assert whole.sampling_half_width == 0.0 and whole.mean == pytest.approx(truth)
    assert whole.half_width == pytest.approx(0.01)  # only the noise is left


def test_noise_and_sampling_combine_in_quadrature_and_bad_input_is_refused():
    """The two 95 % half-widths add in quadrature; costs must match the sample."""
    design = stratify([float(i % 50) for i in range(200)], seed=1, proxy_name="p")
    costs = [1.0 + (i % 7) / 10 for i in design.sample(40)]
    est = estimate(design, 40, costs, 2.0, 0.03)
    assert est.half_width == pytest.approx(math.hypot(est.sampling_half_width, est.noise_half_width))
    assert est.sampling_half_width > 0 and est.queries == 40 and est.population == 200
    with pytest.raises(UsageError):
        estimate(design, 40, costs[:-1], 2.0, 0.03)
    with pytest.raises(UsageError):
        stratified_estimate([10, 10], [[1.0, 2.0], [float("nan"), 1.0]], 1.0, 0.0)


def test_coverage_on_a_small_simulation():
    """Simulated GPU (the benchmark's), a text-like population whose prefill draws 1.5 x the power:
    the sampled interval holds the full-pass value in at least 90 % of 60 runs (the benchmark
    runs thousands), and measures a fraction of the workload (about 30 %: a few runs grow to
    the whole of it)."""
    bench = _bench()
    rng = np.random.default_rng(2)
    tokens = np.clip(rng.lognormal(5.0, 0.6, size=1000), 5, 2000)
    residual = 1 + 0.03 * rng.standard_normal(1000)
    decode, prefill = 1.0 * residual, 0.001 * tokens * residual  # forced decode + prefill (s)
    pop = bench.Population("text-like", tokens, decode + prefill, 200 * decode + 300 * prefill)
    outcomes = [bench.trial(pop, MeterConfig(), 1000 + i, 0.005) for i in range(60)]
    assert sum(o.covered for o in outcomes) >= 54
    assert statistics.fmean(o.fraction for o in outcomes) < 0.5
    assert sum(o.full for o in outcomes) <= 6  # a few grow to the whole workload, most do not


def test_grows_to_the_full_workload_when_noise_alone_misses_the_target():
    """Simulated GPU with 5 % run-to-run noise: no sample can meet +-1 %, so the protocol
    measures the whole workload (the full protocol), and the record says so."""
    bench = _bench()
    rng = np.random.default_rng(3)
    t = 1.0 + 0.02 * rng.standard_normal(300)
    pop = bench.Population("noisy", np.arange(300.0), t, 300 * t)
    clock = bench.Clock()
    design = stratify(pop.proxy.tolist(), seed=9, proxy_name="p")
    stage = bench.make_stage(pop, clock, np.random.default_rng(4), 0.05)
    run = run_sampled(design, stage, MeterConfig())
    assert run.estimate is None and run.indices is None
    assert run.stages[-1].queries == 300 and run.stages[0].queries < 300
    record = make_record(design, run, 0.006)
    assert record.protocol == "full" and record.indices == () and record.parts is None


def test_short_workloads_are_measured_whole_at_once():
    """A pass shorter than five minimum windows (known from the warm-up) is measured whole:
    a sample would cost the same windows."""
    bench = _bench()
    t = np.full(200, 0.02)  # 4 s a pass, windows of 5 s
    pop = bench.Population("short", np.arange(200.0), t, 100 * t)
    design = stratify(pop.proxy.tolist(), seed=1, proxy_name="p")
    stage = bench.make_stage(pop, bench.Clock(), np.random.default_rng(0), 0.002)
    run = run_sampled(design, stage, MeterConfig(), seconds_per_query=0.02)
    assert len(run.stages) == 1 and run.stages[0].queries == 200 and run.estimate is None


def test_the_record_is_checked_against_its_headline():
    """The record's strata, costs and the repetitions give the headline; an edited mean or
    interval, or indices outside the workload, are found."""
    bench = _bench()
    rng = np.random.default_rng(7)
    t = 1.0 + 0.02 * rng.standard_normal(500)
    pop = bench.Population("flat", np.arange(500.0), t, 300 * t)
    design = stratify(pop.proxy.tolist(), seed=2, proxy_name="p")
    stage = bench.make_stage(pop, bench.Clock(), np.random.default_rng(8), 0.002)
    run = run_sampled(design, stage, MeterConfig())
    assert run.estimate is not None
    record = make_record(design, run, 0.006)
    stats = run.phase.gpu_wh_per_1k
    outcome = run.phase.outcome
    noise = 0.006 * abs(stats.mean) if outcome.interval == "target" else stats.ci95_half_width
    est = run.estimate
    low, high = est.mean - est.half_width, est.mean + est.half_width
    figure = Stats(stats.n, est.mean, stats.std, low, high, est.half_width, stats.samples)
    assert record_problems(record, figure, noise) == []
    narrower = dataclasses.replace(figure, ci95_half_width=est.half_width * 0.5)
    assert "does not follow" in record_problems(record, narrower, noise)[0]
    assert record_problems(record, dataclasses.replace(figure, mean=figure.mean * 0.9), noise)
    bad = dataclasses.replace(record, indices=(10_000, *record.indices[1:]))
    assert "lie in" in record_problems(bad, figure, noise)[0]
