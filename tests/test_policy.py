"""The policy (energy_badge/policy.py): canonical and publishable are decided from a result's content.

Results are SYNTHETIC (tests/results_factory.py) unless a test says otherwise; the forged files are
those results with their ``canonical`` flag edited to ``true``. Nothing else is simulated: the
real codec, policy and CLI commands read them. One test runs the real ``measure_model`` on a tiny
model on this CPU (performance only).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from results_factory import make_energy_result, make_result
from tiny_models import build_tiny_model

from energy_badge.cli import main
from energy_badge.errors import EXIT_INPUT, InvalidFileError, NotCanonicalError
from energy_badge.policy import canonical_reasons, check_publishable, departures, publish_problems
from energy_badge.result import decode_result, load_result

FORGERIES = {
    "batch size 8": ({"batch_size": 8}, "--batch-size 8 instead of the canonical 1"),
    "50 queries": ({"queries": 50}, "--queries 50: a subset of the 1000 canonical queries"),
    "random weights": ({"random_weights": True}, "random weights"),
    "fp16 on a fp32 task": ({"dtype": "float16"}, "--dtype float16 instead of the canonical float32"),
    "no energy": ({"energy": False}, "performance only"),
}


def forged(**knobs: object) -> dict:
    """A non-canonical result whose flag was edited to claim it is canonical."""
    data = make_result(**knobs)
    assert data["canonical"] is False
    data["canonical"], data["non_canonical_reasons"] = True, []
    return data


def cli(*args: str) -> tuple[int, str, str]:
    run = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return run.exit_code, run.stdout, run.stderr


# --------------------------------------------------------------------------------------------
# What the policy derives


def test_the_factory_default_is_canonical_and_publishable():
    result = make_energy_result()
    assert result.canonical and canonical_reasons(result) == [] and publish_problems(result) == []
    check_publishable(result)


@pytest.mark.parametrize("name", list(FORGERIES))
def test_each_departure_is_named(name):
    knobs, words = FORGERIES[name]
    result = make_energy_result(**knobs)
    assert not result.canonical
    reasons = canonical_reasons(result)
    assert any(words in r for r in reasons), reasons
    assert list(result.non_canonical_reasons) == reasons  # what the file says is what the policy says


def test_departures_read_the_content_not_the_flag():
    data = make_result()
    for key, value in (("device", "cpu"),):
        data["hardware"][key] = value
    data["measurement"]["isolation"]["other_processes"] = [
        {"pid": 4242, "used_memory_mib": 1024, "gpu_index": 0, "kind": "compute"}
    ]
    data["workload"]["sha256"] = "0" * 64
    data["workload"]["generation"] = {
        "max_new_tokens": 5,
        "min_new_tokens": 5,
        "do_sample": False,
        "num_beams": 1,
    }
    data["canonical"], data["non_canonical_reasons"] = False, ["edited by the test"]
    codes = [d.code for d in departures(decode_result(data))]
    assert codes == ["inputs", "generation", "device", "shared_gpu"]


def test_an_unknown_workload_version_is_not_canonical():
    data = make_result()
    data["workload"]["version"] = "9.0.0"
    data["canonical"], data["non_canonical_reasons"] = False, ["edited"]
    assert "not one this energy-badge ships" in canonical_reasons(decode_result(data))[0]


def test_publishable_needs_an_interval_and_a_hardware_class():
    one_run = make_energy_result(samples=(0.4,))
    assert one_run.canonical
    assert any("no 95 % interval" in p for p in publish_problems(one_run))
    no_class = make_energy_result(hardware_class=None, gpu_name="NVIDIA GeForce RTX 4090")
    assert any("RTX 4090" in p and "hardware class" in p for p in publish_problems(no_class))
    with pytest.raises(NotCanonicalError, match="hardware class"):
        check_publishable(no_class)


# --------------------------------------------------------------------------------------------
# Forged files are refused by every command that reads a result


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forged_canonical_flag_is_refused_by_the_codec(tmp_path, name):
    knobs, words = FORGERIES[name]
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged(**knobs)), encoding="utf-8")
    if name == "no energy":  # the schema itself requires a canonical result's GPU energy
        with pytest.raises(InvalidFileError, match=r"\$\.energy\.gpu"):
            load_result(path)
        return
    with pytest.raises(InvalidFileError) as info:
        load_result(path)
    assert "says canonical: true" in str(info.value) and words in str(info.value)


@pytest.mark.parametrize("name", ["batch size 8", "50 queries", "random weights"])
def test_rate_badge_card_publish_and_compare_refuse_a_forged_file_with_exit_4(tmp_path, name):
    knobs, words = FORGERIES[name]
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged(**knobs)), encoding="utf-8")
    honest = tmp_path / "honest.json"
    honest.write_text(make_energy_result().to_json(), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("# model\n", encoding="utf-8")
    commands = {
        "rate": ("rate", str(path)),
        "badge": ("badge", str(path), "-o", str(tmp_path / "b.svg")),
        "card": ("card", str(path), "--readme", str(readme), "--write"),
        "publish": ("publish", str(path), "--dry-run"),
        "compare": ("compare", str(honest), str(path)),
    }
    for command, args in commands.items():
        code, _, stderr = cli(*args)
        assert code == EXIT_INPUT, (command, stderr)
        assert stderr.startswith("error: ") and len(stderr.strip().splitlines()) == 1, (command, stderr)
        assert "says canonical: true" in stderr and words in stderr, (command, stderr)
    assert readme.read_text(encoding="utf-8") == "# model\n" and not (tmp_path / "b.svg").exists()


def test_validate_reports_a_forged_flag_as_invalid(tmp_path):
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged(batch_size=8)), encoding="utf-8")
    code, stdout, _ = cli("validate", str(path))
    assert code == 1 and "INVALID" in stdout and "--batch-size 8" in stdout


def test_a_flag_understating_a_canonical_result_is_refused_too():
    data = make_result()
    data["canonical"], data["non_canonical_reasons"] = False, ["I say so"]
    with pytest.raises(InvalidFileError, match="says canonical: false, but its content is the canonical"):
        decode_result(data)


# --------------------------------------------------------------------------------------------
# measure writes what the policy says


def test_measure_marks_a_batch_size_run_non_canonical(tmp_path: Path):
    """Nothing simulated: the real measure_model on a tiny BERT on this CPU (performance only)."""
    from energy_badge.measure import MeasureOptions, measure_model
    from energy_badge.meter import MeterConfig

    model = build_tiny_model("text-classification", tmp_path / "tiny")
    config = MeterConfig(
        min_repetitions=2, max_repetitions=2, min_window_s=0.01, idle_seconds=0, warmup_max_s=0
    )
    result = measure_model(
        str(model),
        "text-classification",
        MeasureOptions(batch_size=2, queries=4, energy=False, device="cpu", meter=config),
    )
    assert not result.canonical
    assert "--batch-size 2 instead of the canonical 1" in result.non_canonical_reasons
    assert result.workload.batch_size == 2 and result.performance.latency_ms.per == "batch"
    assert list(result.non_canonical_reasons) == canonical_reasons(result)
