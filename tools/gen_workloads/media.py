"""Build the v2 workload set: the five text workloads of v1 (summarization aligned to 10 new
tokens) and the AI Energy Score's five other tasks.

Each media query is a small spec (size, scene or voice, seed) drawn from the task's own seeded
stream, plus the sha256 of the input it decodes to (computed here by decoding it with
:mod:`energy_badge.media`, exactly as a run does). Text-to-image prompts come from
:mod:`tools.gen_workloads.captions`.
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from energy_badge import media
from energy_badge.workload import MEDIA_TASKS, TEXT_TASKS, canonical_jsonl, gzip_bytes, media_sha256_of

from .build import LICENSE
from .captions import prompt

SET_VERSION = "2.0.0"
QUERIES = 1000

# (width, height): share. COCO 2017 (object detection, captions) is dominated by 640x480,
# 640x427 and their portrait forms; Visual Genome adds 500x375, 800x600 and 500x333.
COCO_SIZES: tuple[tuple[tuple[int, int], float], ...] = (
    ((640, 480), 0.30),
    ((640, 427), 0.18),
    ((480, 640), 0.10),
    ((427, 640), 0.05),
    ((640, 426), 0.04),
    ((640, 428), 0.03),
    ((500, 375), 0.08),
    ((500, 333), 0.03),
    ((375, 500), 0.02),
    ((800, 600), 0.02),
    ((640, 640), 0.02),
    ((612, 612), 0.02),
    ((640, 360), 0.02),
)
# ImageNet validation is dominated by 500x375 and 500x333; Food-101 scales its photos to a
# longest side of 512; Beans photos are 500x500.
IMAGENET_SIZES: tuple[tuple[tuple[int, int], float], ...] = (
    ((500, 375), 0.28),
    ((500, 333), 0.12),
    ((375, 500), 0.08),
    ((500, 500), 0.12),
    ((512, 512), 0.10),
    ((512, 384), 0.07),
    ((384, 512), 0.03),
    ((640, 480), 0.05),
    ((640, 427), 0.03),
)
# The rest of each draw ("other"): longest side 300..max_side, aspect 0.6..1.67, either way.
OTHER_SIDE = {"coco": 640, "imagenet": 512}

# LibriSpeech-like utterance durations: a piecewise-linear quantile function (p, seconds).
DURATION_KNOTS: tuple[tuple[float, float], ...] = (
    (0.0, 2.0),
    (0.05, 3.0),
    (0.2, 6.0),
    (0.4, 10.0),
    (0.6, 13.5),
    (0.8, 16.5),
    (0.95, 22.0),
    (0.99, 30.0),
    (1.0, 35.0),
)

TASK_SETUP: dict[str, dict[str, Any]] = {
    "image-classification": {
        "prefix": "ic",
        "sizes": "imagenet",
        "scenes": (("object", 0.8), ("indoor", 0.1), ("outdoor", 0.1)),
    },
    "object-detection": {
        "prefix": "od",
        "sizes": "coco",
        "scenes": (("outdoor", 0.55), ("indoor", 0.35), ("object", 0.1)),
    },
    "image-to-text": {
        "prefix": "itt",
        "sizes": "coco",
        "scenes": (("outdoor", 0.55), ("indoor", 0.35), ("object", 0.1)),
    },
    "automatic-speech-recognition": {"prefix": "asr"},
    "text-to-image": {"prefix": "t2i"},
}


def rng_for(task: str, seed: int) -> random.Random:
    """The random stream of one task (v2).

    Args:
        task: the task name.
        seed: the generator seed.

    Returns:
        A generator seeded with ``"energy-badge/workloads/v2/<task>/<seed>"``.
    """
    return random.Random(f"energy-badge/workloads/v2/{task}/{seed}")


def _weighted(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any | None:
    """One value of ``table`` by its share; None for the remainder (1 - sum of shares)."""
    u, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if u < acc:
            return value
    return None


def draw_size(rng: random.Random, kind: str) -> tuple[int, int]:
    """One picture size of a size family.

    Args:
        rng: the task's stream.
        kind: ``"coco"`` or ``"imagenet"``.

    Returns:
        (width, height).
    """
    table = COCO_SIZES if kind == "coco" else IMAGENET_SIZES
    size = _weighted(rng, table)
    if size is not None:
        return size  # type: ignore[no-any-return]
    longest = rng.randint(300, OTHER_SIDE[kind])
    aspect = 0.6 + rng.random() * (1 / 0.6 - 0.6)
    short = max(16, min(longest, int(longest / aspect) if aspect > 1 else int(longest * aspect)))
    return (longest, short) if rng.random() < 0.7 else (short, longest)


def draw_duration(rng: random.Random) -> int:
    """One clip length in samples, from :data:`DURATION_KNOTS`.

    Args:
        rng: the task's stream.

    Returns:
        The sample count at 16 kHz.
    """
    u = rng.random()
    for (p0, s0), (p1, s1) in zip(DURATION_KNOTS, DURATION_KNOTS[1:], strict=False):
        if u <= p1:
            seconds = s0 + (s1 - s0) * (u - p0) / (p1 - p0)
            return int(seconds * media.AUDIO_SAMPLING_RATE)
    return int(DURATION_KNOTS[-1][1] * media.AUDIO_SAMPLING_RATE)


def _digest(job: tuple[str, dict[str, Any]]) -> str:
    kind, spec = job
    return media.describe(kind, media.decode(kind, spec)).sha256


Digests = Callable[[str, list[dict[str, Any]]], list[str]]


def _with_digests(
    kind: str, queries: list[dict[str, Any]], workers: int, digests: Digests | None = None
) -> list[dict[str, Any]]:
    if digests is not None:
        found = digests(kind, queries)
        return [{**q, "sha256": d} for q, d in zip(queries, found, strict=True)]
    jobs = [(kind, q[kind]) for q in queries]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            digests = list(pool.map(_digest, jobs, chunksize=16))
    else:
        digests = [_digest(job) for job in jobs]
    return [{**q, "sha256": d} for q, d in zip(queries, digests, strict=True)]


def gen_images(
    task: str, rng: random.Random, workers: int, digests: Digests | None = None
) -> list[dict[str, Any]]:
    """The queries of an image task.

    Args:
        task: the task.
        rng: its stream.
        workers: processes that decode the pictures to take their digests.
        digests: computes the digests instead (tests).

    Returns:
        ``{"id", "image": {"width", "height", "scene", "seed"}, "sha256"}`` records.
    """
    setup = TASK_SETUP[task]
    queries = []
    for i in range(QUERIES):
        width, height = draw_size(rng, setup["sizes"])
        scene = _weighted(rng, setup["scenes"]) or setup["scenes"][0][0]
        spec = {"width": width, "height": height, "scene": scene, "seed": rng.getrandbits(32)}
        queries.append({"id": f"{setup['prefix']}-{i + 1:04d}", "image": spec})
    return _with_digests("image", queries, workers, digests)


def gen_audio(
    task: str, rng: random.Random, workers: int, digests: Digests | None = None
) -> list[dict[str, Any]]:
    """The queries of the speech task.

    Args:
        task: the task.
        rng: its stream.
        workers: processes that decode the clips to take their digests.
        digests: computes the digests instead (tests).

    Returns:
        ``{"id", "audio": {"samples", "voice", "seed"}, "sha256"}`` records.
    """
    prefix = TASK_SETUP[task]["prefix"]
    queries = []
    for i in range(QUERIES):
        spec = {
            "samples": draw_duration(rng),
            "voice": "low" if rng.random() < 0.5 else "high",
            "seed": rng.getrandbits(32),
        }
        queries.append({"id": f"{prefix}-{i + 1:04d}", "audio": spec})
    return _with_digests("audio", queries, workers, digests)


def gen_prompts(task: str, rng: random.Random) -> list[dict[str, Any]]:
    """The text-to-image prompts (all distinct).

    Args:
        task: the task.
        rng: its stream.

    Returns:
        ``{"id", "prompt"}`` records.
    """
    prefix = TASK_SETUP[task]["prefix"]
    seen: set[str] = set()
    out = []
    while len(out) < QUERIES:
        text = prompt(rng)
        if text in seen:
            continue
        seen.add(text)
        out.append({"id": f"{prefix}-{len(out) + 1:04d}", "prompt": text})
    return out


def _stats(values: Sequence[float], digits: int = 2) -> dict[str, Any]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * p // 100) - 1))]

    return {
        "mean": round(statistics.fmean(ordered), digits),
        "std": round(statistics.pstdev(ordered), digits),
        "min": round(ordered[0], digits),
        "p10": round(pct(10), digits),
        "median": round(pct(50), digits),
        "p90": round(pct(90), digits),
        "max": round(ordered[-1], digits),
    }


def image_stats(queries: Sequence[dict[str, Any]], family: str) -> dict[str, Any]:
    """The size and scene distribution of an image workload, for the manifest."""
    sizes = Counter(f"{q['image']['width']}x{q['image']['height']}" for q in queries)
    table = COCO_SIZES if family == "coco" else IMAGENET_SIZES
    named = {f"{w}x{h}" for (w, h), _ in table}
    pixels = [q["image"]["width"] * q["image"]["height"] for q in queries]
    landscape = sum(q["image"]["width"] > q["image"]["height"] for q in queries)
    portrait = sum(q["image"]["width"] < q["image"]["height"] for q in queries)
    return {
        "size_family": family,
        "sizes_drawn_from": {f"{w}x{h}": share for (w, h), share in table}
        | {"other": round(1 - sum(s for _, s in table), 4)},
        "other_sizes": f"longest side 300..{OTHER_SIDE[family]}, aspect ratio 0.6..1.67, landscape 70 %",
        "sizes": dict(sorted(((k, v) for k, v in sizes.items() if k in named), key=lambda kv: -kv[1]))
        | {"other": sum(v for k, v in sizes.items() if k not in named)},
        "distinct_sizes": len(sizes),
        "orientation": {
            "landscape": landscape,
            "portrait": portrait,
            "square": len(queries) - landscape - portrait,
        },
        "megapixels": _stats([p / 1e6 for p in pixels], 3),
        "scenes": dict(sorted(Counter(q["image"]["scene"] for q in queries).items())),
    }


def audio_stats(queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The duration distribution of the speech workload, for the manifest."""
    seconds = [q["audio"]["samples"] / media.AUDIO_SAMPLING_RATE for q in queries]
    return {
        "sampling_rate": media.AUDIO_SAMPLING_RATE,
        "channels": 1,
        "sample_format": "float32 in [-1, 1] (multiples of 2**-15)",
        "duration_quantiles_drawn_from": [list(k) for k in DURATION_KNOTS],
        "seconds": _stats(seconds) | {"total": round(sum(seconds), 1)},
        "over_30s": sum(s > 30 for s in seconds),
        "voices": dict(sorted(Counter(q["audio"]["voice"] for q in queries).items())),
    }


