"""Exactly which files a run reads, each checked before anything reads it.

Left to itself, transformers chooses the weight files from the folder's contents, the config's
``transformers_weights`` and an index's ``weight_map``, so a hostile folder could steer it to pickle
files (which run code when unpickled) or to files outside the folder. The run decides instead:
:func:`plan_weights` and :func:`weight_files` list the weight files exactly, :func:`check_files`
checks every file to be read (a regular file inside the folder, reached through no link out of it;
weights in safetensors unless pickle is allowed; every ``.safetensors`` file really one), and
:func:`staged` lays out links to those files alone in a private folder that transformers loads
from, so it cannot open anything else.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from energy_badge.errors import InvalidFileError, ModelNotFoundError, UnsafeModelError

SAFE_WEIGHTS, SAFE_INDEX = "model.safetensors", "model.safetensors.index.json"
PICKLE_WEIGHTS, PICKLE_INDEX = "pytorch_model.bin", "pytorch_model.bin.index.json"
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_SAFETENSORS_SUFFIXES = (".safetensors", ".safetensors.index.json")


@dataclass(frozen=True)
class WeightsPlan:
    """Which weights a model will load.

    Attributes:
        format: ``"safetensors"``, ``"pickle"`` or ``"none"`` (random weights: no file is read).
        entry: the weight file transformers opens first (a weights file or a shard index), or None.
    """

    format: str
    entry: str | None

    @property
    def sharded(self) -> bool:
        """Whether ``entry`` is an index naming shard files."""
        return self.entry is not None and self.entry.endswith(".index.json")


def inside(rel: str) -> bool:
    """Whether ``rel`` is a relative POSIX path that stays inside its folder (no ``..``, not absolute)."""
    if not rel or rel.startswith("/") or "\\" in rel or "\0" in rel:
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def _show(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:79] + "…")


def plan_weights(
    files: Iterable[str],
    *,
    config: Mapping[str, object],
    allow_pickle: bool,
    random_weights: bool,
    name: str,
) -> WeightsPlan:
    """Choose the weights to load, the way transformers would, refusing pickle unless allowed.

    Args:
        files: repository-relative paths of every file the model has.
        config: the parsed ``config.json`` (its ``transformers_weights`` names the weights file).
        allow_pickle: whether pickle-based weights (``pytorch_model.bin``) may be loaded.
        random_weights: no weights are read at all (architecture-only run).
        name: the model, for messages.

    Returns:
        The plan.

    Raises:
        UnsafeModelError: the weights are pickle-based and ``allow_pickle`` is false, or the config
            names weights outside the folder.
        ModelNotFoundError: no weights transformers can load.
        InvalidFileError: ``transformers_weights`` names a file transformers does not load.
    """
    if random_weights:
        return WeightsPlan("none", None)
    files = list(files)
    explicit = config.get("transformers_weights")
    if explicit is not None:
        if not isinstance(explicit, str) or not inside(explicit):
            raise UnsafeModelError(
                f"{name}: config.json's transformers_weights ({_show(str(explicit))}) does not name a file "
                "inside the model folder; refused"
            )
        if explicit not in files:
            raise ModelNotFoundError(
                f"{name}: config.json names weights {_show(explicit)}, which it does not have"
            )
        if explicit.endswith(_SAFETENSORS_SUFFIXES):
            return WeightsPlan("safetensors", explicit)
        if explicit != "adapter_model.bin":  # the one other name transformers accepts there
            raise InvalidFileError(
                f"{name}: config.json's transformers_weights ({_show(explicit)}) is not loadable"
            )
        if not allow_pickle:
            raise UnsafeModelError(
                f"{name}: config.json names pickle-based weights ({explicit}), which can run code when "
                "loaded; pass --allow-pickle to load them anyway"
            )
        return WeightsPlan("pickle", explicit)
    top = {f for f in files if "/" not in f}  # transformers reads weights from the top folder only
    for entry in (SAFE_WEIGHTS, SAFE_INDEX):
        if entry in top:
            return WeightsPlan("safetensors", entry)
    pickled = sorted(f for f in top if f.endswith(_PICKLE_SUFFIXES) or f == PICKLE_INDEX)
    if pickled and not allow_pickle:
        raise UnsafeModelError(
            f"{name} has only pickle-based weights ({', '.join(pickled[:3])}), which can run code "
            "when loaded; pass --allow-pickle to load them anyway"
        )
    for entry in (PICKLE_WEIGHTS, PICKLE_INDEX):
        if entry in top:
            return WeightsPlan("pickle", entry)
    found = f" (found {', '.join(pickled[:3])})" if pickled else ""
    raise ModelNotFoundError(
        f"{name} has no weights transformers can load: no model.safetensors or pytorch_model.bin{found}"
    )


def weight_files(
    folder: Path, plan: WeightsPlan, *, config: Mapping[str, object], files: Iterable[str], name: str
) -> tuple[str, ...]:
    """The files transformers will read tensors from for ``plan``: the entry (or, for an index, the
    shards it names) and the extra weight files of the model's config class (where it has some).

    Args:
        folder: the model folder (holding the entry, for an index).
        plan: the weights plan.
        config: the parsed ``config.json``.
        files: every file the model has (repository-relative).
        name: the model, for messages.

    Returns:
        Repository-relative paths (an index itself is not among them: it is read as JSON).

    Raises:
        UnsafeModelError: an index names a file outside the folder.
        InvalidFileError: an index that does not parse or names no files.
    """
    if plan.entry is None:
        return ()
    out = [] if plan.sharded else [plan.entry]
    if plan.sharded:
        from energy_badge.files import read_json

        index = read_json(folder / plan.entry)
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise InvalidFileError(f"{name}: {plan.entry} has no weight_map naming its shard files")
        for shard in sorted({str(v) for v in weight_map.values()}):
            if not inside(shard):
                raise UnsafeModelError(
                    f"{name}: {plan.entry} names a weight file outside the model folder "
                    f"({_show(shard)}); refused"
                )
            out.append(shard)
    available = set(files)
    out += [f for f in _config_extra_files(config) if f in available and f not in out]
    return tuple(out)


def _config_extra_files(config: Mapping[str, object]) -> tuple[str, ...]:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    try:
        cls = CONFIG_MAPPING[str(config.get("model_type"))]
    except KeyError:
        return ()
    return tuple(getattr(cls, "extra_files", ()))


def allowed_roots(folder: Path) -> tuple[Path, ...]:
    """Where the files of ``folder`` may really lie: the folder itself, and for a Hub cache snapshot
    (``models--org--name/snapshots/<sha>``, whose files are links) the repository's ``blobs``."""
    real = folder.resolve()
    blobs = real.parent.parent / "blobs"
    if real.parent.name == "snapshots" and blobs.is_dir():
        return real, blobs.resolve()
    return (real,)


