"""Schema-valid result files for tests and examples: SYNTHETIC data, not measurements.

:func:`make_result` builds the JSON form of a result (``schemas/energy-result.schema.json``) from a
few numbers, keeping the file self-consistent: the per-repetition joules and seconds give exactly
the per-repetition Wh per 1000 queries, whose mean, standard deviation and 95 % interval are
``energy.gpu``. The workload block is the shipped canonical workload's own (name, version, sha256).
Every result says what it is in ``model.note`` (:data:`SYNTHETIC_NOTE` by default), so a file made
here can never pass for a measurement.

:func:`example_result` is the synthetic result shipped as ``examples/example-result.SYNTHETIC.json``;
``python tests/results_factory.py --example`` prints it (see examples/README.md).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from energy_badge.policy import canonical_reasons
from energy_badge.result import EnergyResult, decode_result
from energy_badge.result.fields import result_from_json
from energy_badge.stats import summarize
from energy_badge.workload import load_workload

SYNTHETIC_NOTE = "synthetic test result, not a measurement"
H100 = "NVIDIA H100 80GB HBM3"
FAKE_REVISION = "0123456789abcdef0123456789abcdef01234567"
FAKE_CONTENT_SHA256 = "ab" * 32

# Mean input tokens per query of the canonical workloads (bert-base-uncased WordPiece, rounded).
_MEAN_INPUT_TOKENS = {
    "text-classification": 155,
    "sentence-similarity": 23,
    "question-answering": 11,
    "summarization": 384,
    "text-generation": 369,
    # Issue 14's media tasks: no text input, but text-to-image's prompts (COCO-caption-like).
    "image-classification": 0,
    "object-detection": 0,
    "automatic-speech-recognition": 0,
    "image-to-text": 0,
    "text-to-image": 15,
}

_ARCHITECTURES = {
    "text-classification": "BertForSequenceClassification",
    "sentence-similarity": "BertModel",
    "question-answering": "BertForQuestionAnswering",
    "summarization": "BartForConditionalGeneration",
    "text-generation": "LlamaForCausalLM",
    "image-classification": "ViTForImageClassification",
    "object-detection": "DetrForObjectDetection",
    "automatic-speech-recognition": "WhisperForConditionalGeneration",
    "image-to-text": "BlipForConditionalGeneration",
    "text-to-image": "StableDiffusionPipeline",
}


def make_result(
    *,
    model_id: str = "alice/tiny-classifier",
    task: str = "text-classification",
    source: str = "hub",
    samples: Sequence[float] = (0.412, 0.418, 0.421, 0.415, 0.424),
    canonical: bool | None = None,
    queries: int | None = None,
    batch_size: int = 1,
    energy: bool = True,
    random_weights: bool | None = False,
    parameters: int = 4_386_178,
    architecture: str | None = None,
    dtype: str | None = None,
    gpu_name: str | None = H100,
    hardware_class: str | None = "H100",
    queries_per_s: float | None = None,
    passes: int = 2,
    idle_power_w: float = 68.0,
    created_at: str = "2026-11-20T09:30:00Z",
    tool_version: str = "0.1.0",
    note: str | None = SYNTHETIC_NOTE,
    crosscheck: str | None = None,
    isolation_unknown: str | None = None,
    allow_shared_gpu: bool = False,
    mig_mode: bool | None = None,
    generation_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a schema-valid result dict (checked with :func:`energy_badge.result.decode_result`).

    The ``canonical`` flag and ``non_canonical_reasons`` are what the policy derives from the
    content (:func:`energy_badge.policy.canonical_reasons`), as ``measure`` writes them.

    Args:
        model_id: the model (a Hub repo id when ``source`` is ``"hub"``).
        task: the task; the shipped canonical workload of that task is named in ``workload``.
        source: ``"hub"`` (a revision sha is recorded) or ``"local"`` (a content sha256 is).
        samples: GPU energy of each repetition, Wh per 1000 queries (at least one).
        canonical: None: whatever the content is; False: a non-canonical result (when nothing
            else makes it so, a ``--queries 100`` subset); True: the content must be canonical.
        queries: run only the first N queries of the workload (a non-canonical subset).
        batch_size: the workload's batch size (anything but 1 is non-canonical).
        energy: False for a performance-only run (``--no-energy``): no GPU energy, meter ``none``.
        random_weights: the ``model.random_weights`` flag (True is non-canonical).
        parameters: the model's parameter count.
        architecture: the class that ran (default: a typical one for the task).
        dtype: the weights' dtype (default: the workload's default dtype).
        gpu_name, hardware_class: the GPU; ``gpu_name=None`` records no GPU at all.
        queries_per_s: throughput; sets each repetition's seconds and the latencies. None: 180,
            or, where that would put a repetition's mean GPU power outside 20-500 W (the
            physical check refuses below 1 W and above 1.2 x the 700 W power limit), the
            throughput that gives 500 W (large energies) or 20 W (tiny ones).
        passes: workload passes per repetition.
        idle_power_w: the idle GPU power recorded before the run.
        created_at: when the result was made (RFC 3339).
        tool_version: the energy-badge version that "measured" it.
        note: ``model.note``; say that the data is synthetic.
        crosscheck: a cross-check verdict (``agree``, ``disagree``, ``inconclusive``) recorded on
            the idle sample and every repetition (schema 1.1); None records none (a 1.0 file).
        isolation_unknown: why the isolation check could not be completed (schema 1.1).
        allow_shared_gpu: the run's ``--allow-shared-gpu``.
        mig_mode: the GPU's MIG mode (schema 1.1); None records none.
        generation_config: ``workload.generation_config``, the configuration given to
            ``generate()`` (schema 1.1).

    Any of the 1.1 knobs makes the file schema 1.1; without them it is a 1.0 file.

    Returns:
        The result's JSON form.
    """
    if not samples:
        raise ValueError("at least one sample is needed")
    if queries_per_s is None:
        queries_per_s = _plausible_throughput(samples)
    workload = load_workload(task)
    plain = (
        queries is None
        and batch_size == 1
        and energy
        and not random_weights
        and dtype in (None, workload.default_dtype)
    )
    if canonical is False and plain:
        queries = 100
    if queries is not None:
        workload = workload.subset(queries)
    summary = workload.to_dict()
    summary["batch_size"] = batch_size
    queries = summary["queries"]
    generation = task in ("text-generation", "summarization")
    new_tokens = (summary["generation"] or {}).get("max_new_tokens", 0) if generation else 0

    repetitions = []
    for index, wh_per_1k in enumerate(samples):
        rep_queries = queries * passes
        repetitions.append(
            {
                "index": index,
                "passes": passes,
                "queries": rep_queries,
                "seconds": round(rep_queries / queries_per_s, 6),
                "gpu_energy_j": wh_per_1k * rep_queries / 1000 * 3600,
                "cpu_energy_j": None,
                "dram_energy_j": None,
            }
        )
    # The headline, recomputed from the repetitions exactly as the meter does.
    gpu = summarize([r["gpu_energy_j"] / r["queries"] * 1000 / 3600 for r in repetitions])
    latency_ms = 1000.0 / queries_per_s
    latency = {
        "mean": round(latency_ms, 4),
        "p50": round(latency_ms * 0.97, 4),
        "p90": round(latency_ms * 1.12, 4),
        "p95": round(latency_ms * 1.2, 4),
        "p99": round(latency_ms * 1.45, 4),
        "max": round(latency_ms * 2.1, 4),
        "per": "query",
    }
    gpus = []
    if gpu_name is not None:
        gpus.append(
            {
                "index": 0,
                "name": gpu_name,
                "uuid": "GPU-00000000-0000-0000-0000-000000000000",
                "memory_total_mib": 81559.0,
                "power_limit_w": 700.0,
                "energy_counter": True,
                "persistence_mode": True,
            }
        )
    gpu_state = {"index": 0, "temperature_c": 34.0, "sm_clock_mhz": 1980.0, "mem_clock_mhz": 2619.0,
                 "power_w": idle_power_w}  # fmt: skip
    model = {
        "id": model_id,
        "source": source,
        "revision": FAKE_REVISION if source == "hub" else None,
        "content_sha256": FAKE_CONTENT_SHA256 if source == "local" else None,
        "architecture": architecture or _ARCHITECTURES[task],
        "parameters": parameters,
        "dtype": dtype or summary["default_dtype"],
        "trust_remote_code": False,
        "allow_pickle": False,
        "random_weights": random_weights,
    }
    if note is not None:
        model["note"] = note
    data = {
        "schema_version": "1.0",
        "tool": {"name": "energy-badge", "version": tool_version},
        "created_at": created_at,
        "canonical": True,
        "non_canonical_reasons": [],
        "model": model,
        "task": task,
        "workload": {
            **summary,
            "input_tokens": {
                "total": _MEAN_INPUT_TOKENS[task] * queries,
                "mean": float(_MEAN_INPUT_TOKENS[task]),
                "truncated_queries": 0,
            },
        },
        "hardware": {
            "device": "cuda:0",
            "gpus": gpus,
            "gpu_count": len(gpus),
            "driver_version": "570.124.06" if gpus else None,
            "cuda_driver_version": "12.8" if gpus else None,
            "hardware_class": hardware_class,
            "cpu": {"model": "Intel(R) Xeon(R) Platinum 8480+", "count": 16},
        },
        "software": {
            "python": "3.12.8",
            "energy_badge": tool_version,
            "torch": "2.13.0",
            "transformers": "5.23.0",
            "huggingface_hub": "2.4.0",
            "zeus": "0.11.0",
            "nvidia_ml_py": "12.570.86",
            "safetensors": "0.6.2",
            "tokenizers": "0.22.1",
            "cuda_runtime": "12.8",
        },
        "measurement": {
            "meter": "zeus",
            "energy_source": "nvml_total_energy_counter",
            "config": {
                "min_repetitions": 3,
                "max_repetitions": 10,
                "target_ci_rel": 0.02,
                "min_window_s": 5.0,
                "idle_seconds": 5.0,
                "warmup_passes": 1,
                "gpu_index": 0,
                "allow_shared_gpu": False,
            },
            "warmup_seconds": round(queries / queries_per_s, 6),
            "idle": {"seconds": 5.0, "gpu_energy_j": idle_power_w * 5.0, "gpu_power_w": idle_power_w},
            "stopped_because": "ci_target_met",
            "repetitions": repetitions,
            "gpu_state": {"start": [gpu_state] if gpus else [], "end": [gpu_state] if gpus else []},
            "isolation": {"checked": True, "other_processes": [], "allow_shared_gpu": False},
        },
        "energy": {"unit": "Wh per 1000 queries", "gpu": gpu.to_dict(), "cpu": None, "dram": None},
        "performance": {
            "queries_per_s": queries_per_s,
            "latency_ms": latency,
            "tokens_per_s": queries_per_s * new_tokens if generation else None,
            "prefill_latency_ms": None,
        },
    }
    v11 = (crosscheck, isolation_unknown, mig_mode, generation_config) != (None, None, None, None)
    if v11:
        data["schema_version"] = "1.1"
    measurement = data["measurement"]
    measurement["config"]["allow_shared_gpu"] = measurement["isolation"]["allow_shared_gpu"] = (
        allow_shared_gpu
    )
    if crosscheck is not None:
        for window in [*measurement["repetitions"], measurement["idle"]]:
            power_j = window["gpu_energy_j"] / (1.25 if crosscheck == "disagree" else 1.0)
            settled = crosscheck != "inconclusive"
            window["crosscheck"] = {
                "power_energy_j": power_j,
                "samples": 251 if settled else 4,
                "sample_interval_s": 0.02,
                "max_gap_s": 0.02 if settled else 2.0,
                "counter_update_s": 0.1,
                "bound_j": 0.1 * power_j + 0.2 * power_j / 5.0 if settled else None,
                "verdict": crosscheck,
            }
    if isolation_unknown is not None:
        measurement["isolation"]["unknown_reason"] = isolation_unknown
    if mig_mode is not None:
        for gpu in data["hardware"]["gpus"]:
            gpu["mig_mode"] = mig_mode
    if generation_config is not None:
        data["workload"]["generation_config"] = generation_config
    if not energy:
        measurement = data["measurement"]
        measurement.update(meter="none", energy_source=None, idle=None, stopped_because="performance_only")
        for rep in measurement["repetitions"]:
            rep["gpu_energy_j"] = None
        data["energy"]["gpu"] = None
    reasons = canonical_reasons(result_from_json(data))
    if canonical and reasons:
        raise ValueError(f"asked for a canonical result, but: {'; '.join(reasons)}")
    data["canonical"], data["non_canonical_reasons"] = not reasons, reasons
    decode_result(data, source="results_factory")
    return data


