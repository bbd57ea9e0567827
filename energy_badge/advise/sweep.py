"""Run the sweep: measure each setting of one model on the task's workload, cheapest first.

The plan is one factor at a time around the best setting so far, in the order that is cheapest
and most promising first: the canonical setting (the quality guard's reference); batch sizes 2,
4, 8, ... (until out of memory, or a doubling that gains less than 5 %); the other dtypes at the
best batch size; weight quantization at the best dtype; eager attention; ``torch.compile`` (the
slowest to set up) last. A model is loaded once per dtype, quantization, attention and compile
combination and reused across batch sizes. With a time budget, the points left when it runs out
are listed as not run.

Each point is measured by the same meter as a badge, on a shorter protocol
(:data:`ADVISE_PROTOCOL`): the first ``queries`` queries of the canonical workload (100 by
default), a warm-up, then 2 to 3 repetitions of at least ``min_window_s`` each, stopping early at
a 5 % interval. Ray is not used for the points: they run one after another on one device.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from energy_badge.advise.quality import QualityCheck, compare_outputs
from energy_badge.advise.settings import TORCH_DTYPES, Grid, Setting, canonical_setting, skip_reason
from energy_badge.errors import EnergyBadgeError, RuntimeFailure
from energy_badge.meter import Clock, MeterConfig, SystemClock
from energy_badge.stats import Stats, percentile

__all__ = [
    "ADVISE_PROTOCOL",
    "AdviseOptions",
    "PointResult",
    "PointStatus",
    "SweepResult",
    "Transform",
    "run_sweep",
]

#: The shorter protocol of an advise point, in words (reports quote it).
ADVISE_PROTOCOL = (
    "advise protocol: the first {queries} queries of the canonical workload, a warm-up of up to "
    "{warmup:g} s, then {low} to {high} repetitions of at least {window:g} s each, stopping early at a "
    "{target:g} % interval (a badge runs all 1000 queries, 3 to 10 repetitions of 5 s, 1 %)"
)
PointStatus = Literal["measured", "skipped", "failed", "not_run"]
#: A named change to the loaded model, applied after loading (a user's own variant, e.g. pruning).
Transform = Callable[[object], None]
_NO_GAIN = 0.95


@dataclass(frozen=True)
class AdviseOptions:
    """How to sweep.

    Attributes:
        grid: the allowed values of each axis.
        queries: queries of the canonical workload each point runs.
        quality_queries: queries whose outputs the quality guard compares.
        energy: measure energy (False: latency and throughput only).
        device: torch device (default: ``cuda:<gpu_index>`` with energy, else CUDA or the CPU).
        meter: the meter's settings (the advise protocol by default).
        budget_s: stop starting new points after this many seconds (None: no limit).
        trust_remote_code, allow_pickle: loading permissions.
        revision, token, endpoint: for Hub models.
    """

    grid: Grid = field(default_factory=Grid)
    queries: int = 100
    quality_queries: int = 50
    energy: bool = True
    device: str | None = None
    meter: MeterConfig = field(
        default_factory=lambda: MeterConfig(
            min_repetitions=2,
            max_repetitions=3,
            target_ci_rel=0.05,
            min_window_s=2.0,
            idle_seconds=2.0,
            warmup_max_s=3.0,
        )
    )
    budget_s: float | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False
    revision: str | None = None
    token: str | None = field(default=None, repr=False)
    endpoint: str | None = None

    def protocol(self) -> str:
        """The protocol in words."""
        m = self.meter
        return ADVISE_PROTOCOL.format(
            queries=self.queries,
            warmup=m.warmup_max_s,
            low=m.min_repetitions,
            high=m.max_repetitions,
            window=m.min_window_s,
            target=100 * m.target_ci_rel,
        )


@dataclass(frozen=True)
class PointResult:
    """One setting and what it cost.

    Attributes:
        setting: the setting (``name`` for a user transform).
        status: ``measured``, ``skipped`` (the device cannot run it), ``failed`` (loading or
            running raised: out of memory, an unsupported quantization) or ``not_run`` (budget).
        reason: why it was skipped, failed or not run.
        name: a user transform's name, else None.
        energy: GPU Wh per 1000 queries over the repetitions (with its interval); None without energy.
        seconds_per_query: measured seconds over queries.
        queries_per_s: throughput.
        latency_p50_ms, latency_p95_ms: per batch (a query waits for its whole batch).
        peak_memory_mib: peak CUDA memory allocated during the point; None on the CPU.
        repetitions: repetitions kept.
        quality: the outputs against the canonical setting's (None for the canonical point itself).
    """

    setting: Setting
    status: PointStatus
    reason: str | None = None
    name: str | None = None
    energy: Stats | None = None
    seconds_per_query: float | None = None
    queries_per_s: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    peak_memory_mib: float | None = None
    repetitions: int = 0
    quality: QualityCheck | None = None

    @property
    def label(self) -> str:
        """The setting in words (and the transform's name)."""
        text = self.setting.describe()
        return f"{text} + {self.name}" if self.name else text

    @property
    def key(self) -> str:
        return f"{self.setting.key}+{self.name}" if self.name else self.setting.key

    @property
    def quality_ok(self) -> bool:
        """The canonical point, or a point whose outputs passed the guard."""
        return self.quality is None or self.quality.passed


@dataclass(frozen=True)
class SweepResult:
    """Every point of one model's sweep, in the order they were planned.

    Attributes:
        model: the model as given.
        task: the task.
        device: where it ran.
        hardware: the GPU's name, or the CPU's.
        energy: whether energy was measured.
        protocol: the measurement protocol in words.
        canonical: the canonical setting (the quality guard's reference).
        points: every point, measured or not.
        parameters: the model's parameter count.
    """

    model: str
    task: str
    device: str
    hardware: str
    energy: bool
    protocol: str
    canonical: Setting
    points: tuple[PointResult, ...]
    parameters: int


def run_sweep(
    model: str,
    task: str,
    options: AdviseOptions | None = None,
    *,
    transforms: Mapping[str, Transform] | None = None,
    on_point: Callable[[PointResult], None] | None = None,
    clock: Clock | None = None,
) -> SweepResult:
    """Sweep ``model``'s settings on ``task`` (see the module docstring for the plan).

    Args:
        model: a local folder or Hub repo id.
        task: the task.
        options: how to sweep.
        transforms: extra named variants, each a change to the loaded model made at the best
            setting found (a user's own idea of a saving; the quality guard judges it too).
        on_point: called with each point as it ends.
        clock: the meter's clock (tests inject one); the budget is counted on it too.

    Returns:
        The :class:`SweepResult`.

    Raises:
        UsageError, InputError, CannotMeasureError: as ``measure`` does, for the canonical
            setting (without it nothing can be compared). Later points that fail are recorded.
    """
    from energy_badge.meter import open_meter
    from energy_badge.workload import load_workload

    options = options or AdviseOptions()
    clock = clock or SystemClock()
    workload = load_workload(task).subset(min(options.queries, 1000))
    n_queries = len(workload.queries)
    meter = open_meter(options.meter, energy=options.energy, clock=clock)
    started = clock()
    device = options.device or (f"cuda:{options.meter.gpu_index}" if options.energy else None)
    state = _State(model, task, options, workload, device)
    points: list[PointResult] = []
    report = on_point or (lambda p: None)

    def add(point: PointResult) -> PointResult:
        points.append(point)
        report(point)
        return point

    def measure(setting: Setting, name: str | None = None, transform: Transform | None = None) -> PointResult:
        if any(p.setting == setting and p.name == name for p in points):
            return next(p for p in points if p.setting == setting and p.name == name)
        if reason := skip_reason(setting, state.device, task):
            return add(PointResult(setting, "skipped", reason, name))
        if points and options.budget_s is not None and clock() - started >= options.budget_s:
            return add(PointResult(setting, "not_run", "the time budget ran out", name))
        try:
            return add(state.measure(setting, meter, name, transform, first=not points))
        except EnergyBadgeError as exc:
            if not points:
                raise
            return add(PointResult(setting, "failed", str(exc).splitlines()[0][:300], name))

    try:
        grid = options.grid
        canonical = canonical_setting(task)
        base = measure(canonical)
        best = base
        # Batch sizes: explicit, or doubling until out of memory or no further gain.
        sizes = (
            [b for b in grid.batch_sizes if b != 1]
            if grid.batch_sizes
            else _doubling(grid.max_batch, n_queries)
        )
        for size in sizes:
            point = measure(replace(best.setting, batch_size=size))
            if point.status == "failed" and "out of memory" in (point.reason or ""):
                break
            gained = _better(point, best)
            if point.status == "measured" and point.quality_ok and gained:
                previous, best = best, point
                if not grid.batch_sizes and _metric(point) > _NO_GAIN * _metric(previous):
                    break  # a doubling that gains less than 5 %: no further gain
            elif not grid.batch_sizes and point.status == "measured":
                break
        anchor = best
        for dtype in grid.dtypes:
            best = _keep_best(best, measure(replace(anchor.setting, dtype=dtype)))
        anchor = best
        for quant in grid.quantizations:
            best = _keep_best(best, measure(replace(anchor.setting, quantization=quant)))
        anchor = best
        for attention in grid.attentions:
            best = _keep_best(best, measure(replace(anchor.setting, attention=attention)))
        anchor = best
        for flag in grid.compiles:
            best = _keep_best(best, measure(replace(anchor.setting, compile=flag)))
        for name, transform in (transforms or {}).items():
            measure(best.setting, name, transform)
        hardware = meter.hardware
    finally:
        meter.close()
        state.close()
    gpu = ", ".join(g.name for g in hardware.gpus)
    return SweepResult(
        model=model,
        task=task,
        device=state.device,
        hardware=gpu or f"{state.device} ({hardware.cpu_model or 'unknown CPU'})",
        energy=options.energy,
        protocol=options.protocol(),
        canonical=canonical,
        points=tuple(points),
        parameters=state.parameters,
    )


def _doubling(max_batch: int, queries: int) -> list[int]:
    sizes, size = [], 2
    while size <= min(max_batch, queries):
        sizes.append(size)
        size *= 2
    return sizes


def _metric(point: PointResult) -> float:
    """What the sweep minimises: energy per query, or seconds per query without energy."""
    if point.energy is not None:
        return point.energy.mean
    return point.seconds_per_query if point.seconds_per_query is not None else float("inf")


def _better(point: PointResult, best: PointResult) -> bool:
    return point.status == "measured" and _metric(point) < _metric(best)


def _keep_best(best: PointResult, point: PointResult) -> PointResult:
    return point if point.quality_ok and _better(point, best) else best


class _State:
    """Loaded models (one per load key) and the canonical outputs."""

    def __init__(
        self, model: str, task: str, options: AdviseOptions, workload: Any, device: str | None
    ) -> None:
        from energy_badge.run import resolve_device

        self.model, self.task, self.options, self.workload = model, task, options, workload
        self.device = resolve_device(device)
        self.runners: dict[tuple[str, str, str, bool], Any] = {}
        self.reference: list[dict[str, object]] | None = None
        self.parameters = 0

    def close(self) -> None:
        self.runners.clear()

    def runner(self, setting: Setting, transform: Transform | None) -> Any:
        key = setting.load_key()
        if transform is None and key in self.runners:
            return self.runners[key]
        from energy_badge.run import load_runner

        runner = load_runner(
            self.model,
            self.task,
            revision=self.options.revision,
            dtype=TORCH_DTYPES[setting.dtype],
            device=self.device,
            trust_remote_code=self.options.trust_remote_code,
            allow_pickle=self.options.allow_pickle,
            token=self.options.token,
            endpoint=self.options.endpoint,
            attn_implementation=setting.attention,
            quantization_config=_quantization(setting.quantization),
        )
        if setting.compile:
            import torch

            runner.model.forward = torch.compile(runner.model.forward)
        if transform is not None:
            transform(runner.model)
            return runner
        self.runners = {key: runner}  # keep one loaded model at a time: memory is the limit
        self.parameters = self.parameters or runner.info.parameters
        return runner

    def measure(
        self, setting: Setting, meter: Any, name: str | None, transform: Transform | None, *, first: bool
    ) -> PointResult:
        runner = self.runner(setting, transform)
        runner.batch_size = setting.batch_size
        runner.prepare(self.workload)
        n = len(self.workload.queries)
        with _tf32(setting.dtype == "tf32"), _peak_memory(self.device) as peak:
            phase = meter.measure(
                runner.run_pass,
                n,
                warmup=lambda: runner.run_warmup(self.options.meter.warmup_max_s),
                measure_idle=first,
            )
        outputs = runner.sample_outputs(min(self.options.quality_queries, n))
        quality = None
        if self.reference is None:
            self.reference = outputs
        else:
            quality = compare_outputs(self.task, self.reference, outputs)
        latencies = [lat * 1000.0 for p in phase.pass_results for lat in p.latencies_s]
        seconds, queries = phase.total_seconds, phase.total_queries
        if queries <= 0 or seconds <= 0:
            raise RuntimeFailure("the point ran no queries")
        return PointResult(
            setting=setting,
            status="measured",
            name=name,
            energy=phase.gpu_wh_per_1k,
            seconds_per_query=seconds / queries,
            queries_per_s=queries / seconds,
            latency_p50_ms=percentile(latencies, 50),
            latency_p95_ms=percentile(latencies, 95),
            peak_memory_mib=peak[0],
            repetitions=len(phase.repetitions),
            quality=quality,
        )


def _quantization(kind: str) -> Any:
    """transformers' ``TorchAoConfig`` for a weight-only quantization (None for ``none``)."""
    if kind == "none":
        return None
    from torchao.quantization import (  # type: ignore[import-untyped]
        Float8WeightOnlyConfig,
        Int4WeightOnlyConfig,
        Int8WeightOnlyConfig,
    )
    from transformers import TorchAoConfig

    configs = {"int8": Int8WeightOnlyConfig, "fp8": Float8WeightOnlyConfig, "int4": Int4WeightOnlyConfig}
    return TorchAoConfig(quant_type=configs[kind]())


@contextlib.contextmanager
def _tf32(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    import torch

    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


@contextlib.contextmanager
def _peak_memory(device: str) -> Iterator[list[float | None]]:
    box: list[float | None] = [None]
    if not device.startswith("cuda"):
        yield box
        return
    import torch

    torch.cuda.reset_peak_memory_stats(device)
    yield box
    box[0] = torch.cuda.max_memory_allocated(device) / 2**20
