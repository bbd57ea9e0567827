"""Prepared inputs shared between models whose preprocessing is the same (bulk runs).

A runner's :meth:`~energy_badge.run.runner.TaskRunner.prepare` turns the workload's 1000 queries
into model inputs: tokenizing texts, decoding and resizing pictures, computing audio features. In a
bulk run, many models of a task share their preprocessing (fine-tunes of one base model keep its
tokenizer or image processor), and preparing the same inputs again costs seconds of CPU (tens of
seconds for pictures) while the GPU waits. A :class:`PreparedCache` keeps the prepared inputs of
the last models measured in this process, and a runner given one reuses them when its own
preprocessing provably gives the same inputs:

* **the fingerprint** (:func:`fingerprint`) is a sha256 over the runner's class and settings
  (batch size, input limit, the inputs its model accepts, its reasoning mode), the full serialised
  state of its tokenizer and processor (vocabulary and rules, special tokens, padding and
  truncation sides, chat template, every processor setting), the workload's identity (its
  sha256, version and query count), and **the inputs this runner itself prepares for a probe** of
  the workload: eight batches spread over it and the two longest queries;
* the cache returns prepared inputs only for an equal fingerprint, so the probe's batches of the
  new model equal the cached ones bit for bit, and everything that decides the rest is equal too.
  A runner whose preprocessing cannot be serialised is never given reused inputs.

The result records the fingerprint and, when inputs were reused, the model they were prepared
for (:class:`PreparationRecord`, ``workload.preparation``). The bulk pipeline also fills the cache
ahead of time: :func:`energy_badge.ahead.prepare_ahead` prepares the next model's inputs on a
weightless copy of its runner while the current model is measured. ``measure`` never reuses; ``bulk``
and the service do. The cache lives in memory only, bounded by bytes; entries are kept on the CPU
and copied to each runner's device, so no runner can change another's inputs.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from energy_badge.run.runner import Batch

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "PROBE_BATCHES",
    "Prepared",
    "PreparationRecord",
    "PreparedCache",
    "default_prepared_cache",
    "fingerprint",
    "prepare_inputs",
    "probe_positions",
]

#: Batches spread evenly over the workload that every runner prepares for its fingerprint.
PROBE_BATCHES = 8
#: The longest queries (by their record's length) added to the probe: where truncation shows.
PROBE_LONGEST = 2
#: The cache's default bound: a captioning workload's 1000 prepared pictures are about 1.7 GB.
DEFAULT_CACHE_BYTES = 4 * 2**30


@dataclass(frozen=True)
class PreparationRecord:
    """How a measurement's inputs were prepared (``workload.preparation`` in the result).

    Attributes:
        fingerprint: the sha256 (hex) of :func:`fingerprint`, None where the runner's
            preprocessing could not be serialised (then nothing was reused).
        reused_from: the model whose prepared inputs this measurement reused (same fingerprint):
            another model's, or this model's own id when they were prepared ahead for it
            (:mod:`energy_badge.ahead`); None when they were prepared by this measurement.
        probe_batches: the batches prepared and compared for the fingerprint.
    """

    fingerprint: str | None
    reused_from: str | None
    probe_batches: int

    def to_dict(self) -> dict[str, object]:
        """The JSON form (``workload.preparation``)."""
        return {
            "fingerprint": self.fingerprint,
            "reused_from": self.reused_from,
            "probe_batches": self.probe_batches,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreparationRecord:
        """Read the JSON form (already checked against the schema)."""
        return cls(data["fingerprint"], data["reused_from"], data["probe_batches"])


@dataclass(frozen=True)
class Prepared:
    """A workload's prepared inputs, on the CPU, as a runner's encode made them.

    Attributes:
        batches: the batches in workload order (never changed: runners copy them to their device).
        input_tokens: tokens fed per query, in workload order.
        truncated: queries cut to the model's input limit.
        costs: each query's cost proxy where the runner has one (media runners), else empty.
        model: the model they were prepared for.
        nbytes: the bytes of their tensors.
    """

    batches: tuple[Batch, ...]
    input_tokens: tuple[int, ...]
    truncated: int
    costs: tuple[float, ...]
    model: str
    nbytes: int


#: ``encode(positions) -> (batch, truncated, costs)``: one batch of the workload, on the CPU.
EncodeFn = Callable[[Sequence[int]], "tuple[Batch, int, Sequence[float]]"]


class PreparedCache:
    """Prepared inputs by fingerprint, least recently used first out, at most ``max_bytes`` held.

    Args:
        max_bytes: the bound on the tensors held; an entry larger than this is not kept.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Prepared | None:
        """The inputs prepared under fingerprint ``key``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, prepared: Prepared) -> None:
        """Keep ``prepared`` under ``key``, dropping the least recently used to stay within the bound."""
        if prepared.nbytes > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = prepared
            self._entries.move_to_end(key)
            while sum(e.nbytes for e in self._entries.values()) > self.max_bytes:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


_DEFAULT = PreparedCache()


def default_prepared_cache() -> PreparedCache:
    """The cache the bulk run's measurements of this process share."""
    return _DEFAULT


