"""The sampled protocol: estimate the full workload's energy from a stratified random sample.

The full protocol runs every query of the workload in each repetition. The sampled protocol
runs a stratified random sample of them, repeated as the meter's rule requires, and estimates
the full workload's GPU Wh per 1000 queries with an interval that holds both errors:

**Strata.** The queries are sorted by a per-query *cost proxy* (the quantity that drives their
cost: input tokens for text, pixels for images, seconds for audio clips; the runner says which,
:meth:`energy_badge.run.TaskRunner.cost_proxy`) and cut into :data:`DEFAULT_STRATA` strata of
(nearly) equal size, so each stratum holds queries of similar cost (:func:`stratify`).
Equal sizes keep a sample exactly proportional (self-weighting: its measured mean is the
estimate), which matters because the window measures the sample's energy as a whole: a
disproportionate sample would be re-weighted by time, not energy. (A take-all stratum for the
long tail was tried and dropped for that reason: it biased the estimate by 6 % on simulated
traces whose power rises with length.)

**Sample.** Each stratum's queries are shuffled once with a seeded generator; a sample of ``n``
queries takes the first ``n_h`` of each stratum's order, with ``n_h`` allocated in proportion to
the stratum's size (at least two each, one query at a time to the stratum furthest below its
share, so a larger sample always contains a smaller one: :meth:`Design.allocation`). With
equal-size strata and ``n`` a multiple of their number the sample is exactly proportional.

**Estimate.** One repetition's window measures the energy of the whole sample, not of each query
(the NVML counter is too coarse for single queries), so per-query cost comes from what the runner
times for each query (GPU-synchronised latency ``c_i``, averaged over the measured passes): the
query's energy is taken as proportional to its time, ``e_i = k c_i`` with ``k`` the sample's
measured energy per second of query time. Then, with ``W_h = N_h / N``, ``f_h = n_h / N_h``,
``c̄_h`` and ``s_h²`` the mean and variance of ``c_i`` in stratum ``h``'s sample, ``c̄`` the
sample's plain mean and ``ȳ`` the meter's mean Wh/1k over the sample:

* point estimate ``Ŷ = ȳ · C / c̄`` with ``C = Σ W_h c̄_h`` (the stratified estimator of the mean
  cost; the factor is 1 for an exactly proportional sample, where ``Ŷ`` is the measured ``ȳ``);
* sampling variance (stratified estimator, finite population correction)
  ``V_s = (1 + β)² k² Σ W_h² (1 - f_h) s_h² / n_h`` with ``k = ȳ / c̄`` and ``β`` =
  :data:`POWER_ELASTICITY` (below); its degrees of freedom by Satterthwaite's formula; sampling
  half-width ``h_s = t_{0.975, df} √V_s`` (0 when every query of every stratum is measured: the
  full workload has no sampling error);
* run-to-run noise: the meter's own 95 % half-width ``h_n`` of the sample's repetitions (the
  target's width after an early stop, else the t interval: :mod:`energy_badge.meter.rule`),
  scaled by ``C / c̄``;
* combined: ``h = √(h_s² + h_n²)``. The two errors are independent (which queries were drawn,
  and the noise of measuring those queries), so by the law of total variance
  ``Var Ŷ = Var_S E[Ŷ | S] + E_S Var(Ŷ | S)``: the variances add. Adding the two 95 %
  half-widths in quadrature adds the variances, each scaled by its own critical value (t, not
  z), which errs on the wide side.

Per-query timing noise inflates ``s_h²``, so it can only widen ``h_s``. The proportional model
``e_i = k c_i`` ignores a power draw that varies with the query: a longer query may also draw
more power, and then its energy deviates more than its time. With power ∝ time^β, energy's
relative deviations are ``1 + β`` times time's, so the variance is multiplied by ``(1 + β)²``
for β up to :data:`POWER_ELASTICITY`: the part of a query that grows with its input (the
prefill, an encoder pass) may draw up to 1.5 times the query's mean power. Without the factor,
simulated traces whose prefill draws 1.5 times the decode's power gave 0.80 coverage for text
classification; ``benchmarks/sampling_coverage.py`` checks the interval on such traces. A power
that rises faster than that with the input is outside what the interval is shown to hold.

**Growth** (:func:`run_sampled`): when one pass of the whole workload lasts less than
:data:`FULL_BELOW_WINDOWS` minimum windows (known from the warm-up's query times), the whole
workload is measured at once: a repetition lasts ``min_window_s`` anyway. Otherwise a pilot of
:data:`PILOT_FRACTION` of the workload (at least two per stratum, and enough queries to fill a
window) is measured with the meter's target tightened to :data:`NOISE_SHARE` of the overall
target, leaving the rest of the error budget to sampling. While the combined half-width exceeds
the target, the sample grows (at least doubling, or straight to the size the pilot's variances
predict) and is measured again; once it would be the whole workload, the whole workload is
measured in its own order: that is the full protocol, and the result says so.

The functions here are pure: :func:`run_sampled` measures through a callable, so the benchmark
drives it with simulated windows and ``energy_badge.measure`` with the real meter and runner.

Modules: :mod:`~energy_badge.meter.sampling.design` (strata and the sampling order),
:mod:`~energy_badge.meter.sampling.estimator` (the estimate, its interval and the next sample
size), :mod:`~energy_badge.meter.sampling.stages` (the staged run) and
:mod:`~energy_badge.meter.sampling.record` (the result's record and its check). Import the names
from this package.
"""

from __future__ import annotations

from energy_badge.meter.sampling.design import DEFAULT_STRATA, Design, Stratum, stratify
from energy_badge.meter.sampling.estimator import (
    GO_FULL_FRACTION,
    POWER_ELASTICITY,
    Estimate,
    estimate,
    estimated_stats,
    next_size,
    stratified_estimate,
)
from energy_badge.meter.sampling.record import ErrorParts, SamplingRecord, make_record, record_problems
from energy_badge.meter.sampling.record import Protocol as Protocol
from energy_badge.meter.sampling.stages import (
    FULL_BELOW_WINDOWS,
    MAX_STAGES,
    NOISE_SHARE,
    PILOT_FRACTION,
    SampledRun,
    Stage,
    StageRun,
    run_sampled,
)
from energy_badge.meter.sampling.stages import MeasureStage as MeasureStage

__all__ = [
    "DEFAULT_STRATA",
    "FULL_BELOW_WINDOWS",
    "GO_FULL_FRACTION",
    "MAX_STAGES",
    "NOISE_SHARE",
    "PILOT_FRACTION",
    "POWER_ELASTICITY",
    "Design",
    "ErrorParts",
    "Estimate",
    "SampledRun",
    "SamplingRecord",
    "Stage",
    "StageRun",
    "Stratum",
    "estimate",
    "estimated_stats",
    "make_record",
    "record_problems",
    "next_size",
    "run_sampled",
    "stratified_estimate",
    "stratify",
]
