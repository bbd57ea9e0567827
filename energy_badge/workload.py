"""The workload stage: the fixed, hash-pinned inputs each task is measured on.

Every task has one canonical workload per version: 1000 queries, batch size 1, shipped as a
gzip-compressed JSONL file under ``energy_badge/data/workloads/v<major>/`` together with a
``manifest.json`` that records, for each task, the sha256 of the exact inputs, the generation
settings, the default dtype, input statistics, provenance and licence. ``v1`` holds the five text
workloads as first published (never edited); ``v2`` adds the five media tasks and summarization
2.0.0 (10 forced new tokens, as the AI Energy Score) and reuses v1's text files.

The inputs were written by this project's own seeded generator (``tools/gen_workloads``), never
copied from a corpus; running it again reproduces the files byte for byte.

**Text workloads** (the five text tasks and text-to-image, whose input is a prompt): the sha256
is the sha256 of the *canonical JSONL bytes*: one query per line, each line
``json.dumps(query, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` followed by
``"\\n"``, all encoded as UTF-8. For the shipped files that is the decompressed file content.

**Media workloads** (images, audio): a query record holds only a small spec (an image's size,
scene style and seed; a clip's sample count, voice and seed) and the sha256 of the raw bytes of
the input it decodes to. The workload's sha256 pins the decoded inputs: it is the sha256 of one
line per query, ``"<id>\\t<kind>\\t<shape>\\t<dtype>\\t<sha256 of the raw bytes>\\n"`` (see
:func:`media_sha256_of`), where the raw bytes are the RGB ``uint8`` pixels in row-major order or
the little-endian ``float32`` samples. Inputs are synthesised on demand (:meth:`Workload.input_at`:
about 10-25 ms of CPU for a picture or a 12 s clip, ``benchmarks/workload_decode.py``) by
:mod:`energy_badge.media`, and every decoded input is checked against its record's sha256 (itself
pinned by the manifest's ``file_sha256``) before it is returned, so a platform or library that drew
a single pixel or sample differently is caught at the first input, with the query named. Why not
ship the inputs or cache them: the decoded pictures and clips are about 2.2 GB (far over the
~10 MB the package may grow by; even compressed, natural-looking pictures cost tens of kB each),
and a cache on disk would save a run only 10-30 s of CPU before its measured window, while the
per-input check already gives the guarantee a cache's check would. So only the specs are shipped
(about 250 kB for the five tasks) and nothing is written. :func:`verify` decodes a whole workload
and checks every input (10-30 s of CPU per media task).

A subset (``--queries N`` smoke runs) hashes its own queries the same way, so its hash differs
from the canonical one and marks the run as non-canonical. :meth:`Workload.from_inputs` builds a
workload from inputs decoded elsewhere (the optional AI Energy Score datasets), hashed by the same
definitions.

This module uses the standard library only, so importing it is cheap; numpy and Pillow are
imported when a media input is decoded.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from energy_badge.errors import InvalidFileError, UsageError
from energy_badge.workload_hash import canonical_jsonl, gzip_bytes, inputs_sha256, media_sha256_of, sha256_of
from energy_badge.workload_model import Workload, verify
from energy_badge.workload_settings import (
    AUDIO_SAMPLING_RATE,
    MEDIA_TASKS,
    SOURCE,
    TASKS,
    TEXT_TASKS,
    DiffusionSettings,
    GenerationSettings,
    generation_from_dict,
    input_kind,
)

__all__ = [
    "AUDIO_SAMPLING_RATE",
    "MEDIA_TASKS",
    "SOURCE",
    "TASKS",
    "TEXT_TASKS",
    "DiffusionSettings",
    "GenerationSettings",
    "Workload",
    "WorkloadSpec",
    "available_versions",
    "canonical_jsonl",
    "canonical_spec",
    "generation_from_dict",
    "gzip_bytes",
    "input_kind",
    "inputs_sha256",
    "list_workloads",
    "load_workload",
    "media_sha256_of",
    "sha256_of",
    "verify",
]

_VERSION_DIR = re.compile(r"^v(\d+)$")


def _data_root() -> Path:
    """The folder holding the ``v<major>`` workload folders."""
    return Path(str(resources.files("energy_badge") / "data" / "workloads"))


def available_versions() -> list[str]:
    """The workload set versions shipped with this package, oldest first.

    Returns:
        Folder names such as ``["v1", "v2"]``.
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


