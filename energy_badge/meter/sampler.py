"""The cross-check of each energy window: NVML's instantaneous power, sampled in a background thread.

The energy counter Zeus reads is one source; the GPU's instantaneous power
(``NVML_FI_DEV_POWER_INSTANT``, or the averaged ``nvmlDeviceGetPowerUsage`` where the field is
not supported) is another. :class:`PowerSampler` reads the power (and the counter, to see how
often it updates) every ``sample_interval_s`` of the meter's :class:`~energy_badge.meter.records.
Clock` while a window is open; :func:`cross_check` integrates the samples over the window
(trapezoids) and compares the result with the counter's energy.

The bound: the two agree when they differ by at most :data:`CROSSCHECK_REL_BOUND` of the sampled
energy, plus two counter updates' worth of energy at the window's mean power (the counter reads
at the window's ends are each up to one update old), plus the energy of the time the counter
reads themselves took. With fewer than :data:`CROSSCHECK_MIN_SAMPLES` samples inside the window,
or a gap of more than :data:`CROSSCHECK_MAX_GAP` periods between two, the verdict is
``inconclusive``: sparse samples cannot judge a window (power sampling sees only part of the
runtime; the counter is the better source, which is why it makes the figure).

Time: the sampler timestamps its samples with the meter's clock and waits on it through
``clock.wait_until(deadline, stop)`` where the clock has one (the real clock's is
``Event.wait``; a simulated clock wakes the sampler at exact simulated times), otherwise in
short real-time steps. A sampling error (an NVML error in the thread) ends the sampling quietly:
the window's cross-check is then inconclusive, and the error, if lasting, surfaces in Zeus's read.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from energy_badge.meter.records import Clock, CrossCheck, Verdict

__all__ = [
    "CROSSCHECK_MAX_GAP",
    "CROSSCHECK_MIN_SAMPLES",
    "CROSSCHECK_REL_BOUND",
    "PowerSample",
    "PowerSampler",
    "cross_check",
]

logger = logging.getLogger(__name__)

#: Relative part of the bound: 10 % of the energy integrated from the sampled power.
CROSSCHECK_REL_BOUND = 0.10
#: Fewest samples inside a window for a verdict.
CROSSCHECK_MIN_SAMPLES = 10
#: Longest gap between two samples, in sampling periods, for a verdict.
CROSSCHECK_MAX_GAP = 5.0
#: Real-time step of the wait on a clock without ``wait_until``.
_FALLBACK_STEP_S = 0.005


@dataclass(frozen=True)
class PowerSample:
    """One reading: time on the meter's clock, power in watts, the energy counter in mJ (None if unread)."""

    t: float
    watts: float
    counter_mj: int | None


