"""The image tasks' runners: image classification, object detection, image captioning.

One query is one RGB image. The model's image processor resizes, normalizes and batches it in
:meth:`~energy_badge.run.media.MediaRunner.prepare`, before any measured window; the pass feeds the
prepared ``pixel_values`` (and ``pixel_mask`` where the model takes one).

- Image classification: one forward; the label (argmax of the logits) is read after the window.
- Object detection: one forward; the boxes come from the image processor's
  ``post_process_object_detection`` after the window (:meth:`ObjectDetectionRunner.sample_outputs`),
  as the transformers pipeline does but outside the measured work.
- Image-to-text: ``generate()`` with the workload's complete, explicit configuration (exactly the
  manifest's new tokens, greedy: :func:`energy_badge.run.generation.make_generation_config`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from energy_badge.errors import WrongTaskError
from energy_badge.run.generation import _GenerationRunner
from energy_badge.run.media import MediaRunner
from energy_badge.run.runner import Batch

__all__ = ["DETECTION_THRESHOLD", "ImageClassificationRunner", "ImageToTextRunner", "ObjectDetectionRunner"]

#: The score above which a detected box is reported (the transformers pipeline's default).
DETECTION_THRESHOLD = 0.5


def _image_size(image: Any) -> tuple[int, int]:
    """``(height, width)`` of a PIL image."""
    width, height = image.size
    return int(height), int(width)


class _ImageRunner(MediaRunner):
    """Image processor in ``prepare``; pixels as the cost proxy."""

    preprocessing = "image"
    cost_name = "pixels"

    def _cost(self, item: Any) -> float:
        height, width = _image_size(item)
        return float(height * width)

    def _pixels(self, ids: list[str], images: Sequence[Any]) -> Batch:
        encoded = self.processor(images=list(images), return_tensors="pt")
        sizes = [_image_size(image) for image in images]
        return Batch(ids, self._model_kwargs(encoded), [0] * len(ids), {"sizes": sizes})


class ImageClassificationRunner(_ImageRunner):
    """Image classification: one forward per batch; the label is the argmax of the logits."""

    task = "image-classification"

    def _encode_media(self, ids: list[str], inputs: Sequence[Any]) -> tuple[Batch, int]:
        return self._pixels(ids, inputs), 0

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        return self.model(**batch.inputs).logits

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        probs = result.float().softmax(dim=-1)
        scores, labels = probs.max(dim=-1)
        id2label = getattr(self.model.config, "id2label", None) or {}
        return [
            {"id": qid, "label": str(id2label.get(label, label)), "score": float(score)}
            for qid, label, score in zip(batch.ids, labels.tolist(), scores.tolist(), strict=True)
        ]


class ObjectDetectionRunner(_ImageRunner):
    """Object detection: the forward pass is measured; post-processing to boxes comes after."""

    task = "object-detection"

    def _encode_media(self, ids: list[str], inputs: Sequence[Any]) -> tuple[Batch, int]:
        return self._pixels(ids, inputs), 0

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        return self.model(**batch.inputs)

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        detections = self.processor.post_process_object_detection(
            result, threshold=DETECTION_THRESHOLD, target_sizes=batch.extra["sizes"]
        )
        id2label = getattr(self.model.config, "id2label", None) or {}
        out = []
        for qid, found in zip(batch.ids, detections, strict=True):
            ranked = sorted(
                zip(found["scores"].tolist(), found["labels"].tolist(), found["boxes"].tolist(), strict=True),
                key=lambda found_one: -float(found_one[0]),
            )
            objects = [
                {
                    "label": str(id2label.get(label, label)),
                    "score": float(score),
                    "box": [float(v) for v in box],
                }
                for score, label, box in ranked
            ]
            out.append({"id": qid, "objects": len(objects), "top": objects[:3]})
        return out


class ImageToTextRunner(_GenerationRunner, _ImageRunner):
    """Image captioning: the image's pixels in, exactly the workload's new tokens out, greedy."""

    task = "image-to-text"
    preprocessing = "captioning"

    def _encode_media(self, ids: list[str], inputs: Sequence[Any]) -> tuple[Batch, int]:
        batch = self._pixels(ids, inputs)
        batch.inputs = {k: v for k, v in batch.inputs.items() if k.startswith("pixel_")}
        return batch, 0

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        try:
            return super()._forward(batch, prefill=prefill)
        except (ValueError, TypeError) as exc:  # a chat VLM that wants a text prompt beside the image
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WrongTaskError(
                f"{self.info.id} does not caption an image from its pixels alone ({text[:160]}); "
                "image-to-text needs a captioner such as BLIP, GIT or a VisionEncoderDecoderModel"
            ) from None

    def _new_tokens(self, batch: Batch, result: Any) -> Any:
        # What generate() returns may start with tokens the model did not generate: the decoder's
        # start (an encoder-decoder), the text model's bos (BLIP, GIT). With min = max new tokens
        # (the canonical settings) the generated ones are exactly the last max_new_tokens.
        width = int(result.shape[1])
        return result[:, max(0, width - int(self.generation_config.max_new_tokens)) :]

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        return self._decode_new(batch, result, "caption")
