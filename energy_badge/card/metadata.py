"""The ``energy_score:`` metadata: its schema, its check, and its canonical key order."""

from __future__ import annotations

import datetime
import numbers
from collections.abc import Mapping
from typing import Any

from energy_badge.errors import InvalidFileError
from energy_badge.files import load_schema, schema_errors

__all__ = ["METADATA_KEY", "SCHEMA_FILE", "normalize_metadata", "plain", "schema", "validate_metadata"]

METADATA_KEY = "energy_score"
SCHEMA_FILE = "card-metadata.schema.json"


def validate_metadata(metadata: Mapping[str, object]) -> None:
    """Check ``metadata`` against ``card-metadata.schema.json`` and the CI ordering.

    Args:
        metadata: the mapping meant for the ``energy_score:`` key.

    Returns:
        None when it is valid.

    Raises:
        InvalidFileError: it is not valid; the message names the first offending JSON path
            (``$.wh_per_1k_queries.value``) and ``errors`` lists every violation.
    """
    messages = schema_errors(metadata, SCHEMA_FILE)
    if not messages:
        energy = metadata["wh_per_1k_queries"]
        assert isinstance(energy, Mapping)  # the schema says so
        if not energy["ci95_low"] <= energy["value"] <= energy["ci95_high"]:
            messages.append(
                "$.wh_per_1k_queries: expected ci95_low <= value <= ci95_high, got "
                f"{energy['ci95_low']} <= {energy['value']} <= {energy['ci95_high']}"
            )
    if messages:
        raise InvalidFileError(f"card metadata does not match {SCHEMA_FILE}: {messages[0]}", errors=messages)


def schema() -> dict[str, Any]:
    """The card metadata schema (``schemas/card-metadata.schema.json``)."""
    return load_schema(SCHEMA_FILE)


def normalize_metadata(metadata: Mapping[str, object]) -> dict[str, Any]:
    """Plain copy of ``metadata`` with keys in the schema's order, so the dump is canonical."""
    order = list(schema()["properties"])
    energy_order = list(schema()["properties"]["wh_per_1k_queries"]["properties"])
    out: dict[str, Any] = {}
    for key in sorted(metadata, key=lambda k: order.index(k) if k in order else len(order)):
        value = plain(metadata[key])
        if key == "wh_per_1k_queries":
            value = {k: value[k] for k in sorted(value, key=energy_order.index)}
        out[key] = value
    return out


def plain(value: Any) -> Any:
    """Round-trip ruamel objects -> plain dict/list/str/int/float/bool/None (dates -> ISO str)."""
    if isinstance(value, dict):
        return {_hashable(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value
