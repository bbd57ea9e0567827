"""The settings ``advise`` sweeps, the ``--grid`` that narrows them, and what the device can run.

A :class:`Setting` is one point: dtype (``fp32``, ``tf32``, ``bf16``, ``fp16``), weight
quantization through transformers' ``TorchAoConfig`` (``none``, ``int8`` weight-only, ``fp8``
weight-only, ``int4`` weight-only), attention implementation (``sdpa``, ``eager``),
``torch.compile`` on or off, and the batch size. :class:`Grid` holds the values of each axis
the sweep may use; :func:`parse_grid` reads ``--grid``; :func:`skip_reason` says why the device
cannot run a value (that value is then listed as skipped, with the reason, never silently left
out); :func:`parse_budget` reads ``--budget``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from energy_badge.errors import UsageError

__all__ = [
    "ATTENTIONS",
    "DTYPES",
    "QUANTIZATIONS",
    "TORCH_DTYPES",
    "Grid",
    "Setting",
    "canonical_setting",
    "parse_budget",
    "parse_grid",
    "skip_reason",
]

DTYPES = ("fp32", "tf32", "bf16", "fp16")
#: The loader's dtype for each advise dtype (tf32 is float32 weights with TF32 matmuls).
TORCH_DTYPES = {"fp32": "float32", "tf32": "float32", "bf16": "bfloat16", "fp16": "float16"}
_FROM_TORCH = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
QUANTIZATIONS = ("none", "int8", "fp8", "int4")
ATTENTIONS = ("sdpa", "eager")
MAX_BATCH = 256


@dataclass(frozen=True, order=True)
class Setting:
    """One point of the sweep.

    Attributes:
        dtype: ``fp32``, ``tf32``, ``bf16`` or ``fp16``.
        batch_size: queries per forward pass.
        quantization: ``none``, ``int8``, ``fp8`` or ``int4`` (weight-only, torchao).
        attention: ``sdpa`` or ``eager``.
        compile: ``torch.compile`` the model.
    """

    dtype: str
    batch_size: int = 1
    quantization: str = "none"
    attention: str = "sdpa"
    compile: bool = False

    @property
    def key(self) -> str:
        """A short unique name: ``bf16/b16/int8/eager/compiled``."""
        parts = [self.dtype, f"b{self.batch_size}"]
        if self.quantization != "none":
            parts.append(self.quantization)
        if self.attention != "sdpa":
            parts.append(self.attention)
        if self.compile:
            parts.append("compiled")
        return "/".join(parts)

    def describe(self) -> str:
        """In words: ``bf16 at batch 16`` (``, int8 weights, eager attention, compiled``)."""
        text = f"{self.dtype} at batch {self.batch_size}"
        extra = []
        if self.quantization != "none":
            extra.append(f"{self.quantization} weights")
        if self.attention != "sdpa":
            extra.append(f"{self.attention} attention")
        if self.compile:
            extra.append("torch.compile")
        return text + (f" ({', '.join(extra)})" if extra else "")

    def load_key(self) -> tuple[str, str, str, bool]:
        """What needs a fresh model load (everything but the batch size)."""
        return (self.dtype, self.quantization, self.attention, self.compile)


def canonical_setting(task: str) -> Setting:
    """The canonical protocol's setting: the task's dtype, batch 1, no quantization, SDPA, no compile."""
    from energy_badge.run import DEFAULT_DTYPES

    return Setting(dtype=_FROM_TORCH[DEFAULT_DTYPES.get(task, "float32")])


@dataclass(frozen=True)
class Grid:
    """The values each axis may take (``--grid`` narrows them).

    Attributes:
        dtypes, quantizations, attentions: allowed values, in the order they are tried.
        compiles: allowed ``torch.compile`` values.
        batch_sizes: explicit batch sizes, or empty for 1, 2, 4, ... until out of memory or no
            further gain (at most ``max_batch``).
        max_batch: the largest batch size of the doubling sweep.
    """

    dtypes: tuple[str, ...] = DTYPES
    quantizations: tuple[str, ...] = QUANTIZATIONS
    attentions: tuple[str, ...] = ATTENTIONS
    compiles: tuple[bool, ...] = (False, True)
    batch_sizes: tuple[int, ...] = ()
    max_batch: int = 64


def parse_grid(text: str | None, base: Grid | None = None) -> Grid:
    """Read ``--grid``: ``dtype=fp32,bf16 batch=1,8 quant=none,int8 attn=sdpa compile=off``.

    Axes are separated by spaces or ``;``; an axis not named keeps every value. ``batch`` also
    takes ``max=N`` (``batch=max=32``) to bound the doubling sweep.

    Raises:
        UsageError: an unknown axis or value.
    """
    grid = base or Grid()
    if not text:
        return grid
    for part in filter(None, re.split(r"[;\s]+", text.strip())):
        if "=" not in part:
            raise UsageError(
                f"--grid: {part!r} is not axis=value,value (axes: dtype, batch, quant, attn, compile)"
            )
        axis, _, values_text = part.partition("=")
        values = [v for v in values_text.split(",") if v]
        if not values:
            raise UsageError(f"--grid: no values for {axis}")
        axis = axis.strip().lower()
        if axis == "dtype":
            grid = replace(grid, dtypes=_choose(values, DTYPES, axis))
        elif axis in ("quant", "quantization"):
            grid = replace(grid, quantizations=_choose(values, QUANTIZATIONS, axis))
        elif axis in ("attn", "attention"):
            grid = replace(grid, attentions=_choose(values, ATTENTIONS, axis))
        elif axis == "compile":
            flags = {"on": True, "off": False, "true": True, "false": False}
            if any(v not in flags for v in values):
                raise UsageError("--grid: compile takes on and off")
            grid = replace(grid, compiles=tuple(dict.fromkeys(flags[v] for v in values)))
        elif axis == "batch":
            if values_text.startswith("max="):
                grid = replace(grid, max_batch=_int(values_text[4:], axis))
            else:
                grid = replace(grid, batch_sizes=tuple(sorted({_int(v, axis) for v in values})))
        else:
            raise UsageError(f"--grid: unknown axis {axis!r} (axes: dtype, batch, quant, attn, compile)")
    return grid


def _choose(values: list[str], allowed: tuple[str, ...], axis: str) -> tuple[str, ...]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise UsageError(f"--grid: {axis} takes {', '.join(allowed)}, not {', '.join(bad)}")
    return tuple(dict.fromkeys(values))


def _int(text: str, axis: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--grid: {axis} takes whole numbers, not {text!r}") from None
    if not 1 <= value <= MAX_BATCH:
        raise UsageError(f"--grid: {axis} must be between 1 and {MAX_BATCH}, not {value}")
    return value


def parse_budget(text: str | None) -> float | None:
    """``--budget``: ``20m``, ``90s``, ``1h``, ``1h30m`` or plain seconds; None for no budget.

    Raises:
        UsageError: not a duration, or not positive.
    """
    if text is None:
        return None
    match = re.fullmatch(
        r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text
    )
    if not match or not any(match.groups()):
        raise UsageError(f"--budget {text!r} is not a duration such as 20m, 90s or 1h30m")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise UsageError("--budget must be more than zero")
    return total


def skip_reason(setting: Setting, device: str, task: str) -> str | None:
    """Why ``device`` cannot run ``setting`` (None when it can), without loading anything.

    Args:
        setting: the point.
        device: the torch device (``cuda:0``, ``cpu``).
        task: the task (quantization and attention apply to transformers models only).
    """
    import torch

    cuda = device.startswith("cuda")
    capability = torch.cuda.get_device_capability(device) if cuda else None
    if setting.dtype == "tf32" and (capability is None or capability < (8, 0)):
        where = "this device is the CPU" if not cuda else f"compute capability {capability}"
        return f"tf32 is a tensor-core mode of NVIDIA Ampere or newer GPUs ({where})"
    if setting.dtype == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        return "this GPU does not support bfloat16"
    if setting.quantization != "none" or setting.attention != "sdpa":
        from energy_badge.run.fit import check_task

        library = check_task(task).library
        if library != "transformers":
            what = "weight quantization" if setting.quantization != "none" else "the attention implementation"
            return f"{what} is swept for transformers models only; {task} runs a {library} pipeline"
    if setting.quantization != "none":
        try:
            import torchao  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            return "weight quantization needs torchao (pip install torchao)"
        if setting.quantization == "fp8" and (capability is None or capability < (8, 9)):
            where = "this device is the CPU" if not cuda else f"compute capability {capability}"
            return f"fp8 needs an NVIDIA Ada or Hopper GPU, compute capability 8.9 or newer ({where})"
        if setting.quantization == "int4" and setting.dtype != "bf16":
            return "torchao's int4 weight-only kernels take bfloat16 activations: swept with bf16 only"
        if setting.dtype == "tf32":
            return "quantized weights are not float32 matmuls: tf32 does not apply"
    if setting.compile and not cuda:
        return (
            "torch.compile is swept on CUDA only: on the CPU inductor compiles for minutes per input "
            "shape, longer than the measurement"
        )
    return None
