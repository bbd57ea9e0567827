"""`energy-badge advise`: the sweep, the quality guard, the frontier, the report, plot and Markdown.

What is simulated, and only that: the GPU, at the pynvml boundary (tests/fake_nvml.py), in the
energy test; the other tests run with `--no-energy` (time per query, labelled so). The models
are real tiny BERT classifiers built in the test (tests/tiny_models.py) running on the CPU;
transformers, torchao (int8 weight-only through TorchAoConfig) and matplotlib run for real.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_nvml import FakeGPU, install_fake_nvml
from tiny_models import build_tiny_model

from energy_badge.advise import (
    AdviseOptions,
    build_report,
    parse_budget,
    parse_grid,
    parse_model_index,
    report_json,
    run_sweep,
)
from energy_badge.cli import main
from energy_badge.errors import UsageError
from energy_badge.files import schema_errors
from energy_badge.meter import MeterConfig

TASK = "text-classification"
QUICK = ["--queries", "12", "--quality-queries", "12", "--min-window", "0.05", "--warmup", "0"]
QUICK += ["--idle-seconds", "0", "--min-repetitions", "1", "--max-repetitions", "1"]
CARD = """---
license: mit
model-index:
- name: tiny
  results:
  - task: {type: text-classification}
    dataset: {name: sst2, type: glue}
    metrics:
    - {type: accuracy, value: 0.913}
---
# tiny
"""


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(TASK, tmp_path_factory.mktemp("advise") / "tiny-bert")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def quick_options(**kwargs: object) -> AdviseOptions:
    meter = MeterConfig(
        min_repetitions=1, max_repetitions=1, min_window_s=0.05, idle_seconds=0, warmup_max_s=0
    )
    return AdviseOptions(queries=12, quality_queries=12, energy=False, device="cpu", meter=meter, **kwargs)  # type: ignore[arg-type]


def test_advise_no_energy_end_to_end_through_the_cli(classifier, tmp_path):
    """No simulation: `advise --no-energy` on the CPU. Every point of the grid is measured or
    skipped with its reason; the JSON report passes its schema; the PNG and the Markdown are
    written and say no energy was measured."""
    out = tmp_path / "adv"
    grid = "dtype=fp32,tf32 batch=1,4 quant=none,int8,fp8 attn=sdpa,eager compile=off,on"
    code, stdout, stderr = invoke(
        "advise", str(classifier), "--task", TASK, "--no-energy", "--grid", grid, "-o", str(out), *QUICK
    )
    assert code == 0, stderr
    doc = json.loads((out / "advise.json").read_text("utf-8"))
    assert schema_errors(doc, "advise-report.schema.json") == []
    assert doc["energy_measured"] is False and doc["metric"] == "ms_per_query"
    points = {p["key"]: p for p in doc["models"][0]["points"]}
    assert points["fp32/b1"]["quality"] is None  # the reference
    assert points["fp32/b4"]["status"] == "measured"
    tf32 = [p for p in doc["models"][0]["points"] if p["dtype"] == "tf32"]
    assert tf32 and tf32[0]["status"] == "skipped" and "tensor-core" in tf32[0]["reason"]
    skipped = {p["key"]: p["reason"] for p in doc["models"][0]["points"] if p["status"] == "skipped"}
    assert any("fp8" in r for r in skipped.values()) and any("torch.compile" in r for r in skipped.values())
    int8 = [p for p in doc["models"][0]["points"] if p["quantization"] == "int8"]
    assert int8 and int8[0]["status"] == "measured", int8  # torchao int8 weight-only runs on the CPU
    eager = [p for p in doc["models"][0]["points"] if p["attention"] == "eager"]
    assert eager and eager[0]["quality"]["passed"] is True  # same maths, same labels
    rec = doc["models"][0]["recommendation"]
    assert rec["key"] in doc["models"][0]["frontier"] and points[rec["key"]]["recommended"] is True
    assert doc["sentence"].startswith("Latency and throughput only (no energy measured)")
    assert (out / "advise.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "advise.md").read_text("utf-8")
    assert "no energy was measured" in markdown and "| fp32 at batch 1 |" in markdown
    assert "NO energy was measured" in stdout and "less time per query than the canonical" in stdout


def test_advise_energy_path_on_simulated_gpu(classifier, tmp_path, monkeypatch):
    """Simulated: one H100 drawing a constant 300 W (the model runs on the CPU). Each point's
    energy per query is 300 W over its measured time per query, with an interval."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(name="NVIDIA H100 80GB HBM3", power_trace=300.0)])
    out = tmp_path / "adv"
    args = ["advise", str(classifier), "--task", TASK, "--device", "cpu", "-o", str(out), *QUICK]
    args += ["--grid", "dtype=fp32 batch=1,2 quant=none attn=sdpa compile=off", "--min-repetitions", "2"]
    args += ["--max-repetitions", "2", "--format", "json"]
    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc == json.loads((out / "advise.json").read_text("utf-8"))
    assert doc["energy_measured"] is True and doc["metric"] == "gpu_wh_per_1k_queries"
    measured = [p for p in doc["models"][0]["points"] if p["status"] == "measured"]
    assert [p["key"] for p in measured] == ["fp32/b1", "fp32/b2"]
    for point in measured:
        energy = point["energy_wh_per_1k"]
        assert energy["n"] == 2 and energy["ci95_low"] <= energy["mean"] <= energy["ci95_high"]
        assert energy["mean"] == pytest.approx(300.0 * point["ms_per_query"] / 1000 * 1000 / 3600, rel=0.05)
    assert "H100" in doc["models"][0]["hardware"]
    assert "energy per query" in doc["sentence"]


