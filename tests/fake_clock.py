"""A simulated monotonic clock for code that takes ``clock`` and ``sleep`` callables.

Time moves only when something sleeps, and every sleep is recorded, so backoffs and throttles
are checked exactly instead of being waited out.
"""

from __future__ import annotations


class FakeClock:
    """Call it for the time; pass :meth:`sleep` as the sleep function; read :attr:`sleeps`."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
