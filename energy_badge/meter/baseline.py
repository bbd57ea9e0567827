"""The idle baseline, reused between measurements on one GPU within a time limit (bulk runs).

The idle sample (``idle_seconds`` of nothing, before the warm-up) is recorded as context, never
subtracted from a figure. A bulk run measures model after model on the same GPU, and a fresh
5 s sample before each costs 5 s of GPU time per badge (about a seventh of a text classifier's
whole measurement). With ``MeterConfig.idle_reuse_s`` above 0, an energy meter reuses the
newest idle sample taken in this process on the same GPU, under the same power limit and on the
same clock, when it is at most that many seconds old. The reused sample is recorded with its age
(:attr:`~energy_badge.meter.records.IdleSample.age_s`), so every reader sees it was not taken for
this measurement. ``measure`` never reuses (its default is 0); ``bulk`` and the service reuse for
600 s by default (``--idle-reuse``).

Every sample an energy meter takes is offered to the store, so a run that does not reuse still
seeds it for one that does. Samples live in memory only, one per GPU: nothing crosses processes.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

from energy_badge.meter.records import Clock, IdleSample

__all__ = ["DEFAULT_IDLE_REUSE_S", "IdleBaselines", "IdleKey", "default_baselines"]

#: How old a reused idle sample may be in ``bulk`` and the service, by default (seconds).
DEFAULT_IDLE_REUSE_S = 600.0


@dataclass(frozen=True)
class IdleKey:
    """What an idle sample must share with a measurement to stand for it.

    Attributes:
        gpu_uuid: the GPU's UUID (samples of a GPU without one are never reused).
        power_limit_w: the enforced power limit when it was taken (None if NVML did not say).
    """

    gpu_uuid: str
    power_limit_w: float | None


@dataclass(frozen=True)
class _Entry:
    sample: IdleSample
    clock: Clock
    taken_at: float  # on ``clock``


class IdleBaselines:
    """The newest idle sample per GPU, for meters of this process (thread-safe)."""

    def __init__(self) -> None:
        self._entries: dict[IdleKey, _Entry] = {}
        self._lock = threading.Lock()

    def put(self, key: IdleKey, sample: IdleSample, clock: Clock) -> None:
        """Keep ``sample``, just taken on ``clock``, as the GPU's newest (a reused one is ignored)."""
        if sample.age_s is not None:
            return
        with self._lock:
            self._entries[key] = _Entry(sample, clock, clock())

    def get(self, key: IdleKey, clock: Clock, max_age_s: float) -> IdleSample | None:
        """The GPU's newest sample, its ``age_s`` set, when taken on ``clock`` at most ``max_age_s`` ago.

        Args:
            key: the GPU and its power limit now.
            clock: the asking meter's clock (a sample timed on another clock is never reused).
            max_age_s: the oldest sample to reuse, in seconds (0 or less: none).

        Returns:
            The sample as it is to be recorded (its ``age_s`` the seconds since it was taken),
            or None when there is none fit to reuse.
        """
        if max_age_s <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.clock is not clock:
            return None
        age = clock() - entry.taken_at
        if not 0 <= age <= max_age_s:
            return None
        return dataclasses.replace(entry.sample, age_s=age)

    def clear(self) -> None:
        """Forget every sample."""
        with self._lock:
            self._entries.clear()


_DEFAULT = IdleBaselines()


def default_baselines() -> IdleBaselines:
    """The store every :class:`~energy_badge.meter.energy.EnergyMeter` of this process shares."""
    return _DEFAULT
