"""benchmarks/overhead.py's bare loops: where each waits for the GPU.

Simulated: ``torch.cuda.synchronize`` (the call where the host waits for the GPU) is replaced by a
recorder, and the runner by a stand-in holding five prepared batches whose forward only records
itself. Nothing else of the benchmark runs here; ``tests/test_gpu_campaign.py`` runs the whole
script (on the CPU, with a simulated NVML) and checks the figures it writes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "overhead.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("overhead_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Runner:
    """The two things the bare loops use: the prepared batches and the forward call."""

    device = "cuda:0"

    def __init__(self, events: list[tuple[str, object]]) -> None:
        self._batches = list(range(5))
        self.events = events

    def _forward(self, batch: int, *, prefill: bool) -> None:
        assert prefill is False
        self.events.append(("forward", batch))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, _Runner, list[tuple[str, object]]]:
    import torch

    events: list[tuple[str, object]] = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: events.append(("sync", device)))
    return _script(), _Runner(events), events


def test_the_bare_loop_with_a_sync_per_query_waits_after_every_query(recorded):
    overhead, runner, events = recorded
    overhead.bare_pass(runner, True, sync_each=True)
    assert events == [e for b in range(5) for e in (("forward", b), ("sync", "cuda:0"))]


def test_the_bare_loop_with_one_sync_per_pass_waits_once_at_the_end(recorded):
    overhead, runner, events = recorded
    overhead.bare_pass(runner, True, sync_each=False)
    assert events == [("forward", b) for b in range(5)] + [("sync", "cuda:0")]


def test_on_a_cpu_neither_bare_loop_synchronizes(recorded):
    overhead, runner, events = recorded
    overhead.bare_pass(runner, False, sync_each=True)
    overhead.bare_pass(runner, False, sync_each=False)
    assert events == [("forward", b) for b in range(5)] * 2
