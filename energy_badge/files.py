"""Reading, checking and writing the project's files: bounded reads of regular files with one-line
errors, the shipped JSON schemas, atomic writes.

Every file energy-badge reads from a path (results, rating tables, model cards, model lists) goes
through :func:`read_bytes`: it opens the path once and checks the *opened* descriptor, so a FIFO,
a device (``/dev/zero``), a directory or a socket is refused instead of hanging or filling memory,
and it reads at most a stated number of bytes. Model cards are read and written without following
a symbolic link (``follow_symlinks=False``): a README.md that points at ``/proc/self/environ`` or
``/etc/passwd`` is refused, never shown in a diff nor overwritten.

Every file energy-badge writes (results, rating tables, badges, edited cards) goes through
:func:`write_atomic`, so a failure never leaves a half-written file behind. Every document checked
against a schema (results, rating tables, card metadata) goes through :func:`schema_errors`. Every
JSON document from outside (files, webhook bodies, stored results, Hub answers) is parsed by
:func:`parse_json`, which refuses duplicate keys, nesting deeper than :data:`MAX_JSON_DEPTH` and
lone surrogates with a one-line error.
"""

from __future__ import annotations

import errno
import functools
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from energy_badge.errors import InvalidFileError

MAX_JSON_BYTES = 16 * 1024 * 1024
"""The most :func:`read_json` reads by default: result files and rating tables are a few kB."""

MAX_TEXT_BYTES = 64 * 1024 * 1024
"""The most :func:`read_text` reads by default (a bulk model list of a million ids is ~40 MB)."""

_CHUNK = 1 << 20


def size_text(size: int) -> str:
    """A byte count for messages: ``512 bytes``, ``64 KiB``, ``1.5 MiB``."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.4g} KiB"
    return f"{size / (1024 * 1024):.4g} MiB"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _refuse_symlink(path: str | os.PathLike[str]) -> InvalidFileError:
    return InvalidFileError(
        f"{path}: is a symbolic link; energy-badge does not follow it (give the path of the file itself "
        "if that is the one you mean)"
    )


def read_bytes(path: str | os.PathLike[str], *, max_bytes: int, follow_symlinks: bool = True) -> bytes:
    """Read a regular file whole, refusing anything that is not one, and at most ``max_bytes``.

    The path is opened once, non-blocking (a FIFO cannot block the open) and, unless
    ``follow_symlinks``, with ``O_NOFOLLOW``; the checks are made on the opened descriptor
    (``fstat``), so the file checked is the file read. A path that is not a regular file on a
    first ``stat`` is not even opened (opening some devices has effects). ``/proc`` files, which
    say their size is 0, are read up to the limit like any other.

    Args:
        path: the file.
        max_bytes: the most the file may hold; a larger one is refused, and no more than this
            (plus one byte) is ever read, even from a file that grows.
        follow_symlinks: False: a symbolic link (the last part of the path) is refused.

    Returns:
        The file's bytes.

    Raises:
        InvalidFileError: the file cannot be opened or read; it is a symbolic link (with
            ``follow_symlinks=False``), a directory, FIFO, device or socket; it is larger than
            ``max_bytes`` (the message says the limit).
    """
    try:
        first = os.stat(path, follow_symlinks=follow_symlinks)
    except OSError as err:
        raise InvalidFileError(f"{path}: cannot read: {err.strerror or err}") from err
    if not follow_symlinks and stat.S_ISLNK(first.st_mode):
        raise _refuse_symlink(path)
    if not stat.S_ISREG(first.st_mode):
        raise InvalidFileError(f"{path}: {_kind(first.st_mode)}, not a regular file; refusing to read it")
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    )
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP and not follow_symlinks:
            raise _refuse_symlink(path) from err
        raise InvalidFileError(f"{path}: cannot read: {err.strerror or err}") from err
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidFileError(f"{path}: {_kind(info.st_mode)}, not a regular file; refusing to read it")
        if info.st_size > max_bytes:
            raise _too_large(path, info.st_size, max_bytes)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise _too_large(path, None, max_bytes)
        return b"".join(chunks)
    except OSError as err:
        raise InvalidFileError(f"{path}: cannot read: {err.strerror or err}") from err
    finally:
        os.close(fd)


def _too_large(path: str | os.PathLike[str], size: int | None, max_bytes: int) -> InvalidFileError:
    actual = f"{size_text(size)}, " if size is not None else ""
    return InvalidFileError(
        f"{path}: too large ({actual}more than the {size_text(max_bytes)} energy-badge reads from such "
        "a file)"
    )


def read_text(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_TEXT_BYTES, follow_symlinks: bool = True
) -> str:
    """Read a UTF-8 text file exactly (no newline translation; a BOM stays as U+FEFF).

    Args:
        path: the file (a regular file: see :func:`read_bytes`).
        max_bytes: the most it may hold.
        follow_symlinks: False: refuse a symbolic link.

    Returns:
        The decoded text.

    Raises:
        InvalidFileError: as :func:`read_bytes`, or the file is not UTF-8.
    """
    data = read_bytes(path, max_bytes=max_bytes, follow_symlinks=follow_symlinks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidFileError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err


def read_json(path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read and parse a UTF-8 JSON file (see :func:`parse_json` for what is refused).

    Args:
        path: the file (a regular file of at most ``max_bytes``: see :func:`read_bytes`).
        max_bytes: the most it may hold.

    Returns:
        The parsed document.

    Raises:
        InvalidFileError: the file cannot be read, is not a regular file, is too large, is not
            UTF-8, or is not JSON that :func:`parse_json` accepts (with line and column).
    """
    return parse_json(read_text(path, max_bytes=max_bytes), source=str(path))


