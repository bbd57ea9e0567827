"""The meter stage, run for real on Zeus's ``ZeusMonitor`` with NVML simulated at the ``pynvml`` boundary.

Each test says what is simulated. Time is simulated too: the meter and the fake NVML share one
``FakeClock`` (tests/fake_clock.py) that moves only when something sleeps, and a pass "runs" by
sleeping on it. So the windows have the real protocol's length (5 s windows, a 5 s idle sample)
yet cost no real time, and every duration and energy is exact: the durations are sums of binary
fractions and the fake counter integrates constant power exactly.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable
from types import SimpleNamespace

import pynvml
import pytest
from fake_clock import FakeClock
from fake_nvml import FakeGPU, FakeProcess, TickingClock, install_fake_nvml, install_fake_rapl

from energy_badge.errors import (
    EXIT_CANNOT_MEASURE,
    EXIT_RUNTIME,
    EXIT_USAGE,
    MeterError,
    NoEnergyCounterError,
    SharedGPUError,
    UsageError,
)
from energy_badge.hardware import GPUProcess
from energy_badge.meter import (
    ENERGY_SOURCE,
    STOP_RULE,
    EnergyMeter,
    Isolation,
    MeterConfig,
    PerformanceMeter,
    PhaseMeasurement,
    Repetition,
    open_meter,
)
from energy_badge.stats import summarize

#: The real protocol's window and idle sample (MeterConfig's defaults), in simulated seconds.
WINDOW = 5.0
IDLE = 5.0
#: A pass of the workload, in simulated seconds: four passes fill a window exactly.
PASS = 1.25
#: The power sampler's period in most tests (the protocol's 0.02 s where a test is about it):
#: 21 samples per 5 s window, each a hand-over between threads on the simulated clock.
SAMPLE = 0.25


def config(**overrides) -> MeterConfig:
    """The default configuration (5 s windows, 5 s idle sample), one warm-up pass, a 0.25 s power
    sampler, with overrides."""
    values = {"min_window_s": WINDOW, "idle_seconds": IDLE, "warmup_passes": 1, "sample_interval_s": SAMPLE}
    values.update(overrides)
    return MeterConfig(**values)


@pytest.fixture
def clock() -> FakeClock:
    """The simulated clock shared by the meter, its power sampler and the fake NVML."""
    return TickingClock()


def sleeper(clock: FakeClock, seconds: float = PASS) -> Callable[[], int]:
    """A pass function that 'runs' for ``seconds`` of simulated time and returns its call number."""
    calls = iter(range(1, 10**9))

    def run() -> int:
        clock.sleep(seconds)
        return next(calls)

    return run


def wh_per_1k(joules: float, queries: int) -> float:
    return joules / queries * 1000 / 3600


# --------------------------------------------------------------------------------------------
# Clean runs
# --------------------------------------------------------------------------------------------


def test_clean_run_energy_matches_scripted_power(monkeypatch, clock):
    """Simulated: one H100 drawing a constant 250 W, and time (FakeClock). Real: Zeus windows and the loop.

    Each 5 s window holds exactly four 1.25 s passes; energy per repetition is exactly power x time
    (the counter's 1 mJ resolution aside), and so is Wh per 1000 queries; the 5 s idle sample is
    recorded at 250 W and not subtracted; the warm-up pass is timed and its result not kept.
    """
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=250.0)], clock=clock)
    seen: list[tuple[Repetition, object]] = []
    with EnergyMeter(config(min_repetitions=3, target_ci_rel=0.05), clock=clock) as meter:
        phase = meter.measure(
            sleeper(clock), queries_per_pass=10, on_repetition=lambda r, s: seen.append((r, s))
        )

    assert isinstance(phase, PhaseMeasurement)
    assert phase.energy_source == ENERGY_SOURCE == "nvml_total_energy_counter"
    assert len(phase.repetitions) == 3 and phase.stopped_because == "ci_target_met"
    for index, rep in enumerate(phase.repetitions, start=1):
        assert (rep.index, rep.passes, rep.queries, rep.seconds) == (index, 4, 40, WINDOW)
        assert rep.gpu_energy_j == pytest.approx(250.0 * WINDOW, abs=0.002)
        assert rep.wh_per_1k == pytest.approx(wh_per_1k(250.0 * WINDOW, 40), rel=1e-6)
        assert rep.queries_per_second == 8.0
        assert rep.cpu_energy_j is None and rep.dram_energy_j is None  # no RAPL simulated
    assert phase.gpu_wh_per_1k.mean == pytest.approx(wh_per_1k(250.0 * WINDOW, 40), rel=1e-6)
    assert phase.gpu_wh_per_1k.samples == tuple(r.wh_per_1k for r in phase.repetitions)
    assert phase.cpu_wh_per_1k is None and phase.dram_wh_per_1k is None
    assert phase.idle is not None and phase.idle.seconds == IDLE
    assert phase.idle.gpu_energy_j == pytest.approx(250.0 * IDLE, abs=0.002)
    assert phase.idle.gpu_power_w == pytest.approx(250.0, rel=1e-6)
    # The idle energy is recorded but never subtracted from the headline figure.
    assert phase.repetitions[0].gpu_energy_j == pytest.approx(1250.0, abs=0.002)
    assert phase.warmup_seconds == PASS
    assert (phase.total_queries, phase.total_seconds, phase.queries_per_pass) == (120, 3 * WINDOW, 10)
    assert [r.index for r, _ in seen] == [1, 2, 3]
    assert seen[0][1] is None and seen[1][1] is not None
    assert phase.pass_results == tuple(range(2, 14))  # warm-up was call 1; 3 windows of 4 passes
    # Idle sample, warm-up and three windows: 5 + 1.25 + 15 simulated seconds, nothing more.
    assert clock.now - 1_000.0 == IDLE + PASS + 3 * WINDOW


def test_the_records_are_frozen(monkeypatch, clock):
    """Simulated: one H100 at 300 W, and time. A phase and its parts cannot be changed afterwards."""
    install_fake_nvml(monkeypatch, clock=clock)
    with EnergyMeter(config(min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1)
    for record, name in [
        (phase, "repetitions"),
        (phase.repetitions[0], "gpu_energy_j"),
        (phase.idle, "gpu_power_w"),
        (phase.isolation, "checked"),
        (phase.config, "min_window_s"),
        (phase.gpu_state_start[0], "power_w"),
        (meter.hardware, "gpus"),
        (meter.hardware.gpus[0], "name"),
    ]:
        with pytest.raises(AttributeError):
            setattr(record, name, None)
    assert isinstance(phase.repetitions, tuple) and isinstance(phase.pass_results, tuple)
    assert isinstance(phase.gpu_state_start, tuple) and isinstance(meter.hardware.gpus, tuple)


def test_constant_power_stops_early_at_min_repetitions(monkeypatch, clock):
    """Simulated: constant 300 W, passes of equal length, and time. Identical windows give a zero-width
    interval: the meter stops at min_repetitions."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0)], clock=clock)
    with EnergyMeter(config(min_repetitions=3, max_repetitions=10, target_ci_rel=0.05), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=4, measure_idle=False)
    assert phase.stopped_because == "ci_target_met"
    assert len(phase.repetitions) == 3
    assert phase.gpu_wh_per_1k.relative_half_width == pytest.approx(0.05)  # the target's width
    assert phase.outcome.t_half_width == 0.0 and phase.outcome.interval == "target"
    assert phase.idle is None


def test_the_stop_rule_uses_the_interval_of_the_repetitions_so_far(monkeypatch, clock):
    """Simulated: time, and a GPU whose power steps 300 -> 303 -> 300 -> 300 -> 300 W from one 5 s
    window to the next. The rule stops once the t half-width is within 0.75 of the 1 % target:
    not after 3 (1.43 %) or 4 (0.79 %), but after 5 (0.55 %), checking after every repetition;
    the 303 W window is not an outlier (1 % from the median, within the guard's floor). The
    reported interval is then the target's width, and the t half-width is kept beside it."""
    starts = 1.25  # the warm-up pass comes first, the windows follow back to back
    steps = [300.0, 303.0, 300.0, 300.0, 300.0, 300.0]

    def power(t: float) -> float:
        return steps[min(int((t - starts) // WINDOW), len(steps) - 1)] if t >= starts else 300.0

    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=power)], clock=clock)
    stats_seen = []
    with EnergyMeter(config(min_repetitions=3, target_ci_rel=0.01), clock=clock) as meter:
        phase = meter.measure(
            sleeper(clock),
            queries_per_pass=1,
            measure_idle=False,
            on_repetition=lambda r, s: stats_seen.append(s),
        )
    assert phase.stopped_because == "ci_target_met" and len(phase.repetitions) == 5
    assert phase.dropped == ()
    assert stats_seen[3].relative_half_width > 0.0075 >= stats_seen[4].relative_half_width
    expected = summarize([wh_per_1k(p * WINDOW, 4) for p in steps[:5]])
    assert phase.gpu_wh_per_1k.mean == pytest.approx(expected.mean, rel=1e-4)
    assert phase.gpu_wh_per_1k.ci95_half_width == pytest.approx(0.01 * expected.mean, rel=1e-9)
    assert phase.outcome.interval == "target" and phase.outcome.target_met
    assert phase.outcome.rule == STOP_RULE
    assert phase.outcome.t_half_width == pytest.approx(expected.ci95_half_width, rel=1e-3)


def test_noisy_power_runs_to_max_repetitions(monkeypatch, clock):
    """Simulated: time, and power jumping at random between 50 and 600 W every simulated second
    (seeded). Each window averages different power, the interval stays wide, the meter runs
    max_repetitions."""

    def noisy(t: float) -> float:
        return random.Random(int(t)).uniform(50.0, 600.0)

    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=noisy)], clock=clock)
    with EnergyMeter(config(min_repetitions=2, max_repetitions=4, target_ci_rel=0.01), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    assert phase.stopped_because == "max_repetitions"
    assert len(phase.repetitions) == 4
    assert phase.gpu_wh_per_1k.relative_half_width > 0.01
    # The result says the target was not reached, and the interval is Student's t.
    assert phase.outcome.target_met is False and phase.outcome.interval == "t"
    assert phase.gpu_wh_per_1k.ci95_half_width == phase.outcome.t_half_width


def test_short_passes_are_looped_to_the_minimum_window_and_normalised(monkeypatch, clock):
    """Simulated: 200 W, and time. A 1/64 s pass of 3 queries is looped (whole passes) until the
    window lasts min_window_s (exactly 16 passes in 0.25 s), and energy is divided by all the
    queries run."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=200.0)], clock=clock)
    with EnergyMeter(config(min_window_s=0.25, min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        phase = meter.measure(sleeper(clock, 1 / 64), queries_per_pass=3, measure_idle=False)
    for rep in phase.repetitions:
        assert (rep.passes, rep.seconds, rep.queries) == (16, 0.25, 48)
        assert rep.wh_per_1k == pytest.approx(wh_per_1k(200.0 * 0.25, 48), rel=1e-4)
    assert phase.pass_results == tuple(range(2, 34))
    assert phase.total_queries == 96


def test_hardware_and_gpu_state_are_recorded(monkeypatch, clock):
    """Simulated: time, and an H100 with known name, UUID, memory, power limit, persistence mode,
    clocks, temperature, driver 550.54.15 / CUDA 12.4, and our own process on it (not another
    process)."""
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
    fake = install_fake_nvml(monkeypatch, gpus=[gpu], clock=clock)
    fake.add_process(0, pid=os.getpid(), used_memory_mib=5000)  # ourselves: never counted as sharing
    with EnergyMeter(config(min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        hw = meter.hardware
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
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
    assert phase.isolation == Isolation(checked=True, other_processes=(), allow_shared_gpu=False)


def test_cpu_and_dram_energy_come_from_zeus_rapl(monkeypatch, tmp_path, clock):
    """Simulated: time, a 300 W GPU, and a RAPL sysfs tree (package + dram) that each pass advances
    by 2 J CPU and 0.5 J DRAM. Zeus's real RAPL reader reports them; per-query figures are exact."""
    install_fake_nvml(monkeypatch, clock=clock)
    rapl = install_fake_rapl(monkeypatch, tmp_path / "intel-rapl")

    def run() -> None:
        clock.sleep(PASS)
        rapl.add(cpu_j=2.0, dram_j=0.5)

    with EnergyMeter(config(min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        phase = meter.measure(run, queries_per_pass=5, measure_idle=False)
    for rep in phase.repetitions:
        assert rep.passes == 4
        assert rep.cpu_energy_j == pytest.approx(8.0)
        assert rep.dram_energy_j == pytest.approx(2.0)
        assert rep.cpu_wh_per_1k == pytest.approx(wh_per_1k(2.0, 5))
    assert phase.cpu_wh_per_1k.mean == pytest.approx(wh_per_1k(2.0, 5))
    assert phase.dram_wh_per_1k.mean == pytest.approx(wh_per_1k(0.5, 5))


def test_cuda_visible_devices_selects_the_gpu_like_zeus(monkeypatch, clock):
    """Simulated: time, two GPUs (an A100 at 100 W, an H100 at 400 W), CUDA_VISIBLE_DEVICES=1.
    CUDA index 0 is then NVML device 1: the hardware record and Zeus's energy must both be the H100's."""
    install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(name="NVIDIA A100-SXM4-40GB", power_trace=100.0), FakeGPU(power_trace=400.0)],
        clock=clock,
    )
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    with EnergyMeter(config(min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        assert meter.hardware.gpu_name == "NVIDIA H100 80GB HBM3"
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    for rep in phase.repetitions:
        assert rep.gpu_energy_j == pytest.approx(400.0 * WINDOW, abs=0.002)


def test_independent_nvml_read_follows_the_same_gpu_as_zeus(monkeypatch, clock):
    """Simulated: time, two GPUs (100 W and 400 W), CUDA_VISIBLE_DEVICES=1, power that steps between
    150 and 400 W every 50 ms. Real: Zeus's windows. The meter's own read of NVML's total-energy
    counter must come from the same (400 W) GPU as Zeus's and, since no simulated time passes
    between its reads and Zeus's, agree with Zeus's to the counter's 1 mJ; it is recorded for the
    idle sample and every repetition."""
    install_fake_nvml(
        monkeypatch,
        gpus=[
            FakeGPU(name="NVIDIA A100-SXM4-40GB", power_trace=100.0),
            FakeGPU(power_trace=lambda t: 400.0 if int(t * 20) % 2 else 150.0),
        ],
        clock=clock,
    )
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    with EnergyMeter(config(min_repetitions=3, max_repetitions=3), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1)
    windows = [(rep.gpu_energy_j, rep.nvml_counter_j, rep.seconds) for rep in phase.repetitions]
    windows.append((phase.idle.gpu_energy_j, phase.idle.nvml_counter_j, phase.idle.seconds))
    for zeus_j, ours_j, seconds in windows:
        assert ours_j is not None
        assert ours_j == pytest.approx(zeus_j, abs=0.002)
        assert ours_j == pytest.approx(275.0 * seconds, rel=0.01)  # the stepping GPU, not the 100 W one


def test_measure_twice_on_one_meter(monkeypatch, clock):
    """Simulated: 300 W, and time. Text generation measures a second (prefill) phase on the same meter,
    skipping the idle sample the second time."""
    install_fake_nvml(monkeypatch, clock=clock)
    with EnergyMeter(config(min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        first = meter.measure(sleeper(clock), queries_per_pass=2)
        second = meter.measure(sleeper(clock), queries_per_pass=2, measure_idle=False)
    assert first.idle is not None and second.idle is None
    assert len(first.repetitions) == len(second.repetitions) == 2


def test_a_failing_pass_propagates_and_leaves_the_meter_usable(monkeypatch, clock):
    """Simulated: 300 W, and time. The pass function raises mid-repetition: the error reaches the
    caller unchanged, and the next measure() on the same meter works."""
    install_fake_nvml(monkeypatch, clock=clock)

    def boom() -> None:
        raise RuntimeError("CUDA out of memory (simulated)")

    with EnergyMeter(config(min_repetitions=2, max_repetitions=2, warmup_passes=0), clock=clock) as meter:
        with pytest.raises(RuntimeError, match="out of memory"):
            meter.measure(boom, queries_per_pass=1, measure_idle=False)
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    assert len(phase.repetitions) == 2


def test_warmup_callable_replaces_warmup_passes(monkeypatch, clock):
    """Simulated: 300 W, and time. A caller-provided warm-up runs once and is timed; pass_fn is not
    used for warm-up."""
    install_fake_nvml(monkeypatch, clock=clock)
    warmups: list[int] = []

    def warmup() -> None:
        clock.sleep(3.0)
        warmups.append(1)

    with EnergyMeter(config(min_repetitions=2, max_repetitions=2, warmup_passes=3), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), 1, warmup=warmup, measure_idle=False)
    assert warmups == [1]
    assert phase.warmup_seconds == 3.0
    assert phase.pass_results[0] == 1  # the first measured pass is pass_fn's first call


# --------------------------------------------------------------------------------------------
# Refusals and failures
# --------------------------------------------------------------------------------------------


def test_zero_counter_delta_is_refused(monkeypatch, clock):
    """Simulated: time, a GPU whose energy counter never advances (0 W). MeterError names GPU and
    repetition."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=0.0)], clock=clock)
    with EnergyMeter(config(), clock=clock) as meter:
        with pytest.raises(MeterError, match=r"GPU 0 \(NVIDIA H100 80GB HBM3\).*repetition 1") as caught:
            meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    assert caught.value.exit_code == EXIT_RUNTIME


def test_zero_counter_delta_in_the_idle_sample_is_refused(monkeypatch, clock):
    """Simulated: time, a counter stuck at one value (0 W) during the idle sample."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=0.0)], clock=clock)
    with EnergyMeter(config(), clock=clock) as meter, pytest.raises(MeterError, match="idle sample"):
        meter.measure(sleeper(clock), queries_per_pass=1)


def test_counter_going_backwards_is_refused(monkeypatch, clock):
    """Simulated: time, 300 W, then the counter drops to a low value (a driver reload) during
    repetition 2."""
    fake = install_fake_nvml(monkeypatch, clock=clock)
    done = {"reps": 0, "dropped": False}

    def run() -> None:
        clock.sleep(PASS)
        if done["reps"] == 1 and not done["dropped"]:
            fake.set_energy_mj(0, 1_000)
            done["dropped"] = True

    def count(rep, stats) -> None:
        done["reps"] += 1

    with EnergyMeter(config(warmup_passes=0), clock=clock) as meter:
        with pytest.raises(MeterError, match=r"advanced by -\d.* J during repetition 2"):
            meter.measure(run, queries_per_pass=1, measure_idle=False, on_repetition=count)


def test_another_process_on_the_gpu_is_refused(monkeypatch, clock):
    """Simulated: time, another process (pid 4242, 2 GiB) holds a compute context on the GPU."""
    fake = install_fake_nvml(monkeypatch, clock=clock)
    fake.add_process(0, pid=4242, used_memory_mib=2048)
    with EnergyMeter(config(), clock=clock) as meter:
        with pytest.raises(SharedGPUError, match=r"4242.*2048 MiB.*--allow-shared-gpu") as caught:
            meter.measure(sleeper(clock), queries_per_pass=1)
    assert caught.value.exit_code == EXIT_CANNOT_MEASURE


def test_a_process_appearing_mid_run_is_refused(monkeypatch, clock):
    """Simulated: time, a graphics process (pid 777) appears on the GPU during repetition 2."""
    fake = install_fake_nvml(monkeypatch, clock=clock)
    done = {"reps": 0}

    def run() -> None:
        clock.sleep(PASS)
        if done["reps"] == 1 and not fake.gpus[0].processes:
            fake.add_process(0, pid=777, kind="graphics")

    def count(rep, stats) -> None:
        done["reps"] += 1

    with EnergyMeter(config(warmup_passes=0), clock=clock) as meter:
        with pytest.raises(SharedGPUError, match=r"after repetition 2.*777"):
            meter.measure(run, queries_per_pass=1, measure_idle=False, on_repetition=count)


def test_shared_gpu_allowed_is_recorded(monkeypatch, clock):
    """Simulated: time, and another process (pid 4242) on the GPU, with allow_shared_gpu=True: the
    run goes on and the result records the process and the permission."""
    fake = install_fake_nvml(monkeypatch, clock=clock)
    fake.add_process(0, pid=4242, used_memory_mib=2048)
    with EnergyMeter(
        config(allow_shared_gpu=True, min_repetitions=2, max_repetitions=2), clock=clock
    ) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    assert phase.isolation == Isolation(
        checked=True,
        other_processes=(GPUProcess(pid=4242, used_memory_mib=2048, gpu_index=0, kind="compute"),),
        allow_shared_gpu=True,
    )


def test_nvml_error_mid_run_becomes_meter_error(monkeypatch, clock):
    """Simulated: time, the GPU is lost (NVML_ERROR_GPU_IS_LOST on the energy counter) during
    repetition 1; Zeus wraps it in ZeusGPULostError, the meter turns that into MeterError (exit 5)."""
    fake = install_fake_nvml(monkeypatch, clock=clock)

    def run() -> None:
        clock.sleep(PASS)
        fake.fail("nvmlDeviceGetTotalEnergyConsumption", pynvml.NVML_ERROR_GPU_IS_LOST)

    with EnergyMeter(config(warmup_passes=0), clock=clock) as meter:
        with pytest.raises(MeterError, match=r"GPU 0 .*repetition 1.*GPU is lost") as caught:
            meter.measure(run, queries_per_pass=1, measure_idle=False)
    assert caught.value.exit_code == EXIT_RUNTIME


def test_nvml_error_in_the_process_check_becomes_meter_error(monkeypatch, clock):
    """Simulated: time, NVML starts failing (NVML_ERROR_UNKNOWN) when listing processes after
    repetition 1."""
    fake = install_fake_nvml(monkeypatch, clock=clock)

    def run() -> None:
        clock.sleep(PASS)
        fake.fail("nvmlDeviceGetComputeRunningProcesses", pynvml.NVML_ERROR_UNKNOWN)

    with EnergyMeter(config(warmup_passes=0), clock=clock) as meter:
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
        EnergyMeter(config())
    message = str(caught.value)
    assert "\n" not in message
    for needle in ("NVML library", "NVIDIA driver", "visible NVIDIA GPU", "Volta", text, "--no-energy"):
        assert needle in message
    assert caught.value.exit_code == EXIT_CANNOT_MEASURE


def test_missing_bindings_raise_no_energy_counter(monkeypatch):
    """Simulated: the nvidia-ml-py bindings are not importable at all."""
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(NoEnergyCounterError, match="nvidia-ml-py"):
        EnergyMeter(config())


def test_no_gpu_raises_no_energy_counter(monkeypatch):
    """Simulated: NVML initialises but reports zero GPUs (Zeus alone would give empty dicts)."""
    install_fake_nvml(monkeypatch, gpus=[])
    with pytest.raises(NoEnergyCounterError, match="sees no GPU.*--no-energy"):
        EnergyMeter(config())


def test_empty_cuda_visible_devices_raises_no_energy_counter(monkeypatch):
    """Simulated: one H100, but CUDA_VISIBLE_DEVICES="" hides it."""
    install_fake_nvml(monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(NoEnergyCounterError, match="CUDA_VISIBLE_DEVICES"):
        EnergyMeter(config())


def test_uuid_cuda_visible_devices_is_refused_since_zeus_cannot_map_it(monkeypatch):
    """Simulated: one H100 selected by UUID in CUDA_VISIBLE_DEVICES, which Zeus cannot parse."""
    fake = install_fake_nvml(monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", fake.gpus[0].uuid)
    with pytest.raises(NoEnergyCounterError, match="integer indices"):
        EnergyMeter(config())


def test_pre_volta_gpu_raises_no_energy_counter(monkeypatch):
    """Simulated: a Tesla P100 (Pascal): no total-energy counter."""
    install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(name="Tesla P100-PCIE-16GB", architecture=pynvml.NVML_DEVICE_ARCH_PASCAL)],
    )
    with pytest.raises(NoEnergyCounterError, match=r"Tesla P100-PCIE-16GB.*Pascal.*--no-energy"):
        EnergyMeter(config())


def test_counter_not_supported_on_a_new_gpu_raises_no_energy_counter(monkeypatch):
    """Simulated: a Hopper GPU whose counter read returns NOT_SUPPORTED (as on some vGPUs)."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(energy_counter=False)])
    with pytest.raises(NoEnergyCounterError, match="without a readable total-energy counter"):
        EnergyMeter(config())


def test_zeus_failing_to_open_the_gpu_is_detected(monkeypatch):
    """Simulated: one H100 and CUDA_VISIBLE_DEVICES="0,5". CUDA stops at the invalid 5 and sees one
    GPU; Zeus tries to open NVML device 5 and raises: the meter says so instead of crashing."""
    install_fake_nvml(monkeypatch)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,5")
    with pytest.raises(NoEnergyCounterError, match="Zeus could not open GPU 0"):
        EnergyMeter(config())


def test_zeus_silently_seeing_no_gpu_is_detected(monkeypatch):
    """Simulated: one H100 whose NVML init works for the meter's own probes (the first two
    nvmlInit calls) and then fails for Zeus's; Zeus then falls back to "no GPUs" (EmptyGPUs, which
    gives empty energy dicts, or here a ValueError since an index is asked for). The meter refuses
    with NoEnergyCounterError."""
    fake = install_fake_nvml(monkeypatch)
    fake.fail("nvmlInit", pynvml.NVML_ERROR_DRIVER_NOT_LOADED, after=2)
    expected = r"Zeus could not open GPU 0 .*No GPUs available\. Use --no-energy"
    with pytest.raises(NoEnergyCounterError, match=expected):
        EnergyMeter(config())


def test_gpu_index_out_of_range_is_a_usage_error(monkeypatch):
    """Simulated: one GPU; the configuration asks for GPU 3."""
    install_fake_nvml(monkeypatch)
    with pytest.raises(UsageError, match="GPU index 3") as caught:
        EnergyMeter(config(gpu_index=3))
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
        {"strict": 1},
        {"sample_interval_s": 0},
        {"sample_interval_s": 2.0},
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
        EnergyMeter(config(min_repetitions=1))


def test_queries_per_pass_must_be_positive(monkeypatch, clock):
    """Simulated: time, one H100."""
    install_fake_nvml(monkeypatch, clock=clock)
    with EnergyMeter(config(), clock=clock) as meter, pytest.raises(UsageError):
        meter.measure(sleeper(clock), queries_per_pass=0)


# --------------------------------------------------------------------------------------------
# Performance-only meter
# --------------------------------------------------------------------------------------------


def test_performance_meter_works_without_nvml(monkeypatch, clock):
    """Simulated: time, and no NVIDIA driver (nvmlInit fails). The performance meter runs the same
    loop, min_repetitions times, with short passes looped (8 passes of 1/32 s fill a 0.25 s window),
    and no energy fields."""
    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, clock=clock)
    meter = open_meter(
        config(min_repetitions=2, max_repetitions=5, min_window_s=0.25), energy=False, clock=clock
    )
    assert isinstance(meter, PerformanceMeter)
    assert meter.hardware.gpus == () and meter.hardware.cpu_count >= 1
    phase = meter.measure(sleeper(clock, 1 / 32), queries_per_pass=2)
    assert phase.stopped_because == "performance_only"
    assert len(phase.repetitions) == 2
    assert phase.energy_source is None and phase.idle is None
    assert phase.gpu_wh_per_1k is None and phase.cpu_wh_per_1k is None
    assert phase.gpu_state_start == () and phase.gpu_state_end == ()
    assert phase.isolation == Isolation(checked=False, other_processes=(), allow_shared_gpu=False)
    for rep in phase.repetitions:
        assert rep.gpu_energy_j is None and rep.wh_per_1k is None and rep.nvml_counter_j is None
        assert (rep.seconds, rep.passes, rep.queries) == (0.25, 8, 16)
        assert rep.queries_per_second == 64.0


def test_performance_meter_with_min_one_repetition(monkeypatch, clock):
    """Simulated: time, and no NVML bindings at all. One repetition is allowed without energy."""
    monkeypatch.setitem(sys.modules, "pynvml", None)
    phase = PerformanceMeter(config(min_repetitions=1), clock=clock).measure(sleeper(clock), 1)
    assert len(phase.repetitions) == 1


def test_performance_meter_records_gpu_and_sharing_without_refusing(monkeypatch, clock):
    """Simulated: time, and one H100 with another process (pid 4242) on it. The performance meter
    records the GPU, its state and the process, and does not refuse."""
    fake = install_fake_nvml(monkeypatch, clock=clock)
    fake.add_process(0, pid=4242)
    meter = PerformanceMeter(config(min_repetitions=2), clock=clock)
    phase = meter.measure(sleeper(clock), 1)
    assert meter.hardware.hardware_class == "H100"
    assert phase.gpu_state_start[0].sm_clock_mhz == 1980
    assert phase.isolation.checked is True
    assert [p.pid for p in phase.isolation.other_processes] == [4242]


def test_open_meter_energy_uses_the_clock_it_is_given(monkeypatch, clock):
    """Simulated: one H100 at 300 W, and time. open_meter hands its clock to the energy meter: the
    idle sample waits on it and the windows are timed by it."""
    install_fake_nvml(monkeypatch, clock=clock)
    meter = open_meter(config(min_repetitions=2, max_repetitions=2), energy=True, clock=clock)
    assert isinstance(meter, EnergyMeter)
    phase = meter.measure(sleeper(clock), queries_per_pass=1)
    assert clock.sleeps[0] == IDLE and phase.idle.seconds == IDLE
    assert [r.seconds for r in phase.repetitions] == [WINDOW, WINDOW]
    meter.close()
    meter.close()  # idempotent


_LEAKING_TESTS = """
import gc

import pynvml
import pytest
from fake_clock import FakeClock
from fake_nvml import install_fake_nvml
from zeus.device.gpu.nvidia import NVIDIAGPUs

from energy_badge.errors import MeterError
from energy_badge.meter import EnergyMeter, MeterConfig

# The collector would otherwise run at an arbitrary moment (that was the bug: sometimes in the
# middle of a later test). Off, only the suite's own clean-up collects.
gc.disable()


def test_a_failed_meter_leaves_zeus_in_a_reference_cycle(monkeypatch):
    clock = FakeClock()
    fake = install_fake_nvml(monkeypatch, clock=clock)

    def run():
        clock.sleep(5.0)
        fake.fail("nvmlDeviceGetComputeRunningProcesses", pynvml.NVML_ERROR_UNKNOWN)

    config = MeterConfig(warmup_passes=0)
    with EnergyMeter(config, clock=clock) as meter:
        with pytest.raises(MeterError) as caught:  # its traceback holds this frame: a cycle
            meter.measure(run, queries_per_pass=1, measure_idle=False)
    assert "after repetition 1" in str(caught.value)


def test_b_no_zeus_gpu_object_outlives_its_test():
    alive = [o for o in gc.get_objects() if isinstance(o, NVIDIAGPUs)]
    assert alive == []
"""


def test_zeus_objects_left_in_cycles_are_finalised_within_their_own_test(tmp_path):
    """Simulated: NVML (the fake) and time (FakeClock). A meter that fails mid-run leaves Zeus's
    NVIDIAGPUs in a reference cycle (the traceback keeps the frames alive). Its finaliser calls nvmlShutdown;
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


# --------------------------------------------------------------------------------------------
# The cross-check against sampled power (issue 12)
# --------------------------------------------------------------------------------------------


def test_crosscheck_agrees_with_an_honest_counter(monkeypatch, clock):
    """Simulated: time (TickingClock: the sampler thread reads the fake NVML at exact simulated
    times), and a 300 W GPU whose counter updates every 0.1 s. At the protocol's 0.02 s sampling,
    each 5 s window gets 251 power samples whose integral is the counter's energy, the counter's
    update period is seen as 0.1 s, and every window, idle sample included, agrees."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0, counter_update_s=0.1)], clock=clock)
    with EnergyMeter(
        config(min_repetitions=2, max_repetitions=2, sample_interval_s=0.02), clock=clock
    ) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1)
    windows = [(r.crosscheck, r.gpu_energy_j) for r in phase.repetitions]
    windows.append((phase.idle.crosscheck, phase.idle.gpu_energy_j))
    for check, counter_j in windows:
        assert check.verdict == "agree"
        assert check.samples == 251 and check.max_gap_s == pytest.approx(0.02)
        assert check.power_energy_j == pytest.approx(1500.0, rel=1e-9)
        assert check.counter_update_s == pytest.approx(0.1)
        assert abs(counter_j - check.power_energy_j) <= check.bound_j
        # The bound: 10 % of the sampled energy plus two counter updates at the mean power.
        assert check.bound_j == pytest.approx(0.10 * 1500.0 + 2 * 0.1 * 300.0)


def test_crosscheck_fires_on_a_counter_drifting_from_the_power(monkeypatch, clock):
    """Simulated: time, and a GPU drawing 300 W whose energy counter drifts away from the power
    readings (it integrates the power times 1 + 0.03 t: about 7 % high over the idle sample, 25 %
    and more by the repetitions). Zeus's figure follows the counter; the sampled power does not:
    the idle sample still agrees (within its 10 % bound), the repetitions disagree, and are
    recorded as such (not refused)."""
    gpu = FakeGPU(power_trace=300.0, counter_scale=lambda t: 1.0 + 0.03 * t)
    install_fake_nvml(monkeypatch, gpus=[gpu], clock=clock)
    with EnergyMeter(config(min_repetitions=2, max_repetitions=3), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1)
    assert phase.idle.crosscheck.verdict == "agree"
    for rep in phase.repetitions:
        check = rep.crosscheck
        assert check.verdict == "disagree", rep
        assert check.power_energy_j == pytest.approx(300.0 * WINDOW, rel=1e-9)
        assert rep.gpu_energy_j - check.power_energy_j > check.bound_j


def test_strict_refuses_a_disagreeing_window(monkeypatch, clock):
    """Simulated: time, and a counter reading 25 % high against the power readings. With strict
    (measure --strict) the first disagreeing window is refused with a MeterError (exit 5) that
    names the GPU, the window and both energies."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0, counter_scale=1.25)], clock=clock)
    with EnergyMeter(config(strict=True), clock=clock) as meter:
        with pytest.raises(
            MeterError, match=r"cross-check failed on GPU 0 .* idle sample.*1875\.0 J.*1500\.0 J"
        ):
            meter.measure(sleeper(clock), queries_per_pass=1)


def test_sparse_samples_are_inconclusive_not_a_verdict(monkeypatch, clock):
    """Simulated: time, and a counter 25 % high, sampled only every second: six samples in a 5 s
    window are too few to judge it, so the verdict is inconclusive (and strict does not refuse)."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0, counter_scale=1.25)], clock=clock)
    settings = config(min_repetitions=2, max_repetitions=2, sample_interval_s=1.0, strict=True)
    with EnergyMeter(settings, clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    for rep in phase.repetitions:
        assert rep.crosscheck.verdict == "inconclusive" and rep.crosscheck.samples == 6
        assert rep.crosscheck.bound_j is None


def test_the_sampler_does_not_change_the_window(monkeypatch, clock):
    """Simulated: time, and a 250 W GPU. The windows, their energy and the passes run are what they
    were before the sampler existed (test_clean_run_energy_matches_scripted_power's figures): the
    sampler reads NVML only, on its own thread, and never advances the clock."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=250.0)], clock=clock)
    with EnergyMeter(
        config(min_repetitions=3, target_ci_rel=0.05, sample_interval_s=0.02), clock=clock
    ) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=10)
    assert [(r.passes, r.seconds) for r in phase.repetitions] == [(4, WINDOW)] * 3
    assert all(r.gpu_energy_j == pytest.approx(1250.0, abs=0.002) for r in phase.repetitions)
    assert clock.now - 1_000.0 == IDLE + PASS + 3 * WINDOW
    assert set(clock.sleeps) == {IDLE, PASS}  # only the test's own sleeps: the sampler waits, never sleeps


# --------------------------------------------------------------------------------------------
# Outliers and drift (issue 12)
# --------------------------------------------------------------------------------------------


def stepping(powers: list[float], start: float = PASS) -> Callable[[float], float]:
    """Power per 5 s window after a one-pass warm-up (the last value holds)."""
    return lambda t: powers[min(int((t - start) // WINDOW), len(powers) - 1)] if t >= start else powers[0]


def test_an_outlying_repetition_is_dropped_rerun_and_recorded(monkeypatch, clock):
    """Simulated: time, and a GPU at 300 W except during the second window (330 W: a corrupted
    repetition, +10 %). After four windows the guard drops it (median/MAD, confirmed by the
    leave-one-out test), the figure is that of the clean windows only, and the dropped one is
    kept beside them with the reason."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=stepping([300.0, 330.0, 300.0]))], clock=clock)
    with EnergyMeter(config(min_repetitions=3, max_repetitions=10), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=4, measure_idle=False)
    assert [r.index for r in phase.repetitions] == [1, 3, 4]
    assert phase.stopped_because == "ci_target_met"
    (dropped,) = phase.dropped
    assert dropped.repetition.index == 2 and dropped.reason == "outlier"
    assert dropped.repetition.gpu_energy_j == pytest.approx(330.0 * WINDOW, abs=0.002)
    assert "+10.0 % from the median of 4 repetitions" in dropped.detail
    assert phase.gpu_wh_per_1k.mean == pytest.approx(wh_per_1k(300.0 * WINDOW, 16), rel=1e-6)
    assert phase.gpu_wh_per_1k.samples == tuple(r.wh_per_1k for r in phase.repetitions)


def test_a_gpu_still_warming_up_is_measured_over_every_repetition(monkeypatch, clock):
    """Simulated: time, a constant 300 W, and a GPU whose temperature rises by 1 °C each window
    (the pass function warms the simulated GPU). The rule sees the drift and does not stop early:
    it runs every repetition and says why; the interval is Student's t."""
    fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0, temperature_c=50)], clock=clock)
    passes = {"n": 0}

    def warming() -> None:
        clock.sleep(PASS)
        passes["n"] += 1
        if passes["n"] % 4 == 2:  # each window's first pass (pass 1 is the warm-up)
            fake.gpus[0].temperature_c += 1

    with EnergyMeter(config(min_repetitions=3, max_repetitions=5), clock=clock) as meter:
        phase = meter.measure(warming, queries_per_pass=1, measure_idle=False)
    assert phase.stopped_because == "max_repetitions" and len(phase.repetitions) == 5
    assert [r.temperature_c for r in phase.repetitions] == [51.0, 52.0, 53.0, 54.0, 55.0]
    drift = phase.outcome.drift
    assert drift.detected and drift.temperature_rise_c == 4.0 and "warmed by 4 °C" in drift.reason
    assert phase.outcome.interval == "t"


def test_a_trend_across_repetitions_is_a_drift(monkeypatch, clock):
    """Simulated: time, and power rising 1 % a window (300, 303, 306, ... W) at a constant
    temperature. The least-squares trend is significant from the fourth repetition: no early stop."""
    powers = [300.0 * (1 + 0.01 * i) for i in range(6)]
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=stepping(powers))], clock=clock)
    with EnergyMeter(config(min_repetitions=3, max_repetitions=6, target_ci_rel=0.05), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    assert len(phase.repetitions) == 6 and phase.outcome.drift.detected
    assert phase.outcome.drift.slope_rel == pytest.approx(0.01 / 1.025, rel=1e-3)
    assert "trend by +0.98 % per repetition" in phase.outcome.drift.reason


# --------------------------------------------------------------------------------------------
# Isolation and device identity (issue 12)
# --------------------------------------------------------------------------------------------


def test_a_refused_process_list_is_recorded_as_unknown(monkeypatch, clock):
    """Simulated: time, and an NVML that refuses the compute process list (NO_PERMISSION, as in some
    containers and VMs). The run goes on, but the isolation check says it is unknown (it was
    recorded as passed before)."""
    fake = install_fake_nvml(monkeypatch, clock=clock)
    fake.fail("nvmlDeviceGetComputeRunningProcesses", pynvml.NVML_ERROR_NO_PERMISSION)
    with EnergyMeter(config(min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    assert phase.isolation.checked and phase.isolation.other_processes == ()
    assert "refused the compute process list of GPU 0" in phase.isolation.unknown_reason
    assert "Insufficient Permissions" in phase.isolation.unknown_reason


def test_this_process_under_its_host_pid_is_not_another_process(monkeypatch, clock):
    """Simulated: time, and a container whose driver reports host pids: NVML lists this process as
    pid 90001, which is not in the container's pid namespace (the simulated /proc has no 90001 and
    says the namespace is not the host's). The meter takes it for itself instead of refusing."""
    fake = install_fake_nvml(monkeypatch, clock=clock, host_namespace=False)
    fake.gpus[0].processes.append(FakeProcess(pid=90001, used_memory_mib=900, in_namespace=False))
    with EnergyMeter(config(min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    assert phase.isolation.other_processes == () and phase.isolation.attributed_pid == 90001
    fake.gpus[0].processes.append(FakeProcess(pid=90002, in_namespace=False))  # and now another one
    with EnergyMeter(config(), clock=clock) as meter, pytest.raises(SharedGPUError, match="90001.*90002"):
        meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)


def test_a_gpu_in_mig_mode_is_refused_whatever_cuda_visible_devices_says(monkeypatch):
    """Simulated: an H100 with MIG mode on, and CUDA_VISIBLE_DEVICES unset (no MIG- device named):
    its counter covers every MIG instance, so the meter refuses it."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(mig_mode=True)])
    with pytest.raises(NoEnergyCounterError, match="MIG mode"):
        EnergyMeter(config())


def test_cuda_and_nvml_are_matched_by_uuid_not_by_order(monkeypatch, clock):
    """Simulated: time, two GPUs in NVML's (PCI) order, an A100 at 100 W then an H100 at 400 W, and
    CUDA (torch.cuda, at its boundary) enumerating the faster H100 first, as CUDA_DEVICE_ORDER's
    default does. CUDA index 0 is the H100: the meter must describe and measure it (by order it
    measured the A100)."""
    import torch

    fake = install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(name="NVIDIA A100-SXM4-40GB", power_trace=100.0), FakeGPU(power_trace=400.0)],
        clock=clock,
    )
    props = [SimpleNamespace(uuid=fake.gpus[i].uuid[4:], pci_bus_id=None) for i in (1, 0)]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props[i])
    with EnergyMeter(config(min_repetitions=2, max_repetitions=2), clock=clock) as meter:
        assert meter.hardware.gpu_name == "NVIDIA H100 80GB HBM3"
        assert meter.hardware.gpus[0].cuda_match == "uuid"
        phase = meter.measure(sleeper(clock), queries_per_pass=1, measure_idle=False)
    for rep in phase.repetitions:
        assert rep.gpu_energy_j == pytest.approx(400.0 * WINDOW, abs=0.002)
        assert rep.crosscheck.power_energy_j == pytest.approx(400.0 * WINDOW, rel=1e-9)
