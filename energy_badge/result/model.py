"""The typed result: frozen dataclasses for one measurement and its parts (see :mod:`energy_badge.result`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from energy_badge.hardware import GPUInfo, GPUState
from energy_badge.meter import DroppedRepetition, IdleSample, Isolation, Repetition, StopOutcome
from energy_badge.meter.sampling import SamplingRecord
from energy_badge.run.generation import GenerationRecord
from energy_badge.run.prepared import PreparationRecord
from energy_badge.run.reasoning import ReasoningRecord
from energy_badge.run.runner import ModelInfo
from energy_badge.stats import Stats
from energy_badge.workload import DiffusionSettings, GenerationSettings

SCHEMA_VERSION = "1.1"
#: The schema versions this version of energy-badge reads (it writes :data:`SCHEMA_VERSION`).
READABLE_SCHEMA_VERSIONS = ("1.0", "1.1")
RESULT_SCHEMA = "energy-result.schema.json"
TOOL_NAME = "energy-badge"
ENERGY_UNIT = "Wh per 1000 queries"

MeterName = Literal["zeus", "none"]
StopReason = Literal["ci_target_met", "max_repetitions", "performance_only"]
LatencyUnit = Literal["query", "batch"]
ModelSource = Literal["hub", "local"]


# --------------------------------------------------------------------------------------------
# The parts of a result


@dataclass(frozen=True)
class ToolInfo:
    """The tool that wrote the result: always ``energy-badge``, and its version."""

    name: str
    version: str


@dataclass(frozen=True)
class InputTokens:
    """Input tokens of the workload under the model's tokenizer.

    Attributes:
        total: tokens over every query (padding excluded).
        mean: tokens per query.
        truncated_queries: queries cut to the model's longest input.
    """

    total: int
    mean: float
    truncated_queries: int


@dataclass(frozen=True)
class WorkloadRecord:
    """The workload that ran, as the result records it.

    Attributes:
        name, version, task: which workload (``energy-badge/text-classification``, ``1.0.0``).
        sha256: sha256 of the exact inputs that ran (a subset hashes differently).
        queries: queries in one pass.
        batch_size: queries per forward pass.
        generation: decoding settings of a generation task (image generation's for text-to-image),
            else None.
        default_dtype: the dtype the workload's canonical runs use.
        source: where the workload comes from (``energy-badge``).
        input_tokens: the inputs' token counts under this model's tokenizer.
        generation_config: the complete configuration passed to ``generate()`` (generation
            tasks; None otherwise and in 1.0 results).
        reasoning: text generation through a chat template that switches reasoning: the mode,
            the control and the template's hash (:class:`~energy_badge.run.reasoning.
            ReasoningRecord`); None for raw prompts and in older results.
        preparation: how the inputs were prepared where a bulk run could share them between
            models (:class:`~energy_badge.run.prepared.PreparationRecord`: the preprocessing's
            fingerprint, and the model whose prepared inputs were reused, if any); None when
            nothing could be shared (``measure``) and in older results.
    """

    name: str
    version: str
    task: str
    sha256: str
    queries: int
    batch_size: int
    generation: GenerationSettings | DiffusionSettings | None
    default_dtype: str
    source: str
    input_tokens: InputTokens
    generation_config: GenerationRecord | None = None
    reasoning: ReasoningRecord | None = None
    preparation: PreparationRecord | None = None


@dataclass(frozen=True)
class CPUInfo:
    """The host's CPU: model name (None if unknown) and logical CPU count."""

    model: str | None
    count: int


@dataclass(frozen=True)
class HardwareRecord:
    """What the measurement ran on.

    Attributes:
        device: the torch device the model ran on (``cuda:0``, ``cpu``).
        gpus: the measured GPUs (empty without NVML).
        gpu_count: ``len(gpus)``.
        driver_version, cuda_driver_version: the NVIDIA driver, None without one.
        hardware_class: the GPUs' normalised class (``H100``) that rating tables use, or None.
        cpu: the host CPU.
    """

    device: str
    gpus: tuple[GPUInfo, ...]
    gpu_count: int
    driver_version: str | None
    cuda_driver_version: str | None
    hardware_class: str | None
    cpu: CPUInfo


@dataclass(frozen=True)
class MeterSettings:
    """The meter's settings as recorded (see :class:`~energy_badge.meter.MeterConfig`).

    ``warmup_max_s`` is None in results older than the warm-up time limit (whose warm-up was one
    whole pass); ``sample_interval_s`` and ``strict`` are None in 1.0 results; ``idle_reuse_s``
    (how old a reused idle sample could be: :mod:`energy_badge.meter.baseline`) is None in results
    written before it.
    """

    min_repetitions: int
    max_repetitions: int
    target_ci_rel: float
    min_window_s: float
    idle_seconds: float
    warmup_passes: int
    warmup_max_s: float | None
    gpu_index: int
    allow_shared_gpu: bool
    sample_interval_s: float | None = None
    strict: bool | None = None
    idle_reuse_s: float | None = None


@dataclass(frozen=True)
class GPUStates:
    """Clocks, temperature and power of the measured GPU before the first and after the last
    repetition (empty without NVML)."""

    start: tuple[GPUState, ...]
    end: tuple[GPUState, ...]


@dataclass(frozen=True)
class PhaseRecord:
    """A second measured phase (text generation's prefill): why it stopped, its kept repetitions,
    the dropped ones, and the stop rule's outcome (None in 1.0 results)."""

    stopped_because: StopReason
    repetitions: tuple[Repetition, ...]
    dropped: tuple[DroppedRepetition, ...] = ()
    outcome: StopOutcome | None = None


@dataclass(frozen=True)
class Measurement:
    """How the energy was measured: the raw data behind every figure.

    Attributes:
        meter: ``zeus``, or ``none`` for a performance-only run.
        energy_source: ``nvml_total_energy_counter``, None without energy.
        config: the meter's settings.
        warmup_seconds: wall time of the warm-up.
        warmup_queries: queries the warm-up ran (None in older results).
        idle: the idle sample, None when not taken.
        stopped_because: why the repetitions stopped.
        repetitions: the kept repetitions, in order: the figures are theirs.
        gpu_state: GPU state before and after.
        isolation: the check for other processes on the GPU.
        prefill: text generation's prefill phase, else None.
        dropped: repetitions the outlier guard left out, each with the reason (empty in 1.0 results).
        outcome: the stop rule's outcome: target met or not, what the interval is, the drift
            check (None for performance-only runs and 1.0 results).
        protocol: ``full`` or ``sampled`` (:mod:`energy_badge.meter.sampling`); None in results
            that predate it (full).
        sampling: how a sampled-protocol run sampled (None for the full protocol asked as such).
    """

    meter: MeterName
    energy_source: str | None
    config: MeterSettings
    warmup_seconds: float
    warmup_queries: int | None
    idle: IdleSample | None
    stopped_because: StopReason
    repetitions: tuple[Repetition, ...]
    gpu_state: GPUStates
    isolation: Isolation
    prefill: PhaseRecord | None = None
    dropped: tuple[DroppedRepetition, ...] = ()
    outcome: StopOutcome | None = None
    protocol: Literal["full", "sampled"] | None = None
    sampling: SamplingRecord | None = None


@dataclass(frozen=True)
class EnergyFigures:
    """Energy in Wh per 1000 queries, each with its repetitions and 95 % interval.

    Attributes:
        gpu: the headline (None when energy was not measured).
        cpu, dram: from RAPL where the machine has it, else None (never estimated).
        prefill_gpu, decode_gpu: text generation only: the prefill phase, and full generation
            minus prefill (its interval combines both phases).
        unit: always ``Wh per 1000 queries``.
    """

    gpu: Stats | None
    cpu: Stats | None
    dram: Stats | None
    prefill_gpu: Stats | None = None
    decode_gpu: Stats | None = None
    unit: str = ENERGY_UNIT


@dataclass(frozen=True)
class Latency:
    """Latency percentiles in milliseconds, per query (batch size 1) or per batch."""

    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    per: LatencyUnit


@dataclass(frozen=True)
class Performance:
    """Throughput and latency of the measured repetitions.

    Attributes:
        queries_per_s: queries run over the repetitions' measured seconds.
        latency_ms: per-query (or per-batch) latency.
        tokens_per_s: generated tokens per second (generation tasks), else None.
        prefill_latency_ms: text generation's prefill latency, else None.
    """

    queries_per_s: float
    latency_ms: Latency
    tokens_per_s: float | None
    prefill_latency_ms: Latency | None


@dataclass(frozen=True)
class EnergyResult:
    """One measurement of one model on one task's workload.

    ``canonical`` and ``non_canonical_reasons`` are what :func:`energy_badge.policy.
    canonical_reasons` derives from the content; :func:`decode_result` refuses a file whose flag
    disagrees with it.

    Attributes:
        schema_version: the file format version.
        tool: the tool and version that measured.
        created_at: when (RFC 3339, UTC).
        canonical: the full canonical workload, default settings, energy measured.
        non_canonical_reasons: why not (empty when canonical).
        model: the model that ran.
        task: the task.
        workload: the workload that ran.
        hardware: the machine.
        software: versions of Python, energy-badge, torch, transformers and the rest (None where
            a package is absent).
        measurement: how energy was measured, with the raw repetitions.
        energy: the energy figures.
        performance: throughput and latency.
    """

    schema_version: str
    tool: ToolInfo
    created_at: str
    canonical: bool
    non_canonical_reasons: tuple[str, ...]
    model: ModelInfo
    task: str
    workload: WorkloadRecord
    hardware: HardwareRecord
    software: Mapping[str, str | None]
    measurement: Measurement
    energy: EnergyFigures
    performance: Performance

    # Shorthands used across the stages -------------------------------------------------------

    @property
    def model_id(self) -> str:
        """The model: a Hub repo id, or a local folder's name (its full path is ``model.path``)."""
        return self.model.id

    @property
    def model_revision(self) -> str | None:
        """The Hub commit sha measured, None for a local folder."""
        return self.model.revision

    @property
    def model_source(self) -> str:
        """``"hub"`` (a Hub repo id) or ``"local"`` (a local folder)."""
        return self.model.source

    @property
    def parameters(self) -> int:
        """The model's parameter count (tied weights counted once)."""
        return self.model.parameters

    @property
    def random_weights(self) -> bool:
        """True when the weights were random (the figure measures the architecture only)."""
        return bool(self.model.random_weights)

    @property
    def workload_name(self) -> str:
        return self.workload.name

    @property
    def workload_version(self) -> str:
        return self.workload.version

    @property
    def hardware_class(self) -> str | None:
        return self.hardware.hardware_class

    @property
    def gpu_name(self) -> str | None:
        """The first measured GPU's name, None without a GPU."""
        return self.hardware.gpus[0].name if self.hardware.gpus else None

    @property
    def gpu_energy(self) -> Stats | None:
        """GPU energy in Wh per 1000 queries (the headline), or None when not measured."""
        return self.energy.gpu

    @property
    def tool_version(self) -> str:
        return self.tool.version

    def to_json(self) -> str:
        """The file form: indented JSON with a trailing newline (see ``encode_result``)."""
        from energy_badge.result.fields import result_to_json

        return json.dumps(result_to_json(self), indent=2, ensure_ascii=False) + "\n"
