"""Compose workload -> run -> meter -> result: one measurement of one model on one task.

This is what ``energy-badge measure`` calls, and what bulk jobs call. It opens the meter before
loading the model (so a machine that cannot measure fails in a second, not after a download),
runs the phases, and assembles the typed :class:`~energy_badge.result.EnergyResult`; whether that
result is canonical is the policy's decision (:func:`energy_badge.policy.canonical_reasons`),
made from the result's content.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Literal

from energy_badge import __version__
from energy_badge.errors import UsageError
from energy_badge.meter import Isolation, MeterConfig, PhaseMeasurement, Repetition, open_meter
from energy_badge.protocol import measure_sampled, new_seed, sampling_applies
from energy_badge.result import (
    SCHEMA_VERSION,
    TOOL_NAME,
    CPUInfo,
    EnergyFigures,
    EnergyResult,
    GPUStates,
    HardwareRecord,
    InputTokens,
    Latency,
    LatencyUnit,
    Measurement,
    MeterSettings,
    Performance,
    PhaseRecord,
    ToolInfo,
    WorkloadRecord,
)
from energy_badge.run import DTYPES
from energy_badge.stats import Stats, difference, percentile
from energy_badge.text import utc_now

if TYPE_CHECKING:
    from energy_badge.run import PassStats, TaskRunner
    from energy_badge.run.reasoning import ReasoningRecord
    from energy_badge.workload import Workload


@dataclass(frozen=True)
class StageEvent:
    """A step of the measurement began (``message`` says which)."""

    message: str


@dataclass(frozen=True)
class PhaseEvent:
    """A measured phase begins: ``workload`` (or ``prefill``), with at most ``max_repetitions``."""

    name: str
    max_repetitions: int


@dataclass(frozen=True)
class RepetitionEvent:
    """A repetition of ``phase`` ended; ``stats`` summarises GPU Wh/1k so far (None before two)."""

    phase: str
    repetition: Repetition
    stats: Stats | None


MeasureEvent = StageEvent | PhaseEvent | RepetitionEvent
#: What ``measure_model`` calls with each :data:`MeasureEvent`.
EventCallback = Callable[[MeasureEvent], None]


@dataclass(frozen=True)
class MeasureOptions:
    """Everything ``measure`` needs besides the model and the task.

    Attributes:
        revision: Hub revision (branch, tag or sha); resolved to a commit sha.
        dtype: override of the workload's default dtype (non-canonical).
        batch_size: override of batch size 1 (non-canonical).
        queries: run only the first N queries (non-canonical smoke run).
        device: torch device; default ``cuda:<gpu_index>`` when measuring energy, else CUDA when
            available, else ``cpu``.
        energy: measure energy (False: performance only, non-canonical).
        meter: the meter's settings (repetitions, stopping rule, window, idle sample, GPU).
        trust_remote_code, allow_pickle: loading permissions, recorded in the result.
        random_weights: build the architecture from its config with seeded random weights (no
            weight file is read); recorded, so such a result describes the architecture only: it
            is not canonical and never published as the model's badge.
        token: Hub token for gated/private models (never recorded).
        endpoint: Hub endpoint (defaults to ``HF_ENDPOINT`` / huggingface.co).
        reasoning: text generation on a model whose chat template switches reasoning: the mode
            passed to the template (default ``off``; see :mod:`energy_badge.run.reasoning`).
        reasoning_cap: the most new tokens per query with reasoning on.
        protocol: ``full`` (every query in each repetition: the reference, the default) or
            ``sampled`` (a stratified random sample, the full workload's figure estimated with
            an interval that holds the sampling error: :mod:`energy_badge.protocol`); sampled
            runs as full where it cannot apply (no energy, ``queries``, a batch size above 1).
        sample_seed: the sampled protocol's seed (default: a fresh random one, recorded).
        workload: run this workload instead of the task's canonical one (``--workload aes``:
            :func:`energy_badge.aes_workload.load_aes_workload`); recorded, never canonical.
        reuse_inputs: share prepared inputs with earlier measurements of this process whose
            preprocessing has the same fingerprint (:mod:`energy_badge.run.prepared`; bulk runs);
            recorded in ``workload.preparation``.
    """

    revision: str | None = None
    dtype: str | None = None
    batch_size: int = 1
    queries: int | None = None
    device: str | None = None
    energy: bool = True
    meter: MeterConfig = field(default_factory=MeterConfig)
    trust_remote_code: bool = False
    allow_pickle: bool = False
    random_weights: bool = False
    token: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    reasoning: str = "off"
    reasoning_cap: int = 8192
    protocol: Literal["full", "sampled"] = "full"
    sample_seed: int | None = None
    workload: Workload | None = field(default=None, repr=False)
    reuse_inputs: bool = False


def measure_model(
    model: str,
    task: str,
    options: MeasureOptions | None = None,
    *,
    on_event: EventCallback | None = None,
) -> EnergyResult:
    """Measure ``model`` on ``task``'s canonical workload and return the result.

    Args:
        model: a Hub repo id (``org/name``) or a local folder.
        task: one of :data:`energy_badge.workload.TASKS`.
        options: run settings; defaults are the canonical protocol.
        on_event: called with progress events (see :data:`MeasureEvent`).

    Returns:
        The result, its ``canonical`` flag set by the policy (not yet written).

    Raises:
        UsageError: bad option values.
        CannotMeasureError: no GPU energy counter, or the GPU is shared (exit 3).
        InputError: model not found, gated, wrong task, unsafe (exit 4).
        RuntimeFailure: out of memory, NVML error mid-run (exit 5).
    """
    options = options or MeasureOptions()
    emit: EventCallback = on_event or (lambda event: None)
    if options.dtype is not None and options.dtype not in DTYPES:
        raise UsageError(f"--dtype must be one of {', '.join(DTYPES)}")
    if options.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")

    workload, run_workload = workloads_for(task, options)

    config = options.meter
    emit(StageEvent("checking the energy meter" if options.energy else "performance-only run"))
    if options.energy:
        import torch  # noqa: F401  (the runner needs it anyway; the meter then matches CUDA to NVML by UUID)
    meter = open_meter(config, energy=options.energy)
    try:
        device = options.device
        if device is None and options.energy:
            device = f"cuda:{config.gpu_index}"
        emit(StageEvent(f"loading {model}"))
        runner = load_task_runner(
            model, task, options, workload, device=device, random_weights=options.random_weights
        )
        doing = "tokenizing" if runner.preprocessing == "tokenizer" else "preprocessing"
        emit(StageEvent(f"{doing} {len(run_workload.queries)} queries"))
        from energy_badge.run.prepared import default_prepared_cache

        runner.prepare(run_workload, cache=default_prepared_cache() if options.reuse_inputs else None)
        n_queries = len(run_workload.queries)
        warmup_queries: dict[str, int] = {}
        repetitions = config.max_repetitions if options.energy else config.min_repetitions

        def run_warmup(name: str) -> PassStats:
            stats = runner.run_warmup(config.warmup_max_s, prefill=name == "prefill")
            warmup_queries[name] = stats.queries
            return stats

        def phase(
            name: str,
            pass_fn: Callable[[], PassStats],
            queries: int,
            phase_config: MeterConfig,
            first: bool,
        ) -> PhaseMeasurement[PassStats]:
            emit(PhaseEvent(name, repetitions))

            def on_repetition(rep: Repetition, stats: Stats | None) -> None:
                emit(RepetitionEvent(name, rep, stats))

            def warmup() -> None:  # once per phase name (a sampled protocol's stages share it)
                if name not in warmup_queries:
                    run_warmup(name)

            meter.config = phase_config  # a sampled stage's noise target (energy_badge.protocol)
            try:
                return meter.measure(
                    pass_fn, queries, warmup=warmup, on_repetition=on_repetition, measure_idle=first
                )
            finally:
                meter.config = config

        sampling = None
        if options.protocol == "sampled" and sampling_applies(
            options.energy, options.queries is not None, options.batch_size
        ):
            seed = new_seed() if options.sample_seed is None else options.sample_seed
            sampled = measure_sampled(
                runner,
                config,
                phase,
                seed=seed,
                prefill=task == "text-generation",
                warmup=lambda: run_warmup("workload"),
            )
            main, prefill, sampling = sampled.main, sampled.prefill, sampled.record
        else:
            main = phase("workload", runner.run_pass, n_queries, config, options.energy)
            prefill = (
                phase("prefill", runner.run_prefill_pass, n_queries, config, False)
                if task == "text-generation"
                else None
            )
        hardware = meter.hardware
    finally:
        meter.close()

    if options.energy and main.gpu_wh_per_1k is None:  # pragma: no cover - the meter guarantees it
        raise RuntimeError("the energy meter returned no GPU energy")
    from energy_badge.run.generation import generation_record

    counts = runner.input_token_counts
    record = _workload_record(run_workload, options.batch_size, counts, runner.truncated_queries)
    record = dataclasses.replace(
        record,
        generation_config=generation_record(runner),
        reasoning=_reasoning_record(runner, main),
        preparation=runner.preparation,
    )
    result = EnergyResult(
        schema_version=SCHEMA_VERSION,
        tool=ToolInfo(TOOL_NAME, __version__),
        created_at=utc_now(),
        canonical=False,
        non_canonical_reasons=(),
        model=runner.info,
        task=task,
        workload=record,
        hardware=HardwareRecord(
            device=str(runner.device),
            gpus=tuple(hardware.gpus),
            gpu_count=len(hardware.gpus),
            driver_version=hardware.driver_version,
            cuda_driver_version=hardware.cuda_driver_version,
            hardware_class=hardware.hardware_class,
            cpu=CPUInfo(hardware.cpu_model, hardware.cpu_count or os.cpu_count() or 1),
        ),
        software=_software_versions(),
        measurement=Measurement(
            meter="zeus" if options.energy else "none",
            energy_source=main.energy_source,
            config=_settings(config),
            warmup_seconds=main.warmup_seconds,
            warmup_queries=warmup_queries["workload"],
            idle=main.idle,
            stopped_because=main.stopped_because,
            repetitions=tuple(main.repetitions),
            gpu_state=GPUStates(tuple(main.gpu_state_start), tuple((prefill or main).gpu_state_end)),
            isolation=_isolation(main, prefill),
            prefill=(
                PhaseRecord(prefill.stopped_because, prefill.repetitions, prefill.dropped, prefill.outcome)
                if prefill
                else None
            ),
            dropped=main.dropped,
            outcome=main.outcome,
            protocol=sampling.protocol if sampling is not None else "full",
            sampling=sampling,
        ),
        energy=_energy(main, prefill),
        performance=_performance(
            main,
            prefill,
            per="query" if options.batch_size == 1 else "batch",
            generation=record.generation_config is not None,  # tokens generated (not images)
        ),
    )
    return with_policy(result)


def workloads_for(task: str, options: MeasureOptions) -> tuple[Workload, Workload]:
    """The workload ``options`` name for ``task`` (the canonical one by default), and the part of it
    that runs (its first ``options.queries`` queries, or all of it).

    Raises:
        UsageError: the workload is for another task, or ``queries`` is out of its range.
    """
    from energy_badge.workload import load_workload

    workload = options.workload if options.workload is not None else load_workload(task)
    if workload.task != task:
        raise UsageError(f"the workload {workload.name} is for {workload.task}, not {task}")
    return workload, workload if options.queries is None else workload.subset(options.queries)


def load_task_runner(
    model: str,
    task: str,
    options: MeasureOptions,
    workload: Workload,
    *,
    device: str | None,
    random_weights: bool,
) -> TaskRunner:
    """Load ``model``'s runner for ``task`` as ``options`` say, with their reasoning mode set.

    Args:
        model, task: what to load.
        options: the run's options (revision, dtype, batch size, permissions, Hub access, reasoning).
        workload: the workload it will run (its default dtype applies unless ``options.dtype``).
        device: where it runs (``meta`` for a runner that only prepares inputs:
            :mod:`energy_badge.ahead`).
        random_weights: build the architecture without reading its weights.

    Raises:
        EnergyBadgeError: what :func:`energy_badge.run.load_runner` raises; ``UsageError`` for
            ``--reasoning`` on another task than text generation.
    """
    from energy_badge.run import load_runner

    runner = load_runner(
        model,
        task,
        revision=options.revision,
        dtype=options.dtype or workload.default_dtype,
        device=device,
        batch_size=options.batch_size,
        trust_remote_code=options.trust_remote_code,
        allow_pickle=options.allow_pickle,
        random_weights=random_weights,
        token=options.token,
        endpoint=options.endpoint,
    )
    set_reasoning_mode(runner, task, options)
    return runner


def set_reasoning_mode(runner: object, task: str, options: MeasureOptions) -> None:
    """Pass ``--reasoning`` to a text-generation runner; refuse it for other tasks."""
    from energy_badge.run.generation import TextGenerationRunner

    if isinstance(runner, TextGenerationRunner):
        runner.set_reasoning(options.reasoning, options.reasoning_cap)  # type: ignore[arg-type]
    elif options.reasoning != "off":
        raise UsageError(f"--reasoning applies to text-generation, not {task}")


def _reasoning_record(runner: object, main: PhaseMeasurement[PassStats]) -> ReasoningRecord | None:
    """The runner's reasoning record, with the energy per 1000 output tokens when it reasoned."""
    record = getattr(runner, "reasoning_record", None)
    if record is None or record.output_tokens is None or main.gpu_wh_per_1k is None:
        return record
    tokens = record.output_tokens.mean
    per_token = main.gpu_wh_per_1k.mean / tokens if tokens > 0 else None
    return dataclasses.replace(record, gpu_wh_per_1k_output_tokens=per_token)