def _plausible_throughput(samples: Sequence[float]) -> float:
    """180 queries/s, unless the samples' mean GPU power at that rate (Wh/1k x 3.6 x queries/s)
    would be above 500 W or below 20 W: then the rate that gives that bound (the largest sample
    staying at or under 500 W)."""
    high, low = max(samples), min(samples)
    if high * 3.6 * 180.0 > 500.0:
        return 500.0 / (3.6 * high)
    if 0 < low and low * 3.6 * 180.0 < 20.0:
        return min(20.0 / (3.6 * low), 500.0 / (3.6 * high))
    return 180.0


def make_energy_result(**kwargs: Any) -> EnergyResult:
    """:func:`make_result` as a typed :class:`~energy_badge.result.EnergyResult`."""
    return decode_result(make_result(**kwargs), source="results_factory")


def write_result_file(path: Any, **kwargs: Any) -> Any:
    """Write :func:`make_result` (``kwargs`` passed on) as a result file; returns ``path``."""
    from pathlib import Path

    Path(path).write_text(make_energy_result(**kwargs).to_json(), encoding="utf-8")
    return path


# Two-sided 95 % quantiles of Student's t, t_{0.975, df} for df = 1..9 (scipy.stats.t.ppf(0.975, df),
# to 9 digits): a reference independent of energy_badge.stats, whose table has 3 decimals.
_T975_REFERENCE = (12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
                   2.364624252, 2.306004135, 2.262157163)  # fmt: skip


