"""``energy-badge measure --workload aes``: the AI Energy Score's own Hub datasets as the inputs.

What is simulated, and only that: the Hub's HTTP side. tests/hub_server.py (a loopback server)
serves dataset repos too (``datasets/<id>``: info, tree, paths-info, resolve), and the REAL
``datasets`` and huggingface_hub clients load from it through ``HF_ENDPOINT``, in a subprocess
(``datasets`` reads the endpoint when it is imported, as it would in a user's shell). The datasets
are built in the test with ``datasets`` (parquet files, the layout of the AES's own repos) from
this test's own texts and drawn pictures: they stand in for the real EnergyStarAI datasets. The
model is a REAL tiny classifier (tests/tiny_models.py) run on this CPU with --no-energy.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hub_server import HubServer
from tiny_models import build_tiny_model

from energy_badge.aes_workload import (
    AES_DATASETS,
    AES_SOURCE,
    DEFAULT_WORKLOAD,
    WorkloadChoice,
    parse_workload_option,
)
from energy_badge.errors import UsageError
from energy_badge.workload import TASKS, Workload

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [f"Review {i}: the soup was {'warm' if i % 2 else 'cold'} and the staff were kind." for i in range(6)]
LATER = [f"A later row {i}, pushed after the revision a run pinned." for i in range(6)]


def parquet(columns: dict) -> bytes:
    import datasets

    table = datasets.Dataset.from_dict(columns)
    if "image" in columns:
        table = table.cast_column("image", datasets.Image())
    out = io.BytesIO()
    table.to_parquet(out)
    return out.getvalue()


@pytest.fixture
def hub() -> HubServer:
    server = HubServer().start()
    server.add_user("energystar")
    yield server
    server.stop()


def run(args: list[str], hub: HubServer, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(tmp_path / "hf-home"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HF_TOKEN", None)
    return subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_option_takes_the_canonical_workload_aes_or_aes_at_a_revision():
    assert (
        parse_workload_option(None)
        == parse_workload_option(DEFAULT_WORKLOAD)
        == WorkloadChoice(DEFAULT_WORKLOAD)
    )
    assert parse_workload_option("aes") == WorkloadChoice(AES_SOURCE, None)
    assert parse_workload_option("aes@0123abc") == WorkloadChoice(AES_SOURCE, "0123abc")
    for bad in ("AES", "aes@", "aes@ main", "hub", "aes@../x"):
        with pytest.raises(UsageError, match="--workload must be"):
            parse_workload_option(bad)
    assert set(AES_DATASETS) == set(TASKS)


def test_measure_on_a_pinned_aes_dataset_records_it_and_is_never_canonical(hub, tmp_path):
    """The dataset's main moves after the first commit: ``measure --workload aes@<first commit>``
    still reads the first rows (the sha256 says so) and names that commit; loading plain ``aes``
    reads the newest. The result is not canonical, so ``rate`` leaves it unrated, saying why."""
    repo = "datasets/EnergyStarAI/text_classification"
    hub.create_repo(repo, {"README.md": b"# AES text classification (test copy)\n",
                           "data/train-00000-of-00001.parquet": parquet({"text": TEXTS})})  # fmt: skip
    first = hub.head(repo)
    hub.push(repo, {"data/train-00000-of-00001.parquet": parquet({"text": LATER})}, author="energystar")
    assert hub.head(repo) != first
    model = build_tiny_model("text-classification", tmp_path / "tiny")
    done = run(["-m", "energy_badge", "measure", str(model), "--task", "text-classification",
                "--workload", f"aes@{first}", "--no-energy", "--queries", "3", "--idle-seconds", "0",
                "--min-repetitions", "1", "--max-repetitions", "1", "--min-window", "0.05",
                "-o", "pinned.json"], hub, tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((tmp_path / "pinned.json").read_text(encoding="utf-8"))
    workload = data["workload"]
    first_rows = Workload.from_inputs(
        task="text-classification", name="x", version="0.0.0", inputs=TEXTS[:3], source=AES_SOURCE
    )
    assert (workload["source"], workload["version"]) == ("aes", "0.0.0")
    assert workload["name"] == f"EnergyStarAI/text_classification@{first}"
    assert workload["sha256"] == first_rows.sha256 and workload["queries"] == 3
    assert data["canonical"] is False
    assert any(
        "EnergyStarAI/text_classification@" in r and "never rated" in r for r in data["non_canonical_reasons"]
    ), data["non_canonical_reasons"]
    rated = run(["-m", "energy_badge", "rate", "pinned.json", "--json"], hub, tmp_path)
    assert rated.returncode == 0, rated.stderr
    rating = json.loads(rated.stdout)
    assert rating["stars"] is None and "only canonical results are rated" in rating["unrated_reason"]

    code = "from energy_badge.aes_workload import load_aes_workload as f; w = f('text-classification'); "
    code += "print(w.name, w.sha256, len(w))"
    newest = run(["-c", code], hub, tmp_path)
    assert newest.returncode == 0, newest.stderr[-3000:]
    later = Workload.from_inputs(
        task="text-classification", name="x", version="0.0.0", inputs=LATER, source=AES_SOURCE
    )
    assert newest.stdout.split() == [f"EnergyStarAI/text_classification@{hub.head(repo)}", later.sha256, "6"]


def test_an_image_dataset_loads_as_decoded_pictures_pinned_by_their_pixels(hub, tmp_path):
    """An image-to-text dataset (the AES's ``image`` column) becomes a workload of RGB pictures;
    its sha256 is the canonical definition's over exactly those pixels."""
    from PIL import Image

    pictures = [Image.new("RGB", (64 + 8 * i, 48), (40 * i, 120, 200 - 30 * i)) for i in range(3)]
    hub.create_repo("datasets/EnergyStarAI/image_captioning",
                    {"data/train-00000-of-00001.parquet": parquet({"image": pictures})})  # fmt: skip
    code = (
        "import json; from energy_badge.aes_workload import load_aes_workload\n"
        "w = load_aes_workload('image-to-text')\n"
        "print(json.dumps({**w.to_dict(), 'sizes': [w.input_at(i).size for i in range(len(w))], "
        "'modes': sorted({w.input_at(i).mode for i in range(len(w))})}))"
    )
    done = run(["-c", code], hub, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    expected = Workload.from_inputs(
        task="image-to-text", name="x", version="0.0.0", inputs=pictures, source="aes"
    )
    assert found["sha256"] == expected.sha256 and found["queries"] == 3 and found["source"] == "aes"
    assert [tuple(s) for s in found["sizes"]] == [p.size for p in pictures] and found["modes"] == ["RGB"]
    assert (
        found["name"] == f"EnergyStarAI/image_captioning@{hub.head('datasets/EnergyStarAI/image_captioning')}"
    )
    assert found["generation"] == expected.to_dict()["generation"]  # the canonical 100 forced tokens


def test_a_dataset_the_hub_does_not_show_is_a_clear_error(hub, tmp_path):
    done = run(["-m", "energy_badge", "measure", "x/y", "--task", "summarization", "--workload", "aes",
                "--no-energy"], hub, tmp_path)  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert "EnergyStarAI/summarization" in done.stderr and "Traceback" not in done.stderr
