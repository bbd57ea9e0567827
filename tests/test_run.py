"""The run stage on real (tiny) models: loading safely, refusing early, running each task's workload."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from energy_badge.errors import (
    GatedModelError,
    InvalidFileError,
    ModelNotFoundError,
    NetworkError,
    UnsafeModelError,
    UsageError,
    WrongTaskError,
)
from energy_badge.run import (
    TASK_MODEL_KINDS,
    TASKS,
    PassStats,
    check_task_fit,
    content_sha256,
    load_runner,
)
from energy_badge.run.encoders import MAX_ANSWER_TOKENS, pool
from energy_badge.run.fit import needs_remote_code

try:
    import tiny_models as tm
    from hub_server import HubServer, folder_files, running_hub
except ImportError:  # pragma: no cover - when tests/ is imported as a package
    from tests import tiny_models as tm
    from tests.hub_server import HubServer, folder_files, running_hub

ROOT = Path(__file__).resolve().parents[1]
# The text tasks (tests/tiny_models.py); the image, speech and image-generation runners are
# tested in tests/test_media_runners.py.
TEXT_TASKS = tuple(tm.BUILDERS)
GENERATION_TASKS = ("summarization", "text-generation")


@dataclass(frozen=True)
class Gen:
    max_new_tokens: int = 4
    min_new_tokens: int = 4
    do_sample: bool = False
    num_beams: int = 1


@dataclass(frozen=True)
class Workload:
    """A stand-in with the attributes the runners read from ``energy_badge.workload.Workload``."""

    task: str
    queries: tuple[dict[str, Any], ...]
    generation: Gen | None = None
    default_dtype: str = "float32"
    batch_size: int = 1


LONG = " ".join(["the river kept rising through the night while the town slept"] * 12)
QUERIES: dict[str, list[dict[str, Any]]] = {
    "text-classification": [
        {"id": "tc-1", "text": "I loved every minute of this film."},
        {"id": "tc-2", "text": "The service was slow and the soup was cold."},
        {"id": "tc-3", "text": "Fine."},
        {"id": "tc-4", "text": LONG},
        {"id": "tc-5", "text": "A quiet, patient story about two brothers and a boat."},
    ],
    "sentence-similarity": [
        {"id": "ss-1", "sentence1": "A man is playing a guitar.", "sentence2": "A man is playing a guitar."},
        {
            "id": "ss-2",
            "sentence1": "The cat sleeps on the mat.",
            "sentence2": "Stock prices fell sharply today.",
        },
        {"id": "ss-3", "sentence1": "Rain is expected tomorrow.", "sentence2": LONG},
    ],
    "question-answering": [
        {
            "id": "qa-1",
            "question": "Who fixed the bridge?",
            "context": "After the storm, Maria Lopez fixed the old bridge with help from her neighbours.",
            "answer_start": 16,
            "answer_text": "Maria Lopez",
        },
        {
            "id": "qa-2",
            "question": "When does the market open?",
            "context": "The market opens at seven in the morning and closes at noon on Sundays.",
            "answer_start": 20,
            "answer_text": "at seven",
        },
        {
            "id": "qa-3",
            "question": "What colour was the door?",
            "context": LONG + " The door was green.",
            "answer_start": 0,
            "answer_text": "green",
        },
    ],
    "summarization": [
        {
            "id": "su-1",
            "document": "The town council met on Monday and agreed to build a new library near "
            "the station. Work starts in spring and should take two years.",
        },
        {"id": "su-2", "document": LONG},
        {"id": "su-3", "document": "Short note."},
    ],
    "text-generation": [
        {"id": "tg-1", "prompt": "Once upon a time, in a small village by the sea,"},
        {"id": "tg-2", "prompt": "The recipe needs"},
        {"id": "tg-3", "prompt": LONG},
    ],
}


def workload(task: str, *, n: int | None = None, gen: Gen | None = None) -> Workload:
    queries = tuple(QUERIES[task][:n])
    generation = (gen or Gen()) if task in GENERATION_TASKS else None
    return Workload(task, queries, generation, "float16" if task == "text-generation" else "float32")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny model per task, built once; tests must not modify these folders."""
    base = tmp_path_factory.mktemp("tiny")
    return {task: tm.build_tiny_model(task, base / task) for task in TEXT_TASKS}


def run_all(
    path: Path | str,
    task: str,
    *,
    batch_size: int = 1,
    dtype: str = "float32",
    wl: Workload | None = None,
    **kwargs: Any,
) -> tuple[Any, PassStats, list[dict[str, Any]]]:
    """Load, prepare (default: all of QUERIES[task]), run one pass, and decode every output."""
    runner = load_runner(str(path), task, batch_size=batch_size, dtype=dtype, **kwargs)
    runner.prepare(wl or workload(task))
    stats = runner.run_pass()
    return runner, stats, runner.sample_outputs(100)


