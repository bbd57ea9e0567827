"""The action's inputs: environment variables the composite action maps its inputs to.

Composite actions get no ``INPUT_*`` variables; the action's ``env:`` maps each input to one of
``EB_MODEL``, ``EB_TASK``, ``EB_RESULT``, ``EB_REPO``, ``EB_PUBLISH``, ``EB_BASELINE``,
``EB_MAX_REGRESSION``, ``EB_METRIC``, ``EB_ARGS``, ``EB_OUTPUT``, so no input is ever pasted into
a script. Each is checked here with a one-line :class:`~energy_badge.errors.UsageError`.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from energy_badge.errors import InputError, UsageError

if TYPE_CHECKING:
    from energy_badge.result import EnergyResult

__all__ = [
    "BASELINE_HUB",
    "BASELINE_NONE",
    "PUBLISH_MODES",
    "default_output",
    "env",
    "extra_args",
    "hub_repo",
    "max_regression",
    "metric",
    "publish_mode",
]

PUBLISH_MODES = ("none", "pr", "commit")
BASELINE_HUB = "hub"
BASELINE_NONE = ("", "none")


def env(name: str, default: str = "") -> str:
    """An input from the environment, stripped; ``default`` when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def publish_mode() -> str:
    mode = env("EB_PUBLISH", "none").lower()
    if mode not in PUBLISH_MODES:
        raise UsageError(f"input publish must be one of {', '.join(PUBLISH_MODES)}, not {mode!r}")
    return mode


def metric() -> str:
    from energy_badge.compare import METRICS

    value = env("EB_METRIC", "energy").lower()
    if value not in METRICS:
        raise UsageError(f"input metric must be one of {', '.join(METRICS)}, not {value!r}")
    return value


def max_regression() -> float:
    from energy_badge.compare import parse_max_regression

    return parse_max_regression(env("EB_MAX_REGRESSION", "5%"))


def extra_args() -> list[str]:
    """The ``args`` input split like a shell would (no shell runs it), checked for options we set."""
    try:
        args = shlex.split(env("EB_ARGS"))
    except ValueError as err:
        raise UsageError(f"input args cannot be split into arguments: {err}") from None
    for arg in args:
        if arg == "--output" or arg.startswith(("--output=", "-o")):
            raise UsageError("input args must not set the output file: use the action's output input")
    return args


def default_output(model: str, task: str) -> str:
    """``energy-results/<model>--<task>.json`` (one file per model and task, overwritten per run)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "--", model.strip("/")).strip("-.") or "model"
    return f"energy-results/{slug}--{task}.json"


def hub_repo(result: EnergyResult | None = None) -> str | None:
    """The Hub repo the badge and the baseline belong to: the ``repo`` input, else a Hub model's id.

    Raises:
        InputError: the ``repo`` input is not an ``org/name`` id.
    """
    from energy_badge.hub import is_repo_id

    repo = env("EB_REPO")
    if repo:
        if not is_repo_id(repo):
            raise InputError(f"input repo {repo!r} is not a Hub model repo id (org/name)")
        return repo
    if result is not None and result.model_source == "hub":
        return result.model_id
    model = env("EB_MODEL")
    if model and is_repo_id(model) and not Path(model).exists():
        return model
    return None
