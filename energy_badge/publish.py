"""From a rated result to what goes on the model's Hub page: the card metadata, the badge Markdown,
the card edit and the publish plan.

This module composes the stages (result -> rating -> render -> card -> hub); it prints nothing and
touches no network. :mod:`energy_badge.hub` carries out the :class:`~energy_badge.hub.PublishPlan`
made here::

    result = load_result("result.json")
    rating = rate(result, load_table())
    outcome = hub.commit_plan(publish_plan(result, rating, create_pr=True))

What is published to the model repository:

* ``energy/result.json``: the result file itself (exactly :meth:`EnergyResult.to_json`), so anyone can
  check how the number was measured;
* ``energy/badge.svg``: the badge (:func:`energy_badge.render.badge_svg`);
* ``README.md``: the ``energy_score:`` metadata key (:func:`card_metadata`) and the badge block
  (:func:`card_block`), and nothing else changed (:mod:`energy_badge.card`).

What the key, the badge's text and the block say is :mod:`energy_badge.card_content`'s (its
functions and paths are importable from here too); this module edits the card with them and
makes the plan.

A badge must describe the real model measured the canonical way, so every function here first
asks the policy (:func:`energy_badge.policy.check_publishable`), which refuses a non-canonical
result (random weights included) or one without an interval or hardware class
(:class:`~energy_badge.errors.NotCanonicalError`, exit code 4). The repository is the result's own
model for a Hub model; a result measured on a local folder needs an explicit repository, and a Hub
model's result cannot be published to another repository (:class:`~energy_badge.errors.InputError`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from energy_badge.card_content import (
    BADGE_PATH,
    REASONING_ON_RESULT_PATH,
    RESULT_PATH,
    badge_markdown,
    card_block,
    card_metadata,
    reasoning_on_multiplier,
    workload_label,
)
from energy_badge.card_content import badge_alt_text as badge_alt_text  # used from here
from energy_badge.errors import InputError
from energy_badge.tasks import energy_unit, query_phrase
from energy_badge.text import stars_text, utc_date

if TYPE_CHECKING:
    from energy_badge.card import CardEdit
    from energy_badge.hub import PublishPlan
    from energy_badge.multiplier import ReasoningMultiplier
    from energy_badge.rating import Rating
    from energy_badge.result import EnergyResult

__all__ = [
    "AUTOMATED_COMMIT_TITLE",
    "BADGE_PATH",
    "COMMIT_TITLE",
    "OPT_OUT_KEY",
    "REASONING_ON_RESULT_PATH",
    "RESULT_PATH",
    "badge_markdown",
    "card_block",
    "card_edit",
    "card_metadata",
    "commit_description",
    "edit_card_file",
    "publish_plan",
    "resolve_repo_id",
]

COMMIT_TITLE = "Add AI energy badge (energy-badge)"
#: The title of a change made by a bot labelling models in bulk (``automated=True``). It is also how
#: :func:`energy_badge.hub.commit_plan` finds the bot's open pull request again, so it never changes.
AUTOMATED_COMMIT_TITLE = "Add AI energy badge (automated, energy-badge)"
#: The top-level card key that opts a model out of automated badges (``energy_badge: false``).
OPT_OUT_KEY = "energy_badge"


# --------------------------------------------------------------------------------------------
# The repository


def resolve_repo_id(result: EnergyResult, repo_id: str | None = None) -> str:
    """The Hub model repository a result is published to.

    Args:
        result: the result.
        repo_id: the repository asked for (``--repo``), or None.

    Returns:
        ``repo_id`` for a result measured on a local folder; the result's model id for a Hub model.

    Raises:
        InputError: a local-folder result without ``repo_id``; a Hub model's result with a different
            ``repo_id`` (its badge belongs to the model that was measured); a malformed repo id.
    """
    if result.model_source == "hub":
        if repo_id is not None and repo_id != result.model_id:
            raise InputError(
                f"the result measured the Hub model {result.model_id}, so its badge can only go to "
                f"{result.model_id}, not to {repo_id}: drop --repo, or measure {repo_id} itself"
            )
        target = result.model_id
    else:
        if repo_id is None:
            raise InputError(
                f"the result measured a local folder ({result.model_id}): say which Hub model it is "
                "with --repo org/name"
            )
        target = repo_id
    from energy_badge.hub import is_repo_id

    if not is_repo_id(target):
        raise InputError(f"{target!r} is not a Hub model repo id (expected org/name)")
    return target


# --------------------------------------------------------------------------------------------
# The card edit


def card_edit(
    result: EnergyResult, rating: Rating, readme_text: str, *, reasoning_on: EnergyResult | None = None
) -> CardEdit:
    """Apply the result's metadata key and badge block to a card's text.

    Args:
        result: the result.
        rating: its rating.
        readme_text: the card as decoded text (``""`` for a repository without one).
        reasoning_on: the same model's reasoning-on result: the block and the key add the multiplier.

    Returns:
        The :class:`~energy_badge.card.CardEdit`; ``changed`` is False when the card already says this.

    Raises:
        NotCanonicalError: the result is not publishable (:func:`energy_badge.policy.check_publishable`).
        InvalidFileError: the card cannot be edited safely.
        UsageError: ``reasoning_on`` is not this model's reasoning-on result.
    """
    from energy_badge.card import apply_to_card

    metadata = card_metadata(result, rating, reasoning_on=reasoning_on)
    return apply_to_card(
        readme_text, metadata, card_block(result, rating, reasoning_on_multiplier(result, reasoning_on))
    )


def edit_card_file(
    result: EnergyResult,
    rating: Rating,
    path: str | os.PathLike[str],
    *,
    write: bool = False,
    reasoning_on: EnergyResult | None = None,
) -> CardEdit:
    """Apply :func:`card_edit` to a README.md on disk; with ``write``, save the change atomically.

    The file is read as bytes and written back as the exact bytes of the edited text (a temporary
    file in the same folder, with the original's permissions, renamed over it), so every byte
    outside the key and the block is kept and a failure leaves the original untouched. Nothing is
    written when nothing changes. The card must be a regular file of at most
    :data:`~energy_badge.card.MAX_CARD_BYTES`: a symbolic link is neither followed nor written
    through (it could show ``/proc/self/environ`` in the diff, or overwrite a file elsewhere), and a
    FIFO or device is refused without being read.

    Args:
        result: the result.
        rating: its rating.
        path: the README.md.
        write: save the change; False only computes it.
        reasoning_on: as :func:`card_edit`.

    Returns:
        The :class:`~energy_badge.card.CardEdit`.

    Raises:
        InvalidFileError: the file cannot be read, is a symbolic link or not a regular file, is too
            large, is not UTF-8, or cannot be edited safely.
        NotCanonicalError, InputError: as :func:`card_edit`.
    """
    from energy_badge.card import MAX_CARD_BYTES
    from energy_badge.files import read_text, write_atomic

    text = read_text(path, max_bytes=MAX_CARD_BYTES, follow_symlinks=False)
    edit = card_edit(result, rating, text, reasoning_on=reasoning_on)
    if write and edit.changed:
        write_atomic(path, edit.updated.encode("utf-8"), follow_symlinks=False)
    return edit


# --------------------------------------------------------------------------------------------
# The publish plan


def commit_description(
    result: EnergyResult,
    rating: Rating,
    *,
    automated: bool = False,
    reasoning_on: ReasoningMultiplier | None = None,
) -> str:
    """The commit (and pull request) description: how the number was measured, and what changed.

    Args:
        result: the result.
        rating: its rating.
        automated: the change is made by a bot labelling models in bulk: the description starts by
            saying so, and how to decline it or opt the model out (``energy_badge: false``).
        reasoning_on: the reasoning-on multiplier, when the same model's reasoning-on result is
            published too: a line says it and names its file.
    """
    from energy_badge.card import BLOCK_END, BLOCK_START, METADATA_KEY

    energy = result.gpu_energy
    assert energy is not None  # a result without energy is not publishable
    workload, model, measurement = result.workload, result.model, result.measurement
    pinned = (
        f" at revision `{model.revision}`"
        if model.revision
        else (f" (local files, sha256 `{model.content_sha256}`)" if model.content_sha256 else "")
    )
    gpu = result.gpu_name or result.hardware_class or "no GPU recorded"
    if result.hardware_class and gpu != result.hardware_class:
        gpu += f" (hardware class {result.hardware_class})"
    interval = (
        f", 95 % interval {energy.ci95_low:.4g} to {energy.ci95_high:.4g}"
        if energy.ci95_low is not None and energy.ci95_high is not None
        else ""
    )
    if rating.stars is not None:
        stars = stars_text(rating.stars)
        rated = f"{stars} ({rating.stars} of 5 stars)"
    else:
        rated = f"unrated: {rating.unrated_reason}"
    table = f"rating table {rating.table_version} ({rating.method} bands)"
    if rating.table_status == "provisional":
        table += "; the table is provisional: not yet calibrated from energy-badge measurements"
    batch = workload.batch_size
    lines = []
    if automated:
        lines += [
            "**This is an automated change.** A bot running energy-badge measures Hub models in bulk and "
            "proposes an energy badge for each one; nobody reviewed this particular change by hand.",
            "",
            "- To decline it, close this pull request: the bot never opens another one for this model.",
            f"- To opt this model out of automated badges for good, add `{OPT_OUT_KEY}: false` to the YAML "
            "front matter of the model card: the bot reads it before every change it makes.",
            "",
        ]
    lines += [
        f"This change was generated by energy-badge {_tool_version()}. It adds an AI energy badge to the "
        "model card, from a measurement of this model's GPU energy on a fixed, task-specific workload.",
        "",
        "How the number was measured:",
        f"- model: `{result.model_id}`{pinned}, {model.parameters:,} parameters, {model.dtype}",
        f"- workload: `{workload_label(result)}` ({workload.queries} {result.task} queries: "
        f"{query_phrase(result.task)}, batch size "
        f"{batch}), sha256 of its inputs `{workload.sha256}`",
        f"- hardware: {gpu}",
        f"- meter: GPU energy counter via {measurement.meter}, {energy.n} repetitions of the whole "
        f"workload after a warm-up, measured on {utc_date(result.created_at)} with energy-badge "
        f"{result.tool_version}",
        f"- result: {energy.mean:.4g} {energy_unit(result.task)} (mean over the repetitions{interval})",
        f"- rating: {rated}, against {table}",
    ]
    if reasoning_on is not None:
        from energy_badge.text import reasoning_multiplier

        lines.append(
            f"- {reasoning_multiplier(reasoning_on)}, measured the same way (`{REASONING_ON_RESULT_PATH}`)"
        )
    lines += [
        "",
        "What changed:",
        f"- `{RESULT_PATH}`: the full result file (every repetition, the hardware and software versions)",
        f"- `{BADGE_PATH}`: the badge",
        f"- `README.md`: the `{METADATA_KEY}:` key in the YAML front matter and the badge between "
        f"`{BLOCK_START}` and `{BLOCK_END}`; nothing else in the card changes",
        "",
        "The block and the key are generated: running energy-badge again replaces them in place. To "
        f"remove the badge, delete the block, the `{METADATA_KEY}:` key and the `energy/` folder.",
    ]
    return "\n".join(lines) + "\n"


def publish_plan(
    result: EnergyResult,
    rating: Rating,
    *,
    repo_id: str | None = None,
    create_pr: bool = False,
    automated: bool = False,
    on_warning: Callable[[str], None] | None = None,
    reasoning_on: EnergyResult | None = None,
) -> PublishPlan:
    """The :class:`~energy_badge.hub.PublishPlan` that puts a result's badge on its model's Hub page.

    Args:
        result: the result.
        rating: its rating.
        repo_id: the model repository; required for a local-folder result, and for a Hub model's
            result it must be the result's own model when given.
        create_pr: open (or update) a pull request instead of committing to ``main``.
        automated: a bot labelling models in bulk makes the change: the title is
            :data:`AUTOMATED_COMMIT_TITLE` and the description says it is automated and how to opt out.
        on_warning: called with each line of :func:`energy_badge.card.card_conflicts` (the card's
            ``pipeline_tag`` or ``base_model`` contradicts the result) each time the README is
            edited; a contradiction is reported, never a refusal.
        reasoning_on: the same model's reasoning-on result: the card's block and key, the badge's
            description and the commit add the multiplier, and the file goes to
            :data:`REASONING_ON_RESULT_PATH`.

    Returns:
        The plan: files ``energy/badge.svg`` and ``energy/result.json``, a README edit that writes the
        metadata key and the badge block (byte-exact elsewhere, idempotent), the commit title
        :data:`COMMIT_TITLE` (or :data:`AUTOMATED_COMMIT_TITLE`) and a description saying how the
        number was measured.

    Raises:
        NotCanonicalError: the result is not publishable (:func:`energy_badge.policy.check_publishable`).
        InputError: as :func:`resolve_repo_id`.
        UsageError: ``reasoning_on`` is not this model's reasoning-on result.
    """
    from energy_badge.card import apply_to_card_bytes, card_conflicts
    from energy_badge.hub import PublishPlan
    from energy_badge.render import badge_svg

    metadata = card_metadata(result, rating, reasoning_on=reasoning_on)
    target = resolve_repo_id(result, repo_id)
    multiplier = reasoning_on_multiplier(result, reasoning_on)
    markdown = card_block(result, rating, multiplier)
    files = {
        BADGE_PATH: badge_svg(result, rating, multiplier).encode("utf-8"),
        RESULT_PATH: result.to_json().encode("utf-8"),
    }
    if reasoning_on is not None:
        files[REASONING_ON_RESULT_PATH] = reasoning_on.to_json().encode("utf-8")

    def edit_readme(data: bytes) -> bytes:
        updated = apply_to_card_bytes(data, metadata, markdown)[0]
        if on_warning is not None:
            hub_model = result.model_source == "hub"
            text = data.decode("utf-8")  # it decoded in the edit above
            for line in card_conflicts(text, task=result.task, model_id=result.model_id, hub_model=hub_model):
                on_warning(line)
        return updated

    return PublishPlan(
        repo_id=target,
        files=files,
        edit_readme=edit_readme,
        commit_title=AUTOMATED_COMMIT_TITLE if automated else COMMIT_TITLE,
        commit_description=commit_description(result, rating, automated=automated, reasoning_on=multiplier),
        create_pr=create_pr,
    )


# --------------------------------------------------------------------------------------------
# Helpers


def _tool_version() -> str:
    from energy_badge import __version__

    return __version__
