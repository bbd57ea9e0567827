"""The bulk pipeline's prefetcher (energy_badge.bulk.prefetch) and the meters' window gate.

What is simulated: the Hub in the bulk loop's test (tests/hub_server.py); the GPU, at the
pynvml boundary (tests/fake_nvml.py, a constant 300 W); and time: the meter's clock is this
process's CPU time (``CPUClock`` in tests/fake_clock.py), so CPU work of another thread of
this process during a window lengthens the window, and thus its energy, exactly as contention
would stretch a measured pass; other processes on the machine do not. The "downloads" are fetch
functions written here (one burns CPU hashing, as verifying files does). The meter's loop, Zeus,
the bulk loop and the prefetcher's thread run for real.
"""

from __future__ import annotations

import hashlib
import threading

import pytest
from fake_clock import CPUClock, FakeClock
from fake_nvml import FakeGPU, install_fake_nvml
from test_bulk_job import MODELS, Synthetic, make_job, refs
from test_bulk_job import hub as _loopback_hub

from energy_badge.bulk.prefetch import Prefetcher
from energy_badge.bulk.state import StateStore
from energy_badge.meter import EnergyMeter, MeterConfig
from energy_badge.meter.loop import quiet_gate

CHUNK = b"x" * (1 << 20)
PIECE = CHUNK[: 64 * 1024]
hub = _loopback_hub  # tests/test_bulk_job.py's loopback Hub fixture, by the name the test asks for


def test_fetches_ahead_within_depth_and_disk_budget():
    """Two models ahead at most; once 160 of a 100-byte budget is held, the third waits until a
    measured model releases its files; a failing fetch is recorded, never raised."""
    calls: list[str] = []

    def fetch(model: str, revision: str, pause) -> int:
        calls.append(model)
        if model == "org/broken":
            raise OSError("connection reset")
        return 80

    pre = Prefetcher(fetch, depth=2, max_bytes=100, quiet=threading.Event())
    pre._quiet.set()
    try:
        pre.want([("org/a", "1"), ("org/b", "1"), ("org/c", "1")])
        assert pre.wait_idle()
        assert calls == ["org/a", "org/b"]  # depth 2: c is not wanted yet
        pre.want([("org/b", "1"), ("org/c", "1")])  # a is being measured; c is over budget
        calls.append("a measured")  # c may be fetched only after this
        pre.measured("org/a", "1")
        assert pre.wait_idle()
        assert calls == ["org/a", "org/b", "a measured", "org/c"]
        assert [p.model for p in pre.done] == ["org/a", "org/b", "org/c"]
        pre.measured("org/b", "1")
        pre.measured("org/c", "1")
        pre.want([("org/broken", "2")])
        assert pre.wait_idle()
        assert (
            pre.failed and pre.failed[0][:2] == ("org/broken", "2") and "connection reset" in pre.failed[0][2]
        )
    finally:
        pre.close()


class _Gate:
    """The real window gate, noting each time the prefetcher asks it."""

    def __init__(self) -> None:
        self.real = quiet_gate()
        self.asked = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.set()
        return self.real.wait(timeout)


def _measure(monkeypatch, before=None, window: float = 0.1) -> float:
    """GPU Wh per 1000 queries of a CPU-bound pass on the simulated 300 W GPU, CPU-time clock,
    windows of at least ``window`` seconds."""
    clock = CPUClock()
    install_fake_nvml(
        monkeypatch, gpus=[FakeGPU(name="NVIDIA H100 80GB HBM3", power_trace=300.0)], clock=clock
    )
    meter = EnergyMeter(
        MeterConfig(
            min_repetitions=2, max_repetitions=2, min_window_s=window, idle_seconds=0, warmup_passes=0
        ),
        clock=clock,
    )

    def one_pass() -> None:
        digest = hashlib.sha256()
        for _ in range(4):
            digest.update(CHUNK)

    try:
        if before is not None:
            before()
        phase = meter.measure(one_pass, 4, measure_idle=False)
    finally:
        meter.close()
    assert phase.gpu_wh_per_1k is not None
    return phase.gpu_wh_per_1k.mean


