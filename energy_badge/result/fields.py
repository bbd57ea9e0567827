"""The field-by-field mapping between :class:`~energy_badge.result.EnergyResult` and its JSON form.

Unchecked on purpose: :mod:`energy_badge.result.codec` checks a document against the schema and
the policy before :func:`result_from_json` reads it, and after :func:`result_to_json` writes it.
Everything else goes through the codec.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from energy_badge.errors import InvalidFileError
from energy_badge.hardware import GPUInfo, GPUProcess, GPUState
from energy_badge.meter import IdleSample, Isolation, Repetition
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
from energy_badge.run.runner import ModelInfo
from energy_badge.stats import Stats
from energy_badge.workload import GenerationSettings

__all__ = ["result_from_json", "result_to_json"]

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
        generation=GenerationSettings.from_dict(d["generation"]) if d["generation"] is not None else None,
        default_dtype=d["default_dtype"],
        source=d["source"],
        input_tokens=InputTokens(tokens["total"], tokens["mean"], tokens["truncated_queries"]),
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
        config=MeterSettings(**{"warmup_max_s": None, **d["config"]}),
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
        ),
        prefill=(
            PhaseRecord(prefill["stopped_because"], tuple(_repetition(r) for r in prefill["repetitions"]))
            if prefill is not None
            else None
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


# --------------------------------------------------------------------------------------------
# Encoding


def result_to_json(result: EnergyResult) -> dict[str, object]:
    """The JSON form of a result, in the file's key order (the schema's)."""
    m = result.measurement
    measurement: dict[str, object] = {
        "meter": m.meter,
        "energy_source": m.energy_source,
        "config": _encode_settings(m.config),
        "warmup_seconds": m.warmup_seconds,
    }
    if m.warmup_queries is not None:
        measurement["warmup_queries"] = m.warmup_queries
    measurement.update(
        {
            "idle": _encode_idle(m.idle),
            "stopped_because": m.stopped_because,
            "repetitions": [_encode_repetition(r) for r in m.repetitions],
            "gpu_state": {
                "start": [_encode_state(s) for s in m.gpu_state.start],
                "end": [_encode_state(s) for s in m.gpu_state.end],
            },
            "isolation": {
                "checked": m.isolation.checked,
                "other_processes": [_encode_process(p) for p in m.isolation.other_processes],
                "allow_shared_gpu": m.isolation.allow_shared_gpu,
            },
        }
    )
    if m.prefill is not None:
        measurement["prefill"] = {
            "stopped_because": m.prefill.stopped_because,
            "repetitions": [_encode_repetition(r) for r in m.prefill.repetitions],
        }
    e = result.energy
    energy: dict[str, object] = {
        "unit": e.unit,
        "gpu": _encode_stats(e.gpu),
        "cpu": _encode_stats(e.cpu),
        "dram": _encode_stats(e.dram),
    }
    if e.prefill_gpu is not None:
        energy["prefill_gpu"] = _encode_stats(e.prefill_gpu)
    if e.decode_gpu is not None:
        energy["decode_gpu"] = _encode_stats(e.decode_gpu)
    w, h, p = result.workload, result.hardware, result.performance
    return {
        "schema_version": result.schema_version,
        "tool": {"name": result.tool.name, "version": result.tool.version},
        "created_at": result.created_at,
        "canonical": result.canonical,
        "non_canonical_reasons": list(result.non_canonical_reasons),
        "model": _encode_model(result.model),
        "task": result.task,
        "workload": {
            "name": w.name,
            "version": w.version,
            "task": w.task,
            "sha256": w.sha256,
            "queries": w.queries,
            "batch_size": w.batch_size,
            "generation": w.generation.to_dict() if w.generation is not None else None,
            "default_dtype": w.default_dtype,
            "source": w.source,
            "input_tokens": {
                "total": w.input_tokens.total,
                "mean": w.input_tokens.mean,
                "truncated_queries": w.input_tokens.truncated_queries,
            },
        },
        "hardware": {
            "device": h.device,
            "gpus": [_encode_gpu(g) for g in h.gpus],
            "gpu_count": h.gpu_count,
            "driver_version": h.driver_version,
            "cuda_driver_version": h.cuda_driver_version,
            "hardware_class": h.hardware_class,
            "cpu": {"model": h.cpu.model, "count": h.cpu.count},
        },
        "software": dict(result.software),
        "measurement": measurement,
        "energy": energy,
        "performance": {
            "queries_per_s": p.queries_per_s,
            "latency_ms": _encode_latency(p.latency_ms),
            "tokens_per_s": p.tokens_per_s,
            "prefill_latency_ms": _encode_latency(p.prefill_latency_ms) if p.prefill_latency_ms else None,
        },
    }


def _encode_model(m: ModelInfo) -> dict[str, object]:
    data: dict[str, object] = {
        "id": m.id,
        "source": m.source,
        "revision": m.revision,
        "content_sha256": m.content_sha256,
        "architecture": m.architecture,
        "parameters": m.parameters,
        "dtype": m.dtype,
        "trust_remote_code": m.trust_remote_code,
        "allow_pickle": m.allow_pickle,
        "random_weights": m.random_weights,
    }
    if m.note is not None:
        data["note"] = m.note
    return data


def _encode_gpu(g: GPUInfo) -> dict[str, object]:
    return {
        "index": g.index,
        "name": g.name,
        "uuid": g.uuid,
        "memory_total_mib": g.memory_total_mib,
        "power_limit_w": g.power_limit_w,
        "energy_counter": g.energy_counter,
        "persistence_mode": g.persistence_mode,
    }


def _encode_settings(c: MeterSettings) -> dict[str, object]:
    data: dict[str, object] = {
        "min_repetitions": c.min_repetitions,
        "max_repetitions": c.max_repetitions,
        "target_ci_rel": c.target_ci_rel,
        "min_window_s": c.min_window_s,
        "idle_seconds": c.idle_seconds,
        "warmup_passes": c.warmup_passes,
    }
    if c.warmup_max_s is not None:
        data["warmup_max_s"] = c.warmup_max_s
    data.update({"gpu_index": c.gpu_index, "allow_shared_gpu": c.allow_shared_gpu})
    return data


def _encode_idle(i: IdleSample | None) -> dict[str, object] | None:
    if i is None:
        return None
    return {
        "seconds": i.seconds,
        "gpu_energy_j": i.gpu_energy_j,
        "gpu_power_w": i.gpu_power_w,
        "nvml_counter_j": i.nvml_counter_j,
    }


def _encode_repetition(r: Repetition) -> dict[str, object]:
    return {
        "index": r.index,
        "passes": r.passes,
        "queries": r.queries,
        "seconds": r.seconds,
        "gpu_energy_j": r.gpu_energy_j,
        "cpu_energy_j": r.cpu_energy_j,
        "dram_energy_j": r.dram_energy_j,
        "nvml_counter_j": r.nvml_counter_j,
    }


def _encode_state(s: GPUState) -> dict[str, object]:
    return {
        "index": s.index,
        "temperature_c": s.temperature_c,
        "sm_clock_mhz": s.sm_clock_mhz,
        "mem_clock_mhz": s.mem_clock_mhz,
        "power_w": s.power_w,
    }


def _encode_process(p: GPUProcess) -> dict[str, object]:
    return {"pid": p.pid, "used_memory_mib": p.used_memory_mib, "gpu_index": p.gpu_index, "kind": p.kind}


def _encode_stats(s: Stats | None) -> dict[str, object] | None:
    if s is None:
        return None
    return {
        "n": s.n,
        "mean": s.mean,
        "std": s.std,
        "ci95_low": s.ci95_low,
        "ci95_high": s.ci95_high,
        "ci95_half_width": s.ci95_half_width,
        "samples": list(s.samples),
    }


def _encode_latency(lat: Latency) -> dict[str, object]:
    return {
        "mean": lat.mean,
        "p50": lat.p50,
        "p90": lat.p90,
        "p95": lat.p95,
        "p99": lat.p99,
        "max": lat.max,
        "per": lat.per,
    }
