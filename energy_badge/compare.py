"""Compare two results: did the new one get worse than the baseline by more than the noise allows?

:func:`compare_results` takes a baseline result and a new one of the same task, workload and
hardware, and returns a :class:`Comparison`: the relative change of the metric with a 95 % interval
that accounts for the noise of *both* measurements, and a verdict.

**The regression rule.** Let ``B`` and ``N`` be the baseline's and the new result's means (GPU
energy in Wh per 1000 queries, or queries/s), and ``b`` and ``n`` their 95 % interval half-widths
relative to the mean (half-width / mean; the intervals every result carries, Student's t over the
repetitions). The relative change is ``d = N/B - 1``, and its 95 % interval is::

    [ (N/B) * exp(-h) - 1 ,  (N/B) * exp(+h) - 1 ]      with  h = sqrt(b² + n²)

that is, the interval of ``ln(N/B)`` is ``ln(N/B) ± h``: each relative half-width is the
half-width of its result's ``ln`` (first order), and the two are combined in quadrature as
independent errors, the way :func:`energy_badge.stats.difference` combines intervals. On the log
scale the interval stays above -100 % however noisy the runs; for the few repetitions a result
has it is a little wider than a Welch interval, so it errs on the side of "within the noise". With
the allowance ``m`` (``--max-regression``, default 5 %):

==============  ====================================  ======================================
verdict         energy (more is worse)                throughput (less is worse)
==============  ====================================  ======================================
``regressed``   lower end of ``d``'s interval > +m    upper end of ``d``'s interval < -m
``worse``       0 < lower end <= m                    -m <= upper end < 0
``improved``    upper end < 0                         lower end > 0
``unchanged``   the interval contains 0               the interval contains 0
==============  ====================================  ======================================

So a result is a regression only when, with 95 % confidence, it is worse than the baseline by
more than ``m``: a difference inside the noise never fails a build. ``worse`` (worse beyond the
noise, but not provably by more than ``m``) passes. A result with a single repetition has no
interval: its half-width is counted as 0 and :attr:`Comparison.notes` says so.

**Metrics.** ``energy`` (the default) compares GPU energy and needs it in both results.
``throughput`` compares queries/s as :func:`throughput` defines it (the one definition, also
printed by ``measure`` and stored as the result's ``performance.queries_per_s``: all the measured
repetitions' queries over all their seconds, with a 95 % interval); it is how a CPU-only smoke run
(``measure --no-energy``) is compared, and it must be asked for: a result without GPU energy is
never silently compared on something else.

**What must match** (else :class:`~energy_badge.errors.InputError`, exit code 4, saying why):
the task, the workload (name, version, number of queries, batch size, and so the sha256 of the
exact inputs) and the hardware class (the GPU model; ``no GPU`` for CPU-only results; for
``throughput`` also the device type the model ran on). Non-canonical results are compared (a pull
request smoke check compares like with like), and :attr:`Comparison.notes` says they are not
canonical; so do different models, dtypes, CPUs or tool versions, which are allowed.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from energy_badge.errors import InputError, UsageError
from energy_badge.result import EnergyResult
from energy_badge.text import format_value, pct
from energy_badge.throughput import Throughput, throughput

METRICS = ("energy", "throughput")
DEFAULT_MAX_REGRESSION = 5.0  # percent
ENERGY_UNIT = "Wh per 1000 queries"
THROUGHPUT_UNIT = "queries/s"
NO_GPU = "no GPU"
HALF_WIDTHS_TEXT = "√(b² + n²), b and n the two results' 95 % half-widths over their means"

Verdict = Literal["improved", "unchanged", "worse", "regressed"]
VERDICTS: tuple[str, ...] = ("improved", "unchanged", "worse", "regressed")

_PERCENT = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(%?)\s*")


def parse_max_regression(text: str | float | int) -> float:
    """Parse an allowance such as ``"5%"``, ``"5 %"``, ``"2.5"`` or ``5`` into percent.

    Raises:
        UsageError: not a number, negative, or above 1000 %.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _PERCENT.fullmatch(str(text))
        if match is None:
            raise UsageError(f"max regression {text!r} is not a percentage such as 5% or 2.5")
        value = float(match.group(1))
    if not math.isfinite(value) or value < 0 or value > 1000:
        raise UsageError(f"max regression must be between 0% and 1000%, not {text!r}")
    return value


