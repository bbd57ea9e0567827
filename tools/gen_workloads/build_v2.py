"""The v2 manifest: v1's text workloads (summarization 2.0.0) and the five media workloads."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from energy_badge.workload import MEDIA_TASKS, TASKS, TEXT_TASKS

from .build import LICENSE
from .media import SET_VERSION, Digests, build_task, load_v1_manifest, write_task

SUMMARIZATION_TOKENS = 10
T2I_SEED = 0

AES_SOURCE = (
    "AI Energy Score task settings (huggingface/AIEnergyScore; huggingface/optimum-benchmark "
    "examples/energy_star/*.yaml): 1000 samples per task, batch size 1, no torch_dtype given (float32) "
    "except text generation; seq2seq speech recognition and image captioning forced to exactly 100 new "
    "tokens, greedy; image generation 30 inference steps, one image per prompt, the pipeline's default "
    "resolution."
)

MEDIA: dict[str, dict[str, Any]] = {
    "image-classification": {
        "description": "Pictures of one thing (a ball, a fruit, a cup, a box, a bottle, a lamp, a plant) "
        "on a "
        "table-and-wall background, and some indoor and outdoor scenes; ImageNet-like sizes.",
        "fields": ["id", "image", "sha256"],
        "input_fields": ["image"],
        "generation": None,
        "aes_reference": {
            "dataset": "EnergyStarAI/image_classification (optimum-benchmark energy_star config)",
            "sources": "ImageNet, Food-101, Beans (the AI Energy Score draws each task's 1000 samples from "
            "three sources)",
            "example_model": "google/vit-base-patch16-224",
            "sizes": "ImageNet validation mostly 500x375 / 500x333 / 375x500; Food-101 longest side 512; "
            "Beans 500x500. Every image is resized by the processor (ViT: 224x224), so size changes only "
            "preprocessing, outside the measured window.",
        },
    },
    "object-detection": {
        "description": "Street, park and room scenes: several things (trees, houses, cars, people, bushes, "
        "boxes, tables, cups, plants, lamps) standing on the ground at perspective-scaled sizes, with "
        "shadows; "
        "COCO-like sizes.",
        "fields": ["id", "image", "sha256"],
        "input_fields": ["image"],
        "generation": None,
        "aes_reference": {
            "dataset": "EnergyStarAI/object_detection (optimum-benchmark energy_star config)",
            "sources": "photographs of everyday scenes such as COCO's and Visual Genome's",
            "example_model": "facebook/detr-resnet-50",
            "sizes": "widths 31-802 px (the dataset viewer's range); COCO mostly 640x480 / 640x427 and "
            "portrait forms; DETR resizes the shortest side to "
            "800 (longest at most 1333), so aspect ratio sets the pixel count the model sees.",
        },
    },
    "automatic-speech-recognition": {
        "description": "Speech-like clips, 16 kHz mono: phrases of syllables (fricatives, plosives, nasals "
        "and vowels with gliding formants) over a glottal pulse train with a phrase pitch contour, low or "
        "high voice, separated by pauses; LibriSpeech-like durations.",
        "fields": ["id", "audio", "sha256"],
        "input_fields": ["audio"],
        "generation": {"max_new_tokens": 100, "min_new_tokens": 100, "do_sample": False, "num_beams": 1},
        "generation_note": "For sequence-to-sequence models (Whisper): exactly 100 new tokens, greedy. CTC "
        "models (wav2vec2) run one forward pass per clip and generate nothing.",
        "aes_reference": {
            "dataset": "EnergyStarAI/ASR (optimum-benchmark energy_star config)",
            "sources": "LibriSpeech, Common Voice, People's Speech",
            "example_model": "openai/whisper-large-v3",
            "durations": "EnergyStarAI/ASR: 0.83-45.6 s (the dataset viewer's range); LibriSpeech utterances "
            "run to about 35 s (mean about 12 s in train-clean), Common Voice clips a few seconds. Ours: "
            "2-35 s, mean about 12 s, LibriSpeech-like. Whisper pads or cuts every clip to 30 s of features, "
            "so duration matters to CTC models and to preprocessing, not to Whisper's encoder.",
        },
    },
    "image-to-text": {
        "description": "Street, park and room scenes (the object-detection generator with other seeds and "
        "sizes drawn anew) to caption; COCO-like sizes.",
        "fields": ["id", "image", "sha256"],
        "input_fields": ["image"],
        "generation": {"max_new_tokens": 100, "min_new_tokens": 100, "do_sample": False, "num_beams": 1},
        "aes_reference": {
            "dataset": "EnergyStarAI/image_captioning (optimum-benchmark energy_star config)",
            "sources": "photographs of everyday scenes such as COCO's and Visual Genome's",
            "example_model": "Salesforce/blip-image-captioning-base",
            "sizes": "widths 200-800 px (the dataset viewer's range); BLIP resizes every picture to 384x384.",
        },
    },
    "text-to-image": {
        "description": "Prompts: short captions of everyday scenes (people, animals, vehicles, food, things, "
        "places, times of day), about one in six with a style added, as people write them.",
        "fields": ["id", "prompt"],
        "input_fields": ["prompt"],
        "generation": {
            "num_inference_steps": 30,
            "num_images_per_prompt": 1,
            "seed": T2I_SEED,
            "height": None,
            "width": None,
            "guidance_scale": None,
        },
        "generation_note": "30 denoising steps, one image, the pipeline's default resolution and guidance; "
        "the latents' generator is seeded with `seed` before every prompt, so every query does the same "
        "work.",
        "aes_reference": {
            "dataset": "EnergyStarAI/image_generation (optimum-benchmark energy_star config)",
            "sources": "prompts such as COCO captions and DiffusionDB's",
            "example_model": "segmind/tiny-sd",
            "lengths": "COCO captions average about 10-11 words; DiffusionDB prompts are longer. CLIP text "
            "encoders truncate at 77 tokens, and the work is dominated by the 30 UNet steps, not the prompt.",
        },
    },
}

SHA256_DEFINITION = {
    "text": "sha256 of the decompressed .jsonl.gz file, which is the canonical JSONL of the queries: one "
    "line per query, json.dumps(query, sort_keys=True, separators=(',', ':'), ensure_ascii=False) + '\\n', "
    "encoded as UTF-8 (the text tasks and text-to-image)",
    "image": "sha256 of one UTF-8 line per query, '<id>\\timage\\t<height>x<width>x3\\tuint8\\t<sha256 "
    "of the RGB pixels, row-major>\\n' (the per-query sha256 is the record's 'sha256' field and is checked "
    "on every decode)",
    "audio": "sha256 of one UTF-8 line per query, '<id>\\taudio\\t<samples>\\tfloat32\\t<sha256 of the "
    "samples as little-endian float32>\\n' (the per-query sha256 is the record's 'sha256' field and is "
    "checked on every decode)",
    "file_sha256": "for image and audio tasks, the sha256 of the decompressed .jsonl.gz file (the specs)",
}


def _text_entries(v1: dict[str, Any]) -> dict[str, Any]:
    entries = {}
    for task in TEXT_TASKS:
        entry = copy.deepcopy(v1["tasks"][task])
        entry["file"] = f"../v1/{entry['file']}"
        if task == "summarization":
            entry["version"] = "2.0.0"
            entry["generation"] = {
                "max_new_tokens": SUMMARIZATION_TOKENS,
                "min_new_tokens": SUMMARIZATION_TOKENS,
                "do_sample": False,
                "num_beams": 1,
            }
            entry["changes"] = (
                "2.0.0: exactly 10 new tokens per document (was 64 in 1.0.0), as the AI Energy Score forces; "
                "the documents are v1's, byte for byte (same sha256)."
            )
        entries[task] = entry
    return entries


def build_v2(
    out_dir: Path,
    seed: int,
    tasks: Sequence[str] = TASKS,
    workers: int = 2,
    log: Callable[[str], None] = print,
    digests: Digests | None = None,
) -> dict[str, Any]:
    """Write ``out_dir/v2``: the media files and the manifest of all ten tasks.

    Args:
        out_dir: the folder holding ``v1/`` (whose manifest gives the text entries) and receiving
            ``v2/``.
        seed: the generator seed.
        tasks: the media tasks to (re)generate; the others' entries are kept from an existing
            v2 manifest.
        workers: processes that decode inputs to take their digests.
        log: where progress lines go.
        digests: computes the inputs' digests instead of decoding them here (tests).

    Returns:
        The manifest.
    """
    folder = out_dir / "v2"
    folder.mkdir(parents=True, exist_ok=True)
    v1 = load_v1_manifest(out_dir)
    old_path = folder / "manifest.json"
    old = json.loads(old_path.read_text(encoding="utf-8"))["tasks"] if old_path.exists() else {}
    entries = _text_entries(v1)
    for task in MEDIA_TASKS:
        if task not in tasks and task in old:
            entries[task] = old[task]
            continue
        setup = MEDIA[task]
        queries, stats = build_task(task, seed, workers, digests)
        file_sha, sha = write_task(folder, task, queries)
        log(f"{task}: {len(queries)} queries, sha256 {sha[:12]}")
        entry: dict[str, Any] = {
            "name": f"energy-badge/{task}",
            "version": "1.0.0",
            "task": task,
            "description": setup["description"],
            "file": f"{task}.jsonl.gz",
            "queries": len(queries),
            "batch_size": 1,
            "fields": setup["fields"],
            "input_fields": setup["input_fields"],
            "sha256": sha,
        }
        if file_sha != sha:
            entry["file_sha256"] = file_sha
        entry["generation"] = setup["generation"]
        if "generation_note" in setup:
            entry["generation_note"] = setup["generation_note"]
        entry["default_dtype"] = "float32"
        entry["input_stats"] = stats
        entry["aes_reference"] = setup["aes_reference"]
        entry["provenance"] = f"generated by tools/gen_workloads with seed {seed} by the energy-badge project"
        entry["license"] = LICENSE["spdx"]
        entries[task] = entry
    manifest = {
        "format": "energy-badge workload manifest",
        "set": "energy-badge-workloads",
        "version": SET_VERSION,
        "sha256_definition": SHA256_DEFINITION,
        "compression": v1["compression"],
        "generator": {
            "path": "tools/gen_workloads",
            "command": f"python -m tools.gen_workloads --seed {seed}",
            "seed": seed,
            "random": "text tasks: as v1 (their files are v1's); media tasks: one random.Random per task, "
            "seeded with 'energy-badge/workloads/v2/<task>/<seed>', draws each query's size, scene or voice "
            "and a 32-bit seed; the input itself is drawn by energy_badge.media from a SplitMix64 counter "
            "stream keyed by that seed (integer arithmetic only, the same on every platform)",
        },
        "aes_settings": AES_SOURCE,
        "default_dtype_note": "float32 for every task but text generation (float16), as the AI Energy "
        "Score's "
        "configs (which set no torch_dtype for these tasks, so PyTorch's float32 default applies).",
        "length_reference": v1["length_reference"],
        "tokenizer": v1["tokenizer"],
        "provenance": "Generated by tools/gen_workloads by the energy-badge project: the text tasks from "
        "its own "
        "grammar, templates and invented world (the v1 files); the pictures, clips and prompts from its own "
        "seeded generators (energy_badge.media, tools/gen_workloads/captions.py). Nothing was copied from "
        "books, corpora, photo or speech collections, or public datasets.",
        "license": LICENSE,
        "tasks": {task: entries[task] for task in TASKS},
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    return manifest
