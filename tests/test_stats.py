"""energy_badge.stats against reference values computed here, independently of the module.

Nothing is simulated: these are pure functions. The Student's t quantiles are computed in this
file from the t distribution itself (its CDF through the regularized incomplete beta function,
cross-checked against a numerical integral of the density and against closed forms), never copied
from the module's table; summaries and differences are checked on cases small enough to derive by
hand; percentiles against the definition and against numpy.
"""

from __future__ import annotations

import math
import random
import statistics

import numpy as np
import pytest

from energy_badge.stats import Stats, difference, percentile, summarize, t975

# --------------------------------------------------------------------------------------------
# A reference Student's t distribution
# --------------------------------------------------------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 10_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            return result
    raise AssertionError("the continued fraction did not converge")


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), by its continued fraction on the side where that converges fast."""
    if x <= 0.0 or x >= 1.0:
        return min(max(x, 0.0), 1.0)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_cdf_by_integration(t: float, df: float, steps: int = 20_000) -> float:
    """The same CDF by Simpson's rule on the density from 0 to ``t`` (an independent check)."""
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def density(x: float) -> float:
        return math.exp(log_norm - (df + 1) / 2 * math.log1p(x * x / df))

    h = t / steps
    total = density(0.0) + density(t)
    total += sum((4 if k % 2 else 2) * density(k * h) for k in range(1, steps))
    return 0.5 + total * h / 3


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile (p > 0.5) of Student's t, by bisection on :func:`t_cdf`."""
    low, high = 0.0, 1000.0
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


REFERENCE_T975 = {df: t_quantile(0.975, df) for df in range(1, 41)}


def test_the_reference_t_distribution_is_right():
    """Nothing simulated. The reference itself, before it judges the module: closed forms for 1
    and 2 degrees of freedom (Cauchy: tan(0.475 pi); df=2: (2p-1)/sqrt(2p(1-p))), the normal
    limit for very many, and the CDF agreeing with a numerical integral of the density."""
    assert REFERENCE_T975[1] == pytest.approx(math.tan(math.pi * 0.475), rel=1e-10)
    p = 0.975
    assert REFERENCE_T975[2] == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-10)
    assert t_quantile(0.975, 1e7) == pytest.approx(statistics.NormalDist().inv_cdf(0.975), abs=1e-6)
    for df in (1, 3, 7, 15, 30, 40):
        for t in (0.5, 2.0, REFERENCE_T975[df]):
            assert t_cdf(t, df) == pytest.approx(t_cdf_by_integration(t, df), abs=1e-9)


# --------------------------------------------------------------------------------------------
# t975
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("df", range(1, 31))
def test_t975_table_is_the_t_quantile_rounded_to_three_decimals(df):
    """Nothing simulated. The table holds t_{0.975, df} for df = 1..30 to three decimals: each entry
    is within half a unit of the third decimal of the reference, so any wrong digit (one unit in
    the third decimal or more) fails."""
    assert abs(t975(df) - REFERENCE_T975[df]) <= 0.0005 + 1e-12
    assert t975(df) == round(REFERENCE_T975[df], 3)


@pytest.mark.parametrize("df", range(31, 41))
def test_t975_beyond_the_table_is_accurate_to_1e_4(df):
    """Nothing simulated. Beyond 30 degrees of freedom the Cornish-Fisher expansion is within 1e-4
    of the reference (the docstring promises 1e-3)."""
    assert abs(t975(df) - REFERENCE_T975[df]) <= 1e-4


def test_t975_needs_a_degree_of_freedom():
    """Nothing simulated."""
    with pytest.raises(ValueError):
        t975(0)


# --------------------------------------------------------------------------------------------
# summarize
# --------------------------------------------------------------------------------------------


def test_summarize_three_samples():
    """Nothing simulated. 1, 2, 3: mean 2, sample std 1, half-width t_{0.975,2} / sqrt(3)."""
    stats = summarize([1.0, 2.0, 3.0])
    half = round(REFERENCE_T975[2], 3) / math.sqrt(3)
    assert (stats.n, stats.mean, stats.std, stats.samples) == (3, 2.0, 1.0, (1.0, 2.0, 3.0))
    assert stats.ci95_half_width == pytest.approx(half, rel=1e-12)
    assert stats.ci95_low == pytest.approx(2.0 - half, rel=1e-12)
    assert stats.ci95_high == pytest.approx(2.0 + half, rel=1e-12)
    assert stats.relative_half_width == pytest.approx(half / 2.0, rel=1e-12)


def test_summarize_uses_the_sample_standard_deviation():
    """Nothing simulated. 2, 4, 4, 4, 5, 5, 7, 9: squared deviations from the mean 5 sum to 32, so
    the sample std is sqrt(32/7) (the population std, sqrt(32/8) = 2, would be wrong), and the
    half-width is t_{0.975,7} sqrt(32/7) / sqrt(8)."""
    stats = summarize((2, 4, 4, 4, 5, 5, 7, 9))
    assert stats.n == 8 and stats.mean == 5.0
    assert stats.std == pytest.approx(math.sqrt(32 / 7), rel=1e-12)
    half = round(REFERENCE_T975[7], 3) * math.sqrt(32 / 7) / math.sqrt(8)
    assert stats.ci95_half_width == pytest.approx(half, rel=1e-12)
    assert (stats.ci95_low + stats.ci95_high) / 2 == pytest.approx(5.0, rel=1e-12)


