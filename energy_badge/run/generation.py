"""The generation tasks' runners (summarization, text generation) and their decoding settings.

Every query generates exactly the workload's number of new tokens, greedy: the generation config
is built from the workload's settings with every other knob reset (:func:`make_generation_config`),
so a repository's ``generation_config.json`` cannot change the work.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from energy_badge.errors import UsageError
from energy_badge.run.runner import Batch, PassStats, TaskRunner

if TYPE_CHECKING:
    pass

__all__ = ["SummarizationRunner", "TextGenerationRunner", "make_generation_config"]


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