def default_device() -> str:
    import torch

    return f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() else "cpu"


def check_stats(stats: PassStats, runner: Any, n_queries: int, batch_size: int) -> None:
    assert stats.queries == n_queries
    assert len(stats.latencies_s) == math.ceil(n_queries / batch_size)
    assert all(t > 0 for t in stats.latencies_s)
    assert stats.input_tokens == sum(runner.input_token_counts) > 0
    assert len(runner.input_token_counts) == n_queries


# ------------------------------------------------------------------------------------------------
# Each task on its real tiny model


@pytest.mark.parametrize("batch_size", [1, 2])
def test_text_classification(tiny: dict[str, Path], batch_size: int) -> None:
    runner, stats, outputs = run_all(
        tiny["text-classification"], "text-classification", batch_size=batch_size
    )
    check_stats(stats, runner, 5, batch_size)
    assert stats.output_tokens == 0
    assert [o["id"] for o in outputs] == [q["id"] for q in QUERIES["text-classification"]]
    assert {o["label"] for o in outputs} <= {"NEGATIVE", "POSITIVE"}
    assert all(0.5 <= o["score"] <= 1.0 for o in outputs)
    assert runner.info.architecture == "BertForSequenceClassification"
    assert runner.info.dtype == "float32" and runner.device == default_device()


def test_batching_does_not_change_the_answers(tiny: dict[str, Path]) -> None:
    """Padding is masked: the same queries give the same outputs one by one and in batches of 2."""
    for task in ("text-classification", "question-answering", "sentence-similarity"):
        one = run_all(tiny[task], task, batch_size=1)[2]
        two = run_all(tiny[task], task, batch_size=2)[2]
        for a, b in zip(one, two, strict=True):
            assert a.keys() == b.keys()
            for key in a:
                if isinstance(a[key], float):
                    assert a[key] == pytest.approx(b[key], abs=1e-5)
                else:
                    assert a[key] == b[key], (task, key)


def test_sentence_similarity_tiny(tiny: dict[str, Path]) -> None:
    runner, stats, outputs = run_all(tiny["sentence-similarity"], "sentence-similarity", batch_size=2)
    check_stats(stats, runner, 3, 2)
    assert runner.pooling == ("mean",) and runner.normalize
    assert outputs[0]["score"] == pytest.approx(1.0, abs=1e-5)  # identical sentences
    assert all(-1.0 - 1e-6 <= o["score"] <= 1.0 + 1e-6 for o in outputs)
    assert outputs[1]["score"] < 0.9999


@pytest.mark.slow
def test_sentence_similarity_real_minilm(minilm_path: Path) -> None:
    """The real all-MiniLM-L6-v2: a paraphrase scores well above an unrelated pair."""
    queries = (
        {
            "id": "para",
            "sentence1": "A man is playing a guitar on stage.",
            "sentence2": "Someone performs music with a guitar in front of an audience.",
        },
        {
            "id": "unrelated",
            "sentence1": "A man is playing a guitar on stage.",
            "sentence2": "The quarterly tax report is due next Friday.",
        },
        {
            "id": "para2",
            "sentence1": "How do I reset my password?",
            "sentence2": "What are the steps to change a forgotten password?",
        },
        {
            "id": "unrelated2",
            "sentence1": "How do I reset my password?",
            "sentence2": "Penguins live mostly in the southern hemisphere.",
        },
    )
    runner = load_runner(str(minilm_path), "sentence-similarity")
    assert runner.info.architecture == "BertModel" and runner.info.note is None
    assert runner.pooling == ("mean",) and runner.normalize and runner.max_input_tokens == 256
    runner.prepare(Workload("sentence-similarity", queries))
    stats = runner.run_pass()
    assert stats.queries == 4
    scores = {o["id"]: o["score"] for o in runner.sample_outputs(4)}
    assert scores["para"] > scores["unrelated"] + 0.3
    assert scores["para2"] > scores["unrelated2"] + 0.3
    assert scores["para"] > 0.5 and scores["unrelated"] < 0.2

    # Cross-check with sentence-transformers itself when it is installed.
    st = pytest.importorskip("sentence_transformers")
    model = st.SentenceTransformer(str(minilm_path), device="cpu")
    for q in queries:
        a, b = model.encode([q["sentence1"], q["sentence2"]], convert_to_tensor=True)
        expected = float((a @ b) / (a.norm() * b.norm()))
        assert scores[q["id"]] == pytest.approx(expected, abs=1e-4)


