"""optimum's ``TasksManager`` tables as energy-badge reads them (energy_badge/run/optimum_table.py).

Nothing is simulated: the shipped table is compared with the live ``TasksManager`` of the installed
optimum (imported for real, once, here), and each function standing for a ``TasksManager`` method
with that method, on every model type transformers implements and on real folders of each library.
The tiny text models are real (tests/tiny_models.py), loaded by the real loader in a fresh Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tiny_models import build_tiny_model

from energy_badge.errors import UsageError
from energy_badge.run import fit, optimum_table
from energy_badge.tasks import task_for_pipeline_tag
from energy_badge.workload import TASKS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def live() -> Any:
    """The installed optimum's ``TasksManager`` (seconds to import: diffusers' pipelines)."""
    return fit.tasks_manager()


def test_the_shipped_table_is_the_installed_optimums(live):
    shipped = (ROOT / "energy_badge" / "data" / optimum_table.TABLE_FILE).read_text(encoding="utf-8")
    assert shipped == optimum_table.encode(optimum_table.snapshot(live)), (
        "energy_badge/data/optimum_tasks.json differs from the installed optimum: "
        "run python -m tools.gen_optimum_table"
    )
    table = optimum_table.table()
    assert dict(table.synonyms) == live._SYNONYM_TASK_MAP
    assert {lib: dict(t) for lib, t in table.loaders.items()} == live._LIBRARY_TO_TASKS_TO_MODEL_LOADER_MAP
    assert dict(table.custom_classes) == live._CUSTOM_CLASSES


def _outcome(call: Any) -> Any:
    try:
        return call()
    except (KeyError, ValueError) as exc:
        return type(exc)


def test_model_class_for_task_is_optimums_for_every_task_and_model_type(live):
    """Every task optimum loads with transformers (and every synonym, custom-class task and -with-past
    form) against every model type transformers implements: the same class, or the same refusal."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    table = optimum_table.table()
    tasks = set(table.loaders["transformers"]) | set(table.synonyms) | {t for _, _, t in table.custom_classes}
    tasks |= {"text-generation-with-past", "no-such-task"}
    model_types = [None, *CONFIG_MAPPING_NAMES, *(m for _, m, _ in table.custom_classes), "no-such-type"]
    compared = 0
    for task in sorted(tasks):
        for model_type in model_types:
            ours = _outcome(lambda: optimum_table.model_class_for_task(task, model_type))  # noqa: B023
            theirs = _outcome(
                lambda: live.get_model_class_for_task(task, model_type=model_type, library="transformers")  # noqa: B023
            )
            assert ours is theirs, (task, model_type, ours, theirs)
            compared += 1
    assert compared > 10_000
    for library in ("transformers", "diffusers", "timm", "sentence_transformers"):
        for task in live._LIBRARY_TO_TASKS_TO_MODEL_LOADER_MAP[library]:
            expected = live._LIBRARY_TO_TASKS_TO_MODEL_LOADER_MAP[library][live.map_from_synonym(task)]
            assert optimum_table.loaders(library, task) == expected
    for synonym in [*live._SYNONYM_TASK_MAP, "text-classification", "unknown"]:
        assert optimum_table.map_from_synonym(synonym) == live.map_from_synonym(synonym)


