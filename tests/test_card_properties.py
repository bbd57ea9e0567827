"""Property tests of the card editor on generated cards.

Each generated card is built from known segments (BOM, blank lines, fences, front-matter entries
drawn from the real-world features in design.md, an optional old ``energy_score`` key, body parts,
an optional old badge block), so the expected output is known *from the generator*, not from the
implementation: every segment outside the key and the block must come back byte for byte, at the
place the rules say. Body parts include code showing the badge block as an example (fenced with
backticks or tildes, indented by up to three spaces, inside a list item or a quote, an indented code
block, or a fence left open to the end of the file): those markers are the author's text, so the
example is one more segment that comes back unchanged. The numbers of examples run are printed at
the end of the module.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pytest
import yaml
from card_samples import METADATA
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from energy_badge.card import (
    BLOCK_END,
    BLOCK_START,
    METADATA_KEY,
    apply_to_card,
    apply_to_card_bytes,
    read_metadata,
)

RUNS: Counter[str] = Counter()

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module", autouse=True)
def _report_examples(request: pytest.FixtureRequest):
    yield
    line = "card property tests: " + ", ".join(f"{name} ran {n} examples" for name, n in sorted(RUNS.items()))
    line += f" ({sum(n for name, n in RUNS.items() if ',' not in name)} in all)"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + line)
    else:
        print(line)


# --- strategies -------------------------------------------------------------------------------

UNICODE = (
    "абвгдеёжзийклмнопрстуфхцчшщыьэюяЖЩ"  # Cyrillic
    "가나다라마바사아자차카타파하"  # Korean
    "漢字中文日本語の文章です"  # CJK
    "😀🎬🍿✨🙃"  # emoji
    "ab xyz.,!?#:-"
)
unicode_text = st.text(alphabet=UNICODE, min_size=1, max_size=30).filter(lambda t: t.strip() != "")
word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10)
spaces = st.sampled_from(["", "", "", " ", "  ", "\t", " \t "])


def _entry_license(draw: st.DrawFn) -> list[str]:
    comment = draw(st.sampled_from(["", "  # chosen by the authors", " #x"]))
    return [f"license: {draw(st.sampled_from(['mit', 'apache-2.0', 'cc-by-4.0']))}{comment}{draw(spaces)}"]


def _entry_language(draw: st.DrawFn) -> list[str]:
    langs = draw(
        st.lists(st.sampled_from(["ru", "ko", "zh", "en", "ja"]), min_size=1, max_size=3, unique=True)
    )
    if draw(st.booleans()):
        return ["language: [" + ", ".join(f'"{x}"' for x in langs) + "]"]
    return ["language:", *[f"- {x}" for x in langs]]


def _entry_tags(draw: st.DrawFn) -> list[str]:
    lines = ["tags:"]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["item", "commented", "inline"]))
        name = draw(word)
        lines.append({"item": f"- {name}", "commented": f"# - {name}", "inline": f"- {name}  # {name}"}[kind])
    return lines


def _entry_widget(draw: st.DrawFn) -> list[str]:
    lines = ["widget:"]
    for _ in range(draw(st.integers(1, 3))):
        style = draw(st.sampled_from(["|", ">", ">-", "|-"]))
        lines.append(f"- text: {style}")
        for _ in range(draw(st.integers(1, 3))):
            lines.append("    " + draw(unicode_text).strip())
        if draw(st.booleans()):
            lines.append("    ---")
        lines.append(f"  example_title: {json.dumps(draw(unicode_text), ensure_ascii=False)}")
    return lines


def _entry_model_index(draw: st.DrawFn) -> list[str]:
    value = draw(st.floats(0, 1, allow_nan=False))
    lines = [
        "model-index:",
        f"- name: {draw(word)}",
        "  results:",
        "  - task:",
        "      type: text-classification",
        "",
        "    # metrics on the test split",
        "    metrics:",
        "    - type: accuracy",
        f"      value: {value!r}",
    ]
    if draw(st.booleans()):
        lines += ["", "    - type: f1", "      value: 1.00 +/- 0.00  # string metric"]
    return lines


def _entry_complex_key(draw: st.DrawFn) -> list[str]:
    length = draw(st.integers(1, 2000))
    return [f'? "{("long key " * (length // 9 + 1))[:length]}"', ": value of the complex key"]


def _entry_co2(draw: st.DrawFn) -> list[str]:
    return ["co2_eq_emissions:", f"  emissions: {draw(st.integers(1, 999))}", "  source: CodeCarbon"]


def _entry_base_model(draw: st.DrawFn) -> list[str]:
    return ["base_model:", *[f"- org/{draw(word)}-{i}" for i in range(draw(st.integers(1, 3)))]]


def _entry_inference(draw: st.DrawFn) -> list[str]:
    if draw(st.booleans()):
        return [f"inference: false{draw(spaces)}"]
    return [
        "inference:",
        "  parameters:",
        "    num_beams : 5",
        f"    max_length : {draw(st.integers(1, 512))}",
    ]


def _entry_comment(draw: st.DrawFn) -> list[str]:
    return [f"# {draw(unicode_text)}"]


ENTRIES = {
    "license": _entry_license,
    "language": _entry_language,
    "tags": _entry_tags,
    "widget": _entry_widget,
    "model-index": _entry_model_index,
    "complex": _entry_complex_key,
    "co2": _entry_co2,
    "base_model": _entry_base_model,
    "inference": _entry_inference,
    "comment": _entry_comment,
}

OLD_KEYS = [
    ["energy_score:", "  stars: 2", "  task: old-task", "  wh_per_1k_queries:", "    value: 1.5"],
    ["energy_score: {stars: 1}  # hand-written"],
    ["energy_score:", "  stars: 3  # note", "  # inner comment", "  tool: energy-badge 0.0.1"],
    ["energy_score:"],
]


def _example_lines(draw: st.DrawFn) -> list[str]:
    """The badge block as a card shows it in an example (sometimes only half of it)."""
    lines = [BLOCK_START, f"[![AI energy]({draw(word)}.svg)](energy/result.json)", BLOCK_END]
    return draw(st.sampled_from([lines, lines[:2], lines[1:]]))


def _code_example(draw: st.DrawFn, closed: bool = True) -> list[str]:
    """Code holding the badge markers: CommonMark code, so the author's text, never our block."""
    example = _example_lines(draw)
    style = draw(st.sampled_from(["fence", "fence", "list", "quote", "indented"])) if closed else "fence"
    if style == "indented":  # after a paragraph line, so that no list before it can claim the lines
        return ["Example:", "", *["    " + line for line in example]]
    char = draw(st.sampled_from(["`", "~"]))
    opening = char * draw(st.integers(3, 5))
    info = draw(st.sampled_from(["", "md", "html", " markdown"])) if char == "~" or closed else ""
    indent = " " * draw(st.integers(0, 3))
    inner = [opening + info, *example] + ([opening] if closed else [])
    if style == "list":
        return ["- Example:", "", *["  " + line for line in inner]]
    if style == "quote":
        return ["> " + line for line in inner]
    # after a paragraph line: an indented fence right after a list would belong to the list's item
    return ["Example:", "", *[(indent + line if line.startswith(opening) else line) for line in inner]]


