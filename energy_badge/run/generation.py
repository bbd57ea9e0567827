"""The generation tasks' runners (summarization, text generation) and their decoding settings.

Every query generates exactly the workload's number of new tokens, greedy. On transformers 5,
``generate()`` refills every knob of the configuration it is given that is unset (None) from the
model's own ``generation_config.json``: resetting a knob to "unset" is not enough (a repository
config with ``repetition_penalty`` and ``no_repeat_ngram_size`` changed every greedy output). So
:func:`make_generation_config` builds a complete, explicit configuration: the model's token ids,
the workload's decoding settings, and every other knob that changes the work or the output set
to its neutral value (:data:`NEUTRAL_GENERATION`); and the runner also makes that configuration the
model's own, so nothing is left to refill from. :class:`GenerationRecord` is what the result
records of it (``workload.generation_config``), and what the policy checks.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from energy_badge.errors import UsageError
from energy_badge.run import reasoning
from energy_badge.run.runner import Batch, PassStats, TaskRunner

__all__ = [
    "MANIFEST_KEYS",
    "NEUTRAL_GENERATION",
    "GenerationRecord",
    "GenerationValue",
    "SummarizationRunner",
    "TextGenerationRunner",
    "generation_record",
    "make_generation_config",
]

#: A knob's value as recorded: a number, a flag, None, or token ids.
GenerationValue = bool | int | float | None | tuple[int, ...]

#: The workload's own decoding settings (from its manifest).
MANIFEST_KEYS = ("max_new_tokens", "min_new_tokens", "do_sample", "num_beams")
#: The model's token ids, kept as the model has them.
_TOKEN_KEYS = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id")

#: Every other knob of ``transformers.GenerationConfig`` that changes the work or the output,
#: with its neutral value: no penalty, no blocking, no forced or suppressed token, no length
#: rule but the workload's new-token counts, one sequence, greedy (the sampling knobs at their
#: documented no-op values), the cache on. A knob this transformers lacks is skipped.
NEUTRAL_GENERATION: Mapping[str, GenerationValue] = {
    "min_length": 0,
    "max_length": None,
    "early_stopping": False,
    "max_time": None,
    "stop_strings": None,
    "num_beam_groups": 1,
    "diversity_penalty": 0.0,
    "penalty_alpha": None,
    "temperature": 1.0,
    "top_k": 50,
    "top_p": 1.0,
    "min_p": None,
    "top_h": None,
    "typical_p": 1.0,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "length_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "bad_words_ids": None,
    "force_words_ids": None,
    "constraints": None,
    "sequence_bias": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "exponential_decay_length_penalty": None,
    "renormalize_logits": False,
    "remove_invalid_values": False,
    "guidance_scale": None,
    "watermarking_config": None,
    "token_healing": False,
    "low_memory": None,
    "dola_layers": None,
    "num_return_sequences": 1,
    "output_scores": False,
    "output_logits": False,
    "return_dict_in_generate": False,
    "output_attentions": False,
    "output_hidden_states": False,
    "prompt_lookup_num_tokens": None,
    "max_matching_ngram_size": None,
    "use_cache": True,
}


@dataclass(frozen=True)
class GenerationRecord:
    """The complete decoding configuration passed to ``generate()``, as the result records it.

    Attributes:
        settings: ``(knob, value)`` pairs sorted by knob: the workload's settings
            (:data:`MANIFEST_KEYS`), the model's token ids, and every knob of
            :data:`NEUTRAL_GENERATION` this transformers has. Text generation's prefill pass uses
            the same configuration with one new token.
    """

    settings: tuple[tuple[str, GenerationValue], ...]

    def get(self, key: str, default: GenerationValue = None) -> GenerationValue:
        """The value of ``key`` (``default`` when not recorded)."""
        return dict(self.settings).get(key, default)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: knob -> value (token id tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.settings}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> GenerationRecord:
        """Build from the JSON form (lists of token ids become tuples; other values as they are)."""
        pairs: list[tuple[str, GenerationValue]] = []
        for key, value in data.items():
            if isinstance(value, list):
                pairs.append((key, tuple(int(v) for v in value)))
            elif value is None or isinstance(value, (bool, int, float)):
                pairs.append((key, value))
            else:
                raise UsageError(f"generation setting {key!r} has an unrecordable value {value!r}")
        return cls(tuple(sorted(pairs)))

    def departures(self, manifest: Mapping[str, object]) -> list[str]:
        """The knobs whose value is neither the manifest's (``manifest``) nor neutral, as ``knob=value``."""
        found = []
        for key, value in self.settings:
            expected = manifest[key] if key in manifest else NEUTRAL_GENERATION.get(key, value)
            if value != expected:
                found.append(f"{key}={value!r}")
        return found