def _write(folder: Path, files: dict[str, object]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return folder


BERT = {"model_type": "bert", "architectures": ["BertModel"]}
FOLDERS: dict[str, dict[str, object]] = {
    "transformers": {"config.json": BERT},
    "diffusers-index": {"model_index.json": {"_class_name": "StableDiffusionPipeline"}, "config.json": BERT},
    "diffusers-config": {
        "config.json": {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.42"}
    },
    "st-root": {"config.json": BERT, "sentence_bert_config.json": {}},
    "st-config": {"config.json": BERT, "config_sentence_transformers.json": {}},
    "st-nested": {"config.json": BERT, "sentence_x/a.json": {}},
    "timm-cfg": {"config.json": {"architecture": "resnet50", "pretrained_cfg": {}}},
    "timm-arch": {"config.json": {"architecture": "resnet50"}},
    "nested-config-only": {"sub/config.json": BERT},
    "empty": {},
    "not-json": {"config.json": "{not json"},
    "redirected": {
        "config.json": {**BERT, "configuration_files": ["config.json", "config.4.0.0.json"]},
        "config.4.0.0.json": {"architecture": "resnet50", "pretrained_cfg": {}},
    },
}


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_infer_library_is_optimums(live, name, tmp_path):
    folder = _write(tmp_path / name, FOLDERS[name])
    folder.mkdir(exist_ok=True)

    def outcome(call: Any) -> Any:
        try:
            return call()
        except (ValueError, OSError) as exc:
            return OSError if isinstance(exc, OSError) else ValueError

    ours = outcome(lambda: optimum_table.infer_library(folder))
    assert ours == outcome(lambda: live.infer_library_from_model(str(folder)))
    assert ours is not OSError or name == "not-json"


def test_fits_tasks_are_the_workloads_tasks():
    """One list of tasks: the workload's (energy_badge.workload.TASKS), which the loader's table covers."""
    assert fit.TASKS is TASKS
    assert tuple(fit.TASK_MODEL_KINDS) == TASKS


# Every synonym optimum has, and what --task (resolve_task) makes of it: a task, or a refusal. A new
# synonym in optimum fails here until someone decides whether its models fit the workload it maps to.
SYNONYMS = {
    "audio-ctc": "automatic-speech-recognition",
    "causal-lm": "text-generation",
    "causal-lm-with-past": None,
    "default": "refused",
    "default-with-past": None,
    "image-feature-extraction": "refused",
    "mask-generation": "refused",
    "masked-lm": None,
    "latent-consistency": "text-to-image",
    "pretraining": "refused",
    "sentence-similarity": "sentence-similarity",
    "seq2seq-lm": "summarization",
    "seq2seq-lm-with-past": None,
    "sequence-classification": "text-classification",
    "speech2seq-lm": "automatic-speech-recognition",
    "speech2seq-lm-with-past": None,
    "stable-diffusion": "text-to-image",
    "stable-diffusion-xl": "text-to-image",
    "summarization": "summarization",
    "text-to-speech": None,
    "translation": "refused",
    "vision2seq-lm": "image-to-text",
    "zero-shot-classification": "text-classification",
}


def test_every_optimum_synonym_resolves_as_decided(live):
    assert set(SYNONYMS) == set(live._SYNONYM_TASK_MAP)
    for synonym, expected in SYNONYMS.items():
        if expected in TASKS:
            assert fit.resolve_task(synonym) == expected, synonym
            continue
        with pytest.raises(UsageError) as caught:
            fit.resolve_task(synonym)
        message = str(caught.value)
        assert "\n" not in message
        if expected == "refused":
            assert message.startswith(f"unknown task {synonym!r}: {fit.REFUSED_SYNONYMS[synonym]}; choose")
        else:
            assert message.startswith(f"unknown task {synonym!r}; choose")
    assert set(fit.REFUSED_SYNONYMS) == {s for s, e in SYNONYMS.items() if e == "refused"}


@pytest.mark.parametrize("tag", ["image-feature-extraction", "mask-generation", "pretraining", "default"])
def test_task_auto_refuses_tags_optimum_sends_to_feature_extraction_but_not_sentences(tag):
    """An image embedder (or mask generator, pretraining head, optimum's default) is not measured on
    sentences: --task auto gives no task and the reason, and the loader refuses the name in one line."""
    choice = task_for_pipeline_tag(tag)
    assert choice.task is None and choice.reason == f"pipeline tag {tag!r}: {fit.REFUSED_SYNONYMS[tag]}"
    assert "sentence-similarity workload" in choice.reason or tag == "default"
    from energy_badge.run import load_runner

    with pytest.raises(UsageError, match=f"unknown task '{tag}': ") as caught:
        load_runner("no/such-model", tag)  # refused before the model is looked at
    assert "\n" not in str(caught.value)
    assert task_for_pipeline_tag("feature-extraction").task == "sentence-similarity"  # still a text encoder


CHECK_IMPORTS = """
import json, sys
from energy_badge.run import load_runner
from energy_badge.run.fit import check_task_fit, model_class, read_config, resolve_task
from energy_badge.tasks import task_for_pipeline_tag

real, folders = json.loads(sys.argv[1])
loaded = {"loaded": load_runner(real, "text-classification", device="cpu").info.architecture}
for task, folder in folders.items():
    check_task_fit(folder, task)
    loaded[task] = model_class(task, read_config(folder)).__name__
loaded["auto"] = [task_for_pipeline_tag(t).task for t in ("feature-extraction", "text2text-generation")]
loaded["synonym"] = resolve_task("speech2seq-lm")
heavy = sorted(m for m in sys.modules if m.startswith(("optimum.exporters", "diffusers")))
print(json.dumps({"loaded": loaded, "heavy": heavy}))
"""

CONFIGS: dict[str, dict[str, object]] = {
    "text-classification": {
        "config.json": {"model_type": "bert", "architectures": ["BertForSequenceClassification"]}
    },
    "sentence-similarity": {"config.json": BERT, "modules.json": [], "sentence_bert_config.json": {}},
    "question-answering": {
        "config.json": {"model_type": "bert", "architectures": ["BertForQuestionAnswering"]}
    },
    "summarization": {
        "config.json": {"model_type": "bart", "architectures": ["BartForConditionalGeneration"]}
    },
    "text-generation": {"config.json": {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}},
    "image-classification": {
        "config.json": {"model_type": "vit", "architectures": ["ViTForImageClassification"]}
    },
    "object-detection": {"config.json": {"model_type": "detr", "architectures": ["DetrForObjectDetection"]}},
    "automatic-speech-recognition": {"config.json": {"model_type": "whisper"}},
    "image-to-text": {
        "config.json": {"model_type": "blip", "architectures": ["BlipForConditionalGeneration"]}
    },
}


def test_no_task_but_text_to_image_imports_optimums_exporters_or_diffusers(tmp_path):
    """Nothing simulated. In a fresh Python, a real tiny BERT classifier (tests/tiny_models.py) is
    loaded by the real loader, and a config folder of each of the nine other tasks' models is
    checked and mapped to its class: neither ``optimum.exporters.tasks`` (its class body imports
    diffusers' pipelines: seconds) nor diffusers is imported."""
    real = build_tiny_model("text-classification", tmp_path / "real")
    folders = {task: str(_write(tmp_path / task, files)) for task, files in CONFIGS.items()}
    proc = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORTS, json.dumps([str(real), folders])],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["loaded"] == {
        "loaded": "BertForSequenceClassification",
        "text-classification": "AutoModelForSequenceClassification",
        "sentence-similarity": "AutoModel",
        "question-answering": "AutoModelForQuestionAnswering",
        "summarization": "AutoModelForSeq2SeqLM",
        "text-generation": "AutoModelForCausalLM",
        "image-classification": "AutoModelForImageClassification",
        "object-detection": "AutoModelForObjectDetection",
        "automatic-speech-recognition": "AutoModelForSpeechSeq2Seq",
        "image-to-text": "AutoModelForImageTextToText",
        "auto": ["sentence-similarity", "summarization"],
        "synonym": "automatic-speech-recognition",
    }
