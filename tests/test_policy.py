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
from cli_support import cli
from results_factory import make_energy_result, make_result
from tiny_models import build_tiny_model

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


# --------------------------------------------------------------------------------------------
# What issue 12 added: departures derived from the new content, and what is recorded only


def _greedy_config(**changes: object) -> dict:
    """The complete generate() configuration of the canonical text-generation workload."""
    from energy_badge.run.generation import NEUTRAL_GENERATION

    config = {**NEUTRAL_GENERATION, "max_new_tokens": 10, "min_new_tokens": 10, "do_sample": False}
    config.update(num_beams=1, eos_token_id=[2], pad_token_id=2, **changes)
    return config


NEW_DEPARTURES = {
    "counter disagrees": (
        {"crosscheck": "disagree"},
        "crosscheck",
        "disagreed with the sampled power in the idle sample, repetition 0, repetition 1",
    ),
    "isolation unknown": (
        {"isolation_unknown": "NVML refused the compute process list of GPU 0 (Insufficient Permissions)"},
        "isolation_unknown",
        "the isolation check is unknown (NVML refused the compute process list",
    ),
    "MIG mode": ({"mig_mode": True}, "mig", "MIG mode"),
    "penalised generation": (
        {"task": "text-generation", "generation_config": _greedy_config(repetition_penalty=1.3)},
        "generation_config",
        "generate() was given non-neutral settings: repetition_penalty=1.3",
    ),
}


@pytest.mark.parametrize("name", list(NEW_DEPARTURES))
def test_the_new_departures_come_from_the_content(name):
    """SYNTHETIC results with one 1.1 field each; the policy names the departure, measure's flag
    agrees, and the same file edited to claim canonical is refused."""
    knobs, code, words = NEW_DEPARTURES[name]
    result = make_energy_result(**knobs)
    assert result.schema_version == "1.1" and not result.canonical
    assert [d.code for d in departures(result)] == [code]
    assert any(words in r for r in result.non_canonical_reasons), result.non_canonical_reasons
    with pytest.raises(InvalidFileError, match="says canonical: true"):
        decode_result(forged(**knobs))


def test_allow_shared_gpu_accepts_an_unknown_isolation_check():
    result = make_energy_result(
        isolation_unknown="NVML refused the compute process list", allow_shared_gpu=True
    )
    assert result.canonical and result.measurement.isolation.unknown_reason.startswith("NVML refused")


def test_recorded_facts_that_are_not_departures():
    """A 1.1 result whose cross-checks were inconclusive, which dropped an outlier, drifted, missed
    its target, attributed a host pid to itself, and gave generate() exactly the canonical
    configuration stays canonical: each is recorded with an honest interval."""
    data = make_result(
        task="text-generation",
        crosscheck="inconclusive",
        generation_config=_greedy_config(),
        samples=(0.4, 0.5),
    )
    measurement = data["measurement"]
    dropped = dict(
        measurement["repetitions"][0],
        index=9,
        gpu_energy_j=measurement["repetitions"][0]["gpu_energy_j"] * 1.1,
    )
    measurement["dropped"] = [
        {"repetition": dropped, "reason": "outlier", "detail": "+10.0 % from the median"}
    ]
    measurement["stop"] = {
        "rule": "fixed-width-sequential-t/1",
        "target_met": False,
        "interval": "t",
        "t_half_width": data["energy"]["gpu"]["ci95_half_width"],
        "drift": {"detected": True, "reason": "the GPU warmed by 4 °C", "slope_rel": 0.01, "slope_t": 5.0,
                  "temperature_rise_c": 4.0},
    }  # fmt: skip
    measurement["isolation"]["attributed_pid"] = 90001
    result = decode_result(data)
    assert result.canonical and departures(result) == []
    assert result.measurement.outcome.drift.detected and result.measurement.dropped[0].reason == "outlier"
    assert result.workload.generation_config.get("repetition_penalty") == 1.0


def test_a_10_file_still_reads_and_its_new_fields_are_absent():
    data = make_result()
    assert data["schema_version"] == "1.0"
    result = decode_result(data)
    assert result.canonical and result.measurement.outcome is None and result.measurement.dropped == ()
    assert result.measurement.repetitions[0].crosscheck is None
    assert result.measurement.isolation.unknown_reason is None and result.workload.generation_config is None
    again = json.loads(result.to_json())  # written back without gaining the 1.1 fields
    for window in [*again["measurement"]["repetitions"], again["measurement"]["idle"]]:
        assert window.pop("nvml_counter_j") is None  # the one older field written back as null
    assert again == data
    with pytest.raises(InvalidFileError, match="schema_version 2.0"):
        decode_result({**data, "schema_version": "2.0"})