def with_policy(result: EnergyResult) -> EnergyResult:
    """``result`` with ``canonical`` and ``non_canonical_reasons`` as the policy derives them."""
    from energy_badge.policy import canonical_reasons

    reasons = canonical_reasons(result)
    return dataclasses.replace(result, canonical=not reasons, non_canonical_reasons=tuple(reasons))


# --------------------------------------------------------------------------------------------
# Parts of the result


def _workload_record(
    workload: Workload, batch_size: int, counts: Sequence[int], truncated: int
) -> WorkloadRecord:
    """The workload as it ran: its queries, and the batch size the run used (not the canonical one)."""
    return WorkloadRecord(
        name=workload.name,
        version=workload.version,
        task=workload.task,
        sha256=workload.sha256,
        queries=len(workload.queries),
        batch_size=batch_size,
        generation=workload.generation,
        default_dtype=workload.default_dtype,
        source=workload.source,
        input_tokens=InputTokens(sum(counts), sum(counts) / len(counts), truncated),
    )


def _settings(config: MeterConfig) -> MeterSettings:
    return MeterSettings(
        min_repetitions=config.min_repetitions,
        max_repetitions=config.max_repetitions,
        target_ci_rel=config.target_ci_rel,
        min_window_s=config.min_window_s,
        idle_seconds=config.idle_seconds,
        warmup_passes=config.warmup_passes,
        warmup_max_s=config.warmup_max_s,
        gpu_index=config.gpu_index,
        allow_shared_gpu=config.allow_shared_gpu,
        sample_interval_s=config.sample_interval_s,
        strict=config.strict,
        idle_reuse_s=config.idle_reuse_s,
    )


