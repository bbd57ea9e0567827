"""Tests of the card stage: one test card per real-world feature (tests/cards/), the real MiniLM card.

The central check, :func:`assert_only_ours_changed`, is independent of the implementation: it
removes our key's lines (found by a plain line scan, not by YAML marks) and the marker block
(a regex) from both texts and requires the rest to be identical, except for line breaks added
around a newly inserted block (and the two fences of a newly created front matter).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import huggingface_hub
import jsonschema
import pytest
from card_samples import BADGE, METADATA
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from ruamel.yaml import YAML

from energy_badge import card
from energy_badge.card import (
    BLOCK_END,
    BLOCK_START,
    METADATA_KEY,
    CardEdit,
    apply_to_card,
    apply_to_card_bytes,
    read_metadata,
    validate_metadata,
)
from energy_badge.errors import EXIT_INPUT, InvalidFileError

CARDS = Path(__file__).parent / "cards"


GOOD_CARDS = [
    "blank_line_before_front_matter.md",
    "bom.md",
    "bom_crlf_blank_line.md",
    "co2_and_base_model.md",
    "comment_only_front_matter.md",
    "complex_key.md",
    "crlf.md",
    "empty_front_matter.md",
    "existing_block_lower.md",
    "existing_key.md",
    "flow_lists.md",
    "front_matter_at_eof.md",
    "front_matter_at_eof_crlf.md",
    "large_card.md",
    "model_index.md",
    "no_front_matter.md",
    "rule_in_body.md",
    "spaced_keys.md",
    "trailing_spaces.md",
    "trainer_generated.md",
    "widget_unicode.md",
    "yaml_comments.md",
]
BAD_CARDS = {
    "broken_yaml.md": "not valid YAML",
    "duplicate_keys.md": "duplicate key",
    "duplicate_nested_keys.md": "duplicate key",
    "not_a_mapping.md": "not a YAML mapping",
}


def load(name: str) -> str:
    return (CARDS / name).read_bytes().decode("utf-8")


def other_metadata(**changes: object) -> dict:
    data = json.loads(json.dumps(METADATA))
    data.update(changes)
    return data


# --- independent checkers -------------------------------------------------------------------


def remove_key_lines(text: str) -> str:
    """Drop the `energy_score:` line and the indented lines right after it (plain line scan)."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(f"{METADATA_KEY}:")]
    assert len(starts) <= 1, "more than one energy_score key"
    if not starts:
        return text
    i = starts[0]
    j = i + 1
    while j < len(lines) and lines[j].startswith(" ") and lines[j].strip():
        j += 1
    return "\n".join(lines[:i] + lines[j:])


def remove_block(text: str) -> str:
    return re.sub(re.escape(BLOCK_START) + ".*?" + re.escape(BLOCK_END), "", text, flags=re.S)


def assert_only_ours_changed(before: str, after: str) -> None:
    """Everything but our key and our block is byte-identical (see the module docstring)."""
    a = remove_block(remove_key_lines(before))
    b = remove_block(remove_key_lines(after))
    if a == b:
        return
    bom = "\ufeff" if a.startswith("\ufeff") else ""
    for eol in ("\n", "\r\n"):
        created = f"{bom}---{eol}---{eol}"  # fences of a front matter we created
        if not before.lstrip("\ufeff").lstrip().startswith("---") and b.startswith(created):
            b = bom + b[len(created) :]
            break
    if a == b:
        return
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    added = len(b) - len(a)
    assert added > 0, "text outside our key and block was removed"
    inserted = b[prefix : prefix + added]
    assert set(inserted) <= {"\r", "\n"}, f"unexpected inserted text {inserted!r}"
    assert b[prefix + added :] == a[prefix:], "text outside our key and block changed"


def front_matter_mapping(text: str) -> dict:
    """Top-level mapping of the front matter, parsed by huggingface_hub's own regex + PyYAML."""
    import yaml

    match = REGEX_YAML_BLOCK.search(text.lstrip("\ufeff"))
    assert match, "huggingface_hub does not see a front matter"
    return yaml.safe_load(match.group(2)) or {}


def block_of(text: str) -> str:
    start = text.index(BLOCK_START)
    return text[start : text.index(BLOCK_END, start) + len(BLOCK_END)]


# --- every good card --------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOOD_CARDS)
def test_only_key_and_block_change(name: str) -> None:
    before = load(name)
    edit = apply_to_card(before, METADATA, BADGE)
    assert edit.changed
    assert edit.original == before
    assert_only_ours_changed(before, edit.updated)
    assert edit.updated.count(BLOCK_START) == 1
    assert BADGE in block_of(edit.updated)


