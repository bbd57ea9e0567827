"""Reading, checking and writing the project's files: JSON read with one-line errors, the shipped
JSON schemas, atomic writes.

Every file energy-badge writes (results, rating tables, badges, edited cards) goes through
:func:`write_atomic`, so a failure never leaves a half-written file behind. Every document checked
against a schema (results, rating tables, card metadata) goes through :func:`schema_errors`.
"""

from __future__ import annotations

import functools
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from energy_badge.errors import InvalidFileError


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 text file exactly (no newline translation; a BOM stays as U+FEFF).

    Raises:
        InvalidFileError: the file cannot be read or is not UTF-8.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidFileError(f"{path}: cannot read: {err.strerror or err}") from err
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidFileError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read and parse a UTF-8 JSON file.

    Args:
        path: the file.

    Returns:
        The parsed document.

    Raises:
        InvalidFileError: the file cannot be read, is not UTF-8, or is not JSON (with line and column).
    """
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidFileError(
            f"{path}: not JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from err


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder renamed over it.

    Parent folders are created. An existing file keeps its permissions (a symlink is followed and
    its target replaced). On any failure the temporary file is removed and ``path`` is untouched.

    Args:
        path: the destination.
        data: the exact bytes to write.

    Returns:
        The path written (the symlink's target when ``path`` is a symlink).
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Return a JSON schema shipped in ``energy_badge/schemas`` by file name.

    Args:
        name: file name, e.g. ``"energy-result.schema.json"``.

    Returns:
        The parsed schema.
    """
    text = resources.files("energy_badge.schemas").joinpath(name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def json_path(path: Sequence[str | int]) -> str:
    """Format a jsonschema error path (keys and indices) as ``$.a.b[0]``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def schema_errors(data: object, schema_name: str) -> list[str]:
    """Check ``data`` against a shipped schema, and that every number in it is finite.

    JSON has no NaN or infinity, but Python's JSON reader accepts them and JSON Schema's
    ``minimum`` lets them through, so they are refused here.

    Args:
        data: the parsed JSON document.
        schema_name: file name of the schema in ``energy_badge/schemas``.

    Returns:
        One ``"<json path>: <message>"`` string per violation, sorted by path; empty if valid.
    """
    import jsonschema

    schema = load_schema(schema_name)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    found = [f"{json_path(list(e.absolute_path))}: {_short(e.message)}" for e in errors]
    found += [f"{path}: {value!r} is not a finite number" for path, value in _non_finite(data, "$")]
    return found


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."


def _non_finite(value: object, path: str) -> Iterator[tuple[str, float]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        yield path, value