class _GenerationRunner(TaskRunner):
    """Shared by summarization and text generation: greedy, exactly the requested new tokens."""

    def _configure(self, workload: Any) -> None:
        settings = getattr(workload, "generation", None)
        if settings is None:
            raise UsageError(f"a {self.task} workload needs generation settings (max_new_tokens, ...)")
        self.generation_config = make_generation_config(self.model, self.tokenizer, settings)
        self.prefill_config = make_generation_config(self.model, self.tokenizer, settings, new_tokens=1)
        # generate() refills unset knobs from the model's own config: make ours the model's.
        self.model.generation_config = copy.deepcopy(self.generation_config)
        self._eos = _token_ids(self.generation_config.eos_token_id)

    @property
    def generation_record(self) -> GenerationRecord:
        """What the workload pass gives ``generate()``, as :func:`generation_record` records it."""
        return _record(self.generation_config)

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
        self.template_control = reasoning.detect_control(getattr(self.tokenizer, "chat_template", None))
        self._reasoning: tuple[reasoning.ReasoningMode, str, str | None, int] | None = None
        self._per_query: dict[str, tuple[int, bool]] = {}

    def set_reasoning(
        self, mode: reasoning.ReasoningMode, cap: int = reasoning.DEFAULT_REASONING_CAP
    ) -> None:
        """Run through the chat template with reasoning ``mode`` (call before :meth:`prepare`).

        A model whose template has no reasoning control runs the raw prompts as before when
        ``mode`` is ``off``.

        Args:
            mode: ``off`` (the workload's forced tokens), ``on``, ``low``, ``medium``, ``high``
                (greedy until end-of-sequence, at most ``cap`` new tokens).
            cap: the most new tokens per query with reasoning in effect.

        Raises:
            UsageError: reasoning asked of a model whose template cannot switch it, an effort
                level of a template without levels, or a cap below 1.
        """
        if mode not in reasoning.REASONING_MODES:
            raise UsageError(f"--reasoning must be one of {', '.join(reasoning.REASONING_MODES)}")
        if cap < 1:
            raise UsageError("the reasoning cap must be at least 1 token")
        control = self.template_control
        if control is None:
            if mode != "off":
                raise UsageError(
                    f"--reasoning {mode}: {self.info.id} has no chat template that switches reasoning "
                    "(enable_thinking, /think and /no_think, or reasoning_effort)"
                )
            self._reasoning = None
            return
        effective, note = reasoning.effective_mode(mode, control)
        self._reasoning = (mode, effective, note, cap)

    @property
    def reasoning_record(self) -> reasoning.ReasoningRecord | None:
        """The reasoning record of the last pass (None for a model run on raw prompts)."""
        if self._reasoning is None or self.template_control is None:
            return None
        mode, effective, note, cap = self._reasoning
        capped = self._capped()
        counts = [c for c, _ in self._per_query.values()]
        hits = [h for _, h in self._per_query.values()]
        return reasoning.ReasoningRecord(
            requested=mode,
            effective=effective,
            control=self.template_control.control,
            template_sha256=self.template_control.template_sha256,
            max_new_tokens=cap if capped else None,
            output_tokens=reasoning.output_tokens(counts, hits) if capped and counts else None,
            note=note,
        )

    def _capped(self) -> bool:
        """Whether generation stops at end-of-sequence under the cap (reasoning in effect, not forced)."""
        return self._reasoning is not None and self._reasoning[1] not in ("off", "always")

    def _configure(self, workload: Any) -> None:
        if self._capped():
            assert self._reasoning is not None
            settings = workload.generation
            workload = _WithGeneration(
                workload.task,
                type(settings)(
                    max_new_tokens=self._reasoning[3], min_new_tokens=0, do_sample=False, num_beams=1
                ),
            )
        super()._configure(workload)
        self._per_query = {}
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
        extra: dict[str, Any] = {}
        if self._reasoning is not None and self.template_control is not None:
            # The chat template writes the special tokens itself: the tokenizer adds none.
            prompts = reasoning.render_prompts(
                self.tokenizer, prompts, self._reasoning[0], self.template_control
            )
            extra["add_special_tokens"] = False
        lengths = [
            len(ids) for ids in self.tokenizer(prompts, truncation=False, verbose=False, **extra)["input_ids"]
        ]
        truncated = self._truncated(lengths)
        enc = self._tokenize(prompts, **extra)
        counts = enc["attention_mask"].sum(dim=1).tolist()
        inputs = self._model_inputs(enc, {"input_ids", "attention_mask"})
        return Batch([str(q["id"]) for q in queries], inputs, counts, {"prompts": prompts}), sum(truncated)

    def _new_tokens(self, batch: Batch, result: Any) -> Any:
        return result[:, batch.inputs["input_ids"].shape[1] :]

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        self._prefill = prefill  # the prefill pass's single token is not a reasoning query's output
        return super()._forward(batch, prefill=prefill)

    def _output_tokens(self, batch: Batch, result: Any) -> int:
        import torch

        new = self._new_tokens(batch, result)
        total = super()._output_tokens(batch, result)
        if not self._capped() or getattr(self, "_prefill", False):
            return total
        width = new.shape[1]
        for qid, row in zip(batch.ids, new, strict=True):
            is_eos = torch.isin(row, torch.tensor(self._eos, device=row.device)) if self._eos else None
            if is_eos is not None and bool(is_eos.any()):
                self._per_query[qid] = (int(is_eos.to(torch.long).argmax()) + 1, False)
            else:
                self._per_query[qid] = (width, True)
        return total

    def run_prefill_pass(self, indices: Sequence[int] | None = None) -> PassStats:
        """Run the prefill only: the same inputs, one new token per query.

        The AI Energy Score reports decode energy as the full pass minus this one.

        Args:
            indices: only these queries (batch size 1; see :meth:`TaskRunner.run_pass`), or all.

        Returns:
            Per-batch latencies and counts (one output token per query).

        Raises:
            UsageError: nothing prepared.
            RuntimeFailure: out of memory.
        """
        return self._pass(prefill=True, indices=indices)

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        return self._decode_new(batch, result, "continuation")


