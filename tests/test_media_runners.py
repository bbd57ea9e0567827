"""The image, speech and image-generation runners on real tiny models, and through the real CLI.

What is simulated, and only that: the GPU, at the pynvml boundary (tests/fake_nvml.py), and the
meter's time (this process's CPU time; the idle sleep moves it without a wait), in the energy-path
tests. The models are real tiny transformers and a real tiny diffusers pipeline built from configs
in the test (tests/tiny_media_models.py), with their real image processors and feature
extractors; transformers and diffusers run for real, and so do optimum's task tables (read from the
table generated from optimum's TasksManager, held to it by tests/test_optimum_table.py; the live
TasksManager for text-to-image). The runner tests feed
small stand-in inputs (a workload-shaped object with ``input_at``); the CLI tests
run the shipped canonical workloads.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_nvml import FakeGPU, install_fake_nvml
from tiny_media_models import build_media_model

from energy_badge.cli import main
from energy_badge.errors import UnsafeModelError, UsageError, WrongTaskError
from energy_badge.result import load_result
from energy_badge.run import check_task_fit, load_runner
from energy_badge.run.fit import model_class, resolve_task
from energy_badge.run.generation import generation_record
from energy_badge.workload import DiffusionSettings, GenerationSettings

HUNDRED = GenerationSettings(max_new_tokens=100, min_new_tokens=100)
FAST_CLI = [
    "--no-energy",
    "--device",
    "cpu",
    "--warmup",
    "0",
    "--min-window",
    "0.001",
    "--min-repetitions",
    "1",
]


@dataclass(frozen=True)
class Media:
    """A stand-in with what the media runners read from ``energy_badge.workload.Workload``."""

    task: str
    inputs: tuple[Any, ...]
    generation: Any = None
    default_dtype: str = "float32"
    batch_size: int = 1

    @property
    def queries(self) -> tuple[dict[str, str], ...]:
        return tuple({"id": f"{self.task[:3]}-{i}"} for i in range(len(self.inputs)))

    def input_at(self, index: int) -> Any:
        return self.inputs[index]


def images(n: int = 2) -> tuple[Any, ...]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    sizes = [(48, 64), (64, 48), (40, 50)]
    return tuple(Image.fromarray(rng.integers(0, 255, (*sizes[i % 3], 3), dtype=np.uint8)) for i in range(n))


def clips(seconds: tuple[float, ...] = (1.5, 31.0)) -> tuple[Any, ...]:
    import numpy as np

    rng = np.random.default_rng(3)
    return tuple((0.1 * rng.standard_normal(int(s * 16000))).astype(np.float32) for s in seconds)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny models need no intra-op threads: on a busy 2-core machine two contending torch threads
    made a tiny UNet step 30x slower. Speed only; restored after this module."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny model per runner, built once; tests must not modify these folders."""
    root = tmp_path_factory.mktemp("media")
    specs: dict[str, tuple[str, dict[str, str]]] = {
        "vit": ("image-classification", {}),
        "detr": ("object-detection", {}),
        "yolos": ("object-detection", {"arch": "yolos"}),
        "whisper": ("automatic-speech-recognition", {}),
        "wav2vec2": ("automatic-speech-recognition", {"arch": "wav2vec2"}),
        "vit-gpt2": ("image-to-text", {}),
        "sd": ("text-to-image", {}),
    }
    return {name: build_media_model(task, root / name, **kw) for name, (task, kw) in specs.items()}