def test_question_answering_spans_lie_in_the_context(tiny: dict[str, Path]) -> None:
    runner, stats, outputs = run_all(tiny["question-answering"], "question-answering", batch_size=2)
    check_stats(stats, runner, 3, 2)
    tokenizer = runner.tokenizer
    for query, out in zip(QUERIES["question-answering"], outputs, strict=True):
        context = query["context"]
        assert out["start"] is not None, out
        assert 0 <= out["start"] < out["end"] <= len(context)
        assert out["answer"] == context[out["start"] : out["end"]] != ""
        assert len(tokenizer(out["answer"], add_special_tokens=False)["input_ids"]) <= MAX_ANSWER_TOKENS
        assert query["question"] not in out["answer"]


@pytest.mark.parametrize("arch", ["bart", "t5"])
def test_summarization_generates_exactly_the_requested_tokens(tmp_path: Path, arch: str) -> None:
    path = tm.build_summarization(tmp_path / arch, arch=arch)
    wl = workload("summarization", gen=Gen(6, 6))
    runner, stats, outputs = run_all(path, "summarization", batch_size=2, wl=wl)
    check_stats(stats, runner, 3, 2)
    assert stats.output_tokens == 3 * 6
    assert all(isinstance(o["summary"], str) and o["summary"] for o in outputs)
    with pytest.raises(UsageError, match="prefill"):
        runner.run_prefill_pass()


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_text_generation_and_prefill(tmp_path: Path, arch: str) -> None:
    path = tm.build_text_generation(tmp_path / arch, arch=arch)
    runner, stats, outputs = run_all(
        path, "text-generation", batch_size=1, wl=workload("text-generation", gen=Gen(5, 5))
    )
    check_stats(stats, runner, 3, 1)
    assert stats.output_tokens == 3 * 5
    assert all(o["continuation"] for o in outputs)
    prefill = runner.run_prefill_pass()
    assert prefill.queries == 3 and prefill.output_tokens == 3
    assert prefill.input_tokens == stats.input_tokens and len(prefill.latencies_s) == 3


def test_warmup_stops_at_its_time_limit_or_the_end_of_the_workload(tiny: dict[str, Path]) -> None:
    """A zero-second warm-up runs exactly one query; an ample one runs the whole workload once;
    the prefill warm-up generates one token per query; only text generation has one."""
    runner = load_runner(str(tiny["text-generation"]), "text-generation", dtype="float32")
    runner.prepare(workload("text-generation", gen=Gen(4, 4)))
    one = runner.run_warmup(0.0)
    assert (one.queries, one.output_tokens, len(one.latencies_s)) == (1, 4, 1)
    everything = runner.run_warmup(3600.0)
    assert (everything.queries, everything.output_tokens) == (3, 12)
    prefill = runner.run_warmup(3600.0, prefill=True)
    assert (prefill.queries, prefill.output_tokens) == (3, 3)
    classifier = load_runner(str(tiny["text-classification"]), "text-classification")
    classifier.prepare(workload("text-classification"))
    assert classifier.run_warmup(0.0).queries == 1
    with pytest.raises(UsageError):
        classifier.run_warmup(1.0, prefill=True)


def test_text_generation_left_padding_matches_unbatched(tiny: dict[str, Path]) -> None:
    one = run_all(tiny["text-generation"], "text-generation", batch_size=1)[2]
    three = run_all(tiny["text-generation"], "text-generation", batch_size=3)[2]
    assert one == three


def test_min_new_tokens_holds_even_when_the_model_wants_to_stop(tiny: dict[str, Path]) -> None:
    """A model pushed to emit eos at once still produces exactly max_new_tokens when min = max."""
    runner = load_runner(str(tiny["text-generation"]), "text-generation", dtype="float32", batch_size=2)

    def eos_first(module: Any, args: Any, output: Any) -> Any:
        output[..., tm.SEP_ID] += 1000.0
        return output

    runner.model.lm_head.register_forward_hook(eos_first)
    runner.prepare(workload("text-generation", gen=Gen(4, 4)))
    assert runner.run_pass().output_tokens == 3 * 4
    runner.prepare(workload("text-generation", gen=Gen(4, 0)))
    assert runner.run_pass().output_tokens == 3 * 1  # eos straight away: the count is real


def test_default_dtype_and_no_silent_change(tiny: dict[str, Path]) -> None:
    runner = load_runner(str(tiny["text-generation"]), "text-generation")
    assert runner.info.dtype == "float16" and next(runner.model.parameters()).dtype.is_floating_point
    runner.prepare(workload("text-generation", n=1))
    assert runner.run_pass().output_tokens == 4
    assert load_runner(str(tiny["text-classification"]), "text-classification").info.dtype == "float32"
    assert load_runner(
        str(tiny["text-classification"]), "text-classification", dtype="bfloat16"
    ).info.dtype == ("bfloat16")


