"""Options shared by the commands that measure (``measure``, ``bulk``, ``serve``, ``worker``, and
``advise`` with a protocol of its own), and the ``--table`` option of every command that rates.

One definition, so the flags, their defaults and their help read the same everywhere, and one
place (:func:`meter_config`) that turns them into the meter's settings. Where an option means
something else under ``advise``'s protocol (``--no-energy``, ``--queries``, ``--revision``,
``--trust-remote-code``, ``--allow-pickle``), its factory takes the command's help text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

#: What an option factory returns: a decorator that adds the option to a click command.
OptionDecorator = Callable[[Callable[..., Any]], Callable[..., Any]]


# -- options whose meaning depends on the command's protocol: one definition each (the flag, its
# -- type and default), the help text the command's own, so each command's --help stays true for it


def no_energy_option(help: str) -> OptionDecorator:
    """``--no-energy`` (``no_energy``, a flag); ``help`` says what the command measures without the meter."""
    return click.option("--no-energy", is_flag=True, help=help)


def queries_option(help: str, *, default: int | None = None) -> OptionDecorator:
    """``--queries N`` (``queries``): 1 to 1000 of the canonical workload's queries; ``help`` says
    what the command runs them for, and a ``default`` is shown in ``--help``."""
    shown: dict[str, Any] = {} if default is None else {"default": default, "show_default": True}
    return click.option("--queries", type=click.IntRange(1, 1000), help=help, **shown)


def revision_option(help: str) -> OptionDecorator:
    """``--revision REV`` (``revision``): a Hub branch, tag or commit; ``help`` says what the command
    does with it."""
    return click.option("--revision", help=help)


def trust_remote_code_option(help: str) -> OptionDecorator:
    """``--trust-remote-code`` (``trust_remote_code``, a flag): let the model's own Python code run."""
    return click.option("--trust-remote-code", is_flag=True, help=help)


def allow_pickle_option(help: str) -> OptionDecorator:
    """``--allow-pickle`` (``allow_pickle``, a flag): let pickle-based weight files load."""
    return click.option("--allow-pickle", is_flag=True, help=help)


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
    no_energy_option(
        "Performance only, no energy meter (works on CPU; the result is non-canonical and never published)."
    ),
    queries_option(
        "Run only the first N queries, 1 to 1000 (every canonical workload has 1000; a smoke run; "
        "non-canonical)."
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


def protocol_option(default: str) -> OptionDecorator:
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


idle_reuse_option = click.option(
    "--idle-reuse",
    type=click.FloatRange(0, 3600),
    default=600.0,  # meter.DEFAULT_IDLE_REUSE_S, not imported so --help stays light; a test ties them
    show_default=True,
    metavar="SECONDS",
    help="Reuse the idle-power sample taken on the same GPU by an earlier measurement of this run when "
    "it is at most this old, instead of sampling for --idle-seconds before each model (recorded in the "
    "result with its age); 0: sample before every model.",
)
"""``--idle-reuse SECONDS`` (``idle_reuse``), for ``bulk`` and the service (``measure`` never reuses)."""


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
        "idle_reuse_s": opts.get("idle_reuse", 0.0),
        "warmup_max_s": opts["warmup"],
        "gpu_index": opts["gpu_index"],
    }
    return MeterConfig(**{**settings, **overrides})
