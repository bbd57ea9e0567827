"""Summary statistics with a 95 % confidence interval (Student's t), standard library only."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

# Two-sided 95 % quantiles of Student's t distribution, t_{0.975, df}, for df = 1..30.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t975(df: int) -> float:
    """Return the two-sided 95 % Student's t quantile for ``df`` degrees of freedom.

    Args:
        df: degrees of freedom, at least 1.

    Returns:
        The quantile; beyond 30 degrees of freedom a Cornish-Fisher expansion of the
        normal quantile, accurate to 1e-3.

    Raises:
        ValueError: if ``df`` is below 1.
    """
    if df < 1:
        raise ValueError("a confidence interval needs at least two samples")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Stats:
    """Summary of repeated measurements of one quantity.

    Attributes:
        n: number of samples.
        mean: arithmetic mean.
        std: sample standard deviation (n - 1 in the denominator); 0 for a single sample.
        ci95_low: lower end of the 95 % confidence interval of the mean (None for n < 2).
        ci95_high: upper end (None for n < 2).
        ci95_half_width: half the interval's width (None for n < 2).
        samples: the raw samples, in order.
    """

    n: int
    mean: float
    std: float
    ci95_low: float | None
    ci95_high: float | None
    ci95_half_width: float | None
    samples: tuple[float, ...]

    @property
    def relative_half_width(self) -> float | None:
        """The interval's half-width as a fraction of the mean (None when undefined)."""
        if self.ci95_half_width is None or self.mean == 0:
            return None
        return self.ci95_half_width / abs(self.mean)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used in result files."""
        data = asdict(self)
        data["samples"] = list(self.samples)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stats:
        """Build from the JSON form written by :meth:`to_dict`."""
        return cls(**{**data, "samples": tuple(data["samples"])})


def summarize(samples: Sequence[float]) -> Stats:
    """Summarize samples: mean, sample standard deviation and a t-based 95 % interval.

    Args:
        samples: at least one finite number.

    Returns:
        The :class:`Stats` of the samples.

    Raises:
        ValueError: if there are no samples or one is not finite.
    """
    values = tuple(float(v) for v in samples)
    if not values:
        raise ValueError("no samples to summarize")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("samples must be finite numbers")
    n = len(values)
    mean = math.fsum(values) / n
    if n == 1:
        return Stats(n, mean, 0.0, None, None, None, values)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t975(n - 1) * std / math.sqrt(n)
    return Stats(n, mean, std, mean - half, mean + half, half, values)


def difference(a: Stats, b: Stats) -> Stats:
    """Summarize ``a - b`` for two independently measured quantities.

    The mean is the difference of means; the interval's half-width combines both half-widths in
    quadrature (independent errors), and the samples are the differences of the paired samples
    (in order, as many as the shorter series has).

    Args:
        a: the minuend, e.g. energy of full generation.
        b: the subtrahend, e.g. energy of the prefill alone.

    Returns:
        The :class:`Stats` of the difference.
    """
    n = min(a.n, b.n)
    samples = tuple(x - y for x, y in zip(a.samples, b.samples, strict=False))
    mean = a.mean - b.mean
    std = math.sqrt(a.std**2 + b.std**2)
    if a.ci95_half_width is None or b.ci95_half_width is None:
        return Stats(n, mean, std, None, None, None, samples)
    half = math.hypot(a.ci95_half_width, b.ci95_half_width)
    return Stats(n, mean, std, mean - half, mean + half, half, samples)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) of ``values`` with linear interpolation.

    The ``inclusive`` method of :func:`statistics.quantiles`: the value at rank
    ``(len(values) - 1) * q / 100`` of the sorted values, interpolated linearly between neighbours
    (numpy's default). ``q`` is taken to 1/10000 of a percentage point.

    Args:
        values: at least one number.
        q: the percentile, from 0 (the smallest value) to 100 (the largest).

    Returns:
        The percentile; the value itself when there is only one.

    Raises:
        ValueError: if ``values`` is empty or ``q`` is outside 0-100.
    """
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {q}")
    share = Fraction(q).limit_denominator(10_000) / 100
    if share == 0:
        return min(values)
    if share == 1 or len(values) == 1:
        return max(values)
    cuts = statistics.quantiles(values, n=share.denominator, method="inclusive")
    return cuts[share.numerator - 1]
