"""Reading and writing the project's files: JSON read with one-line errors, atomic writes.

Every file energy-badge writes (results, rating tables, badges, edited cards) goes through
:func:`write_atomic`, so a failure never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
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