def test_quality_guard_rejects_a_broken_setting(classifier):
    """No simulation. A deliberately broken variant (encoder layers removed and the classifier
    negated: faster, wrong labels) is measured and shown, but fails the guard, is not on the
    frontier and is never recommended, although it is the fastest point."""

    def broken(model: object) -> None:
        import torch

        bert = model.bert  # type: ignore[attr-defined]
        bert.encoder.layer = torch.nn.ModuleList()
        with torch.no_grad():
            model.classifier.weight.neg_()  # type: ignore[attr-defined]
            model.classifier.bias.neg_()  # type: ignore[attr-defined]

    grid = parse_grid("dtype=fp32 batch=1 quant=none attn=sdpa compile=off")
    sweep = run_sweep(str(classifier), TASK, quick_options(grid=grid), transforms={"broken": broken})
    bad = next(p for p in sweep.points if p.name == "broken")
    base = next(p for p in sweep.points if p.name is None)
    assert bad.status == "measured" and bad.quality is not None
    assert not bad.quality.passed and bad.quality.agreement < 0.5, bad.quality
    report = build_report([sweep])
    rec = report.models[0].recommendation
    assert rec.point is base and bad not in report.models[0].frontier
    doc = report_json(report)
    row = next(p for p in doc["models"][0]["points"] if p["transform"] == "broken")  # type: ignore[index]
    assert row["quality"]["passed"] is False and row["recommended"] is False and row["on_frontier"] is False


def test_budget_and_max_latency(classifier):
    """No simulation. A budget spent by the first point leaves the rest listed as not run; a
    deadline below every point's latency recommends nothing and says which point is fastest."""
    grid = parse_grid("dtype=fp32,bf16 batch=1,2 quant=none attn=sdpa compile=off")
    sweep = run_sweep(str(classifier), TASK, quick_options(grid=grid, budget_s=1e-6))
    assert sweep.points[0].status == "measured"
    assert [p.status for p in sweep.points[1:]] == ["not_run"] * (len(sweep.points) - 1)
    assert all(p.reason == "the time budget ran out" for p in sweep.points[1:])
    report = build_report([sweep], max_latency_ms=1e-9)
    assert report.models[0].recommendation.point is None
    assert (
        report.sentence.startswith("Latency and throughput only") and "No setting measured" in report.sentence
    )


def test_advise_across_models_reads_the_cards(classifier, tmp_path):
    """No simulation: two copies of the tiny classifier, one whose card reports accuracy in
    model-index and one with no card; --models measures each at its canonical setting."""
    with_card = tmp_path / "with-card"
    shutil.copytree(classifier, with_card)
    (with_card / "README.md").write_text(CARD, encoding="utf-8")
    out = tmp_path / "adv"
    code, stdout, stderr = invoke(
        "advise",
        "--models",
        str(with_card),
        str(classifier),
        "--task",
        TASK,
        "--no-energy",
        "-o",
        str(out),
        *QUICK,
    )
    assert code == 0, stderr
    doc = json.loads((out / "advise.json").read_text("utf-8"))
    first, second = doc["models"]
    assert [p["key"] for p in first["points"]] == ["fp32/b1"]
    assert first["reported_quality"]["metrics"] == [{"metric": "accuracy", "value": 0.913, "dataset": "sst2"}]
    assert second["reported_quality"] == {"metrics": [], "note": "reports no quality (no model card)"}
    assert "accuracy 0.913 on sst2" in stdout and "reports no quality" in stdout
    code, _, stderr = invoke("advise", str(with_card), str(classifier), "--task", TASK, "--no-energy")
    assert code == 2 and "--models" in stderr


def test_grid_budget_and_card_parsing():
    """No simulation: the option parsers and the model-index reader."""
    grid = parse_grid("dtype=bf16,fp16; batch=1,8 quant=int8 attn=eager compile=off")
    assert grid.dtypes == ("bf16", "fp16") and grid.batch_sizes == (1, 8) and grid.compiles == (False,)
    assert parse_grid("batch=max=32").max_batch == 32
    for bad in ("dtype=fp64", "speed=fast", "batch=0", "compile=maybe", "dtype"):
        with pytest.raises(UsageError):
            parse_grid(bad)
    assert parse_budget("20m") == 1200 and parse_budget("1h30m") == 5400 and parse_budget("90") == 90
    for bad in ("soon", "0s", "m"):
        with pytest.raises(UsageError):
            parse_budget(bad)
    assert parse_model_index(CARD).describe() == "accuracy 0.913 on sst2"
    assert parse_model_index("# no front matter\n").metrics == ()