def prompt_stats(queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The length distribution of the prompts, for the manifest."""
    words = [len(q["prompt"].split()) for q in queries]
    return {"counted": "words (whitespace-separated)", "words": _stats(words) | {"total": sum(words)}}


Builder = Callable[[str, random.Random, int], list[dict[str, Any]]]


def build_task(
    task: str, seed: int, workers: int, digests: Digests | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Generate one media task's queries and their statistics.

    Args:
        task: one of :data:`energy_badge.workload.MEDIA_TASKS`.
        seed: the generator seed.
        workers: decoding processes.
        digests: computes the inputs' digests instead of decoding them here (tests).

    Returns:
        The queries and the manifest's ``input_stats``.
    """
    rng = rng_for(task, seed)
    if task == "text-to-image":
        queries = gen_prompts(task, rng)
        return queries, prompt_stats(queries)
    if task == "automatic-speech-recognition":
        queries = gen_audio(task, rng, workers, digests)
        return queries, audio_stats(queries)
    queries = gen_images(task, rng, workers, digests)
    return queries, image_stats(queries, TASK_SETUP[task]["sizes"])


def write_task(folder: Path, task: str, queries: Sequence[dict[str, Any]]) -> tuple[str, str]:
    """Write one task's file.

    Args:
        folder: the v2 folder.
        task: the task.
        queries: its records.

    Returns:
        The file's sha256 (of the canonical JSONL) and the workload's inputs sha256.
    """
    data = canonical_jsonl(queries)
    (folder / f"{task}.jsonl.gz").write_bytes(gzip_bytes(data))
    file_sha = hashlib.sha256(data).hexdigest()
    kind = {"automatic-speech-recognition": "audio", "text-to-image": "text"}.get(task, "image")
    return file_sha, (file_sha if kind == "text" else media_sha256_of(kind, queries))


def load_v1_manifest(out_dir: Path) -> dict[str, Any]:
    """The v1 manifest the v2 text entries are taken from."""
    return json.loads((out_dir / "v1" / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


__all__ = ["LICENSE", "MEDIA_TASKS", "TEXT_TASKS", "build_task", "load_v1_manifest", "write_task"]
