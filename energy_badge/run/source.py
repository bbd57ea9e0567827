"""Where a model's files come from: a local folder (content-hashed) or the Hub (pinned to a commit).

Only the files a run needs are used: the config, the tokenizer, the sentence-transformers pooling
files, and one set of weights (safetensors unless pickle files are explicitly allowed). The same
file patterns select what is downloaded from the Hub and what is hashed in a local folder.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from energy_badge.errors import HubError, ModelNotFoundError, UnsafeModelError

if TYPE_CHECKING:
    from energy_badge.hub import HubClient

# Config, tokenizer and sentence-transformers files: small, always needed.
META_PATTERNS: tuple[str, ...] = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "*.model",
    "*.tiktoken",
    "chat_template.jinja",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "*_Pooling/config.json",
    "*_Normalize/*",
)
SAFETENSORS_PATTERNS: tuple[str, ...] = (
    "model.safetensors",
    "model.safetensors.index.json",
    "model-*.safetensors",
)
PICKLE_PATTERNS: tuple[str, ...] = (
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
    "pytorch_model-*.bin",
)
REMOTE_CODE_PATTERNS: tuple[str, ...] = ("*.py",)
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


@dataclass(frozen=True)
class WeightsPlan:
    """Which weight files a model will load from.

    Attributes:
        format: ``"safetensors"``, ``"pickle"`` or ``"none"`` (random weights: no file is read).
        patterns: the file patterns of those weights.
    """

    format: str
    patterns: tuple[str, ...]


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether a repository-relative POSIX path matches one of ``patterns`` (``*`` crosses ``/``)."""
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def plan_weights(files: Iterable[str], *, allow_pickle: bool, random_weights: bool, name: str) -> WeightsPlan:
    """Choose the weight files to load, refusing pickle-only models unless allowed.

    Args:
        files: repository-relative paths of every file the model has.
        allow_pickle: whether pickle-based weights (``pytorch_model.bin``) may be loaded.
        random_weights: no weights are read at all (architecture-only run).
        name: the model, for messages.

    Returns:
        The plan.

    Raises:
        UnsafeModelError: only pickle-based weights exist and ``allow_pickle`` is false.
        ModelNotFoundError: no weights transformers can load.
    """
    if random_weights:
        return WeightsPlan("none", ())
    files = [f for f in files if "/" not in f]  # transformers reads weights from the top folder only
    if any(matches(f, SAFETENSORS_PATTERNS[:2]) for f in files):
        return WeightsPlan("safetensors", SAFETENSORS_PATTERNS)
    pickled = sorted(f for f in files if f.endswith(_PICKLE_SUFFIXES))
    if pickled and not allow_pickle:
        raise UnsafeModelError(
            f"{name} has only pickle-based weights ({', '.join(pickled[:3])}), which can run code "
            "when loaded; pass --allow-pickle to load them anyway"
        )
    if any(matches(f, PICKLE_PATTERNS[:2]) for f in files):
        return WeightsPlan("pickle", PICKLE_PATTERNS)
    found = f" (found {', '.join(pickled[:3])})" if pickled else ""
    raise ModelNotFoundError(
        f"{name} has no weights transformers can load: no model.safetensors or pytorch_model.bin{found}"
    )


def local_files(folder: Path) -> list[str]:
    """Every file under ``folder`` as sorted POSIX relative paths, skipping hidden entries (``.git``)."""
    out: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(root).relative_to(folder)
        for n in names:
            if not n.startswith("."):
                out.append((rel / n).as_posix())
    return sorted(out)


def used_files(folder: Path, plan: WeightsPlan, *, trust_remote_code: bool) -> list[str]:
    """The files of ``folder`` a run reads: meta files, the planned weights, and code if trusted.

    Args:
        folder: the model folder.
        plan: the weights plan.
        trust_remote_code: include ``*.py`` files.

    Returns:
        Sorted POSIX relative paths.
    """
    patterns = META_PATTERNS + plan.patterns + (REMOTE_CODE_PATTERNS if trust_remote_code else ())
    weights = set(plan.patterns)
    out = []
    for f in local_files(folder):
        if not matches(f, patterns):
            continue
        if "/" in f and matches(f, weights):
            continue
        out.append(f)
    return out


def content_sha256(folder: Path, files: Iterable[str]) -> str:
    """Hash a set of files: sha256 over the sorted relative paths and the bytes of each file.

    For each path in sorted order, the hash takes the UTF-8 path, a NUL byte, the file size as
    8 big-endian bytes, then the file's bytes, so renaming, moving or changing any byte changes it.

    Args:
        folder: the model folder.
        files: POSIX paths relative to ``folder``.

    Returns:
        The hex digest.
    """
    h = hashlib.sha256()
    for rel in sorted(set(files)):
        path = Path(folder) / rel
        h.update(rel.encode("utf-8") + b"\0" + path.stat().st_size.to_bytes(8, "big"))
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def looks_like_repo_id(model: str) -> bool:
    """Whether ``model`` is a Hub repo id (:func:`energy_badge.hub.is_repo_id`), not a path."""
    from energy_badge.hub import is_repo_id

    return is_repo_id(model)


def safetensors_shards(folder: Path) -> list[str]:
    """The shard files an index names (empty when there is no index)."""
    index = folder / "model.safetensors.index.json"
    if not index.is_file():
        return []
    data = json.loads(index.read_text(encoding="utf-8"))
    return sorted(set(data.get("weight_map", {}).values()))


@dataclass
class HubSnapshot:
    """A Hub model pinned to one commit.

    Attributes:
        repo_id: the repository.
        sha: the resolved commit.
        files: every file at that commit (repository-relative).
    """

    repo_id: str
    sha: str
    files: list[str]


def _client(token: str | None, endpoint: str | None) -> HubClient:
    """The gateway for a measurement's reads: one try each (the bulk job retries whole measurements)."""
    from energy_badge.hub import HubClient, RetryPolicy

    return HubClient(token=token, endpoint=endpoint, retry=RetryPolicy(max_attempts=1))


def resolve_hub(
    repo_id: str, *, revision: str | None, token: str | None, endpoint: str | None
) -> HubSnapshot:
    """Resolve ``revision`` (default: the main branch) to a commit sha and list the files there.

    Raises:
        ModelNotFoundError, GatedModelError, NetworkError, HubError: as translated by
            :mod:`energy_badge.hub.translate`.
    """
    info = _client(token, endpoint).model_info(repo_id, revision=revision)
    if not info.sha:
        raise HubError(f"the Hub gave no commit sha for {repo_id}")
    return HubSnapshot(repo_id=repo_id, sha=info.sha, files=info.paths)


def download(
    snap: HubSnapshot,
    patterns: Iterable[str],
    *,
    token: str | None,
    endpoint: str | None,
    cache_dir: str | Path | None,
) -> Path:
    """Download the files of ``snap`` that match ``patterns``, at its pinned commit.

    Returns:
        The local snapshot folder.

    Raises:
        ModelNotFoundError, GatedModelError, NetworkError, HubError: as translated by
            :mod:`energy_badge.hub.translate`.
    """
    return _client(token, endpoint).snapshot(
        snap.repo_id, revision=snap.sha, patterns=patterns, cache_dir=cache_dir
    )