def _isolation(main: PhaseMeasurement[PassStats], prefill: PhaseMeasurement[PassStats] | None) -> Isolation:
    """The isolation check over both phases: every process seen, and the first unknown or attribution."""
    if prefill is None:
        return main.isolation
    a, b = main.isolation, prefill.isolation
    seen = {p.pid: p for p in (*b.other_processes, *a.other_processes)}
    return Isolation(
        checked=a.checked or b.checked,
        other_processes=tuple(sorted(seen.values(), key=lambda p: p.pid)),
        allow_shared_gpu=a.allow_shared_gpu,
        unknown_reason=a.unknown_reason or b.unknown_reason,
        attributed_pid=a.attributed_pid if a.attributed_pid is not None else b.attributed_pid,
    )


def _energy(main: PhaseMeasurement[PassStats], prefill: PhaseMeasurement[PassStats] | None) -> EnergyFigures:
    gpu = main.gpu_wh_per_1k
    prefill_gpu = prefill.gpu_wh_per_1k if prefill is not None else None
    if gpu is None or prefill_gpu is None:
        prefill_gpu = None
    return EnergyFigures(
        gpu=gpu,
        cpu=main.cpu_wh_per_1k,
        dram=main.dram_wh_per_1k,
        prefill_gpu=prefill_gpu,
        decode_gpu=difference(gpu, prefill_gpu) if gpu is not None and prefill_gpu is not None else None,
    )


