"""Task runners: a loaded model, its tokenized workload, and the measured pass over it.

Everything that is not the model's own work happens in :meth:`TaskRunner.prepare`: tokenizing,
padding, truncating, moving tensors to the device. :meth:`TaskRunner.run_pass` then runs the
prepared batches in order under ``torch.inference_mode()``, synchronizing the GPU after each batch,
so per-batch latencies are real and the energy meter's window holds model work only. Models are
driven through their ``AutoModelFor...`` classes and ``generate`` directly, never through pipelines.
"""

from __future__ import annotations

import copy
import inspect
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from energy_badge.errors import RuntimeFailure, UsageError

if TYPE_CHECKING:
    from energy_badge.workload import Workload

# Longest answer span (in tokens) extractive QA may return, as in the transformers QA pipeline.
MAX_ANSWER_TOKENS = 30

# Sentence-transformers pooling modes this runner implements.
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")


@dataclass(frozen=True)
class ModelInfo:
    """What was run: identity, provenance and the safety flags in force.

    Attributes:
        id: the model as given (Hub repo id or local folder).
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


@dataclass
class PassStats:
    """One pass over the prepared workload.

    Attributes:
        latencies_s: wall time of each batch in seconds (GPU-synchronized).
        queries: queries run.
        input_tokens: tokens fed to the model (padding excluded).
        output_tokens: tokens generated (0 for tasks that generate nothing).
    """

    latencies_s: list[float] = field(default_factory=list)
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

    def __init__(
        self,
        *,
        model: Any,
        tokenizer: Any,
        info: ModelInfo,
        device: str,
        batch_size: int = 1,
        max_input_tokens: int | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        self.device = device
        self.batch_size = batch_size
        self.max_input_tokens = max_input_tokens
        self.input_token_counts: list[int] = []
        self.truncated_queries = 0
        self._batches: list[Batch] = []
        self._workload: Any = None
        params = inspect.signature(model.forward).parameters
        self._forward_keys = {"input_ids", "attention_mask"} | (
            {"token_type_ids"} if "token_type_ids" in params else set()
        )

    # -- public API -------------------------------------------------------------------------------

    @property
    def prepared(self) -> bool:
        """Whether a workload has been prepared."""
        return self._workload is not None

    def prepare(self, workload: Workload) -> None:
        """Tokenize ``workload`` into padded batches on the device (outside any measured window).

        Args:
            workload: an object with ``.task``, ``.queries`` (tuple of dicts) and, for generation
                tasks, ``.generation`` (``max_new_tokens``, ``min_new_tokens``, ``do_sample``, ``num_beams``).

        Raises:
            UsageError: the workload is for another task, is empty, or lacks generation settings.
        """
        if getattr(workload, "task", self.task) != self.task:
            raise UsageError(f"this runner is for {self.task}, not a {workload.task} workload")
        queries = list(workload.queries)
        if not queries:
            raise UsageError("the workload has no queries")
        self._configure(workload)
        self._batches = []
        self.input_token_counts = []
        self.truncated_queries = 0
        for start in range(0, len(queries), self.batch_size):
            chunk = queries[start : start + self.batch_size]
            batch, truncated = self._encode(chunk)
            batch.inputs = {k: v.to(self.device) for k, v in batch.inputs.items()}
            batch.extra = {k: (v.to(self.device) if hasattr(v, "to") else v) for k, v in batch.extra.items()}
            self._batches.append(batch)
            self.input_token_counts.extend(batch.input_tokens)
            self.truncated_queries += truncated
        self._workload = workload

    def run_pass(self) -> PassStats:
        """Run the whole prepared workload once, batch by batch.

        Returns:
            Per-batch latencies and the query and token counts.

        Raises:
            UsageError: :meth:`prepare` was not called.
            RuntimeFailure: the device ran out of memory.
        """
        return self._pass(prefill=False)

    def run_prefill_pass(self) -> PassStats:
        """Run the prefill only (one new token per query): text generation only.

        Raises:
            UsageError: not a text-generation runner, or nothing prepared.
        """
        raise UsageError(f"a prefill pass exists for text-generation only, not {self.task}")

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

    def _pass(self, *, prefill: bool, limit_s: float | None = None) -> PassStats:
        import torch

        self._require_prepared()
        stats = PassStats()
        outputs = []
        started = time.perf_counter()
        try:
            with torch.inference_mode():
                self._sync()
                for batch in self._batches:
                    t0 = time.perf_counter()
                    result = self._forward(batch, prefill=prefill)
                    self._sync()
                    stats.latencies_s.append(time.perf_counter() - t0)
                    outputs.append(result)
                    if limit_s is not None and time.perf_counter() - started >= limit_s:
                        break
                ran = self._batches[: len(outputs)]
                stats.output_tokens = sum(
                    self._output_tokens(b, r) for b, r in zip(ran, outputs, strict=True)
                )
        except torch.OutOfMemoryError as exc:
            raise RuntimeFailure(
                f"out of memory on {self.device} running {self.info.id}; try a smaller --batch-size "
                f"or dtype ({str(exc).splitlines()[0]})"
            ) from None
        stats.queries = sum(len(b.ids) for b in ran)
        stats.input_tokens = sum(sum(b.input_tokens) for b in ran)
        return stats

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

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        raise NotImplementedError

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        raise NotImplementedError

    def _output_tokens(self, batch: Batch, result: Any) -> int:
        return 0

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        raise NotImplementedError


class TextClassificationRunner(TaskRunner):
    """Sequence classification: one forward per batch; the label is the argmax of the logits."""

    task = "text-classification"

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        texts = [q["text"] for q in queries]
        truncated = self._truncated(self._lengths(texts))
        enc = self._tokenize(texts)
        counts = enc["attention_mask"].sum(dim=1).tolist()
        return Batch([str(q["id"]) for q in queries], self._model_inputs(enc), counts), sum(truncated)

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        return self.model(**batch.inputs).logits

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        logits = result.float()
        id2label = getattr(self.model.config, "id2label", None) or {}
        out = []
        if logits.shape[-1] == 1:  # a regression head: the score is the logit itself
            for qid, value in zip(batch.ids, logits[:, 0].tolist(), strict=True):
                out.append({"id": qid, "label": None, "score": float(value)})
            return out
        probs = logits.softmax(dim=-1)
        scores, labels = probs.max(dim=-1)
        for qid, label, score in zip(batch.ids, labels.tolist(), scores.tolist(), strict=True):
            out.append({"id": qid, "label": str(id2label.get(label, label)), "score": float(score)})
        return out


class SentenceSimilarityRunner(TaskRunner):
    """Embed both sentences of each pair in one forward, pool, and score by cosine similarity.

    Args (beyond :class:`TaskRunner`):
        pooling: sentence-transformers pooling modes (concatenated when several), default mean.
        normalize: L2-normalize the embeddings (sentence-transformers ``Normalize`` module).
    """

    task = "sentence-similarity"

    def __init__(
        self, *, pooling: tuple[str, ...] = ("mean",), normalize: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        for mode in pooling:
            if mode not in POOLING_MODES:
                raise UsageError(f"unsupported sentence-transformers pooling mode {mode!r}")
        self.pooling = tuple(pooling) or ("mean",)
        self.normalize = normalize

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        first = [q["sentence1"] for q in queries]
        second = [q["sentence2"] for q in queries]
        cut1 = self._truncated(self._lengths(first))
        cut2 = self._truncated(self._lengths(second))
        enc = self._tokenize(first + second)
        per_row = enc["attention_mask"].sum(dim=1).tolist()
        n = len(queries)
        counts = [per_row[i] + per_row[n + i] for i in range(n)]
        truncated = sum(a or b for a, b in zip(cut1, cut2, strict=True))
        return Batch([str(q["id"]) for q in queries], self._model_inputs(enc), counts), truncated

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        import torch

        output = self.model(**batch.inputs)
        hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
        emb = pool(hidden, batch.inputs["attention_mask"], self.pooling)
        if self.normalize:
            emb = torch.nn.functional.normalize(emb, p=2, dim=-1)
        n = len(batch.ids)
        return torch.nn.functional.cosine_similarity(emb[:n].float(), emb[n:].float(), dim=-1)

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        return [{"id": qid, "score": float(s)} for qid, s in zip(batch.ids, result.tolist(), strict=True)]


def pool(hidden: Any, mask: Any, modes: tuple[str, ...]) -> Any:
    """Sentence-transformers pooling of token embeddings.

    Args:
        hidden: ``(batch, tokens, dim)`` token embeddings.
        mask: ``(batch, tokens)`` attention mask.
        modes: pooling modes from :data:`POOLING_MODES`; several are concatenated in that order.

    Returns:
        ``(batch, dim * len(modes))`` sentence embeddings.
    """
    import torch

    m = mask.unsqueeze(-1).to(hidden.dtype)
    parts = []
    for mode in POOLING_MODES:
        if mode not in modes:
            continue
        if mode == "cls":
            parts.append(hidden[:, 0])
        elif mode == "max":
            filled = hidden.masked_fill(m == 0, torch.finfo(hidden.dtype).min)
            parts.append(filled.max(dim=1).values)
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            total = (hidden * m).sum(dim=1)
            count = m.sum(dim=1).clamp(min=1e-9)
            parts.append(total / (count if mode == "mean" else count.sqrt()))
        elif mode == "weightedmean":
            positions = torch.arange(1, hidden.shape[1] + 1, device=hidden.device, dtype=hidden.dtype)
            w = m * positions.view(1, -1, 1)
            parts.append((hidden * w).sum(dim=1) / w.sum(dim=1).clamp(min=1e-9))
        elif mode == "lasttoken":
            positions = torch.arange(hidden.shape[1], device=hidden.device)
            last = (mask.to(torch.long) * positions).argmax(dim=1)
            parts.append(hidden[torch.arange(hidden.shape[0], device=hidden.device), last])
    return torch.cat(parts, dim=-1)


class QuestionAnsweringRunner(TaskRunner):
    """Extractive QA: the answer is the best-scoring span (start + end logits) inside the context."""

    task = "question-answering"

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        import torch

        questions = [q["question"] for q in queries]
        contexts = [q["context"] for q in queries]
        truncated = self._truncated(self._lengths(questions, contexts))
        try:
            enc = self._tokenize(questions, contexts, truncation="only_second", return_offsets_mapping=True)
        except Exception:  # the question alone is longer than the limit: cut both
            enc = self._tokenize(questions, contexts, truncation="longest_first", return_offsets_mapping=True)
        offsets = enc.pop("offset_mapping")
        context_mask = torch.zeros_like(enc["input_ids"], dtype=torch.bool)
        for i in range(len(queries)):
            for j, seq in enumerate(enc.sequence_ids(i)):
                if seq == 1:
                    context_mask[i, j] = True
        counts = enc["attention_mask"].sum(dim=1).tolist()
        extra = {"context_mask": context_mask, "offsets": offsets.tolist(), "contexts": contexts}
        return Batch([str(q["id"]) for q in queries], self._model_inputs(enc), counts, extra), sum(truncated)

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        import torch

        out = self.model(**batch.inputs)
        mask = batch.extra["context_mask"]
        neg = torch.finfo(torch.float32).min
        start = out.start_logits.float().masked_fill(~mask, neg)
        end = out.end_logits.float().masked_fill(~mask, neg)
        length = start.shape[1]
        ones = torch.ones(length, length, dtype=torch.bool, device=start.device)
        band = torch.triu(ones) & ~torch.triu(ones, diagonal=MAX_ANSWER_TOKENS)
        scores = (start.unsqueeze(2) + end.unsqueeze(1)).masked_fill(~band, neg)
        best = scores.flatten(1).argmax(dim=1)
        return best // length, best % length

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        starts, ends = (t.tolist() for t in result)
        mask = batch.extra["context_mask"]
        out = []
        for i, qid in enumerate(batch.ids):
            s, e = starts[i], ends[i]
            if not bool(mask[i, s]) or not bool(mask[i, e]):
                out.append({"id": qid, "answer": "", "start": None, "end": None})
                continue
            char_start = batch.extra["offsets"][i][s][0]
            char_end = batch.extra["offsets"][i][e][1]
            context = batch.extra["contexts"][i]
            out.append(
                {"id": qid, "answer": context[char_start:char_end], "start": char_start, "end": char_end}
            )
        return out


class _GenerationRunner(TaskRunner):
    """Shared by summarization and text generation: greedy, exactly the requested new tokens."""

    def _configure(self, workload: Any) -> None:
        settings = getattr(workload, "generation", None)
        if settings is None:
            raise UsageError(f"a {self.task} workload needs generation settings (max_new_tokens, ...)")
        self.generation_config = make_generation_config(self.model, self.tokenizer, settings)
        self.prefill_config = make_generation_config(self.model, self.tokenizer, settings, new_tokens=1)
        self._eos = _token_ids(self.generation_config.eos_token_id)

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        config = self.prefill_config if prefill else self.generation_config
        return self.model.generate(**batch.inputs, generation_config=config)

    def _new_tokens(self, batch: Batch, result: Any) -> Any:
        raise NotImplementedError

    def _output_tokens(self, batch: Batch, result: Any) -> int:
        import torch

        new = self._new_tokens(batch, result)
        if new.shape[1] == 0:
            return 0
        if not self._eos:
            return int(new.numel())
        is_eos = torch.isin(new, torch.tensor(self._eos, device=new.device))
        first = torch.where(is_eos.any(dim=1), is_eos.to(torch.long).argmax(dim=1) + 1, new.shape[1])
        return int(first.sum())

    def _decode_new(self, batch: Batch, result: Any, key: str) -> list[dict[str, Any]]:
        texts = self.tokenizer.batch_decode(self._new_tokens(batch, result), skip_special_tokens=True)
        return [{"id": qid, key: text} for qid, text in zip(batch.ids, texts, strict=True)]


class SummarizationRunner(_GenerationRunner):
    """Encoder-decoder summarization: encode the document, generate the summary greedily."""

    task = "summarization"

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        prefix = _summarization_prefix(self.model.config)
        docs = [prefix + q["document"] for q in queries]
        truncated = self._truncated(self._lengths(docs))
        enc = self._tokenize(docs)
        counts = enc["attention_mask"].sum(dim=1).tolist()
        inputs = self._model_inputs(enc, {"input_ids", "attention_mask"})
        return Batch([str(q["id"]) for q in queries], inputs, counts), sum(truncated)

    def _new_tokens(self, batch: Batch, result: Any) -> Any:
        return result[:, 1:]  # the decoder start token is not generated

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        return self._decode_new(batch, result, "summary")


class TextGenerationRunner(_GenerationRunner):
    """Decoder-only generation: left-padded prompts, greedy, exactly ``max_new_tokens`` new tokens."""

    task = "text-generation"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokenizer.padding_side = "left"
        self.tokenizer.truncation_side = "left"  # keep the end of a long prompt: that is what is continued
        self._room = self.max_input_tokens

    def _configure(self, workload: Any) -> None:
        super()._configure(workload)
        if self._room is not None:
            limit = self._room - workload.generation.max_new_tokens
            if limit < 1:
                raise UsageError(
                    f"the model takes {self._room} positions, fewer than the "
                    f"{workload.generation.max_new_tokens} new tokens asked for"
                )
            self.max_input_tokens = limit

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        prompts = [q["prompt"] for q in queries]
        truncated = self._truncated(self._lengths(prompts))
        enc = self._tokenize(prompts)
        counts = enc["attention_mask"].sum(dim=1).tolist()
        inputs = self._model_inputs(enc, {"input_ids", "attention_mask"})
        return Batch([str(q["id"]) for q in queries], inputs, counts), sum(truncated)

    def _new_tokens(self, batch: Batch, result: Any) -> Any:
        return result[:, batch.inputs["input_ids"].shape[1] :]

    def run_prefill_pass(self) -> PassStats:
        """Run the prefill only: the same inputs, one new token per query.

        The AI Energy Score reports decode energy as the full pass minus this one.

        Returns:
            Per-batch latencies and counts (one output token per query).

        Raises:
            UsageError: nothing prepared.
            RuntimeFailure: out of memory.
        """
        return self._pass(prefill=True)

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        return self._decode_new(batch, result, "continuation")


RUNNERS: dict[str, type[TaskRunner]] = {
    r.task: r
    for r in (
        TextClassificationRunner,
        SentenceSimilarityRunner,
        QuestionAnsweringRunner,
        SummarizationRunner,
        TextGenerationRunner,
    )
}

# Generation knobs reset to transformers' defaults so a repository's generation_config.json
# (beam search, sampling, penalties, length limits) cannot change the workload.
_RESET_KEYS = (
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "typical_p",
    "epsilon_cutoff",
    "eta_cutoff",
    "repetition_penalty",
    "encoder_repetition_penalty",
    "no_repeat_ngram_size",
    "encoder_no_repeat_ngram_size",
    "length_penalty",
    "early_stopping",
    "min_length",
    "max_length",
    "num_return_sequences",
    "num_beam_groups",
    "diversity_penalty",
    "penalty_alpha",
    "exponential_decay_length_penalty",
    "forced_eos_token_id",
    "max_time",
    "stop_strings",
    "output_scores",
    "output_logits",
    "return_dict_in_generate",
    "renormalize_logits",
)


def make_generation_config(
    model: Any, tokenizer: Any, settings: Any, *, new_tokens: int | None = None
) -> Any:
    """Build the generation config of a workload: the model's own token ids, the workload's decoding.

    Args:
        model: the loaded model.
        tokenizer: its tokenizer (supplies a pad token when the model has none).
        settings: ``max_new_tokens``, ``min_new_tokens``, ``do_sample``, ``num_beams``.
        new_tokens: force ``max_new_tokens = min_new_tokens = new_tokens`` (the prefill pass).

    Returns:
        A ``transformers.GenerationConfig``.
    """
    from transformers import GenerationConfig

    base = getattr(model, "generation_config", None) or GenerationConfig.from_model_config(model.config)
    config = copy.deepcopy(base)
    defaults = GenerationConfig()
    for key in _RESET_KEYS:
        if hasattr(defaults, key):
            setattr(config, key, getattr(defaults, key))
    config.do_sample = bool(settings.do_sample)
    config.num_beams = int(settings.num_beams)
    config.max_new_tokens = int(new_tokens if new_tokens is not None else settings.max_new_tokens)
    config.min_new_tokens = int(new_tokens if new_tokens is not None else settings.min_new_tokens)
    config.use_cache = True
    if config.pad_token_id is None:
        pad = tokenizer.pad_token_id
        if pad is None:
            eos = _token_ids(config.eos_token_id) or _token_ids(tokenizer.eos_token_id)
            pad = eos[0] if eos else None
        config.pad_token_id = pad
    return config


def _token_ids(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


def _summarization_prefix(config: Any) -> str:
    params = getattr(config, "task_specific_params", None) or {}
    return str((params.get("summarization") or {}).get("prefix") or "")