@dataclass(frozen=True)
class Side:
    """One of the two results being compared, reduced to what the comparison uses.

    Attributes:
        label: ``"base"`` or ``"new"`` (or a file name).
        model_id: the measured model.
        mean: the metric's mean over the repetitions.
        ci95_low, ci95_high: its 95 % interval (None with a single repetition).
        n: repetitions.
        canonical: whether the result is canonical.
        non_canonical_reasons: why not.
        created_at: when it was measured.
        hardware: the GPU (or CPU) it ran on, for display.
    """

    label: str
    model_id: str
    mean: float
    ci95_low: float | None
    ci95_high: float | None
    n: int
    canonical: bool
    non_canonical_reasons: tuple[str, ...]
    created_at: str
    hardware: str

    @property
    def relative_half_width(self) -> float | None:
        """The interval's half-width over the mean (None without an interval)."""
        from energy_badge.multiplier import relative_half_width

        return relative_half_width(self.mean, self.ci95_low, self.ci95_high)


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare_results`.

    Attributes:
        metric: ``"energy"`` or ``"throughput"``.
        unit: ``"Wh per 1000 queries"`` or ``"queries/s"``.
        higher_is_worse: True for energy, False for throughput.
        task: the task both results ran.
        workload: ``<name>@<version>``, with the number of queries.
        hardware_class: the hardware class both ran on (``"no GPU"`` for CPU-only results).
        base, new: the two sides.
        ratio: new mean / base mean.
        change: ``ratio - 1`` (e.g. -0.08 is 8 % less).
        change_low, change_high: the 95 % interval of ``change`` (see the module's rule).
        max_regression: the allowance, in percent.
        verdict: ``improved``, ``unchanged``, ``worse`` or ``regressed``.
        notes: things the reader must know (non-canonical inputs, unknown noise, different models).
    """

    metric: str
    unit: str
    higher_is_worse: bool
    task: str
    workload: str
    hardware_class: str
    base: Side
    new: Side
    ratio: float
    change: float
    change_low: float
    change_high: float
    max_regression: float
    verdict: Verdict
    notes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        """True when the verdict is ``regressed`` (a build should fail)."""
        return self.verdict == "regressed"

    def to_dict(self) -> dict[str, object]:
        """The JSON form (``--format json``); :meth:`from_dict` reads it back."""
        data = asdict(self)
        data["regressed"] = self.regressed
        data["rule"] = rule_text(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        """Rebuild a comparison from :meth:`to_dict`'s form."""
        fields = {k: v for k, v in data.items() if k not in ("regressed", "rule")}
        for side in ("base", "new"):
            values = dict(fields[side])
            values["non_canonical_reasons"] = tuple(values["non_canonical_reasons"])
            fields[side] = Side(**values)
        return cls(**fields)

    def sentence(self) -> str:
        """One line: ``energy regressed: +12.0 % (95 % CI +8.1 % to +15.9 %), more than the allowed 5 %``."""
        what = "GPU energy" if self.metric == "energy" else "throughput"
        change = f"{pct(self.change)} (95 % CI {pct(self.change_low)} to {pct(self.change_high)})"
        allowed = f"{self.max_regression:g} %"
        if self.verdict == "regressed":
            return f"{what} regressed: {change}, worse than the baseline by more than the allowed {allowed}"
        if self.verdict == "worse":
            return f"{what} is worse: {change}, beyond the noise but not provably by more than {allowed}"
        if self.verdict == "improved":
            return f"{what} improved: {change}"
        return f"{what} unchanged: {change}, within the noise of the two measurements"


def rule_text(comparison: Comparison) -> str:
    """The rule the verdict applied, in words (shown with every comparison)."""
    m = f"{comparison.max_regression:g} %"
    if comparison.higher_is_worse:
        return (
            f"regression if the lower end of the 95 % interval of new/base − 1 exceeds +{m}; "
            f"that interval is (new/base)·exp(±h) − 1, h = {HALF_WIDTHS_TEXT}"
        )
    return (
        f"regression if the upper end of the 95 % interval of new/base − 1 is below −{m}; "
        f"that interval is (new/base)·exp(±h) − 1, h = {HALF_WIDTHS_TEXT}"
    )


def _hardware_key(result: EnergyResult) -> str:
    if result.hardware_class:
        return result.hardware_class
    return result.gpu_name or NO_GPU


def _hardware_display(result: EnergyResult) -> str:
    if result.gpu_name:
        return result.gpu_name
    return f"{result.hardware.device} ({result.hardware.cpu.model or 'unknown CPU'})"


def _device_type(result: EnergyResult) -> str:
    return result.hardware.device.split(":", 1)[0]


def check_comparable(base: EnergyResult, new: EnergyResult, metric: str = "energy") -> None:
    """Raise :class:`InputError` saying why two results cannot be compared; return when they can.

    They must share the task, the workload (name, version, queries, batch size, input sha256) and
    the hardware class; for ``throughput`` also the device type the model ran on (cpu, cuda).
    """
    checks: list[tuple[str, object, object]] = [
        ("task", base.task, new.task),
        ("workload", base.workload_name, new.workload_name),
        ("workload version", base.workload_version, new.workload_version),
        ("number of queries", base.workload.queries, new.workload.queries),
        ("batch size", base.workload.batch_size, new.workload.batch_size),
        ("workload inputs (sha256)", base.workload.sha256, new.workload.sha256),
        ("hardware class", _hardware_key(base), _hardware_key(new)),
    ]
    if metric == "throughput":
        checks.append(("device type", _device_type(base), _device_type(new)))
    for what, a, b in checks:
        if a != b:
            raise InputError(
                f"not comparable: the {what} differs (base: {a}, new: {b}); compare results of the same "
                "task, workload and hardware"
            )


def _metric(result: EnergyResult, metric: str, label: str) -> Throughput:
    """The metric's value, interval and repetitions (energy in the same shape as throughput)."""
    if metric == "energy":
        stats = result.gpu_energy
        if stats is None:
            raise InputError(
                f"the {label} result has no GPU energy (measured with --no-energy?): compare "
                "performance instead with --metric throughput"
            )
        return Throughput(value=stats.mean, ci95_low=stats.ci95_low, ci95_high=stats.ci95_high, n=stats.n)
    try:
        return throughput(result)
    except InputError:
        raise InputError(
            f"the {label} result's repetitions add up to no time: it has no throughput"
        ) from None


def _side(result: EnergyResult, figure: Throughput, label: str) -> Side:
    return Side(
        label=label,
        model_id=result.model_id,
        mean=figure.value,
        ci95_low=figure.ci95_low,
        ci95_high=figure.ci95_high,
        n=figure.n,
        canonical=result.canonical,
        non_canonical_reasons=result.non_canonical_reasons,
        created_at=result.created_at,
        hardware=_hardware_display(result),
    )


def verdict_for(
    change_low: float, change_high: float, max_regression: float, higher_is_worse: bool
) -> Verdict:
    """Apply the regression rule (see the module docstring) to ``d``'s interval.

    Args:
        change_low, change_high: the 95 % interval of ``new/base - 1``.
        max_regression: the allowance in percent.
        higher_is_worse: True for energy, False for throughput.
    """
    m = max_regression / 100.0
    # Express the interval as "how much worse": positive is worse for either metric.
    worse_low, worse_high = (change_low, change_high) if higher_is_worse else (-change_high, -change_low)
    if worse_low > m:
        return "regressed"
    if worse_low > 0:
        return "worse"
    if worse_high < 0:
        return "improved"
    return "unchanged"


def compare_results(
    base: EnergyResult,
    new: EnergyResult,
    *,
    max_regression: float | str = DEFAULT_MAX_REGRESSION,
    metric: str = "energy",
    base_label: str = "base",
    new_label: str = "new",
) -> Comparison:
    """Compare a new result with a baseline (see the module docstring for the rule).

    Args:
        base: the baseline result.
        new: the new result.
        max_regression: the allowance in percent (``5``, or a string such as ``"5%"``).
        metric: ``"energy"`` (GPU Wh per 1000 queries) or ``"throughput"`` (queries/s).
        base_label, new_label: how to call the two sides in the output.

    Returns:
        The :class:`Comparison`.

    Raises:
        InputError: the results are not comparable, or lack the metric (exit code 4).
        UsageError: an unknown metric or a bad allowance (exit code 2).
    """
    if metric not in METRICS:
        raise UsageError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    allowance = parse_max_regression(max_regression)
    check_comparable(base, new, metric)
    base_stats = _metric(base, metric, "base")
    new_stats = _metric(new, metric, "new")
    if base_stats.value <= 0 or new_stats.value <= 0:
        raise InputError("cannot compare: a mean of zero or less has no relative change")
    base_side = _side(base, base_stats, base_label)
    new_side = _side(new, new_stats, new_label)

    notes: list[str] = []
    for side in (base_side, new_side):
        if not side.canonical:
            reasons = "; ".join(side.non_canonical_reasons) or "no reason recorded"
            notes.append(f"{side.label} is not canonical ({reasons}): compared like with like only")
    half_widths = []
    for side in (base_side, new_side):
        h = side.relative_half_width
        if h is None:
            notes.append(f"{side.label} has a single repetition: its noise is unknown and counted as zero")
            h = 0.0
        half_widths.append(h)
    if base.model_id != new.model_id:
        notes.append(f"different models: {base.model_id} (base) and {new.model_id} (new)")
    base_dtype, new_dtype = base.model.dtype, new.model.dtype
    if base_dtype != new_dtype:
        notes.append(f"dtype changed: {base_dtype} (base), {new_dtype} (new)")
    if note := _reasoning_note(base, new):
        notes.append(note)
    if base_side.hardware != new_side.hardware:
        notes.append(f"different machines: {base_side.hardware} (base), {new_side.hardware} (new)")
    if base.tool_version != new.tool_version:
        notes.append(f"different energy-badge versions: {base.tool_version} (base), {new.tool_version} (new)")

    from energy_badge.multiplier import ratio_bounds

    ratio = new_side.mean / base_side.mean
    change = ratio - 1.0
    ratio_low, ratio_high = ratio_bounds(ratio, tuple(half_widths))
    change_low, change_high = ratio_low - 1.0, ratio_high - 1.0
    higher_is_worse = metric == "energy"
    verdict = verdict_for(change_low, change_high, allowance, higher_is_worse)
    workload = f"{base.workload_name.rsplit('/', 1)[-1]}@{base.workload_version}"
    return Comparison(
        metric=metric,
        unit=ENERGY_UNIT if metric == "energy" else THROUGHPUT_UNIT,
        higher_is_worse=higher_is_worse,
        task=base.task,
        workload=f"{workload} ({base.workload.queries} queries)",
        hardware_class=_hardware_key(base),
        base=base_side,
        new=new_side,
        ratio=ratio,
        change=change,
        change_low=change_low,
        change_high=change_high,
        max_regression=allowance,
        verdict=verdict,
        notes=notes,
    )


def _reasoning_note(base: EnergyResult, new: EnergyResult) -> str | None:
    """When one side reasoned and the other did not: both modes and the multiplier."""
    from energy_badge.multiplier import energy_multiplier
    from energy_badge.run.reasoning import is_reasoning
    from energy_badge.text import reasoning_multiplier, reasoning_text

    a, b = base.workload.reasoning, new.workload.reasoning
    if a is None or b is None or is_reasoning(a) == is_reasoning(b):
        return None
    on, off = (base, new) if is_reasoning(a) else (new, base)
    text = f"{reasoning_text(a)} (base), {reasoning_text(b)} (new)"
    if (multiplier := energy_multiplier(off, on)) is not None:
        text += f"; {reasoning_multiplier(multiplier)}"
    return text


def side_text(side: Side) -> str:
    """``0.8 (95 % CI 0.79 to 0.81, n=5)``."""
    if side.ci95_low is None or side.ci95_high is None:
        return f"{format_value(side.mean)} (n={side.n}, no interval)"
    interval = f"{format_value(side.ci95_low)} to {format_value(side.ci95_high)}"
    return f"{format_value(side.mean)} (95 % CI {interval}, n={side.n})"
