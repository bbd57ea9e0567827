"""The workload stage: the fixed, hash-pinned inputs each task is measured on.

Every task has one canonical workload per version: 1000 queries, batch size 1, shipped as a
gzip-compressed JSONL file under ``energy_badge/data/workloads/v<major>/`` together with a
``manifest.json`` that records, for each task, the sha256 of the exact inputs, the generation
settings, the default dtype, token statistics, provenance and licence.

The inputs were written by this project's own seeded generator (``tools/gen_workloads``), never
copied from a corpus; running it again reproduces the files byte for byte.

The sha256 of a workload is the sha256 of its *canonical JSONL bytes*: one query per line, each
line ``json.dumps(query, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` followed by
``"\\n"``, all encoded as UTF-8. For the shipped files that is the decompressed file content. A
subset (``--queries N`` smoke runs) hashes its own queries the same way, so its hash differs from
the canonical one and marks the run as non-canonical.

This module uses the standard library only, so importing it is cheap.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from energy_badge.errors import InvalidFileError, UsageError

TASKS: tuple[str, ...] = (
    "text-classification",
    "sentence-similarity",
    "question-answering",
    "summarization",
    "text-generation",
)
"""The five text tasks with a canonical workload, in their fixed order."""

SOURCE = "energy-badge"
"""The ``source`` of every workload shipped with the package."""

_VERSION_DIR = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class GenerationSettings:
    """Deterministic decoding settings of a generation task.

    Attributes:
        max_new_tokens: the most new tokens per query.
        min_new_tokens: the fewest new tokens per query; equal to ``max_new_tokens`` in the
            canonical workloads, so every query generates exactly that many tokens.
        do_sample: sample instead of greedy decoding (always False in canonical workloads).
        num_beams: beams of beam search (1: greedy).
    """

    max_new_tokens: int
    min_new_tokens: int
    do_sample: bool = False
    num_beams: int = 1

    def to_dict(self) -> dict[str, object]:
        """The JSON form used in manifests and result files.

        Returns:
            ``{"max_new_tokens", "min_new_tokens", "do_sample", "num_beams"}``.
        """
        return {
            "max_new_tokens": self.max_new_tokens,
            "min_new_tokens": self.min_new_tokens,
            "do_sample": self.do_sample,
            "num_beams": self.num_beams,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerationSettings:
        """Build settings from their JSON form.

        Args:
            data: a mapping with the four keys of :meth:`to_dict`.

        Returns:
            The settings.

        Raises:
            InvalidFileError: a key is missing or has the wrong type.
        """
        try:
            settings = cls(
                max_new_tokens=data["max_new_tokens"],
                min_new_tokens=data["min_new_tokens"],
                do_sample=data.get("do_sample", False),
                num_beams=data.get("num_beams", 1),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidFileError(f"bad generation settings {data!r}: {exc}") from exc
        ints = (settings.max_new_tokens, settings.min_new_tokens, settings.num_beams)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints):
            raise InvalidFileError(f"bad generation settings {data!r}: token counts must be integers")
        if not isinstance(settings.do_sample, bool):
            raise InvalidFileError(f"bad generation settings {data!r}: do_sample must be a boolean")
        return settings


@dataclass(frozen=True)
class Workload:
    """The fixed inputs of one task, as fed to a model.

    Treat ``queries`` (and the dicts in it) as read-only: loaded workloads are cached and shared.

    Attributes:
        task: one of :data:`TASKS`.
        name: the workload's name, e.g. ``"energy-badge/text-classification"``.
        version: its semantic version, e.g. ``"1.0.0"``.
        queries: the query records, in order (``{"id", "text"}`` for text classification, ...).
        sha256: sha256 of the canonical JSONL bytes of exactly these queries.
        batch_size: queries per forward pass (1 in canonical workloads).
        generation: decoding settings for generation tasks, else None.
        default_dtype: the dtype canonical runs use (``"float32"``, or ``"float16"`` for text
            generation).
        input_fields: the query fields a model reads (``("question", "context")`` for QA).
        manifest: this task's entry of the shipped manifest (token statistics, provenance,
            licence, the canonical sha256 and query count).
    """

    task: str
    name: str
    version: str
    queries: tuple[dict[str, Any], ...] = field(repr=False)
    sha256: str
    batch_size: int
    generation: GenerationSettings | None
    default_dtype: str
    input_fields: tuple[str, ...]
    manifest: dict[str, Any] = field(repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.queries)

    @property
    def is_canonical(self) -> bool:
        """True when these are exactly the queries the manifest pins (not a subset)."""
        return self.sha256 == self.manifest.get("sha256") and len(self.queries) == self.manifest.get(
            "queries"
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON summary `energy-badge tasks --json` prints (no queries).

        Returns:
            ``{"name", "version", "task", "sha256", "queries", "batch_size", "generation",
            "default_dtype", "source"}``; ``queries`` is the number of queries.
        """
        return {
            "name": self.name,
            "version": self.version,
            "task": self.task,
            "sha256": self.sha256,
            "queries": len(self.queries),
            "batch_size": self.batch_size,
            "generation": self.generation.to_dict() if self.generation is not None else None,
            "default_dtype": self.default_dtype,
            "source": SOURCE,
        }

    def subset(self, n: int) -> Workload:
        """The first ``n`` queries as a workload of their own (for ``--queries N`` smoke runs).

        The sha256 is recomputed over exactly those queries, so a subset is never mistaken for
        the canonical workload.

        Args:
            n: how many leading queries to keep, between 1 and ``len(self.queries)``.

        Returns:
            A new workload; ``self`` when ``n`` equals the number of queries.

        Raises:
            UsageError: ``n`` is not an integer in that range.
        """
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(self.queries):
            raise UsageError(
                f"--queries must be between 1 and {len(self.queries)} for {self.task}, got {n!r}"
            )
        if n == len(self.queries):
            return self
        queries = self.queries[:n]
        return Workload(
            task=self.task,
            name=self.name,
            version=self.version,
            queries=queries,
            sha256=sha256_of(queries),
            batch_size=self.batch_size,
            generation=self.generation,
            default_dtype=self.default_dtype,
            input_fields=self.input_fields,
            manifest=self.manifest,
        )