def _echo_model(tiny: dict[str, Path], dest: Path) -> Path:
    """The tiny Llama with its attention and MLP outputs zeroed and its head tied to the embeddings:
    its greedy continuation repeats one token, so a repetition penalty or n-gram blocking would
    change every output."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny["text-generation"])
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.lm_head.weight.copy_(model.model.embed_tokens.weight)
    model.save_pretrained(dest)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tiny["text-generation"] / name, dest / name)
    return dest


def _forced_greedy(runner: Any, new_tokens: int) -> list[str]:
    """The reference: per prepared query, ``new_tokens`` steps of argmax over the model's logits
    with the end-of-sequence token masked (min = max new tokens), decoded as the runner decodes."""
    import torch

    eos = runner.generation_config.eos_token_id
    eos = [eos] if isinstance(eos, int) else list(eos or [])
    texts = []
    with torch.no_grad():
        for batch in runner._batches:
            ids = batch.inputs["input_ids"]
            start = ids.shape[1]
            for _ in range(new_tokens):
                logits = runner.model(input_ids=ids).logits[:, -1, :]
                logits[:, eos] = -math.inf
                ids = torch.cat([ids, logits.argmax(dim=-1, keepdim=True)], dim=1)
            texts.append(runner.tokenizer.decode(ids[0, start:], skip_special_tokens=True))
    return texts


def test_repository_generation_config_does_not_change_the_workload(
    tmp_path: Path, tiny: dict[str, Path]
) -> None:
    """Real: a tiny Llama whose greedy output repeats a token, saved with a generation_config.json
    that sets beams, sampling, repetition and length penalties, n-gram blocking, banned and
    suppressed tokens, and min/max lengths. transformers 5's generate() refills every knob left
    unset from that file, so only a complete, explicit configuration keeps the workload: the
    outputs must be exactly the forced greedy tokens (argmax, end of sequence masked), computed
    here by hand, and the recorded configuration must be the manifest's values or neutral."""
    from energy_badge.run.generation import NEUTRAL_GENERATION, generation_record

    path = _echo_model(tiny, tmp_path / "echo")
    plain = run_all(path, "text-generation", wl=workload("text-generation", n=2))[2]
    assert all(len(set(o["continuation"].split())) == 1 for o in plain)  # it repeats itself
    config = json.loads((path / "generation_config.json").read_text())
    config.update(
        num_beams=4,
        num_return_sequences=2,
        do_sample=True,
        temperature=0.7,
        top_k=5,
        top_p=0.5,
        repetition_penalty=3.0,
        no_repeat_ngram_size=1,
        length_penalty=2.0,
        early_stopping=True,
        max_length=7,
        min_length=30,
        max_new_tokens=2,
        min_new_tokens=0,
        bad_words_ids=[[1000]],
        suppress_tokens=[2000, 2001],
        forced_bos_token_id=3000,
    )
    (path / "generation_config.json").write_text(json.dumps(config))
    runner, stats, outputs = run_all(path, "text-generation", wl=workload("text-generation", n=2))
    assert stats.output_tokens == 2 * 4
    assert (
        [o["continuation"] for o in outputs]
        == _forced_greedy(runner, 4)
        == [o["continuation"] for o in plain]
    )
    record = generation_record(runner)
    assert record is not None
    manifest = {"max_new_tokens": 4, "min_new_tokens": 4, "do_sample": False, "num_beams": 1}
    assert record.departures(manifest) == []
    assert record.get("repetition_penalty") == 1.0 and record.get("no_repeat_ngram_size") == 0
    assert record.get("num_beams") == 1 and record.get("suppress_tokens") is None
    assert {k for k, _ in record.settings} >= set(manifest) | {"repetition_penalty", "min_length"}
    assert set(NEUTRAL_GENERATION) >= {"repetition_penalty", "no_repeat_ngram_size", "bad_words_ids"}
    assert generation_record(load_runner(str(tiny["text-classification"]), "text-classification")) is None


def test_generation_record_round_trips_and_names_departures() -> None:
    """Nothing simulated: the record's JSON form and its check against a manifest."""
    from energy_badge.run.generation import GenerationRecord

    record = GenerationRecord.from_dict(
        {"max_new_tokens": 10, "eos_token_id": [2, 3], "repetition_penalty": 1.3, "num_beams": 1}
    )
    assert record.get("eos_token_id") == (2, 3)
    assert GenerationRecord.from_dict(record.to_dict()) == record
    assert record.departures({"max_new_tokens": 10, "num_beams": 1}) == ["repetition_penalty=1.3"]
    assert record.departures({"max_new_tokens": 9, "num_beams": 1})[0] == "max_new_tokens=10"
    with pytest.raises(UsageError):
        GenerationRecord.from_dict({"stop_strings": "the end"})


