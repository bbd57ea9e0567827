"""The policy: which results are canonical, and which may go on a model card.

One module decides it, from the result's *content*, never from a flag the file carries:

* **canonical** (:func:`canonical_reasons`): energy-badge's own workload (never an AI Energy Score
  dataset, ``measure --workload aes``: :mod:`energy_badge.aes_workload`), the full canonical
  workload of a known task and workload version (its query count and the sha256 of its inputs as the
  shipped manifest pins them, its batch size and generation settings, and, where the result records
  it, the complete configuration given to ``generate()``: the manifest's values, every other knob
  neutral), the workload's default dtype, GPU energy measured by the meter on the GPU that ran the
  model, no other process on that GPU, an isolation check that could see every process list (or
  ``--allow-shared-gpu``, which accepts the risk), no energy window whose counter disagreed with the
  sampled power (the cross-check), no GPU in MIG mode, and the model's own weights (random weights
  measure the architecture, not the model).

  Recorded but *not* departures, because the figure stays honest: a drift (the rule then ran every
  repetition and says so), a target not met (the interval is then the wider t interval), dropped
  outlying repetitions (listed with the reason), an inconclusive cross-check (too few samples to
  judge, which says nothing against the counter), and a host pid attributed to this process.

  ``measure`` records these reasons when it writes a result; :func:`check_flag` refuses (exit 4)
  a file whose ``canonical`` flag disagrees with them, so a file edited to claim
  ``canonical: true`` is never rated, compared as canonical, or published.
* **publishable** (:func:`publish_problems`, :func:`check_publishable`): canonical, with a 95 %
  interval (at least two repetitions) and a GPU of a known hardware class, so a card can show the
  figure, its interval and the hardware.

* **the sampled protocol** (:mod:`energy_badge.meter.sampling`): a result estimated from a
  stratified sample of the canonical workload is canonical when its record holds together (the
  sample is of that workload, and the headline and its interval are what the recorded strata,
  per-query costs and repetitions give; else the ``sampling`` departure), and publishable only
  when its interval, sampling error and run-to-run noise together, is within the meter's target
  (a full-protocol result may publish a wider t interval; a sample that cannot meet the target
  should have grown to the full workload).

Every command asks this module: :func:`energy_badge.result.decode_result` calls
:func:`check_flag` on every result read (rate, badge, card, publish, compare, bulk, the service,
the action), and :mod:`energy_badge.publish` calls :func:`check_publishable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from energy_badge.errors import EnergyBadgeError, InvalidFileError, NotCanonicalError

if TYPE_CHECKING:
    from energy_badge.result import EnergyResult

__all__ = [
    "Departure",
    "canonical_reasons",
    "check_flag",
    "check_publishable",
    "departures",
    "publish_problems",
]

ZEUS = "zeus"


@dataclass(frozen=True)
class Departure:
    """One way a result departs from the canonical protocol.

    Attributes:
        code: a stable name: ``performance_only``, ``workload_source``, ``workload``, ``queries``, ``inputs``,
            ``dtype``, ``batch_size``, ``generation``, ``generation_config``, ``device``,
            ``shared_gpu``, ``isolation_unknown``, ``crosscheck``, ``mig``, ``sampling``,
            ``random_weights``.
        reason: the reason in words, as results and messages show it.
    """

    code: str
    reason: str


def departures(result: EnergyResult) -> list[Departure]:
    """How a result departs from the canonical protocol, derived from its content (empty: canonical).

    The result's own ``canonical`` flag and ``non_canonical_reasons`` are ignored.

    Args:
        result: the result.

    Returns:
        One :class:`Departure` per rule broken, in a fixed order.
    """
    from energy_badge.workload import SOURCE, canonical_spec

    found: list[Departure] = []

    def add(code: str, reason: str) -> None:
        found.append(Departure(code, reason))

    measurement, workload = result.measurement, result.workload
    energy_measured = measurement.meter == ZEUS and result.energy.gpu is not None
    if not energy_measured:
        add("performance_only", "performance only (--no-energy): no energy measured")
    try:
        spec = canonical_spec(result.task, workload.version)
    except EnergyBadgeError:
        spec = None
    if workload.source != SOURCE:
        add(
            "workload_source",
            f"the workload is {workload.name} ({workload.source}: not energy-badge's own canonical "
            "workload); figures on the AI Energy Score's datasets compare with its leaderboard, they "
            "are never rated",
        )
    elif workload.task != result.task:
        add("workload", f"the workload is for {workload.task}, not {result.task}")
    elif spec is None or spec.version != workload.version:
        add(
            "workload",
            f"workload version {workload.version} of {result.task} is not one this energy-badge ships",
        )
    else:
        if workload.queries != spec.queries:
            add("queries", f"--queries {workload.queries}: a subset of the {spec.queries} canonical queries")
        elif workload.sha256 != spec.sha256 or workload.name != spec.name:
            add(
                "inputs", f"the workload's inputs (sha256 {workload.sha256[:12]}…) are not the canonical ones"
            )
        if result.model.dtype != spec.default_dtype:
            add("dtype", f"--dtype {result.model.dtype} instead of the canonical {spec.default_dtype}")
        if workload.batch_size != spec.batch_size:
            add(
                "batch_size", f"--batch-size {workload.batch_size} instead of the canonical {spec.batch_size}"
            )
        if workload.generation != spec.generation:
            add("generation", "generation settings differ from the canonical workload's")
        elif workload.generation_config is not None:
            from energy_badge.run.reasoning import reasoning_manifest

            manifest = spec.generation.to_dict() if spec.generation is not None else {}
            manifest = reasoning_manifest(workload.reasoning, manifest)  # reasoning on: EOS under the cap
            if knobs := workload.generation_config.departures(manifest):
                add("generation_config", f"generate() was given non-neutral settings: {', '.join(knobs)}")
    if energy_measured and result.hardware.device != f"cuda:{measurement.config.gpu_index}":
        add("device", f"the model ran on {result.hardware.device}, not on the metered GPU")
    isolation = measurement.isolation
    if isolation.other_processes:
        add("shared_gpu", "other processes used the GPU during the run (--allow-shared-gpu)")
    if isolation.unknown_reason and not isolation.allow_shared_gpu:
        add(
            "isolation_unknown",
            f"the isolation check is unknown ({isolation.unknown_reason}): another process may have "
            "used the GPU (--allow-shared-gpu accepts that)",
        )
    if disagreeing := _disagreeing_windows(result):
        add(
            "crosscheck",
            f"the energy counter disagreed with the sampled power in {', '.join(disagreeing)}",
        )
    if any(gpu.mig_mode for gpu in result.hardware.gpus):
        add("mig", "the GPU was in MIG mode: its energy counter covers every MIG instance")
    if problem := _sampling_problem(result):
        add("sampling", problem)
    if result.model.random_weights:
        add(
            "random_weights",
            "random weights (--random-weights): the figure describes the architecture, not this model",
        )
    return found


def _sampling_problem(result: EnergyResult) -> str | None:
    """Why a sampled-protocol result's record does not hold together (None: it does, or it is full).

    The sample must be of the workload the result names, and its headline must be the estimate
    its recorded strata, per-query costs and repetitions give (:func:`energy_badge.meter.
    sampling.record_problems`), so an edited figure or interval is not canonical.
    """
    from energy_badge.meter.sampling import record_problems
    from energy_badge.stats import summarize

    m = result.measurement
    record, gpu = m.sampling, result.energy.gpu
    if m.protocol != "sampled":
        return "a sampled record with protocol full" if record and record.protocol == "sampled" else None
    if record is None or record.protocol != "sampled" or gpu is None or not gpu.samples:
        return "protocol sampled without its sampling record and figure"
    if record.population != result.workload.queries:
        return f"the sample is of {record.population} queries, the workload has {result.workload.queries}"
    mean = sum(gpu.samples) / len(gpu.samples)
    if m.outcome is not None and m.outcome.interval == "target":
        noise: float | None = record.noise_target_rel * abs(mean)
    else:
        noise = summarize(gpu.samples).ci95_half_width
    problems = record_problems(record, gpu, noise)
    return f"the sampled estimate does not hold: {problems[0]}" if problems else None


def _disagreeing_windows(result: EnergyResult) -> list[str]:
    """The windows (idle, kept or dropped repetitions, of either phase) whose cross-check disagreed."""
    m = result.measurement
    named = []
    if m.idle is not None and m.idle.crosscheck is not None:
        named.append(("the idle sample", m.idle.crosscheck))
    phases = [("", m.repetitions, m.dropped)]
    if m.prefill is not None:
        phases.append(("prefill ", m.prefill.repetitions, m.prefill.dropped))
    for label, kept, dropped in phases:
        for rep in (*kept, *(d.repetition for d in dropped)):
            if rep.crosscheck is not None:
                named.append((f"{label}repetition {rep.index}", rep.crosscheck))
    return [name for name, check in named if check.verdict == "disagree"]


def canonical_reasons(result: EnergyResult) -> list[str]:
    """Why a result is not canonical, in words (empty: canonical); see :func:`departures`."""
    return [d.reason for d in departures(result)]


def check_flag(result: EnergyResult, *, source: str = "result") -> None:
    """Refuse a result whose ``canonical`` flag disagrees with its content.

    Args:
        result: the result as read.
        source: what to call it in the message (a file name).

    Raises:
        InvalidFileError: the flag says canonical and the content is not (the message gives the
            reasons), or the flag says not canonical while the content is canonical and the
            file gives no reason (exit 4).
    """
    reasons = canonical_reasons(result)
    if result.canonical and reasons:
        raise InvalidFileError(
            f"{source} says canonical: true, but its content is not canonical: {'; '.join(reasons)}"
        )
    if not result.canonical and not reasons:
        raise InvalidFileError(
            f"{source} says canonical: false, but its content is the canonical protocol "
            f"(its reasons: {'; '.join(result.non_canonical_reasons)})"
        )


def publish_problems(result: EnergyResult) -> list[str]:
    """Why a result's figure must not go on a model card (empty: it may).

    Args:
        result: the result.

    Returns:
        One reason per problem: not canonical (with the reasons), no 95 % interval, no GPU of a
        known hardware class.
    """
    problems = []
    reasons = canonical_reasons(result)
    if reasons:
        problems.append(f"the result is not canonical ({'; '.join(reasons)})")
    energy = result.energy.gpu
    if energy is not None and (energy.ci95_low is None or energy.ci95_high is None):
        problems.append(
            f"the result has no 95 % interval (only {energy.n} repetition); a card shows the interval"
        )
    if energy is not None and result.measurement.protocol == "sampled":
        target = result.measurement.config.target_ci_rel
        relative = energy.relative_half_width
        if relative is None or relative > target * (1 + 1e-9):
            shown = "none" if relative is None else f"+-{100 * relative:.2f} %"
            problems.append(
                f"the sampled estimate's 95 % interval ({shown}, sampling error and noise together) "
                f"is wider than the +-{100 * target:g} % target; measure with --protocol full"
            )
    if energy is not None and not result.hardware_class:
        problems.append(
            f"the GPU ({result.gpu_name or 'no GPU recorded'}) has no hardware class to put on a card"
        )
    return problems


def check_publishable(result: EnergyResult) -> None:
    """Refuse a result whose figure must not be shown on a model card.

    Raises:
        NotCanonicalError: as :func:`publish_problems` says (exit 4); the message names the model
            and every problem.
    """
    problems = publish_problems(result)
    if problems:
        raise NotCanonicalError(
            f"{result.model_id}: {'; '.join(problems)}; only a canonical measurement of the real model "
            "can go on a model card: measure again with the default settings"
        )
