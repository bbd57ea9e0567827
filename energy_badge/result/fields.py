"""The field-by-field mapping between :class:`~energy_badge.result.EnergyResult` and its JSON form.

Unchecked on purpose: :mod:`energy_badge.result.codec` checks a document against the schema and
the policy before :func:`result_from_json` reads it, and after :func:`result_to_json` writes it.
Everything else goes through the codec. Fields added in 1.1 are read as None (or empty) when a
file lacks them, and written only when they hold something, so a 1.0 file reads and writes back
without gaining them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from energy_badge.errors import InvalidFileError
from energy_badge.hardware import GPUInfo, GPUProcess, GPUState
from energy_badge.meter import (
    CrossCheck,
    Drift,
    DroppedRepetition,
    IdleSample,
    Isolation,
    Repetition,
    StopOutcome,
)
from energy_badge.result.model import (
    CPUInfo,
    EnergyFigures,
    EnergyResult,
    GPUStates,
    HardwareRecord,
    InputTokens,
    Latency,
    Measurement,
    MeterSettings,
    Performance,
    PhaseRecord,
    ToolInfo,
    WorkloadRecord,
)
from energy_badge.result.sampling import sampling_from_json
from energy_badge.run.generation import GenerationRecord
from energy_badge.run.prepared import PreparationRecord
from energy_badge.run.reasoning import ReasoningRecord
from energy_badge.run.runner import ModelInfo
from energy_badge.stats import Stats
from energy_badge.workload import generation_from_dict

__all__ = ["result_from_json", "result_to_json"]

from energy_badge.result.encoding import result_to_json  # noqa: E402  (re-exported: the mapping's other half)

# --------------------------------------------------------------------------------------------
# Decoding (the document has passed the schema, so keys and types are as it says)

_Doc = Mapping[str, Any]


def result_from_json(d: _Doc) -> EnergyResult:
    """A result from a JSON form that has passed the schema (not checked here)."""
    return EnergyResult(
        schema_version=d["schema_version"],
        tool=ToolInfo(d["tool"]["name"], d["tool"]["version"]),
        created_at=d["created_at"],
        canonical=d["canonical"],
        non_canonical_reasons=tuple(d["non_canonical_reasons"]),
        model=_model(d["model"]),
        task=d["task"],
        workload=_workload(d["workload"]),
        hardware=_hardware(d["hardware"]),
        software=dict(d["software"]),
        measurement=_measurement(d["measurement"]),
        energy=_energy(d["energy"]),
        performance=_performance(d["performance"]),
    )


def _model(d: _Doc) -> ModelInfo:
    return ModelInfo(
        id=d["id"],
        source=d["source"],
        revision=d["revision"],
        content_sha256=d["content_sha256"],
        architecture=d["architecture"],
        parameters=d["parameters"],
        dtype=d["dtype"],
        trust_remote_code=d["trust_remote_code"],
        allow_pickle=d["allow_pickle"],
        random_weights=d["random_weights"],
        note=d.get("note"),
        path=d.get("path"),
    )


def _workload(d: _Doc) -> WorkloadRecord:
    tokens = d["input_tokens"]
    return WorkloadRecord(
        name=d["name"],
        version=d["version"],
        task=d["task"],
        sha256=d["sha256"],
        queries=d["queries"],
        batch_size=d["batch_size"],
        generation=generation_from_dict(d["generation"]) if d["generation"] is not None else None,
        default_dtype=d["default_dtype"],
        source=d["source"],
        input_tokens=InputTokens(tokens["total"], tokens["mean"], tokens["truncated_queries"]),
        generation_config=(
            GenerationRecord.from_dict(d["generation_config"])
            if d.get("generation_config") is not None
            else None
        ),
        reasoning=ReasoningRecord.from_dict(d["reasoning"]) if d.get("reasoning") is not None else None,
        preparation=(
            PreparationRecord.from_dict(d["preparation"]) if d.get("preparation") is not None else None
        ),
    )


def _hardware(d: _Doc) -> HardwareRecord:
    return HardwareRecord(
        device=d["device"],
        gpus=tuple(GPUInfo(**g) for g in d["gpus"]),
        gpu_count=d["gpu_count"],
        driver_version=d["driver_version"],
        cuda_driver_version=d["cuda_driver_version"],
        hardware_class=d["hardware_class"],
        cpu=CPUInfo(d["cpu"]["model"], d["cpu"]["count"]),
    )


def _measurement(d: _Doc) -> Measurement:
    isolation = d["isolation"]
    prefill = d.get("prefill")
    return Measurement(
        meter=d["meter"],
        energy_source=d["energy_source"],
        config=MeterSettings(
            **{"warmup_max_s": None, "sample_interval_s": None, "strict": None, **d["config"]}
        ),
        warmup_seconds=d["warmup_seconds"],
        warmup_queries=d.get("warmup_queries"),
        idle=_idle(d["idle"]),
        stopped_because=d["stopped_because"],
        repetitions=tuple(_repetition(r) for r in d["repetitions"]),
        gpu_state=GPUStates(
            start=tuple(GPUState(**s) for s in d["gpu_state"]["start"]),
            end=tuple(GPUState(**s) for s in d["gpu_state"]["end"]),
        ),
        isolation=Isolation(
            checked=isolation["checked"],
            other_processes=tuple(_process(p) for p in isolation["other_processes"]),
            allow_shared_gpu=isolation["allow_shared_gpu"],
            unknown_reason=isolation.get("unknown_reason"),
            attributed_pid=isolation.get("attributed_pid"),
        ),
        prefill=(
            PhaseRecord(
                prefill["stopped_because"],
                tuple(_repetition(r) for r in prefill["repetitions"]),
                tuple(_dropped(r) for r in prefill.get("dropped", [])),
                _outcome(prefill.get("stop")),
            )
            if prefill is not None
            else None
        ),
        dropped=tuple(_dropped(r) for r in d.get("dropped", [])),
        outcome=_outcome(d.get("stop")),
        protocol=d.get("protocol"),
        sampling=sampling_from_json(d.get("sampling")),
    )


def _crosscheck(d: _Doc | None) -> CrossCheck | None:
    if d is None:
        return None
    return CrossCheck(
        power_energy_j=d["power_energy_j"],
        samples=d["samples"],
        sample_interval_s=d["sample_interval_s"],
        max_gap_s=d["max_gap_s"],
        counter_update_s=d["counter_update_s"],
        bound_j=d["bound_j"],
        verdict=d["verdict"],
    )


def _dropped(d: _Doc) -> DroppedRepetition:
    return DroppedRepetition(_repetition(d["repetition"]), d["reason"], d["detail"])


def _outcome(d: _Doc | None) -> StopOutcome | None:
    if d is None:
        return None
    drift = d["drift"]
    return StopOutcome(
        rule=d["rule"],
        target_met=d["target_met"],
        interval=d["interval"],
        t_half_width=d["t_half_width"],
        drift=Drift(
            detected=drift["detected"],
            reason=drift["reason"],
            slope_rel=drift["slope_rel"],
            slope_t=drift["slope_t"],
            temperature_rise_c=drift["temperature_rise_c"],
        ),
    )


def _idle(d: _Doc | None) -> IdleSample | None:
    if d is None:
        return None
    return IdleSample(
        seconds=d["seconds"],
        gpu_energy_j=d["gpu_energy_j"],
        gpu_power_w=d["gpu_power_w"],
        nvml_counter_j=d.get("nvml_counter_j"),
        crosscheck=_crosscheck(d.get("crosscheck")),
        age_s=d.get("age_s"),
    )


def _repetition(d: _Doc) -> Repetition:
    return Repetition(
        index=d["index"],
        passes=d["passes"],
        queries=d["queries"],
        seconds=d["seconds"],
        gpu_energy_j=d["gpu_energy_j"],
        cpu_energy_j=d["cpu_energy_j"],
        dram_energy_j=d["dram_energy_j"],
        nvml_counter_j=d.get("nvml_counter_j"),
        crosscheck=_crosscheck(d.get("crosscheck")),
        temperature_c=d.get("temperature_c"),
    )


def _process(d: _Doc) -> GPUProcess:
    try:
        return GPUProcess(
            pid=d["pid"], used_memory_mib=d.get("used_memory_mib"), gpu_index=d["gpu_index"], kind=d["kind"]
        )
    except KeyError as err:
        raise InvalidFileError(
            f"$.measurement.isolation.other_processes: a process without {err.args[0]!r}"
        ) from None


def _energy(d: _Doc) -> EnergyFigures:
    return EnergyFigures(
        gpu=_stats(d["gpu"]),
        cpu=_stats(d["cpu"]),
        dram=_stats(d["dram"]),
        prefill_gpu=_stats(d.get("prefill_gpu")),
        decode_gpu=_stats(d.get("decode_gpu")),
        unit=d["unit"],
    )


def _stats(d: _Doc | None) -> Stats | None:
    if d is None:
        return None
    return Stats(
        n=d["n"],
        mean=d["mean"],
        std=d["std"],
        ci95_low=d["ci95_low"],
        ci95_high=d["ci95_high"],
        ci95_half_width=d["ci95_half_width"],
        samples=tuple(d["samples"]),
    )


def _performance(d: _Doc) -> Performance:
    prefill = d["prefill_latency_ms"]
    return Performance(
        queries_per_s=d["queries_per_s"],
        latency_ms=_latency(d["latency_ms"]),
        tokens_per_s=d["tokens_per_s"],
        prefill_latency_ms=_latency(prefill) if prefill is not None else None,
    )


def _latency(d: _Doc) -> Latency:
    return Latency(d["mean"], d["p50"], d["p90"], d["p95"], d["p99"], d["max"], d["per"])
