"""The files in examples/ are exactly what the tool produces today (they cannot rot).

Each file is made again in a temporary folder by the commands examples/README.md lists (the real
CLI, in-process) and compared byte for byte with the committed one. The example result itself is
SYNTHETIC and comes from tests/results_factory.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from results_factory import example_result

from energy_badge.cli import main
from energy_badge.result import load_result

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RESULT = EXAMPLES / "example-result.SYNTHETIC.json"


def cli(*args: object) -> str:
    run = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    return run.stdout


def test_example_result_is_the_factory_output_and_says_it_is_synthetic():
    expected = json.dumps(example_result(), indent=2, ensure_ascii=False) + "\n"
    assert RESULT.read_text("utf-8") == expected
    result = load_result(RESULT)
    assert result.canonical and "SYNTHETIC" in str(result.model.note)
    assert "not from a real measurement" in str(result.model.note)
    assert result.model.parameters == 66_955_010  # DistilBertForSequenceClassification


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("example-badge.SYNTHETIC.svg", []),
        ("example-label.SYNTHETIC.svg", ["--kind", "label"]),
        ("example-label.SYNTHETIC.png", ["--kind", "label"]),
        ("example-shields.SYNTHETIC.json", []),
    ],
)
def test_example_drawings_are_what_badge_draws(tmp_path, name, args):
    out = tmp_path / name
    cli("badge", RESULT, *args, "-o", out)
    made, committed = out.read_bytes(), (EXAMPLES / name).read_bytes()
    if name.endswith(".png"):
        # Rasterised bytes depend on the cairo build; the SVG they come from is compared exactly
        # above, so here the image must only be a PNG of the same size.
        assert made[:8] == committed[:8] == b"\x89PNG\r\n\x1a\n"
        assert made[16:24] == committed[16:24], "width/height differ: regenerate, see examples/README.md"
        return
    assert made == committed, f"regenerate {name}: see examples/README.md"


def test_card_after_is_what_card_write_makes(tmp_path):
    card = tmp_path / "card-after.SYNTHETIC.md"
    shutil.copyfile(EXAMPLES / "card-before.md", card)
    assert "wrote" in cli("card", RESULT, "--readme", card, "--write")
    assert card.read_bytes() == (EXAMPLES / "card-after.SYNTHETIC.md").read_bytes()
    assert cli("card", RESULT, "--readme", card, "--write").startswith("no change:")


def test_examples_readme_explains_every_file():
    text = (EXAMPLES / "README.md").read_text("utf-8")
    for path in EXAMPLES.iterdir():
        if path.name != "README.md":
            assert f"`{path.name}`" in text, path.name
