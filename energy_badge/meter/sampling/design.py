"""The sampled protocol's design: the workload cut into strata by cost, and each stratum's
seeded sampling order (:func:`stratify`, :class:`Design`; the rules in
:mod:`energy_badge.meter.sampling`)."""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from energy_badge.errors import UsageError

__all__ = ["DEFAULT_STRATA", "Design", "Stratum", "stratify"]

#: Strata the workload is cut into (by the cost proxy).
DEFAULT_STRATA = 20


@dataclass(frozen=True)
class Stratum:
    """One stratum of the workload, as the result records it.

    Attributes:
        low, high: the cost proxy's range over the stratum's queries.
        size: queries in the stratum (``N_h``).
        sampled: queries of it measured (``n_h``).
    """

    low: float
    high: float
    size: int
    sampled: int


@dataclass(frozen=True)
class Design:
    """The strata of a workload and the seeded order in which each is sampled.

    Attributes:
        population: queries in the workload (``N``).
        proxy: what the cost proxy is (``input_tokens``, ``image_pixels``, ``clip_seconds``).
        seed: the seed of the sample's order (recorded, so the sample can be drawn again).
        strata: each stratum's query indices, in their sampling order.
        bounds: each stratum's (lowest, highest) proxy value.
    """

    population: int
    proxy: str
    seed: int
    strata: tuple[tuple[int, ...], ...]
    bounds: tuple[tuple[float, float], ...]

    def allocation(self, n: int) -> tuple[int, ...]:
        """Queries per stratum for a sample of ``n`` (clamped to ``[2 per stratum, N]``).

        At least two per stratum (a variance needs two), then one query at a time to the stratum
        with the largest ``N_h / (n_h + 1/2)`` (Sainte-Laguë's divisor): proportional to
        ``N_h`` up to rounding, and a larger ``n`` never takes a query from a stratum.
        """
        return _allocate(tuple(len(s) for s in self.strata), min(n, self.population))

    def sample(self, n: int) -> tuple[int, ...]:
        """The query indices of a sample of ``n`` (sorted); nested: ``sample(n) ⊆ sample(m)`` for n ≤ m."""
        return tuple(sorted(i for s, k in zip(self.strata, self.allocation(n), strict=True) for i in s[:k]))

    def grouped(self, n: int) -> tuple[tuple[int, ...], ...]:
        """The sample of ``n`` by stratum: each stratum's sampled indices, sorted."""
        return tuple(tuple(sorted(s[:k])) for s, k in zip(self.strata, self.allocation(n), strict=True))

    def records(self, n: int) -> tuple[Stratum, ...]:
        """The strata as a result records them, for a sample of ``n``."""
        return tuple(
            Stratum(lo, hi, len(s), k)
            for (lo, hi), s, k in zip(self.bounds, self.strata, self.allocation(n), strict=True)
        )


@functools.lru_cache(maxsize=4096)
def _allocate(sizes: tuple[int, ...], n: int) -> tuple[int, ...]:
    """Sainte-Laguë allocation of ``n`` queries to strata of ``sizes``, two each at least."""
    counts = [min(2, size) for size in sizes]
    n = max(sum(counts), n)
    while sum(counts) < n:
        best = max(
            (h for h in range(len(sizes)) if counts[h] < sizes[h]),
            key=lambda h: (sizes[h] / (counts[h] + 0.5), -h),
        )
        counts[best] += 1
    return tuple(counts)


def stratify(proxy: Sequence[float], *, seed: int, proxy_name: str, strata: int = DEFAULT_STRATA) -> Design:
    """Cut a workload into strata of nearly equal size by its per-query cost proxy.

    Args:
        proxy: one cost proxy value per query, in workload order.
        seed: seeds each stratum's sampling order (stratum ``h`` uses ``seed * 1000003 + h``).
        proxy_name: what the proxy is, recorded.
        strata: how many strata (fewer when the workload has fewer than two queries per stratum).

    Returns:
        The :class:`Design`.

    Raises:
        UsageError: no queries, a non-finite proxy value, or fewer than one stratum.
    """
    n = len(proxy)
    if n == 0:
        raise UsageError("the workload has no queries to sample")
    if strata < 1:
        raise UsageError(f"strata must be at least 1, not {strata}")
    if not all(math.isfinite(v) for v in proxy):
        raise UsageError("the cost proxy must be finite for every query")
    h_count = max(1, min(strata, n // 2))
    order = sorted(range(n), key=lambda i: (proxy[i], i))
    cuts = [round(k * n / h_count) for k in range(h_count + 1)]
    groups, bounds = [], []
    for h in range(len(cuts) - 1):
        members = order[cuts[h] : cuts[h + 1]]
        bounds.append((float(proxy[members[0]]), float(proxy[members[-1]])))
        shuffled = sorted(members)
        random.Random(seed * 1000003 + h).shuffle(shuffled)
        groups.append(tuple(shuffled))
    return Design(n, proxy_name, seed, tuple(groups), tuple(bounds))