def samples_for(mean: float, half_width: float, n: int = 3) -> tuple[float, ...]:
    """``n`` repetitions whose mean is ``mean`` and whose Student's t 95 % interval has half-width
    ``half_width`` (to within the rounding of the library's 3-decimal t table, about 1e-4 relative).

    The samples are evenly spaced and symmetric about ``mean``: with offsets ``o_i`` of sample
    standard deviation ``s``, scaling them by ``d`` gives a standard deviation ``d * s``, and the
    interval's half-width is ``t_{0.975, n-1} * d * s / sqrt(n)``; ``d`` solves that for ``half_width``.

    Args:
        mean: the mean, Wh per 1000 queries.
        half_width: the 95 % interval's half-width (0 for ``n`` equal samples).
        n: repetitions, 2 to 10.

    Returns:
        The samples, for :func:`make_result`'s ``samples``.
    """
    if not 2 <= n <= len(_T975_REFERENCE) + 1:
        raise ValueError(f"samples_for needs 2 to {len(_T975_REFERENCE) + 1} samples, not {n}")
    offsets = [i - (n - 1) / 2 for i in range(n)]
    spread = math.sqrt(sum(o * o for o in offsets) / (n - 1))
    scale = half_width * math.sqrt(n) / _T975_REFERENCE[n - 2] / spread
    return tuple(mean + scale * o for o in offsets)