def make_generation_config(
    model: Any, tokenizer: Any, settings: Any, *, new_tokens: int | None = None
) -> Any:
    """Build the generation config of a workload: complete and explicit (see the module docstring).

    Args:
        model: the loaded model (its token ids are kept).
        tokenizer: its tokenizer (supplies a pad token when the model has none).
        settings: ``max_new_tokens``, ``min_new_tokens``, ``do_sample``, ``num_beams``.
        new_tokens: force ``max_new_tokens = min_new_tokens = new_tokens`` (the prefill pass).

    Returns:
        A ``transformers.GenerationConfig`` with every knob of :data:`NEUTRAL_GENERATION` set.
    """
    from transformers import GenerationConfig

    base = getattr(model, "generation_config", None) or GenerationConfig.from_model_config(model.config)
    tokens = {key: copy.deepcopy(getattr(base, key, None)) for key in _TOKEN_KEYS}
    config = GenerationConfig(
        **tokens,
        max_new_tokens=int(new_tokens if new_tokens is not None else settings.max_new_tokens),
        min_new_tokens=int(new_tokens if new_tokens is not None else settings.min_new_tokens),
        do_sample=bool(settings.do_sample),
        num_beams=int(settings.num_beams),
    )
    for key, value in NEUTRAL_GENERATION.items():
        if hasattr(config, key):
            setattr(config, key, value)
    if config.pad_token_id is None:
        pad = tokenizer.pad_token_id
        if pad is None:
            eos = _token_ids(config.eos_token_id) or _token_ids(tokenizer.eos_token_id)
            pad = eos[0] if eos else None
        config.pad_token_id = pad
    return config


def _record(config: Any) -> GenerationRecord:
    pairs: list[tuple[str, GenerationValue]] = []
    for key in (*MANIFEST_KEYS, *_TOKEN_KEYS, *NEUTRAL_GENERATION):
        if hasattr(config, key):
            value = getattr(config, key)
            pairs.append((key, tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else value))
    return GenerationRecord(tuple(sorted(pairs)))


def generation_record(runner: TaskRunner) -> GenerationRecord | None:
    """The configuration a prepared generation runner gives ``generate()``; None for other tasks.

    Args:
        runner: a runner after ``prepare``.

    Returns:
        Its :class:`GenerationRecord`, or None when the runner does not generate.
    """
    if isinstance(runner, _GenerationRunner) and getattr(runner, "generation_config", None) is not None:
        return runner.generation_record
    return None


@dataclass(frozen=True)
class _WithGeneration:
    """A workload's task with other generation settings (reasoning on: the cap, no forced length)."""

    task: str
    generation: Any


def _token_ids(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


def _summarization_prefix(config: Any) -> str:
    params = getattr(config, "task_specific_params", None) or {}
    return str((params.get("summarization") or {}).get("prefix") or "")