def canonical_jsonl(queries: Iterable[Mapping[str, object]]) -> bytes:
    """Serialize queries to canonical JSONL bytes (the bytes the sha256 is taken over).

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
    """The workload hash of some queries: sha256 of their canonical JSONL bytes.

    Args:
        queries: the query records.

    Returns:
        64 lowercase hex digits.
    """
    return hashlib.sha256(canonical_jsonl(queries)).hexdigest()


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


def _data_root() -> Path:
    """The folder holding the ``v<major>`` workload folders."""
    return Path(str(resources.files("energy_badge") / "data" / "workloads"))


def available_versions() -> list[str]:
    """The workload set versions shipped with this package, oldest first.

    Returns:
        Folder names such as ``["v1"]``.
    """
    return list(_versions(str(_data_root())))


@functools.cache
def _versions(root: str) -> tuple[str, ...]:
    base = Path(root)
    if not base.is_dir():
        return ()
    found = [
        (int(m.group(1)), p.name) for p in base.iterdir() if p.is_dir() and (m := _VERSION_DIR.match(p.name))
    ]
    return tuple(name for _, name in sorted(found))


@functools.cache
def _manifest(root: str, folder: str) -> dict[str, Any]:
    path = Path(root) / folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidFileError(f"workload manifest missing: {path}") from exc
    except (OSError, ValueError) as exc:
        raise InvalidFileError(f"cannot read workload manifest {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), dict):
        raise InvalidFileError(f"workload manifest {path} has no 'tasks' object")
    return data


def _resolve_version(root: str, version: str | None) -> str:
    """Map a version given by the user (None, "1", "v1", "1.0.0") to a shipped folder."""
    folders = _versions(root)
    if not folders:
        raise InvalidFileError(f"no workloads are installed under {root}")
    if version is None:
        return folders[-1]
    wanted = str(version).strip()
    for folder in folders:
        manifest = _manifest(root, folder)
        if wanted in (folder, folder[1:], manifest.get("version")):
            return folder
    known = []
    for folder in folders:
        known.append(f"{folder} ({_manifest(root, folder).get('version')})")
    raise UsageError(f"unknown workload version {version!r}; available: {', '.join(known)}")


@dataclass(frozen=True)
class WorkloadSpec:
    """What a canonical workload is, from its manifest alone (no query is read).

    Attributes:
        task, name, version: which workload.
        sha256: sha256 of its exact inputs.
        queries: its number of queries.
        batch_size: its batch size.
        generation: its decoding settings (generation tasks), else None.
        default_dtype: the dtype its canonical runs use.
    """

    task: str
    name: str
    version: str
    sha256: str
    queries: int
    batch_size: int
    generation: GenerationSettings | None
    default_dtype: str


def canonical_spec(task: str, version: str | None = None) -> WorkloadSpec:
    """The canonical workload of a task and version as its manifest pins it (cheap: no query is read).

    Args:
        task: one of :data:`TASKS`.
        version: as for :func:`load_workload`; the newest when None.

    Returns:
        The :class:`WorkloadSpec`.

    Raises:
        UsageError: the task or version is unknown.
        InvalidFileError: the manifest is missing or malformed.
    """
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    root = str(_data_root())
    return _spec(root, _resolve_version(root, version), task)


@functools.cache
def _spec(root: str, folder: str, task: str) -> WorkloadSpec:
    entry = _manifest(root, folder)["tasks"].get(task)
    if not isinstance(entry, dict):
        raise InvalidFileError(f"workload manifest {folder} has no entry for {task}")
    try:
        generation = entry.get("generation")
        return WorkloadSpec(
            task=task,
            name=str(entry["name"]),
            version=str(entry["version"]),
            sha256=str(entry["sha256"]),
            queries=int(entry["queries"]),
            batch_size=int(entry["batch_size"]),
            generation=GenerationSettings.from_dict(generation) if generation is not None else None,
            default_dtype=str(entry["default_dtype"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidFileError(f"workload manifest {folder}: bad entry for {task}: {exc}") from exc


def load_workload(task: str, version: str | None = None) -> Workload:
    """Load the canonical workload of a task, checking its sha256 against the manifest.

    Loaded workloads are cached: the files are immutable.

    Args:
        task: one of :data:`TASKS`.
        version: the workload version (``"1.0.0"``, ``"1"`` or ``"v1"``); the newest when None.

    Returns:
        The workload with all its queries.

    Raises:
        UsageError: the task or version is unknown (the message lists the valid ones).
        InvalidFileError: the file is missing, unreadable, malformed, or its sha256 does not
            match the manifest.
    """
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    root = str(_data_root())
    return _load(root, _resolve_version(root, version), task)


def list_workloads(version: str | None = None) -> list[Workload]:
    """Load every task's workload of one version, in :data:`TASKS` order.

    Args:
        version: as for :func:`load_workload`.

    Returns:
        One workload per task present in that version's manifest.

    Raises:
        UsageError: the version is unknown.
        InvalidFileError: a file is missing or does not match the manifest.
    """
    root = str(_data_root())
    folder = _resolve_version(root, version)
    tasks = _manifest(root, folder)["tasks"]
    return [_load(root, folder, task) for task in TASKS if task in tasks]


@functools.cache
def _load(root: str, folder: str, task: str) -> Workload:
    manifest = _manifest(root, folder)
    entry = manifest["tasks"].get(task)
    if not isinstance(entry, dict):
        raise InvalidFileError(f"workload manifest {folder} has no entry for {task}")
    path = Path(root) / folder / str(entry.get("file", f"{task}.jsonl.gz"))
    try:
        data = gzip.decompress(path.read_bytes())
    except FileNotFoundError as exc:
        raise InvalidFileError(f"workload file missing: {path}") from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidFileError(f"cannot read workload file {path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.get("sha256"):
        expected = entry.get("sha256")
        raise InvalidFileError(
            f"workload file {path} does not match its manifest: sha256 {digest}, expected {expected}"
        )
    try:
        queries = tuple(json.loads(line) for line in data.decode("utf-8").splitlines())
    except ValueError as exc:
        raise InvalidFileError(f"workload file {path} is not valid UTF-8 JSONL: {exc}") from exc
    fields = list(entry.get("fields", []))
    errors = [
        f"line {i + 1}: fields {sorted(q)} != {sorted(fields)}"
        for i, q in enumerate(queries)
        if not isinstance(q, dict) or sorted(q) != sorted(fields)
    ]
    if len(queries) != entry.get("queries"):
        errors.append(f"{len(queries)} queries, manifest says {entry.get('queries')}")
    if errors:
        raise InvalidFileError(f"workload file {path} does not match its manifest", errors[:20])
    generation = entry.get("generation")
    return Workload(
        task=task,
        name=str(entry["name"]),
        version=str(entry["version"]),
        queries=queries,
        sha256=digest,
        batch_size=int(entry["batch_size"]),
        generation=GenerationSettings.from_dict(generation) if generation is not None else None,
        default_dtype=str(entry["default_dtype"]),
        input_fields=tuple(entry["input_fields"]),
        manifest=entry,
    )
