"""The run stage: load a model for a task and run the task's workload on it.

::

    runner = load_runner("org/model", "text-classification")   # refuse early, load, pin
    runner.prepare(workload)                                   # tokenize, pad, move to device
    stats = runner.run_pass()                                  # the measured work, batch by batch
    runner.sample_outputs(3)                                   # show the model really ran

Loading is safe by default: no code from the model repository runs unless ``trust_remote_code``
is set, weights come from safetensors files unless ``allow_pickle`` is set, and a model whose
architecture does not fit the task is refused from its ``config.json`` (a diffusers pipeline's
``model_index.json``) before any weight is read. Which class a task loads, and which library a
folder belongs to, come from optimum's ``TasksManager`` (:mod:`energy_badge.run.fit`).

The text tasks' runners are in ``encoders`` and ``generation``; image classification, object
detection and captioning in ``vision``, speech recognition in ``speech``, text-to-image (a diffusers
pipeline, loaded by ``diffusion``) in ``diffusion``: their preprocessing (``processors``) runs in
``prepare``, before any measured window (``media``).
torch, transformers and huggingface_hub are imported only inside the functions that need them.
"""

from energy_badge.run.fit import TASK_MODEL_KINDS, TASKS, TaskModelKind, check_task_fit
from energy_badge.run.loader import DEFAULT_DTYPES, DTYPES, load_runner, resolve_device
from energy_badge.run.runner import ModelInfo, PassStats, TaskRunner
from energy_badge.run.source import content_sha256

__all__ = [
    "DEFAULT_DTYPES",
    "DTYPES",
    "TASKS",
    "TASK_MODEL_KINDS",
    "ModelInfo",
    "PassStats",
    "TaskModelKind",
    "TaskRunner",
    "check_task_fit",
    "content_sha256",
    "load_runner",
    "resolve_device",
]