@pytest.mark.parametrize("name", GOOD_CARDS)
def test_idempotent(name: str) -> None:
    once = apply_to_card(load(name), METADATA, BADGE).updated
    twice = apply_to_card(once, METADATA, BADGE)
    assert twice.updated == once
    assert not twice.changed
    assert twice.diff() == ""


@pytest.mark.parametrize("name", GOOD_CARDS)
def test_metadata_reads_back(name: str) -> None:
    updated = apply_to_card(load(name), METADATA, BADGE).updated
    assert read_metadata(updated) == METADATA


@pytest.mark.parametrize("name", [n for n in GOOD_CARDS if n != "trailing_spaces.md"])
def test_huggingface_hub_reads_same_metadata(name: str) -> None:
    """huggingface_hub's parser (its regex + PyYAML 1.1) sees our key and every other key unchanged."""
    before = load(name)
    after = apply_to_card(before, METADATA, BADGE).updated
    new = front_matter_mapping(after)
    assert new[METADATA_KEY] == METADATA
    try:
        old = front_matter_mapping(before)
    except AssertionError:  # no front matter, or one huggingface_hub does not see
        old = {}
    old.pop(METADATA_KEY, None)
    assert {k: v for k, v in new.items() if k != METADATA_KEY} == old


@pytest.mark.parametrize("name", GOOD_CARDS)
def test_bytes_api_is_byte_exact(name: str) -> None:
    data = (CARDS / name).read_bytes()
    out, changed = apply_to_card_bytes(data, METADATA, BADGE)
    assert changed
    assert out == apply_to_card(data.decode("utf-8"), METADATA, BADGE).updated.encode("utf-8")
    assert apply_to_card_bytes(out, METADATA, BADGE) == (out, False)


@pytest.mark.parametrize("name", GOOD_CARDS)
def test_key_order_kept_and_key_in_place_or_last(name: str) -> None:
    before = load(name)
    after = apply_to_card(before, METADATA, BADGE).updated
    old_keys = list(_rt_load(before))
    new_keys = list(_rt_load(after))
    if METADATA_KEY in old_keys:
        assert new_keys == old_keys
    else:
        assert new_keys == [*old_keys, METADATA_KEY]


def _rt_load(text: str) -> dict:
    lines = text.lstrip("\ufeff").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or lines[0].rstrip("\r") != "---":
        return {}
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip("\r \t") == "---")
    content = "\n".join(line.rstrip("\r") for line in lines[1:end])
    return YAML(typ="rt").load(content.replace("\t", " ")) or {}


# --- one test per feature ---------------------------------------------------------------------


def test_crlf_lines_we_write_are_crlf() -> None:
    after = apply_to_card(load("crlf.md"), METADATA, BADGE).updated
    assert "\n" not in after.replace("\r\n", "")
    assert f"{METADATA_KEY}:\r\n  stars: 4\r\n" in after
    assert f"{BLOCK_START}\r\n{BADGE}\r\n{BLOCK_END}\r\n" in after


