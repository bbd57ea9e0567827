"""Reusing the idle baseline between measurements on one GPU (``MeterConfig.idle_reuse_s``).

Simulated: NVML (``fake_nvml``: one H100 whose power the test scripts) and time (``TickingClock``:
a 5 s idle sample costs no real time). Real: Zeus's windows, the meter's loop, the idle store
(``energy_badge.meter.baseline``) and the result codec with the JSON schema.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from fake_nvml import FakeGPU, TickingClock, install_fake_nvml
from results_factory import make_energy_result

from energy_badge.meter import EnergyMeter, IdleBaselines, MeterConfig
from energy_badge.result import decode_result, encode_result

IDLE = 5.0
PASS = 1.25


def config(**overrides: object) -> MeterConfig:
    values: dict[str, object] = {
        "min_window_s": 5.0,
        "idle_seconds": IDLE,
        "warmup_passes": 1,
        "sample_interval_s": 0.25,
        "min_repetitions": 2,
        "max_repetitions": 2,
    }
    values.update(overrides)
    return MeterConfig(**values)  # type: ignore[arg-type]


def one_measurement(clock: TickingClock, store: IdleBaselines, **overrides: object):
    """One phase on a fresh meter (as bulk opens one per model); returns it and its simulated seconds."""

    def run() -> None:
        clock.sleep(PASS)

    started = clock.now
    with EnergyMeter(config(**overrides), clock=clock, baselines=store) as meter:
        phase = meter.measure(run, queries_per_pass=4)
    return phase, clock.now - started


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


def test_a_second_model_within_the_limit_reuses_the_sample_and_records_its_age(monkeypatch, clock):
    """The first model takes a 5 s idle sample at 60 W; the second, measured on the same GPU while
    the GPU would draw 300 W idle, reuses the first's 60 W sample, says how old it is, and spends
    no time on an idle sample: its phase is 5 s shorter."""
    fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=60.0)], clock=clock)
    store = IdleBaselines()
    first, first_s = one_measurement(clock, store, idle_reuse_s=600.0)
    assert first.idle is not None and first.idle.age_s is None
    assert first.idle.gpu_power_w == pytest.approx(60.0, rel=1e-6)
    fake.gpus[0].power_trace = 300.0
    second, second_s = one_measurement(clock, store, idle_reuse_s=600.0)
    assert second.idle is not None
    assert second.idle.gpu_power_w == pytest.approx(60.0, rel=1e-6)  # the first model's sample
    assert second.idle.gpu_energy_j == first.idle.gpu_energy_j
    # Its age: from the end of the first sample to the start of this measurement.
    assert second.idle.age_s == pytest.approx(first_s - IDLE)
    assert second_s == pytest.approx(first_s - IDLE)


def test_an_older_sample_is_not_reused_and_the_new_one_replaces_it(monkeypatch, clock):
    """Simulated: 60 W, then 80 W idle. After the limit (100 s) the second model samples again
    (80 W, taken now), and a third model then reuses that new sample."""
    fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=60.0)], clock=clock)
    store = IdleBaselines()
    one_measurement(clock, store, idle_reuse_s=100.0)
    clock.sleep(101.0)
    fake.gpus[0].power_trace = 80.0
    second, _ = one_measurement(clock, store, idle_reuse_s=100.0)
    assert second.idle is not None and second.idle.age_s is None
    assert second.idle.gpu_power_w == pytest.approx(80.0, rel=1e-6)
    third, _ = one_measurement(clock, store, idle_reuse_s=100.0)
    assert third.idle is not None and third.idle.age_s is not None
    assert third.idle.gpu_power_w == pytest.approx(80.0, rel=1e-6)


@pytest.mark.parametrize("change", ["no reuse asked", "power limit", "another clock", "another GPU"])
def test_no_reuse_without_the_same_gpu_limit_and_clock(monkeypatch, clock, change):
    """Simulated: 60 W then 90 W idle. A sample is not reused when reuse is off (``measure``'s
    default), when the power limit changed, on another clock, or for another GPU (UUID)."""
    fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=60.0)], clock=clock)
    store = IdleBaselines()
    one_measurement(clock, store, idle_reuse_s=600.0)
    fake.gpus[0].power_trace = 90.0
    reuse = 600.0
    if change == "no reuse asked":
        reuse = 0.0
    elif change == "power limit":
        fake.gpus[0].power_limit_w = 500.0
    elif change == "another clock":
        clock = TickingClock()
        fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=90.0)], clock=clock)
    else:
        fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=90.0, uuid="GPU-other")], clock=clock)
    second, _ = one_measurement(clock, store, idle_reuse_s=reuse)
    assert second.idle is not None and second.idle.age_s is None
    assert second.idle.gpu_power_w == pytest.approx(90.0, rel=1e-6)


def test_idle_reuse_is_range_checked():
    """No hardware: the setting is refused outside 0..3600 s, as the other durations are."""
    from energy_badge.errors import UsageError

    for bad in (-1.0, 3601.0, float("nan")):
        with pytest.raises(UsageError, match="idle_reuse_s"):
            MeterConfig(idle_reuse_s=bad)


def test_the_result_records_the_reuse_and_the_limit(tmp_path):
    """No hardware: a SYNTHETIC result (``results_factory``) with a reused idle sample and the
    limit in its settings is written (schema-checked), read back equal, and says both in JSON;
    an idle sample taken for the measurement writes no ``age_s``."""
    result = make_energy_result()
    m = result.measurement
    assert m.idle is not None
    reused = dataclasses.replace(
        result,
        measurement=dataclasses.replace(
            m,
            idle=dataclasses.replace(m.idle, age_s=42.5),
            config=dataclasses.replace(m.config, idle_reuse_s=600.0),
        ),
    )
    doc = encode_result(reused)
    assert doc["measurement"]["idle"]["age_s"] == 42.5
    assert doc["measurement"]["config"]["idle_reuse_s"] == 600.0
    back = decode_result(json.loads(json.dumps(doc)))
    assert back.measurement.idle == reused.measurement.idle
    assert back.measurement.config.idle_reuse_s == 600.0
    plain = encode_result(result)
    assert "age_s" not in plain["measurement"]["idle"]


def test_bulk_and_the_service_reuse_for_600_s_by_default_and_measure_never():
    """No hardware: the bulk config's meter, each measurement's options built from it, and the
    ``--idle-reuse`` option of bulk, serve and worker default to 600 s; ``--idle-reuse 0`` turns
    reuse off; ``measure`` has no such option and its meter never reuses."""
    from click.testing import CliRunner

    from energy_badge.bulk.config import BulkConfig
    from energy_badge.bulk.executors import measure_options
    from energy_badge.cli import main
    from energy_badge.cli._options import meter_config
    from energy_badge.measure import MeasureOptions
    from energy_badge.meter import DEFAULT_IDLE_REUSE_S

    assert DEFAULT_IDLE_REUSE_S == 600.0
    config = BulkConfig(task="text-classification")
    assert measure_options(config.measure_options(), "a" * 40).meter.idle_reuse_s == DEFAULT_IDLE_REUSE_S
    assert MeasureOptions().meter.idle_reuse_s == 0.0
    for command in ("bulk", "serve", "worker"):
        text = " ".join(CliRunner().invoke(main, [command, "--help"]).output.split())
        assert "--idle-reuse SECONDS" in text and f"[default: {DEFAULT_IDLE_REUSE_S}; 0<=x<=3600]" in text
    assert "--idle-reuse" not in CliRunner().invoke(main, ["measure", "--help"]).output
    opts = {
        "min_repetitions": 3,
        "max_repetitions": 10,
        "target_ci": 1.0,
        "min_window": 5.0,
        "idle_seconds": 5.0,
        "warmup": 10.0,
        "gpu_index": 0,
    }
    assert meter_config({**opts, "idle_reuse": 0.0}).idle_reuse_s == 0.0
    assert meter_config({**opts, "idle_reuse": 120.0}).idle_reuse_s == 120.0
    assert meter_config(opts).idle_reuse_s == 0.0  # measure passes no --idle-reuse
