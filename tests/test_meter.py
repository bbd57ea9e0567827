"""The meter stage, run for real on Zeus's ``ZeusMonitor`` with NVML simulated at the ``pynvml`` boundary.

Each test says what is simulated. Windows are tenths of a second (``min_window_s``) instead of the
real 5 s, so the file stays fast; the fake energy counter is exact, so energies can be checked to 1 %.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

import pynvml
import pytest
from fake_nvml import FakeGPU, install_fake_nvml, install_fake_rapl

from energy_badge.errors import (
    EXIT_CANNOT_MEASURE,
    EXIT_RUNTIME,
    EXIT_USAGE,
    MeterError,
    NoEnergyCounterError,
    SharedGPUError,
    UsageError,
)
from energy_badge.meter import (
    ENERGY_SOURCE,
    EnergyMeter,
    MeterConfig,
    PerformanceMeter,
    PhaseMeasurement,
    Repetition,
    open_meter,
)

WINDOW = 0.2


def fast(**overrides) -> MeterConfig:
    """A configuration with short windows, for tests."""
    values = {"min_window_s": WINDOW, "idle_seconds": 0.1, "warmup_passes": 1}
    values.update(overrides)
    return MeterConfig(**values)


def sleeper(seconds: float):
    """A pass function that 'runs' for ``seconds`` and returns its call number."""
    calls = iter(range(1, 10**9))

    def run() -> int:
        time.sleep(seconds)
        return next(calls)

    return run


def within(value: float, expected: float, rel: float = 0.01) -> bool:
    return abs(value - expected) <= rel * abs(expected)


# --------------------------------------------------------------------------------------------
# Clean runs
# --------------------------------------------------------------------------------------------


def test_clean_run_energy_matches_scripted_power(monkeypatch):
    """Simulated: one H100 drawing a constant 250 W. Real: Zeus windows and the loop.

    Energy per repetition and Wh per 1000 queries must be within 1 % of power x time / queries;
    the idle sample is recorded (and not subtracted); the result's JSON form serialises.
    """
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=250.0)])
    seen: list[tuple[Repetition, object]] = []
    with EnergyMeter(fast(min_repetitions=3, target_ci_rel=0.05)) as meter:
        phase = meter.measure(
            sleeper(0.05), queries_per_pass=10, on_repetition=lambda r, s: seen.append((r, s))
        )

    assert isinstance(phase, PhaseMeasurement)
    assert phase.energy_source == ENERGY_SOURCE == "nvml_total_energy_counter"
    assert len(phase.repetitions) >= 3
    for rep in phase.repetitions:
        assert rep.seconds >= WINDOW
        assert rep.queries == rep.passes * 10
        assert within(rep.gpu_energy_j, 250.0 * rep.seconds)
        assert within(rep.wh_per_1k, 250.0 * rep.seconds / rep.queries * 1000 / 3600)
        assert rep.cpu_energy_j is None and rep.dram_energy_j is None  # no RAPL simulated
    expected = 250.0 * phase.total_seconds / phase.total_queries * 1000 / 3600
    assert within(phase.gpu_wh_per_1k.mean, expected)
    assert phase.cpu_wh_per_1k is None and phase.dram_wh_per_1k is None
    assert phase.idle is not None and within(phase.idle.gpu_power_w, 250.0, rel=0.02)
    # The idle energy is recorded but never subtracted from the headline figure.
    assert phase.repetitions[0].gpu_energy_j > phase.idle.gpu_energy_j
    assert phase.warmup_seconds >= 0.05
    assert [r.index for r, _ in seen] == [r.index for r in phase.repetitions]
    assert seen[0][1] is None and seen[1][1] is not None
    data = json.loads(json.dumps(phase.to_dict()))
    assert data["gpu_wh_per_1k"]["n"] == len(phase.repetitions)
    assert "pass_results" not in data
    assert phase.pass_results == list(range(2, 2 + len(phase.pass_results)))  # warm-up was call 1


def test_constant_power_stops_early_at_min_repetitions(monkeypatch):
    """Simulated: constant 300 W, passes of equal length. Tight interval -> stops at min_repetitions."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0)])
    with EnergyMeter(fast(min_repetitions=3, max_repetitions=10, target_ci_rel=0.05)) as meter:
        phase = meter.measure(sleeper(0.1), queries_per_pass=4, measure_idle=False)
    assert phase.stopped_because == "ci_target_met"
    assert len(phase.repetitions) == 3
    assert phase.gpu_wh_per_1k.relative_half_width <= 0.05
    assert phase.idle is None