def test_summarize_one_sample_has_no_interval_and_equal_samples_a_zero_one():
    """Nothing simulated."""
    single = summarize([4.5])
    assert single == Stats(1, 4.5, 0.0, None, None, None, (4.5,))
    assert single.relative_half_width is None
    same = summarize([3.0, 3.0, 3.0])
    assert same.std == 0.0 and same.ci95_half_width == 0.0 and same.relative_half_width == 0.0
    assert summarize([-1.0, 1.0]).relative_half_width is None  # mean 0


@pytest.mark.parametrize("bad", [[], [1.0, math.nan], [math.inf, 1.0]])
def test_summarize_refuses_no_samples_or_non_finite_ones(bad):
    """Nothing simulated."""
    with pytest.raises(ValueError):
        summarize(bad)


def test_stats_json_form_round_trips():
    """Nothing simulated."""
    stats = summarize([1.0, 2.5, 4.0])
    data = stats.to_dict()
    assert data["samples"] == [1.0, 2.5, 4.0]
    assert Stats.from_dict(data) == stats


# --------------------------------------------------------------------------------------------
# difference (text generation: decode = full generation - prefill)
# --------------------------------------------------------------------------------------------


def test_difference_subtracts_means_and_combines_errors_in_quadrature():
    """Nothing simulated. a = 10, 12, 14 (mean 12, std 2), b = 1, 2, 3 (mean 2, std 1): a - b has
    mean 10, std sqrt(2^2 + 1^2) = sqrt(5), half-width sqrt(ha^2 + hb^2) = t sqrt(5) / sqrt(3)
    (not ha + hb = 3 t / sqrt(3)), and the paired differences 9, 10, 11 as samples."""
    a, b = summarize([10.0, 12.0, 14.0]), summarize([1.0, 2.0, 3.0])
    t = round(REFERENCE_T975[2], 3)
    ha, hb = 2 * t / math.sqrt(3), t / math.sqrt(3)
    assert a.ci95_half_width == pytest.approx(ha) and b.ci95_half_width == pytest.approx(hb)

    diff = difference(a, b)
    half = t * math.sqrt(5) / math.sqrt(3)
    assert diff.n == 3 and diff.mean == 10.0
    assert diff.std == pytest.approx(math.sqrt(5), rel=1e-12)
    assert diff.ci95_half_width == pytest.approx(half, rel=1e-12)
    assert diff.ci95_half_width < ha + hb
    assert diff.ci95_low == pytest.approx(10.0 - half, rel=1e-12)
    assert diff.ci95_high == pytest.approx(10.0 + half, rel=1e-12)
    assert diff.samples == (9.0, 10.0, 11.0)
    assert difference(b, a).mean == -10.0  # the order matters: a - b, not b - a


def test_difference_of_series_of_different_lengths_and_without_intervals():
    """Nothing simulated. Samples pair up to the shorter series; without an interval on either
    side the difference has none, but still its mean and std."""
    a, b = summarize([5.0, 7.0, 9.0, 11.0]), summarize([1.0, 2.0, 3.0])
    diff = difference(a, b)
    assert diff.n == 3 and diff.samples == (4.0, 5.0, 6.0) and diff.mean == 8.0 - 2.0
    lone = difference(summarize([6.0]), b)
    assert lone.mean == 4.0 and lone.std == 1.0
    assert (lone.ci95_low, lone.ci95_high, lone.ci95_half_width) == (None, None, None)


# --------------------------------------------------------------------------------------------
# percentile
# --------------------------------------------------------------------------------------------


def test_percentile_interpolates_linearly_between_ranks():
    """Nothing simulated. Of 1, 2, 3, 4 (given unsorted): rank (n - 1) q / 100, interpolated."""
    values = [3.0, 1.0, 4.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 25) == pytest.approx(1.75)
    assert percentile(values, 90) == pytest.approx(3.7)
    assert percentile(values, 100 * 0.6) == pytest.approx(percentile(values, 60))
    assert values == [3.0, 1.0, 4.0, 2.0]  # not sorted in place


def test_percentile_of_one_value_is_that_value():
    """Nothing simulated."""
    for q in (0, 1, 50, 99, 100):
        assert percentile([7.25], q) == 7.25


def test_percentile_matches_numpy_linear_percentiles():
    """Nothing simulated: random data (seeded), against numpy's default (linear) percentile."""
    rng = random.Random(11)
    for n in (2, 3, 10, 101, 1000):
        values = [rng.lognormvariate(0, 1) for _ in range(n)]
        for q in (0, 1, 5, 20, 50, 90, 95, 99, 99.9, 100):
            assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-12)


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], -1), ([1.0, 2.0], 100.5)])
def test_percentile_refuses_no_values_and_q_out_of_range(values, q):
    """Nothing simulated."""
    with pytest.raises(ValueError):
        percentile(values, q)