# ------------------------------------------------------------------------------------------------
# Token counts and truncation


def test_token_counts_match_the_tokenizer(tiny: dict[str, Path]) -> None:
    runner = load_runner(str(tiny["text-classification"]), "text-classification")
    runner.prepare(workload("text-classification"))
    tok = runner.tokenizer
    expected = [min(len(tok(q["text"])["input_ids"]), 64) for q in QUERIES["text-classification"]]
    assert runner.input_token_counts == expected
    assert runner.truncated_queries == 1 and runner.input_token_counts[3] == 64


def test_truncation_per_task(tiny: dict[str, Path], tmp_path: Path) -> None:
    # QA: the long context is cut to the model's 64 positions.
    qa = load_runner(str(tiny["question-answering"]), "question-answering")
    qa.prepare(workload("question-answering"))
    assert qa.max_input_tokens == 64 and qa.truncated_queries == 1 and qa.input_token_counts[2] == 64
    # Generation: room is left for the new tokens, and the start of a long prompt is dropped.
    tg = load_runner(str(tiny["text-generation"]), "text-generation", dtype="float32")
    tg.prepare(workload("text-generation", gen=Gen(10, 10)))
    assert tg.max_input_tokens == 64 - 10 and tg.truncated_queries == 1 and tg.input_token_counts[2] == 54
    assert tg.run_pass().output_tokens == 30
    fed = tg._batches[2].inputs["input_ids"][0].tolist()
    full = tg.tokenizer(LONG)["input_ids"]  # [CLS] words [SEP]
    assert fed == [tm.CLS_ID] + full[1:-1][-52:] + [tm.SEP_ID]  # kept the end of the prompt
    # Sentence similarity: sentence-transformers' max_seq_length (here 16) binds before the positions.
    path = tm.build_sentence_similarity(tmp_path / "ss16", max_seq_length=16)
    ss = load_runner(str(path), "sentence-similarity")
    ss.prepare(workload("sentence-similarity"))
    assert ss.max_input_tokens == 16 and ss.truncated_queries == 1
    # Summarization with BART: 64 positions for the encoder.
    su = load_runner(str(tiny["summarization"]), "summarization")
    su.prepare(workload("summarization"))
    assert su.truncated_queries == 1 and max(su.input_token_counts) == 64


# ------------------------------------------------------------------------------------------------
# Refusing early: wrong task, remote code, pickle


@pytest.mark.parametrize(
    ("built", "task", "needs"),
    [
        ("text-generation", "text-classification", "ForSequenceClassification"),
        ("summarization", "text-generation", "causal"),
        ("text-generation", "summarization", "encoder-decoder"),
        ("text-classification", "question-answering", "ForQuestionAnswering"),
        ("sentence-similarity", "text-classification", "ForSequenceClassification"),
        ("question-answering", "sentence-similarity", "encoder"),
        ("summarization", "sentence-similarity", "encoder"),
    ],
)
def test_wrong_task_refused_before_the_weights_are_read(
    tmp_path: Path, built: str, task: str, needs: str
) -> None:
    path = tm.build_tiny_model(built, tmp_path / built)
    (path / "model.safetensors").write_bytes(b"this is not a safetensors file")
    with pytest.raises(WrongTaskError, match=needs) as caught:
        load_runner(str(path), task)
    message = str(caught.value)
    assert "\n" not in message and task in message
    # The same corrupt file with the right task is caught, not silently ignored.
    with pytest.raises(InvalidFileError):
        load_runner(str(path), built)


def test_check_task_fit_from_configs() -> None:
    check_task_fit({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}, "text-generation")
    check_task_fit({"model_type": "t5", "architectures": ["T5ForConditionalGeneration"]}, "summarization")
    check_task_fit({"model_type": "t5", "architectures": ["T5EncoderModel"]}, "sentence-similarity")
    check_task_fit({"model_type": "mpnet", "architectures": ["MPNetModel"]}, "sentence-similarity")
    check_task_fit({"model_type": "distilbert"}, "text-classification")  # no architectures: by model type
    with pytest.raises(WrongTaskError):
        check_task_fit({"model_type": "t5", "architectures": ["T5Model"]}, "sentence-similarity")
    with pytest.raises(WrongTaskError):
        check_task_fit(
            {"model_type": "bart", "architectures": ["BartForConditionalGeneration"]}, "text-generation"
        )
    with pytest.raises(WrongTaskError, match="does not implement"):
        check_task_fit({"model_type": "no-such-type", "architectures": ["X"]}, "text-generation")
    with pytest.raises(UsageError, match="unknown task"):
        check_task_fit({"model_type": "gpt2"}, "image-generation")
    assert set(TASK_MODEL_KINDS) == set(TASKS) and len(TASKS) == 10
    # auto_map on a model transformers implements natively needs no remote code; an unknown type does.
    native = {
        "model_type": "bert",
        "architectures": ["BertForSequenceClassification"],
        "auto_map": {"AutoModelForSequenceClassification": "m.X"},
    }
    assert not needs_remote_code(native, "text-classification")
    remote = {
        "model_type": "custom",
        "architectures": ["CustomForCausalLM"],
        "auto_map": {"AutoModelForCausalLM": "modeling_custom.CustomForCausalLM"},
    }
    assert needs_remote_code(remote, "text-generation")
    check_task_fit(remote, "text-generation")
    with pytest.raises(WrongTaskError, match="auto_map"):
        check_task_fit(remote, "text-classification")


