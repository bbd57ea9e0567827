"""The JSON form of a sampled-protocol record (``measurement.sampling``, schema 1.1, optional).

Part of the result codec (:mod:`energy_badge.result.fields` and :mod:`~energy_badge.result.encoding`
call it); the record itself is :class:`energy_badge.meter.sampling.SamplingRecord`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from energy_badge.meter.sampling import ErrorParts, SamplingRecord, Stage, Stratum

__all__ = ["sampling_from_json", "sampling_to_json"]


def _parts_to_json(parts: ErrorParts | None) -> dict[str, object] | None:
    if parts is None:
        return None
    return {
        "sampling_half_width": parts.sampling_half_width,
        "noise_half_width": parts.noise_half_width,
        "sampling_df": parts.sampling_df,
    }


def _parts_from_json(d: Mapping[str, Any] | None) -> ErrorParts | None:
    if d is None:
        return None
    return ErrorParts(d["sampling_half_width"], d["noise_half_width"], d["sampling_df"])


def sampling_to_json(record: SamplingRecord) -> dict[str, object]:
    """The JSON form of ``record``, in the schema's key order."""
    return {
        "protocol": record.protocol,
        "seed": record.seed,
        "population": record.population,
        "proxy": record.proxy,
        "strata": [
            {"low": s.low, "high": s.high, "size": s.size, "sampled": s.sampled} for s in record.strata
        ],
        "indices": list(record.indices),
        "costs": list(record.costs),
        "noise_target_rel": record.noise_target_rel,
        "parts": _parts_to_json(record.parts),
        "prefill_parts": _parts_to_json(record.prefill_parts),
        "stages": [
            {
                "queries": s.queries,
                "repetitions": s.repetitions,
                "mean": s.mean,
                "half_width": s.half_width,
                "target_met": s.target_met,
            }
            for s in record.stages
        ],
    }


def sampling_from_json(d: Mapping[str, Any] | None) -> SamplingRecord | None:
    """The record from its JSON form (already checked against the schema); None for None."""
    if d is None:
        return None
    return SamplingRecord(
        protocol=d["protocol"],
        seed=d["seed"],
        population=d["population"],
        proxy=d["proxy"],
        strata=tuple(Stratum(s["low"], s["high"], s["size"], s["sampled"]) for s in d["strata"]),
        indices=tuple(d["indices"]),
        costs=tuple(d["costs"]),
        noise_target_rel=d["noise_target_rel"],
        parts=_parts_from_json(d["parts"]),
        prefill_parts=_parts_from_json(d["prefill_parts"]),
        stages=tuple(
            Stage(s["queries"], s["repetitions"], s["mean"], s["half_width"], s["target_met"])
            for s in d["stages"]
        ),
    )
