"""What a badge says on a model's card: the ``energy_score:`` metadata key, the badge's alt text
and Markdown, and the card's block.

:mod:`energy_badge.publish` puts these on the card (:func:`~energy_badge.publish.card_edit`) and
in the publish plan; the result, the badge and the reasoning-on result are published at the paths
here, which the block and the key link to. Every function that summarises a result first asks the
policy (:func:`energy_badge.policy.check_publishable`); nothing here prints or touches the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from energy_badge.policy import check_publishable
from energy_badge.tasks import energy_unit
from energy_badge.text import format_energy, one_line, stars_text, utc_date

if TYPE_CHECKING:
    from energy_badge.multiplier import ReasoningMultiplier
    from energy_badge.rating import Rating
    from energy_badge.result import EnergyResult

__all__ = [
    "BADGE_PATH",
    "REASONING_ON_RESULT_PATH",
    "RESULT_PATH",
    "badge_alt_text",
    "badge_markdown",
    "card_block",
    "card_metadata",
    "reasoning_on_multiplier",
    "workload_label",
]

RESULT_PATH = "energy/result.json"
BADGE_PATH = "energy/badge.svg"
#: Where the same model's reasoning-on result goes when both modes are published (``--reasoning-on``).
REASONING_ON_RESULT_PATH = "energy/result-reasoning-on.json"

_LINE_MAX = 200  # the card schema's limit for one-line strings


def card_metadata(
    result: EnergyResult,
    rating: Rating,
    result_path: str = RESULT_PATH,
    *,
    reasoning_on: EnergyResult | None = None,
) -> dict[str, object]:
    """The value of the card's ``energy_score:`` key (``schemas/card-metadata.schema.json``).

    Energies are the result's GPU energy rounded to 4 significant digits (the full figures are in
    the result file named by ``result``). ``workload`` is ``<workload>@<version>``, with the
    ``energy-badge/`` namespace every canonical workload shares left out. ``tool`` is the
    energy-badge version that measured the result; ``measured_at`` its UTC date. An unrated result
    gets ``stars: null`` and ``unrated_reason`` (cut to one line of at most 200 characters). With
    ``reasoning_on``, ``reasoning_on:`` holds that result's GPU energy, the multiplier with its
    interval (:func:`energy_badge.multiplier.reasoning_multiplier`) and its file's path.

    Args:
        result: a publishable result (see :func:`energy_badge.policy.check_publishable`).
        rating: its rating.
        result_path: where the result file is in the model repository.
        reasoning_on: the same model's reasoning-on result (``result`` then has reasoning off).

    Returns:
        The mapping, valid against the card metadata schema.

    Raises:
        NotCanonicalError: the result is not publishable (no interval, no hardware class, not
            canonical): such a result cannot be summarised on a card.
        UsageError: ``reasoning_on`` is not this model's reasoning-on result.
    """
    from energy_badge.card import validate_metadata

    check_publishable(result)
    energy = result.gpu_energy
    assert energy is not None and energy.ci95_low is not None and energy.ci95_high is not None
    assert result.hardware_class is not None  # check_publishable guarantees these
    metadata: dict[str, object] = {"stars": rating.stars}
    if rating.stars is None:
        metadata["unrated_reason"] = one_line(rating.unrated_reason or "not rated", _LINE_MAX)
    metadata.update(
        {
            "task": result.task,
            "wh_per_1k_queries": {
                "value": _round(energy.mean),
                "ci95_low": max(0.0, _round(energy.ci95_low)),
                "ci95_high": _round(energy.ci95_high),
            },
            "hardware": one_line(result.gpu_name or result.hardware_class, _LINE_MAX),
            "hardware_class": result.hardware_class,
            "workload": workload_label(result),
            "rating_table": rating.table_version,
            "measured_at": utc_date(result.created_at),
            "tool": f"energy-badge {result.tool_version}",
            "result": result_path,
        }
    )
    if reasoning_on is not None:
        m = reasoning_on_multiplier(result, reasoning_on)
        assert m is not None and m.ci95_low is not None and m.ci95_high is not None
        assert m.on_ci95_low is not None and m.on_ci95_high is not None
        metadata["reasoning_on"] = {
            "energy_multiplier": {
                "value": _round(m.ratio),
                "ci95_low": _round(m.ci95_low),
                "ci95_high": _round(m.ci95_high),
            },
            "wh_per_1k_queries": {
                "value": _round(m.on_mean),
                "ci95_low": max(0.0, _round(m.on_ci95_low)),
                "ci95_high": _round(m.on_ci95_high),
            },
            "result": REASONING_ON_RESULT_PATH,
        }
    validate_metadata(metadata)
    return metadata


def workload_label(result: EnergyResult) -> str:
    """``text-classification@1.0.0``: the workload's name (without ``energy-badge/``) and version."""
    name = result.workload_name.rsplit("/", 1)[-1]
    return f"{name}@{result.workload_version}"


def badge_alt_text(rating: Rating) -> str:
    """``AI energy: ★★★★☆ 0.42 Wh per 1000 texts classified`` (``unrated`` instead of stars when
    unrated; the unit in the task's words, :func:`energy_badge.tasks.energy_unit`)."""
    from energy_badge.render import BADGE_LABEL

    stars = stars_text(rating.stars) if rating.stars else "unrated"
    value = f" {format_energy(rating.value)} {energy_unit(rating.task)}" if rating.value is not None else ""
    return f"{BADGE_LABEL}: {stars}{value}"


def badge_markdown(rating: Rating, *, badge_path: str = BADGE_PATH, result_path: str = RESULT_PATH) -> str:
    """The Markdown of the badge block: the badge image, linking to the result file.

    For example
    ``[![AI energy: ★★★★☆ 0.42 Wh per 1000 texts classified](energy/badge.svg)](energy/result.json)``.
    """
    return f"[![{badge_alt_text(rating)}]({badge_path})]({result_path})"


def card_block(result: EnergyResult, rating: Rating, reasoning_on: ReasoningMultiplier | None = None) -> str:
    """The Markdown of the card's block: the badge, ``(reasoning off)`` for a result that records
    its reasoning mode, and with ``reasoning_on`` the multiplier, linking to the reasoning-on result:
    `` · [reasoning on: 41× the energy per query (95 % interval 38–44×)](energy/result-reasoning-on.json)``.
    """
    block = badge_markdown(rating)
    if result.workload.reasoning is not None:  # "reasoning off" (or on) beside the badge
        from energy_badge.text import reasoning_text

        block += f" ({reasoning_text(result.workload.reasoning)})"
    if reasoning_on is not None:
        from energy_badge.text import reasoning_multiplier

        block += f" · [{reasoning_multiplier(reasoning_on)}]({REASONING_ON_RESULT_PATH})"
    return block


def reasoning_on_multiplier(
    result: EnergyResult, reasoning_on: EnergyResult | None
) -> ReasoningMultiplier | None:
    """The reasoning-on multiplier (checked: :func:`energy_badge.multiplier.reasoning_multiplier`); None
    without a reasoning-on result."""
    if reasoning_on is None:
        return None
    from energy_badge.multiplier import reasoning_multiplier

    return reasoning_multiplier(result, reasoning_on)


def _round(value: float) -> float:
    return float(f"{value:.4g}")