def probe_positions(chunks: Sequence[Sequence[int]], lengths: Sequence[int]) -> list[int]:
    """The batches prepared for the fingerprint: :data:`PROBE_BATCHES` spread evenly over the
    workload, and the batches holding its :data:`PROBE_LONGEST` longest queries.

    Args:
        chunks: the workload positions of each batch.
        lengths: each query's record length (a text's characters; any size measure).

    Returns:
        Batch indices, ascending, without repeats.
    """
    n = len(chunks)
    spread = {round(i * (n - 1) / (PROBE_BATCHES - 1)) for i in range(PROBE_BATCHES)} if n > 1 else {0}
    longest = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))[:PROBE_LONGEST]
    where = {pos: b for b, chunk in enumerate(chunks) for pos in chunk}
    return sorted(spread | {where[i] for i in longest if i in where})


def fingerprint(settings: dict[str, object], state: str, probe: Sequence[Batch]) -> str:
    """The sha256 (hex) deciding reuse: ``settings`` (JSON), the preprocessing ``state``, the probe's inputs.

    Args:
        settings: the runner's and the workload's identity (JSON-serialisable).
        state: :func:`preprocessing_state` of the runner.
        probe: the probe's batches as this runner prepared them.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=repr).encode())
    digest.update(b"\0state\0" + state.encode("utf-8", "surrogatepass"))
    for batch in probe:
        digest.update(b"\0batch\0" + json.dumps([batch.ids, batch.input_tokens]).encode())
        for part in (batch.inputs, batch.extra):
            for name in sorted(part):
                digest.update(b"\0" + name.encode() + b"\0")
                _hash_value(digest, part[name])
    return digest.hexdigest()


def _hash_value(digest: Any, value: Any) -> None:
    """Add a tensor (dtype, shape, bytes) or any other value (its JSON) to ``digest``."""
    if hasattr(value, "detach") and hasattr(value, "dtype"):
        import torch

        tensor = value.detach().to("cpu").contiguous()
        digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    else:
        digest.update(json.dumps(value, sort_keys=True, default=repr).encode())


def preprocessing_state(tokenizer: Any, processor: Any) -> str | None:
    """Everything a tokenizer and a processor would do to an input, serialised; None when unknown.

    A fast tokenizer gives its backend's full JSON (vocabulary, normaliser, pre-tokeniser,
    post-processor, added tokens) plus the settings kept outside it; a processor its
    ``to_json_string()`` (a composite processor: each of its parts). Paths (where the files were
    read from) are left out: they differ between models with the same files.
    """
    parts: list[str] = []
    for name, obj in (("tokenizer", tokenizer), ("processor", processor)):
        if obj is None:
            parts.append(f"{name}: none")
            continue
        state = _state_of(obj, depth=0)
        if state is None:
            return None
        parts.append(f"{name}: {state}")
    return "\n".join(parts)


_TOKENIZER_SETTINGS = (
    "padding_side",
    "truncation_side",
    "model_max_length",
    "chat_template",
    "special_tokens_map",
    "add_bos_token",
    "add_eos_token",
    "clean_up_tokenization_spaces",
    "do_lower_case",
)


def _state_of(obj: Any, depth: int) -> str | None:
    backend = getattr(obj, "backend_tokenizer", None)
    if backend is not None and callable(getattr(backend, "to_str", None)):
        settings = {key: getattr(obj, key, None) for key in _TOKENIZER_SETTINGS}
        return f"{type(obj).__name__} {backend.to_str()} {json.dumps(settings, sort_keys=True, default=repr)}"
    if depth == 0:
        inner = [(n, getattr(obj, n, None)) for n in ("tokenizer", "image_processor", "feature_extractor")]
        inner = [(n, o) for n, o in inner if o is not None and o is not obj]
        if inner:  # a composite processor (ProcessorMixin): its parts
            states = [(n, _state_of(o, depth + 1)) for n, o in inner]
            if any(s is None for _, s in states):
                return None
            return " | ".join(f"{n}: {s}" for n, s in states)
    to_json = getattr(obj, "to_json_string", None)
    if callable(to_json):
        data = json.loads(to_json())
        if isinstance(data, dict):
            data.pop("processor_class", None)
            data.pop("_processor_class", None)
        return f"{type(obj).__name__} {json.dumps(data, sort_keys=True)}"
    return None


def prepare_inputs(
    encode: EncodeFn,
    chunks: Sequence[Sequence[int]],
    lengths: Sequence[int],
    *,
    model: str,
    settings: dict[str, object],
    state: str | None,
    cache: PreparedCache | None,
    pause: Callable[[], None] | None = None,
) -> tuple[Prepared, PreparationRecord | None]:
    """Prepare a workload's batches, or reuse those of a model with the same fingerprint.

    Args:
        encode: prepares one batch (its workload positions) on the CPU.
        chunks: the workload positions of each batch, in order.
        lengths: each query's record length (for the probe's longest queries).
        model: the model being prepared for (recorded with a cache entry).
        settings: the runner's and workload's identity for the fingerprint.
        state: :func:`preprocessing_state` (None: never reuse, never cache).
        cache: where prepared inputs are shared; None prepares everything and records nothing.
        pause: called before each batch is prepared (see :meth:`TaskRunner.prepare`).

    Returns:
        The prepared inputs and, with a cache, how they were prepared.
    """

    def one(b: int) -> tuple[Batch, int, Sequence[float]]:
        if pause is not None:
            pause()
        return encode(chunks[b])

    encoded: dict[int, tuple[Batch, int, Sequence[float]]] = {}
    record = None
    key = None
    if cache is not None:
        probe = probe_positions(chunks, lengths)
        for b in probe:
            encoded[b] = one(b)
        if state is not None:
            key = fingerprint(settings, state, [encoded[b][0] for b in probe])
            hit = cache.get(key)
            if hit is not None:
                return hit, PreparationRecord(key, hit.model, len(probe))
        record = PreparationRecord(key, None, len(probe))
    for b in range(len(chunks)):
        if b not in encoded:
            encoded[b] = one(b)
    batches = tuple(encoded[b][0] for b in range(len(chunks)))
    prepared = Prepared(
        batches=batches,
        input_tokens=tuple(n for batch in batches for n in batch.input_tokens),
        truncated=sum(encoded[b][1] for b in range(len(chunks))),
        costs=tuple(c for b in range(len(chunks)) for c in encoded[b][2]),
        model=model,
        nbytes=sum(_nbytes(batch) for batch in batches),
    )
    if cache is not None and key is not None:
        cache.put(key, prepared)
    return prepared, record


def _nbytes(batch: Batch) -> int:
    total = 0
    for part in (batch.inputs, batch.extra):
        for value in part.values():
            size = getattr(value, "nbytes", None)
            total += int(size) if isinstance(size, int) else 0
    return total
