"""Badge and label SVGs, PNG, shields.io endpoint JSON, font metrics, and the ``badge`` command."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from results_factory import make_energy_result, samples_for, write_result_file
from test_rating import table_json

from energy_badge import render
from energy_badge.errors import EXIT_INPUT, EXIT_USAGE
from energy_badge.rating import load_table, rate, unmeasured_rating
from energy_badge.render import (
    badge_svg,
    describe,
    fit_text,
    label_layout,
    label_svg,
    shields_json,
    text_width,
    to_png,
)
from energy_badge.text import format_energy, format_interval

SVG = "{http://www.w3.org/2000/svg}"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The shields.io endpoint schema, from its documentation (https://shields.io/badges/endpoint-badge)
# and its validator (services/endpoint-common.js: unknown keys are rejected).
SHIELDS_ENDPOINT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["schemaVersion", "label", "message"],
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string"},
        "labelColor": {"type": "string"},
        "isError": {"type": "boolean"},
        "namedLogo": {"type": "string"},
        "logoSvg": {"type": "string"},
        "logoColor": {"type": "string"},
        "logoWidth": {"type": "number"},
        "style": {"type": "string"},
        "cacheSeconds": {"type": "integer", "minimum": 0},
    },
    "not": {"required": ["namedLogo", "logoSvg"]},
}


def rated(value: float | None = 1.5, **knobs):
    """A real result (five repetitions of mean ``value``, 95 % interval ``value * (1 ± 0.05)``;
    ``None``: a performance-only run without energy) and its rating by the shipped tables."""
    if value is None:
        res = make_energy_result(energy=False, **knobs)
    else:
        res = make_energy_result(samples=samples_for(value, 0.05 * value, 5), **knobs)
    return res, rate(res, load_table())


# --------------------------------------------------------------------------------------------
# Numbers and text metrics


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.42, "0.42"), (0.4249, "0.42"), (1.3, "1.3"), (1.0, "1.0"), (47.0, "47"), (47.4, "47"), (123.4, "123"),
     (4567.8, "4568"), (0.0051, "0.0051"), (9.96, "10"), (99.6, "100"), (0.999, "1.0"), (0.0, "0")],
)  # fmt: skip
def test_format_energy_two_to_three_significant_digits(value, text):
    assert format_energy(value) == text


def test_text_width_comes_from_dejavu_advances():
    # 2048 units per em: at 2048 px a width is the sum of advance widths in font units
    assert text_width("A", 2048) == 1401
    assert text_width("M", 2048) == 1767
    assert text_width("★", 2048) == 1836
    assert text_width("iiii", 11) < text_width("WWWW", 11)  # metrics, not character counts
    assert text_width("abc", 22) == pytest.approx(2 * text_width("abc", 11))
    assert text_width("Wh", 11, bold=True) > text_width("Wh", 11)


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans TTF not installed")
def test_metrics_match_the_font_file():
    from fontTools.ttLib import TTFont

    font = TTFont(str(DEJAVU))
    cmap, hmtx = font.getBestCmap(), font["hmtx"]
    text = "AI energy ★★★★☆ 0.42 Wh/1k — Ünïcödé ДЖ"
    expected = sum(hmtx[cmap[ord(c)]][0] for c in text) * 11 / font["head"].unitsPerEm
    assert text_width(text, 11) == pytest.approx(expected)


def test_unknown_character_falls_back_to_one_em():
    assert text_width("中", 10) == pytest.approx(10.0)  # DejaVu Sans has no CJK


@given(st.text(max_size=30), st.text(min_size=1, max_size=30))
def test_width_grows_with_text(a, b):
    assert text_width(a + b, 11) == pytest.approx(text_width(a, 11) + text_width(b, 11))
    assert text_width(a + b, 11) > text_width(a, 11) or text_width(b, 11) == 0


@given(st.text(min_size=1, max_size=200), st.floats(min_value=20, max_value=400))
def test_fit_text_always_fits(text, room):
    fitted, size = fit_text(text, room, 14, min_size=8)
    assert text_width(fitted, size) <= room + 1e-9
    assert 8 <= size <= 14


# --------------------------------------------------------------------------------------------
# Badge SVG


def _texts(root):
    return [t for t in root.iter(f"{SVG}text")]


def test_badge_svg_is_accessible_well_formed_xml():
    res, rating = rated(0.3)
    svg = badge_svg(res, rating)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert "3 of 5 stars" in root.get("aria-label") and "0.30 Wh per 1000 texts classified" in root.get(
        "aria-label"
    )
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == root.get("aria-label")
    messages = [t.text for t in _texts(root)]
    assert "AI energy" in messages and "★★★☆☆ 0.30 Wh/1k texts" in messages
    families = {g.get("font-family") for g in root.iter(f"{SVG}g") if g.get("font-family")}
    assert families and all(f.startswith("DejaVu Sans,") for f in families)


@pytest.mark.parametrize(
    ("value", "stars", "color"),
    [
        (0.1, 5, "#44cc11"),
        (0.2, 4, "#97ca00"),
        (0.3, 3, "#dfb317"),
        (0.5, 2, "#fe7d37"),
        (10.0, 1, "#e05d44"),
    ],
)
def test_badge_colour_by_stars(value, stars, color):
    res, rating = rated(value)
    assert rating.stars == stars
    fills = [r.get("fill") for r in ET.fromstring(badge_svg(res, rating)).iter(f"{SVG}rect")]
    assert color in fills


def test_unrated_badge_is_grey_and_says_so():
    res, rating = rated(0.42, hardware_class="T4", gpu_name="Tesla T4")
    root = ET.fromstring(badge_svg(res, rating))
    assert render.UNRATED_COLOR in [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert "unrated 0.42 Wh/1k texts" in [t.text for t in _texts(root)]
    assert "T4" in root.get("aria-label")
    res, rating = rated(None)  # performance only: no energy, so not canonical
    root = ET.fromstring(badge_svg(res, rating))
    assert "unrated" in [t.text for t in _texts(root)]
    assert render.UNRATED_COLOR in [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert "no energy measured" in root.get("aria-label")


def test_badge_of_a_model_without_a_result():
    # The badge service's placeholder: no result yet (result=None), the rating says why.
    rating = unmeasured_rating("org/new-model", "text-classification", load_table())
    root = ET.fromstring(badge_svg(None, rating))
    assert [t.text for t in _texts(root) if t.get("aria-hidden") is None] == ["AI energy", "unrated"]
    assert render.UNRATED_COLOR in [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert root.get("aria-label") == describe(None, rating)
    assert describe(None, rating) == (
        "AI energy: unrated (org/new-model, text-classification; rating table 0.3.0-provisional): "
        "not measured yet"
    )
    assert shields_json(rating)["message"] == "unrated"


def _check_texts_fit(svg: str, left_bound: float = 0.0):
    """Every text's measured width matches the metrics and lies inside the SVG's box."""
    root = ET.fromstring(svg)
    width = float(root.get("width"))
    for t in _texts(root):
        size = float(t.get("font-size"))
        measured = text_width(t.text or "", size, bold=t.get("font-weight") == "bold")
        assert float(t.get("textLength")) == pytest.approx(measured, abs=0.01)
        x = float(t.get("x"))
        left = {"start": x, "middle": x - measured / 2, "end": x - measured}[t.get("text-anchor")]
        assert left >= left_bound - 0.01 and left + measured <= width - left_bound + 0.01, t.text
    return root


def test_badge_boxes_hold_their_text():
    res, rating = rated(1234.5, task="text-generation", parameters=7_000_000_000)
    svg = badge_svg(res, rating)
    root = _check_texts_fit(svg)
    lay = render.badge_layout(rating)
    assert lay.label_box >= lay.label_text_width + 2 * render.BADGE_PADDING
    assert lay.message_box >= lay.message_text_width + 2 * render.BADGE_PADDING
    assert float(root.get("width")) == lay.label_box + lay.message_box == lay.width
    assert lay.message_text_width == pytest.approx(text_width(lay.message, render.BADGE_FONT_SIZE))
    short = render.badge_layout(rated(0.3)[1])
    assert lay.message_box > short.message_box  # a longer message, a wider box


# --------------------------------------------------------------------------------------------
# Label SVG


def test_label_shows_everything():
    res, rating = rated(0.3, model_id="distilbert/distilbert-base-uncased", created_at="2026-11-21T10:00:00Z")
    root = _check_texts_fit(label_svg(res, rating), render.LABEL_MARGIN)
    text = " ".join(t.text or "" for t in _texts(root))
    for part in ("distilbert/distilbert-base-uncased", "text-classification", "H100", "NVIDIA H100 80GB HBM3",
                 "0.30", "Wh per 1000 texts classified", "95 % interval 0.29 – 0.31", "3 of 5", "2026-11-21",
                 "v1.0.0", "0.3.0-provisional", "(provisional)", "0.14", "0.224", "0.359",
                 "0.574"):  # fmt: skip
        assert part in text, part
    assert len([p for p in root.iter(f"{SVG}polygon") if p.get("fill") == render.STAR_COLORS[3]]) == 3
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == root.get("aria-label")


@pytest.mark.parametrize(
    "model_id",
    [
        "org/" + "m" * 96,
        "a" * 40 + "/" + "W" * 96,
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "Organisation-With-A-Long-Name/Some-Model-Name-That-Keeps-Going-7B-Instruct-v0.3-GPTQ-4bit",
    ],
)
def test_long_model_names_fit_inside_the_label(model_id):
    res, rating = rated(
        1.5, model_id=model_id, gpu_name="NVIDIA H100 80GB HBM3 with a very long marketing name"
    )
    svg = label_svg(res, rating)
    root = _check_texts_fit(svg, render.LABEL_MARGIN)
    assert model_id in root.get("aria-label")  # the full name is kept for screen readers
    _, texts, width, _ = label_layout(res, rating)
    for item in texts:
        assert item.width <= item.room + 1e-9
        assert (
            render.LABEL_MARGIN - 0.01 <= item.x and item.x + item.width <= width - render.LABEL_MARGIN + 0.01
        )


def test_unrated_label_gives_the_reason():
    res, rating = rated(2.0, batch_size=8)
    root = _check_texts_fit(label_svg(res, rating), render.LABEL_MARGIN)
    text = " ".join(t.text or "" for t in _texts(root))
    assert "unrated" in text and "--batch-size 8" in text and "canonical" in text
    assert rating.unrated_reason in root.get("aria-label")  # the whole reason, unshortened


def test_xml_in_model_names_is_escaped():
    evil = 'org/<script>alert("x")</script>&co\'s'
    res, rating = rated(1.5, model_id=evil)
    for svg in (badge_svg(res, rating), label_svg(res, rating)):
        assert "<script>" not in svg
        root = ET.fromstring(svg)
        assert evil in root.get("aria-label") and evil in root.find(f"{SVG}title").text
    texts = [t.text for t in _texts(ET.fromstring(label_svg(res, rating)))]
    assert evil in texts or any("<script>" in (t or "") for t in texts)


def test_control_characters_cannot_break_the_xml():
    res, rating = rated(1.5, hardware_class="T\x01\x1f4")
    ET.fromstring(label_svg(res, rating))
    ET.fromstring(badge_svg(res, rating))


# --------------------------------------------------------------------------------------------
# PNG


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("scale", [1, 2])
def test_png_has_signature_and_svg_size(scale):
    res, rating = rated(1.5)
    for svg in (badge_svg(res, rating), label_svg(res, rating)):
        root = ET.fromstring(svg)
        expected = (int(float(root.get("width")) * scale), int(float(root.get("height")) * scale))
        assert _png_size(to_png(svg, scale=scale)) == expected


# --------------------------------------------------------------------------------------------
# shields.io endpoint JSON


@pytest.mark.parametrize("value", [0.3, 0.8, 2.0, 5.0, 10.0, None])
def test_shields_json_follows_the_endpoint_schema(value):
    res, rating = rated(value)
    data = shields_json(rating)
    jsonschema.validate(data, SHIELDS_ENDPOINT_SCHEMA)
    assert json.loads(json.dumps(data)) == data
    assert data["schemaVersion"] == 1 and data["label"] == "AI energy"
    if value is None:
        assert data["message"] == "unrated" and data["color"] == "lightgrey"
    else:
        assert data["message"].endswith(" Wh/1k texts")
        assert data["color"] == render.SHIELDS_COLORS[rating.stars]


def test_shields_schema_in_this_test_rejects_unknown_keys():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"schemaVersion": 1, "label": "a", "message": "b", "stars": 3}, SHIELDS_ENDPOINT_SCHEMA
        )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schemaVersion": 1, "label": "a", "message": ""}, SHIELDS_ENDPOINT_SCHEMA)


# --------------------------------------------------------------------------------------------
# CLI: badge


@pytest.fixture
def fake_result_file(tmp_path):
    """A real (synthetic) result file: 0.2 Wh per 1000 queries on an H100."""
    return write_result_file(tmp_path / "r.json", model_id="org/tiny", samples=samples_for(0.2, 0.01, 5))


def _cli(*args):
    from click.testing import CliRunner

    from energy_badge.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_badge_formats_from_suffix(tmp_path, fake_result_file):
    out = _cli("badge", fake_result_file, "-o", tmp_path / "b.svg")
    assert out.exit_code == 0, out.output
    assert "4 of 5" in out.output
    ET.fromstring((tmp_path / "b.svg").read_text())
    out = _cli("badge", fake_result_file, "-o", tmp_path / "l.png", "--kind", "label", "--scale", "2")
    assert out.exit_code == 0, out.output
    assert _png_size((tmp_path / "l.png").read_bytes()) == (2 * render.LABEL_WIDTH, 600)
    out = _cli("badge", fake_result_file, "-o", tmp_path / "endpoint.json")
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "endpoint.json").read_text())
    jsonschema.validate(data, SHIELDS_ENDPOINT_SCHEMA)
    assert data["message"] == "★★★★☆ 0.20 Wh/1k texts"


def test_cli_badge_explicit_format_and_table(tmp_path, fake_result_file):
    table = tmp_path / "t.json"
    table.write_text(json.dumps(table_json()))
    out = _cli("badge", fake_result_file, "-o", tmp_path / "x.out", "--format", "svg", "--table", table)
    assert out.exit_code == 0, out.output
    assert "5 of 5" in out.output  # 0.2 < 1.0, the test table's c1
    assert "★★★★★" in (tmp_path / "x.out").read_text()


def test_cli_badge_usage_errors(tmp_path, fake_result_file):
    out = _cli("badge", fake_result_file, "-o", tmp_path / "x.gif")
    assert out.exit_code == EXIT_USAGE and "--format" in out.output
    out = _cli("badge", fake_result_file, "-o", tmp_path / "x.json", "--kind", "label")
    assert out.exit_code == EXIT_USAGE
    out = _cli("badge", tmp_path / "missing.json", "-o", tmp_path / "x.svg")
    assert out.exit_code == EXIT_INPUT
    assert not (tmp_path / "x.svg").exists()


def test_interval_ends_get_digits_until_they_differ():
    assert format_interval(0.1771, 0.1789) == ("0.177", "0.179")
    assert format_interval(0.17712, 0.17718) == ("0.1771", "0.1772")
    assert format_interval(0.12, 0.31) == ("0.12", "0.31")
    assert format_interval(47.2, 52.9) == ("47", "53")


# --------------------------------------------------------------------------------------------
# Bounded output whatever a result holds (issue 13: absurd numbers and 100 000-character names)


@pytest.mark.parametrize("value", [1e308, 1e-300, 123456789.0, -1e12, 5e-5])
def test_absurd_energies_are_written_in_a_few_characters(value):
    from energy_badge.text import format_energy, format_interval

    assert len(format_energy(value)) <= 9, format_energy(value)
    low, high = format_interval(value, value * 1.0001)
    assert len(low) <= 10 and len(high) <= 10, (low, high)


def test_a_huge_model_id_and_gpu_name_give_a_bounded_badge_and_label():
    """A 100 000-character model id and GPU name (nothing simulated: the real rate and render).

    The codec refuses such a file (their schema caps: tests/test_hostile_inputs.py); the renderer
    stays bounded all the same for a result built in code, so the names are put in with replace."""
    from dataclasses import replace

    res = make_energy_result()
    gpu = replace(res.hardware.gpus[0], name="NVIDIA " + "H" * 100_000)
    res = replace(
        res, model=replace(res.model, id="org/" + "m" * 100_000), hardware=replace(res.hardware, gpus=(gpu,))
    )
    rating = rate(res)
    badge = badge_svg(res, rating)
    label = label_svg(res, rating)
    assert len(badge) < 5_000 and len(label) < 20_000, (len(badge), len(label))
    assert "m" * 120 in label and "m" * 400 not in label  # shortened in the middle, not dropped
    _, texts, width, _ = label_layout(res, rating)
    assert all(t.width <= t.room + 1e-9 for t in texts)
