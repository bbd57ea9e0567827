"""Helpers for the badge service tests: webhook payloads and a state with stored results."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from results_factory import make_result

from energy_badge.bulk.state import StateStore, utc_now
from energy_badge.rating import rate
from energy_badge.result import decode_result
from energy_badge.service.worker import queue_key

WEBHOOKS = Path(__file__).with_name("webhooks")
SECRET = "whsec-test-0123456789"
TASK = "text-classification"
SHA1 = "0123456789abcdef0123456789abcdef01234567"
SHA2 = "1111111111111111111111111111111111111111"


def payload(name: str = "model-push.json", *, model: str | None = None, sha: str | None = None) -> dict:
    """A webhook fixture (tests/webhooks/), optionally for another model or head sha."""
    data = json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    if model is not None:
        data["repo"]["name"] = model
    if sha is not None:
        data["repo"]["headSha"] = sha
        for ref in data.get("updatedRefs", []):
            ref["newSha"] = sha
    return data


def store_result(
    state_path: Path, model: str, *, sha: str = SHA1, hardware: str = "H100", **kwargs: Any
) -> int:
    """Write a measured row holding a synthetic canonical result (results_factory) into the state."""
    data = make_result(model_id=model, **kwargs)
    data["model"]["revision"] = sha
    result = decode_result(data)
    rating = rate(result)
    with StateStore(state_path, exclusive=False) as state:
        state.insert_many(
            [
                {
                    "model": model,
                    "revision": sha,
                    **queue_key(result.task, hardware).columns(),
                    "status": "measured",
                    "result_json": json.dumps(data),
                    "canonical": result.canonical,
                    "stars": rating.stars,
                    "wh_per_1k": result.gpu_energy.mean if result.gpu_energy else None,
                    "finished_at": utc_now(),
                }
            ]
        )
        return max(r.id for r in state.rows(light=True))


def synthetic_measure(samples: tuple[float, ...] = (0.0021, 0.0022, 0.0021)) -> Any:
    """An injected ``measure`` for the worker: a synthetic canonical result (tests/results_factory.py)
    for the requested model and revision. Not a measurement."""
    calls: list[tuple[str, str, str]] = []

    def measure(model: str, task: str, options: Any) -> dict:
        calls.append((model, task, options.revision))
        data = make_result(model_id=model, task=task, samples=samples)
        data["model"]["revision"] = options.revision
        return data

    measure.calls = calls  # type: ignore[attr-defined]
    return measure
