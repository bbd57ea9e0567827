"""Compose workload -> run -> meter -> result: one measurement of one model on one task.

This is what ``energy-badge measure`` calls, and what bulk jobs will call. It decides what makes
a result non-canonical, opens the meter before loading the model (so a machine that cannot
measure fails in a second, not after a download), and assembles the result's JSON form.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from energy_badge import __version__
from energy_badge.errors import UsageError
from energy_badge.meter import MeterConfig, open_meter
from energy_badge.result import SCHEMA_VERSION, EnergyResult
from energy_badge.run import DTYPES
from energy_badge.stats import Stats, difference, percentile

#: Events passed to ``on_event``: (kind, details). Kinds: "stage" {"message"},
#: "phase" {"name", "max_repetitions"}, "repetition" {"phase", "repetition", "stats"}.
EventCallback = Callable[[str, dict[str, Any]], None]


@dataclass
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
            weight file is read); recorded, so such a result describes the architecture only and
            is never published as the model's badge.
        token: Hub token for gated/private models (never recorded).
        endpoint: Hub endpoint (defaults to ``HF_ENDPOINT`` / huggingface.co).
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


def non_canonical_reasons(workload: Any, options: MeasureOptions, full_queries: int) -> list[str]:
    """Return why a run with these options is not the canonical workload (empty: canonical).

    Args:
        workload: the full canonical workload of the task.
        options: the run's options.
        full_queries: the canonical number of queries.
    """
    reasons = []
    if not options.energy:
        reasons.append("performance only (--no-energy): no energy measured")
    if options.queries is not None and options.queries != full_queries:
        reasons.append(f"--queries {options.queries}: a subset of the {full_queries} canonical queries")
    if options.dtype is not None and options.dtype != workload.default_dtype:
        reasons.append(f"--dtype {options.dtype} instead of the canonical {workload.default_dtype}")
    if options.batch_size != workload.batch_size:
        reasons.append(f"--batch-size {options.batch_size} instead of the canonical {workload.batch_size}")
    return reasons


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


def _latency_ms(latencies_s: list[float], per: str) -> dict[str, Any]:
    values = [v * 1000.0 for v in latencies_s]
    return {
        "mean": sum(values) / len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
        "per": per,
    }


def _repetition_dicts(phase: Any) -> list[dict[str, Any]]:
    return [
        {
            "index": r.index,
            "passes": r.passes,
            "queries": r.queries,
            "seconds": r.seconds,
            "gpu_energy_j": r.gpu_energy_j,
            "cpu_energy_j": r.cpu_energy_j,
            "dram_energy_j": r.dram_energy_j,
            "nvml_counter_j": r.nvml_counter_j,
        }
        for r in phase.repetitions
    ]


def _stats_dict(stats: Stats | None) -> dict[str, Any] | None:
    return stats.to_dict() if stats is not None else None


def measure_model(
    model: str,
    task: str,
    options: MeasureOptions | None = None,
    *,
    on_event: EventCallback | None = None,
) -> EnergyResult:
    """Measure ``model`` on ``task``'s canonical workload and return a validated result.

    Args:
        model: a Hub repo id (``org/name``) or a local folder.
        task: one of :data:`energy_badge.workload.TASKS`.
        options: run settings; defaults are the canonical protocol.
        on_event: called with progress events (see :data:`EventCallback`).

    Returns:
        The result, validated against the schema (not yet written).

    Raises:
        UsageError: bad option values.
        CannotMeasureError: no GPU energy counter, or the GPU is shared (exit 3).
        InputError: model not found, gated, wrong task, unsafe (exit 4).
        RuntimeFailure: out of memory, NVML error mid-run (exit 5).
    """
    from energy_badge.run import load_runner
    from energy_badge.workload import load_workload

    options = options or MeasureOptions()
    emit = on_event or (lambda kind, details: None)
    if options.dtype is not None and options.dtype not in DTYPES:
        raise UsageError(f"--dtype must be one of {', '.join(DTYPES)}")
    if options.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")

    workload = load_workload(task)
    full_queries = len(workload.queries)
    if options.queries is not None:
        if not 1 <= options.queries <= full_queries:
            raise UsageError(f"--queries must be between 1 and {full_queries}")
        run_workload = workload.subset(options.queries)
    else:
        run_workload = workload
    reasons = non_canonical_reasons(workload, options, full_queries)

    config = options.meter
    emit("stage", {"message": "checking the energy meter" if options.energy else "performance-only run"})
    meter = open_meter(config, energy=options.energy)
    try:
        device = options.device
        if device is None and options.energy:
            device = f"cuda:{config.gpu_index}"
        emit("stage", {"message": f"loading {model}"})
        runner = load_runner(
            model,
            task,
            revision=options.revision,
            dtype=options.dtype or workload.default_dtype,
            device=device,
            batch_size=options.batch_size,
            trust_remote_code=options.trust_remote_code,
            allow_pickle=options.allow_pickle,
            random_weights=options.random_weights,
            token=options.token,
            endpoint=options.endpoint,
        )
        if options.energy and str(runner.device) != f"cuda:{config.gpu_index}":
            reasons.append(f"the model ran on {runner.device}, not on the metered GPU")
        emit("stage", {"message": f"tokenizing {len(run_workload.queries)} queries"})
        runner.prepare(run_workload)
        n_queries = len(run_workload.queries)

        warmup_queries: dict[str, int] = {}

        def phase(name: str, pass_fn: Callable[[], Any], measure_idle: bool) -> Any:
            emit(
                "phase",
                {
                    "name": name,
                    "max_repetitions": config.max_repetitions if options.energy else config.min_repetitions,
                },
            )

            def on_repetition(rep: Any, stats: Stats | None) -> None:
                emit("repetition", {"phase": name, "repetition": rep, "stats": stats})

            def warmup() -> None:
                stats = runner.run_warmup(config.warmup_max_s, prefill=name == "prefill")
                warmup_queries[name] = stats.queries

            return meter.measure(
                pass_fn, n_queries, warmup=warmup, on_repetition=on_repetition, measure_idle=measure_idle
            )

        main = phase("workload", runner.run_pass, measure_idle=options.energy)
        prefill = None
        if task == "text-generation":
            prefill = phase("prefill", runner.run_prefill_pass, measure_idle=False)
        hardware = meter.hardware
    finally:
        meter.close()

    isolation = dict(main.isolation)
    if isolation.get("other_processes"):
        reasons.append("other processes used the GPU during the run (--allow-shared-gpu)")
    if options.energy and main.gpu_wh_per_1k is None:  # pragma: no cover - the meter guarantees it
        raise RuntimeError("the energy meter returned no GPU energy")
    created_at = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    passes = main.pass_results
    latencies = [lat for p in passes for lat in p.latencies_s]
    seconds = sum(r.seconds for r in main.repetitions)
    queries_run = sum(r.queries for r in main.repetitions)
    output_tokens = sum(p.output_tokens for p in passes)
    per = "query" if options.batch_size == 1 else "batch"
    performance = {
        "queries_per_s": queries_run / seconds,
        "latency_ms": _latency_ms(latencies, per),
        "tokens_per_s": (output_tokens / seconds) if workload.generation is not None else None,
        "prefill_latency_ms": (
            _latency_ms([lat for p in prefill.pass_results for lat in p.latencies_s], per)
            if prefill
            else None
        ),
    }

    energy: dict[str, Any] = {
        "unit": "Wh per 1000 queries",
        "gpu": _stats_dict(main.gpu_wh_per_1k),
        "cpu": _stats_dict(main.cpu_wh_per_1k),
        "dram": _stats_dict(main.dram_wh_per_1k),
    }
    measurement: dict[str, Any] = {
        "meter": "zeus" if options.energy else "none",
        "energy_source": main.energy_source,
        "config": config.to_dict(),
        "warmup_seconds": main.warmup_seconds,
        "warmup_queries": warmup_queries["workload"],
        "idle": main.idle.to_dict() if main.idle is not None else None,
        "stopped_because": main.stopped_because,
        "repetitions": _repetition_dicts(main),
        "gpu_state": {
            "start": [s.to_dict() for s in main.gpu_state_start],
            "end": [s.to_dict() for s in (prefill or main).gpu_state_end],
        },
        "isolation": isolation,
    }
    if prefill is not None:
        measurement["prefill"] = {
            "stopped_because": prefill.stopped_because,
            "repetitions": _repetition_dicts(prefill),
        }
        if prefill.gpu_wh_per_1k is not None and main.gpu_wh_per_1k is not None:
            energy["prefill_gpu"] = prefill.gpu_wh_per_1k.to_dict()
            energy["decode_gpu"] = difference(main.gpu_wh_per_1k, prefill.gpu_wh_per_1k).to_dict()

    counts = runner.input_token_counts
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "energy-badge", "version": __version__},
        "created_at": created_at,
        "canonical": not reasons,
        "non_canonical_reasons": reasons,
        "model": runner.info.to_dict(),
        "task": task,
        "workload": {
            **run_workload.to_dict(),
            "input_tokens": {
                "total": sum(counts),
                "mean": sum(counts) / len(counts),
                "truncated_queries": runner.truncated_queries,
            },
        },
        "hardware": {
            "device": str(runner.device),
            "gpus": [g.to_dict() for g in hardware.gpus],
            "gpu_count": len(hardware.gpus),
            "driver_version": hardware.driver_version,
            "cuda_driver_version": hardware.cuda_driver_version,
            "hardware_class": hardware.hardware_class,
            "cpu": {"model": hardware.cpu_model, "count": hardware.cpu_count or os.cpu_count() or 1},
        },
        "software": _software_versions(),
        "measurement": measurement,
        "energy": energy,
        "performance": performance,
    }
    return EnergyResult.from_dict(data, source="the new result")