def test_noisy_power_runs_to_max_repetitions(monkeypatch):
    """Simulated: power jumping at random between 50 and 600 W every 50 ms (seeded).

    Each window averages different power, the interval stays wide, the meter runs max_repetitions.
    """

    def noisy(t: float) -> float:
        return random.Random(int(t / 0.05)).uniform(50.0, 600.0)

    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=noisy)])
    with EnergyMeter(fast(min_repetitions=2, max_repetitions=4, target_ci_rel=0.01)) as meter:
        phase = meter.measure(sleeper(0.05), queries_per_pass=1, measure_idle=False)
    assert phase.stopped_because == "max_repetitions"
    assert len(phase.repetitions) == 4
    assert phase.gpu_wh_per_1k.relative_half_width > 0.01


def test_short_passes_are_looped_to_the_minimum_window_and_normalised(monkeypatch):
    """Simulated: 200 W. A 10 ms pass of 3 queries is looped (whole passes) until the window lasts
    min_window_s, and energy is divided by all the queries run."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=200.0)])
    with EnergyMeter(fast(min_window_s=0.25, min_repetitions=2, max_repetitions=2)) as meter:
        phase = meter.measure(sleeper(0.01), queries_per_pass=3, measure_idle=False)
    total_passes = 0
    for rep in phase.repetitions:
        assert rep.passes >= 10
        assert rep.seconds >= 0.25
        assert rep.queries == 3 * rep.passes
        assert within(rep.wh_per_1k, 200.0 * rep.seconds / rep.queries * 1000 / 3600)
        total_passes += rep.passes
    assert len(phase.pass_results) == total_passes
    assert phase.pass_results == sorted(phase.pass_results)
    assert phase.total_queries == 3 * total_passes


def test_hardware_and_gpu_state_are_recorded(monkeypatch):
    """Simulated: an H100 with known name, UUID, memory, power limit, persistence mode, clocks,
    temperature, driver 550.54.15 / CUDA 12.4, and our own process on it (not another process)."""
    gpu = FakeGPU(
        name="NVIDIA H100 80GB HBM3",
        power_trace=180.0,
        uuid="GPU-12345678-aaaa-bbbb-cccc-1234567890ab",
        memory_total_mib=81559,
        power_limit_w=700.0,
        persistence_mode=True,
        temperature_c=37,
        sm_clock_mhz=1755,
        mem_clock_mhz=2619,
    )
    fake = install_fake_nvml(monkeypatch, gpus=[gpu])
    fake.add_process(0, pid=os.getpid(), used_memory_mib=5000)  # ourselves: never counted as sharing
    with EnergyMeter(fast(min_repetitions=2, max_repetitions=2)) as meter:
        hw = meter.hardware
        phase = meter.measure(sleeper(0.05), queries_per_pass=1, measure_idle=False)
    assert hw.gpu_count == 1 and hw.gpu_name == "NVIDIA H100 80GB HBM3"
    info = hw.gpus[0]
    assert info.uuid == "GPU-12345678-aaaa-bbbb-cccc-1234567890ab"
    assert info.memory_total_mib == 81559 and info.power_limit_w == 700.0
    assert info.persistence_mode is True and info.energy_counter is True
    assert hw.driver_version == "550.54.15" and hw.cuda_driver_version == "12.4"
    assert hw.hardware_class == "H100" and hw.cpu_count >= 1
    assert len(phase.gpu_state_start) == len(phase.gpu_state_end) == 1
    for state in phase.gpu_state_start + phase.gpu_state_end:
        assert state.index == 0
        assert (state.temperature_c, state.sm_clock_mhz, state.mem_clock_mhz) == (37, 1755, 2619)
        assert state.power_w == 180.0
    assert phase.isolation == {"checked": True, "other_processes": [], "allow_shared_gpu": False}
    json.dumps(hw.to_dict())


def test_cpu_and_dram_energy_come_from_zeus_rapl(monkeypatch, tmp_path):
    """Simulated: 300 W GPU, and a RAPL sysfs tree (package + dram) that each pass advances by
    2 J CPU and 0.5 J DRAM. Zeus's real RAPL reader reports them; per-query figures are exact."""
    install_fake_nvml(monkeypatch)
    rapl = install_fake_rapl(monkeypatch, tmp_path / "intel-rapl")

    def run() -> None:
        time.sleep(0.05)
        rapl.add(cpu_j=2.0, dram_j=0.5)

    with EnergyMeter(fast(min_repetitions=2, max_repetitions=2)) as meter:
        phase = meter.measure(run, queries_per_pass=5, measure_idle=False)
    for rep in phase.repetitions:
        assert rep.cpu_energy_j == pytest.approx(2.0 * rep.passes)
        assert rep.dram_energy_j == pytest.approx(0.5 * rep.passes)
        assert rep.cpu_wh_per_1k == pytest.approx(2.0 / 5 * 1000 / 3600)
    assert phase.cpu_wh_per_1k.mean == pytest.approx(2.0 / 5 * 1000 / 3600)
    assert phase.dram_wh_per_1k.mean == pytest.approx(0.5 / 5 * 1000 / 3600)


