"""Clocks for tests.

:class:`FakeClock`: a simulated monotonic clock for code that takes ``clock`` and ``sleep``
callables. Time moves only when something sleeps, and every sleep is recorded, so backoffs and
throttles are checked exactly instead of being waited out.

:class:`CPUClock`: this process's CPU time, for the meter when real work runs inside its windows
(a CLI measurement): other processes' load cannot stretch a window, and ``sleep`` costs no time.
"""

from __future__ import annotations

import threading
import time


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


class CPUClock:
    """This process's CPU time as the meter's clock; ``sleep`` moves it without waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.process_time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += max(0.0, seconds)

    def wait_until(self, deadline: float, stop: threading.Event) -> bool:
        """The power sampler's wait: until this clock reads ``deadline`` or ``stop`` is set."""
        while self() < deadline:
            if stop.wait(0.01):
                return False
        return True
