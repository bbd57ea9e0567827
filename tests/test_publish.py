"""The publish composition (energy_badge.publish): card metadata, badge Markdown, card edit, plan.

No network: the plan is built and its README edit applied to bytes here; tests/test_cli_publish.py
sends plans to the loopback Hub. Results are SYNTHETIC (tests/results_factory.py).
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from results_factory import make_result

from energy_badge.card import BLOCK_START, read_metadata, validate_metadata
from energy_badge.errors import InputError, NotCanonicalError
from energy_badge.publish import (
    BADGE_PATH,
    COMMIT_TITLE,
    RESULT_PATH,
    badge_markdown,
    card_edit,
    card_metadata,
    publish_plan,
    resolve_repo_id,
)
from energy_badge.rating import load_table, rate
from energy_badge.render import badge_svg
from energy_badge.result import decode_result, encode_result


def rated(**kwargs):
    result = decode_result(make_result(**kwargs))
    return result, rate(result, load_table())


def test_card_metadata_is_schema_valid_and_summarises_the_result():
    result, rating = rated(samples=(0.7912345, 0.8, 0.8087655))
    metadata = card_metadata(result, rating)
    validate_metadata(metadata)
    assert metadata == {
        "stars": 1,
        "task": "text-classification",
        "wh_per_1k_queries": {"value": 0.8, "ci95_low": 0.7782, "ci95_high": 0.8218},
        "hardware": "NVIDIA H100 80GB HBM3",
        "hardware_class": "H100",
        "workload": "text-classification@1.0.0",
        "rating_table": "0.3.0-provisional",
        "measured_at": "2026-11-20",
        "tool": "energy-badge 0.1.0",
        "result": "energy/result.json",
    }
    assert card_metadata(result, rating, "reports/e.json")["result"] == "reports/e.json"


def test_measured_at_is_the_utc_date():
    result, rating = rated(created_at="2026-11-21T01:30:00.123456789+02:00")
    assert card_metadata(result, rating)["measured_at"] == "2026-11-20"


def test_unrated_metadata_has_null_stars_and_a_one_line_reason():
    result, rating = rated(task="text-generation", parameters=70_600_000_000, samples=(40.0, 41.0, 42.0))
    metadata = card_metadata(result, rating)
    assert metadata["stars"] is None and "size class C" in metadata["unrated_reason"]
    long = dataclasses.replace(rating, unrated_reason="a reason\nover two lines " + "x" * 300)
    reason = card_metadata(result, long)["unrated_reason"]
    assert "\n" not in reason and len(reason) == 200 and reason.endswith("…")


def test_interval_below_zero_is_clamped_and_missing_interval_refused():
    result, rating = rated(samples=(0.01, 0.5, 0.02))  # noisy: the t interval reaches below 0
    assert result.gpu_energy.ci95_low < 0
    assert card_metadata(result, rating)["wh_per_1k_queries"]["ci95_low"] == 0.0
    result, rating = rated(samples=(0.8,))
    with pytest.raises(InputError, match="95 % interval"):
        card_metadata(result, rating)
    result, rating = rated(hardware_class=None, gpu_name="NVIDIA GeForce RTX 4090")
    with pytest.raises(InputError, match="RTX 4090"):
        card_metadata(result, rating)


def test_badge_markdown():
    result, rating = rated(samples=(0.79, 0.8, 0.81))
    assert badge_markdown(rating) == (
        "[![AI energy: ★☆☆☆☆ 0.80 Wh per 1000 texts classified](energy/badge.svg)](energy/result.json)"
    )
    result, rating = rated(task="text-generation", parameters=10**11, samples=(40.0, 41.0, 42.0))
    assert badge_markdown(rating).startswith("[![AI energy: unrated 41 Wh per 1000 replies generated](")


def test_card_edit_refuses_what_must_not_be_a_badge():
    with pytest.raises(NotCanonicalError, match="--batch-size 8"):
        card_edit(*rated(batch_size=8), "# x\n")
    with pytest.raises(NotCanonicalError, match="random weights"):
        card_edit(*rated(random_weights=True), "# x\n")
    edit = card_edit(*rated(), "# x\n")
    assert edit.changed and BLOCK_START in edit.updated and read_metadata(edit.updated)["stars"] == 2


def test_repo_id_rules():
    hub_result, _ = rated(model_id="org/model")
    assert resolve_repo_id(hub_result) == "org/model"
    assert resolve_repo_id(hub_result, "org/model") == "org/model"
    with pytest.raises(InputError, match="only go to org/model"):
        resolve_repo_id(hub_result, "other/model")
    local, _ = rated(model_id="/data/my-model", source="local")
    assert resolve_repo_id(local, "me/my-model") == "me/my-model"
    with pytest.raises(InputError, match="--repo"):
        resolve_repo_id(local)
    for bad in ("no-namespace", "a/b/c", "org/", "org/name with space"):
        with pytest.raises(InputError, match="not a Hub model repo id"):
            resolve_repo_id(local, bad)


def test_publish_plan():
    result, rating = rated(model_id="org/model")
    plan = publish_plan(result, rating, create_pr=True)
    assert plan.repo_id == "org/model" and plan.create_pr and plan.commit_title == COMMIT_TITLE
    assert plan.files == {
        BADGE_PATH: badge_svg(result, rating).encode(),
        RESULT_PATH: result.to_json().encode(),
    }
    assert json.loads(plan.files[RESULT_PATH]) == encode_result(result)
    description = plan.commit_description
    for words in (result.workload.sha256, "text-classification@1.0.0", "5 repetitions",
                  "95 % interval", "rating table 0.3.0-provisional", "provisional", "NVIDIA H100 80GB HBM3",
                  str(result.model_revision), "generated", "remove"):  # fmt: skip
        assert words in description, words
    # the README edit: a repo without a card gets one; the edit is idempotent
    new = plan.edit_readme(b"")
    assert new.startswith(b"---\nenergy_score:\n") and BLOCK_START.encode() in new
    assert plan.edit_readme(new) == new
    card = b"\xef\xbb\xbf---\r\nlicense: mit # c\r\n---\r\n# T\r\n"
    edited = plan.edit_readme(card)
    assert edited.startswith(b"\xef\xbb\xbf---\r\nlicense: mit # c\r\nenergy_score:\r\n")
    assert plan.edit_readme(edited) == edited


def test_publish_plan_refusals():
    with pytest.raises(NotCanonicalError):
        publish_plan(*rated(queries=100))
    with pytest.raises(NotCanonicalError):
        publish_plan(*rated(random_weights=True))
    with pytest.raises(InputError):
        publish_plan(*rated(source="local", model_id="./m"))
    assert publish_plan(*rated(source="local", model_id="./m"), repo_id="me/m").repo_id == "me/m"