@pytest.fixture
def modules_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep transformers' copy of remote code under tmp_path, and sys.path as it was."""
    import transformers.dynamic_module_utils as dmu

    cache = tmp_path / "hf-modules"
    monkeypatch.setattr(dmu, "HF_MODULES_CACHE", str(cache))
    monkeypatch.setattr(sys, "path", list(sys.path))
    return cache


def test_remote_code_refused_then_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modules_cache: Path
) -> None:
    marker = tmp_path / "marker.txt"
    monkeypatch.setenv(tm.REMOTE_CODE_MARKER_ENV, str(marker))
    path = tm.build_remote_code(tmp_path / "remote")
    with pytest.raises(UnsafeModelError, match="--trust-remote-code"):
        load_runner(str(path), "text-classification")
    assert not marker.exists(), "the repository's code ran although it was not trusted"
    with pytest.raises(WrongTaskError):  # the fit check comes first, still without running code
        load_runner(str(path), "text-generation")
    assert not marker.exists()

    runner, stats, outputs = run_all(path, "text-classification", trust_remote_code=True)
    assert marker.exists()
    assert runner.info.trust_remote_code and runner.info.architecture == "TinyRemoteForSequenceClassification"
    assert stats.queries == 5 and {o["label"] for o in outputs} <= {"NEGATIVE", "POSITIVE"}


def test_pickle_only_refused_then_allowed(tmp_path: Path, tiny: dict[str, Path]) -> None:
    path = tm.build_pickle_only(tmp_path / "pickled", "text-classification")
    assert not (path / "model.safetensors").exists() and (path / "pytorch_model.bin").exists()
    with pytest.raises(UnsafeModelError, match="--allow-pickle"):
        load_runner(str(path), "text-classification")
    runner, _, outputs = run_all(path, "text-classification", allow_pickle=True)
    assert runner.info.allow_pickle and not runner.info.trust_remote_code
    # The same seed as the safetensors model: the same weights, so the same answers.
    assert outputs == run_all(tiny["text-classification"], "text-classification")[2]
    # allow_pickle does not make a safetensors model read pickle files next to it.
    both = tmp_path / "both"
    shutil.copytree(tiny["text-classification"], both)
    (both / "pytorch_model.bin").write_bytes(b"not a pickle, never read")
    assert load_runner(str(both), "text-classification", allow_pickle=True).info.parameters > 0


def test_no_weights_at_all(tmp_path: Path, tiny: dict[str, Path]) -> None:
    path = tmp_path / "empty"
    shutil.copytree(tiny["text-classification"], path)
    (path / "model.safetensors").unlink()
    (path / "model.ckpt").write_bytes(b"x")
    with pytest.raises(UnsafeModelError, match="--allow-pickle"):
        load_runner(str(path), "text-classification")
    with pytest.raises(ModelNotFoundError, match="no weights"):
        load_runner(str(path), "text-classification", allow_pickle=True)
    # Random weights need no weight file: the architecture is built from its config, seeded.
    runner, stats, _ = run_all(path, "text-classification", random_weights=True)
    assert runner.info.random_weights is True and stats.queries == 5
    again = load_runner(str(path), "text-classification", random_weights=True)
    first = next(runner.model.parameters())
    assert (first == next(again.model.parameters())).all()


# ------------------------------------------------------------------------------------------------
# Identity: content hash, model info, missing models, usage errors


