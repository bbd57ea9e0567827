"""Options shared by the commands that measure (``measure``, ``bulk``, ``serve``, ``worker``), and
the ``--table`` option of every command that rates.

One definition, so the flags, their defaults and their help read the same everywhere, and one
place (:func:`meter_config`) that turns them into the meter's settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

_DEVICE_OPTIONS = [
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
]

_MEASUREMENT_OPTIONS = [
    click.option(
        "--no-energy",
        is_flag=True,
        help="Performance only, no energy meter (works on CPU; the result is non-canonical and never "
        "published).",
    ),
    click.option(
        "--queries",
        type=click.IntRange(1, 1000),
        help="Run only the first N queries, 1 to 1000 (every canonical workload has 1000; a smoke run; "
        "non-canonical).",
    ),
    *_DEVICE_OPTIONS,
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
        "--warmup",
        type=click.FloatRange(0, 3600),
        default=10.0,
        show_default=True,
        help="Seconds of warm-up before measuring: the workload's queries in order until this long, "
        "or one whole pass if that is shorter.",
    ),
    click.option(
        "--idle-seconds",
        type=click.FloatRange(min=0),
        default=5.0,
        show_default=True,
        help="Seconds of idle-power sampling before the run (recorded, not subtracted).",
    ),
]


_EXECUTOR_OPTIONS = [
    click.option(
        "--executor",
        type=click.Choice(["local", "ray"]),
        default="local",
        show_default=True,
        help="Where measurements run: this process (one GPU), or Ray tasks on a cluster.",
    ),
    click.option("--ray-address", help="A running Ray cluster (default: start a local instance)."),
    click.option(
        "--gpus-per-task",
        type=click.FloatRange(min=0),
        default=1.0,
        show_default=True,
        help="Ray: GPUs per measurement (0 for CPU --no-energy runs).",
    ),
]

_RETRY_OPTIONS = [
    click.option(
        "--max-attempts",
        type=click.IntRange(1, 20),
        default=3,
        show_default=True,
        help="Tries per model on transient failures (network, out of memory, a lost worker).",
    ),
    click.option(
        "--retry-backoff",
        type=click.FloatRange(min=0),
        default=60.0,
        show_default=True,
        help="Seconds before the first retry; doubles each time.",
    ),
    click.option(
        "--writes-per-minute",
        type=click.FloatRange(min=0),
        default=2.0,
        show_default=True,
        help="Hub writes (commits, PRs) per minute; 0: no throttle (a 429 is obeyed anyway).",
    ),
]


table_option = click.option(
    "--table",
    "table_file",
    type=click.Path(dir_okay=False),
    help="Rating table file, used alone (default: all the shipped tables combined).",
)
"""``--table FILE`` (``table_file``), for ``rating.load_table``."""

reasoning_on_option = click.option(
    "--reasoning-on",
    "reasoning_on_file",
    metavar="RESULT",
    type=click.Path(dir_okay=False),
    help="The same model's result measured with --reasoning on (RESULT has reasoning off; same model, "
    "text-generation, same hardware class): adds 'reasoning on: N× the energy per query' with its 95 % "
    "interval.",
)
"""``--reasoning-on RESULT`` (``reasoning_on_file``), for ``card``, ``badge`` and ``publish``."""


def _apply(options: list[Callable[..., Any]], fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(options):
        fn = option(fn)
    return fn


def measurement_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the measuring options (``--no-energy``, ``--queries``, ``--device``, ``--gpu-index``,
    repetitions, ``--target-ci``, ``--min-window``, ``--warmup``, ``--idle-seconds``) to a click command."""
    return _apply(_MEASUREMENT_OPTIONS, fn)


def device_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add where the model runs and which GPU is metered (``--device``, ``--gpu-index``), for a
    command that measures with a protocol of its own (``advise``)."""
    return _apply(_DEVICE_OPTIONS, fn)


def protocol_option(default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--protocol full|sampled`` option with ``default`` (``measure``: full; ``bulk`` and
    the service: sampled)."""
    return click.option(
        "--protocol",
        type=click.Choice(["full", "sampled"]),
        default=default,
        show_default=True,
        help="full: every query of the workload in each repetition (the reference). sampled: a "
        "stratified random sample, the full workload's figure estimated with a 95% interval that "
        "holds the sampling error and the noise, grown until it is within --target-ci (or to the "
        "whole workload); recorded, and said on the card.",
    )


def executor_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add where measurements run (``--executor``, ``--ray-address``, ``--gpus-per-task``), as
    ``bulk`` and the service's worker take them."""
    return _apply(_EXECUTOR_OPTIONS, fn)


def retry_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the bulk job's retry and write-throttle options (``--max-attempts``,
    ``--retry-backoff``, ``--writes-per-minute``)."""
    return _apply(_RETRY_OPTIONS, fn)


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
        "warmup_max_s": opts["warmup"],
        "gpu_index": opts["gpu_index"],
    }
    return MeterConfig(**{**settings, **overrides})
