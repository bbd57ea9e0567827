"""Physically possible results: the one check of what a result's numbers say together.

The schema checks each number's form (finite, the right sign); this module checks that the
numbers describe something a GPU can do, on every result read (:func:`~energy_badge.result.
decode_result`) and written (:func:`~energy_badge.result.write_result`). So a forged or corrupted
file is refused by ``validate`` and by every command that reads a result (rate, badge, card,
publish, compare, bulk, the service, the action) before a figure reaches a badge or a card:

* **Energy above zero.** The headline ``energy.gpu`` mean (and text generation's prefill mean),
  and every GPU energy measured in a window: each kept, dropped and prefill repetition's and the
  idle sample's.
* **Power a GPU can draw.** Each window's mean GPU power (its ``gpu_energy_j / seconds``; the idle
  sample's recorded ``gpu_power_w`` too) lies between :data:`MIN_GPU_POWER_W` per GPU (no GPU
  draws less, even idle: an H100 idles near 70 W, a T4 near 10 W, a laptop GPU at a few W; a
  zero or a thousandth of a watt is a forged or broken file) and
  :data:`POWER_LIMIT_MARGIN` times the sum of the measured GPUs' recorded power limits (the mean
  over a window of seconds stays at or under the limit; the margin covers limits changed during a
  run). A GPU whose limit is not recorded counts :data:`MAX_GPU_POWER_W`.
* **A headline the repetitions give.** ``energy.gpu`` is recomputed from the kept repetitions
  (``gpu_energy_j / queries * 1000 / 3600`` each): the same n, samples, mean and standard
  deviation, and the interval the stop rule reports (:mod:`energy_badge.meter.rule`): the mean
  +- ``target_ci_rel`` of the mean after an early stop (``stop.interval == "target"``), otherwise
  Student's t interval (also for 1.0 files, which record no stop outcome). Text generation's
  ``prefill_gpu`` is recomputed the same way from the prefill repetitions, and ``decode_gpu`` is
  ``gpu - prefill_gpu`` with the half-widths in quadrature (:func:`energy_badge.stats.difference`).
  Numbers agree when they differ by at most :data:`RELATIVE_TOLERANCE` of the mean (JSON keeps
  a float's 17 digits, so only a changed number differs by more). A sampled-protocol result's
  headline is an estimate of the full workload's from a sample (:mod:`energy_badge.meter.
  sampling`), not its repetitions' mean: its windows are checked, its headline is not recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from energy_badge.errors import InvalidFileError
from energy_badge.meter import Repetition, StopOutcome
from energy_badge.stats import Stats, difference, summarize

if TYPE_CHECKING:
    from energy_badge.result.model import EnergyResult

__all__ = [
    "MAX_GPU_POWER_W",
    "MIN_GPU_POWER_W",
    "POWER_LIMIT_MARGIN",
    "RELATIVE_TOLERANCE",
    "check_physical",
    "physical_problems",
]

#: The least mean power a window may show, per GPU, in watts.
MIN_GPU_POWER_W = 1.0
#: How far above the recorded power limits a window's mean power may be.
POWER_LIMIT_MARGIN = 1.2
#: The power limit counted for a GPU whose limit is not recorded (no GPU sold draws this much).
MAX_GPU_POWER_W = 2000.0
#: The most a recomputed figure may differ from the recorded one, as a fraction of the mean.
RELATIVE_TOLERANCE = 1e-6

_STATS_FIELDS = ("mean", "std", "ci95_low", "ci95_high", "ci95_half_width")


def _g(value: float) -> str:
    return f"{value:.6g}"


def _power_bounds(result: EnergyResult) -> tuple[float, float, str]:
    """(floor, ceiling, what the ceiling is) of a window's mean GPU power for this result."""
    gpus = result.hardware.gpus
    count = max(1, len(gpus))
    limits = [g.power_limit_w if g.power_limit_w is not None else MAX_GPU_POWER_W for g in gpus]
    if not limits:
        limits = [MAX_GPU_POWER_W]
    total = math.fsum(limits)
    if all(g.power_limit_w is not None for g in gpus) and gpus:
        plural = "s" if len(gpus) > 1 else ""
        what = f"{POWER_LIMIT_MARGIN:g} x the recorded power limit{plural} of {_g(total)} W"
    else:
        what = f"{POWER_LIMIT_MARGIN:g} x {_g(total)} W, as no power limit is recorded"
    return MIN_GPU_POWER_W * count, POWER_LIMIT_MARGIN * total, what


def _window_problems(
    path: str, energy_j: float | None, seconds: float, bounds: tuple[float, float, str]
) -> list[str]:
    if energy_j is None:
        return []
    if energy_j <= 0:
        return [f"{path}.gpu_energy_j: {_g(energy_j)} J; a GPU's energy over a window is above zero"]
    if seconds <= 0:
        return [f"{path}.seconds: {_g(seconds)} s; a window that measured energy lasts some time"]
    return _power_problems(f"{path}: mean GPU power", energy_j / seconds, bounds)