def test_cuda_visible_devices_selects_the_gpu_like_zeus(monkeypatch):
    """Simulated: two GPUs (an A100 at 100 W, an H100 at 400 W), CUDA_VISIBLE_DEVICES=1.
    CUDA index 0 is then NVML device 1: the hardware record and Zeus's energy must both be the H100's."""
    install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(name="NVIDIA A100-SXM4-40GB", power_trace=100.0), FakeGPU(power_trace=400.0)],
    )
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    with EnergyMeter(fast(min_repetitions=2, max_repetitions=2)) as meter:
        assert meter.hardware.gpu_name == "NVIDIA H100 80GB HBM3"
        phase = meter.measure(sleeper(0.05), queries_per_pass=1, measure_idle=False)
    for rep in phase.repetitions:
        assert within(rep.gpu_energy_j, 400.0 * rep.seconds)


def test_independent_nvml_read_brackets_zeus_and_follows_the_same_gpu(monkeypatch):
    """Simulated: two GPUs (100 W and 400 W), CUDA_VISIBLE_DEVICES=1, power that steps up and down.
    Real: Zeus's windows. The meter's own read of NVML's total-energy counter must come from the same
    (400 W) GPU as Zeus's, bracket Zeus's window (never less energy, by at most a few ms more), and
    be recorded for the idle sample and every repetition, in the JSON form too."""
    install_fake_nvml(
        monkeypatch,
        gpus=[
            FakeGPU(name="NVIDIA A100-SXM4-40GB", power_trace=100.0),
            FakeGPU(power_trace=lambda t: 400.0 if int(t * 20) % 2 else 150.0),
        ],
    )
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    with EnergyMeter(fast(min_repetitions=3, max_repetitions=3)) as meter:
        phase = meter.measure(sleeper(0.05), queries_per_pass=1)
    windows = [(rep.gpu_energy_j, rep.nvml_counter_j, rep.seconds) for rep in phase.repetitions]
    windows.append((phase.idle.gpu_energy_j, phase.idle.nvml_counter_j, phase.idle.seconds))
    for zeus_j, ours_j, seconds in windows:
        assert ours_j is not None
        assert zeus_j - 0.002 <= ours_j <= zeus_j + 400.0 * 0.02  # 1 mJ rounding each side; <20 ms more
        assert 150.0 * seconds * 0.9 < ours_j < 400.0 * seconds * 1.1  # the 400 W GPU, not the 100 W one
    data = phase.to_dict()
    assert [r["nvml_counter_j"] for r in data["repetitions"]] == [w[1] for w in windows[:3]]
    assert data["idle"]["nvml_counter_j"] == phase.idle.nvml_counter_j


def test_measure_twice_on_one_meter(monkeypatch):
    """Simulated: 300 W. Text generation measures a second (prefill) phase on the same meter,
    skipping the idle sample the second time."""
    install_fake_nvml(monkeypatch)
    with EnergyMeter(fast(min_repetitions=2, max_repetitions=2)) as meter:
        first = meter.measure(sleeper(0.05), queries_per_pass=2)
        second = meter.measure(sleeper(0.05), queries_per_pass=2, measure_idle=False)
    assert first.idle is not None and second.idle is None
    assert len(first.repetitions) == len(second.repetitions) == 2


