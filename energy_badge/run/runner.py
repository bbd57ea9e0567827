"""Task runners: a loaded model, its tokenized workload, and the measured pass over it.

Everything that is not the model's own work happens in :meth:`TaskRunner.prepare`: tokenizing,
padding, truncating, moving tensors to the device. :meth:`TaskRunner.run_pass` then runs the
prepared batches in order under ``torch.inference_mode()``, synchronizing the GPU after each batch,
so per-batch latencies are real and the energy meter's window holds model work only. Models are
driven through their ``AutoModelFor...`` classes and ``generate`` directly, never through pipelines.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from energy_badge.errors import RuntimeFailure, UsageError
from energy_badge.run.prepared import (
    PreparationRecord,
    PreparedCache,
    prepare_inputs,
    preprocessing_state,
)

if TYPE_CHECKING:
    from energy_badge.workload import Workload

__all__ = ["Batch", "ModelInfo", "PassStats", "TaskRunner"]


@dataclass(frozen=True)
class ModelInfo:
    """What was run: identity, provenance and the safety flags in force.

    Attributes:
        id: the Hub repo id, or a local folder's name (:func:`energy_badge.run.source.local_model_id`).
        source: ``"hub"`` or ``"local"``.
        revision: the resolved Hub commit sha (``None`` for a local folder).
        content_sha256: sha256 over the files used (local folders; ``None`` for Hub models,
            whose commit sha pins the content).
        architecture: the class that ran (``BertForSequenceClassification``).
        parameters: number of parameters (tied weights counted once).
        dtype: the dtype the weights were loaded in (``float32``, ``float16``, ``bfloat16``).
        trust_remote_code: whether code from the repository was allowed to run.
        allow_pickle: whether pickle-based weight files were allowed.
        random_weights: True when the weights are random (architecture built from its config),
            False when loaded from the model's weight files.
        note: anything unusual about the load (weights missing from the checkpoint), else None.
        path: a local folder's full resolved path (raw data: ``id`` is then its name, see
            :func:`energy_badge.run.source.local_model_id`); None for Hub models and older results.
    """

    id: str
    source: Literal["hub", "local"]
    revision: str | None
    content_sha256: str | None
    architecture: str
    parameters: int
    dtype: str
    trust_remote_code: bool
    allow_pickle: bool
    random_weights: bool | None
    note: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class PassStats:
    """One pass over the prepared workload.

    Attributes:
        latencies_s: wall time of each batch in seconds (GPU-synchronized).
        queries: queries run.
        input_tokens: tokens fed to the model (padding excluded).
        output_tokens: tokens generated (0 for tasks that generate nothing).
    """

    latencies_s: tuple[float, ...] = ()
    queries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def seconds(self) -> float:
        """Sum of the batch latencies."""
        return sum(self.latencies_s)


@dataclass
class Batch:
    """One prepared batch.

    Attributes:
        ids: the query ids, in order.
        inputs: keyword tensors passed to the model, already on the device.
        input_tokens: non-padding input tokens of each query.
        extra: task-specific data for post-processing and decoding.
    """

    ids: list[str]
    inputs: dict[str, Any]
    input_tokens: list[int]
    extra: dict[str, Any] = field(default_factory=dict)


class TaskRunner:
    """A model loaded for one task, ready to run a workload.

    Use :func:`energy_badge.run.load_runner` to build one; then :meth:`prepare` a workload once
    and call :meth:`run_pass` as many times as the meter needs.

    Attributes:
        task: the task name.
        info: what was loaded (:class:`ModelInfo`).
        device: the torch device string the model runs on (``cuda:0``, ``cpu``).
        batch_size: queries per batch.
        max_input_tokens: the longest input fed to the model (longer inputs are truncated), or None.
        input_token_counts: tokens fed per query, in workload order (after :meth:`prepare`).
        truncated_queries: how many queries were cut to ``max_input_tokens`` (after :meth:`prepare`).
    """

    task = ""
    #: What turns a query into model inputs (:func:`energy_badge.run.processors.load_preprocessing`).
    preprocessing = "tokenizer"

    def __init__(
        self,
        *,
        model: Any,
        tokenizer: Any = None,
        info: ModelInfo,
        device: str,
        batch_size: int = 1,
        max_input_tokens: int | None = None,
        processor: Any = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.processor = processor
        self.info = info
        self.device = device
        self.batch_size = batch_size
        self.max_input_tokens = max_input_tokens
        self.input_token_counts: list[int] = []
        self.truncated_queries = 0
        self._batches: list[Batch] = []
        self._prepared_costs: list[float] = []
        self._workload: Any = None
        #: How :meth:`prepare` prepared the inputs (None: no cache was given).
        self.preparation: PreparationRecord | None = None
        forward = getattr(model, "forward", None)  # a diffusers pipeline has none: it is called
        params = inspect.signature(forward).parameters if callable(forward) else {}
        self._forward_keys = {"input_ids", "attention_mask"} | (
            {"token_type_ids"} if "token_type_ids" in params else set()
        )

    # -- public API -------------------------------------------------------------------------------

    @property
    def prepared(self) -> bool:
        """Whether a workload has been prepared."""
        return self._workload is not None

    def prepare(
        self,
        workload: Workload,
        *,
        cache: PreparedCache | None = None,
        pause: Callable[[], None] | None = None,
    ) -> None:
        """Tokenize ``workload`` into padded batches on the device (outside any measured window).

        Args:
            workload: an object with ``.task``, ``.queries`` (tuple of dicts) and, for generation
                tasks, ``.generation`` (``max_new_tokens``, ``min_new_tokens``, ``do_sample``, ``num_beams``).
            cache: prepared inputs shared with earlier models of this process: reused when this
                runner's preprocessing has the same fingerprint (:mod:`energy_badge.run.prepared`;
                :attr:`preparation` then says so); None prepares everything.
            pause: called before each batch is prepared (the bulk pipeline's prefetcher waits
                there while another model's measured window is open).

        Raises:
            UsageError: the workload is for another task, is empty, or lacks generation settings.
        """
        if getattr(workload, "task", self.task) != self.task:
            raise UsageError(f"this runner is for {self.task}, not a {workload.task} workload")
        queries = list(workload.queries)
        if not queries:
            raise UsageError("the workload has no queries")
        self._check_workload(workload)
        self._configure(workload)
        chunks = [
            range(s, min(len(queries), s + self.batch_size)) for s in range(0, len(queries), self.batch_size)
        ]
        shared = cache is not None  # the fingerprint's parts are only needed to share
        prepared, self.preparation = prepare_inputs(
            lambda positions: self._encode_positions(workload, queries, positions),
            chunks,
            [len(json.dumps(q, sort_keys=True, default=str)) for q in queries] if shared else [],
            model=self.info.id,
            settings=self._preparation_settings(workload) if shared else {},
            state=preprocessing_state(self.tokenizer, self.processor) if shared else None,
            cache=cache,
            pause=pause,
        )
        self._batches = [self._placed(batch) for batch in prepared.batches]
        self.input_token_counts = list(prepared.input_tokens)
        self.truncated_queries = prepared.truncated
        self._prepared_costs = list(prepared.costs)
        self._workload = workload

    def run_pass(self, indices: Sequence[int] | None = None) -> PassStats:
        """Run the whole prepared workload once, batch by batch, or only the chosen queries.

        Args:
            indices: the 0-based workload positions of the queries to run, in the order given
                (the sampled protocol's sample); None runs every prepared batch. Only at batch
                size 1, where a batch is one query.

        Returns:
            Per-batch latencies and the query and token counts.

        Raises:
            UsageError: :meth:`prepare` was not called, or ``indices`` at a batch size above 1
                or out of range.
            RuntimeFailure: the device ran out of memory.
        """
        return self._pass(prefill=False, indices=indices)

    def run_prefill_pass(self, indices: Sequence[int] | None = None) -> PassStats:
        """Run the prefill only (one new token per query): text generation only.

        Raises:
            UsageError: not a text-generation runner, or nothing prepared.
        """
        raise UsageError(f"a prefill pass exists for text-generation only, not {self.task}")

    def cost_proxy(self) -> tuple[str, list[float]]:
        """What drives each prepared query's cost, for the sampled protocol's strata.

        Text runners: the input tokens of each query under the model's tokenizer (counted in
        :meth:`prepare`). Runners of other inputs override it (pixels of an image, seconds of a
        clip).

        Returns:
            The proxy's name and one value per query, in workload order.

        Raises:
            UsageError: :meth:`prepare` was not called.
        """
        self._require_prepared()
        return "input_tokens", [float(n) for n in self.input_token_counts]

    def run_warmup(self, seconds: float, *, prefill: bool = False) -> PassStats:
        """Warm up: run the prepared batches in order until ``seconds`` have passed or all have run.

        At least one batch runs. The measured passes that follow run the whole workload.

        Args:
            seconds: the time limit; the batch running when it is reached is finished.
            prefill: warm up the prefill pass instead (text generation only).

        Returns:
            Latencies and counts of the batches run.

        Raises:
            UsageError: :meth:`prepare` was not called, or ``prefill`` on another task.
            RuntimeFailure: the device ran out of memory.
        """
        if prefill and self.task != "text-generation":
            raise UsageError(f"a prefill pass exists for text-generation only, not {self.task}")
        return self._pass(prefill=prefill, limit_s=seconds)

    def sample_outputs(self, n: int = 3) -> list[dict[str, object]]:
        """Decoded outputs of the first ``n`` queries, to show the model really ran (not measured).

        Args:
            n: how many queries.

        Returns:
            One dict per query with ``id`` and the task's output (``label``/``score``, ``score``,
            ``answer``, ``summary``, ``continuation``).

        Raises:
            UsageError: :meth:`prepare` was not called.
        """
        import torch

        self._require_prepared()
        out: list[dict[str, object]] = []
        with torch.inference_mode():
            for batch in self._batches:
                if len(out) >= n:
                    break
                out.extend(self._decode(batch, self._forward(batch, prefill=False)))
        return out[:n]

    # -- internals ----------------------------------------------------------------------------------

    def _require_prepared(self) -> None:
        if not self.prepared:
            raise UsageError("call prepare(workload) before running a pass")

    def _sync(self) -> None:
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)

    def _selected(self, indices: Sequence[int] | None) -> list[Batch]:
        """The prepared batches to run: all of them, or the chosen queries (batch size 1)."""
        if indices is None:
            return self._batches
        if self.batch_size != 1:
            raise UsageError("running chosen queries needs batch size 1 (one query per batch)")
        count = len(self._batches)
        if any(isinstance(i, bool) or not 0 <= i < count for i in indices):
            raise UsageError(f"query indices must lie in 0..{count - 1}")
        return [self._batches[i] for i in indices]

    def _pass(
        self, *, prefill: bool, limit_s: float | None = None, indices: Sequence[int] | None = None
    ) -> PassStats:
        import torch

        self._require_prepared()
        batches = self._selected(indices)
        latencies: list[float] = []
        output_tokens = 0
        started = time.perf_counter()
        try:
            with torch.inference_mode():
                self._sync()
                for batch in batches:
                    t0 = time.perf_counter()
                    result = self._forward(batch, prefill=prefill)
                    self._sync()
                    latencies.append(time.perf_counter() - t0)
                    # Counted now and dropped: a pass never holds every output (1000 images).
                    output_tokens += self._output_tokens(batch, result)
                    del result
                    if limit_s is not None and time.perf_counter() - started >= limit_s:
                        break
                ran = batches[: len(latencies)]
        except torch.OutOfMemoryError as exc:
            raise RuntimeFailure(
                f"out of memory on {self.device} running {self.info.id}; try a smaller --batch-size "
                f"or dtype ({str(exc).splitlines()[0]})"
            ) from None
        return PassStats(
            latencies_s=tuple(latencies),
            queries=sum(len(b.ids) for b in ran),
            input_tokens=sum(sum(b.input_tokens) for b in ran),
            output_tokens=output_tokens,
        )

    def _model_inputs(self, enc: Any, keys: set[str] | None = None) -> dict[str, Any]:
        keys = self._forward_keys if keys is None else keys
        return {k: enc[k] for k in keys if k in enc}

    def _lengths(self, *texts: list[str]) -> list[int]:
        enc = self.tokenizer(*texts, truncation=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def _tokenize(self, *texts: list[str], **kwargs: Any) -> Any:
        limit = self.max_input_tokens
        return self.tokenizer(
            *texts,
            padding=True,
            truncation=kwargs.pop("truncation", True) if limit is not None else False,
            max_length=limit,
            return_tensors="pt",
            verbose=False,
            **kwargs,
        )

    def _truncated(self, lengths: list[int]) -> list[bool]:
        limit = self.max_input_tokens
        return [limit is not None and n > limit for n in lengths]

    # Subclasses implement these.
    def _configure(self, workload: Any) -> None:
        """Read per-workload settings (generation settings) before encoding."""

    def _check_workload(self, workload: Any) -> None:
        """Refuse a workload this runner cannot take its inputs from (before any encoding)."""

    def _encode_positions(
        self, workload: Any, queries: list[dict[str, Any]], positions: Sequence[int]
    ) -> tuple[Batch, int, Sequence[float]]:
        """One batch of the queries at ``positions``, on the CPU: the batch, the queries truncated,
        and each query's cost proxy where the runner has one (empty: the input token counts)."""
        batch, truncated = self._encode([queries[i] for i in positions])
        return batch, truncated, ()

    def _placed(self, batch: Batch) -> Batch:
        """A copy of a prepared batch with its tensors on the device (the prepared one is shared)."""
        return Batch(
            list(batch.ids),
            {k: self._to_device(v) for k, v in batch.inputs.items()},
            list(batch.input_tokens),
            {k: self._to_device(v) for k, v in batch.extra.items()},
        )

    def _to_device(self, value: Any) -> Any:
        """A tensor on the device; anything else as it is."""
        return value.to(self.device) if hasattr(value, "to") else value

    def _preparation_settings(self, workload: Any) -> dict[str, object]:
        """What, besides the tokenizer/processor state and the probe, decides the prepared inputs."""
        return {
            "runner": f"{type(self).__module__}.{type(self).__qualname__}",
            "task": self.task,
            "batch_size": self.batch_size,
            "max_input_tokens": self.max_input_tokens,
            "forward_keys": sorted(self._forward_keys),
            "accepted": sorted(getattr(self, "_accepted", ())),
            "seq2seq": getattr(self, "seq2seq", None),
            "reasoning": repr(getattr(self, "_reasoning", None)),
            "room": getattr(self, "_room", None),
            "workload": [
                getattr(workload, "name", None),
                getattr(workload, "version", None),
                getattr(workload, "sha256", None),
                len(workload.queries),
                repr(getattr(workload, "generation", None)),
            ],
        }

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        raise NotImplementedError

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        raise NotImplementedError

    def _output_tokens(self, batch: Batch, result: Any) -> int:
        return 0

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        raise NotImplementedError
