"""optimum's ``TasksManager`` tables, read without importing optimum's exporters.

What a ``measure`` process needs from optimum's ``TasksManager`` (``optimum.exporters.tasks``) is
small: its task synonyms (``map_from_synonym``), the Auto class it loads each task with
(``_LIBRARY_TO_TASKS_TO_MODEL_LOADER_MAP`` and ``get_model_class_for_task``, with its few custom
classes) and the library a model folder belongs to (``infer_library_from_model``). Importing
``TasksManager`` costs 6-8 s on a CPU, most of it diffusers' pipelines, which its class body imports
to list the pipelines of each diffusers task: a text, image or speech task needs none of them.

So those tables are data here, in ``energy_badge/data/optimum_tasks.json``, written from the
installed optimum by ``python -m tools.gen_optimum_table`` (:func:`snapshot`; never edited by hand),
and the functions below apply optimum's rules to them. ``tests/test_optimum_table.py`` holds them to
the live ``TasksManager``: the file against a fresh :func:`snapshot`, and each function against the
method it stands for (every task of the table and every model type transformers implements; folders
of each library), so an optimum that changes any of it fails the suite until the file is written
again. The diffusers side (the pipelines optimum lists for ``text-to-image``, built from the installed
diffusers) stays with the live ``TasksManager`` (:func:`energy_badge.run.fit.tasks_manager`): a
text-to-image run imports those pipelines anyway.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

TABLE_FILE = "optimum_tasks.json"
"""The table's file name in ``energy_badge/data``."""

Loaders = str | tuple[str, ...]


@dataclass(frozen=True)
class OptimumTable:
    """The ``TasksManager`` data energy-badge reads.

    Attributes:
        optimum_version: the optimum version the table was written from.
        synonyms: ``_SYNONYM_TASK_MAP``: a task synonym -> optimum's task name.
        loaders: ``_LIBRARY_TO_TASKS_TO_MODEL_LOADER_MAP``: library -> task -> the Auto class (or
            classes, chosen by model type) that loads it.
        custom_classes: ``_CUSTOM_CLASSES``: (framework, model type, task) -> (library, class name).
    """

    optimum_version: str
    synonyms: Mapping[str, str]
    loaders: Mapping[str, Mapping[str, Loaders]]
    custom_classes: Mapping[tuple[str, str, str], tuple[str, str]]


def snapshot(tasks_manager: Any) -> dict[str, Any]:
    """The JSON document of the tables of a live ``TasksManager`` (what the shipped file holds).

    Args:
        tasks_manager: ``optimum.exporters.tasks.TasksManager``.

    Returns:
        A JSON-ready dict: ``optimum_version``, ``synonyms``, ``loaders``, ``custom_classes``.
    """
    from importlib.metadata import version

    loaders = {
        library: {
            task: value if isinstance(value, str) else list(value) for task, value in sorted(table.items())
        }
        for library, table in sorted(tasks_manager._LIBRARY_TO_TASKS_TO_MODEL_LOADER_MAP.items())
    }
    custom = [[*key, *value] for key, value in sorted(tasks_manager._CUSTOM_CLASSES.items())]
    return {
        "about": "optimum's TasksManager tables (energy_badge/run/optimum_table.py); written by "
        "`python -m tools.gen_optimum_table`, checked against the live TasksManager by "
        "tests/test_optimum_table.py: do not edit",
        "optimum_version": version("optimum"),
        "synonyms": dict(sorted(tasks_manager._SYNONYM_TASK_MAP.items())),
        "loaders": loaders,
        "custom_classes": custom,
    }