def test_local_content_hash(tmp_path: Path, tiny: dict[str, Path]) -> None:
    path = tmp_path / "copy"
    shutil.copytree(tiny["text-classification"], path)
    first = load_runner(str(path), "text-classification").info
    assert first.source == "local" and first.revision is None and len(first.content_sha256) == 64
    # Stable across loads, across folder names, and blind to files a run does not read.
    assert load_runner(str(tiny["text-classification"]), "text-classification").info.content_sha256 == (
        first.content_sha256
    )
    (path / "README.md").write_text("# a card\n")
    (path / "notes.bin").write_bytes(b"unused")
    assert load_runner(str(path), "text-classification").info.content_sha256 == first.content_sha256
    # One byte of the weights changed: a different hash (the file still loads).
    weights = path / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    changed = load_runner(str(path), "text-classification").info.content_sha256
    assert changed != first.content_sha256
    # The documented definition: sorted relative paths + bytes of the files used.
    used = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]
    assert content_sha256(path, used) == changed


def test_model_info_fits_the_result_schema(tiny: dict[str, Path]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "schemas" / "energy-result.schema.json").read_text())
    model_schema = schema["properties"]["model"]
    for task in TEXT_TASKS:
        info = dataclasses.asdict(load_runner(str(tiny[task]), task).info)
        if info["note"] is None:  # written only when there is one
            del info["note"]
        jsonschema.Draft202012Validator(model_schema).validate(info)
        assert info["parameters"] > 100_000 and info["random_weights"] is False


def test_missing_models(tmp_path: Path, tiny: dict[str, Path]) -> None:
    for missing in (str(tmp_path / "nope"), "./no/such/folder", "/definitely/not/here", "a/b/c"):
        with pytest.raises(ModelNotFoundError):
            load_runner(missing, "text-classification")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ModelNotFoundError, match="is a file"):
        load_runner(str(a_file), "text-classification")
    (tmp_path / "no-config").mkdir()
    with pytest.raises(ModelNotFoundError, match="config.json"):
        load_runner(str(tmp_path / "no-config"), "text-classification")


def test_usage_errors(tiny: dict[str, Path]) -> None:
    path = str(tiny["text-classification"])
    with pytest.raises(UsageError, match="dtype"):
        load_runner(path, "text-classification", dtype="int8")
    with pytest.raises(UsageError, match="batch"):
        load_runner(path, "text-classification", batch_size=0)
    with pytest.raises(UsageError, match="CUDA"):
        load_runner(path, "text-classification", device="cuda:99")
    with pytest.raises(UsageError, match="device"):
        load_runner(path, "text-classification", device="warp-drive")
    with pytest.raises(UsageError, match="revision"):
        load_runner(path, "text-classification", revision="main")
    runner = load_runner(path, "text-classification")
    with pytest.raises(UsageError, match="prepare"):
        runner.run_pass()
    with pytest.raises(UsageError, match="text-classification"):
        runner.prepare(workload("summarization"))
    gen = load_runner(str(tiny["summarization"]), "summarization")
    with pytest.raises(UsageError, match="generation settings"):
        gen.prepare(Workload("summarization", tuple(QUERIES["summarization"])))