def _body_part(draw: st.DrawFn) -> list[str]:
    kind = draw(
        st.sampled_from(
            ["text", "rule", "rule_heading", "html_comment", "trainer", "details", "table", "heading", "code"]
        )
    )
    if kind == "code":
        return _code_example(draw)
    if kind == "text":  # starts with a letter: never a heading, a rule or a fence
        return ["T" + draw(unicode_text) + draw(spaces) for _ in range(draw(st.integers(1, 3)))]
    return {
        "rule": ["---"],
        "rule_heading": ["---", "## Section"],
        "html_comment": ["<!-- a note for maintainers -->"],
        "trainer": [
            "<!-- This model card has been generated automatically according to the information the Trainer "
            "had access to. You",
            "should probably proofread and complete it, then remove this comment. -->",
        ],
        "details": [
            "<details>",
            "<summary>Logs</summary>",
            "",
            '<img src="loss.png" width="300">',
            "",
            "</details>",
        ],
        "table": ["| a | b |", "|---|---|", "| 1 | 2 |"],
        "heading": ["## Usage"],
    }[kind]


@dataclass(frozen=True)
class GeneratedCard:
    text: str
    eol: str
    prefix: str  # before our key (or before the front matter we create)
    key_old: str  # the old key's lines ("" when absent)
    middle: str  # between the key and the block position
    block_old: str  # the old block ("" when absent)
    suffix: str  # after the block
    has_front_matter: bool
    fm_content: str  # the text between the fences ("" without a front matter)