def check_files(
    folder: Path, files: Iterable[str], *, name: str, weights: Iterable[str] = (), allow_pickle: bool = False
) -> dict[str, Path]:
    """Check each file a run will read before anything reads it; return where each really is.

    Each must be a regular file (not a FIFO or a device) inside the folder, reached through no link
    out of it (:func:`allowed_roots`). Each of ``weights`` must be a safetensors file, or with
    ``allow_pickle`` may be a pickle file; a ``.safetensors`` name must hold a safetensors file.

    Args:
        folder: the model folder.
        files: repository-relative paths of the files to read (``weights`` included or not).
        name: the model, for messages.
        weights: the files read as tensors (:func:`weight_files`).
        allow_pickle: whether non-safetensors weights may be read.

    Returns:
        ``{relative path: real path}``, sorted by path.

    Raises:
        UnsafeModelError: a path or link leading out of the folder; pickle weights not allowed.
        ModelNotFoundError: a file that is not there.
        InvalidFileError: not a regular file, or a ``.safetensors`` file that is not one.
    """
    weights = set(weights)
    check_weight_names(weights, allow_pickle=allow_pickle, name=name)
    roots = allowed_roots(folder)
    out: dict[str, Path] = {}
    for rel in sorted(set(files) | weights):
        if not inside(rel):
            raise UnsafeModelError(f"{name}: {_show(rel)} is outside the model folder; refused")
        try:
            real = (folder / rel).resolve(strict=True)
            mode = real.stat().st_mode
        except FileNotFoundError:
            raise ModelNotFoundError(f"{name} has no {_show(rel)}, which it needs to load") from None
        except (OSError, RuntimeError) as exc:  # a link loop
            raise InvalidFileError(f"{name}: cannot read {_show(rel)}: {exc}") from None
        if not any(real.is_relative_to(root) for root in roots):
            raise UnsafeModelError(
                f"{name}: {_show(rel)} is a link to {_show(str(real))}, outside the model folder; "
                "links out of the folder are not followed"
            )
        if not stat.S_ISREG(mode):
            raise InvalidFileError(f"{name}: {_show(rel)} is not a regular file")
        if rel in weights and rel.endswith(".safetensors"):
            _check_safetensors(real, rel, name)
        out[rel] = real
    return out