EXAMPLE_NOTE = (
    "SYNTHETIC example, not from a real measurement: made-up numbers, plausible for a "
    "DistilBERT-size text classifier (66,955,010 parameters) on an H100, to show the file format"
)


def example_result() -> dict[str, Any]:
    """The synthetic result shipped as ``examples/example-result.SYNTHETIC.json``.

    Plausible, not measured: a DistilBERT-size sentiment classifier (DistilBertForSequenceClassification,
    66,955,010 parameters, FP32) on one H100 at batch size 1, about 4.5 ms and 0.64 J per query.
    """
    return make_result(
        model_id="example-org/distilbert-sst2-SYNTHETIC",
        task="text-classification",
        source="hub",
        samples=(0.1783, 0.1771, 0.1790, 0.1776, 0.1781),
        parameters=66_955_010,
        architecture="DistilBertForSequenceClassification",
        queries_per_s=221.4,
        passes=3,
        idle_power_w=71.5,
        created_at="2026-11-20T14:05:31Z",
        tool_version="0.1.0",
        note=EXAMPLE_NOTE,
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["--example"]:
        sys.exit("usage: python tests/results_factory.py --example > examples/example-result.SYNTHETIC.json")
    sys.stdout.write(json.dumps(example_result(), indent=2, ensure_ascii=False) + "\n")
