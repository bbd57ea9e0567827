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
says: a file edited to claim ``canonical: true`` is refused (exit 4). On the way out, the document
is checked against the schema before anything is written.

Older files: fields added to the schema after 1.0 (``warmup_max_s``, ``warmup_queries``,
``nvml_counter_j``) may be absent; they read as None. ``nvml_counter_j`` is then written back as
``null`` (the schema's "not recorded"); the others stay absent.
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
