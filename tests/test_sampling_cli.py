"""`energy-badge measure --protocol sampled` end to end, and the sampled default of bulk and the service.

What is simulated: the GPU, at the pynvml boundary (tests/fake_nvml.py, a constant 300 W), and
the meter's time: its clock is this process's CPU time (plus the simulated idle sleeps), and the
fake NVML integrates power over the same clock, so other processes loading this machine do not
stretch the windows (the run-to-run noise stays that of the work itself). The model is a real
tiny BERT, the workload the shipped canonical one; Zeus, transformers, the runner, the meter's
loop, the estimator and the policy run for real. The model runs on the CPU while the simulated
GPU is metered, so the result is non-canonical for that reason alone.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_clock import CPUClock
from fake_nvml import FakeGPU, install_fake_nvml
from tiny_models import build_tiny_model

from energy_badge.cli import main
from energy_badge.policy import canonical_reasons, publish_problems
from energy_badge.result import decode_result, load_result

RAN_ON_CPU = "the model ran on cpu, not on the metered GPU"


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """One sampled measurement of a tiny text classifier (shared by the tests below).

    Windows of 0.02 s: the protocol measures a workload whole when its pass lasts under five
    windows, and a tiny model's 1000 queries can take well under a second. A +-95 % target: the
    per-query times the estimator reads are wall-clock latencies, as noisy as this machine's load
    makes them; the test is about what the result records, the benchmark about coverage.
    """
    root = tmp_path_factory.mktemp("sampled")
    model = build_tiny_model("text-classification", root / "model")
    clock = CPUClock()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("energy_badge.meter.energy.SYSTEM_CLOCK", clock)
        install_fake_nvml(mp, gpus=[FakeGPU(name="NVIDIA H100 80GB HBM3", power_trace=300.0)], clock=clock)
        out = root / "r.json"
        args = ["measure", str(model), "--task", "text-classification", "--device", "cpu"]
        args += ["--protocol", "sampled", "--sample-seed", "7", "--target-ci", "95"]
        args += ["--min-repetitions", "3", "--max-repetitions", "3", "--min-window", "0.02"]
        args += ["--idle-seconds", "0.2", "--warmup", "0.2", "-o", str(out)]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return out, result.stdout, result.stderr


def test_sampled_measure_records_its_sample_and_both_errors(sampled_run):
    """The result says it is sampled: the seed, 20 strata by input tokens, the 100 queries run
    (each repetition runs exactly them), their costs, and a headline whose interval is the noise
    and the sampling error in quadrature; the policy finds nothing wrong with it but the CPU."""
    out, _, _ = sampled_run
    result = load_result(out)
    data = json.loads(out.read_text("utf-8"))
    m = data["measurement"]
    assert m["protocol"] == "sampled"
    s = m["sampling"]
    assert s["protocol"] == "sampled" and s["seed"] == 7 and s["population"] == 1000
    assert s["proxy"] == "input_tokens" and len(s["strata"]) == 20
    assert sum(st["sampled"] for st in s["strata"]) == len(s["indices"]) == len(s["costs"]) == 100
    assert len(set(s["indices"])) == 100 and all(0 <= i < 1000 for i in s["indices"])
    assert all(c > 0 for c in s["costs"])
    assert [st["size"] for st in s["strata"]] == [50] * 20
    for rep in m["repetitions"]:
        assert rep["queries"] == 100 * rep["passes"]
    parts, gpu = s["parts"], data["energy"]["gpu"]
    assert gpu["ci95_half_width"] == pytest.approx(
        math.hypot(parts["sampling_half_width"], parts["noise_half_width"])
    )
    assert parts["sampling_half_width"] > 0 and s["stages"][-1]["target_met"]
    assert data["workload"]["queries"] == 1000  # the figure is the whole workload's
    assert result.non_canonical_reasons == (RAN_ON_CPU,)


def test_an_edited_sampled_figure_is_not_canonical_and_a_missed_target_not_publishable(sampled_run):
    """Narrowing the recorded interval breaks the sampling record's check (a departure); a
    target tighter than the sampled interval makes the result unpublishable, with the reason."""
    out, _, _ = sampled_run
    data = json.loads(out.read_text("utf-8"))
    data["energy"]["gpu"]["ci95_half_width"] /= 2
    data["non_canonical_reasons"].append("edited")
    edited = decode_result(data)
    assert any("sampled estimate does not hold" in r for r in canonical_reasons(edited))
    result = load_result(out)
    gpu = result.energy.gpu
    assert gpu is not None and gpu.relative_half_width is not None
    config = dataclasses.replace(result.measurement.config, target_ci_rel=gpu.relative_half_width / 2)
    strict = dataclasses.replace(result, measurement=dataclasses.replace(result.measurement, config=config))
    assert any("sampled estimate's 95 % interval" in p for p in publish_problems(strict))
    assert not any("sampled estimate's" in p for p in publish_problems(result))


def test_label_and_badge_say_how_much_was_measured(sampled_run):
    """The label's footer and the badge's description say "estimated from 100 of 1000 queries"."""
    from energy_badge.rating import rate
    from energy_badge.render.badge import describe
    from energy_badge.render.label import label_svg

    result = load_result(sampled_run[0])
    rating = rate(result)
    assert "estimated from 100 of 1000 queries" in label_svg(result, rating)
    assert "estimated from 100 of 1000 queries" in describe(result, rating)


def test_bulk_and_the_service_default_to_sampled():
    """bulk's and the service's config default to the sampled protocol and pass it to each
    measurement; --protocol full insists; measure's own default stays full."""
    from energy_badge.bulk.config import BulkConfig
    from energy_badge.bulk.executors import measure_options
    from energy_badge.errors import UsageError
    from energy_badge.measure import MeasureOptions

    config = BulkConfig(task="text-classification")
    assert config.protocol == "sampled"
    options = config.measure_options()
    assert options["protocol"] == "sampled"
    assert measure_options(options, "a" * 40).protocol == "sampled"
    full = BulkConfig(task="text-classification", protocol="full").measure_options()
    assert measure_options(full, "a" * 40).protocol == "full"
    assert MeasureOptions().protocol == "full"
    with pytest.raises(UsageError):
        BulkConfig(task="text-classification", protocol="half")
    for command in (["bulk", "--help"], ["serve", "--help"], ["worker", "--help"], ["measure", "--help"]):
        text = CliRunner().invoke(main, command).output
        default = "full" if command[0] == "measure" else "sampled"
        assert "--protocol" in text and f"[default: {default}]" in " ".join(text.split())
