"""The hash definitions of the workloads, and their deterministic compression.

Re-exported by :mod:`energy_badge.workload` (import from there; the definitions are in its
docstring). Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from energy_badge.errors import InvalidFileError
from energy_badge.workload_settings import input_kind

__all__ = ["canonical_jsonl", "gzip_bytes", "inputs_sha256", "media_sha256_of", "sha256_of"]


def canonical_jsonl(queries: Iterable[Mapping[str, object]]) -> bytes:
    """Serialize queries to canonical JSONL bytes (the bytes a text workload's sha256 is taken over).

    Args:
        queries: the query records.

    Returns:
        One line per query: ``json.dumps(q, sort_keys=True, separators=(",", ":"),
        ensure_ascii=False) + "\\n"``, encoded as UTF-8.
    """
    return b"".join(
        (json.dumps(dict(q), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode(
            "utf-8"
        )
        for q in queries
    )


def sha256_of(queries: Iterable[Mapping[str, object]]) -> str:
    """The hash of a text workload's queries: sha256 of their canonical JSONL bytes.

    Args:
        queries: the query records.

    Returns:
        64 lowercase hex digits.
    """
    return hashlib.sha256(canonical_jsonl(queries)).hexdigest()


def media_sha256_of(kind: str, queries: Iterable[Mapping[str, object]]) -> str:
    """The hash of a media workload's decoded inputs, from the digests its records hold.

    sha256 over one UTF-8 line per query, ``"<id>\\t<kind>\\t<shape>\\t<dtype>\\t<sha256>\\n"``:
    ``<shape>`` is ``HxWx3`` with dtype ``uint8`` for an image (RGB, row-major), ``N`` with
    dtype ``float32`` for a clip (little-endian samples); ``<sha256>`` is the sha256 of those raw
    bytes, as the record's ``sha256`` field holds it (and :meth:`Workload.input_at` checks).

    Args:
        kind: ``"image"`` or ``"audio"``.
        queries: the query records.

    Returns:
        64 lowercase hex digits.

    Raises:
        InvalidFileError: a record lacks its size or digest.
    """
    h = hashlib.sha256()
    for q in queries:
        try:
            spec: Any = q[kind]
            if kind == "image":
                shape, dtype = f"{int(spec['height'])}x{int(spec['width'])}x3", "uint8"
            else:
                shape, dtype = str(int(spec["samples"])), "float32"
            digest = str(q["sha256"])
            line = f"{q['id']}\t{kind}\t{shape}\t{dtype}\t{digest}\n"
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidFileError(f"bad {kind} query record {q.get('id')!r}: {exc}") from exc
        h.update(line.encode("utf-8"))
    return h.hexdigest()


def inputs_sha256(task: str, queries: Iterable[Mapping[str, object]]) -> str:
    """The hash of a task's queries by its kind's definition (:func:`sha256_of` or :func:`media_sha256_of`).

    Args:
        task: the task.
        queries: the query records.

    Returns:
        64 lowercase hex digits.
    """
    kind = input_kind(task)
    return sha256_of(queries) if kind == "text" else media_sha256_of(kind, queries)


def gzip_bytes(data: bytes) -> bytes:
    """Compress deterministically: a fixed gzip header (no name, mtime 0) around raw deflate.

    The header is written here rather than by :mod:`gzip`, whose header bytes differ between
    Python versions; the deflate stream is zlib's at level 9.

    Args:
        data: the bytes to compress.

    Returns:
        A gzip member that any gzip reader decompresses to ``data``.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    body = compressor.compress(data) + compressor.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(
        4, "little"
    )
    return header + body + trailer