def test_bom_kept_once_and_front_matter_still_found() -> None:
    before = load("bom.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.startswith("\ufeff---\n")
    assert after.count("\ufeff") == 1
    assert after.encode("utf-8").startswith(b"\xef\xbb\xbf---\n")


def test_bom_crlf_and_blank_line_before_front_matter() -> None:
    after = apply_to_card(load("bom_crlf_blank_line.md"), METADATA, BADGE).updated
    assert after.startswith("\ufeff\r\n---\r\nlicense: mit\r\n")
    assert "sentiment\r\nenergy_score:\r\n" in after
    assert "# bom-crlf-blank\r\n\r\n" + BLOCK_START in after


def test_blank_line_before_opening_fence() -> None:
    after = apply_to_card(load("blank_line_before_front_matter.md"), METADATA, BADGE).updated
    assert after.startswith("\n---\nlicense: bsd-3-clause\n")
    assert "pipeline_tag: token-classification\nenergy_score:\n" in after


def test_no_front_matter_creates_one_with_only_our_key() -> None:
    before = load("no_front_matter.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.startswith("---\nenergy_score:\n")
    head, body = after.split("\n---\n", 1)
    assert list(YAML().load(head[4:])) == [METADATA_KEY]
    heading, rest = before.split("\n", 1)
    assert body == f"{heading}\n\n{block_of(after)}\n" + rest


def test_no_front_matter_and_no_heading() -> None:
    after = apply_to_card("Plain text.\r\nSecond line.\r\n", METADATA, BADGE).updated
    assert after.endswith(
        f"---\r\n\r\n{BLOCK_START}\r\n{BADGE}\r\n{BLOCK_END}\r\n\r\nPlain text.\r\nSecond line.\r\n"
    )
    assert apply_to_card("", METADATA, BADGE).updated.endswith(
        f"---\n\n{BLOCK_START}\n{BADGE}\n{BLOCK_END}\n"
    )


def test_rule_in_body_is_not_a_fence() -> None:
    before = load("rule_in_body.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    fm_end = after.index("\n---\n") + 5
    assert METADATA_KEY in after[:fm_end]
    assert after[fm_end:].startswith(f"# vit-small-flowers\n\n{BLOCK_START}")
    assert after.endswith(
        "\n---\n## Training\n\nTrained for 30 epochs with AdamW.\n\n---\n\n"
        "## Citation\n\nPlease cite the dataset authors.\n\n---\n"
    )


def test_yaml_comments_kept_and_key_after_trailing_comment() -> None:
    before = load("yaml_comments.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    comments = [line for line in before.split("\n") if "#" in line]
    assert [line for line in after.split("\n") if "#" in line and line in comments] == comments
    assert "# pipeline_tag is inferred by the Hub\nenergy_score:\n" in after


def test_widget_block_scalars_with_unicode_and_dashes() -> None:
    before = load("widget_unicode.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    fm = before[: before.index("\n---\n", 4) + 1]
    assert after.startswith(fm)  # appended after the last line, nothing before it touched
    assert "    ---\n" in after
    assert (
        _rt_load(after)["widget"][3]["text"]
        == "Notes from the annotators:\n---\n売り切れでした 🙃 — but the ending was fine.\n"
    )
    assert "# multilingual-review-classifier\n\n" + BLOCK_START in after


def test_flow_lists_untouched() -> None:
    after = apply_to_card(load("flow_lists.md"), METADATA, BADGE).updated
    assert after.startswith(
        '---\nlanguage: ["ru"]\nlicense: cc-by-4.0\ntags: [bert, "text-classification", toxicity]\n'
    )


def test_model_index_long_floats_comments_and_string_metrics() -> None:
    before = load("model_index.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    for needle in (
        "value: 0.8627450980392157\n",
        "value: 0.9047619047619047  # best of 3 seeds\n",
        "      args: mrpc\n\n    # accuracy on the validation split\n",
        "value: 1.00 +/- 0.00\n",
    ):
        assert needle in after
    assert "      verified: false\nenergy_score:\n" in after


def test_complex_key_of_12000_characters() -> None:
    before = load("complex_key.md")
    long_line = next(line for line in before.split("\n") if line.startswith("? "))
    assert len(long_line) > 12000
    after = apply_to_card(before, METADATA, BADGE).updated
    assert f"\n{long_line}\n: this value belongs to a very long explicit key\n" in after
    assert read_metadata(after) == METADATA


def test_co2_base_model_list_and_inference_false() -> None:
    before = load("co2_and_base_model.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.startswith(before[: before.index("pipeline_tag")])
    loaded = front_matter_mapping(after)
    assert loaded["inference"] is False
    assert loaded["co2_eq_emissions"]["emissions"] == 12.7
    assert loaded["base_model"] == ["FacebookAI/roberta-base", "distilbert/distilroberta-base"]


def test_spaced_keys_kept() -> None:
    after = apply_to_card(load("spaced_keys.md"), METADATA, BADGE).updated
    assert "    num_beams : 5\n    max_length : 142\n" in after
    assert "tags :\n- summarization\nenergy_score:\n" in after


def test_trailing_spaces_and_tabs_kept() -> None:
    before = load("trailing_spaces.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    assert "license: mit   \ntags:  \n- ner \n- token-classification\t\n# reviewed \nenergy_score:" in after
    assert "# trailing-spaces-ner  \n\n" + BLOCK_START in after
    assert after.endswith("Lines here end with spaces.   \nAnd a tab\t\n")


def test_large_card_with_html_and_trainer_comment() -> None:
    before = load("large_card.md")
    assert len(before.encode("utf-8")) > 20_000
    for needle in ("<img ", "<details>", "<!--", "| queue | precision |"):
        assert needle in before
    after = apply_to_card(before, METADATA, BADGE).updated
    fm_end = after.index("\n---\n") + 5
    # the body starts with the trainer's comment, not a heading: the block goes right after the front matter
    assert after[fm_end:].startswith(
        f"\n{BLOCK_START}\n{BADGE}\n{BLOCK_END}\n\n<!-- This model card has been generated"
    )
    assert after.endswith(before[before.index("\n---\n", 4) + 5 :])


def test_trainer_comment_right_after_front_matter() -> None:
    before = load("trainer_generated.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    assert f"---\n\n{BLOCK_START}\n{BADGE}\n{BLOCK_END}\n\n<!-- This model card has been generated" in after


def test_existing_key_replaced_in_place() -> None:
    before = load("existing_key.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    assert list(_rt_load(after)) == ["license", METADATA_KEY, "tags"]
    assert (
        "# Energy rating written by energy-badge; do not edit by hand.\nenergy_score:\n  stars: 4\n" in after
    )
    assert "  result: energy/result.json\n# Tags below are curated.\ntags:\n" in after
    assert "A100" not in after
    assert "★★☆☆☆" not in after
    body_before, body_after = before[before.index("\n---\n") :], after[after.index("\n---\n") :]
    assert body_after.index(BLOCK_START) == body_before.index(BLOCK_START)


def test_existing_block_replaced_where_it_is() -> None:
    before = load("existing_block_lower.md")
    after = apply_to_card(before, METADATA, BADGE).updated
    assert (
        f"Our measured energy use:\n{BLOCK_START}\n{BADGE}\n{BLOCK_END}\nMore details in the result file.\n"
        in after
    )
    assert "# moved-badge-classifier\n\nSome introduction" in after
    assert after.count(BLOCK_START) == 1


@pytest.mark.parametrize(
    ("name", "eol"), [("front_matter_at_eof.md", "\n"), ("front_matter_at_eof_crlf.md", "\r\n")]
)
def test_front_matter_at_end_of_file_without_newline(name: str, eol: str) -> None:
    before = load(name)
    assert not before.endswith("\n")
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.endswith(f"{eol}---{eol}{eol}{BLOCK_START}{eol}{BADGE}{eol}{BLOCK_END}{eol}")
    assert read_metadata(after) == METADATA


def test_empty_and_comment_only_front_matter() -> None:
    after = apply_to_card(load("empty_front_matter.md"), METADATA, BADGE).updated
    assert after.startswith("---\nenergy_score:\n  stars: 4\n")
    after = apply_to_card(load("comment_only_front_matter.md"), METADATA, BADGE).updated
    assert after.startswith("---\n# license: to be decided\n#tags:\n#- draft\nenergy_score:\n")
    assert f"# draft-model\n\n{BLOCK_START}\n{BADGE}\n{BLOCK_END}\n\nWork in progress.\n" in after


def test_real_minilm_card(minilm_path: Path, tmp_path: Path) -> None:
    before = (minilm_path / "README.md").read_text(encoding="utf-8")
    edit = apply_to_card(before, METADATA, BADGE)
    assert_only_ours_changed(before, edit.updated)
    assert "pipeline_tag: sentence-similarity\nenergy_score:\n" in edit.updated
    assert (
        f"\n\n# all-MiniLM-L6-v2\n\n{BLOCK_START}\n{BADGE}\n{BLOCK_END}\n\nThis is a [sentence-transformers]"
        in edit.updated
    )
    written = tmp_path / "README.md"
    written.write_bytes(edit.updated.encode("utf-8"))
    assert huggingface_hub.metadata_load(written)[METADATA_KEY] == METADATA
    assert apply_to_card(edit.updated, METADATA, BADGE).updated == edit.updated


# --- later runs -------------------------------------------------------------------------------


def test_new_metadata_and_badge_replace_old_ones_only() -> None:
    first = apply_to_card(load("large_card.md"), METADATA, BADGE).updated
    new_meta = other_metadata(stars=None, unrated_reason="no rating table for A10G", hardware_class="A10G")
    new_badge = "[![AI energy: unrated](energy/badge.svg)](energy/result.json)"
    second = apply_to_card(first, new_meta, new_badge)
    assert second.changed
    assert_only_ours_changed(first, second.updated)
    assert read_metadata(second.updated) == new_meta
    assert new_badge in second.updated and BADGE not in second.updated
    diff_lines = second.diff().split("\n")
    changed = [line for line in diff_lines if line[:1] in ("+", "-") and line[:3] not in ("+++", "---")]
    assert changed == [
        "-  stars: 4",
        "+  stars: null",
        "+  unrated_reason: no rating table for A10G",
        "-  hardware_class: H100",
        "+  hardware_class: A10G",
        f"-{BADGE}",
        f"+{new_badge}",
    ]


def test_hand_written_key_variants_are_replaced() -> None:
    variants = [
        "energy_score: {stars: 2, task: x}  # old, flow style\n",
        "energy_score:\n",
        "energy_score: |\n  a text value\n  # this line is part of the text\n",
        "'energy_score':\n  stars: 1\n  # indented comment inside the value\n  task: x\n",
    ]
    for variant in variants:
        before = f"---\nlicense: mit\n{variant}# next key follows\ntags:\n- a\n---\nBody\n"
        after = apply_to_card(before, METADATA, BADGE).updated
        assert after.startswith("---\nlicense: mit\nenergy_score:\n  stars: 4\n"), variant
        assert "  result: energy/result.json\n# next key follows\ntags:\n- a\n---\n" in after, variant
        assert read_metadata(after) == METADATA


def test_alias_as_our_old_value_is_replaced() -> None:
    before = "---\nlicense: mit\na: &x {b: 1}\nenergy_score: *x\nc: *x\n---\n"
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.startswith("---\nlicense: mit\na: &x {b: 1}\nenergy_score:\n")
    assert "  result: energy/result.json\nc: *x\n---\n" in after
    assert front_matter_mapping(after)["c"] == {"b": 1}


def test_merge_key_in_front_matter() -> None:
    before = "---\nbase: &b {x: 1}\nenergy_score: {}\n<<: *b\nlicense: mit\n---\n"
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.startswith("---\nbase: &b {x: 1}\nenergy_score:\n  stars: 4\n")
    assert "  result: energy/result.json\n<<: *b\nlicense: mit\n---\n" in after
    assert read_metadata(after) == METADATA


def test_several_blocks_all_replaced() -> None:
    old = f"{BLOCK_START}\nold\n{BLOCK_END}"
    before = f"---\nlicense: mit\n---\n# T\n\n{old}\n\ntext\n\n> {old}\n"
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.count(f"{BLOCK_START}\n{BADGE}\n{BLOCK_END}") == 2
    assert "old" not in after


def test_heading_rules() -> None:
    for body, heading_line in [
        ("## Sub\n\nText\n", None),
        ("#Title\n", None),
        ("\n\n# Title\nText\n", "# Title\n"),
    ]:
        after = apply_to_card(f"---\nlicense: mit\n---\n{body}", METADATA, BADGE).updated
        rest = after[after.index("\n---\n") + 5 :]
        if heading_line is None:
            assert rest.startswith(f"\n{BLOCK_START}"), body
        else:
            assert rest.startswith(f"\n\n{heading_line}\n{BLOCK_START}"), body
            assert rest.endswith(f"{BLOCK_END}\n\nText\n"), body


def test_indented_front_matter_keeps_its_indentation() -> None:
    before = "---\n  license: mit\n  tags:\n  - a\n---\n"
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.startswith(before[:-4] + "  energy_score:\n    stars: 4\n")
    assert read_metadata(after) == METADATA


def test_fence_with_trailing_whitespace_closes() -> None:
    after = apply_to_card("---\nlicense: mit\n--- \t\nBody\n", METADATA, BADGE).updated
    assert after.startswith("---\nlicense: mit\nenergy_score:\n")
    assert f"--- \t\n\n{BLOCK_START}" in after


def test_yaml_1_1_ambiguous_strings_are_quoted() -> None:
    import yaml

    meta = other_metadata(rating_table="yes", hardware_class="1_000", hardware="1:20")
    meta["wh_per_1k_queries"] = {"value": 1e-07, "ci95_low": 0.0, "ci95_high": 1e20}
    after = apply_to_card("# T\n", meta, BADGE).updated
    assert "rating_table: 'yes'" in after and "hardware: '1:20'" in after
    assert "value: 1.0e-07" in after
    assert yaml.safe_load(after.split("---\n")[1])[METADATA_KEY] == meta  # PyYAML is YAML 1.1
    assert read_metadata(after) == meta


def test_mixed_line_endings_follow_the_neighbouring_line() -> None:
    before = "---\nlicense: mit\n---\r\n# Title\r\nText\r\n"
    after = apply_to_card(before, METADATA, BADGE).updated
    assert "license: mit\nenergy_score:\n  stars: 4\n" in after
    assert f"# Title\r\n\r\n{BLOCK_START}\r\n{BADGE}\r\n{BLOCK_END}\r\n\r\nText\r\n" in after
    assert_only_ours_changed(before, after)


def test_metadata_argument_not_mutated() -> None:
    meta = other_metadata()
    snapshot = json.dumps(meta)
    apply_to_card("# T\n", meta, BADGE)
    assert json.dumps(meta) == snapshot


def test_multiline_badge_uses_card_line_endings() -> None:
    after = apply_to_card("---\r\nlicense: mit\r\n---\r\n", METADATA, "line one\nline two\n").updated
    assert f"{BLOCK_START}\r\nline one\r\nline two\r\n{BLOCK_END}\r\n" in after


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "message"), sorted(BAD_CARDS.items()))
def test_bad_front_matter_raises(name: str, message: str) -> None:
    with pytest.raises(InvalidFileError, match=message) as info:
        apply_to_card(load(name), METADATA, BADGE)
    assert info.value.exit_code == EXIT_INPUT
    with pytest.raises(InvalidFileError):
        apply_to_card_bytes((CARDS / name).read_bytes(), METADATA, BADGE)


def test_duplicate_key_error_names_the_line() -> None:
    with pytest.raises(InvalidFileError, match="line 5"):
        apply_to_card(load("duplicate_keys.md"), METADATA, BADGE)
    with pytest.raises(InvalidFileError, match="duplicate"):
        read_metadata(load("duplicate_keys.md"))


@pytest.mark.parametrize(
    "text",
    [
        "---\n{license: mit}\n---\n",  # flow mapping
        # an anchor in our key, used elsewhere
        "---\nlicense: mit\nenergy_score: &e\n  stars: 1\nother: *e\n---\n",
        "---\nlicense: mit\n...\n---\n",  # document end marker: appending would start a new document
        "---\nkey:\tvalue\n---\n",  # a tab ruamel.yaml cannot read
        f"---\nlicense: mit\n---\n{BLOCK_START}\nno end\n",
        f"---\nlicense: mit\n---\n{BLOCK_END}\n",
        f"---\nlicense: mit\n---\n{BLOCK_START}\n{BLOCK_START}\n{BLOCK_END}\n",
    ],
)
def test_cards_we_cannot_edit_safely_raise(text: str) -> None:
    with pytest.raises(InvalidFileError):
        apply_to_card(text, METADATA, BADGE)


def test_not_utf8_bytes() -> None:
    with pytest.raises(InvalidFileError, match="UTF-8"):
        apply_to_card_bytes(b"---\nlicense: \xff\n---\n", METADATA, BADGE)


def test_badge_with_marker_refused() -> None:
    with pytest.raises(ValueError):
        apply_to_card("# T\n", METADATA, f"x {BLOCK_END}")


# --- read_metadata ------------------------------------------------------------------------------


def test_read_metadata_absent_and_dates() -> None:
    assert read_metadata("# no front matter\n") is None
    assert read_metadata("---\nlicense: mit\n---\n") is None
    assert read_metadata("---\n---\n") is None
    assert read_metadata("---\nenergy_score:\n  measured_at: 2025-06-01\n---\n") == {
        "measured_at": "2025-06-01"
    }
    with pytest.raises(InvalidFileError, match="not a mapping"):
        read_metadata("---\nenergy_score: 3\n---\n")


# --- validate_metadata and the schema ----------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    schema = card.metadata.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert (Path(card.__file__).parents[1] / "schemas" / "card-metadata.schema.json").is_file()


def test_valid_metadata_passes() -> None:
    validate_metadata(METADATA)
    validate_metadata(other_metadata(stars=None, unrated_reason="no table for this hardware"))
    validate_metadata(other_metadata(stars=1, wh_per_1k_queries={"value": 3, "ci95_low": 3, "ci95_high": 3}))


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"stars": 6}, "$.stars"),
        ({"stars": 0}, "$.stars"),
        ({"stars": 3.5}, "$.stars"),
        ({"stars": True}, "$.stars"),
        ({"stars": None}, "$: 'unrated_reason' is a required property"),
        ({"unrated_reason": "why"}, "$: {"),
        (
            {"wh_per_1k_queries": {"value": -1, "ci95_low": -2, "ci95_high": 0}},
            "$.wh_per_1k_queries.ci95_low",
        ),
        ({"wh_per_1k_queries": {"value": 1, "ci95_low": 0}}, "$.wh_per_1k_queries: 'ci95_high'"),
        (
            {"wh_per_1k_queries": {"value": math.nan, "ci95_low": 0, "ci95_high": 1}},
            "$.wh_per_1k_queries.value",
        ),
        (
            {"wh_per_1k_queries": {"value": 2, "ci95_low": 0, "ci95_high": 1}},
            "ci95_low <= value <= ci95_high",
        ),
        ({"measured_at": "2025-02-30"}, "$.measured_at"),
        ({"measured_at": "2025-06-01T10:00:00Z"}, "$.measured_at"),
        ({"workload": "text-classification"}, "$.workload"),
        ({"tool": "other 1.0"}, "$.tool"),
        ({"result": "../result.json"}, "$.result"),
        ({"result": "/energy/result.json"}, "$.result"),
        ({"result": "energy/result.txt"}, "$.result"),
        ({"hardware": "NVIDIA\nH100"}, "$.hardware"),
        ({"task": "Text Classification"}, "$.task"),
        ({"surprise": 1}, "Additional properties"),
    ],
)
def test_invalid_metadata_names_the_path(changes: dict, path: str) -> None:
    with pytest.raises(InvalidFileError) as info:
        validate_metadata(other_metadata(**changes))
    assert any(path in error for error in info.value.errors), info.value.errors
    assert str(info.value).startswith("card metadata does not match card-metadata.schema.json: $")
    with pytest.raises(InvalidFileError):
        apply_to_card("# T\n", other_metadata(**changes), BADGE)


def test_invalid_metadata_writes_nothing_even_if_card_is_fine() -> None:
    with pytest.raises(InvalidFileError):
        apply_to_card_bytes(b"# T\n", other_metadata(stars=9), BADGE)


# --- CardEdit -----------------------------------------------------------------------------------


def test_card_edit_diff() -> None:
    before = load("front_matter_at_eof.md")
    edit = apply_to_card(before, METADATA, BADGE)
    assert isinstance(edit, CardEdit)
    text = edit.diff("models/x/README.md")
    assert text.startswith("--- a/models/x/README.md\n+++ b/models/x/README.md\n@@ ")
    assert "----\n\\ No newline at end of file\n" in text
    assert "+energy_score:\n" in text and f"+{BLOCK_START}\n" in text
    with pytest.raises(AttributeError):
        edit.changed = False  # type: ignore[misc]


def test_metadata_key_order_is_canonical() -> None:
    shuffled = dict(reversed(list(METADATA.items())))
    assert apply_to_card("# T\n", shuffled, BADGE).updated == apply_to_card("# T\n", METADATA, BADGE).updated


# --- markers inside code are the author's text (issue 13, item 10) -----------------------------

EXAMPLE = f"{BLOCK_START}\n[![AI energy](energy/badge.svg)](energy/result.json)\n{BLOCK_END}"


def _indent(text: str, prefix: str) -> str:
    return "".join(prefix + line for line in text.splitlines(keepends=True))


@pytest.mark.parametrize(
    "code",
    [
        f"```md\n{EXAMPLE}\n```\n",  # backtick fence with an info string
        f"~~~\n{EXAMPLE}\n~~~\n",  # tilde fence
        f"   ````\n{EXAMPLE}\n```\n````\n",  # indented by 3, a longer fence holding a shorter one
        f"```\n{EXAMPLE}\n",  # unclosed: runs to the end of the file
        f"- To add the badge by hand:\n\n  ```\n{_indent(EXAMPLE, '  ')}\n  ```\n",  # inside a list item
        f"> ```\n{_indent(EXAMPLE, '> ')}\n> ```\n",  # inside a quote
        f"{_indent(EXAMPLE, '    ')}\n",  # an indented code block
    ],
)
def test_markers_inside_code_are_the_authors_text(code: str) -> None:
    before = f"---\nlicense: mit\n---\n# Model\n\nTo show the badge, the card holds:\n\n{code}"
    edit = apply_to_card(before, METADATA, BADGE)
    real = f"{BLOCK_START}\n{BADGE}\n{BLOCK_END}"
    assert edit.updated.endswith(f"# Model\n\n{real}\n\nTo show the badge, the card holds:\n\n{code}")
    assert edit.updated.count(BLOCK_START) == 2  # the example and the real block
    again = apply_to_card(edit.updated, METADATA, BADGE)
    assert not again.changed  # the real block is found again; the example stays the author's
    newer = apply_to_card(edit.updated, other_metadata(stars=2), "new badge").updated
    assert newer.endswith(
        f"{BLOCK_START}\nnew badge\n{BLOCK_END}\n\nTo show the badge, the card holds:\n\n{code}"
    )


def test_a_real_block_beside_an_example_is_replaced_and_the_example_kept() -> None:
    before = f"# Model\n\n{BLOCK_START}\nold\n{BLOCK_END}\n\nExample:\n\n```\n{EXAMPLE}\n```\n"
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.endswith(
        f"# Model\n\n{BLOCK_START}\n{BADGE}\n{BLOCK_END}\n\nExample:\n\n```\n{EXAMPLE}\n```\n"
    )


def test_unbalanced_markers_inside_code_are_not_an_error() -> None:
    """Half an example in a fence used to make the whole card uneditable."""
    before = f"# Model\n\n```\n{BLOCK_START}\n```\n\n~~~\n{BLOCK_END}\n~~~\n"
    after = apply_to_card(before, METADATA, BADGE).updated
    assert after.endswith(f"{BLOCK_END}\n\n```\n{BLOCK_START}\n```\n\n~~~\n{BLOCK_END}\n~~~\n")


def test_a_fence_line_in_the_front_matter_does_not_hide_the_body() -> None:
    """Code is looked for in the body only: a ``` inside a YAML block scalar is YAML."""
    before = f"---\nwidget:\n- text: |\n    ```\n---\n# T\n\n{BLOCK_START}\nold\n{BLOCK_END}\n"
    after = apply_to_card(before, METADATA, BADGE).updated
    assert f"{BLOCK_START}\n{BADGE}\n{BLOCK_END}" in after and "old" not in after


# --- the card contradicts the result (issue 13, also found) -------------------------------------


@pytest.mark.parametrize(
    ("front", "task", "model_id", "hub_model", "words"),
    [
        ("pipeline_tag: sentence-similarity", "text-classification", "a/b", True, ["sentence-similarity"]),
        ("pipeline_tag: image-segmentation", "text-classification", "a/b", True, ["none of"]),
        ("pipeline_tag: image-classification", "text-classification", "a/b", True, ["agrees with image-cl"]),
        ("pipeline_tag: text-generation", "summarization", "a/b", True, ["text-generation"]),
        ("base_model: org/base", "text-classification", "Org/Base", True, ["base_model", "Org/Base"]),
        ("base_model:\n- x/y\n- org/base", "text-classification", "org/base", True, ["base_model"]),
    ],
)
def test_card_conflicts_found(
    front: str, task: str, model_id: str, hub_model: bool, words: list[str]
) -> None:
    (line,) = card.card_conflicts(
        f"---\n{front}\n---\n# T\n", task=task, model_id=model_id, hub_model=hub_model
    )
    assert all(word in line for word in words), line


@pytest.mark.parametrize(
    ("front", "task", "model_id", "hub_model"),
    [
        ("pipeline_tag: sentence-similarity", "sentence-similarity", "a/b", True),
        ("pipeline_tag: feature-extraction", "sentence-similarity", "a/b", True),  # the Hub's other tag
        ("pipeline_tag: text2text-generation", "summarization", "a/b", True),
        ("pipeline_tag: fill-mask", "text-classification", "a/b", True),  # an encoder: no opinion
        ("pipeline_tag: translation", "summarization", "a/b", True),  # not in the table: no opinion
        ("base_model: org/base", "text-classification", "org/fine-tuned", True),
        ("base_model: base", "text-classification", "base", False),  # a local folder's name
        ("license: mit", "text-classification", "a/b", True),
    ],
)
def test_card_conflicts_not_found(front: str, task: str, model_id: str, hub_model: bool) -> None:
    assert (
        card.card_conflicts(f"---\n{front}\n---\n", task=task, model_id=model_id, hub_model=hub_model) == ()
    )


def test_card_conflicts_on_the_real_minilm_card(minilm_path: Path) -> None:
    text = (minilm_path / "README.md").read_text(encoding="utf-8")
    assert card.card_conflicts(text, task="sentence-similarity", model_id="x/y", hub_model=True) == ()
    (line,) = card.card_conflicts(text, task="text-classification", model_id="x/y", hub_model=True)
    assert "pipeline_tag is sentence-similarity" in line and "text-classification" in line
