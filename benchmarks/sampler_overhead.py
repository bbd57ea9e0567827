"""Does the meter's power sampler perturb the window it cross-checks? Fixed work, timed with and without it.

The sampler (``energy_badge.meter.sampler.PowerSampler``) reads NVML's instantaneous power and the
energy counter every ``--interval`` seconds in a background thread while a window is open. This
times the same work with and without it running, interleaved, and prints the medians: a
GIL-bound pure-Python loop (the worst case for a Python thread) and torch matrix products on the
CPU (which release the GIL, like a GPU workload waiting on CUDA).

On a machine with an NVIDIA GPU it samples the real NVML (``--gpu-index``); elsewhere it uses the
test suite's simulated NVML (``tests/fake_nvml.py``), whose Python functions cost more than the
real ctypes calls (which release the GIL). Timing noise of a shared machine can exceed the
effect: compare the spread of the ``without`` runs.

Usage::

    python benchmarks/sampler_overhead.py [--runs 9] [--seconds 1] [--interval 0.02] [--gpu-index 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _nvml(gpu_index: int) -> tuple[Any, str]:
    """The pynvml module with a GPU handle, real if NVML works here, else the simulated one."""
    import pynvml

    try:
        pynvml.nvmlInit()
        return pynvml.nvmlDeviceGetHandleByIndex(gpu_index), "real NVML"
    except pynvml.NVMLError:
        import pytest

        sys.path.insert(0, str(ROOT / "tests"))
        from fake_nvml import FakeGPU, install_fake_nvml

        install_fake_nvml(pytest.MonkeyPatch(), gpus=[FakeGPU(power_trace=300.0)])
        pynvml.nvmlInit()
        return pynvml.nvmlDeviceGetHandleByIndex(0), "simulated NVML (tests/fake_nvml.py)"


def _calibrate(work: Callable[[int], None], seconds: float) -> int:
    """How many units of ``work`` take about ``seconds``."""
    units = 1
    while True:
        started = time.perf_counter()
        work(units)
        took = time.perf_counter() - started
        if took > 0.2:
            return max(1, int(units * seconds / took))
        units *= 4


def main(argv: list[str] | None = None) -> int:
    import pynvml
    import torch

    from energy_badge.meter import SYSTEM_CLOCK
    from energy_badge.meter.sampler import PowerSampler

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timed piece of work")
    parser.add_argument(
        "--interval", type=float, default=0.02, help="the sampler's period (the meter's default)"
    )
    parser.add_argument("--gpu-index", type=int, default=0)
    args = parser.parse_args(argv)
    handle, which = _nvml(args.gpu_index)
    field = [(pynvml.NVML_FI_DEV_POWER_INSTANT, pynvml.NVML_POWER_SCOPE_GPU)]

    def watts() -> float:
        return pynvml.nvmlDeviceGetFieldValues(handle, field)[0].value.uiVal / 1000.0

    def counter() -> int:
        return int(pynvml.nvmlDeviceGetTotalEnergyConsumption(handle))

    torch.set_num_threads(1)
    matrix = torch.randn(256, 256)

    def python_work(units: int) -> None:
        total = 0
        for i in range(units * 1000):
            total += i * i

    def torch_work(units: int) -> None:
        for _ in range(units):
            matrix @ matrix

    print(f"{which}; sampler every {args.interval} s; medians of {args.runs} interleaved runs")
    for name, work in (
        ("pure Python (holds the GIL)", python_work),
        ("torch matmul (releases it)", torch_work),
    ):
        units = _calibrate(work, args.seconds)
        without, with_sampler, samples = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            work(units)
            without.append(time.perf_counter() - started)
            sampler = PowerSampler(watts, counter, SYSTEM_CLOCK, args.interval)
            sampler.start()
            started = time.perf_counter()
            work(units)
            with_sampler.append(time.perf_counter() - started)
            samples.append(len(sampler.stop()))
        a, b = statistics.median(without), statistics.median(with_sampler)
        spread = (max(without) - min(without)) / a
        print(
            f"{name:<28} without {a:.3f} s (spread {100 * spread:.1f} %), with {b:.3f} s: "
            f"{100 * (b / a - 1):+.2f} %; {statistics.median(samples):.0f} samples per run"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
