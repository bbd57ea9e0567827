"""The media workloads (images, speech, prompts): pinned decoded inputs, what they look like, their
distributions against the manifest, subsets, inputs from elsewhere, and the ten-task listing.

Nothing is simulated: the shipped specs are decoded by the real generators (numpy, Pillow). Tests
decode samples, not all 3000 inputs; ``python -m tools.gen_workloads --check`` decodes every one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from energy_badge import media
from energy_badge import workload as wl
from energy_badge.errors import InvalidFileError, UsageError
from energy_badge.media.bits import GOLDEN, Bits, splitmix64
from energy_badge.workload import (
    AUDIO_SAMPLING_RATE,
    MEDIA_TASKS,
    TASKS,
    DiffusionSettings,
    GenerationSettings,
    Workload,
    generation_from_dict,
    load_workload,
    media_sha256_of,
    verify,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "energy_badge" / "data" / "workloads"
IMAGE_TASKS = ("image-classification", "object-detection", "image-to-text")
SAMPLE = (0, 1, 137, 499, 998)


def raw_sha(value: Any) -> str:
    """sha256 of an input's raw bytes, computed here independently of energy_badge.media."""
    if isinstance(value, Image.Image):
        return hashlib.sha256(np.asarray(value.convert("RGB"), dtype=np.uint8).tobytes()).hexdigest()
    return hashlib.sha256(np.asarray(value, dtype="<f4").tobytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# The API and the manifest.


@pytest.mark.parametrize("task", MEDIA_TASKS)
def test_each_media_workload_has_1000_queries_and_the_ai_energy_score_settings(task: str) -> None:
    w = load_workload(task)
    assert w.task == task and len(w) == 1000 and w.batch_size == 1 and w.is_canonical
    assert w.name == f"energy-badge/{task}" and w.version == "1.0.0" and w.default_dtype == "float32"
    assert len({q["id"] for q in w.queries}) == 1000
    expected = {
        "image-classification": None,
        "object-detection": None,
        "automatic-speech-recognition": GenerationSettings(100, 100, False, 1),
        "image-to-text": GenerationSettings(100, 100, False, 1),
        "text-to-image": DiffusionSettings(num_inference_steps=30, num_images_per_prompt=1, seed=0),
    }[task]
    assert w.generation == expected
    assert w.to_dict()["generation"] == (expected.to_dict() if expected else None)
    assert w.kind == {"automatic-speech-recognition": "audio", "text-to-image": "text"}.get(task, "image")
    assert (
        w.sampling_rate == (AUDIO_SAMPLING_RATE if w.kind == "audio" else None)
        and AUDIO_SAMPLING_RATE == 16000
    )
    assert wl.canonical_spec(task).sha256 == w.sha256 == w.manifest["sha256"]


def test_settings_read_back_and_bad_ones_are_refused() -> None:
    d = DiffusionSettings(num_inference_steps=30, seed=7)
    assert generation_from_dict(d.to_dict()) == d
    g = GenerationSettings(100, 100)
    assert generation_from_dict(g.to_dict()) == g
    for bad in ({"num_inference_steps": "30"}, {"num_inference_steps": 30, "guidance_scale": True}, {}, []):
        with pytest.raises(InvalidFileError):
            generation_from_dict(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("task", MEDIA_TASKS)
def test_inputs_decode_to_the_documented_types(task: str) -> None:
    w = load_workload(task)
    for i in (0, 999):
        value, q = w.input_at(i), w.queries[i]
        if task in IMAGE_TASKS:
            assert isinstance(value, Image.Image) and value.mode == "RGB"
            assert value.size == (q["image"]["width"], q["image"]["height"])
            assert raw_sha(value) == q["sha256"]
        elif task == "automatic-speech-recognition":
            assert isinstance(value, np.ndarray) and value.dtype == np.float32 and value.ndim == 1
            assert value.shape == (q["audio"]["samples"],) and np.abs(value).max() <= 1.0
            assert raw_sha(value) == q["sha256"]
        else:
            assert isinstance(value, str) and value == q["prompt"]


def test_text_tasks_give_their_text_and_pairs_give_tuples() -> None:
    assert load_workload("summarization").input_at(3) == load_workload("summarization").queries[3]["document"]
    q = load_workload("question-answering").queries[5]
    assert load_workload("question-answering").input_at(5) == (q["question"], q["context"])


def test_importing_and_loading_does_not_import_numpy_or_pillow() -> None:
    code = (
        "import sys, energy_badge.workload as w\n"
        "[w.load_workload(t) for t in w.TASKS]\n"
        "print(sorted(m for m in ('numpy', 'PIL', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_tasks_command_lists_the_ten_tasks() -> None:
    from energy_badge.cli import main

    done = CliRunner().invoke(main, ["tasks", "--json"])
    assert done.exit_code == 0, done.output
    listed = json.loads(done.output)
    assert [w["task"] for w in listed] == list(TASKS) and len(TASKS) == 10
    assert {w["task"]: w["version"] for w in listed}["summarization"] == "2.0.0"
    table = CliRunner().invoke(main, ["tasks"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "30 steps, 1 image, seed 0" in table.output
    assert f"{load_workload('image-to-text').sha256}  image-to-text" in table.output


# ---------------------------------------------------------------------------------------------
# Hashes: the decoded inputs are pinned, reproducibly.


def test_the_bit_stream_is_splitmix64() -> None:
    # SplitMix64 seeded with 0: its first output is mix(0 + GOLDEN) = 0xE220A8397B1DCDAF.
    assert int(splitmix64(np.array([GOLDEN], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF
    a, b = Bits("k"), Bits("k")
    assert [a.word() for _ in range(4)] + [int(x) for x in a.words(3)] == [int(x) for x in b.words(7)]
    assert Bits("k").words(5).tolist() != Bits("l").words(5).tolist()


@pytest.mark.parametrize("task", ["image-classification", "automatic-speech-recognition"])
def test_decoded_inputs_are_the_same_in_a_fresh_process(task: str) -> None:
    code = (
        "import hashlib, json, sys, numpy as np\n"
        "from energy_badge.workload import load_workload\n"
        f"w = load_workload({task!r})\n"
        "digest = lambda x: hashlib.sha256(np.asarray(x).tobytes()).hexdigest()\n"
        f"print(json.dumps([digest(w.input_at(i)) for i in {SAMPLE!r}]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    fresh = json.loads(out.stdout)
    w = load_workload(task)
    assert fresh == [w.queries[i]["sha256"] for i in SAMPLE] == [raw_sha(w.input_at(i)) for i in SAMPLE]


def test_the_workload_hash_is_the_documented_lines_over_the_pinned_digests() -> None:
    w = load_workload("automatic-speech-recognition")
    lines = "".join(
        f"{q['id']}\taudio\t{q['audio']['samples']}\tfloat32\t{q['sha256']}\n" for q in w.queries
    ).encode()
    assert hashlib.sha256(lines).hexdigest() == w.sha256 == media_sha256_of("audio", w.queries)
    img = load_workload("object-detection")
    q = img.queries[0]
    first = f"{q['id']}\timage\t{q['image']['height']}x{q['image']['width']}x3\tuint8\t{q['sha256']}\n"
    assert img.subset(1).sha256 == hashlib.sha256(first.encode()).hexdigest()


def test_a_whole_workload_verifies_and_a_changed_pixel_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """verify() decodes every input of the text-to-image workload and of an image subset; then a
    renderer that draws one pixel differently (as another numpy or Pillow might) is caught at the
    first input, with the query named."""
    verify(load_workload("text-to-image"))
    w = load_workload("image-classification").subset(40)
    verify(w)
    from energy_badge.media import image

    real = image.render

    def off_by_one(*args: Any) -> Any:
        pixels = real(*args)
        pixels[0, 0, 0] ^= 1
        return pixels

    monkeypatch.setattr(image, "render", off_by_one)
    with pytest.raises(InvalidFileError, match="ic-0001 decoded to different image data"):
        verify(w)


def test_a_tampered_spec_or_digest_is_refused_on_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(DATA, tmp_path, dirs_exist_ok=True)
    monkeypatch.setattr(wl, "_data_root", lambda: tmp_path)
    path = tmp_path / "v2" / "image-to-text.jsonl.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    record = json.loads(lines[3])
    record["image"]["seed"] += 1
    lines[3] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(wl.gzip_bytes(data))
    with pytest.raises(InvalidFileError, match="does not match its manifest"):
        load_workload("image-to-text")
    # The manifest's file hash updated too: the record's digest no longer matches the new seed.
    manifest = json.loads((tmp_path / "v2" / "manifest.json").read_text())
    manifest["tasks"]["image-to-text"]["file_sha256"] = hashlib.sha256(data).hexdigest()
    (tmp_path / "v2" / "manifest.json").write_text(json.dumps(manifest))
    wl._manifest.cache_clear()
    wl._load.cache_clear()
    w = load_workload("image-to-text")
    assert w.input_at(2) is not None
    with pytest.raises(InvalidFileError, match="itt-0004 decoded to different image data"):
        w.input_at(3)
    wl._manifest.cache_clear()
    wl._load.cache_clear()


def test_subsets_hash_their_own_inputs() -> None:
    w = load_workload("object-detection")
    sub = w.subset(10)
    assert len(sub) == 10 and sub.queries == w.queries[:10] and not sub.is_canonical
    assert sub.sha256 != w.sha256 and sub.sha256 == media_sha256_of("image", w.queries[:10])
    assert w.subset(10).sha256 == sub.sha256 != w.subset(11).sha256
    assert raw_sha(sub.input_at(9)) == w.queries[9]["sha256"]
    with pytest.raises(UsageError):
        w.subset(1001)


# ---------------------------------------------------------------------------------------------
# Inputs from elsewhere (the optional AI Energy Score datasets).


def test_inputs_given_decoded_hash_by_the_same_definition() -> None:
    w = load_workload("image-to-text")
    pictures = [w.input_at(i) for i in range(3)]
    ids = [q["id"] for q in w.queries[:3]]
    given = Workload.from_inputs(
        task="image-to-text", name="x/y", version="0.0.1", inputs=pictures, ids=ids, source="test"
    )
    assert given.sha256 == w.subset(3).sha256  # the same pixels under the same ids: the same hash
    assert given.input_at(1) is pictures[1] and given.generation == w.generation
    assert given.to_dict()["source"] == "test" and given.subset(2).decoded == tuple(pictures[:2])
    as_arrays = Workload.from_inputs(
        task="image-to-text", name="x/y", version="0.0.1", inputs=[np.asarray(p) for p in pictures], ids=ids,
        source="test", sha256=given.sha256,
    )  # fmt: skip
    assert as_arrays.sha256 == given.sha256
    with pytest.raises(InvalidFileError, match="expected"):
        Workload.from_inputs(task="image-to-text", name="x", version="0.0.1", inputs=pictures, source="t",
                             sha256="0" * 64)  # fmt: skip
    clip = load_workload("automatic-speech-recognition").input_at(0)
    audio = Workload.from_inputs(
        task="automatic-speech-recognition", name="x", version="0.0.1", inputs=[clip.astype(np.float64)],
        ids=["asr-0001"], source="t",
    )  # fmt: skip
    assert audio.sha256 == load_workload("automatic-speech-recognition").subset(1).sha256
    assert audio.input_at(0).dtype == np.float32
    for task, bad in (("image-to-text", [clip]), ("automatic-speech-recognition", pictures[:1])):
        with pytest.raises(UsageError):
            Workload.from_inputs(task=task, name="x", version="0.0.1", inputs=bad, source="t")
    with pytest.raises(UsageError):
        Workload.from_inputs(task="image-to-text", name="x", version="0.0.1", inputs=[], source="t")


# ---------------------------------------------------------------------------------------------
# The pictures look like pictures.


def picture_problems(pixels: np.ndarray) -> list[str]:
    """Why an RGB picture does not look like things on a background (empty: nothing found)."""
    problems = []
    grey = pixels.astype(np.float64).mean(axis=2)
    a, b = grey[:, :-1].ravel(), grey[:, 1:].ravel()
    if a.std() < 5:
        problems.append(f"flat: brightness std {a.std():.1f}")
    else:
        corr = float(np.corrcoef(a, b)[0, 1])
        if corr < 0.9:
            problems.append(f"noisy: neighbouring pixels correlate {corr:.2f}")
    coarse = Counter(map(tuple, (pixels[::4, ::4] // 32).reshape(-1, 3).tolist()))
    regions = [n for n in coarse.values() if n >= 0.01 * sum(coarse.values())]
    if len(regions) < 5:
        problems.append(f"only {len(regions)} colour regions")
    return problems


def test_the_picture_checker_tells_pictures_from_noise_and_flat_fills() -> None:
    words = Bits("noise").words(120 * 160 * 3 // 8 + 1)
    noise = words.astype("<u8").view(np.uint8)[: 120 * 160 * 3].reshape(120, 160, 3)
    assert any("noisy" in p for p in picture_problems(noise))
    assert picture_problems(np.full((120, 160, 3), 128, dtype=np.uint8))
    ramp = np.repeat(np.arange(160, dtype=np.uint8)[None, :, None], 120, axis=0).repeat(3, axis=2)
    assert any("regions" in p for p in picture_problems(ramp // 4 + 100))


@pytest.mark.parametrize("task", IMAGE_TASKS)
def test_pictures_are_things_on_backgrounds_not_noise(task: str) -> None:
    w = load_workload(task)
    for i in range(0, 1000, 125):
        pixels = np.asarray(w.input_at(i))
        assert picture_problems(pixels) == [], (w.queries[i]["id"], w.queries[i]["image"])
    # Different pictures, not one picture repeated.
    assert len({w.queries[i]["sha256"] for i in range(1000)}) == 1000


def test_the_three_image_workloads_draw_different_pictures() -> None:
    digests = [{q["sha256"] for q in load_workload(t).queries} for t in IMAGE_TASKS]
    assert not (digests[0] & digests[1]) and not (digests[1] & digests[2]) and not (digests[0] & digests[2])


@pytest.mark.parametrize("task", IMAGE_TASKS)
def test_picture_sizes_match_the_manifest_and_the_sources(task: str) -> None:
    w = load_workload(task)
    stats = w.manifest["input_stats"]
    sizes = Counter(f"{q['image']['width']}x{q['image']['height']}" for q in w.queries)
    named = {k: v for k, v in stats["sizes"].items() if k != "other"}
    assert all(sizes[k] == v for k, v in named.items())
    assert sum(named.values()) + stats["sizes"]["other"] == 1000 and stats["distinct_sizes"] == len(sizes)
    assert stats["scenes"] == dict(sorted(Counter(q["image"]["scene"] for q in w.queries).items()))
    top = sizes.most_common(1)[0][0]
    headline = sum(sizes[k] for k in ("640x480", "480x640", "640x427", "500x375"))
    if task == "image-classification":
        assert top == "500x375" and stats["scenes"]["object"] >= 700
    else:
        assert top == "640x480" and headline >= 500
    assert len(sizes) >= 20 and 50 <= stats["sizes"]["other"] <= 200  # a spread of other sizes
    for share_key, share in stats["sizes_drawn_from"].items():
        drawn = sizes[share_key] if share_key != "other" else stats["sizes"]["other"]
        assert abs(drawn / 1000 - share) < 0.05, (share_key, drawn, share)


# ---------------------------------------------------------------------------------------------
# The clips sound like speech.


def frame_kinds(x: np.ndarray) -> tuple[Counter[str], list[float]]:
    """Label 32 ms frames silent / voiced / unvoiced, and give the voiced frames' pitch in Hz."""
    size, kinds, pitches = 512, Counter[str](), []
    peak = float(np.abs(x).max()) or 1.0
    for start in range(0, len(x) - size, size):
        f = x[start : start + size].astype(np.float64)
        rms = float(np.sqrt(np.mean(f * f)))
        if rms < peak * 0.01:
            kinds["silent"] += 1
            continue
        f = f - f.mean()
        ac = np.correlate(f, f, "full")[size - 1 :]
        lo, hi = AUDIO_SAMPLING_RATE // 400, AUDIO_SAMPLING_RATE // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        crossings = float(np.mean(np.abs(np.diff(np.sign(f))) > 0))
        if ac[lag] > 0.5 * ac[0]:
            kinds["voiced"] += 1
            pitches.append(AUDIO_SAMPLING_RATE / lag)
        elif crossings > 0.25:
            kinds["unvoiced"] += 1
        else:
            kinds["other"] += 1
    return kinds, pitches


def speech_problems(x: np.ndarray) -> list[str]:
    """Why a clip does not sound like speech (empty: nothing found)."""
    kinds, pitches = frame_kinds(x)
    total = sum(kinds.values()) or 1
    problems = []
    if not 0.05 <= kinds["silent"] / total <= 0.6:
        problems.append(f"silent frames {kinds['silent'] / total:.0%}")
    if kinds["voiced"] / total < 0.25:
        problems.append(f"voiced frames {kinds['voiced'] / total:.0%}")
    if kinds["unvoiced"] / total < 0.02:
        problems.append(f"unvoiced frames {kinds['unvoiced'] / total:.0%}")
    if pitches:
        median = statistics.median(pitches)
        if not 70 <= median <= 300:
            problems.append(f"median pitch {median:.0f} Hz")
        if statistics.pstdev(pitches) / median < 0.04:
            problems.append("a flat pitch")
    return problems


def test_the_speech_checker_tells_speech_from_a_tone_and_noise() -> None:
    t = np.arange(5 * AUDIO_SAMPLING_RATE) / AUDIO_SAMPLING_RATE
    tone = (0.5 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    assert speech_problems(tone)
    noise = (Bits("n").uniform(len(t)) - 0.5).astype(np.float32)
    assert speech_problems(noise)


def test_clips_have_voiced_unvoiced_and_silent_parts_and_a_speech_pitch() -> None:
    w = load_workload("automatic-speech-recognition")
    medians: dict[str, list[float]] = {"low": [], "high": []}
    for voice in medians:
        for i in [i for i, q in enumerate(w.queries) if q["audio"]["voice"] == voice][:3]:
            x = w.input_at(i)
            assert speech_problems(x) == [], w.queries[i]
            medians[voice].append(statistics.median(frame_kinds(x)[1]))
    assert max(medians["low"]) < min(medians["high"]), medians


def test_clip_durations_match_the_manifest_and_librispeech() -> None:
    w = load_workload("automatic-speech-recognition")
    seconds = [q["audio"]["samples"] / AUDIO_SAMPLING_RATE for q in w.queries]
    stats = w.manifest["input_stats"]
    assert stats["seconds"]["mean"] == round(statistics.fmean(seconds), 2)
    assert (stats["seconds"]["min"], stats["seconds"]["max"]) == (
        round(min(seconds), 2),
        round(max(seconds), 2),
    )
    assert 11 <= statistics.fmean(seconds) <= 13 and min(seconds) >= 2 and max(seconds) <= 35
    assert sum(s < 5 for s in seconds) >= 50 and sum(s > 20 for s in seconds) >= 50  # a spread
    assert Counter(q["audio"]["voice"] for q in w.queries).most_common()[-1][1] >= 400


# ---------------------------------------------------------------------------------------------
# Prompts.


def test_prompts_are_distinct_caption_length_sentences() -> None:
    w = load_workload("text-to-image")
    prompts = [q["prompt"] for q in w.queries]
    words = [len(p.split()) for p in prompts]
    assert len(set(prompts)) == 1000 and all(p.isascii() for p in prompts)
    assert all(p[0].isupper() and p.endswith(".") and "  " not in p for p in prompts)
    assert 9 <= statistics.fmean(words) <= 13 and min(words) >= 4 and max(words) <= 30
    assert w.manifest["input_stats"]["words"]["mean"] == round(statistics.fmean(words), 2)
    assert len({p.split()[1] for p in prompts}) >= 30  # many subjects
    assert media.AUDIO_SAMPLING_RATE == AUDIO_SAMPLING_RATE