def encode(document: Mapping[str, Any]) -> str:
    """The file's text for a :func:`snapshot` (stable: sorted keys, one entry a line)."""
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def parse(document: Mapping[str, Any]) -> OptimumTable:
    """Build the typed table from a :func:`snapshot` document.

    Raises:
        ValueError: the document is not a table.
    """
    try:
        loaders = {
            str(library): {str(t): v if isinstance(v, str) else tuple(v) for t, v in table.items()}
            for library, table in document["loaders"].items()
        }
        custom = {(f, m, t): (lib, cls) for f, m, t, lib, cls in document["custom_classes"]}
        return OptimumTable(
            optimum_version=str(document["optimum_version"]),
            synonyms={str(k): str(v) for k, v in document["synonyms"].items()},
            loaders=loaders,
            custom_classes=custom,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not an optimum task table: {exc!r}") from None


@functools.cache
def table() -> OptimumTable:
    """The shipped table (``energy_badge/data/optimum_tasks.json``), read once."""
    text = resources.files("energy_badge").joinpath("data").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return parse(json.loads(text))


def map_from_synonym(task: str) -> str:
    """optimum's name for ``task`` (``TasksManager.map_from_synonym``)."""
    return table().synonyms.get(task, task)


def loaders(library: str, task: str) -> Loaders:
    """The Auto class name(s) optimum loads ``task`` of ``library`` with.

    Raises:
        KeyError: optimum has no loader for that task and library.
    """
    return table().loaders[library][map_from_synonym(task)]


def model_class_for_task(task: str, model_type: str | None = None) -> Any:
    """The transformers class for ``task`` and ``model_type``, as
    ``TasksManager.get_model_class_for_task(task, model_type=..., library="transformers")`` picks it.

    Args:
        task: an optimum task name or synonym.
        model_type: the config's ``model_type`` (chooses among several Auto classes, and a custom class).

    Returns:
        The class (an Auto class, or the concrete class optimum names for a model type).

    Raises:
        KeyError: optimum has no transformers loader for ``task``.
        ValueError: none of the task's Auto classes builds ``model_type``.
    """
    task = map_from_synonym(task.replace("-with-past", ""))
    custom = table().custom_classes.get(("pt", model_type, task)) if model_type is not None else None
    if custom is not None:
        library, name = custom
        return getattr(importlib.import_module(library), name)
    transformers = importlib.import_module("transformers")
    names = table().loaders["transformers"].get(task)
    if names is None:
        raise KeyError(f"Unknown task: {task}")
    if isinstance(names, str):
        return getattr(transformers, names)
    if model_type is None:
        return getattr(transformers, names[0])
    for name in names:
        if model_type in getattr(transformers, name)._model_mapping._model_mapping:
            return getattr(transformers, name)
    raise ValueError(f"Unrecognized configuration classes {names} do not match the model type {model_type}")


def infer_library(folder: str | os.PathLike[str]) -> str:
    """The library of a local model folder, as ``TasksManager.infer_library_from_model`` infers it.

    ``model_index.json`` makes a diffusers pipeline; a file whose path starts with ``sentence_`` or
    ``config_sentence_transformers.json`` a sentence-transformers model; a ``config.json`` (read by
    transformers' ``PretrainedConfig.get_config_dict``, as optimum reads it) with ``pretrained_cfg`` or
    ``architecture`` a timm model, with ``_diffusers_version`` a diffusers one, else transformers.

    Args:
        folder: a local folder (never a repo id).

    Returns:
        ``"diffusers"``, ``"sentence_transformers"``, ``"timm"`` or ``"transformers"``.

    Raises:
        ValueError: the folder has none of those files.
        OSError: ``config.json`` does not load.
    """
    root = Path(folder)
    files = [
        os.path.relpath(os.path.join(dirpath, name), root)
        for dirpath, _, names in os.walk(root)
        for name in names
    ]
    if "model_index.json" in files:
        return "diffusers"
    if any(f.startswith("sentence_") for f in files) or "config_sentence_transformers.json" in files:
        return "sentence_transformers"
    if "config.json" in files:
        from transformers import PretrainedConfig

        config, _ = PretrainedConfig.get_config_dict(str(root))
        if "pretrained_cfg" in config or "architecture" in config:
            return "timm"
        if "_diffusers_version" in config:
            return "diffusers"
        return "transformers"
    raise ValueError(f"The library name of {root} could not be inferred")