def test_a_failing_pass_propagates_and_leaves_the_meter_usable(monkeypatch):
    """Simulated: 300 W. The pass function raises mid-repetition: the error reaches the caller
    unchanged, and the next measure() on the same meter works."""
    install_fake_nvml(monkeypatch)

    def boom() -> None:
        raise RuntimeError("CUDA out of memory (simulated)")

    with EnergyMeter(fast(min_repetitions=2, max_repetitions=2, warmup_passes=0)) as meter:
        with pytest.raises(RuntimeError, match="out of memory"):
            meter.measure(boom, queries_per_pass=1, measure_idle=False)
        phase = meter.measure(sleeper(0.05), queries_per_pass=1, measure_idle=False)
    assert len(phase.repetitions) == 2


def test_warmup_callable_replaces_warmup_passes(monkeypatch):
    """Simulated: 300 W. A caller-provided warm-up runs once; pass_fn is not used for warm-up."""
    install_fake_nvml(monkeypatch)
    warmups: list[int] = []
    with EnergyMeter(fast(min_repetitions=2, max_repetitions=2, warmup_passes=3)) as meter:
        phase = meter.measure(sleeper(0.05), 1, warmup=lambda: warmups.append(1), measure_idle=False)
    assert warmups == [1]
    assert phase.pass_results[0] == 1  # the first measured pass is pass_fn's first call


# --------------------------------------------------------------------------------------------
# Refusals and failures
# --------------------------------------------------------------------------------------------


def test_zero_counter_delta_is_refused(monkeypatch):
    """Simulated: a GPU whose energy counter never advances (0 W). MeterError names GPU and repetition."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=0.0)])
    with EnergyMeter(fast()) as meter:
        with pytest.raises(MeterError, match=r"GPU 0 \(NVIDIA H100 80GB HBM3\).*repetition 1") as caught:
            meter.measure(sleeper(0.05), queries_per_pass=1, measure_idle=False)
    assert caught.value.exit_code == EXIT_RUNTIME


def test_zero_counter_delta_in_the_idle_sample_is_refused(monkeypatch):
    """Simulated: a counter stuck at one value (0 W) during the idle sample."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=0.0)])
    with EnergyMeter(fast()) as meter, pytest.raises(MeterError, match="idle sample"):
        meter.measure(sleeper(0.05), queries_per_pass=1)


def test_counter_going_backwards_is_refused(monkeypatch):
    """Simulated: 300 W, then the counter drops to a low value (a driver reload) during repetition 2."""
    fake = install_fake_nvml(monkeypatch)
    done = {"reps": 0, "dropped": False}

    def run() -> None:
        time.sleep(0.05)
        if done["reps"] == 1 and not done["dropped"]:
            fake.set_energy_mj(0, 1_000)
            done["dropped"] = True

    def count(rep, stats) -> None:
        done["reps"] += 1

    with EnergyMeter(fast(warmup_passes=0)) as meter:
        with pytest.raises(MeterError, match=r"advanced by -\d.* J during repetition 2"):
            meter.measure(run, queries_per_pass=1, measure_idle=False, on_repetition=count)


def test_another_process_on_the_gpu_is_refused(monkeypatch):
    """Simulated: another process (pid 4242, 2 GiB) holds a compute context on the GPU."""
    fake = install_fake_nvml(monkeypatch)
    fake.add_process(0, pid=4242, used_memory_mib=2048)
    with EnergyMeter(fast()) as meter:
        with pytest.raises(SharedGPUError, match=r"4242.*2048 MiB.*--allow-shared-gpu") as caught:
            meter.measure(sleeper(0.05), queries_per_pass=1)
    assert caught.value.exit_code == EXIT_CANNOT_MEASURE


def test_a_process_appearing_mid_run_is_refused(monkeypatch):
    """Simulated: a graphics process (pid 777) appears on the GPU during repetition 2."""
    fake = install_fake_nvml(monkeypatch)
    done = {"reps": 0}

    def run() -> None:
        time.sleep(0.05)
        if done["reps"] == 1 and not fake.gpus[0].processes:
            fake.add_process(0, pid=777, kind="graphics")

    def count(rep, stats) -> None:
        done["reps"] += 1

    with EnergyMeter(fast(warmup_passes=0)) as meter:
        with pytest.raises(SharedGPUError, match=r"after repetition 2.*777"):
            meter.measure(run, queries_per_pass=1, measure_idle=False, on_repetition=count)


