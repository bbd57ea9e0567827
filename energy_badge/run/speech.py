"""The speech recognition runner: one 16 kHz mono clip in, its transcript out.

The model's feature extractor turns each clip into model inputs in
:meth:`~energy_badge.run.media.MediaRunner.prepare`, before any measured window (Whisper: a log-mel
spectrogram of the clip padded, or cut, to 30 s; wav2vec2: the normalized waveform).

- A sequence-to-sequence model (Whisper) runs ``generate()`` with the workload's complete, explicit
  configuration: exactly the manifest's new tokens, greedy
  (:func:`energy_badge.run.generation.make_generation_config`). A multilingual Whisper is told the
  language (English) and the task (transcribe), so no query spends a pass detecting the language and
  every model does the same work.
- A CTC model (wav2vec2) runs one forward; the transcript is the greedy CTC decoding of its logits,
  read after the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from energy_badge.errors import UsageError
from energy_badge.run.generation import _GenerationRunner
from energy_badge.run.media import MediaRunner
from energy_badge.run.runner import Batch

__all__ = ["SAMPLING_RATE", "SpeechRecognitionRunner"]

#: The workload's audio: 16 kHz mono.
SAMPLING_RATE = 16_000

#: Whisper's own knobs copied from the model's generation config: what its ``generate()`` needs to
#: lay out the decoder prompt (language and task tokens), not decoding choices.
_WHISPER_KEYS = (
    "lang_to_id",
    "task_to_id",
    "no_timestamps_token_id",
    "is_multilingual",
    "max_initial_timestamp_index",
    "prev_sot_token_id",
    "alignment_heads",
)


class SpeechRecognitionRunner(_GenerationRunner, MediaRunner):
    """Speech recognition: Whisper-style ``generate()``, or one CTC forward (by the model's kind)."""

    task = "automatic-speech-recognition"
    preprocessing = "audio"
    cost_name = "audio_seconds"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seq2seq = bool(getattr(self.model.config, "is_encoder_decoder", False))

    # -- preparation ---------------------------------------------------------------------------

    def _configure(self, workload: Any) -> None:
        if not self.seq2seq:
            return  # a CTC model generates nothing: one forward, no generation settings
        super()._configure(workload)
        base = getattr(self.model, "generation_config", None)
        for config in (self.generation_config, self.prefill_config):
            for key in _WHISPER_KEYS:
                if base is not None and getattr(base, key, None) is not None:
                    setattr(config, key, getattr(base, key))
            if getattr(config, "is_multilingual", False):
                config.language = "en"
                config.task = "transcribe"
            config.return_timestamps = False
        self.model.generation_config = self.generation_config

    def _cost(self, item: Any) -> float:
        return float(len(item)) / SAMPLING_RATE

    def _encode_media(self, ids: list[str], inputs: Sequence[Any]) -> tuple[Batch, int]:
        extractor = self.processor
        rate = getattr(extractor, "sampling_rate", SAMPLING_RATE)
        if rate != SAMPLING_RATE:
            raise UsageError(
                f"{self.info.id}'s feature extractor expects {rate} Hz audio; "
                f"the workload is {SAMPLING_RATE} Hz"
            )
        clips = [_as_array(x) for x in inputs]
        kwargs: dict[str, Any] = {"sampling_rate": SAMPLING_RATE, "return_tensors": "pt"}
        if not self.seq2seq:
            kwargs["padding"] = True
        encoded = extractor(clips, **kwargs)
        limit = getattr(extractor, "n_samples", None)  # Whisper: 30 s; longer clips are cut
        truncated = sum(1 for c in clips if isinstance(limit, int) and len(c) > limit)
        inputs_ = self._model_kwargs(encoded)
        if self.seq2seq:
            inputs_ = {k: v for k, v in inputs_.items() if k in ("input_features", "attention_mask")}
        return Batch(ids, inputs_, [0] * len(ids)), truncated

    # -- the measured work ---------------------------------------------------------------------

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        if self.seq2seq:
            return super()._forward(batch, prefill=prefill)
        return self.model(**batch.inputs).logits

    def _output_tokens(self, batch: Batch, result: Any) -> int:
        return super()._output_tokens(batch, result) if self.seq2seq else 0

    def _new_tokens(self, batch: Batch, result: Any) -> Any:
        return result[:, -self.generation_config.max_new_tokens :]

    # -- reading the outputs (after the window) ------------------------------------------------

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        if self.seq2seq:
            return self._decode_new(batch, result, "text")
        ids = result.argmax(dim=-1)
        if self.tokenizer is None:
            return [{"id": qid, "text": None} for qid in batch.ids]
        texts = self.tokenizer.batch_decode(ids)
        return [{"id": qid, "text": text} for qid, text in zip(batch.ids, texts, strict=True)]


def _as_array(clip: Any) -> Any:
    """A 1-D float32 numpy array of samples."""
    import numpy as np

    array = np.asarray(clip, dtype=np.float32)
    if array.ndim != 1:
        raise UsageError(f"an audio query must be 1-D mono samples, not shape {array.shape}")
    return array