def check_weight_names(weights: Iterable[str], *, allow_pickle: bool, name: str) -> None:
    """Refuse weights that are not safetensors files, by name, unless pickle is allowed.

    Raises:
        UnsafeModelError: a weight file not named ``*.safetensors`` and ``allow_pickle`` is false.
    """
    pickled = [w for w in weights if not w.endswith(".safetensors")]
    if pickled and not allow_pickle:
        raise UnsafeModelError(
            f"{name} would load pickle-based weights ({_show(pickled[0])}), which can run code when "
            "loaded; pass --allow-pickle to load them anyway"
        )


def _check_safetensors(path: Path, rel: str, name: str) -> None:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            fh.keys()
    except (SafetensorError, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidFileError(f"{name}: {_show(rel)} is not a safetensors file ({text})") from None


@contextmanager
def staged(files: Mapping[str, Path], label: str) -> Iterator[Path]:
    """A private folder holding links to ``files`` alone, removed on exit: what transformers loads.

    Args:
        files: ``{relative path: real path}`` as :func:`check_files` returns.
        label: the folder's name (transformers names a model's copied remote code after it).

    Yields:
        The folder.
    """
    with tempfile.TemporaryDirectory(prefix="energy-badge-model-") as tmp:
        stage = Path(tmp) / (label if inside(label) else "model")
        stage.mkdir()
        for rel, real in files.items():
            link = stage / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(real)
        yield stage


def st_modules(folder: Path) -> tuple[str | None, bool]:
    """The pooling module's ``config.json`` (relative to ``folder``) and whether a Normalize module
    follows, from ``modules.json`` (else the usual ``1_Pooling``).

    Raises:
        InvalidFileError: ``modules.json`` does not parse.
        UnsafeModelError: it names a module folder outside the model folder.
    """
    from energy_badge.files import read_json

    pooling: str | None = None
    normalize = False
    if (folder / "modules.json").is_file():
        entries = read_json(folder / "modules.json")
        for entry in entries if isinstance(entries, list) else []:
            kind = str(entry.get("type", "")) if isinstance(entry, dict) else ""
            if kind.endswith(".Pooling"):
                where = str(entry.get("path", "")).rstrip("/")
                if where and not inside(where):
                    raise UnsafeModelError(
                        f"{folder}/modules.json names a module folder outside the model folder "
                        f"({_show(where)}); refused"
                    )
                pooling = f"{where}/config.json" if where else "config.json"
            elif kind.endswith(".Normalize"):
                normalize = True
    elif (folder / "1_Pooling" / "config.json").is_file():
        pooling = "1_Pooling/config.json"
    return pooling, normalize


def st_module_files(folder: Path) -> list[str]:
    """The pooling module's ``config.json`` that ``modules.json`` names, when the folder has it.

    Raises:
        InvalidFileError: ``modules.json`` does not parse.
        UnsafeModelError: it names a module folder outside the model folder.
    """
    pooling, _ = st_modules(folder)
    return [pooling] if pooling is not None and os.path.lexists(folder / pooling) else []
