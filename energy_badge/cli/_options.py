"""Options shared by every command that measures (``measure``, ``bulk``, ``serve``, ``worker``).

One definition, so the flags, their defaults and their help read the same everywhere, and one
place (:func:`meter_config`) that turns them into the meter's settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

_MEASUREMENT_OPTIONS = [
    click.option(
        "--no-energy",
        is_flag=True,
        help="Performance only, no energy meter (works on CPU; the result is non-canonical and never "
        "published).",
    ),
    click.option(
        "--queries",
        type=click.IntRange(min=1),
        help="Run only the first N queries (smoke run; non-canonical).",
    ),
    click.option(
        "--device",
        help="torch device [default: cuda:<gpu-index>, or cpu with --no-energy and no CUDA].",
    ),
    click.option(
        "--gpu-index",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="GPU to run on and meter.",
    ),
    click.option(
        "--min-repetitions",
        type=click.IntRange(1, 10),
        default=3,
        show_default=True,
        help="Repetitions of the whole workload, at least.",
    ),
    click.option(
        "--max-repetitions",
        type=click.IntRange(1, 10),
        default=10,
        show_default=True,
        help="Repetitions, at most.",
    ),
    click.option(
        "--target-ci",
        type=click.FloatRange(min=0, min_open=True),
        default=1.0,
        show_default=True,
        help="Stop once the 95% interval's half-width is at most this percent of the mean.",
    ),
    click.option(
        "--min-window",
        type=click.FloatRange(min=0, min_open=True),
        default=5.0,
        show_default=True,
        help="Seconds a repetition must last; shorter workloads are looped and normalised per query.",
    ),
    click.option(
        "--idle-seconds",
        type=click.FloatRange(min=0),
        default=5.0,
        show_default=True,
        help="Seconds of idle-power sampling before the run (recorded, not subtracted).",
    ),
]


def measurement_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the measuring options (``--no-energy``, ``--queries``, ``--device``, ``--gpu-index``,
    repetitions, ``--target-ci``, ``--min-window``, ``--idle-seconds``) to a click command."""
    for option in reversed(_MEASUREMENT_OPTIONS):
        fn = option(fn)
    return fn


def meter_config(opts: dict[str, Any], **overrides: Any) -> Any:
    """Build the :class:`~energy_badge.meter.MeterConfig` from the options' values.

    Args:
        opts: the command's keyword arguments (at least those :func:`measurement_options` adds).
        overrides: MeterConfig fields to set differently (e.g. ``allow_shared_gpu``).

    Raises:
        UsageError: ``--min-repetitions`` above ``--max-repetitions``, or another bad value.
    """
    from energy_badge.errors import UsageError
    from energy_badge.meter import MeterConfig

    if opts["min_repetitions"] > opts["max_repetitions"]:
        raise UsageError("--min-repetitions cannot exceed --max-repetitions")
    settings = {
        "min_repetitions": opts["min_repetitions"],
        "max_repetitions": opts["max_repetitions"],
        "target_ci_rel": opts["target_ci"] / 100.0,
        "min_window_s": opts["min_window"],
        "idle_seconds": opts["idle_seconds"],
        "gpu_index": opts["gpu_index"],
    }
    return MeterConfig(**{**settings, **overrides})
