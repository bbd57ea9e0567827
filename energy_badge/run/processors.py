"""Load a model's preprocessing: its tokenizer, image processor, feature extractor or processor.

Each task's runner names what it needs (:attr:`energy_badge.run.runner.TaskRunner.preprocessing`):

- ``"tokenizer"``: the text tasks (``AutoTokenizer``).
- ``"image"``: image classification and object detection (``AutoImageProcessor``).
- ``"audio"``: speech recognition (``AutoProcessor``: a feature extractor and the tokenizer that
  decodes; a feature extractor alone where the folder has no tokenizer).
- ``"captioning"``: image-to-text (``AutoProcessor``; else ``AutoImageProcessor`` and
  ``AutoTokenizer``, as a ViT-GPT2 ``VisionEncoderDecoderModel`` ships them).

Every failure is one line: :class:`~energy_badge.errors.InvalidFileError`, or
:class:`~energy_badge.errors.UnsafeModelError` where the files need code from the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from energy_badge.errors import InvalidFileError, UnsafeModelError

__all__ = ["Preprocessing", "load_preprocessing"]

_ERRORS = (OSError, ValueError, KeyError, TypeError, AttributeError)


@dataclass(frozen=True)
class Preprocessing:
    """What turns a query into model inputs.

    Attributes:
        tokenizer: the tokenizer (text tasks; the decoding tokenizer of ASR and captioning), or None.
        processor: the image processor, feature extractor or multimodal processor, or None.
    """

    tokenizer: Any = None
    processor: Any = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _load(loader: Any, folder: Path, name: str, what: str, trust_remote_code: bool) -> Any:
    try:
        return loader.from_pretrained(str(folder), trust_remote_code=trust_remote_code)
    except _ERRORS as exc:
        if "trust_remote_code" in str(exc):
            raise UnsafeModelError(
                f"{name}'s {what} needs code from its repository; pass --trust-remote-code to allow it"
            ) from None
        raise InvalidFileError(f"cannot load the {what} of {name}: {_first_line(exc)}") from None


def load_tokenizer(folder: Path, name: str, trust_remote_code: bool) -> Any:
    """The model's tokenizer, with the end-of-sequence token as pad token when it has none.

    Raises:
        InvalidFileError: no tokenizer files, or files that do not load.
        UnsafeModelError: the tokenizer needs code from the repository.
    """
    from transformers import AutoTokenizer

    tokenizer = _load(AutoTokenizer, folder, name, "tokenizer", trust_remote_code)
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_preprocessing(kind: str, folder: Path, name: str, trust_remote_code: bool) -> Preprocessing:
    """Load the preprocessing of ``kind`` (see the module docstring) from a checked model folder.

    Args:
        kind: ``tokenizer``, ``image``, ``audio`` or ``captioning``.
        folder: the staged model folder.
        name: the model, for messages.
        trust_remote_code: whether code from the repository may run.

    Returns:
        The loaded :class:`Preprocessing`.

    Raises:
        InvalidFileError: missing or broken preprocessing files.
        UnsafeModelError: they need code from the repository and it is not trusted.
        ValueError: an unknown ``kind`` (a programming error).
    """
    from transformers import AutoImageProcessor, AutoProcessor

    if kind == "tokenizer":
        return Preprocessing(tokenizer=load_tokenizer(folder, name, trust_remote_code))
    if kind == "image":
        return Preprocessing(
            processor=_load(AutoImageProcessor, folder, name, "image processor", trust_remote_code)
        )
    if kind == "audio":
        from transformers import AutoFeatureExtractor

        if _has_tokenizer(folder):
            processor = _load(AutoProcessor, folder, name, "processor", trust_remote_code)
            tokenizer = getattr(processor, "tokenizer", None)
            extractor = getattr(processor, "feature_extractor", processor)
        else:
            extractor = _load(AutoFeatureExtractor, folder, name, "feature extractor", trust_remote_code)
            tokenizer = None
        if not callable(extractor) or not hasattr(extractor, "sampling_rate"):
            raise InvalidFileError(f"cannot load the feature extractor of {name}: no audio feature extractor")
        return Preprocessing(tokenizer=tokenizer, processor=extractor)
    if kind == "captioning":
        image_processor: Any = None
        tokenizer = None
        if (folder / "processor_config.json").is_file() or _has_processor_class(folder):
            try:
                processor = AutoProcessor.from_pretrained(str(folder), trust_remote_code=trust_remote_code)
                image_processor = getattr(processor, "image_processor", None)
                tokenizer = getattr(processor, "tokenizer", None)
            except _ERRORS:
                image_processor = tokenizer = None
        if image_processor is None:
            image_processor = _load(AutoImageProcessor, folder, name, "image processor", trust_remote_code)
        if tokenizer is None:
            tokenizer = load_tokenizer(folder, name, trust_remote_code)
        elif tokenizer.pad_token is None and tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        return Preprocessing(tokenizer=tokenizer, processor=image_processor)
    raise ValueError(f"unknown preprocessing kind {kind!r}")


def _has_tokenizer(folder: Path) -> bool:
    return any(
        (folder / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "vocab.txt")
    )


def _has_processor_class(folder: Path) -> bool:
    """Whether ``tokenizer_config.json`` or ``preprocessor_config.json`` names a multimodal processor."""
    import json

    for file in ("preprocessor_config.json", "tokenizer_config.json"):
        path = folder / file
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and isinstance(data.get("processor_class"), str):
                return True
    return False
