"""Where a model's files come from: a local folder (content-hashed) or the Hub (pinned to a commit).

Only the files a run needs are used: the config, the tokenizer, the sentence-transformers pooling
files, code if trusted, and one set of weights (:mod:`energy_badge.run.safety` lists and checks
them exactly). The same file patterns select what is downloaded from the Hub and what is hashed in
a local folder.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energy_badge.errors import HubError, ModelNotFoundError
from energy_badge.run import safety

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
    "*.spm",
    "bpe.codes",
    "*.tiktoken",
    "chat_template.jinja",
    "chat_template.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "*_Pooling/config.json",
    "*_Normalize/*",
    # Image processors, feature extractors and processors (the image, speech and captioning tasks).
    "preprocessor_config.json",
    "processor_config.json",
    "normalizer.json",
    # A diffusers pipeline's index (its components' files: energy_badge.run.diffusion).
    "model_index.json",
)
REMOTE_CODE_PATTERNS: tuple[str, ...] = ("*.py",)
_GLOB = re.compile(r"([*?\[])")


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether a repository-relative POSIX path matches one of ``patterns`` (``*`` crosses ``/``)."""
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def exact_patterns(paths: Iterable[str]) -> tuple[str, ...]:
    """Download patterns that match exactly ``paths`` (glob characters escaped)."""
    return tuple(_GLOB.sub(r"[\1]", p) for p in paths)


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


def meta_files(files: Iterable[str], *, trust_remote_code: bool) -> list[str]:
    """The config, tokenizer and sentence-transformers files among ``files``, and code if trusted.

    Args:
        files: repository-relative paths.
        trust_remote_code: include ``*.py`` files.

    Returns:
        Sorted POSIX relative paths.
    """
    patterns = META_PATTERNS + (REMOTE_CODE_PATTERNS if trust_remote_code else ())
    return sorted(f for f in files if matches(f, patterns))


def fetch_weights(
    snap: HubSnapshot,
    plan: safety.WeightsPlan,
    *,
    config: dict[str, Any],
    allow_pickle: bool,
    code: tuple[str, ...],
    name: str,
    token: str | None,
    endpoint: str | None,
    cache_dir: str | Path | None,
) -> tuple[Path, tuple[str, ...]]:
    """Download exactly the weight files of a Hub model (a sharded one's index first, to learn its
    shards), refusing pickle ones by name before any is downloaded unless allowed.

    Args:
        snap: the pinned model.
        plan: its weights plan.
        config: its parsed ``config.json``.
        allow_pickle: whether non-safetensors weights may be read.
        code: extra patterns to keep in the snapshot (remote code, when trusted).
        name: the model, for messages.
        token, endpoint, cache_dir: as for :func:`download`.

    Returns:
        The snapshot folder and the weight files (:func:`energy_badge.run.safety.weight_files`).

    Raises:
        UnsafeModelError: pickle weights not allowed, or an index naming files outside the repository.
        ModelNotFoundError: a weight file the repository does not have.
        InvalidFileError: an index that does not parse.
        GatedModelError, NetworkError, HubError: as translated by :mod:`energy_badge.hub.translate`.
    """
    keep = META_PATTERNS + code
    index = [plan.entry] if plan.sharded and plan.entry else []
    folder = download(snap, keep + exact_patterns(index), token=token, endpoint=endpoint, cache_dir=cache_dir)
    weights = safety.weight_files(folder, plan, config=config, files=snap.files, name=name)
    safety.check_weight_names(weights, allow_pickle=allow_pickle, name=name)
    missing = sorted(set(weights) - set(snap.files))
    if missing:
        raise ModelNotFoundError(f"{name} has no {missing[0]!r:.80}, which its {plan.entry} names")
    if weights:
        wanted = exact_patterns([*index, *weights])
        folder = download(snap, keep + wanted, token=token, endpoint=endpoint, cache_dir=cache_dir)
    return folder, weights


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


def local_model_id(model: str, folder: Path) -> str:
    """The model id a result records for a local folder: the folder's name, not its path.

    A path such as ``/home/alice/work/checkpoints/run-17/final`` would otherwise become the id and
    show in the result's file name, the badge's tooltip and the label; its full resolved path is
    kept in the result's raw data instead (``model.path``). A folder given as a relative path of
    the Hub's ``namespace/name`` form (a checkout laid out under its Hub id, as the GPU campaign
    does) keeps that id: :mod:`energy_badge.hub.repo_id` decides what such an id looks like.

    Args:
        model: the folder as the user gave it.
        folder: that folder.

    Returns:
        ``model`` itself when it is a relative ``namespace/name``, else the folder's own name
        (links not followed: the name the user gave it; ``model`` for the root, which has none).
    """
    if not Path(model).is_absolute() and looks_like_repo_id(model):
        return model
    return Path(os.path.abspath(folder)).name or "model"


def looks_like_repo_id(model: str) -> bool:
    """Whether ``model`` is a Hub repo id (:func:`energy_badge.hub.is_repo_id`), not a path."""
    from energy_badge.hub import is_repo_id

    return is_repo_id(model)


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
