"""The canonical text workloads: pinned bytes, the public API, versions, lengths, and English text.

The media workloads (images, audio, prompts) are tested in tests/test_media_workload.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from energy_badge import workload as wl
from energy_badge.errors import InvalidFileError, UsageError
from energy_badge.workload import (
    MEDIA_TASKS,
    TASKS,
    TEXT_TASKS,
    GenerationSettings,
    Workload,
    canonical_jsonl,
    gzip_bytes,
    list_workloads,
    load_workload,
    sha256_of,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "energy_badge" / "data" / "workloads" / "v1"
DATA_V2 = ROOT / "energy_badge" / "data" / "workloads" / "v2"
VERSIONS = {task: "1.0.0" for task in TEXT_TASKS} | {"summarization": "2.0.0"}

# The AI Energy Score's mean input tokens per query (for QA: the question).
TARGET_MEANS = {
    "text-classification": 157,
    "sentence-similarity": 23,
    "question-answering": 11,
    "summarization": 384,
    "text-generation": 369,
}
FIELDS = {
    "text-classification": ("id", "text"),
    "sentence-similarity": ("id", "sentence1", "sentence2"),
    "question-answering": ("id", "question", "context", "answer_start", "answer_text"),
    "summarization": ("id", "document"),
    "text-generation": ("id", "prompt"),
}
TEXT_FIELDS = {
    "text-classification": ("text",),
    "sentence-similarity": ("sentence1", "sentence2"),
    "question-answering": ("question", "context"),
    "summarization": ("document",),
    "text-generation": ("prompt",),
}


def texts_of(task: str) -> list[str]:
    w = load_workload(task)
    return [q[f] for q in w.queries for f in TEXT_FIELDS[task]]


@pytest.fixture(scope="module")
def tokenizer(minilm_path: Path) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(minilm_path))
    tok.model_max_length = 1_000_000  # we only count tokens; no "longer than 512" warnings
    return tok


def token_counts(tokenizer: Any, texts: list[str]) -> list[int]:
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


# ---------------------------------------------------------------------------------------------
# Naturalness: a checker that reports what makes a text read unlike ordinary English.

SENTENCE_END = re.compile(r'[.!?]"?$')
SPLIT = re.compile(r'(?:(?<=[.!?])|(?<=[.!?]"))\s+')
REPEAT = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)
MARKUP = re.compile(r"[{}\[\]<>|\\]|  |\s[,.;:?!]|\.\.|,,")
ARTICLE = re.compile(r"\b(an?) ([a-z]+)\b", re.IGNORECASE)
CONSONANT_SOUND = ("uni", "use", "usu", "uti", "one", "once", "eu", "ure")
VOWEL_SOUND = ("hour", "honest", "honor", "heir")


def text_problems(text: str) -> list[str]:
    """Why a text does not read like ordinary written English (empty: no problem found)."""
    problems = []
    if not re.match(r'^"?[A-Z]', text):
        problems.append("does not start with a capital letter")
    if not SENTENCE_END.search(text):
        problems.append("does not end with terminal punctuation")
    if m := REPEAT.search(text):
        problems.append(f"repeated word: {m.group(0)!r}")
    if m := MARKUP.search(text):
        problems.append(f"template debris or bad spacing: {m.group(0)!r}")
    for m in ARTICLE.finditer(text):
        article, word = m.group(1).lower(), m.group(2).lower()
        vowel = word.startswith(VOWEL_SOUND) or (word[0] in "aeiou" and not word.startswith(CONSONANT_SOUND))
        if (article == "an") != vowel:
            problems.append(f"article: {m.group(0)!r}")
    for sentence in SPLIT.split(text.strip()):
        if sentence and not re.match(r'^["(]?[A-Z0-9]', sentence.lstrip()):
            problems.append(f"sentence without a capital: {sentence[:40]!r}")
    return problems


def test_naturalness_checker_catches_word_salad() -> None:
    assert text_problems("The bridge reopened on Monday. Residents were pleased.") == []
    assert text_problems('"We are delighted," said the mayor. "It is a proud day."') == []
    assert text_problems("the bridge reopened on Monday.")
    assert text_problems("The bridge reopened on Monday")
    assert text_problems("The the bridge reopened on Monday.")
    assert text_problems("The bridge reopened on {weekday}.")
    assert text_problems("It was a honest mistake and an useful one.")
    assert text_problems("Bridge the. reopened monday on residents.")


# ---------------------------------------------------------------------------------------------
# The public API.


def test_tasks_are_the_ten_tasks_in_a_fixed_order() -> None:
    assert TEXT_TASKS == (
        "text-classification",
        "sentence-similarity",
        "question-answering",
        "summarization",
        "text-generation",
    )
    assert MEDIA_TASKS == (
        "image-classification",
        "object-detection",
        "automatic-speech-recognition",
        "image-to-text",
        "text-to-image",
    )
    assert TASKS == TEXT_TASKS + MEDIA_TASKS


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_each_workload_has_1000_queries_with_the_documented_fields(task: str) -> None:
    w = load_workload(task)
    assert isinstance(w, Workload)
    assert w.task == task
    assert len(w.queries) == 1000 == len(w)
    assert all(tuple(sorted(q)) == tuple(sorted(FIELDS[task])) for q in w.queries)
    assert len({q["id"] for q in w.queries}) == 1000
    assert w.batch_size == 1
    assert w.version == VERSIONS[task]
    assert w.name == f"energy-badge/{task}"
    assert w.input_fields == TEXT_FIELDS[task]
    assert w.is_canonical
    for q in w.queries:
        for f in TEXT_FIELDS[task]:
            assert isinstance(q[f], str) and q[f].strip() == q[f] and q[f]


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_to_dict_is_the_result_file_summary(task: str) -> None:
    w = load_workload(task)
    d = w.to_dict()
    assert list(d) == [
        "name",
        "version",
        "task",
        "sha256",
        "queries",
        "batch_size",
        "generation",
        "default_dtype",
        "source",
    ]
    assert d["queries"] == 1000 and d["sha256"] == w.sha256 and d["source"] == "energy-badge"
    assert re.fullmatch(r"[0-9a-f]{64}", d["sha256"])
    json.dumps(d)


def test_generation_settings_and_dtypes_follow_the_ai_energy_score() -> None:
    tg = load_workload("text-generation")
    assert tg.generation == GenerationSettings(
        max_new_tokens=10, min_new_tokens=10, do_sample=False, num_beams=1
    )
    assert tg.to_dict()["generation"] == {
        "max_new_tokens": 10,
        "min_new_tokens": 10,
        "do_sample": False,
        "num_beams": 1,
    }
    assert tg.default_dtype == "float16"
    # Summarization 2.0.0 forces 10 new tokens, as the AI Energy Score; 1.0.0 forced 64.
    summ = load_workload("summarization")
    assert summ.version == "2.0.0"
    assert summ.generation is not None
    assert summ.generation.to_dict() == {
        "max_new_tokens": 10,
        "min_new_tokens": 10,
        "do_sample": False,
        "num_beams": 1,
    }
    assert summ.default_dtype == "float32"
    old = load_workload("summarization", "1.0.0")
    assert old.version == "1.0.0"
    assert old.generation == GenerationSettings(max_new_tokens=64, min_new_tokens=64)
    assert old.sha256 == summ.sha256 and old.queries == summ.queries
    for task in ("text-classification", "sentence-similarity", "question-answering"):
        w = load_workload(task)
        assert w.generation is None and w.to_dict()["generation"] is None
        assert w.default_dtype == "float32"


def test_load_is_cached_and_versions_resolve() -> None:
    w = load_workload("summarization")
    assert load_workload("summarization") is w
    assert load_workload("summarization", "2.0.0") is w
    assert load_workload("summarization", "v2") is w
    assert load_workload("summarization", "2") is w
    old = load_workload("summarization", "1.0.0")
    assert old is not w and old.version == "1.0.0"
    assert load_workload("summarization", "v1") is old
    assert load_workload("summarization", "1") is old
    assert wl.available_versions() == ["v1", "v2"]
    # The other text workloads are the same in both sets: their own version finds the newest.
    tc = load_workload("text-classification")
    assert load_workload("text-classification", "1.0.0") is tc
    assert load_workload("text-classification", "v1") == tc
    assert load_workload("text-classification", "v1").sha256 == tc.sha256
    assert wl.canonical_spec("text-classification", "1.0.0") == wl.canonical_spec("text-classification")


def test_v1_still_holds_the_five_text_workloads_as_first_published() -> None:
    assert [w.task for w in list_workloads("v1")] == list(TEXT_TASKS)
    assert [w.task for w in list_workloads()] == list(TASKS)
    v2 = json.loads((DATA_V2 / "manifest.json").read_text(encoding="utf-8"))
    v1 = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    for task in TEXT_TASKS:
        old, new = v1["tasks"][task], v2["tasks"][task]
        assert new["sha256"] == old["sha256"] and new["file"] == f"../v1/{old['file']}"
        changed = {k for k in old if old[k] != new[k]}
        assert changed == ({"file", "version", "generation"} if task == "summarization" else {"file"})
        assert set(new) - set(old) == ({"changes"} if task == "summarization" else set())


def test_unknown_task_is_a_usage_error_listing_the_valid_tasks() -> None:
    with pytest.raises(UsageError) as info:
        load_workload("translation")
    for task in TASKS:
        assert task in str(info.value)


def test_unknown_version_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="1.0.0"):
        load_workload("summarization", "9.9.9")
    with pytest.raises(UsageError, match="v2"):
        load_workload("image-classification", "3")


def test_list_workloads_is_cheap_even_with_cold_caches() -> None:
    wl._load.cache_clear()
    wl._manifest.cache_clear()
    wl._versions.cache_clear()
    start = time.perf_counter()
    workloads = list_workloads()
    elapsed = time.perf_counter() - start
    assert [w.task for w in workloads] == list(TASKS)
    assert elapsed < 0.5, f"list_workloads took {elapsed:.2f} s"


def test_importing_the_module_does_not_import_torch() -> None:
    code = (
        "import sys, energy_badge.workload as w\n"
        "w.load_workload('text-classification')\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# Hashes.


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_hash_matches_the_manifest_and_the_file(task: str) -> None:
    w = load_workload(task)
    manifest = json.loads((DATA_V2 / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["tasks"][task]
    raw = gzip.decompress((DATA / f"{task}.jsonl.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == entry["sha256"] == w.sha256 == sha256_of(w.queries)
    assert canonical_jsonl(w.queries) == raw
    assert w.manifest == entry


def test_hash_changes_when_one_byte_of_one_query_changes() -> None:
    w = load_workload("text-classification")
    queries = [dict(q) for q in w.queries]
    text = queries[500]["text"]
    queries[500]["text"] = text[:-1] + ("!" if text[-1] != "!" else ".")
    assert len(canonical_jsonl(queries)) == len(canonical_jsonl(w.queries))
    assert sha256_of(queries) != w.sha256
    assert sha256_of(w.queries) == w.sha256


def test_a_tampered_file_is_rejected_on_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(DATA, tmp_path / "v1")
    path = tmp_path / "v1" / "sentence-similarity.jsonl.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    index = raw.index(b"the")
    raw[index : index + 3] = b"thE"
    path.write_bytes(gzip_bytes(bytes(raw)))
    monkeypatch.setattr(wl, "_data_root", lambda: tmp_path)
    with pytest.raises(InvalidFileError, match="does not match its manifest"):
        load_workload("sentence-similarity")
    assert (
        load_workload("summarization").sha256
        == json.loads((DATA / "manifest.json").read_text())["tasks"]["summarization"]["sha256"]
    )


def test_subset_has_its_own_stable_hash() -> None:
    w = load_workload("question-answering")
    sub = w.subset(10)
    assert len(sub.queries) == 10 and sub.queries == w.queries[:10]
    assert sub.sha256 != w.sha256
    assert not sub.is_canonical
    assert sub.to_dict()["queries"] == 10 and sub.to_dict()["sha256"] == sub.sha256
    assert w.subset(10).sha256 == sub.sha256
    first_lines = b"".join(
        gzip.decompress((DATA / "question-answering.jsonl.gz").read_bytes()).splitlines(True)[:10]
    )
    assert sub.sha256 == hashlib.sha256(first_lines).hexdigest()
    assert w.subset(11).sha256 != sub.sha256
    assert w.subset(1000) is w


@pytest.mark.parametrize("n", [0, -1, 1001, True, 2.5])
def test_subset_rejects_bad_sizes(n: Any) -> None:
    with pytest.raises(UsageError):
        load_workload("text-classification").subset(n)


def test_gzip_bytes_are_deterministic_and_readable() -> None:
    data = canonical_jsonl([{"id": "x", "text": "Caf\u00e9 au lait."}])
    packed = gzip_bytes(data)
    assert packed == gzip_bytes(data)
    assert gzip.decompress(packed) == data
    assert packed[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    for task in TASKS:
        shipped = ((DATA if task in TEXT_TASKS else DATA_V2) / f"{task}.jsonl.gz").read_bytes()
        assert shipped[:10] == packed[:10]
        assert len(shipped) < 1_000_000


# ---------------------------------------------------------------------------------------------
# The manifest.


def test_manifest_records_provenance_licence_tokenizer_and_lengths() -> None:
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == "1.0.0"
    assert (
        "decompressed" in manifest["sha256_definition"] and "sort_keys=True" in manifest["sha256_definition"]
    )
    seed = manifest["generator"]["seed"]
    assert manifest["generator"]["path"] == "tools/gen_workloads"
    assert manifest["license"]["spdx"] == "CC0-1.0"
    assert "bert-base-uncased" in manifest["tokenizer"]["name"]
    assert manifest["tokenizer"]["vocab_size"] == 30522
    assert list(manifest["tasks"]) == list(TEXT_TASKS)
    for task, entry in manifest["tasks"].items():
        assert entry["queries"] == 1000 and entry["batch_size"] == 1
        assert entry["fields"] == list(FIELDS[task])
        assert (
            entry["provenance"]
            == f"generated by tools/gen_workloads with seed {seed} by the energy-badge project"
        )
        assert entry["license"] == "CC0-1.0"
        stats = entry["token_stats"]
        assert stats["target_mean"] == TARGET_MEANS[task]
        assert stats["min"] < stats["mean"] < stats["max"]
    qa = manifest["tasks"]["question-answering"]["token_stats"]
    assert qa["counted"] == "question" and "question" in qa["note"]
    assert 100 <= qa["context"]["mean"] <= 140


# ---------------------------------------------------------------------------------------------
# Lengths, measured with the real MiniLM (bert-base-uncased WordPiece) tokenizer.


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_mean_input_tokens_match_the_ai_energy_score(task: str, tokenizer: Any) -> None:
    w = load_workload(task)
    if task == "sentence-similarity":
        first = token_counts(tokenizer, [q["sentence1"] for q in w.queries])
        second = token_counts(tokenizer, [q["sentence2"] for q in w.queries])
        counts = [a + b for a, b in zip(first, second, strict=True)]
    else:
        field = "question" if task == "question-answering" else TEXT_FIELDS[task][0]
        counts = token_counts(tokenizer, [q[field] for q in w.queries])
    mean = sum(counts) / len(counts)
    target = TARGET_MEANS[task]
    assert abs(mean - target) <= 0.1 * target, f"{task}: mean {mean:.1f} tokens, target {target}"
    # A realistic spread, not one fixed length.
    assert min(counts) <= 0.6 * mean and max(counts) >= 1.5 * mean
    assert len(set(counts)) >= 10
    stats = w.manifest["token_stats"]
    assert (stats["min"], stats["max"], round(mean, 2)) == (min(counts), max(counts), stats["mean"])


def test_qa_contexts_are_short_passages(tokenizer: Any) -> None:
    counts = token_counts(tokenizer, [q["context"] for q in load_workload("question-answering").queries])
    assert 100 <= sum(counts) / len(counts) <= 140
    assert min(counts) >= 30 and max(counts) <= 300


# ---------------------------------------------------------------------------------------------
# Content.


def test_qa_answers_are_spans_of_their_context() -> None:
    for q in load_workload("question-answering").queries:
        start, answer, context = q["answer_start"], q["answer_text"], q["context"]
        assert isinstance(start, int) and answer
        assert context[start : start + len(answer)] == answer, q["id"]
        assert context.count(answer) == 1, q["id"]
        assert q["question"].endswith("?")


def test_similarity_pairs_are_two_different_sentences_and_all_distinct() -> None:
    queries = load_workload("sentence-similarity").queries
    assert all(q["sentence1"] != q["sentence2"] for q in queries)
    assert len({frozenset((q["sentence1"], q["sentence2"])) for q in queries}) == 1000


@pytest.mark.parametrize("task", TEXT_TASKS)
def test_texts_read_like_natural_english(task: str, tokenizer: Any) -> None:
    texts = texts_of(task)
    problems = [(text[:60], p) for text in texts for p in text_problems(text)]
    assert problems == []
    assert all(text.isascii() for text in texts)
    sentences = Counter(s for text in texts for s in SPLIT.split(text) if s)
    minimum_distinct = {"sentence-similarity": 1200, "question-answering": 3000}.get(task, 3000)
    assert len(sentences) >= minimum_distinct
    # No sentence dominates: the most common one is in at most a fifth of the texts.
    assert sentences.most_common(1)[0][1] <= len(texts) / 5
    words = Counter(w.lower() for text in texts for w in re.findall(r"[A-Za-z]+(?:'[a-z]+)?", text))
    assert 600 <= len(words) <= 20_000
    # Ordinary English words, not fragments: few WordPiece tokens are "##" continuations.
    tokens = [t for row in tokenizer(texts, add_special_tokens=False)["input_ids"] for t in row]
    pieces = tokenizer.convert_ids_to_tokens(tokens)
    assert sum(p.startswith("##") for p in pieces) / len(pieces) < 0.08
    assert tokenizer.unk_token not in pieces


def test_classification_reviews_use_both_polarities() -> None:
    texts = texts_of("text-classification")
    positive = sum(
        bool(re.search(r"recommend it|Five stars|be back|stay at .* again|money well spent", t))
        for t in texts
    )
    negative = sum(
        bool(re.search(r"cannot recommend|would not|Save your money|not be|Avoid it|waste", t)) for t in texts
    )
    assert positive >= 250 and negative >= 250


# ---------------------------------------------------------------------------------------------
# Regeneration.


@pytest.mark.slow
def test_the_generator_reproduces_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    """v1 (the text workloads) is regenerated whole; the v2 media files and manifest are regenerated
    with every spec drawn anew, but only a sample of inputs decoded (the others' digests are taken
    from the shipped records): tests/test_media_workload.py and ``python -m tools.gen_workloads
    --check`` decode the rest."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tools.gen_workloads.build import build
    from tools.gen_workloads.build_v2 import build_v2

    start = time.perf_counter()
    build(tmp_path, log=lambda line: None)
    elapsed = time.perf_counter() - start
    for task in TEXT_TASKS:
        name = f"{task}.jsonl.gz"
        ours = (tmp_path / "v1" / name).read_bytes()
        shipped = (DATA / name).read_bytes()
        assert gzip.decompress(ours) == gzip.decompress(shipped), task
        assert ours == shipped, task
    assert (tmp_path / "v1" / "manifest.json").read_bytes() == (DATA / "manifest.json").read_bytes()
    assert elapsed < 60

    shipped_digests = {}
    for task in MEDIA_TASKS:
        for q in load_workload(task).queries:
            if "sha256" in q:
                shipped_digests[q["id"]] = q["sha256"]
    decoded = []

    def digests(kind: str, queries: list[dict[str, Any]]) -> list[str]:
        from energy_badge import media

        out = []
        for i, q in enumerate(queries):
            if i % 250 == 7:
                decoded.append(q["id"])
                out.append(media.describe(kind, media.decode(kind, q[kind])).sha256)
            else:
                out.append(shipped_digests[q["id"]])
        return out

    build_v2(tmp_path, 20250, digests=digests, log=lambda line: None)
    assert len(decoded) == 4 * 4
    for task in MEDIA_TASKS:
        name = f"{task}.jsonl.gz"
        assert (tmp_path / "v2" / name).read_bytes() == (DATA_V2 / name).read_bytes(), task
    assert (tmp_path / "v2" / "manifest.json").read_bytes() == (DATA_V2 / "manifest.json").read_bytes()
