"""Which models fit which task, decided from the model's config files alone (before any weight is read).

The task's model class comes from optimum's ``TasksManager`` (``optimum.exporters.tasks``): task
synonyms (``summarization`` is ``text2text-generation``, ``sentence-similarity`` is
``feature-extraction``, ``speech2seq-lm`` and ``audio-ctc`` are ``automatic-speech-recognition``...),
the transformers Auto class of a task and model type (``AutoModelForSpeechSeq2Seq`` for Whisper,
``AutoModelForCTC`` for wav2vec2; ``AutoModelForImageTextToText`` for BLIP and
vision-encoder-decoder captioners), the diffusers pipelines of ``text-to-image``, and the library a
folder belongs to (transformers, diffusers, sentence-transformers, timm). This module only adds what
a *measurement* needs on top: the words of the refusals, and one narrowing (an image-to-text model
must generate, so optimum's ``AutoModel`` fallback for that task does not count).

The check is by name: the architecture listed in ``config.json`` must be one of the classes the
task's Auto class would build for it, or a diffusers pipeline's ``_class_name`` (``model_index.json``)
one of optimum's text-to-image pipelines. For a model whose code lives in its repository
(``auto_map``), the mapping is replaced by the ``auto_map`` entry for the task's Auto class, and the
model needs ``--trust-remote-code`` to run at all.

optimum's ``TasksManager`` takes seconds to import (its class body imports diffusers' pipelines), so
the tables it holds are read from a copy generated from it and checked against it by the tests
(:mod:`energy_badge.run.optimum_table`); the live ``TasksManager`` is imported only for the diffusers
pipelines of ``text-to-image`` (:func:`text_to_image_pipelines`), whose run imports them anyway.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from energy_badge.errors import InvalidFileError, ModelNotFoundError, UsageError, WrongTaskError
from energy_badge.run import optimum_table
from energy_badge.workload import TASKS

if TYPE_CHECKING:
    from transformers import PretrainedConfig

#: The library names optimum's ``TasksManager`` infers.
LIBRARIES = ("transformers", "diffusers", "sentence_transformers", "timm")


@dataclass(frozen=True)
class TaskModelKind:
    """What kind of model a task needs (the class itself comes from optimum's ``TasksManager``).

    Attributes:
        library: the library that runs it: ``"transformers"`` or ``"diffusers"``.
        description: a short phrase for error messages and docs.
        examples: example architecture (or pipeline) names.
        generates: the model must generate text (narrows optimum's loaders to generating ones).
    """

    library: str
    description: str
    examples: tuple[str, ...]
    generates: bool = False

    @property
    def auto_classes(self) -> tuple[str, ...]:
        """The Auto classes (or diffusers auto pipeline) optimum's ``TasksManager`` loads the task with.

        ``automatic-speech-recognition`` has two (``AutoModelForSpeechSeq2Seq``,
        ``AutoModelForCTC``), chosen by model type; every other task has one here.
        """
        return _loaders(self)

    @property
    def auto_class(self) -> str:
        """The first of :attr:`auto_classes`."""
        return self.auto_classes[0]


TASK_MODEL_KINDS: dict[str, TaskModelKind] = {
    "text-classification": TaskModelKind(
        "transformers",
        "a sequence classifier (...ForSequenceClassification)",
        ("BertForSequenceClassification", "DistilBertForSequenceClassification"),
    ),
    "sentence-similarity": TaskModelKind(
        "transformers",
        "a text encoder giving sentence embeddings (a base model such as BertModel, "
        "or a sentence-transformers folder)",
        ("BertModel", "MPNetModel", "XLMRobertaModel", "T5EncoderModel"),
    ),
    "question-answering": TaskModelKind(
        "transformers",
        "an extractive question-answering model (...ForQuestionAnswering)",
        ("BertForQuestionAnswering", "RobertaForQuestionAnswering"),
    ),
    "summarization": TaskModelKind(
        "transformers",
        "an encoder-decoder seq2seq LM (...ForConditionalGeneration such as BART, T5, Pegasus)",
        ("BartForConditionalGeneration", "T5ForConditionalGeneration"),
        generates=True,
    ),
    "text-generation": TaskModelKind(
        "transformers",
        "a causal (decoder-only) LM (...ForCausalLM / ...LMHeadModel)",
        ("LlamaForCausalLM", "GPT2LMHeadModel", "Qwen2ForCausalLM"),
        generates=True,
    ),
    "image-classification": TaskModelKind(
        "transformers",
        "an image classifier (...ForImageClassification such as ViT, ResNet, ConvNeXt)",
        ("ViTForImageClassification", "ResNetForImageClassification", "ConvNextForImageClassification"),
    ),
    "object-detection": TaskModelKind(
        "transformers",
        "an object detector (...ForObjectDetection such as DETR, YOLOS, RT-DETR)",
        ("DetrForObjectDetection", "YolosForObjectDetection", "RTDetrForObjectDetection"),
    ),
    "automatic-speech-recognition": TaskModelKind(
        "transformers",
        "a speech recognizer (a seq2seq model such as Whisper, or a CTC model such as wav2vec2)",
        ("WhisperForConditionalGeneration", "Wav2Vec2ForCTC"),
    ),
    "image-to-text": TaskModelKind(
        "transformers",
        "an image captioner that generates text (BLIP, GIT, a ViT-GPT2 VisionEncoderDecoderModel)",
        ("BlipForConditionalGeneration", "GitForCausalLM", "VisionEncoderDecoderModel"),
        generates=True,
    ),
    "text-to-image": TaskModelKind(
        "diffusers",
        "a diffusers text-to-image pipeline (model_index.json, e.g. StableDiffusionPipeline)",
        ("StableDiffusionPipeline", "StableDiffusionXLPipeline"),
    ),
}
"""What each task needs, keyed by task name."""

# TASKS (the tasks with a canonical workload) is energy_badge.workload's; TASK_MODEL_KINDS has one
# entry for each, in the same order (tests/test_optimum_table.py).

# Sentence-transformers folders mark themselves with this file; diffusers pipelines with this one.
ST_MODULES_FILE = "modules.json"
MODEL_INDEX_FILE = "model_index.json"

#: optimum's synonyms whose models the workload of the task they map to does not measure, and why: a
#: translation model is a text2text-generation model, but translating is not summarizing; optimum
#: sends image embedders, mask generators, pretraining heads and its ``default`` to
#: ``feature-extraction``, whose workload here embeds sentences. ``--task auto`` gives these reasons
#: for such Hub pipeline tags (:func:`energy_badge.tasks.task_for_pipeline_tag`).
REFUSED_SYNONYMS: Mapping[str, str] = {
    "translation": "translation models are not measured on the summarization workload",
    "image-feature-extraction": "image embedders are not measured on the sentence-similarity workload "
    "(it embeds sentences)",
    "mask-generation": "mask generators are not measured on the sentence-similarity workload "
    "(it embeds sentences)",
    "pretraining": "pretraining checkpoints are not measured on the sentence-similarity workload "
    "(it embeds sentences)",
    "default": "optimum's default task names no workload (its models need not embed sentences)",
}


#: Loggers that report, while optimum imports diffusers and torchao, optional kernels this machine
#: lacks (CUDA-only torchao extensions, torch.compile notices): noise on a measurement's terminal.
_IMPORT_NOISE = ("torchao", "torch.utils._pytree", "diffusers", "optimum")


@functools.cache
def tasks_manager() -> Any:
    """optimum's live ``TasksManager`` (imported on first use: it takes seconds, quietly).

    Only the diffusers side needs it (:func:`text_to_image_pipelines`, the text-to-image runner);
    everything else reads :mod:`energy_badge.run.optimum_table`.
    """
    import logging

    loggers = [logging.getLogger(name) for name in _IMPORT_NOISE]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        from optimum.exporters.tasks import TasksManager
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    return TasksManager


def optimum_task(task: str) -> str:
    """optimum's name for ``task`` (``summarization`` -> ``text2text-generation``)."""
    return optimum_table.map_from_synonym(task)


def _loaders(kind: TaskModelKind) -> tuple[str, ...]:
    task = next(t for t, k in TASK_MODEL_KINDS.items() if k is kind)
    loaders = optimum_table.loaders(kind.library, task)
    names = (loaders,) if isinstance(loaders, str) else tuple(loaders)
    if kind.generates and len(names) > 1:
        names = names[:1]  # image-to-text: optimum's AutoModel fallback builds a model that cannot caption
    return names


def check_task(task: str) -> TaskModelKind:
    """Return the model kind ``task`` needs.

    Args:
        task: a task name (optimum's synonyms are accepted where they name exactly one task, e.g.
            ``speech2seq-lm``, ``vision2seq-lm``, ``stable-diffusion``).

    Returns:
        The task's :class:`TaskModelKind`.

    Raises:
        UsageError: ``task`` is none of :data:`TASKS` (nor a synonym of one).
    """
    return TASK_MODEL_KINDS[resolve_task(task)]


def resolve_task(task: str) -> str:
    """The task of :data:`TASKS` that ``task`` names, directly or as one of optimum's synonyms.

    Args:
        task: a task name or synonym.

    Returns:
        One of :data:`TASKS`.

    Raises:
        UsageError: no task, or more than one, answers to that name; or a synonym of
            :data:`REFUSED_SYNONYMS` (one line, with the reason).
    """
    if task in TASK_MODEL_KINDS:
        return task
    unknown = UsageError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    if not isinstance(task, str) or not task or task.strip() != task:
        raise unknown
    if task in REFUSED_SYNONYMS:
        raise UsageError(
            f"unknown task {task!r}: {REFUSED_SYNONYMS[task]}; choose one of: {', '.join(TASKS)}"
        )
    wanted = optimum_task(task)
    found = [t for t in TASKS if optimum_task(t) == wanted]
    if len(found) != 1:
        raise unknown
    return found[0]


def read_config(folder: Path, name: str | None = None, file: str = "config.json") -> dict[str, Any]:
    """Read ``folder/config.json`` (or ``folder/<file>``) as a dict.

    Args:
        folder: a model folder.
        name: how to call the model in messages (default: the folder).
        file: the file to read (``model_index.json`` for a diffusers pipeline).

    Returns:
        The parsed config.

    Raises:
        ModelNotFoundError: the folder has no ``config.json``.
        InvalidFileError: ``config.json`` is not a JSON object.
    """
    path = Path(folder) / file
    if not path.is_file():
        raise ModelNotFoundError(f"{name or folder} is not a model: it has no {file}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFileError(f"{path} is not valid JSON: {exc}") from None
    except RecursionError:  # a hostile config nested thousands deep: one line, not a traceback
        raise InvalidFileError(f"{path} is not a model config: its JSON is nested too deep") from None
    if not isinstance(data, dict):
        raise InvalidFileError(f"{path} is not a JSON object")
    return data


def _names(mapping: Mapping[str, Any]) -> set[str]:
    out: set[str] = set()
    for value in mapping.values():
        if isinstance(value, str):
            out.add(value)
        else:
            out.update(value)
    return out


def _mapping(name: str) -> Mapping[str, Any]:
    from transformers.models.auto import modeling_auto

    return getattr(modeling_auto, name)


def is_native_model_type(model_type: str | None) -> bool:
    """Whether transformers itself implements ``model_type``."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return model_type in CONFIG_MAPPING_NAMES


def _as_dict(
    config_or_path: Mapping[str, object] | PretrainedConfig | str | os.PathLike[str], name: str | None
) -> tuple[dict[str, Any], Path | None]:
    if isinstance(config_or_path, (str, os.PathLike)):
        folder = Path(config_or_path)
        return read_config(folder, name), folder
    if isinstance(config_or_path, Mapping):
        return dict(config_or_path), None
    to_dict = getattr(config_or_path, "to_dict", None)
    if callable(to_dict):
        return to_dict(), None
    raise TypeError(
        f"expected a config dict, a PretrainedConfig or a folder, got {type(config_or_path).__name__}"
    )


def needs_remote_code(config: Mapping[str, Any], task: str) -> bool:
    """Whether loading this config for ``task`` would run code from the model repository.

    True when the model type is not implemented by transformers and the config carries an
    ``auto_map``, or when the listed architecture is not a transformers class but ``auto_map``
    provides one of the task's Auto classes. A config with an ``auto_map`` whose model type and
    architecture transformers implements loads with transformers' own code (that is what
    transformers does with ``trust_remote_code=False``), so it does not need remote code.

    Args:
        config: the parsed ``config.json``.
        task: a task name.

    Returns:
        True if the model needs ``trust_remote_code=True``.
    """
    auto_map = config.get("auto_map") or {}
    if not auto_map:
        return False
    if not is_native_model_type(config.get("model_type")):
        return True
    import transformers

    archs = config.get("architectures") or []
    kind = check_task(task)
    if kind.library != "transformers":
        return False
    return (
        bool(archs)
        and not any(hasattr(transformers, a) for a in archs)
        and any(c in auto_map for c in kind.auto_classes)
    )


def sentence_transformers_folder(folder: Path | None) -> bool:
    """Whether ``folder`` is a sentence-transformers model (it has ``modules.json``)."""
    return folder is not None and (folder / ST_MODULES_FILE).is_file()


def infer_library(folder: Path, name: str | None = None) -> str:
    """The library a model folder belongs to, as optimum's ``TasksManager`` infers it.

    ``model_index.json`` makes a diffusers pipeline; ``sentence_*`` files or
    ``config_sentence_transformers.json`` a sentence-transformers model; a ``config.json`` with
    ``pretrained_cfg`` or ``architecture`` a timm model; any other ``config.json`` transformers. Only
    call it on a folder whose files were checked (:func:`energy_badge.run.safety.check_files`): it
    lists the folder and reads ``config.json``.

    Args:
        folder: a local model folder (never a repo id: optimum would go to the Hub).
        name: how to call the model in messages.

    Returns:
        One of :data:`LIBRARIES`.

    Raises:
        ModelNotFoundError: ``folder`` is not a folder, or holds neither file.
        InvalidFileError: ``config.json`` does not parse.
    """
    label = name or str(folder)
    if not Path(folder).is_dir():
        raise ModelNotFoundError(f"{label} is not a model folder")
    try:
        library = optimum_table.infer_library(folder)
    except ValueError:
        raise ModelNotFoundError(
            f"{label} is not a model: it has no config.json (nor a diffusers model_index.json)"
        ) from None
    except OSError as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidFileError(f"{label}: config.json does not load: {text}") from None
    except RecursionError:  # a hostile config nested thousands deep: one line, not a traceback
        raise InvalidFileError(
            f"{label}: config.json is not a model config: its JSON is nested too deep"
        ) from None
    return library if library in LIBRARIES else "transformers"


def text_to_image_pipelines() -> frozenset[str]:
    """The diffusers pipeline classes optimum lists for ``text-to-image``."""
    mapping = tasks_manager()._DIFFUSERS_TASKS_TO_MODEL_MAPPINGS.get("text-to-image", {})
    return frozenset(str(v) for v in mapping.values())


def model_class(task: str, config: Mapping[str, Any]) -> Any:
    """The transformers class that loads ``config`` for ``task``, as optimum's ``TasksManager`` picks it.

    Sentence similarity on an encoder-decoder checkpoint (T5) loads its encoder alone
    (``AutoModelForTextEncoding``); a model whose code is in its repository loads through the
    task's Auto class named in its ``auto_map``.

    Args:
        task: a transformers task of :data:`TASKS`.
        config: the parsed ``config.json``.

    Returns:
        The class (an Auto class, or the concrete class optimum names for a model type).

    Raises:
        WrongTaskError: no class of the task builds this model type.
    """
    import transformers

    kind = check_task(task)
    task = resolve_task(task)
    model_type = config.get("model_type")
    if task == "sentence-similarity":
        from transformers.models.auto import modeling_auto

        seq2seq = modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES
        if (config.get("is_encoder_decoder") or model_type in seq2seq) and (
            model_type in modeling_auto.MODEL_FOR_TEXT_ENCODING_MAPPING_NAMES
        ):
            return transformers.AutoModelForTextEncoding
    auto_map = config.get("auto_map") or {}
    if auto_map and not is_native_model_type(model_type if isinstance(model_type, str) else None):
        for name in kind.auto_classes:
            if name in auto_map:
                return getattr(transformers, name)
    try:
        return optimum_table.model_class_for_task(
            optimum_task(task), model_type if isinstance(model_type, str) else None
        )
    except (ValueError, KeyError):
        raise WrongTaskError(
            f"model type {model_type!r} does not fit {task}: it needs {kind.description}"
        ) from None


def _class_names(cls: Any) -> set[str] | None:
    """The class names an Auto class builds (None for a concrete class)."""
    lazy = getattr(cls, "_model_mapping", None)
    names = getattr(lazy, "_model_mapping", None)
    return _names(names) if isinstance(names, Mapping) else None


def _config_library(config: Mapping[str, Any]) -> str:
    if "_class_name" in config and "_diffusers_version" in config:
        return "diffusers"
    if "pretrained_cfg" in config or "architecture" in config:
        return "timm"
    return "transformers"


def check_task_fit(
    config_or_path: Mapping[str, object] | PretrainedConfig | str | os.PathLike[str],
    task: str,
    *,
    name: str | None = None,
    library: str | None = None,
) -> None:
    """Refuse a model whose architecture does not fit ``task``, from its config alone.

    Nothing but ``config.json`` or ``model_index.json`` (and, for sentence similarity, the presence
    of the sentence-transformers ``modules.json``) is read: no weights, no remote code.

    Args:
        config_or_path: a config dict (a ``config.json``, or a diffusers ``model_index.json``), a
            ``PretrainedConfig``, or a model folder.
        task: one of :data:`TASKS` (or an optimum synonym of one).
        name: how to call the model in the message (default: its folder or ``"the model"``).
        library: the model's library when known (default: inferred, :func:`infer_library` for a
            folder).

    Raises:
        UsageError: unknown task.
        ModelNotFoundError: a folder without ``config.json`` or ``model_index.json``.
        InvalidFileError: the config does not parse.
        WrongTaskError: the architecture does not fit the task (one line, naming what the task needs).
    """
    kind = check_task(task)
    task = resolve_task(task)
    folder: Path | None = None
    if isinstance(config_or_path, (str, os.PathLike)):
        folder = Path(config_or_path)
        label = name or str(folder)
        library = library or infer_library(folder, label)
        if library == "diffusers":
            config = read_config(folder, name, MODEL_INDEX_FILE)
        else:
            config = read_config(folder, name)
    else:
        config, _ = _as_dict(config_or_path, name)
        label = name or "the model"
        library = library or _config_library(config)

    if library == "timm":
        raise WrongTaskError(
            f"{label} is a timm model, which energy-badge does not load: {task} needs {kind.description}"
        )
    if library == "diffusers" or kind.library == "diffusers":
        _check_pipeline(config, library, task, kind, label)
        return

    model_type = config.get("model_type")
    archs = [a for a in (config.get("architectures") or []) if isinstance(a, str)]
    auto_map = config.get("auto_map") or {}
    shown = ", ".join(archs) if archs else f"model type {model_type!r} with no architectures"

    def refuse(extra: str = "") -> NoReturn:
        raise WrongTaskError(
            f"{label} is {shown}, which does not fit {task}: it needs {kind.description}{extra}"
        )

    if not isinstance(model_type, str) or not model_type:
        raise WrongTaskError(f"{label} has no model_type in config.json, so it cannot be matched to {task}")

    if not is_native_model_type(model_type):
        if not auto_map:
            raise WrongTaskError(
                f"{label} has model type {model_type!r}, which this transformers version does not implement"
            )
        if any(c in auto_map for c in kind.auto_classes):
            return
        refuse(f" (its auto_map offers {', '.join(sorted(auto_map))})")

    if needs_remote_code(config, task):
        return  # judged by its auto_map entry for this task's Auto class above

    if task == "sentence-similarity":
        _check_encoder(config, model_type, archs, folder, refuse)
        return

    try:
        cls = model_class(task, config)
    except WrongTaskError:
        refuse()
    names = _class_names(cls)
    if names is None:  # a concrete class optimum names for this model type
        if archs and cls.__name__ not in archs:
            refuse()
        return
    if cls.__name__ not in kind.auto_classes:
        refuse()  # image-to-text: optimum's AutoModel fallback, which cannot caption
    if archs:
        if not any(a in names for a in archs):
            refuse()
    elif model_type not in getattr(cls._model_mapping, "_model_mapping", {}):
        refuse()


def _check_pipeline(
    config: Mapping[str, Any], library: str, task: str, kind: TaskModelKind, label: str
) -> None:
    """The diffusers side of :func:`check_task_fit`."""
    if library != "diffusers":
        archs = ", ".join(a for a in (config.get("architectures") or []) if isinstance(a, str))
        shown = archs or f"model type {config.get('model_type')!r}"
        raise WrongTaskError(f"{label} is {shown}, which does not fit {task}: it needs {kind.description}")
    pipeline = config.get("_class_name")
    shown = pipeline if isinstance(pipeline, str) else repr(pipeline)
    if (
        kind.library != "diffusers"
        or not isinstance(pipeline, str)
        or pipeline not in text_to_image_pipelines()
    ):
        raise WrongTaskError(
            f"{label} is a diffusers pipeline ({shown}), which does not fit {task}: "
            f"it needs {kind.description}"
        )


def _check_encoder(
    config: Mapping[str, Any], model_type: str, archs: list[str], folder: Path | None, refuse: Any
) -> None:
    base = _mapping("MODEL_MAPPING_NAMES")
    text_encoding = _mapping("MODEL_FOR_TEXT_ENCODING_MAPPING_NAMES")
    seq2seq = _mapping("MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES")
    encoder_decoder = bool(config.get("is_encoder_decoder")) or model_type in seq2seq
    if encoder_decoder and model_type not in text_encoding:
        refuse(" (an encoder-decoder model has no encoder-only class here)")
    allowed = _names(base) | _names(text_encoding)
    if encoder_decoder:
        allowed = _names(text_encoding)
    if archs and any(a in allowed for a in archs):
        return
    # A sentence-transformers folder may keep the architecture of the checkpoint it was trained
    # from (BertForMaskedLM, ...); AutoModel loads its encoder and drops the head.
    if sentence_transformers_folder(folder) and (model_type in base or model_type in text_encoding):
        return
    if not archs and (model_type in base or model_type in text_encoding):
        return
    refuse()