def _resolve_version(root: str, version: str | None, task: str | None = None) -> str:
    """Map a version given by the user (None, "1", "v1", "1.0.0") to a shipped folder.

    A task's own workload version wins (newest folder first: summarization "1.0.0" is v1's,
    "2.0.0" v2's; text classification "1.0.0" is in both, identical, and v2's is taken); then a
    folder name or a set version.
    """
    folders = _versions(root)
    if not folders:
        raise InvalidFileError(f"no workloads are installed under {root}")
    if version is None:
        if task is None:
            return folders[-1]
        with_task = [f for f in folders if task in _manifest(root, f)["tasks"]]
        if not with_task:
            raise UsageError(f"no shipped workload set has a {task} workload")
        return with_task[-1]
    wanted = str(version).strip()
    if task is not None:
        for folder in reversed(folders):
            entry = _manifest(root, folder)["tasks"].get(task)
            if isinstance(entry, dict) and entry.get("version") == wanted:
                return folder
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
    generation: GenerationSettings | DiffusionSettings | None
    default_dtype: str


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")


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
    _check_task(task)
    root = str(_data_root())
    return _spec(root, _resolve_version(root, version, task), task)


def _generation(entry: Mapping[str, Any]) -> GenerationSettings | DiffusionSettings | None:
    generation = entry.get("generation")
    return generation_from_dict(generation) if generation is not None else None


@functools.cache
def _spec(root: str, folder: str, task: str) -> WorkloadSpec:
    entry = _manifest(root, folder)["tasks"].get(task)
    if not isinstance(entry, dict):
        raise InvalidFileError(f"workload manifest {folder} has no entry for {task}")
    try:
        return WorkloadSpec(
            task=task,
            name=str(entry["name"]),
            version=str(entry["version"]),
            sha256=str(entry["sha256"]),
            queries=int(entry["queries"]),
            batch_size=int(entry["batch_size"]),
            generation=_generation(entry),
            default_dtype=str(entry["default_dtype"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidFileError(f"workload manifest {folder}: bad entry for {task}: {exc}") from exc


def load_workload(task: str, version: str | None = None) -> Workload:
    """Load the canonical workload of a task, checking its sha256 against the manifest.

    Loaded workloads are cached: the files are immutable. A media workload's inputs are decoded
    when asked for (:meth:`Workload.input_at`), each checked against its pinned digest.

    Args:
        task: one of :data:`TASKS`.
        version: the workload version (the task's own, like ``"2.0.0"``; or a set: ``"1"``,
            ``"v1"``, ``"1.0.0"``); the newest when None.

    Returns:
        The workload with all its queries.

    Raises:
        UsageError: the task or version is unknown (the message lists the valid ones).
        InvalidFileError: the file is missing, unreadable, malformed, or its sha256 does not
            match the manifest.
    """
    _check_task(task)
    root = str(_data_root())
    return _load(root, _resolve_version(root, version, task), task)


def list_workloads(version: str | None = None) -> list[Workload]:
    """Load every task's workload of one version, in :data:`TASKS` order.

    Args:
        version: as for :func:`load_workload` (a set version); the newest set when None.

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


def _file_of(root: str, folder: str, entry: Mapping[str, Any], task: str) -> Path:
    """The entry's data file: relative to its folder, and never outside the workloads folder."""
    name = str(entry.get("file", f"{task}.jsonl.gz"))
    base = Path(root).resolve()
    path = (base / folder / name).resolve()
    if base not in path.parents:
        raise InvalidFileError(f"workload manifest {folder}: file {name!r} of {task} is outside {base}")
    return path


@functools.cache
def _load(root: str, folder: str, task: str) -> Workload:
    manifest = _manifest(root, folder)
    entry = manifest["tasks"].get(task)
    if not isinstance(entry, dict):
        raise InvalidFileError(f"workload manifest {folder} has no entry for {task}")
    path = _file_of(root, folder, entry, task)
    try:
        data = gzip.decompress(path.read_bytes())
    except FileNotFoundError as exc:
        raise InvalidFileError(f"workload file missing: {path}") from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidFileError(f"cannot read workload file {path}: {exc}") from exc
    kind = input_kind(task)
    file_digest = hashlib.sha256(data).hexdigest()
    expected_file = entry.get("file_sha256", entry.get("sha256")) if kind != "text" else entry.get("sha256")
    if file_digest != expected_file:
        raise InvalidFileError(
            f"workload file {path} does not match its manifest: "
            f"sha256 {file_digest}, expected {expected_file}"
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
    digest = file_digest if kind == "text" else media_sha256_of(kind, queries)
    if digest != entry.get("sha256"):
        raise InvalidFileError(
            f"workload file {path} does not match its manifest: inputs sha256 {digest}, "
            f"expected {entry.get('sha256')}"
        )
    try:
        return Workload(
            task=task,
            name=str(entry["name"]),
            version=str(entry["version"]),
            queries=queries,
            sha256=digest,
            batch_size=int(entry["batch_size"]),
            generation=_generation(entry),
            default_dtype=str(entry["default_dtype"]),
            input_fields=tuple(entry["input_fields"]),
            manifest=entry,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidFileError(f"workload manifest {folder}: bad entry for {task}: {exc}") from exc
