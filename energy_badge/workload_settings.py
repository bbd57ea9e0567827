"""What the workloads fix: the tasks, what one query's input is, and the decoding settings.

Re-exported by :mod:`energy_badge.workload` (import from there). Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from energy_badge.errors import InvalidFileError

__all__ = [
    "AUDIO_SAMPLING_RATE",
    "MEDIA_TASKS",
    "SOURCE",
    "TASKS",
    "TEXT_TASKS",
    "DiffusionSettings",
    "GenerationSettings",
    "generation_from_dict",
    "input_kind",
]

TEXT_TASKS: tuple[str, ...] = (
    "text-classification",
    "sentence-similarity",
    "question-answering",
    "summarization",
    "text-generation",
)
"""The five text tasks, in their fixed order."""

MEDIA_TASKS: tuple[str, ...] = (
    "image-classification",
    "object-detection",
    "automatic-speech-recognition",
    "image-to-text",
    "text-to-image",
)
"""The AI Energy Score's five other tasks, in their fixed order."""

TASKS: tuple[str, ...] = TEXT_TASKS + MEDIA_TASKS
"""The ten tasks with a canonical workload, in their fixed order: the text tasks, then the others."""

_KINDS = {
    "image-classification": "image",
    "object-detection": "image",
    "image-to-text": "image",
    "automatic-speech-recognition": "audio",
}

AUDIO_SAMPLING_RATE = 16000
"""Samples per second of every audio input (16 kHz mono, float32 in [-1, 1])."""

SOURCE = "energy-badge"
"""The ``source`` of every workload shipped with the package."""


def input_kind(task: str) -> str:
    """What one query's input is: ``"text"`` (also text-to-image: a prompt), ``"image"`` or ``"audio"``.

    Args:
        task: one of :data:`TASKS`.

    Returns:
        The kind.
    """
    return _KINDS.get(task, "text")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class GenerationSettings:
    """Deterministic decoding settings of a token-generation task.

    Attributes:
        max_new_tokens: the most new tokens per query.
        min_new_tokens: the fewest new tokens per query; equal to ``max_new_tokens`` in the
            canonical workloads, so every query generates exactly that many tokens.
        do_sample: sample instead of greedy decoding (always False in canonical workloads).
        num_beams: beams of beam search (1: greedy).
    """

    max_new_tokens: int
    min_new_tokens: int
    do_sample: bool = False
    num_beams: int = 1

    def to_dict(self) -> dict[str, object]:
        """The JSON form used in manifests and result files.

        Returns:
            ``{"max_new_tokens", "min_new_tokens", "do_sample", "num_beams"}``.
        """
        return {
            "max_new_tokens": self.max_new_tokens,
            "min_new_tokens": self.min_new_tokens,
            "do_sample": self.do_sample,
            "num_beams": self.num_beams,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerationSettings:
        """Build settings from their JSON form.

        Args:
            data: a mapping with the four keys of :meth:`to_dict`.

        Returns:
            The settings.

        Raises:
            InvalidFileError: a key is missing or has the wrong type.
        """
        try:
            settings = cls(
                max_new_tokens=data["max_new_tokens"],
                min_new_tokens=data["min_new_tokens"],
                do_sample=data.get("do_sample", False),
                num_beams=data.get("num_beams", 1),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidFileError(f"bad generation settings {data!r}: {exc}") from exc
        ints = (settings.max_new_tokens, settings.min_new_tokens, settings.num_beams)
        if not all(_is_int(v) for v in ints):
            raise InvalidFileError(f"bad generation settings {data!r}: token counts must be integers")
        if not isinstance(settings.do_sample, bool):
            raise InvalidFileError(f"bad generation settings {data!r}: do_sample must be a boolean")
        return settings


@dataclass(frozen=True)
class DiffusionSettings:
    """Deterministic settings of an image-generation (text-to-image) task.

    The canonical text-to-image workload follows the AI Energy Score: 30 inference steps, one
    image per prompt, the pipeline's own default resolution and guidance, and a fixed seed for
    the initial latents (``torch.Generator(device).manual_seed(seed)``), so every query does the
    same work.

    Attributes:
        num_inference_steps: denoising steps per image.
        num_images_per_prompt: images generated per prompt.
        seed: the seed of the latents' generator.
        height, width: the output size in pixels; None: the pipeline's default resolution.
        guidance_scale: classifier-free guidance; None: the pipeline's default.
    """

    num_inference_steps: int
    num_images_per_prompt: int = 1
    seed: int = 0
    height: int | None = None
    width: int | None = None
    guidance_scale: float | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON form used in manifests and result files.

        Returns:
            ``{"num_inference_steps", "num_images_per_prompt", "seed", "height", "width",
            "guidance_scale"}`` (None where the pipeline's default applies).
        """
        return {
            "num_inference_steps": self.num_inference_steps,
            "num_images_per_prompt": self.num_images_per_prompt,
            "seed": self.seed,
            "height": self.height,
            "width": self.width,
            "guidance_scale": self.guidance_scale,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiffusionSettings:
        """Build settings from their JSON form.

        Args:
            data: a mapping with ``num_inference_steps`` and optionally the other keys of
                :meth:`to_dict`.

        Returns:
            The settings.

        Raises:
            InvalidFileError: a key is missing or has the wrong type.
        """
        try:
            settings = cls(
                num_inference_steps=data["num_inference_steps"],
                num_images_per_prompt=data.get("num_images_per_prompt", 1),
                seed=data.get("seed", 0),
                height=data.get("height"),
                width=data.get("width"),
                guidance_scale=data.get("guidance_scale"),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidFileError(f"bad image generation settings {data!r}: {exc}") from exc
        counts = (settings.num_inference_steps, settings.num_images_per_prompt, settings.seed)
        sizes = (settings.height, settings.width)
        if not all(_is_int(v) for v in counts) or not all(v is None or _is_int(v) for v in sizes):
            raise InvalidFileError(f"bad image generation settings {data!r}: counts must be integers")
        scale = settings.guidance_scale
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))):
            raise InvalidFileError(f"bad image generation settings {data!r}: guidance_scale must be a number")
        return settings


def generation_from_dict(data: Mapping[str, object]) -> GenerationSettings | DiffusionSettings:
    """Read either kind of settings from its JSON form (``num_inference_steps`` marks image generation).

    Args:
        data: the JSON object of a manifest entry's or a result's ``generation``.

    Returns:
        :class:`DiffusionSettings` when ``num_inference_steps`` is present, else
        :class:`GenerationSettings`.

    Raises:
        InvalidFileError: the object is not valid settings of either kind.
    """
    if not isinstance(data, Mapping):
        raise InvalidFileError(f"bad generation settings {data!r}: not an object")
    if "num_inference_steps" in data:
        return DiffusionSettings.from_dict(data)
    return GenerationSettings.from_dict(data)