class Spy:
    """Wraps a processor or tokenizer and counts every call made to it or to its methods."""

    def __init__(self, inner: Any) -> None:
        self.__dict__["_inner"] = inner
        self.__dict__["calls"] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("__call__")
        return self._inner(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if callable(value):

            def wrapped(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return value(*args, **kwargs)

            return wrapped
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)


def prepared(path: Path, workload: Media) -> Any:
    runner = load_runner(str(path), workload.task)
    runner.prepare(workload)
    return runner


def spied_pass(runner: Any) -> tuple[Any, list[str]]:
    """Run one pass with the runner's processor and tokenizer spied on; return stats and the calls."""
    calls: list[str] = []
    spies = {}
    for attr in ("processor", "tokenizer"):
        if getattr(runner, attr) is not None:
            spies[attr] = Spy(getattr(runner, attr))
            setattr(runner, attr, spies[attr])
    try:
        stats = runner.run_pass()
    finally:
        for attr, spy in spies.items():
            calls += [f"{attr}.{c}" for c in spy.calls]
            setattr(runner, attr, spy._inner)
    return stats, calls


# ------------------------------------------------------------------------------------------------
# Task resolution: optimum's TasksManager


def test_model_class_and_fit_come_from_optimum() -> None:
    whisper = {"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"]}
    ctc = {"model_type": "wav2vec2", "architectures": ["Wav2Vec2ForCTC"]}
    assert model_class("automatic-speech-recognition", whisper).__name__ == "AutoModelForSpeechSeq2Seq"
    assert model_class("automatic-speech-recognition", ctc).__name__ == "AutoModelForCTC"
    ved = {"model_type": "vision-encoder-decoder", "architectures": ["VisionEncoderDecoderModel"]}
    blip = {"model_type": "blip", "architectures": ["BlipForConditionalGeneration"]}
    for config in (ved, blip):
        assert model_class("image-to-text", config).__name__ == "AutoModelForImageTextToText"
        check_task_fit(config, "image-to-text")
    check_task_fit({"model_type": "detr", "architectures": ["DetrForObjectDetection"]}, "object-detection")
    check_task_fit({"model_type": "yolos"}, "object-detection")  # no architectures: by model type
    check_task_fit(
        {"model_type": "vit", "architectures": ["ViTForImageClassification"]}, "image-classification"
    )
    check_task_fit(
        {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1"}, "text-to-image"
    )
    refused = [
        ({"model_type": "wav2vec2", "architectures": ["Wav2Vec2Model"]}, "automatic-speech-recognition"),
        (
            {"model_type": "bert", "architectures": ["BertModel"]},
            "image-to-text",
        ),  # optimum's AutoModel fallback
        ({"model_type": "vit", "architectures": ["ViTModel"]}, "image-classification"),
        ({"model_type": "vit", "architectures": ["ViTForImageClassification"]}, "text-to-image"),
        ({"_class_name": "StableDiffusionImg2ImgPipeline", "_diffusers_version": "0.42.1"}, "text-to-image"),
        ({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1"}, "image-classification"),
        (
            {"model_type": "resnet50", "architecture": "resnet50", "pretrained_cfg": {}},
            "image-classification",
        ),
    ]
    for config, task in refused:
        with pytest.raises(WrongTaskError) as caught:
            check_task_fit(config, task)
        assert "\n" not in str(caught.value) and task in str(caught.value)
    # optimum's synonyms name our tasks; a name that is no task, or a translation task, does not.
    assert resolve_task("speech2seq-lm") == resolve_task("audio-ctc") == "automatic-speech-recognition"
    assert resolve_task("vision2seq-lm") == "image-to-text"
    assert resolve_task("stable-diffusion") == "text-to-image"
    assert resolve_task("text2text-generation") == "summarization"
    for name in ("translation", "image-generation", ""):
        with pytest.raises(UsageError, match="unknown task"):
            resolve_task(name)


def test_library_inferred_from_the_folder(media: dict[str, Path]) -> None:
    check_task_fit(media["sd"], "text-to-image")
    with pytest.raises(WrongTaskError, match="diffusers pipeline"):
        check_task_fit(media["sd"], "image-to-text")
    with pytest.raises(WrongTaskError, match="text-to-image"):
        load_runner(str(media["vit"]), "text-to-image")


# ------------------------------------------------------------------------------------------------
# The runners


def test_image_classification(media: dict[str, Path]) -> None:
    runner = prepared(media["vit"], Media("image-classification", images(3)))
    assert runner.info.architecture == "ViTForImageClassification" and runner.info.dtype == "float32"
    stats, calls = spied_pass(runner)
    assert stats.queries == 3 and stats.output_tokens == 0 and len(stats.latencies_s) == 3
    assert calls == [], "preprocessing ran inside the measured pass"
    assert {o["label"] for o in runner.sample_outputs(3)} <= {"cat", "dog", "boat"}
    assert runner.cost_proxy() == ("pixels", [48 * 64.0, 64 * 48.0, 40 * 50.0])
    assert generation_record(runner) is None


@pytest.mark.parametrize("name", ["detr", "yolos"])
def test_object_detection_post_processing_is_outside_the_pass(media: dict[str, Path], name: str) -> None:
    runner = prepared(media[name], Media("object-detection", images(2)))
    stats, calls = spied_pass(runner)
    assert stats.queries == 2 and calls == [], "post-processing or preprocessing ran inside the pass"
    spy = Spy(runner.processor)
    runner.processor = spy
    outputs = runner.sample_outputs(2)
    assert "post_process_object_detection" in spy.calls  # decoded after the window, by the processor
    assert [o["id"] for o in outputs] == ["obj-0", "obj-1"] and all(o["objects"] >= 0 for o in outputs)


def test_whisper_generates_exactly_100_tokens(media: dict[str, Path]) -> None:
    import torch

    runner = prepared(media["whisper"], Media("automatic-speech-recognition", clips(), HUNDRED))
    assert runner.seq2seq and runner.info.architecture == "WhisperForConditionalGeneration"
    assert runner.truncated_queries == 1  # the 31 s clip: Whisper's window is 30 s
    stats, calls = spied_pass(runner)
    assert calls == [], "the feature extractor or tokenizer ran inside the measured pass"
    assert stats.queries == 2 and stats.output_tokens == 200
    with torch.inference_mode():  # the raw sequences: 100 new tokens each, whatever the content
        sequences = runner._forward(runner._batches[0], prefill=False)
    assert sequences.shape[-1] == 100
    record = generation_record(runner)
    assert record is not None and record.get("max_new_tokens") == record.get("min_new_tokens") == 100
    assert record.get("do_sample") is False and record.get("num_beams") == 1
    assert record.get("suppress_tokens") is None and record.get("repetition_penalty") == 1.0
    assert runner.cost_proxy() == ("audio_seconds", [1.5, 31.0])
    assert all(isinstance(o["text"], str) for o in runner.sample_outputs(2))


def test_ctc_is_one_forward(media: dict[str, Path]) -> None:
    runner = prepared(media["wav2vec2"], Media("automatic-speech-recognition", clips((1.0, 2.5)), HUNDRED))
    assert not runner.seq2seq and runner.info.architecture == "Wav2Vec2ForCTC"
    stats, calls = spied_pass(runner)
    assert calls == [] and stats.queries == 2 and stats.output_tokens == 0
    assert generation_record(runner) is None  # a CTC model generates nothing: no generate() config
    assert all(isinstance(o["text"], str) for o in runner.sample_outputs(2))


def test_captioning_generates_exactly_100_tokens(media: dict[str, Path]) -> None:
    import torch

    runner = prepared(media["vit-gpt2"], Media("image-to-text", images(2), HUNDRED))
    assert runner.info.architecture == "VisionEncoderDecoderModel"
    stats, calls = spied_pass(runner)
    assert calls == [], "the image processor or tokenizer ran inside the measured pass"
    assert stats.output_tokens == 200
    with torch.inference_mode():
        sequences = runner._forward(runner._batches[0], prefill=False)
    assert sequences.shape[-1] == 1 + 100  # the decoder's start token, then exactly 100 new ones
    record = generation_record(runner)
    assert record is not None and record.get("max_new_tokens") == record.get("min_new_tokens") == 100
    assert all(isinstance(o["caption"], str) for o in runner.sample_outputs(1))


def test_text_to_image_runs_the_pipeline_steps_with_a_fixed_seed(media: dict[str, Path]) -> None:
    settings = DiffusionSettings(num_inference_steps=4, seed=11)
    runner = prepared(
        media["sd"], Media("text-to-image", ("a red boat on a lake", "two dogs in snow"), settings)
    )
    assert runner.info.architecture == "StableDiffusionPipeline" and runner.info.parameters > 100_000
    unet_calls: list[int] = []
    hook = runner.model.unet.register_forward_hook(lambda *a: unet_calls.append(1))
    tokenizer = Spy(runner.model.tokenizer)
    runner.model.tokenizer = tokenizer
    try:
        stats = runner.run_pass()
    finally:
        hook.remove()
        runner.model.tokenizer = tokenizer._inner
    assert stats.queries == 2 and stats.output_tokens == 0
    # The workload's steps per image (PNDM evaluates the UNet once more than its steps; guidance
    # batches both halves into one call).
    assert runner.model.scheduler.num_inference_steps == 4
    assert len(unet_calls) == 2 * len(runner.model.scheduler.timesteps) == 2 * 5
    # The documented choice: the prompt's tokenization is the pipeline's own, inside the call.
    # (each query: its prompt, the empty negative prompt, and diffusers' own truncation check).
    assert tokenizer.calls.count("__call__") >= 2 * 2
    first, again = runner.sample_outputs(1), runner.sample_outputs(1)
    assert first == again and first[0]["height"] == first[0]["width"] == 16  # default resolution
    with pytest.raises(UsageError, match="num_inference_steps"):
        runner.prepare(Media("text-to-image", ("x",), HUNDRED))


# ------------------------------------------------------------------------------------------------
# Safe loading of a diffusers folder


def test_pipeline_pickle_weights_refused_without_allow_pickle(media: dict[str, Path], tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    path = tmp_path / "sd-pickled"
    shutil.copytree(media["sd"], path)
    weights = path / "unet" / "diffusion_pytorch_model.safetensors"
    torch.save(load_file(str(weights)), path / "unet" / "diffusion_pytorch_model.bin")
    weights.unlink()
    with pytest.raises(UnsafeModelError, match="--allow-pickle") as caught:
        load_runner(str(path), "text-to-image")
    assert "unet" in str(caught.value) and "\n" not in str(caught.value)
    runner = load_runner(str(path), "text-to-image", allow_pickle=True)
    assert (
        runner.info.allow_pickle
        and runner.info.parameters == load_runner(str(media["sd"]), "text-to-image").info.parameters
    )


def test_pipeline_component_code_refused(media: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "sd-custom"
    shutil.copytree(media["sd"], path)
    index = json.loads((path / "model_index.json").read_text())
    index["unet"] = ["my_unet", "MyUNet"]  # a module of the repository, not diffusers or transformers
    (path / "model_index.json").write_text(json.dumps(index))
    (path / "unet" / "my_unet.py").write_text("raise SystemExit('repository code ran')\n")
    with pytest.raises(UnsafeModelError, match="--trust-remote-code"):
        load_runner(str(path), "text-to-image")
    index["_class_name"] = ["pipeline", "MyPipeline"]  # a custom pipeline
    index["unet"] = ["diffusers", "UNet2DConditionModel"]
    (path / "model_index.json").write_text(json.dumps(index))
    with pytest.raises((UnsafeModelError, WrongTaskError)):
        load_runner(str(path), "text-to-image")


def test_pipeline_reads_only_the_checked_files(media: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "sd-extra"
    shutil.copytree(media["sd"], path)
    (path / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"never read: safetensors are there")
    (path / "v1-5-pruned.ckpt").write_bytes(b"a single-file checkpoint, never read")
    runner = load_runner(str(path), "text-to-image")
    assert runner.info.content_sha256 == load_runner(str(media["sd"]), "text-to-image").info.content_sha256
    link = path / "vae" / "diffusion_pytorch_model.safetensors"
    outside = tmp_path / "outside.safetensors"
    shutil.move(str(link), outside)
    link.symlink_to(outside)
    with pytest.raises(UnsafeModelError, match="outside the model folder"):
        load_runner(str(path), "text-to-image")


# ------------------------------------------------------------------------------------------------
# Through the real CLI


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _check_generated_100(data: dict[str, Any]) -> None:
    config = data["workload"]["generation_config"]
    assert config["max_new_tokens"] == config["min_new_tokens"] == 100
    assert data["performance"]["tokens_per_s"] > 0


@pytest.mark.parametrize(
    ("task", "name", "queries"),
    [
        ("image-classification", "vit", 3),
        ("object-detection", "detr", 3),
        ("automatic-speech-recognition", "whisper", 2),
        ("image-to-text", "vit-gpt2", 2),
        ("text-to-image", "sd", 1),
    ],
)
def test_cli_smoke_no_energy(
    media: dict[str, Path], tmp_path: Path, task: str, name: str, queries: int
) -> None:
    """Nothing simulated: a performance-only run of the canonical workload's first queries on the CPU."""
    out = tmp_path / "r.json"
    code, stdout, stderr = run_cli(
        "measure", str(media[name]), "--task", task, "--queries", str(queries), *FAST_CLI, "-o", str(out)
    )
    assert code == 0, stderr
    result = load_result(out)  # validated against the schema and the policy
    data = json.loads(out.read_text("utf-8"))
    assert result.task == task and data["workload"]["queries"] == queries
    assert data["measurement"]["meter"] == "none" and data["energy"]["gpu"] is None
    assert data["performance"]["queries_per_s"] > 0
    if task in ("automatic-speech-recognition", "image-to-text"):
        _check_generated_100(data)
    else:
        assert (
            data["performance"]["tokens_per_s"] is None and data["workload"].get("generation_config") is None
        )
    if task == "text-to-image":
        assert data["workload"]["generation"]["num_inference_steps"] == 30
        assert data["workload"]["generation"]["num_images_per_prompt"] == 1
    assert "preprocessing" in stderr and "result written to" in stdout


def _count_unet_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count every forward call of diffusers' UNet (it still runs for real)."""
    from diffusers import UNet2DConditionModel

    calls: list[int] = []
    forward = UNet2DConditionModel.forward

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(UNet2DConditionModel, "forward", counted)
    return calls


def _timesteps(model: Path, steps: int) -> int:
    """How many UNet evaluations the model's own scheduler makes for ``steps`` inference steps."""
    import diffusers

    config = json.loads((model / "scheduler" / "scheduler_config.json").read_text("utf-8"))
    scheduler = getattr(diffusers, config["_class_name"]).from_pretrained(model / "scheduler")
    scheduler.set_timesteps(steps)
    return len(scheduler.timesteps)


@pytest.mark.parametrize(
    ("task", "name", "queries"),
    [
        ("image-classification", "vit", 2),
        ("object-detection", "detr", 2),
        ("automatic-speech-recognition", "whisper", 2),
        ("image-to-text", "vit-gpt2", 2),
        ("text-to-image", "sd", 1),
    ],
)
def test_cli_energy_path_on_simulated_gpu(
    media: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    task: str,
    name: str,
    queries: int,
) -> None:
    """Simulated: one H100 drawing a constant 250 W (tests/fake_nvml.py), and the meter's time: its
    clock is this process's CPU time, the idle sample's sleep moves it without waiting, and the fake
    NVML integrates power over the same clock (``CPUClock`` in tests/fake_clock.py). A real tiny
    model of each task runs the canonical workload's first queries on the CPU through the real CLI,
    Zeus and the meter's loop; each window's energy must be 250 W x its seconds, and the result must
    record what the task generated (100 tokens a query; the diffusion settings, and ran them)."""
    from fake_clock import CPUClock

    clock = CPUClock()
    monkeypatch.setattr("energy_badge.meter.energy.SYSTEM_CLOCK", clock)
    install_fake_nvml(
        monkeypatch, gpus=[FakeGPU(name="NVIDIA H100 80GB HBM3", power_trace=250.0)], clock=clock
    )
    unet_calls = _count_unet_calls(monkeypatch) if task == "text-to-image" else []
    out = tmp_path / "r.json"
    code, _, stderr = run_cli(
        "measure", str(media[name]), "--task", task, "--device", "cpu", "--queries", str(queries),
        "--max-repetitions", "2", "--min-repetitions", "2", "--min-window", "0.1", "--idle-seconds", "0.2",
        "--warmup", "0", "--target-ci", "0.0001", "-o", str(out),
    )  # fmt: skip
    # A 0.0001 % target: two windows of CPU time never agree that closely, so the rule runs both and
    # stops at max_repetitions (with 1 %, two windows a few 0.01 % apart met it once under load).
    assert code == 0, stderr
    result = load_result(out)  # validated against the schema and the policy
    data = json.loads(out.read_text("utf-8"))
    assert result.task == data["task"] == task and data["workload"]["queries"] == queries
    measurement = data["measurement"]
    assert measurement["meter"] == "zeus" and measurement["stopped_because"] == "max_repetitions"
    idle = measurement["idle"]
    assert idle["seconds"] == pytest.approx(0.2, abs=0.01)  # simulated: no real wait
    assert idle["gpu_power_w"] == pytest.approx(250.0, rel=0.02)
    repetitions = measurement["repetitions"]
    assert len(repetitions) == 2
    for rep in repetitions:
        assert rep["seconds"] >= 0.1 and rep["queries"] == queries * rep["passes"]
        assert rep["gpu_energy_j"] == pytest.approx(250.0 * rep["seconds"], rel=0.02)
    # The headline: each repetition's joules per query, as Wh per 1000 queries.
    per_1k = [rep["gpu_energy_j"] / rep["queries"] / 3.6 for rep in repetitions]
    assert data["energy"]["gpu"]["samples"] == pytest.approx(per_1k, rel=1e-9)
    assert result.gpu_energy is not None and result.gpu_energy.mean == pytest.approx(sum(per_1k) / 2)
    assert "the model ran on cpu, not on the metered GPU" in data["non_canonical_reasons"]
    performance = data["performance"]
    if task in ("automatic-speech-recognition", "image-to-text"):
        _check_generated_100(data)
        assert performance["tokens_per_s"] / performance["queries_per_s"] == pytest.approx(100.0)
    else:
        assert performance["tokens_per_s"] is None and data["workload"].get("generation_config") is None
    if task == "text-to-image":
        generation = data["workload"]["generation"]
        assert generation["num_inference_steps"] == 30 and generation["num_images_per_prompt"] == 1
        assert generation["seed"] == 0
        # Every image generated (the warm-up's, the repetitions') ran the 30 steps, and no other ran.
        images = measurement["warmup_queries"] + sum(rep["queries"] for rep in repetitions)
        assert images >= 3 and len(unet_calls) == images * _timesteps(media[name], 30)


def test_pipeline_from_the_hub_downloads_only_what_it_reads(
    media: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated: the Hub, as a loopback server (tests/hub_server.py) that the real huggingface_hub
    client talks to. A pipeline repository with extra files: only model_index.json, the components'
    configs and tokenizer files and their safetensors weights are downloaded, pinned to the commit."""
    from hub_server import folder_files, running_hub

    with running_hub(monkeypatch, tmp_path) as hub:
        hub.add_user("alice", "hf_aliceToken0123456789abcdef")
        files = folder_files(media["sd"])
        files.update(
            {
                "README.md": b"# tiny sd\n",
                "unet/diffusion_pytorch_model.bin": b"never downloaded",
                "v1-5-pruned.ckpt": b"never downloaded",
            }
        )
        hub.create_repo("alice/tiny-sd", files)
        runner = load_runner("alice/tiny-sd", "text-to-image", endpoint=hub.url, cache_dir=tmp_path / "cache")
        assert runner.info.source == "hub" and runner.info.revision == hub.head("alice/tiny-sd")
        assert runner.info.architecture == "StableDiffusionPipeline"
        for unwanted in (r"README\.md", r"\.bin", r"\.ckpt"):
            assert hub.count("GET", rf"/resolve/.*{unwanted}$") == 0, unwanted
        assert hub.count("GET", r"/resolve/.*unet/diffusion_pytorch_model\.safetensors$") == 1
        assert hub.count("GET", r"/resolve/.*scheduler/scheduler_config\.json$") == 1
