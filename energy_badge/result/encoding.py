"""Encoding half of :mod:`energy_badge.result.fields`: a result to its JSON form (see there)."""

from __future__ import annotations

from energy_badge.hardware import GPUInfo, GPUProcess, GPUState
from energy_badge.meter import CrossCheck, DroppedRepetition, IdleSample, Isolation, Repetition, StopOutcome
from energy_badge.result.model import EnergyResult, Latency, MeterSettings
from energy_badge.result.sampling import sampling_to_json
from energy_badge.run.runner import ModelInfo
from energy_badge.stats import Stats

__all__ = ["result_to_json"]


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
            "isolation": _encode_isolation(m.isolation),
        }
    )
    if m.prefill is not None:
        prefill: dict[str, object] = {
            "stopped_because": m.prefill.stopped_because,
            "repetitions": [_encode_repetition(r) for r in m.prefill.repetitions],
        }
        _encode_rule(prefill, m.prefill.dropped, m.prefill.outcome)
        measurement["prefill"] = prefill
    _encode_rule(measurement, m.dropped, m.outcome)
    if m.protocol is not None:
        measurement["protocol"] = m.protocol
    if m.sampling is not None:
        measurement["sampling"] = sampling_to_json(m.sampling)
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
            **(
                {"generation_config": w.generation_config.to_dict()}
                if w.generation_config is not None
                else {}
            ),
            **({"reasoning": w.reasoning.to_dict()} if w.reasoning is not None else {}),
            **({"preparation": w.preparation.to_dict()} if w.preparation is not None else {}),
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
    if m.path is not None:
        data["path"] = m.path
    return data


def _encode_gpu(g: GPUInfo) -> dict[str, object]:
    data: dict[str, object] = {
        "index": g.index,
        "name": g.name,
        "uuid": g.uuid,
        "memory_total_mib": g.memory_total_mib,
        "power_limit_w": g.power_limit_w,
        "energy_counter": g.energy_counter,
        "persistence_mode": g.persistence_mode,
    }
    for key, value in (("pci_bus_id", g.pci_bus_id), ("mig_mode", g.mig_mode), ("cuda_match", g.cuda_match)):
        if value is not None:
            data[key] = value
    return data


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
    if c.sample_interval_s is not None:
        data["sample_interval_s"] = c.sample_interval_s
    if c.strict is not None:
        data["strict"] = c.strict
    if c.idle_reuse_s is not None:
        data["idle_reuse_s"] = c.idle_reuse_s
    return data


def _encode_idle(i: IdleSample | None) -> dict[str, object] | None:
    if i is None:
        return None
    return {
        "seconds": i.seconds,
        "gpu_energy_j": i.gpu_energy_j,
        "gpu_power_w": i.gpu_power_w,
        "nvml_counter_j": i.nvml_counter_j,
        **({"crosscheck": _encode_crosscheck(i.crosscheck)} if i.crosscheck is not None else {}),
        **({"age_s": i.age_s} if i.age_s is not None else {}),
    }


def _encode_repetition(r: Repetition) -> dict[str, object]:
    data: dict[str, object] = {
        "index": r.index,
        "passes": r.passes,
        "queries": r.queries,
        "seconds": r.seconds,
        "gpu_energy_j": r.gpu_energy_j,
        "cpu_energy_j": r.cpu_energy_j,
        "dram_energy_j": r.dram_energy_j,
        "nvml_counter_j": r.nvml_counter_j,
    }
    if r.crosscheck is not None:
        data["crosscheck"] = _encode_crosscheck(r.crosscheck)
    if r.temperature_c is not None:
        data["temperature_c"] = r.temperature_c
    return data


def _encode_crosscheck(c: CrossCheck) -> dict[str, object]:
    return {
        "power_energy_j": c.power_energy_j,
        "samples": c.samples,
        "sample_interval_s": c.sample_interval_s,
        "max_gap_s": c.max_gap_s,
        "counter_update_s": c.counter_update_s,
        "bound_j": c.bound_j,
        "verdict": c.verdict,
    }


def _encode_isolation(i: Isolation) -> dict[str, object]:
    data: dict[str, object] = {
        "checked": i.checked,
        "other_processes": [_encode_process(p) for p in i.other_processes],
        "allow_shared_gpu": i.allow_shared_gpu,
    }
    if i.unknown_reason is not None:
        data["unknown_reason"] = i.unknown_reason
    if i.attributed_pid is not None:
        data["attributed_pid"] = i.attributed_pid
    return data


def _encode_rule(
    phase: dict[str, object], dropped: tuple[DroppedRepetition, ...], outcome: StopOutcome | None
) -> None:
    """Add a phase's dropped repetitions and stop outcome (1.1 fields) when it has them."""
    if dropped or outcome is not None:
        phase["dropped"] = [
            {"repetition": _encode_repetition(d.repetition), "reason": d.reason, "detail": d.detail}
            for d in dropped
        ]
    if outcome is not None:
        drift = outcome.drift
        phase["stop"] = {
            "rule": outcome.rule,
            "target_met": outcome.target_met,
            "interval": outcome.interval,
            "t_half_width": outcome.t_half_width,
            "drift": {
                "detected": drift.detected,
                "reason": drift.reason,
                "slope_rel": drift.slope_rel,
                "slope_t": drift.slope_t,
                "temperature_rise_c": drift.temperature_rise_c,
            },
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