@st.composite
def cards(draw: st.DrawFn) -> GeneratedCard:
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    has_fm = draw(st.booleans()) or draw(st.booleans())
    lead = eol * draw(st.integers(0, 2))  # blank lines before the opening fence

    def join(lines: list[str]) -> str:
        return "".join(line + eol for line in lines)

    # front matter: entries with unique keys, an optional old key among them, trailing comments
    entries = []
    used = set()
    for name in draw(st.lists(st.sampled_from(sorted(ENTRIES)), max_size=7)):
        if name == "comment" or name not in used:
            used.add(name)
            entries.append(ENTRIES[name](draw))
    old_key = draw(st.one_of(st.none(), st.sampled_from(OLD_KEYS))) if has_fm else None
    key_at = draw(st.integers(0, len(entries)))
    trailing_comments = [f"# {draw(word)}" for _ in range(draw(st.integers(0, 2)))]
    before_key = join([line for entry in entries[:key_at] for line in entry])
    after_key = join([line for entry in entries[key_at:] for line in entry] + trailing_comments)
    key_old = join(old_key) if old_key else ""

    # body: blank lines, an optional h1, parts separated by blank lines, an optional old block
    body_lead = eol * draw(st.integers(0, 2))
    if not has_fm:  # without a front matter, the blank lines before it are simply the body's
        body_lead, lead = lead + body_lead, ""
    heading = f"# {draw(unicode_text).strip()}{draw(spaces)}" if draw(st.booleans()) else None
    head = body_lead + (heading + eol if heading is not None else "")
    parts = [_body_part(draw) for _ in range(draw(st.integers(0, 5)))]
    if not has_fm and heading is None:  # a body opening with `---` (then another) would *be* a front matter
        while parts and parts[0][0] == "---":
            parts.pop(0)
    # a fence left open runs to the end of the file: it can only be the last part, after any block
    unclosed = draw(st.integers(0, 5)) == 0
    if unclosed:
        parts.append(_code_example(draw, closed=False))

    def parts_text(chosen: list[list[str]]) -> str:
        return "".join(eol + join(p) for p in chosen)

    if draw(st.booleans()):
        block_at = draw(st.integers(0, len(parts) - 1 if unclosed else len(parts)))
        block_old = f"{BLOCK_START}{eol}[old badge]({draw(word)}.svg){eol}{BLOCK_END}"
        before_block = head + parts_text(parts[:block_at]) + eol
        after_block = eol + parts_text(parts[block_at:])
    else:
        block_old = ""
        if heading is not None:  # inserted after the h1 on the first non-blank line
            before_block, after_block = head, parts_text(parts)
        else:  # inserted right after the front matter
            before_block, after_block = "", head + parts_text(parts)

    if has_fm:
        fence = "---" + eol
        if old_key:
            prefix, middle = bom + lead + fence + before_key, after_key + fence + before_block
        else:
            prefix, middle = bom + lead + fence + before_key + after_key, fence + before_block
    else:
        prefix, middle = bom, before_block

    segments = [prefix, key_old, middle, block_old, after_block]
    if not draw(st.booleans()):  # no line break at the end of the file
        last = max((i for i, seg in enumerate(segments) if seg), default=0)
        if segments[last].endswith(eol):
            segments[last] = segments[last][: -len(eol)]
    prefix, key_old, middle, block_old, after_block = segments
    text = "".join(segments)
    return GeneratedCard(
        text=text,
        eol=eol if "\n" in text else "\n",  # a card without line breaks gets LF
        prefix=prefix,
        key_old=key_old,
        middle=middle,
        block_old=block_old,
        suffix=after_block,
        has_front_matter=has_fm,
        fm_content=before_key + key_old + after_key if has_fm else "",
    )


line_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40)
energy = st.one_of(st.floats(0, 1e6, allow_nan=False, allow_infinity=False), st.integers(0, 10**6))


@st.composite
def metadata(draw: st.DrawFn) -> dict:
    low, value, high = sorted(draw(st.lists(energy, min_size=3, max_size=3)))
    stars = draw(st.one_of(st.none(), st.integers(1, 5)))
    data = {
        "stars": stars,
        "task": draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
        "wh_per_1k_queries": {"value": value, "ci95_low": low, "ci95_high": high},
        "hardware": draw(line_text),
        "hardware_class": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True)),
        "workload": draw(st.from_regex(r"[a-z][a-z-]{0,15}@[0-9]{1,2}\.[0-9]\.[0-9]", fullmatch=True)),
        "rating_table": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,10}", fullmatch=True)),
        "measured_at": draw(st.dates()).isoformat(),
        "tool": "energy-badge " + draw(st.from_regex(r"[0-9]\.[0-9]{1,2}\.[0-9](rc[0-9])?", fullmatch=True)),
        "result": draw(st.sampled_from(["energy/result.json", "result.json", "energy/2025/h100.json"])),
    }
    if stars is None:
        data["unrated_reason"] = draw(line_text)
    return data