def test_shared_gpu_allowed_is_recorded(monkeypatch):
    """Simulated: another process (pid 4242) on the GPU, and allow_shared_gpu=True: the run goes on
    and the result records the process and the permission."""
    fake = install_fake_nvml(monkeypatch)
    fake.add_process(0, pid=4242, used_memory_mib=2048)
    with EnergyMeter(fast(allow_shared_gpu=True, min_repetitions=2, max_repetitions=2)) as meter:
        phase = meter.measure(sleeper(0.05), queries_per_pass=1, measure_idle=False)
    assert phase.isolation["checked"] is True
    assert phase.isolation["allow_shared_gpu"] is True
    assert phase.isolation["other_processes"] == [
        {"pid": 4242, "used_memory_mib": 2048, "gpu_index": 0, "kind": "compute"}
    ]
    assert phase.to_dict()["isolation"]["other_processes"][0]["pid"] == 4242


def test_nvml_error_mid_run_becomes_meter_error(monkeypatch):
    """Simulated: the GPU is lost (NVML_ERROR_GPU_IS_LOST on the energy counter) during repetition 1;
    Zeus wraps it in ZeusGPULostError, the meter turns that into MeterError (exit 5)."""
    fake = install_fake_nvml(monkeypatch)

    def run() -> None:
        time.sleep(0.05)
        fake.fail("nvmlDeviceGetTotalEnergyConsumption", pynvml.NVML_ERROR_GPU_IS_LOST)

    with EnergyMeter(fast(warmup_passes=0)) as meter:
        with pytest.raises(MeterError, match=r"GPU 0 .*repetition 1.*GPU is lost") as caught:
            meter.measure(run, queries_per_pass=1, measure_idle=False)
    assert caught.value.exit_code == EXIT_RUNTIME


def test_nvml_error_in_the_process_check_becomes_meter_error(monkeypatch):
    """Simulated: NVML starts failing (NVML_ERROR_UNKNOWN) when listing processes after repetition 1."""
    fake = install_fake_nvml(monkeypatch)

    def run() -> None:
        time.sleep(0.05)
        fake.fail("nvmlDeviceGetComputeRunningProcesses", pynvml.NVML_ERROR_UNKNOWN)

    with EnergyMeter(fast(warmup_passes=0)) as meter:
        with pytest.raises(MeterError, match="after repetition 1"):
            meter.measure(run, queries_per_pass=1, measure_idle=False)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "NVML Shared Library Not Found"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "Driver Not Loaded"),
    ],
)
def test_no_nvml_raises_no_energy_counter(monkeypatch, code, text):
    """Simulated: nvmlInit fails (no NVIDIA driver library / driver not loaded). The one-line message
    says what was looked for, what was found, and how to run without energy."""
    install_fake_nvml(monkeypatch, init_error=code)
    with pytest.raises(NoEnergyCounterError) as caught:
        EnergyMeter(fast())
    message = str(caught.value)
    assert "\n" not in message
    for needle in ("NVML library", "NVIDIA driver", "visible NVIDIA GPU", "Volta", text, "--no-energy"):
        assert needle in message
    assert caught.value.exit_code == EXIT_CANNOT_MEASURE


def test_missing_bindings_raise_no_energy_counter(monkeypatch):
    """Simulated: the nvidia-ml-py bindings are not importable at all."""
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(NoEnergyCounterError, match="nvidia-ml-py"):
        EnergyMeter(fast())


def test_no_gpu_raises_no_energy_counter(monkeypatch):
    """Simulated: NVML initialises but reports zero GPUs (Zeus alone would give empty dicts)."""
    install_fake_nvml(monkeypatch, gpus=[])
    with pytest.raises(NoEnergyCounterError, match="sees no GPU.*--no-energy"):
        EnergyMeter(fast())