def test_prefetch_pauses_during_measured_windows_so_the_figure_does_not_move(monkeypatch):
    """A fetch that hashes 64 KiB pieces (CPU work) and pauses between them while a window is
    open leaves the measured figure where a quiet run puts it; the same fetch not pausing
    (a control, its gate always open) makes the windows longer and the figure higher. The pieces
    are small, as a real fetch's steps should be, so the piece in flight when a window opens
    adds little: with 4 MB pieces (as long as a whole pass) a loaded machine moved the gated
    figure 40 %."""
    quiet = _measure(monkeypatch)

    def burner(stop: threading.Event, started: threading.Event):
        def fetch(model: str, revision: str, pause) -> int:
            started.set()
            while not stop.is_set():
                pause()
                hashlib.sha256(PIECE).digest()
            return 1

        return fetch

    results = {}
    for name, gate in (("gated", _Gate()), ("ungated", None)):
        stop, started = threading.Event(), threading.Event()
        always = threading.Event()
        always.set()
        pre = Prefetcher(burner(stop, started), quiet=gate if gate is not None else always)  # type: ignore[arg-type]
        try:
            with monkeypatch.context() as mp:

                def want(pre=pre, started=started) -> None:
                    pre.want([("org/next", "1")])
                    assert started.wait(10)  # the fetch is running before the first window

                results[name] = _measure(mp, before=want)
        finally:
            stop.set()
            pre.close()
    assert results["gated"] == pytest.approx(quiet, rel=0.25)  # within the run's own noise
    assert results["ungated"] > 1.3 * quiet  # the control: the same work inside the windows


def test_the_bulk_loop_prefetches_the_next_model_while_measuring(hub, tmp_path):
    """Simulated: the Hub (loopback server, three models) and the measurements (SYNTHETIC results,
    tests/test_bulk_job.py's ``Synthetic``). The bulk loop hands the prefetcher the models queued
    after the one it measures: alice/m1's files (at its planned sha) are fetched while alice/m0
    is being measured, and released from the disk budget once m1 is measured."""
    got_next = threading.Event()
    fetched: list[tuple[str, str]] = []

    def fetch(model: str, revision: str, pause) -> int:
        fetched.append((model, revision))
        if model == "alice/m1":
            got_next.set()
        return 10

    measure = Synthetic(alice__m0=[lambda: got_next.wait(10)])
    with StateStore(tmp_path / "bot.sqlite") as state:
        job = make_job(state, hub, measure, FakeClock(), publish="none")
        assert job.context.prefetcher is None  # an injected measure: no prefetching of its own
        always = threading.Event()
        always.set()
        job.context.prefetcher = pre = Prefetcher(fetch, depth=1, quiet=always)
        _, summary = job.execute(refs(*MODELS))
    assert summary.outcome == "completed" and summary.measured == 3
    assert got_next.is_set() and fetched[0] == ("alice/m1", hub.head("alice/m1"))
    assert ("alice/m0", hub.head("alice/m0")) not in fetched  # the one measured first is not prefetched
    assert ("alice/m1", hub.head("alice/m1")) not in pre._held  # measured: released


class _Stop(Exception):
    """Ends a background preparation once the measurement it ran beside is over."""


def test_preparing_the_next_models_inputs_pauses_during_windows(monkeypatch, tmp_path):
    """Simulated: the GPU (300 W) and time (this process's CPU time, so another thread's CPU work
    inside a window inflates its energy). Real: a tiny ViT's runner built without weights, the
    image-classification workload's pictures decoded and resized by its real image processor
    (``energy_badge.ahead.prepare_ahead``), in the prefetcher's thread beside the measurement.
    Windows of 0.5 s, long beside one preparation step (a picture decoded and resized). Pausing
    before each picture while a window is open leaves the figure where a quiet run puts it; the
    same preparation not pausing (the control) raises it."""
    from tiny_media_models import build_media_model

    from energy_badge.ahead import prepare_ahead
    from energy_badge.measure import MeasureOptions
    from energy_badge.run.prepared import PreparedCache

    model = build_media_model("image-classification", tmp_path / "vit")
    quiet = _measure(monkeypatch, window=0.5)
    results = {}
    for name in ("gated", "ungated"):
        stop, started = threading.Event(), threading.Event()

        def after(model_id: str, revision: str, pause, stop=stop, started=started) -> None:
            def step() -> None:
                started.set()
                if stop.is_set():
                    raise _Stop
                pause()

            prepare_ahead(
                model_id, "image-classification", MeasureOptions(), pause=step, cache=PreparedCache()
            )

        always = threading.Event()
        always.set()
        pre = Prefetcher(lambda m, r, p: 0, quiet=quiet_gate() if name == "gated" else always, after=after)
        try:
            with monkeypatch.context() as mp:

                def want(pre=pre, started=started) -> None:
                    pre.want([(str(model), "local")])
                    assert started.wait(30)  # the preparation is running before the first window

                results[name] = _measure(mp, before=want, window=0.5)
        finally:
            stop.set()
            pre.close(timeout=30)
    assert results["gated"] == pytest.approx(quiet, rel=0.25)  # within the run's own noise
    assert results["ungated"] > 1.3 * quiet  # the control: the same work inside the windows
