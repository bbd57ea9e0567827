"""Preparing a model's inputs before its measurement, without its weights (the bulk pipeline).

While one model is measured, the bulk run's prefetcher (:mod:`energy_badge.bulk.prefetch`)
downloads the next one's files and then calls :func:`prepare_ahead` for it: its runner is built
as the measurement will build it, but on PyTorch's ``meta`` device with no weights read (the
architecture from its config, no memory, no compute), and its ``prepare`` tokenizes or
preprocesses the workload into the process's prepared-input cache
(:mod:`energy_badge.run.prepared`), pausing before each batch while a measured window is open.
When the model's turn comes, its real runner prepares the probe, finds the same fingerprint, and
takes the inputs from the cache: the preparation has left the GPU's path. Nothing is trusted from
this early pass but what the fingerprint proves: a model whose real runner prepares anything
differently prepares its own inputs, as before.

Text-to-image needs no preparation (its queries are prompts, passed as they are), so it is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from energy_badge.measure import MeasureOptions
    from energy_badge.run.prepared import PreparationRecord, PreparedCache

__all__ = ["prepare_ahead"]

#: The tasks whose inputs need no preparation.
NOTHING_TO_PREPARE = frozenset({"text-to-image"})


def prepare_ahead(
    model: str,
    task: str,
    options: MeasureOptions,
    *,
    pause: Callable[[], None] | None = None,
    cache: PreparedCache | None = None,
) -> PreparationRecord | None:
    """Put ``model``'s prepared inputs for ``task`` into the cache its measurement will read.

    Args:
        model: a Hub repo id (its files already in the Hub cache, or they are fetched: the
            tokenizer and configuration only) or a local folder.
        task: the task it will be measured on.
        options: the options its measurement will run with (revision, batch size, queries,
            workload, reasoning mode, loading permissions, Hub access).
        pause: called before each step and each batch (the prefetcher's window gate).
        cache: the cache to fill (default: the process's, which ``measure_model`` reads with
            ``reuse_inputs``).

    Returns:
        How the inputs were prepared (their fingerprint; ``reused_from`` set when another
        model's were already there), or None for a task with nothing to prepare.

    Raises:
        EnergyBadgeError: whatever loading the model's configuration and tokenizer raises (the
            caller records it; the measurement will meet and report the same).
    """
    from energy_badge.measure import load_task_runner, workloads_for
    from energy_badge.run.prepared import default_prepared_cache

    if task in NOTHING_TO_PREPARE:
        return None
    workload, run_workload = workloads_for(task, options)
    if pause is not None:
        pause()
    runner = load_task_runner(model, task, options, workload, device="meta", random_weights=True)
    runner.prepare(run_workload, cache=cache if cache is not None else default_prepared_cache(), pause=pause)
    return runner.preparation