# The shared card metadata with other figures (3 stars, a whole-number bound): same keys, same order.
FIXED_METADATA = {
    **METADATA,
    "stars": 3,
    "wh_per_1k_queries": {"value": 0.5, "ci95_low": 0.25, "ci95_high": 1.0},
}
badges = st.sampled_from(["[![AI energy](energy/badge.svg)](energy/result.json)", "★★★☆☆ 0.5 Wh/1k", "a\nb"])


# --- properties --------------------------------------------------------------------------------


@SETTINGS
@given(card=cards(), meta=st.one_of(st.just(FIXED_METADATA), metadata()), badge=badges)
def test_only_key_and_block_change_at_the_expected_places(
    card: GeneratedCard, meta: dict, badge: str
) -> None:
    RUNS["structure"] += 1
    if "```" in card.text or "~~~" in card.text or "Example:" in card.text:
        RUNS["structure, with code"] += 1
    out = apply_to_card(card.text, meta, badge).updated
    eol = card.eol
    block = BLOCK_START + eol + badge.replace("\n", eol) + eol + BLOCK_END
    if card.block_old:
        new_block = block
    else:
        if card.has_front_matter or card.middle:
            on_new_line = (card.prefix + card.key_old + card.middle).endswith("\n")
        else:
            on_new_line = True  # right after the front matter we create
        rest_first_line = card.suffix.split("\n", 1)[0]
        lead = eol + ("" if on_new_line else eol)
        trail = eol + (eol if card.suffix and rest_first_line.strip(" \t\r") else "")
        new_block = lead + block + trail
    tail = card.middle + new_block + card.suffix
    assert out.startswith(card.prefix)
    assert out.endswith(tail)
    key = out[len(card.prefix) : len(out) - len(tail)]
    if card.has_front_matter:
        assert key.startswith(f"{METADATA_KEY}:{eol}")
    else:
        assert key.startswith(f"---{eol}{METADATA_KEY}:{eol}") and key.endswith(f"---{eol}")
        key = key[len(f"---{eol}") : -len(f"---{eol}")]
    lines = key.split(eol)
    assert lines[-1] == "" and all(line.startswith("  ") for line in lines[1:-1])
    assert "\n" not in key.replace(eol, "")
    assert YAML(typ="safe").load(key) == {METADATA_KEY: meta}


@settings(SETTINGS, max_examples=150)
@given(card=cards(), meta=metadata(), badge=badges, meta2=metadata())
def test_idempotent_and_reads_back(card: GeneratedCard, meta: dict, badge: str, meta2: dict) -> None:
    RUNS["idempotent"] += 1
    once = apply_to_card(card.text, meta, badge)
    twice = apply_to_card(once.updated, meta, badge)
    assert twice.updated == once.updated and not twice.changed
    assert read_metadata(once.updated) == meta
    # a later run with other metadata touches only the key and the block, and converges again
    other = apply_to_card(once.updated, meta2, "new badge").updated
    assert read_metadata(other) == meta2
    assert apply_to_card(other, meta, badge).updated == once.updated
    data = card.text.encode("utf-8")
    assert apply_to_card_bytes(data, meta, badge) == (once.updated.encode("utf-8"), True)


@SETTINGS
@given(card=cards())
def test_huggingface_hub_sees_our_key_and_the_same_other_keys(card: GeneratedCard) -> None:
    RUNS["hub_view"] += 1
    out = apply_to_card(card.text, FIXED_METADATA, "badge").updated
    match = REGEX_YAML_BLOCK.search(out.lstrip("\ufeff"))
    assert match
    new = yaml.safe_load(match.group(2).replace("\t", " "))
    assert new[METADATA_KEY] == FIXED_METADATA
    # huggingface_hub's regex does not see an empty front matter (`---` right after `---`)
    old_match = REGEX_YAML_BLOCK.search(card.text.lstrip("\ufeff")) if card.fm_content else None
    old = (yaml.safe_load(old_match.group(2).replace("\t", " ")) if old_match else None) or {}
    old.pop(METADATA_KEY, None)
    new.pop(METADATA_KEY)
    assert new == old


@SETTINGS
@given(meta=metadata())
def test_metadata_round_trips_through_yaml_1_1_and_1_2(meta: dict) -> None:
    RUNS["metadata"] += 1
    out = apply_to_card("# Title\n", meta, "b").updated
    assert read_metadata(out) == meta
    assert yaml.safe_load(out.split("---\n")[1])[METADATA_KEY] == meta