class PowerSampler:
    """Samples one GPU's power (and energy counter) in a background thread while a window is open.

    Args:
        read_watts: returns the GPU's power in watts, or None when there is no reading.
        read_counter_mj: returns the energy counter in mJ, or None.
        clock: the meter's clock (timestamps and waits).
        interval_s: the sampling period.
    """

    def __init__(
        self,
        read_watts: Callable[[], float | None],
        read_counter_mj: Callable[[], int | None],
        clock: Clock,
        interval_s: float,
    ) -> None:
        self._read_watts = read_watts
        self._read_counter = read_counter_mj
        self._clock = clock
        self._interval = interval_s
        self._samples: list[PowerSample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed = False

    def start(self) -> None:
        """Take a first sample now, then sample every ``interval_s`` until :meth:`stop`."""
        self._sample()
        self._thread = threading.Thread(target=self._run, name="energy-badge-power-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> list[PowerSample]:
        """Stop sampling, take a last sample now, and return every sample in time order."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        with self._lock:
            ordered = sorted(self._samples, key=lambda s: s.t)
        # One sample per instant: the thread's last tick and this last read can share a time.
        tick = self._interval / 100
        return [
            s
            for s, after in zip(ordered, [*ordered[1:], None][: len(ordered)], strict=True)
            if after is None or after.t - s.t > tick
        ]

    # The thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        start, ticks = self._clock(), 1
        try:
            while not self._failed and self._wait(start + ticks * self._interval):
                self._sample()
                ticks += 1
                behind = (self._clock() - start) / self._interval
                if ticks <= behind:  # fell behind (a slow read): skip the missed ticks
                    ticks = int(behind) + 1
        finally:
            done = threading.Event()
            done.set()
            self._wait(math.inf, done)  # lets a simulated clock forget this waiter

    def _wait(self, deadline: float, stop: threading.Event | None = None) -> bool:
        stop = stop or self._stop
        wait_until = getattr(self._clock, "wait_until", None)
        if wait_until is not None:
            return bool(wait_until(deadline, stop))
        if stop.is_set():
            return False
        return not stop.wait(_FALLBACK_STEP_S)

    def _sample(self) -> None:
        if self._failed:
            return
        try:
            watts = self._read_watts()
            counter = self._read_counter()
        except Exception as error:  # an NVML error: the window's check becomes inconclusive
            logger.info("power sampling stopped: %s", error)
            self._failed = True
            return
        t = self._clock()
        if watts is not None and watts > 0:
            with self._lock:
                self._samples.append(PowerSample(t, float(watts), counter))


def _integral(samples: list[PowerSample], lo: float, hi: float) -> tuple[float, int, float]:
    """Trapezoidal integral of power over [lo, hi] (the ends interpolated), samples inside, largest gap."""
    points = [(s.t, s.watts) for s in samples]
    inside = [(t, w) for t, w in points if lo <= t <= hi]

    def at(x: float) -> float:
        before = [p for p in points if p[0] <= x]
        after = [p for p in points if p[0] >= x]
        if not before:
            return after[0][1]
        if not after:
            return before[-1][1]
        (t0, w0), (t1, w1) = before[-1], after[0]
        return w0 if t1 == t0 else w0 + (w1 - w0) * (x - t0) / (t1 - t0)

    curve = [(lo, at(lo)), *[p for p in inside if lo < p[0] < hi], (hi, at(hi))]
    energy = math.fsum((t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in pairwise(curve))
    times = [lo, *[t for t, _ in inside], hi]
    gap = max((b - a for a, b in pairwise(times)), default=hi - lo)
    return energy, len(inside), gap


def _update_period(samples: list[PowerSample]) -> float | None:
    changes = [
        b.t
        for a, b in pairwise(samples)
        if a.counter_mj is not None and b.counter_mj is not None and b.counter_mj != a.counter_mj
    ]
    intervals = [b - a for a, b in pairwise(changes) if b > a]
    return statistics.median(intervals) if len(intervals) >= 2 else None


def cross_check(
    samples: list[PowerSample],
    counter_j: float,
    window: tuple[float, float],
    read_slack_s: float,
    interval_s: float,
) -> CrossCheck:
    """Judge one window: the counter's energy against the integral of the sampled power.

    Args:
        samples: the sampler's readings (from :meth:`PowerSampler.stop`).
        counter_j: the window's energy from the counter (Zeus's figure).
        window: the window's start and end on the meter's clock (the middle of each counter read).
        read_slack_s: how long the two counter reads took together (their time is uncertain).
        interval_s: the sampler's period.

    Returns:
        The :class:`~energy_badge.meter.records.CrossCheck`.
    """
    lo, hi = window
    counter_period = _update_period(samples)
    if len(samples) < 2 or hi <= lo:
        return CrossCheck(None, len(samples), interval_s, hi - lo, counter_period, None, "inconclusive")
    energy, inside, gap = _integral(samples, lo, hi)
    if inside < CROSSCHECK_MIN_SAMPLES or gap > CROSSCHECK_MAX_GAP * interval_s:
        return CrossCheck(energy, inside, interval_s, gap, counter_period, None, "inconclusive")
    mean_w = energy / (hi - lo)
    bound = CROSSCHECK_REL_BOUND * energy + (2 * (counter_period or interval_s) + read_slack_s) * mean_w
    verdict: Verdict = "agree" if abs(counter_j - energy) <= bound else "disagree"
    return CrossCheck(energy, inside, interval_s, gap, counter_period, bound, verdict)
