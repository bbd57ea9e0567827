"""Coverage of the meter's 95 % intervals under its own stopping rule, and what the rule costs.

Drives the real measurement loop (``energy_badge.meter.loop.BaseMeter.measure``, with the stop
rule, outlier guard and drift check of ``energy_badge.meter.rule``) many thousand times per case,
with simulated windows in place of Zeus's: each window's GPU energy is drawn from the case's
model, so the truth is known. Nothing else is simulated; the clock is a trivial simulated one.

Cases (Wh per 1000 queries, truth 1.0 unless said):

* ``0.2 % noise``, ``1 % noise``, ``3 % noise``: independent normal run-to-run noise.
* ``outlier``: 0.5 % noise, and one of the first three windows reads 10 % high (a corrupted
  repetition).
* ``drift``: 0.2 % noise, each window 0.3 % above the one before, the GPU 1 °C warmer after each
  (a GPU still warming up); the truth is the mean over the whole budget of ``max_repetitions``
  windows, which is what a drifting run can honestly report.

For each case: the coverage (share of runs whose interval holds the truth, with its Monte-Carlo
standard error), the mean number of windows run (the cost, in repetitions' worth of time), and
how often the target was met, a repetition dropped, a drift detected.

``--rule landed`` runs the rule as it was before issue 12 instead (a few lines below: stop at
``min_repetitions`` or later once the t half-width is within the target, report the t interval,
no guard, no drift check), for the before/after comparison.

Usage::

    python benchmarks/coverage.py [--runs 20000] [--seed 1] [--rule current|landed]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the simulated clock the tests use

from fake_clock import FakeClock  # noqa: E402

from energy_badge.hardware import GPUProcess  # noqa: E402
from energy_badge.meter import Drift, DroppedRepetition, MeterConfig, Repetition, StopOutcome  # noqa: E402
from energy_badge.meter.loop import BaseMeter, IsolationCheck, Window  # noqa: E402
from energy_badge.meter.rule import Decision  # noqa: E402
from energy_badge.stats import Stats, summarize  # noqa: E402

#: One window of a case: (Wh per 1000 queries, GPU temperature after it), from its 0-based number.
Draw = Callable[[int], tuple[float, float]]
QUERIES = 1000
NO_DRIFT = Drift(False, None, None, None, None)


class _Clock(FakeClock):
    """Simulated time from 0 (the tests' clock): moves only when something sleeps."""

    def __init__(self) -> None:
        super().__init__(start=0.0)


class SimulatedMeter(BaseMeter):
    """The real loop, with each window's energy and temperature drawn from a case."""

    energy_source = "simulated"

    def __init__(self, config: MeterConfig) -> None:
        self.config = config
        self.clock = _Clock()
        self.draw: Draw = lambda i: (1.0, 40.0)
        self._window = 0
        self._temperature_now = 40.0

    def run(self, draw: Draw) -> object:
        """One measurement of a case; returns the phase."""
        self.draw, self._window = draw, 0
        clock, window = self.clock, self.config.min_window_s
        return self.measure(lambda: clock.sleep(window), QUERIES, warmup=lambda: None, measure_idle=False)

    def _begin(self, key: str, what: str) -> None:
        pass

    def _end(self, key: str, what: str) -> Window:
        value, self._temperature_now = self.draw(self._window)
        self._window += 1
        return Window(gpu_j=value * QUERIES / 1000 * 3600)  # Wh per 1000 queries -> joules

    def _temperature(self, what: str) -> float | None:
        return self._temperature_now

    def _isolation(self, what: str, seen: dict[int, GPUProcess]) -> IsolationCheck:
        return IsolationCheck(checked=True)


class LandedMeter(SimulatedMeter):
    """The rule before issue 12, for the "before" table: t interval, no guard, no drift check."""

    def _guard(self, kept: list[Repetition], dropped: list[DroppedRepetition], windows: int) -> None:
        pass

    def _decide(self, kept: Sequence[Repetition], windows: int, drifted: Drift | None) -> Decision:
        values = [r.wh_per_1k or 0.0 for r in kept]
        if len(values) >= max(2, self.config.min_repetitions):
            relative = summarize(values).relative_half_width
            if relative is not None and relative <= self.config.target_ci_rel:
                return Decision("ci_target_met", NO_DRIFT)
        return Decision("max_repetitions" if windows >= self.config.max_repetitions else None, NO_DRIFT)

    def _outcome(
        self, kept: Sequence[Repetition], decision: Decision
    ) -> tuple[Stats | None, StopOutcome | None]:
        stats = summarize([r.wh_per_1k or 0.0 for r in kept])
        target = (stats.relative_half_width or 0.0) <= self.config.target_ci_rel
        return stats, StopOutcome("landed", target, "t", stats.ci95_half_width, NO_DRIFT)


@dataclass(frozen=True)
class Case:
    """A noise model and its truth."""

    name: str
    make: Callable[[random.Random], Draw]
    truth: float = 1.0


def _noise(sigma: float) -> Callable[[random.Random], Draw]:
    return lambda rng: lambda i: (1.0 + rng.gauss(0.0, sigma), 40.0)


def _outlier(rng: random.Random) -> Draw:
    position = rng.randrange(3)
    return lambda i: (1.0 + rng.gauss(0.0, 0.005) + (0.10 if i == position else 0.0), 40.0)


DRIFT_PER_WINDOW = 0.003


def _drift(rng: random.Random) -> Draw:
    return lambda i: (1.0 + DRIFT_PER_WINDOW * i + rng.gauss(0.0, 0.002), 40.0 + i)


def cases(config: MeterConfig) -> list[Case]:
    """The benchmark's cases for a configuration (the drift's truth depends on its budget)."""
    return [
        Case("0.2 % noise", _noise(0.002)),
        Case("1 % noise", _noise(0.01)),
        Case("3 % noise", _noise(0.03)),
        Case("outlier", _outlier),
        Case("drift", _drift, 1.0 + DRIFT_PER_WINDOW * (config.max_repetitions - 1) / 2),
    ]


@dataclass
class Tally:
    """What a case's runs gave."""

    runs: int = 0
    covered: int = 0
    windows: int = 0
    met: int = 0
    dropped: int = 0
    drift: int = 0

    def line(self, name: str) -> str:
        n = self.runs
        coverage = self.covered / n
        se = math.sqrt(coverage * (1 - coverage) / n)
        return (
            f"{name:<12} {coverage:8.3f} ± {se:.3f} {self.windows / n:9.2f} {self.met / n:9.2f} "
            f"{self.dropped / n:8.3f} {self.drift / n:7.2f}"
        )


def simulate(case: Case, meter: SimulatedMeter, runs: int, seed: int) -> Tally:
    """Run ``case`` ``runs`` times through the meter's loop."""
    rng = random.Random(seed)
    tally = Tally()
    for _ in range(runs):
        phase = meter.run(case.make(rng))
        stats, outcome = phase.gpu_wh_per_1k, phase.outcome  # type: ignore[attr-defined]
        assert stats is not None and outcome is not None and stats.ci95_half_width is not None
        tally.runs += 1
        tally.covered += abs(stats.mean - case.truth) <= stats.ci95_half_width
        tally.windows += len(phase.repetitions) + len(phase.dropped)  # type: ignore[attr-defined]
        tally.met += outcome.target_met
        tally.dropped += bool(phase.dropped)  # type: ignore[attr-defined]
        tally.drift += outcome.drift.detected
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20000, help="simulated measurements per case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rule", choices=("current", "landed"), default="current")
    args = parser.parse_args(argv)
    config = MeterConfig()  # the defaults: 3 to 10 repetitions, 1 % target
    meter = (SimulatedMeter if args.rule == "current" else LandedMeter)(config)
    print(
        f"rule: {args.rule}; min {config.min_repetitions}, max {config.max_repetitions} repetitions, "
        f"target ±{100 * config.target_ci_rel:g} %; {args.runs} runs per case"
    )
    print(f"{'case':<12} {'coverage':>16} {'windows':>9} {'target':>9} {'dropped':>8} {'drift':>7}")
    started = time.perf_counter()
    for number, case in enumerate(cases(config)):
        print(simulate(case, meter, args.runs, args.seed + number).line(case.name), flush=True)
    print(f"({time.perf_counter() - started:.0f} s; windows: mean repetitions run, dropped ones included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