def test_pooling_modes() -> None:
    import torch

    hidden = torch.tensor([[[1.0, 0.0], [3.0, 2.0], [9.0, 9.0]], [[2.0, 2.0], [4.0, 0.0], [6.0, 4.0]]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    assert pool(hidden, mask, ("mean",)).tolist() == [[2.0, 1.0], [4.0, 2.0]]
    assert pool(hidden, mask, ("cls",)).tolist() == [[1.0, 0.0], [2.0, 2.0]]
    assert pool(hidden, mask, ("max",)).tolist() == [[3.0, 2.0], [6.0, 4.0]]
    assert pool(hidden, mask, ("lasttoken",)).tolist() == [[3.0, 2.0], [6.0, 4.0]]
    assert pool(hidden, mask, ("cls", "mean")).shape == (2, 4)


def test_pooling_config_is_honoured(tmp_path: Path) -> None:
    mean = tm.build_sentence_similarity(tmp_path / "mean", pooling="mean")
    cls = tm.build_sentence_similarity(tmp_path / "cls", pooling="cls")
    r_mean, _, out_mean = run_all(mean, "sentence-similarity")
    r_cls, _, out_cls = run_all(cls, "sentence-similarity")
    assert r_mean.pooling == ("mean",) and r_cls.pooling == ("cls",)
    assert out_mean[1]["score"] != pytest.approx(out_cls[1]["score"], abs=1e-4)
    plain = tm.build_sentence_similarity(tmp_path / "plain", sentence_transformers=False)
    r_plain = load_runner(str(plain), "sentence-similarity")
    assert r_plain.pooling == ("mean",) and not r_plain.normalize and r_plain.max_input_tokens == 64


def test_with_the_real_workload_module(tiny: dict[str, Path]) -> None:
    """When energy_badge.workload is present, its canonical queries run on every tiny model."""
    wl_mod = pytest.importorskip("energy_badge.workload")
    for task in TEXT_TASKS:
        wl = wl_mod.load_workload(task).subset(2)
        runner = load_runner(str(tiny[task]), task, dtype="float32")
        runner.prepare(wl)
        stats = runner.run_pass()
        assert stats.queries == 2 and len(runner.sample_outputs(2)) == 2
        if wl.generation is not None:
            assert stats.output_tokens == 2 * wl.generation.max_new_tokens


def test_every_task_on_cuda(tiny: dict[str, Path]) -> None:
    """On a GPU machine: each task runs on cuda with its default dtype, synchronized per batch."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here")
    for task in TEXT_TASKS:
        runner = load_runner(str(tiny[task]), task, batch_size=2)
        assert runner.device.startswith("cuda:") and next(runner.model.parameters()).is_cuda
        runner.prepare(workload(task))
        stats = runner.run_pass()
        check_stats(stats, runner, len(QUERIES[task]), 2)
        assert len(runner.sample_outputs(2)) == 2
        if task == "text-generation":
            assert runner.info.dtype == "float16" and stats.output_tokens == 3 * 4
            assert runner.run_prefill_pass().output_tokens == 3


# ------------------------------------------------------------------------------------------------
# From a (loopback) Hub


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice", "hf_aliceToken0123456789abcdef")
        yield server


def test_hub_model_pinned_and_only_needed_files_downloaded(
    hub: HubServer, tiny: dict[str, Path], tmp_path: Path
) -> None:
    files = folder_files(tiny["text-classification"])
    files.update(
        {"README.md": b"# tiny\n", "pytorch_model.bin": b"never downloaded", "onnx/model.onnx": b"x"}
    )
    hub.create_repo("alice/tiny-tc", files)
    first = hub.head("alice/tiny-tc")
    hub.push("alice/tiny-tc", {"README.md": b"# tiny, edited\n"})
    cache = tmp_path / "cache"
    runner = load_runner("alice/tiny-tc", "text-classification", endpoint=hub.url, cache_dir=cache)
    assert runner.info.source == "hub" and runner.info.revision == hub.head("alice/tiny-tc") != first
    assert runner.info.content_sha256 is None
    runner.prepare(workload("text-classification"))
    assert runner.run_pass().queries == 5
    for unwanted in ("README.md", "pytorch_model.bin", "model.onnx"):
        assert hub.count("GET", rf"/resolve/.*{unwanted}$") == 0, unwanted
    assert hub.count("GET", r"/resolve/.*model\.safetensors$") == 1
    pinned = load_runner(
        "alice/tiny-tc", "text-classification", revision=first, endpoint=hub.url, cache_dir=cache
    )
    assert pinned.info.revision == first


def test_hub_refusals_download_no_weights(hub: HubServer, tiny: dict[str, Path], tmp_path: Path) -> None:
    hub.create_repo("alice/tiny-gen", folder_files(tiny["text-generation"]))
    with pytest.raises(WrongTaskError):
        load_runner("alice/tiny-gen", "text-classification", endpoint=hub.url, cache_dir=tmp_path)
    pickled = tm.build_pickle_only(tmp_path / "pickled")
    hub.create_repo("alice/pickled", folder_files(pickled))
    with pytest.raises(UnsafeModelError, match="--allow-pickle"):
        load_runner("alice/pickled", "text-classification", endpoint=hub.url, cache_dir=tmp_path)
    assert hub.count("GET", r"/resolve/.*(safetensors|\.bin)$") == 0
    runner = load_runner(
        "alice/pickled", "text-classification", endpoint=hub.url, cache_dir=tmp_path, allow_pickle=True
    )
    assert runner.info.allow_pickle and hub.count("GET", r"/resolve/.*pytorch_model\.bin$") == 1


def test_hub_errors_are_mapped(hub: HubServer, tiny: dict[str, Path], tmp_path: Path) -> None:
    def load(repo: str, **kwargs: Any) -> Any:
        return load_runner(repo, "text-classification", endpoint=hub.url, cache_dir=tmp_path, **kwargs)

    with pytest.raises(ModelNotFoundError):
        load("alice/no-such-model")
    hub.create_repo("alice/secret", folder_files(tiny["text-classification"]), private=True)
    with pytest.raises(ModelNotFoundError):
        load("alice/secret")
    hub.create_repo("meta/gated", folder_files(tiny["text-classification"]), gated=True)
    with pytest.raises(GatedModelError, match="gated"):
        load("meta/gated")
    hub.create_repo("alice/tiny-tc", folder_files(tiny["text-classification"]))
    with pytest.raises(ModelNotFoundError, match="revision"):
        load("alice/tiny-tc", revision="no-such-branch")
    hub.stop()
    with pytest.raises(NetworkError):
        load("alice/tiny-tc")
