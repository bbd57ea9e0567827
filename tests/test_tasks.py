"""What a query of each task is called (badge, label, card, summaries, leaderboard), and which task
``--task auto`` picks from a Hub pipeline tag.

Nothing is simulated but the results: they are SYNTHETIC (tests/results_factory.py), one per
task. The tag mapping reads optimum's TasksManager synonyms (the table generated from it and
checked against the live TasksManager by tests/test_optimum_table.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from results_factory import make_energy_result

from energy_badge.card import PIPELINE_TAG_TASKS, front_matter_conflicts
from energy_badge.publish import badge_alt_text, commit_description
from energy_badge.rating import rate
from energy_badge.render import badge_message, badge_svg, label_layout, label_svg, shields_json
from energy_badge.service.page import Entry, render_page
from energy_badge.summary import result_markdown
from energy_badge.tasks import QUERY_PHRASES, energy_unit, query_noun, query_phrase, task_for_pipeline_tag
from energy_badge.workload import TASKS

TEN = (
    "text-classification",
    "sentence-similarity",
    "question-answering",
    "summarization",
    "text-generation",
    "image-classification",
    "object-detection",
    "automatic-speech-recognition",
    "image-to-text",
    "text-to-image",
)
WORDS = {
    "image-classification": ("images classified", "images"),
    "object-detection": ("images searched for objects", "images"),
    "automatic-speech-recognition": ("clips transcribed", "clips"),
    "image-to-text": ("captions written", "captions"),
    "text-to-image": ("images generated", "images"),
    "text-classification": ("texts classified", "texts"),
}


def as_task(task: str, value: float = 0.8):
    """A synthetic canonical H100 result of ``task`` with ``value`` Wh per 1000 queries."""
    return make_energy_result(task=task, samples=(value * 0.99, value, value * 1.01))


def test_every_task_with_a_workload_has_its_words_and_the_table_has_no_others():
    assert set(QUERY_PHRASES) == set(TEN) and set(TASKS) <= set(QUERY_PHRASES)
    assert energy_unit("no-such-task") == "Wh per 1000 queries" and query_noun("x") == "queries"


@pytest.mark.parametrize("task", sorted(WORDS))
def test_badge_label_card_and_summary_say_what_a_query_is(task):
    phrase, noun = WORDS[task]
    assert (query_phrase(task), query_noun(task)) == (phrase, noun)
    result = as_task(task)
    rating = rate(result)
    assert badge_message(rating).endswith(f" Wh/1k {noun}")
    assert shields_json(rating)["message"] == badge_message(rating)
    svg = ET.fromstring(badge_svg(result, rating))
    assert f"Wh per 1000 {phrase}" in svg.get("aria-label", "")
    label = label_svg(result, rating)
    assert phrase in label and "Wh per 1000" in label
    assert badge_alt_text(rating).endswith(f"Wh per 1000 {phrase}")
    assert f"Wh per 1000 {phrase}" in result_markdown(result, rating)
    assert f"Wh per 1000 {phrase}" in commit_description(result, rating)


@pytest.mark.parametrize("value", [0.0051234, 1.5, 123456.7])
@pytest.mark.parametrize("task", TEN)
def test_the_labels_unit_is_never_cut_however_wide_the_figure(task, value):
    """A long phrase ("images searched for objects") beside a wide figure goes on its own line
    rather than being shortened with an ellipsis."""
    result = as_task(task, value)
    rating = rate(result)
    assert rating.value is not None
    _, texts, _, _ = label_layout(result, rating)
    unit = [t for t in texts if "Wh per 1000" in t.text or query_phrase(task) in t.text]
    assert " ".join(t.text for t in unit).endswith(energy_unit(task).removeprefix("Wh per 1000"))
    assert all("…" not in t.text and t.width <= t.room + 1e-6 for t in unit), unit


def test_the_leaderboard_heads_each_task_with_its_unit():
    entries = [
        Entry(
            model=f"org/{task}", task=task, stars=3, wh=1.0, low=None, high=None, hardware="H100", date="2026"
        )
        for task in ("image-to-text", "automatic-speech-recognition")
    ]
    page = render_page(entries)
    assert "Wh per 1000 captions written" in page and "Wh per 1000 clips transcribed" in page


@pytest.mark.parametrize(
    ("tag", "task"),
    [
        ("image-to-text", "image-to-text"),
        ("image-captioning", "image-to-text"),
        ("image-text-to-text", "image-to-text"),
        ("image-classification", "image-classification"),
        ("object-detection", "object-detection"),
        ("automatic-speech-recognition", "automatic-speech-recognition"),
        ("text-to-image", "text-to-image"),
        ("text-classification", "text-classification"),
        ("zero-shot-classification", "text-classification"),  # optimum's synonym
        ("sentence-similarity", "sentence-similarity"),
        ("feature-extraction", "sentence-similarity"),  # as the card check agrees
        ("summarization", "summarization"),
        ("text2text-generation", "summarization"),  # optimum's synonym of summarization
        ("text-generation", "text-generation"),
        ("question-answering", "question-answering"),
    ],
)
def test_pipeline_tags_map_to_tasks_through_optimums_synonyms(tag, task):
    choice = task_for_pipeline_tag(tag)
    assert (choice.pipeline_tag, choice.task, choice.reason) == (tag, task, None)


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        (None, "the model has no pipeline tag on the Hub: give --task"),
        ("", "the model has no pipeline tag on the Hub: give --task"),
        ("fill-mask", "pipeline tag 'fill-mask' names no task energy-badge measures"),
        ("text-to-speech", "pipeline tag 'text-to-speech' names no task energy-badge measures"),
        ("translation", "translation models are not measured on the summarization workload"),
        ("<script>", "pipeline tag '<script>' names no task"),
    ],
)
def test_unsupported_or_missing_tags_give_no_task_and_say_why(tag, reason):
    choice = task_for_pipeline_tag(tag)
    assert choice.task is None and reason in str(choice.reason)


def test_the_card_check_agrees_with_every_task_auto_would_choose():
    """The card's pipeline_tag check (card/consistency.py) and --task auto read the same tags the
    same way: whatever task auto picks for a tag, a card with that tag agrees with the result."""
    for tag, agreeing in PIPELINE_TAG_TASKS.items():
        choice = task_for_pipeline_tag(tag)
        if choice.task is not None:
            assert choice.task in agreeing, (tag, choice.task, agreeing)


@pytest.mark.parametrize(
    ("tag", "task", "conflict"),
    [
        ("image-to-text", "image-to-text", False),
        ("image-text-to-text", "image-to-text", False),
        ("automatic-speech-recognition", "automatic-speech-recognition", False),
        ("text-to-image", "text-to-image", False),
        ("object-detection", "image-classification", True),
        ("image-to-text", "text-classification", True),
    ],
)
def test_a_media_cards_pipeline_tag_agrees_with_its_own_tasks_result(tag, task, conflict):
    found = front_matter_conflicts({"pipeline_tag": tag}, task=task, model_id="org/m", hub_model=True)
    assert bool(found) is conflict, found
