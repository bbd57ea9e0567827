"""How bulk runs and the service pass results around: the one place they encode and decode them.

A result crosses three boundaries here: a worker sends its JSON form to the driver (Ray pickles
plain data, not objects), the driver stores it in the state as compact JSON text, and the driver
(publishing) and the service (badges, results, the leaderboard) read it back. Each crossing goes
through :mod:`energy_badge.result`'s codec, which validates the document (schema, version, and
the policy's check of the ``canonical`` flag), so a row can never hold, nor a badge show, a result
the codec would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from energy_badge.result import EnergyResult

__all__ = [
    "result_from_state",
    "result_from_worker",
    "result_to_state",
    "worker_form",
]


def worker_form(result: EnergyResult | Mapping[str, object]) -> dict[str, object]:
    """The JSON form a worker sends back (a measure function may return a result or its JSON form)."""
    from energy_badge.result import EnergyResult, encode_result

    if isinstance(result, EnergyResult):
        return encode_result(result)
    if isinstance(result, Mapping):
        return dict(result)
    raise TypeError(f"the measurement returned {type(result).__name__}, not a result")


def result_from_worker(data: Mapping[str, object] | None, *, model: str) -> EnergyResult:
    """The result a worker sent for ``model``, validated.

    Raises:
        InvalidFileError: not a valid result.
    """
    from energy_badge.result import decode_result

    return decode_result(dict(data or {}), source=f"the result for {model}")


def result_to_state(result: EnergyResult) -> str:
    """The compact JSON text a state row stores."""
    from energy_badge.result import encode_result

    return json.dumps(encode_result(result), separators=(",", ":"), ensure_ascii=False)


def result_from_state(text: str, *, model: str) -> EnergyResult:
    """The result a state row holds, validated.

    Raises:
        InvalidFileError: the stored text is not a valid result.
    """
    from energy_badge.result import parse_result

    return parse_result(text, source=f"the stored result of {model}")
