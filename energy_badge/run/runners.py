"""The runner of each task: :data:`RUNNERS` maps a task to its runner class."""

from __future__ import annotations

from energy_badge.run.diffusion import TextToImageRunner
from energy_badge.run.encoders import (
    QuestionAnsweringRunner,
    SentenceSimilarityRunner,
    TextClassificationRunner,
)
from energy_badge.run.generation import SummarizationRunner, TextGenerationRunner
from energy_badge.run.runner import TaskRunner
from energy_badge.run.speech import SpeechRecognitionRunner
from energy_badge.run.vision import ImageClassificationRunner, ImageToTextRunner, ObjectDetectionRunner

__all__ = ["RUNNERS"]

RUNNERS: dict[str, type[TaskRunner]] = {
    r.task: r
    for r in (
        TextClassificationRunner,
        SentenceSimilarityRunner,
        QuestionAnsweringRunner,
        SummarizationRunner,
        TextGenerationRunner,
        ImageClassificationRunner,
        ObjectDetectionRunner,
        SpeechRecognitionRunner,
        ImageToTextRunner,
        TextToImageRunner,
    )
}
