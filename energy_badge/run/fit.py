"""Which models fit which task, decided from ``config.json`` alone (before any weight is read).

The check is by name: the architecture listed in the config must be one of the classes that
transformers' ``AutoModelFor...`` mapping for the task would build. For a model whose code lives in
its repository (``auto_map``), the mapping is replaced by the ``auto_map`` entry for the task's Auto
class, and the model needs ``--trust-remote-code`` to run at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energy_badge.errors import InvalidFileError, ModelNotFoundError, UsageError, WrongTaskError

if TYPE_CHECKING:
    from transformers import PretrainedConfig


@dataclass(frozen=True)
class TaskModelKind:
    """What kind of model a task needs.

    Attributes:
        auto_class: the transformers Auto class that builds it (``AutoModelForSequenceClassification``).
        mapping: the name of that Auto class's ``*_MAPPING_NAMES`` in ``transformers.models.auto``.
        description: a short phrase for error messages and docs.
        examples: example architecture names.
    """

    auto_class: str
    mapping: str
    description: str
    examples: tuple[str, ...]


TASK_MODEL_KINDS: dict[str, TaskModelKind] = {
    "text-classification": TaskModelKind(
        "AutoModelForSequenceClassification",
        "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",
        "a sequence classifier (...ForSequenceClassification)",
        ("BertForSequenceClassification", "DistilBertForSequenceClassification"),
    ),
    "sentence-similarity": TaskModelKind(
        "AutoModel",
        "MODEL_MAPPING_NAMES",
        "a text encoder giving sentence embeddings (a base model such as BertModel, "
        "or a sentence-transformers folder)",
        ("BertModel", "MPNetModel", "XLMRobertaModel", "T5EncoderModel"),
    ),
    "question-answering": TaskModelKind(
        "AutoModelForQuestionAnswering",
        "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES",
        "an extractive question-answering model (...ForQuestionAnswering)",
        ("BertForQuestionAnswering", "RobertaForQuestionAnswering"),
    ),
    "summarization": TaskModelKind(
        "AutoModelForSeq2SeqLM",
        "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES",
        "an encoder-decoder seq2seq LM (...ForConditionalGeneration such as BART, T5, Pegasus)",
        ("BartForConditionalGeneration", "T5ForConditionalGeneration"),
    ),
    "text-generation": TaskModelKind(
        "AutoModelForCausalLM",
        "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",
        "a causal (decoder-only) LM (...ForCausalLM / ...LMHeadModel)",
        ("LlamaForCausalLM", "GPT2LMHeadModel", "Qwen2ForCausalLM"),
    ),
}
"""What each task needs, keyed by task name."""

TASKS: tuple[str, ...] = tuple(TASK_MODEL_KINDS)

# Sentence-transformers folders mark themselves with this file.
ST_MODULES_FILE = "modules.json"


def check_task(task: str) -> TaskModelKind:
    """Return the model kind ``task`` needs.

    Args:
        task: a task name.

    Returns:
        The task's :class:`TaskModelKind`.

    Raises:
        UsageError: ``task`` is not one of :data:`TASKS`.
    """
    try:
        return TASK_MODEL_KINDS[task]
    except KeyError:
        raise UsageError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}") from None


def read_config(folder: Path, name: str | None = None) -> dict[str, Any]:
    """Read ``folder/config.json`` as a dict.

    Args:
        folder: a model folder.
        name: how to call the model in messages (default: the folder).

    Returns:
        The parsed config.

    Raises:
        ModelNotFoundError: the folder has no ``config.json``.
        InvalidFileError: ``config.json`` is not a JSON object.
    """
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise ModelNotFoundError(f"{name or folder} is not a model: it has no config.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFileError(f"{path} is not valid JSON: {exc}") from None
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
    provides the task's Auto class. A config with an ``auto_map`` whose model type and
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
    return bool(archs) and not any(hasattr(transformers, a) for a in archs) and kind.auto_class in auto_map


def sentence_transformers_folder(folder: Path | None) -> bool:
    """Whether ``folder`` is a sentence-transformers model (it has ``modules.json``)."""
    return folder is not None and (folder / ST_MODULES_FILE).is_file()


def check_task_fit(
    config_or_path: Mapping[str, object] | PretrainedConfig | str | os.PathLike[str],
    task: str,
    *,
    name: str | None = None,
) -> None:
    """Refuse a model whose architecture does not fit ``task``, from its config alone.

    Nothing but ``config.json`` (and, for sentence similarity, the presence of the
    sentence-transformers ``modules.json``) is read: no weights, no remote code.

    Args:
        config_or_path: a config dict, a ``PretrainedConfig``, or a model folder.
        task: one of :data:`TASKS`.
        name: how to call the model in the message (default: its folder or ``"the model"``).

    Raises:
        UsageError: unknown task.
        ModelNotFoundError: a folder without ``config.json``.
        InvalidFileError: ``config.json`` does not parse.
        WrongTaskError: the architecture does not fit the task (one line, naming what the task needs).
    """
    kind = check_task(task)
    config, folder = _as_dict(config_or_path, name)
    label = name or (str(folder) if folder is not None else "the model")
    model_type = config.get("model_type")
    archs = [a for a in (config.get("architectures") or []) if isinstance(a, str)]
    auto_map = config.get("auto_map") or {}
    shown = ", ".join(archs) if archs else f"model type {model_type!r} with no architectures"

    def refuse(extra: str = "") -> None:
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
        if kind.auto_class in auto_map:
            return
        refuse(f" (its auto_map offers {', '.join(sorted(auto_map))})")

    if needs_remote_code(config, task):
        return  # judged by its auto_map entry for this task's Auto class above

    if task == "sentence-similarity":
        _check_encoder(config, model_type, archs, folder, refuse)
        return

    mapping = _mapping(kind.mapping)
    if archs:
        if not any(a in _names(mapping) for a in archs):
            refuse()
    elif model_type not in mapping:
        refuse()


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