def _power_problems(what: str, power_w: float, bounds: tuple[float, float, str]) -> list[str]:
    floor, ceiling, ceiling_text = bounds
    if power_w < floor:
        return [f"{what} {_g(power_w)} W is below {_g(floor)} W, less than any GPU draws"]
    if power_w > ceiling:
        return [f"{what} {_g(power_w)} W is above {_g(ceiling)} W ({ceiling_text})"]
    return []


def _expected(
    repetitions: Sequence[Repetition], outcome: StopOutcome | None, target_rel: float
) -> Stats | None:
    """The figure the stop rule reports for these kept repetitions (None: a repetition has no energy)."""
    values = [r.wh_per_1k for r in repetitions]
    present = [v for v in values if v is not None]
    if not present or len(present) != len(values):
        return None
    stats = summarize(present)
    if outcome is not None and outcome.interval == "target":
        half = target_rel * abs(stats.mean)
        low, high = stats.mean - half, stats.mean + half
        stats = Stats(stats.n, stats.mean, stats.std, low, high, half, stats.samples)
    return stats


def _stats_problems(path: str, recorded: Stats, expected: Stats | None, source: str) -> list[str]:
    """Where a recorded figure differs from the one recomputed from ``source``."""
    if expected is None:
        return [f"{path}: the figure has no repetitions with GPU energy behind it ({source})"]
    if recorded.n != expected.n or len(recorded.samples) != expected.n:
        return [
            f"{path}.n: {recorded.n} with {len(recorded.samples)} samples, but there are "
            f"{expected.n} {source}"
        ]
    scale = abs(expected.mean) or 1.0

    def differs(a: float | None, b: float | None) -> bool:
        if a is None or b is None:
            return a is not b
        return abs(a - b) > RELATIVE_TOLERANCE * max(scale, abs(a), abs(b))

    for i, (a, b) in enumerate(zip(recorded.samples, expected.samples, strict=True)):
        if differs(a, b):
            return [f"{path}.samples[{i}]: {_g(a)}, but the {source} give {_g(b)}"]
    for name in _STATS_FIELDS:
        a, b = getattr(recorded, name), getattr(expected, name)
        if differs(a, b):
            shown = "null" if a is None else _g(a)
            return [f"{path}.{name}: {shown}, but the {source} give {'null' if b is None else _g(b)}"]
    return []


def physical_problems(result: EnergyResult) -> list[str]:
    """Why a result describes something no GPU can do (empty: nothing), each with its JSON path.

    Args:
        result: the result (already valid against the schema).

    Returns:
        One ``"<json path>: <problem>"`` line per problem (see the module docstring).
    """
    problems: list[str] = []
    bounds = _power_bounds(result)
    m, energy = result.measurement, result.energy
    if m.idle is not None:
        idle = m.idle
        problems += _window_problems("$.measurement.idle", idle.gpu_energy_j, idle.seconds, bounds)
        if idle.gpu_power_w is not None and idle.gpu_energy_j is not None:
            problems += _power_problems("$.measurement.idle.gpu_power_w:", idle.gpu_power_w, bounds)
    phases = [("$.measurement", m.repetitions, m.dropped)]
    if m.prefill is not None:
        phases.append(("$.measurement.prefill", m.prefill.repetitions, m.prefill.dropped))
    for base, kept, dropped in phases:
        for i, rep in enumerate(kept):
            problems += _window_problems(f"{base}.repetitions[{i}]", rep.gpu_energy_j, rep.seconds, bounds)
        for i, drop in enumerate(dropped):
            rep = drop.repetition
            path = f"{base}.dropped[{i}].repetition"
            problems += _window_problems(path, rep.gpu_energy_j, rep.seconds, bounds)
    if getattr(m, "protocol", None) == "sampled":
        return problems  # the headline is an estimate of the full workload's (energy_badge.meter.sampling)
    target = m.config.target_ci_rel
    figures = [("$.energy.gpu", energy.gpu, m.repetitions, m.outcome, "kept repetitions")]
    if m.prefill is not None:
        prefill = ("$.energy.prefill_gpu", energy.prefill_gpu, m.prefill.repetitions, m.prefill.outcome)
        figures.append((*prefill, "prefill repetitions"))
    for path, recorded, reps, outcome, source in figures:
        if recorded is None:
            continue
        if recorded.mean <= 0:
            problems.append(f"{path}.mean: {_g(recorded.mean)} Wh per 1000 queries; an energy is above zero")
        problems += _stats_problems(path, recorded, _expected(reps, outcome, target), source)
    if energy.decode_gpu is not None:
        if energy.gpu is None or energy.prefill_gpu is None:
            problems.append("$.energy.decode_gpu: a decode figure needs both the full and the prefill figure")
        else:
            expected = difference(energy.gpu, energy.prefill_gpu)
            source = "full and prefill figures"
            problems += _stats_problems("$.energy.decode_gpu", energy.decode_gpu, expected, source)
    return problems


def check_physical(result: EnergyResult, *, source: str = "result") -> None:
    """Refuse a result that describes something no GPU can do.

    Args:
        result: the result.
        source: what to call it in the message (a file name).

    Raises:
        InvalidFileError: as :func:`physical_problems` says (exit 4); the message gives the first
            problem, ``errors`` every one.
    """
    problems = physical_problems(result)
    if problems:
        raise InvalidFileError(f"{source} is not physically possible: {problems[0]}", problems)
