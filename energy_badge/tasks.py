"""What each task's query is called, and which task a Hub model's ``pipeline_tag`` names.

The one place that decides both:

* :func:`query_phrase` / :func:`query_noun` / :func:`energy_unit`: what one query of a task is, in
  words, for everything a person reads (the badge, the label, the card's badge line, summaries):
  ``Wh per 1000 captions written`` rather than ``Wh per 1000 queries``. The data files keep the
  unit ``Wh per 1000 queries`` (one query = one item of the task's workload).
* :func:`task_for_pipeline_tag`: ``--task auto`` (``bulk``, ``serve``, ``worker``) measures each
  model on the task its Hub ``pipeline_tag`` names. The tag is mapped through optimum's task
  synonyms (``optimum.exporters.tasks.TasksManager.map_from_synonym``: ``summarization`` and
  ``text2text-generation``, ``sentence-similarity`` and ``feature-extraction``,
  ``zero-shot-classification`` and ``text-classification``...) to optimum's task name, and that name
  to one of the tasks with a canonical workload (:data:`energy_badge.workload.TASKS`), by the same
  resolution the loader uses (:func:`energy_badge.run.fit.resolve_task`), after a few Hub tags
  optimum has no synonym for. A tag that names none of them (or no tag at all) gives no task and
  the reason, and so does a tag whose synonym the loader refuses
  (:data:`energy_badge.run.fit.REFUSED_SYNONYMS`: ``translation`` is no summarization,
  ``image-feature-extraction`` no sentence embedding).

Importing this module is cheap, and so is mapping a tag: optimum's synonyms are read from the table
generated from it (:mod:`energy_badge.run.optimum_table`), not from an import of optimum.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "AUTO",
    "QUERY_PHRASES",
    "QueryPhrase",
    "TaskChoice",
    "energy_unit",
    "query_noun",
    "query_phrase",
    "task_for_pipeline_tag",
]

AUTO = "auto"
"""The ``--task`` value that measures each model on the task its Hub pipeline tag names."""


@dataclass(frozen=True)
class QueryPhrase:
    """What one query of a task is, in words.

    Attributes:
        phrase: after "per 1000": ``captions written``, ``clips transcribed``.
        noun: the short form on the badge, after "Wh/1k": ``captions``, ``clips``.
    """

    phrase: str
    noun: str


QUERY_PHRASES: Mapping[str, QueryPhrase] = {
    "text-classification": QueryPhrase("texts classified", "texts"),
    "sentence-similarity": QueryPhrase("sentences embedded", "sentences"),
    "question-answering": QueryPhrase("questions answered", "answers"),
    "summarization": QueryPhrase("summaries written", "summaries"),
    "text-generation": QueryPhrase("replies generated", "replies"),
    "image-classification": QueryPhrase("images classified", "images"),
    "object-detection": QueryPhrase("images searched for objects", "images"),
    "automatic-speech-recognition": QueryPhrase("clips transcribed", "clips"),
    "image-to-text": QueryPhrase("captions written", "captions"),
    "text-to-image": QueryPhrase("images generated", "images"),
}
"""Every task's query in words (a task missing here reads as plain ``queries``)."""

_GENERIC = QueryPhrase("queries", "queries")


def query_phrase(task: str) -> str:
    """What 1000 queries of ``task`` are: ``captions written`` (``queries`` for an unknown task)."""
    return QUERY_PHRASES.get(task, _GENERIC).phrase


def query_noun(task: str) -> str:
    """The badge's short word for a query of ``task``: ``captions`` (``queries`` for an unknown task)."""
    return QUERY_PHRASES.get(task, _GENERIC).noun


def energy_unit(task: str) -> str:
    """The energy unit in words for ``task``: ``Wh per 1000 captions written``."""
    return f"Wh per 1000 {query_phrase(task)}"


# --------------------------------------------------------------------------------------------
# --task auto: the Hub's pipeline tag -> a task


#: Hub tags (and common names) optimum has no synonym for, mapped before optimum's synonyms.
#: ``image-text-to-text`` (small vision-language models) writes text about an image: the
#: image-to-text workload captions images.
_HUB_ALIASES: Mapping[str, str] = {
    "image-captioning": "image-to-text",
    "image-text-to-text": "image-to-text",
}


@dataclass(frozen=True)
class TaskChoice:
    """The task ``--task auto`` chose for a model, or why there is none.

    Attributes:
        pipeline_tag: the model's Hub pipeline tag (None: the Hub gave none).
        task: the task to measure it on, or None.
        reason: why there is no task (None when there is one).
    """

    pipeline_tag: str | None
    task: str | None
    reason: str | None = None


@functools.lru_cache(maxsize=256)
def task_for_pipeline_tag(pipeline_tag: str | None) -> TaskChoice:
    """The task a Hub ``pipeline_tag`` names (see the module docstring).

    Args:
        pipeline_tag: the model's pipeline tag, as the Hub gives it (None or empty: none).

    Returns:
        A :class:`TaskChoice`: ``task`` is one of :data:`energy_badge.workload.TASKS`, or None with
        the reason (no tag; a tag no workload measures; a tag optimum maps onto a task whose
        workload does not measure what the model is for).
    """
    from energy_badge.run.fit import REFUSED_SYNONYMS
    from energy_badge.workload import TASKS

    if not pipeline_tag:
        return TaskChoice(None, None, "the model has no pipeline tag on the Hub: give --task")
    tag = pipeline_tag.strip()
    if tag in REFUSED_SYNONYMS:
        return TaskChoice(tag, None, f"pipeline tag {tag!r}: {REFUSED_SYNONYMS[tag]}")
    if tag in TASKS:
        return TaskChoice(tag, tag)
    name = _HUB_ALIASES.get(tag)
    if name is None:
        from energy_badge.errors import UsageError
        from energy_badge.run.fit import resolve_task

        try:
            name = resolve_task(tag)
        except UsageError:
            name = None
    if name is None or name not in TASKS:
        return TaskChoice(
            tag, None, f"pipeline tag {tag!r} names no task energy-badge measures ({', '.join(TASKS)})"
        )
    return TaskChoice(tag, name)
