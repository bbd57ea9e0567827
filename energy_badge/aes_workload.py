"""The optional AI Energy Score workload source: ``energy-badge measure --workload aes``.

Instead of energy-badge's own generated inputs, a run can use the AI Energy Score's (AES) own Hub
datasets, for users who want figures comparable with that leaderboard. They are loaded at run time
with the ``datasets`` library (imported here only; ``pip install "energy-badge[aes]"``), never
shipped, never the default, and a result of them is never canonical (so never rated nor published
as a badge: :func:`energy_badge.policy.canonical_reasons` says so).

Which datasets: the dataset ids and columns the AES's runner configs name (optimum-benchmark's
``energy_star/*.yaml``, also read by huggingface/AIEnergyScore's ``text_generation.yaml`` and
``batch_runner.py``): ``EnergyStarAI/<name>``, split ``train``, 1000 rows each.

Pinned: the revision asked for (``--workload aes@<revision>``; default the dataset's ``main``) is
resolved on the Hub to a commit sha first, and exactly that commit is loaded, so a dataset pushed
to mid-run cannot change what runs. The result records it: workload ``source`` ``aes``, ``name``
``EnergyStarAI/<name>@<commit sha>``, ``version`` ``0.0.0`` (the datasets carry no version: the
commit pins them), and ``sha256`` of the decoded inputs read, by the same definitions as the
canonical workloads (:meth:`energy_badge.workload.Workload.from_inputs`).

The Hub endpoint is ``HF_ENDPOINT`` (``datasets`` reads it when it is imported); the token is
huggingface_hub's (``HF_TOKEN``). Speech clips are decoded and resampled to 16 kHz by ``datasets``
itself, which needs ``torchcodec`` for audio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from energy_badge.errors import UsageError

if TYPE_CHECKING:
    from energy_badge.hub import HubClient
    from energy_badge.workload import Workload

__all__ = [
    "AES_DATASETS",
    "AES_SOURCE",
    "AES_VERSION",
    "DEFAULT_WORKLOAD",
    "AesDataset",
    "WorkloadChoice",
    "load_aes_workload",
    "parse_workload_option",
]

AES_SOURCE = "aes"
"""The ``workload.source`` of a result measured on an AES dataset."""

AES_VERSION = "0.0.0"
"""The ``workload.version`` of an AES dataset (unversioned: its commit, in the name, pins it)."""

DEFAULT_WORKLOAD = "energy-badge"
"""``--workload``'s default: the task's canonical workload."""


@dataclass(frozen=True)
class AesDataset:
    """One AES dataset: the Hub id, the split, and the columns one query is made of.

    Attributes:
        dataset_id: the Hub dataset repository.
        columns: the columns of one query, in the order of the task's canonical input fields.
        split: the split the AES runs.
    """

    dataset_id: str
    columns: tuple[str, ...]
    split: str = "train"


AES_DATASETS: Mapping[str, AesDataset] = {
    "text-classification": AesDataset("EnergyStarAI/text_classification", ("text",)),
    "sentence-similarity": AesDataset("EnergyStarAI/sentence_similarity", ("sentence1", "sentence2")),
    "question-answering": AesDataset("EnergyStarAI/extractive_qa", ("question", "context")),
    "summarization": AesDataset("EnergyStarAI/summarization", ("text",)),
    "text-generation": AesDataset("EnergyStarAI/text_generation", ("text",)),
    "image-classification": AesDataset("EnergyStarAI/image_classification", ("image",)),
    "object-detection": AesDataset("EnergyStarAI/object_detection", ("image",)),
    "automatic-speech-recognition": AesDataset("EnergyStarAI/ASR", ("audio",)),
    "image-to-text": AesDataset("EnergyStarAI/image_captioning", ("image",)),
    "text-to-image": AesDataset("EnergyStarAI/image_generation", ("prompt",)),
}
"""Each task's AES dataset (from the AES's runner configs; see the module docstring)."""

_REVISION = re.compile(r"[A-Za-z0-9][\w.\-/]{0,199}")


@dataclass(frozen=True)
class WorkloadChoice:
    """What ``--workload`` asked for.

    Attributes:
        source: ``energy-badge`` (the canonical workload) or ``aes``.
        revision: for ``aes``: the dataset revision asked for (None: ``main``).
    """

    source: str
    revision: str | None = None


def parse_workload_option(value: str | None) -> WorkloadChoice:
    """Parse ``--workload``: ``energy-badge`` (default), ``aes`` or ``aes@<revision>``.

    Raises:
        UsageError: anything else (the message lists the forms).
    """
    text = (value or DEFAULT_WORKLOAD).strip()
    if text == DEFAULT_WORKLOAD:
        return WorkloadChoice(DEFAULT_WORKLOAD)
    source, at, revision = text.partition("@")
    if source == AES_SOURCE and (not at or _REVISION.fullmatch(revision)):
        return WorkloadChoice(AES_SOURCE, revision or None)
    raise UsageError(
        f"--workload must be {DEFAULT_WORKLOAD}, {AES_SOURCE} or {AES_SOURCE}@<revision> (a branch, tag or "
        f"commit of the AI Energy Score dataset), got {value!r}"
    )


def load_aes_workload(
    task: str,
    revision: str | None = None,
    *,
    hub: HubClient | None = None,
    cache_dir: str | None = None,
) -> Workload:
    """Load ``task``'s AES dataset at a pinned commit as a workload.

    Args:
        task: one of the tasks in :data:`AES_DATASETS`.
        revision: the dataset revision (branch, tag or commit); None: ``main``. Resolved to a
            commit sha before anything is read.
        hub: the Hub client that resolves the revision (default: one for ``HF_ENDPOINT``/``HF_TOKEN``).
        cache_dir: the ``datasets`` cache (default: its own, under ``HF_HOME``).

    Returns:
        A :class:`~energy_badge.workload.Workload` of the dataset's rows, in order, with the
        canonical workload's batch size, generation settings and dtype, ``source`` ``aes`` and
        ``name`` ``<dataset id>@<commit sha>``.

    Raises:
        UsageError: no AES dataset for the task; ``datasets`` (or, for audio, ``torchcodec``) is
            not installed; the dataset lacks a column the task needs.
        ModelNotFoundError, HubError, NetworkError: the Hub does not show the dataset or did not
            answer (as :class:`~energy_badge.hub.HubClient` raises them).
    """
    from energy_badge.workload import Workload, canonical_spec

    spec = AES_DATASETS.get(task)
    if spec is None:
        raise UsageError(f"no AI Energy Score dataset is known for {task}")
    datasets = _import_datasets()
    if hub is None:
        from energy_badge.hub import HubClient

        hub = HubClient()
    sha = hub.dataset_sha(spec.dataset_id, revision)
    table = datasets.load_dataset(spec.dataset_id, split=spec.split, revision=sha, cache_dir=cache_dir)
    missing = [c for c in spec.columns if c not in table.column_names]
    if missing:
        raise UsageError(
            f"{spec.dataset_id}@{sha[:12]} has no column {', '.join(missing)} "
            f"(it has {', '.join(table.column_names)})"
        )
    if spec.columns == ("audio",):
        table = _audio_at_16k(datasets, table)
    inputs: list[Any] = []
    for row in table:
        values = [row[c] for c in spec.columns]
        inputs.append(_audio_samples(values[0]) if spec.columns == ("audio",) else _one(values))
    canonical = canonical_spec(task)
    return Workload.from_inputs(
        task=task,
        name=f"{spec.dataset_id}@{sha}",
        version=AES_VERSION,
        inputs=inputs,
        source=AES_SOURCE,
        batch_size=canonical.batch_size,
        default_dtype=canonical.default_dtype,
        manifest={"dataset": spec.dataset_id, "revision": sha, "split": spec.split, "rows": len(inputs)},
    )


def _import_datasets() -> Any:
    try:
        import datasets
    except ImportError:  # pragma: no cover - installed with the aes and test extras
        raise UsageError(
            '--workload aes needs the datasets library: pip install "energy-badge[aes]"'
        ) from None
    return datasets


def _audio_at_16k(datasets: Any, table: Any) -> Any:
    """The audio column decoded by ``datasets`` and resampled to 16 kHz (needs ``torchcodec``)."""
    import importlib.util

    if importlib.util.find_spec("torchcodec") is None:
        raise UsageError(
            "--workload aes for speech recognition needs torchcodec to decode the AES's audio "
            "(pip install torchcodec)"
        )
    from energy_badge.workload import AUDIO_SAMPLING_RATE

    return table.cast_column("audio", datasets.Audio(sampling_rate=AUDIO_SAMPLING_RATE))


def _audio_samples(value: Any) -> Any:  # pragma: no cover - needs torchcodec, absent here
    """The float32 samples of a decoded clip (a mapping with ``array``, or an audio decoder)."""
    import numpy as np

    if isinstance(value, Mapping):
        return np.asarray(value["array"], dtype=np.float32)
    samples = value.get_all_samples()
    return np.asarray(samples.data.mean(dim=0).numpy(), dtype=np.float32)


def _one(values: list[Any]) -> Any:
    """One query's input: the value of a one-column task (a PIL image, a text), else a tuple of texts."""
    return values[0] if len(values) == 1 else tuple(str(v) for v in values)