def _performance(
    main: PhaseMeasurement[PassStats],
    prefill: PhaseMeasurement[PassStats] | None,
    *,
    per: LatencyUnit,
    generation: bool,
) -> Performance:
    seconds = sum(r.seconds for r in main.repetitions)
    queries = sum(r.queries for r in main.repetitions)
    output_tokens = sum(p.output_tokens for p in main.pass_results)
    return Performance(
        queries_per_s=queries / seconds,
        latency_ms=_latency([lat for p in main.pass_results for lat in p.latencies_s], per),
        tokens_per_s=output_tokens / seconds if generation else None,
        prefill_latency_ms=(
            _latency([lat for p in prefill.pass_results for lat in p.latencies_s], per) if prefill else None
        ),
    )


def _latency(latencies_s: Sequence[float], per: LatencyUnit) -> Latency:
    values = [v * 1000.0 for v in latencies_s]
    return Latency(
        mean=sum(values) / len(values),
        p50=percentile(values, 50),
        p90=percentile(values, 90),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
        max=max(values),
        per=per,
    )


def _software_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "energy_badge": __version__}
    for key, dist in (
        ("torch", "torch"),
        ("transformers", "transformers"),
        ("huggingface_hub", "huggingface_hub"),
        ("zeus", "zeus"),
        ("nvidia_ml_py", "nvidia-ml-py"),
        ("safetensors", "safetensors"),
        ("tokenizers", "tokenizers"),
    ):
        try:
            versions[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[key] = None
    try:
        import torch

        versions["cuda_runtime"] = torch.version.cuda
    except ImportError:  # pragma: no cover - torch is a dependency
        versions["cuda_runtime"] = None
    return versions