def test_empty_cuda_visible_devices_raises_no_energy_counter(monkeypatch):
    """Simulated: one H100, but CUDA_VISIBLE_DEVICES="" hides it."""
    install_fake_nvml(monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(NoEnergyCounterError, match="CUDA_VISIBLE_DEVICES"):
        EnergyMeter(fast())


def test_uuid_cuda_visible_devices_is_refused_since_zeus_cannot_map_it(monkeypatch):
    """Simulated: one H100 selected by UUID in CUDA_VISIBLE_DEVICES, which Zeus cannot parse."""
    fake = install_fake_nvml(monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", fake.gpus[0].uuid)
    with pytest.raises(NoEnergyCounterError, match="integer indices"):
        EnergyMeter(fast())


def test_pre_volta_gpu_raises_no_energy_counter(monkeypatch):
    """Simulated: a Tesla P100 (Pascal): no total-energy counter."""
    install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(name="Tesla P100-PCIE-16GB", architecture=pynvml.NVML_DEVICE_ARCH_PASCAL)],
    )
    with pytest.raises(NoEnergyCounterError, match=r"Tesla P100-PCIE-16GB.*Pascal.*--no-energy"):
        EnergyMeter(fast())


def test_counter_not_supported_on_a_new_gpu_raises_no_energy_counter(monkeypatch):
    """Simulated: a Hopper GPU whose counter read returns NOT_SUPPORTED (as on some vGPUs)."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(energy_counter=False)])
    with pytest.raises(NoEnergyCounterError, match="without a readable total-energy counter"):
        EnergyMeter(fast())


def test_zeus_failing_to_open_the_gpu_is_detected(monkeypatch):
    """Simulated: one H100 and CUDA_VISIBLE_DEVICES="0,5". CUDA stops at the invalid 5 and sees one
    GPU; Zeus tries to open NVML device 5 and raises: the meter says so instead of crashing."""
    install_fake_nvml(monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,5")
    with pytest.raises(NoEnergyCounterError, match="Zeus could not open GPU 0"):
        EnergyMeter(fast())


def test_zeus_silently_seeing_no_gpu_is_detected(monkeypatch):
    """Simulated: one H100 whose NVML init works for the meter's own probes (the first two
    nvmlInit calls) and then fails for Zeus's; Zeus then falls back to "no GPUs" (EmptyGPUs, which
    gives empty energy dicts, or here a ValueError since an index is asked for). The meter refuses
    with NoEnergyCounterError."""
    fake = install_fake_nvml(monkeypatch)
    fake.fail("nvmlInit", pynvml.NVML_ERROR_DRIVER_NOT_LOADED, after=2)
    expected = r"Zeus could not open GPU 0 .*No GPUs available\. Use --no-energy"
    with pytest.raises(NoEnergyCounterError, match=expected):
        EnergyMeter(fast())


def test_gpu_index_out_of_range_is_a_usage_error(monkeypatch):
    """Simulated: one GPU; the configuration asks for GPU 3."""
    install_fake_nvml(monkeypatch)
    with pytest.raises(UsageError, match="GPU index 3") as caught:
        EnergyMeter(fast(gpu_index=3))
    assert caught.value.exit_code == EXIT_USAGE


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"min_repetitions": 0},
        {"min_repetitions": 5, "max_repetitions": 4},
        {"max_repetitions": 11},
        {"target_ci_rel": 0},
        {"target_ci_rel": 1.5},
        {"min_window_s": 0},
        {"idle_seconds": -1},
        {"warmup_passes": -1},
        {"gpu_index": -1},
        {"min_repetitions": 2.5},
        {"allow_shared_gpu": "yes"},
    ],
)
def test_bad_configuration_is_a_usage_error(bad):
    """Nothing simulated: configuration validation."""
    with pytest.raises(UsageError):
        MeterConfig(**bad)


def test_energy_needs_two_repetitions(monkeypatch):
    """Simulated: one H100. min_repetitions=1 leaves no confidence interval: refused for energy."""
    install_fake_nvml(monkeypatch)
    with pytest.raises(UsageError, match="at least 2"):
        EnergyMeter(fast(min_repetitions=1))


def test_queries_per_pass_must_be_positive(monkeypatch):
    """Simulated: one H100."""
    install_fake_nvml(monkeypatch)
    with EnergyMeter(fast()) as meter, pytest.raises(UsageError):
        meter.measure(sleeper(0.01), queries_per_pass=0)


# --------------------------------------------------------------------------------------------
# Performance-only meter
# --------------------------------------------------------------------------------------------


def test_performance_meter_works_without_nvml(monkeypatch):
    """Simulated: no NVIDIA driver (nvmlInit fails). The performance meter runs the same loop,
    min_repetitions times, with short passes looped, and no energy fields."""
    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    meter = open_meter(fast(min_repetitions=2, max_repetitions=5), energy=False)
    assert isinstance(meter, PerformanceMeter)
    assert meter.hardware.gpus == [] and meter.hardware.cpu_count >= 1
    phase = meter.measure(sleeper(0.02), queries_per_pass=2)
    assert phase.stopped_because == "performance_only"
    assert len(phase.repetitions) == 2
    assert phase.energy_source is None and phase.idle is None
    assert phase.gpu_wh_per_1k is None and phase.cpu_wh_per_1k is None
    assert phase.gpu_state_start == [] and phase.gpu_state_end == []
    assert phase.isolation == {"checked": False, "other_processes": [], "allow_shared_gpu": False}
    for rep in phase.repetitions:
        assert rep.gpu_energy_j is None and rep.wh_per_1k is None
        assert rep.seconds >= WINDOW and rep.passes >= 5 and rep.queries == 2 * rep.passes
    json.dumps(phase.to_dict())


def test_performance_meter_with_min_one_repetition(monkeypatch):
    """Simulated: no NVML bindings at all. One repetition is allowed without energy."""
    monkeypatch.setitem(sys.modules, "pynvml", None)
    phase = PerformanceMeter(fast(min_repetitions=1)).measure(sleeper(0.05), 1)
    assert len(phase.repetitions) == 1


def test_performance_meter_records_gpu_and_sharing_without_refusing(monkeypatch):
    """Simulated: one H100 with another process (pid 4242) on it. The performance meter records
    the GPU, its state and the process, and does not refuse."""
    fake = install_fake_nvml(monkeypatch)
    fake.add_process(0, pid=4242)
    meter = PerformanceMeter(fast(min_repetitions=2))
    phase = meter.measure(sleeper(0.05), 1)
    assert meter.hardware.hardware_class == "H100"
    assert phase.gpu_state_start[0].sm_clock_mhz == 1980
    assert phase.isolation["checked"] is True
    assert [p["pid"] for p in phase.isolation["other_processes"]] == [4242]


def test_open_meter_energy(monkeypatch):
    """Simulated: one H100."""
    install_fake_nvml(monkeypatch)
    meter = open_meter(fast(), energy=True)
    assert isinstance(meter, EnergyMeter)
    meter.close()
    meter.close()  # idempotent


_LEAKING_TESTS = """
import gc
import time

