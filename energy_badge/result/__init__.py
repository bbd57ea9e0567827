"""The result stage: the typed result of one measurement, and the one codec of its JSON file.

A result is an :class:`EnergyResult`: frozen dataclasses for its parts (the model, the workload,
the hardware, the measurement with its repetitions, the energy figures, the performance). Every
later stage takes this object; none of them reads the JSON. The parts produced by earlier stages
are their own types: :class:`~energy_badge.run.ModelInfo` (run), :class:`~energy_badge.meter.
Repetition`, :class:`~energy_badge.meter.IdleSample`, :class:`~energy_badge.meter.Isolation`
(meter), :class:`~energy_badge.hardware.GPUInfo` and :class:`~energy_badge.hardware.GPUState`
(hardware), :class:`~energy_badge.workload.GenerationSettings` (workload) and
:class:`~energy_badge.stats.Stats`.

The codec (:func:`decode_result`, :func:`encode_result`, :func:`parse_result`, :func:`load_result`,
:func:`write_result`) is the only code that touches the JSON form
(``schemas/energy-result.schema.json``). On the way in, the document is checked against the schema
(each error names its JSON path), its ``schema_version`` must be one this version reads, and the
policy (:mod:`energy_badge.policy`) checks that the file's ``canonical`` flag says what its content
says: a file edited to claim ``canonical: true`` is refused (exit 4). Before that,
:mod:`energy_badge.result.physics` refuses a result no GPU can produce (an energy not above zero, a
window's mean power outside what a GPU draws, a headline its repetitions do not give), on the way
in and on the way out. On the way out, the document
is checked against the schema before anything is written.

Versions: this version writes schema 1.1 and reads 1.0 and 1.1 (:data:`READABLE_SCHEMA_VERSIONS`).
1.1 adds, all optional: each window's ``crosscheck`` (the energy counter against sampled power)
and each repetition's ``temperature_c``; the measurement's (and prefill's) ``dropped`` repetitions
and ``stop`` outcome (:class:`~energy_badge.meter.DroppedRepetition`,
:class:`~energy_badge.meter.StopOutcome`); ``isolation.unknown_reason`` and ``attributed_pid``;
``config.sample_interval_s`` and ``strict``; each GPU's ``pci_bus_id``, ``mig_mode`` and
``cuda_match``; ``model.path`` (a local folder's full path, its ``id`` being the folder's name);
and ``workload.generation_config``
(:class:`~energy_badge.run.generation.GenerationRecord`); the measurement's ``protocol``
(``full`` or ``sampled``) and ``sampling`` record (:class:`~energy_badge.meter.sampling.
SamplingRecord`: seed, strata, sampled query indices and their costs, the two error parts;
its JSON in :mod:`energy_badge.result.sampling`); a reused idle sample's ``age_s`` and the
``config.idle_reuse_s`` limit (:mod:`energy_badge.meter.baseline`); and ``workload.preparation``
(:class:`~energy_badge.run.prepared.PreparationRecord`: inputs shared between models of a bulk
run). A 1.0 file lacks them: they read as None (``dropped`` as empty) and are not written back.
Fields added within 1.0 (``warmup_max_s``, ``warmup_queries``, ``nvml_counter_j``) may be absent
too; they read as None. ``nvml_counter_j`` is then written back as ``null`` (the schema's "not
recorded"); the others stay absent. The policy judges a 1.0 file by what it records: without a
cross-check or an explicit generation
configuration, those rules have nothing to object to.
"""

from energy_badge.result.codec import (
    decode_result,
    default_output_path,
    encode_result,
    load_result,
    parse_result,
    validate_file,
    write_result,
)
from energy_badge.result.model import (
    ENERGY_UNIT,
    READABLE_SCHEMA_VERSIONS,
    RESULT_SCHEMA,
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
    MeterName,
    MeterSettings,
    ModelSource,
    Performance,
    PhaseRecord,
    StopReason,
    ToolInfo,
    WorkloadRecord,
)

__all__ = [
    "ENERGY_UNIT",
    "READABLE_SCHEMA_VERSIONS",
    "RESULT_SCHEMA",
    "SCHEMA_VERSION",
    "TOOL_NAME",
    "CPUInfo",
    "EnergyFigures",
    "EnergyResult",
    "GPUStates",
    "HardwareRecord",
    "InputTokens",
    "Latency",
    "LatencyUnit",
    "Measurement",
    "MeterName",
    "MeterSettings",
    "ModelSource",
    "Performance",
    "PhaseRecord",
    "StopReason",
    "ToolInfo",
    "WorkloadRecord",
    "decode_result",
    "default_output_path",
    "encode_result",
    "load_result",
    "parse_result",
    "validate_file",
    "write_result",
]
