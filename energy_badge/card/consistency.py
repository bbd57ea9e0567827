"""Does the card say something the result contradicts? Its ``pipeline_tag`` or its ``base_model``.

A contradiction is only *reported*, never a refusal: ``card`` and ``publish`` print each one as a
``warning:`` line and go on. The card's ``pipeline_tag`` is the one task the Hub's widget shows,
while a model may honestly be measured on another (an encoder whose card still says ``fill-mask``,
a ``text2text-generation`` model on the summarization workload), and a ``base_model`` may be
copied from a template; refusing on such a heuristic would block honest users and unattended runs.
What "contradicts" means, exactly:

* **pipeline_tag**: the card's ``pipeline_tag`` is one of the Hub tags in :data:`PIPELINE_TAG_TASKS`
  and the result's task is not among the tasks listed for it (``sentence-similarity`` and
  ``feature-extraction`` agree with the sentence-similarity workload; an image or audio tag agrees
  with its own task's workload only). A tag not in the table says nothing either way. Every tag's
  ``--task auto`` choice (:func:`energy_badge.tasks.task_for_pipeline_tag`) is among the tasks
  listed for it.
* **base_model**: the result measured a Hub model whose id (compared case-insensitively, as the Hub
  does) is one of the card's ``base_model`` entries: the card describes a model *derived* from the
  one measured, so the badge would describe another model.
"""

from __future__ import annotations

from collections.abc import Mapping

from energy_badge.card.edit import read_front_matter
from energy_badge.errors import InvalidFileError

__all__ = ["PIPELINE_TAG_TASKS", "card_conflicts", "front_matter_conflicts"]

_ENCODER_TASKS = frozenset({"text-classification", "sentence-similarity", "question-answering"})
_NONE: frozenset[str] = frozenset()

PIPELINE_TAG_TASKS: Mapping[str, frozenset[str]] = {
    "text-classification": frozenset({"text-classification"}),
    "zero-shot-classification": frozenset({"text-classification"}),
    "sentence-similarity": frozenset({"sentence-similarity"}),
    "feature-extraction": frozenset({"sentence-similarity"}),
    "question-answering": frozenset({"question-answering"}),
    "summarization": frozenset({"summarization"}),
    "text2text-generation": frozenset({"summarization", "text-generation"}),
    "text-generation": frozenset({"text-generation"}),
    "image-text-to-text": frozenset({"text-generation", "image-to-text"}),
    "fill-mask": _ENCODER_TASKS,
    "token-classification": _NONE,
    "table-question-answering": _NONE,
    "image-classification": frozenset({"image-classification"}),
    "object-detection": frozenset({"object-detection"}),
    "image-segmentation": _NONE,
    "image-to-text": frozenset({"image-to-text"}),
    "text-to-image": frozenset({"text-to-image"}),
    "automatic-speech-recognition": frozenset({"automatic-speech-recognition"}),
    "audio-classification": _NONE,
    "text-to-speech": _NONE,
    "text-to-audio": _NONE,
}
"""Hub pipeline tags, and the energy-badge tasks each agrees with (empty: none of them)."""


def front_matter_conflicts(
    front_matter: Mapping[str, object] | None, *, task: str, model_id: str, hub_model: bool
) -> tuple[str, ...]:
    """What a card's front matter says that the result contradicts (see the module docstring).

    Args:
        front_matter: the card's front matter as plain data (:func:`read_front_matter`), or None.
        task: the task the result measured.
        model_id: the model the result measured.
        hub_model: whether ``model_id`` is a Hub model id (a local folder's name is never compared
            with ``base_model``).

    Returns:
        One line per contradiction (empty when there is none).
    """
    if not front_matter:
        return ()
    found = []
    tag = front_matter.get("pipeline_tag")
    if isinstance(tag, str) and tag in PIPELINE_TAG_TASKS and task not in PIPELINE_TAG_TASKS[tag]:
        agrees = sorted(PIPELINE_TAG_TASKS[tag])
        expected = f" (it agrees with {' or '.join(agrees)})" if agrees else " (none of energy-badge's tasks)"
        found.append(f"the card's pipeline_tag is {tag}{expected}, but the result measured {task}")
    base = front_matter.get("base_model")
    bases = [base] if isinstance(base, str) else base if isinstance(base, list) else []
    if hub_model and any(isinstance(b, str) and b.casefold() == model_id.casefold() for b in bases):
        found.append(
            f"the card names {model_id} as its base_model, but the result measured {model_id} itself, "
            "not the model this card describes"
        )
    return tuple(found)


def card_conflicts(card_text: str, *, task: str, model_id: str, hub_model: bool) -> tuple[str, ...]:
    """:func:`front_matter_conflicts` for a card's text; a card whose front matter cannot be read
    has none (the edit refuses such a card with its own message).

    Args:
        card_text: the decoded README.md.
        task: the task the result measured.
        model_id: the model the result measured.
        hub_model: whether ``model_id`` is a Hub model id.

    Returns:
        One line per contradiction.
    """
    if "pipeline_tag" not in card_text and "base_model" not in card_text:
        return ()  # nothing to compare: no need to parse
    try:
        front_matter = read_front_matter(card_text)
    except InvalidFileError:
        return ()
    return front_matter_conflicts(front_matter, task=task, model_id=model_id, hub_model=hub_model)