import pynvml
import pytest
from fake_nvml import install_fake_nvml
from zeus.device.gpu.nvidia import NVIDIAGPUs

from energy_badge.errors import MeterError
from energy_badge.meter import EnergyMeter, MeterConfig

# The collector would otherwise run at an arbitrary moment (that was the bug: sometimes in the
# middle of a later test). Off, only the suite's own clean-up collects.
gc.disable()


def test_a_failed_meter_leaves_zeus_in_a_reference_cycle(monkeypatch):
    fake = install_fake_nvml(monkeypatch)

    def run():
        time.sleep(0.05)
        fake.fail("nvmlDeviceGetComputeRunningProcesses", pynvml.NVML_ERROR_UNKNOWN)

    config = MeterConfig(min_window_s=0.2, idle_seconds=0.1, warmup_passes=0)
    with EnergyMeter(config) as meter:
        with pytest.raises(MeterError) as caught:  # its traceback holds this frame: a cycle
            meter.measure(run, queries_per_pass=1, measure_idle=False)
    assert "after repetition 1" in str(caught.value)


def test_b_no_zeus_gpu_object_outlives_its_test():
    alive = [o for o in gc.get_objects() if isinstance(o, NVIDIAGPUs)]
    assert alive == []
"""


def test_zeus_objects_left_in_cycles_are_finalised_within_their_own_test(tmp_path):
    """Simulated: NVML (the fake). A meter that fails mid-run leaves Zeus's NVIDIAGPUs in a
    reference cycle (the traceback keeps the frames alive). Its finaliser calls nvmlShutdown;
    run by the garbage collector during a *later* test, it shut down that test's fake and Zeus
    saw no GPU (a CI failure). The conftest clean-up must finalise it before its own test ends.
    Runs the two tests above in a separate pytest, with this suite's conftest."""
    import shutil
    import subprocess

    tests_dir = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(tests_dir, "conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_leak.py").write_text(_LEAKING_TESTS)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_leak.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout
