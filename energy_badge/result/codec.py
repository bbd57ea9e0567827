"""The codec of result files: the one place a result's JSON is checked, read and written."""

from __future__ import annotations

import os
import re
from pathlib import Path

from energy_badge.errors import InvalidFileError
from energy_badge.files import MAX_JSON_BYTES, parse_json, read_text, schema_errors, write_atomic
from energy_badge.result.fields import result_from_json, result_to_json
from energy_badge.result.model import READABLE_SCHEMA_VERSIONS, RESULT_SCHEMA, EnergyResult
from energy_badge.result.physics import check_physical, physical_problems

# --------------------------------------------------------------------------------------------
# The codec


def decode_result(data: object, *, source: str = "result") -> EnergyResult:
    """Build a result from its JSON form, checking it on the way.

    Args:
        data: the parsed document.
        source: what to call it in messages (a file name).

    Returns:
        The result.

    Raises:
        InvalidFileError: the document does not match the schema (``errors`` lists every
            violation with its JSON path), has a ``schema_version`` this version cannot read,
            describes something no GPU can do (:mod:`energy_badge.result.physics`: an energy not
            above zero, an impossible power, a headline its repetitions do not give), or its
            ``canonical`` flag disagrees with its content (the message gives the reason).
    """
    from energy_badge.policy import check_flag

    if isinstance(data, dict):
        version = data.get("schema_version")
        if isinstance(version, str) and version not in READABLE_SCHEMA_VERSIONS:
            raise InvalidFileError(
                f"{source} has schema_version {version[:20]}; this energy-badge reads "
                f"{', '.join(READABLE_SCHEMA_VERSIONS)}: upgrade energy-badge to read it"
            )
    errors = schema_errors(data, RESULT_SCHEMA)
    if errors:
        raise InvalidFileError(f"{source} is not a valid result: {errors[0]}", errors)
    assert isinstance(data, dict)  # the schema says it is an object
    result = result_from_json(data)
    check_physical(result, source=source)
    check_flag(result, source=source)
    return result


def parse_result(text: str, *, source: str = "result") -> EnergyResult:
    """Parse a result from its JSON text (as stored by the bulk state or sent by a worker).

    Raises:
        InvalidFileError: not JSON, a key twice in one object, nesting too deep or a lone
            surrogate (:func:`~energy_badge.files.parse_json`), or as :func:`decode_result`.
    """
    return decode_result(parse_json(text, source=source), source=source)


def encode_result(result: EnergyResult) -> dict[str, object]:
    """The JSON form of a result, in the file's key order (the schema's); not checked (see
    :func:`write_result`)."""
    return result_to_json(result)


def load_result(path: str | os.PathLike[str]) -> EnergyResult:
    """Read and check a result file.

    Args:
        path: the file.

    Returns:
        The result.

    Raises:
        InvalidFileError: the file is missing, not a regular file (a FIFO or device is refused, never
            read), larger than :data:`~energy_badge.files.MAX_JSON_BYTES`, not UTF-8 JSON, or not a
            valid result (see :func:`decode_result`).
    """
    return parse_result(read_text(path, max_bytes=MAX_JSON_BYTES), source=str(path))


def validate_file(path: str | os.PathLike[str]) -> list[str]:
    """Return every problem of a result file (empty when it is valid), each with its JSON path."""
    try:
        load_result(path)
    except InvalidFileError as err:
        return err.errors or [str(err)]
    return []


def write_result(result: EnergyResult, path: str | os.PathLike[str]) -> Path:
    """Check, then write a result file atomically (a temporary file renamed into place).

    Args:
        result: the result.
        path: where to write; parent folders are created.

    Returns:
        The path written.

    Raises:
        InvalidFileError: the result does not match the schema or is not physically possible
            (:func:`~energy_badge.result.physics.physical_problems`); nothing is written.
    """
    data = encode_result(result)
    errors = schema_errors(data, RESULT_SCHEMA) or physical_problems(result)
    if errors:
        raise InvalidFileError(f"the result is not valid: {errors[0]}", errors)
    write_atomic(path, result.to_json().encode("utf-8"))
    return Path(path)


def default_output_path(model_id: str, task: str, created_at: str, directory: str = "energy-results") -> Path:
    """Return the default result path: ``energy-results/<model>--<task>--<timestamp>.json``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "--", model_id.strip("/")).strip("-.") or "model"
    stamp = re.sub(r"[^0-9TZ]", "", created_at.split(".")[0].replace("+00:00", "Z"))
    return Path(directory) / f"{slug}--{task}--{stamp}.json"