MAX_JSON_DEPTH = 64
"""The deepest nesting of objects and arrays :func:`parse_json` accepts (results nest 6 deep)."""

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` that refuses an object naming one key twice (JSON leaves it undefined)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


def _key_text(key: str) -> str:
    """A key as a JSON path part, escaped so that a message stays one printable line."""
    if _PLAIN_KEY.fullmatch(key):
        return f".{key}"
    return f"[{json.dumps(key if len(key) <= 40 else key[:40] + '...')}]"


def _surrogate_problem(text: str, path: str) -> str | None:
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return (
        f"{path}: a lone surrogate (U+{ord(found.group()):04X}) is not text (it cannot be written as UTF-8)"
    )


def _structure_problem(data: object, max_depth: int) -> str | None:
    """The first lone surrogate or over-deep nesting in a parsed document (iterative: no recursion)."""
    stack: list[tuple[object, int, str]] = [(data, 1, "$")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if problem := _surrogate_problem(value, path):
                return problem
        elif isinstance(value, (dict, list)):
            if depth > max_depth:
                return f"JSON nested more than {max_depth} levels deep"
            if isinstance(value, dict):
                for key, item in value.items():
                    if problem := _surrogate_problem(key, f"{path} (a key)"):
                        return problem
                    stack.append((item, depth + 1, path + _key_text(key)))
            else:
                stack.extend((item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value))
    return None


def parse_json(text: str | bytes, *, source: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse untrusted JSON: the one JSON reader of result files, rating tables, webhook bodies,
    bulk state rows and Hub answers.

    Beyond the JSON grammar it refuses, each with a one-line :class:`InvalidFileError`: an object
    that names a key twice (JSON leaves the meaning open and Python keeps the last: a second
    ``"canonical"`` or ``"wh_per_1k"`` could hide behind the first), nesting deeper than
    ``max_depth`` (100 000 nested arrays would otherwise end in a ``RecursionError``), and a lone
    UTF-16 surrogate written as an escape (``"\\ud800"``), which is not text and breaks every
    later write of the string.

    Args:
        text: the document; bytes must be UTF-8.
        source: what to call it in messages (a file name).
        max_depth: the deepest nesting of objects and arrays accepted.

    Returns:
        The parsed document.

    Raises:
        InvalidFileError: as above, or not UTF-8, or not JSON (with line and column).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InvalidFileError(f"{source}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    try:
        data = json.loads(text, object_pairs_hook=_unique_object)
    except _DuplicateKeyError as err:
        raise InvalidFileError(
            f"{source}: the key {json.dumps(err.key[:80])} appears twice in one object; "
            "refusing an ambiguous document"
        ) from None
    except json.JSONDecodeError as err:
        raise InvalidFileError(
            f"{source}: not JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from err
    except RecursionError:
        raise InvalidFileError(f"{source}: JSON nested more than {max_depth} levels deep") from None
    problem = _structure_problem(data, max_depth)
    if problem is not None:
        raise InvalidFileError(f"{source}: {problem}")
    return data


def write_atomic(path: str | os.PathLike[str], data: bytes, *, follow_symlinks: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder renamed over it.

    Parent folders are created. An existing file keeps its permissions. On any failure the
    temporary file is removed and ``path`` is untouched.

    Args:
        path: the destination.
        data: the exact bytes to write.
        follow_symlinks: True (results, badges, tables, reports): a symlink is followed and its
            target replaced. False (model cards): a symlink, or anything else that is not a regular
            file, is refused; the rename replaces the name itself, so even a link put there after
            the check is replaced, never written through.

    Returns:
        The path written (the symlink's target when ``path`` is a followed symlink).

    Raises:
        InvalidFileError: with ``follow_symlinks=False``, ``path`` is a symlink or not a regular file.
        OSError: the folder cannot be written.
    """
    if follow_symlinks:
        target = Path(os.path.realpath(path))
    else:
        target = Path(os.path.abspath(path))
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            info = None
        if info is not None and stat.S_ISLNK(info.st_mode):
            raise _refuse_symlink(path)
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise InvalidFileError(
                f"{path}: {_kind(info.st_mode)}, not a regular file; refusing to replace it"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.lstat(target).st_mode)
    except FileNotFoundError:
        mode = None
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
    ``minimum`` lets them through, so they are refused here; so is a string (or key) holding a
    lone surrogate, which no file or page can hold.

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
    found = [f"{json_path(list(e.absolute_path))}: {_message(e)}" for e in errors]
    found += list(_impossible_values(data, "$"))
    return found


def _message(error: Any) -> str:
    """A schema error in a few words: a string over its cap says its length, not its text."""
    if error.validator == "maxLength" and isinstance(error.instance, str):
        return f"{len(error.instance)} characters, more than the {error.validator_value} allowed"
    return _short(error.message)


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."


def _impossible_values(value: object, path: str) -> Iterator[str]:
    """Numbers that are not finite and strings (or keys) holding a lone surrogate, as messages."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (problem := _surrogate_problem(key, f"{path} (a key)")):
                yield problem
            yield from _impossible_values(item, path + _key_text(str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _impossible_values(item, f"{path}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        yield f"{path}: {value!r} is not a finite number"
    elif isinstance(value, str) and (problem := _surrogate_problem(value, path)):
        yield problem
