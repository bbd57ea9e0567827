"""Decoded inputs of the media workloads: synthesis from a query's small spec, and their digests.

A media query record holds a small spec (``{"width", "height", "seed", ...}`` for an image,
``{"samples", "seed", ...}`` for a clip) and the sha256 of the input it decodes to. This package
turns the spec into the input (:func:`decode`) with the project's own deterministic generators
(:mod:`energy_badge.media.image`, :mod:`energy_badge.media.audio`, built on the raw bit stream of
:mod:`energy_badge.media.bits`), and defines the bytes a digest is taken over (:func:`describe`).

numpy and Pillow are imported here; :mod:`energy_badge.workload` imports this package only when
an input is decoded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from energy_badge.errors import InvalidFileError, UsageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL import Image

__all__ = ["AUDIO_SAMPLING_RATE", "Described", "decode", "describe", "digest_line", "normalise"]

AUDIO_SAMPLING_RATE = 16000
"""Samples per second of every audio input (mono)."""


@dataclass(frozen=True)
class Described:
    """The bytes and header of one decoded input, as the workload hash covers them.

    Attributes:
        kind: ``"image"`` or ``"audio"``.
        shape: the array's shape: (height, width, 3) for an image, (samples,) for a clip.
        dtype: ``"uint8"`` (RGB pixels, row-major) or ``"float32"`` (little-endian samples).
        sha256: sha256 of the raw bytes (C order).
    """

    kind: str
    shape: tuple[int, ...]
    dtype: str
    sha256: str

    @property
    def spec(self) -> dict[str, int]:
        """The size part of a query record: ``{"width", "height"}`` or ``{"samples"}``."""
        if self.kind == "image":
            return {"width": self.shape[1], "height": self.shape[0]}
        return {"samples": self.shape[0]}


def decode(kind: str, spec: Mapping[str, Any]) -> Image.Image | NDArray[np.float32]:
    """Synthesise the input a media query's spec stands for.

    Args:
        kind: ``"image"`` or ``"audio"``.
        spec: the query's ``image`` or ``audio`` object (it must carry the generator's fields).

    Returns:
        An RGB ``PIL.Image.Image``, or a 1-D ``float32`` array of 16 kHz samples in [-1, 1].

    Raises:
        InvalidFileError: the spec is malformed.
    """
    try:
        if kind == "image":
            from PIL import Image

            from energy_badge.media.image import render

            pixels = render(int(spec["width"]), int(spec["height"]), int(spec["seed"]), str(spec["scene"]))
            return Image.fromarray(pixels)  # (H, W, 3) uint8: RGB
        if kind == "audio":
            from energy_badge.media.audio import synthesise

            return synthesise(int(spec["samples"]), int(spec["seed"]), str(spec["voice"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidFileError(f"bad {kind} spec {dict(spec)!r}: {exc}") from exc
    raise InvalidFileError(f"unknown input kind {kind!r}")


def normalise(kind: str, value: object) -> Image.Image | NDArray[np.float32]:
    """Bring an input given from elsewhere to the form :func:`decode` returns.

    Args:
        kind: ``"image"`` or ``"audio"``.
        value: an image (``PIL.Image.Image``, or an ``(H, W, 3)`` uint8 array), or a clip (a 1-D
            float array of 16 kHz mono samples).

    Returns:
        An RGB ``PIL.Image.Image``, or a contiguous 1-D ``float32`` array.

    Raises:
        UsageError: the value is not an input of that kind.
    """
    import numpy as np

    if kind == "image":
        from PIL import Image

        if isinstance(value, Image.Image):
            return value if value.mode == "RGB" else value.convert("RGB")
        array = np.asarray(value)
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
            raise UsageError(
                f"an image input must be a PIL image or an (H, W, 3) uint8 array, got {array.shape}"
            )
        return Image.fromarray(np.ascontiguousarray(array))  # (H, W, 3) uint8: RGB
    if kind == "audio":
        array = np.asarray(value)
        if array.ndim != 1 or array.dtype.kind != "f" or array.size == 0:
            raise UsageError(
                f"an audio input must be a non-empty 1-D float array, got {array.dtype} {array.shape}"
            )
        samples = np.ascontiguousarray(array, dtype=np.float32)
        if not np.isfinite(samples).all():
            raise UsageError("an audio input holds a non-finite sample")
        return samples
    raise UsageError(f"unknown input kind {kind!r}")


def describe(kind: str, value: object) -> Described:
    """The header and digest of one decoded input.

    Args:
        kind: ``"image"`` or ``"audio"``.
        value: the input, as :func:`decode` or :func:`normalise` return it.

    Returns:
        Its :class:`Described`.
    """
    import numpy as np

    if kind == "image":
        array = np.asarray(value, dtype=np.uint8)
        dtype = "uint8"
    else:
        array = np.asarray(value, dtype="<f4")
        dtype = "float32"
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(array.data).hexdigest()
    return Described(kind, tuple(int(n) for n in array.shape), dtype, digest)


def digest_line(query_id: str, described: Described) -> bytes:
    """One query's line of a media workload's hash input.

    Args:
        query_id: the query's ``id``.
        described: its decoded input's header and digest.

    Returns:
        ``"<id>\\t<kind>\\t<shape>\\t<dtype>\\t<sha256>\\n"`` in UTF-8, the shape written as
        ``480x640x3`` or ``193600``.
    """
    shape = "x".join(str(n) for n in described.shape)
    return f"{query_id}\t{described.kind}\t{shape}\t{described.dtype}\t{described.sha256}\n".encode()
