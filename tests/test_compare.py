"""Tests of `energy-badge compare` and its library (energy_badge/compare.py), and of the Markdown
summaries (energy_badge/summary.py).

Nothing is simulated but the data: every result is SYNTHETIC (tests/results_factory.py, schema-valid,
``model.note`` says so) with chosen per-repetition energies, so each result's mean and 95 %
interval are known exactly, and each pair below sits where the test says relative to the rule:
improved, equal, within the noise, worse-but-allowed, regressed. The CLI runs in-process (click).
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path

import pytest
from cli_support import cli
from results_factory import make_result

from energy_badge.compare import Comparison, compare_results, parse_max_regression, pct, verdict_for
from energy_badge.errors import InputError, UsageError
from energy_badge.rating import rate
from energy_badge.result import EnergyResult, decode_result, encode_result, write_result
from energy_badge.summary import badge_image_url, comparison_markdown, md, result_markdown

TIGHT_08 = (0.79, 0.80, 0.81, 0.80, 0.80)  # mean 0.8, 95 % half-width 0.0088 (1.1 %)


def result(**kwargs) -> EnergyResult:
    return decode_result(make_result(**kwargs))


def scaled(samples, factor):
    return tuple(round(s * factor, 9) for s in samples)


def no_energy(data: dict, queries_per_s: float | None = None, device: str = "cpu") -> dict:
    """The same result as a `measure --no-energy` run writes it: no GPU energy, non-canonical."""
    data = copy.deepcopy(data)
    data["hardware"]["device"] = device
    data["canonical"] = False
    data["non_canonical_reasons"] = ["performance only (--no-energy): no energy measured"]
    data["energy"]["gpu"] = None
    data["measurement"]["meter"] = "none"
    data["measurement"]["energy_source"] = None
    data["measurement"]["stopped_because"] = "performance_only"
    for rep in data["measurement"]["repetitions"]:
        rep["gpu_energy_j"] = None
        if queries_per_s is not None:
            rep["seconds"] = rep["queries"] / queries_per_s
    return encode_result(decode_result(data))


def write(tmp_path: Path, name: str, data: dict) -> Path:
    return write_result(decode_result(data), tmp_path / name)


def expected_interval(base: EnergyResult, new: EnergyResult) -> tuple[float, float, float]:
    """The rule, computed here from the two intervals independently of the library."""
    b, n = base.gpu_energy, new.gpu_energy
    ratio = n.mean / b.mean
    h = math.sqrt((b.ci95_half_width / b.mean) ** 2 + (n.ci95_half_width / n.mean) ** 2)
    return ratio - 1, ratio * math.exp(-h) - 1, ratio * math.exp(h) - 1


# ------------------------------------------------------------------------------------------------
# The rule, on pairs with known intervals


@pytest.mark.parametrize(
    ("new_samples", "verdict"),
    [
        (scaled(TIGHT_08, 0.875), "improved"),  # -12.5 %, interval well below 0
        (TIGHT_08, "unchanged"),  # equal
        (scaled(TIGHT_08, 1.06), "worse"),  # +6 %: beyond the noise, not provably beyond 5 %
        (scaled(TIGHT_08, 1.125), "regressed"),  # +12.5 %: lower end +10.9 % > 5 %
    ],
)
def test_verdicts_follow_the_interval_of_the_ratio(new_samples, verdict):
    base = result(samples=TIGHT_08)
    new = result(samples=new_samples)
    comparison = compare_results(base, new, max_regression="5%")
    change, low, high = expected_interval(base, new)
    assert comparison.change == pytest.approx(change)
    assert (comparison.change_low, comparison.change_high) == pytest.approx((low, high))
    assert comparison.verdict == verdict
    assert comparison.regressed is (verdict == "regressed")
    if verdict == "worse":
        assert 0 < low <= 0.05 < change


def test_a_difference_inside_the_noise_is_not_a_regression():
    """+10 % on the means, but each result's interval is about ±31 %: unchanged, exit 0."""
    base = result(samples=(0.70, 0.90, 0.80))
    new = result(samples=(0.78, 0.98, 0.88))
    comparison = compare_results(base, new, max_regression=5)
    assert comparison.change == pytest.approx(0.10)
    assert comparison.change_low < 0 < comparison.change_high
    assert comparison.verdict == "unchanged" and not comparison.regressed
    assert "within the noise" in comparison.sentence()


def test_rule_boundaries_are_strict():
    # lower end exactly at the allowance is not (yet) a regression; just above is
    assert verdict_for(0.05, 0.2, 5.0, True) == "worse"
    assert verdict_for(0.0500001, 0.2, 5.0, True) == "regressed"
    assert verdict_for(0.0, 0.1, 5.0, True) == "unchanged"
    assert verdict_for(-0.1, -1e-9, 5.0, True) == "improved"
    # throughput: less is worse, so the upper end decides
    assert verdict_for(-0.3, -0.0500001, 5.0, False) == "regressed"
    assert verdict_for(-0.3, -0.05, 5.0, False) == "worse"
    assert verdict_for(0.01, 0.2, 5.0, False) == "improved"
    # a zero allowance fails on any significant worsening
    assert verdict_for(1e-6, 0.1, 0.0, True) == "regressed"


def test_single_repetition_counts_as_no_noise_and_says_so():
    base = result(samples=(0.8,))
    new = result(samples=(0.9,))
    comparison = compare_results(base, new)
    assert comparison.change_low == comparison.change_high == pytest.approx(0.125)
    assert comparison.regressed
    assert any("base has a single repetition" in note for note in comparison.notes)


@pytest.mark.parametrize(
    ("text", "value"), [("5%", 5.0), (" 2.5 % ", 2.5), ("0", 0.0), ("10", 10.0), (".5%", 0.5), (7, 7.0)]
)
def test_max_regression_parses_percentages(text, value):
    assert parse_max_regression(text) == value


@pytest.mark.parametrize("text", ["", "abc", "-5%", "5%%", "1e3", "2000%"])
def test_max_regression_rejects_nonsense(text):
    with pytest.raises(UsageError):
        parse_max_regression(text)


def test_comparison_round_trips_through_json():
    comparison = compare_results(result(samples=TIGHT_08), result(samples=scaled(TIGHT_08, 1.2)))
    data = json.loads(json.dumps(comparison.to_dict()))
    assert data["regressed"] is True and "lower end" in data["rule"]
    assert Comparison.from_dict(data) == comparison


def test_pct_formats_signed_percentages():
    assert pct(-0.0823) == "−8.2 %" and pct(0.125) == "+12.5 %" and pct(0.0) == "±0.0 %"


# ------------------------------------------------------------------------------------------------
# What may be compared


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"task": "question-answering"}, "the task differs"),
        ({"gpu_name": "NVIDIA A100-SXM4-80GB", "hardware_class": "A100"}, "the hardware class differs"),
    ],
)
def test_mismatched_results_are_refused_with_the_reason(tmp_path, changes, words):
    base = write(tmp_path, "base.json", make_result(samples=TIGHT_08))
    new = write(tmp_path, "new.json", make_result(samples=TIGHT_08, **changes))
    code, out, err = cli("compare", base, new)
    assert code == 4
    assert err.startswith("error: not comparable: ") and words in err
    assert len(err.strip().splitlines()) == 1


def test_different_workload_subsets_are_refused(tmp_path):
    data = make_result(samples=TIGHT_08)
    subset = make_result(samples=TIGHT_08, queries=50)  # each repetition's joules fit its 100 queries
    with pytest.raises(InputError, match="number of queries differs"):
        compare_results(decode_result(data), decode_result(subset))
    other_version = copy.deepcopy(data)
    other_version["workload"]["version"] = "2.0.0"
    other_version["canonical"] = False
    other_version["non_canonical_reasons"] = ["workload version 2.0.0 is not one this energy-badge ships"]
    with pytest.raises(InputError, match="workload version differs"):
        compare_results(decode_result(data), decode_result(other_version))


def test_no_energy_results_need_metric_throughput(tmp_path):
    """CPU smoke results (no GPU energy): refused for energy; compared on queries/s when asked."""
    cpu = {"gpu_name": None, "hardware_class": None}
    base = write(tmp_path, "base.json", no_energy(make_result(samples=TIGHT_08, **cpu), queries_per_s=100))
    slower = write(tmp_path, "slow.json", no_energy(make_result(samples=TIGHT_08, **cpu), queries_per_s=80))
    faster = write(tmp_path, "fast.json", no_energy(make_result(samples=TIGHT_08, **cpu), queries_per_s=120))

    code, _, err = cli("compare", base, slower)
    assert code == 4 and "no GPU energy" in err and "--metric throughput" in err

    code, out, err = cli("compare", base, slower, "--metric", "throughput")
    assert code == 1, out + err
    assert "throughput regressed: −20.0 %" in err
    assert "no GPU" in out and "not canonical" in out and "upper end" in out

    code, out, err = cli("compare", base, faster, "--metric", "throughput", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["verdict"] == "improved" and data["unit"] == "queries/s"
    assert data["base"]["mean"] == pytest.approx(100) and data["new"]["mean"] == pytest.approx(120)

    # throughput also needs the model to have run on the same kind of device
    gpu_run = write(tmp_path, "gpu.json", no_energy(make_result(samples=TIGHT_08, **cpu), device="cuda:0"))
    code, _, err = cli("compare", base, gpu_run, "--metric", "throughput")
    assert code == 4 and "device type differs" in err


# ------------------------------------------------------------------------------------------------
# The command


def test_cli_table_improved_equal_regressed(tmp_path):
    base = write(tmp_path, "base.json", make_result(samples=TIGHT_08))
    better = write(tmp_path, "better.json", make_result(samples=scaled(TIGHT_08, 0.875)))
    worse = write(tmp_path, "worse.json", make_result(samples=scaled(TIGHT_08, 1.125)))

    code, out, err = cli("compare", base, better)
    assert code == 0, err
    assert "verdict: improved" in out and "−12.5 %" in out and "lower end" in out

    code, out, err = cli("compare", base, base)
    assert code == 0, err
    assert "verdict: unchanged" in out and "±0.0 %" in out

    code, out, err = cli("compare", base, worse)
    assert code == 1
    assert "verdict: regressed" in out
    assert err == (
        "error: GPU energy regressed: +12.5 % (95 % CI +10.8 % to +14.3 %), worse than the baseline by "
        "more than the allowed 5 %\n"
    )
    # a larger allowance lets the same pair through
    code, out, _ = cli("compare", base, worse, "--max-regression", "15%")
    assert code == 0 and "verdict: worse" in out


def test_cli_says_when_inputs_are_not_canonical(tmp_path):
    base = write(tmp_path, "base.json", make_result(samples=TIGHT_08))
    smoke = write(
        tmp_path,
        "smoke.json",
        make_result(samples=TIGHT_08, dtype="float16"),
    )
    code, out, err = cli("compare", base, smoke, "--format", "markdown")
    assert code == 0, err
    assert (
        "new is not canonical (\\-\\-dtype float16 instead of the canonical float32)" not in out
    )  # unescaped
    note = "new is not canonical (--dtype float16 instead of the canonical float32): compared like with like"
    assert f"- note: {note}" in out


def test_cli_bad_options_exit_2_and_bad_files_exit_4(tmp_path):
    base = write(tmp_path, "base.json", make_result(samples=TIGHT_08))
    code, _, err = cli("compare", base, base, "--max-regression", "lots")
    assert code == 2 and "--max-regression" in err
    code, _, err = cli("compare", base, base, "--metric", "joy")
    assert code == 2
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    code, _, err = cli("compare", base, tmp_path / "broken.json")
    assert code == 4 and "not JSON" in err


def test_compare_is_listed_in_help():
    code, out, _ = cli("--help")
    assert code == 0 and "compare" in out and "regression" in out


# ------------------------------------------------------------------------------------------------
# Markdown


def test_result_markdown_has_badge_figures_and_rating():
    res = result(samples=TIGHT_08)
    text = result_markdown(res, rate(res))
    assert text.startswith("### AI energy: alice/tiny-classifier · text-classification\n")
    assert (
        "![AI energy: ★☆☆☆☆ 0.80 Wh per 1000 texts classified](https://img.shields.io/badge/AI%20energy-"
        in text
    )
    assert "| GPU energy | **0.8 Wh per 1000 texts classified** (95 % CI 0.7912 to 0.8088, n = 5) |" in text
    assert "| rating | ★☆☆☆☆ (1 of 5); rating table 0.3.0-provisional, provisional |" in text
    assert "| canonical | yes |" in text
    assert text.endswith("|\n")
    # without a rating: no badge, no rating row
    bare = result_markdown(res)
    assert "![" not in bare and "| rating |" not in bare


def test_badge_image_url_escapes_shields_separators():
    res = result(samples=TIGHT_08)
    url = badge_image_url(rate(res))
    label, message, color = url.removeprefix("https://img.shields.io/badge/").split("-")
    assert label == "AI%20energy" and color == "red"
    assert message.startswith("%E2%98%85")  # ★


def test_markdown_escapes_what_comes_from_the_file():
    res = result(samples=TIGHT_08, model_id="evil|<img src=x onerror=alert(1)>*[x](y)", source="local")
    text = result_markdown(res, rate(res))
    assert re.search(r"(?<!\\)[<>|*\[\]]", text.split("\n")[0].removeprefix("### ")) is None
    assert "\\<img" in text
    assert "evil\\|" in text and "\\*\\[x\\](y)" in text
    assert md("a\nb\r\nc") == "a b c"


def test_comparison_markdown_table():
    comparison = compare_results(result(samples=TIGHT_08), result(samples=scaled(TIGHT_08, 1.125)))
    text = comparison_markdown(comparison, base_name="Hub main", new_name="new.json")
    assert text.startswith("### ❌ GPU energy vs baseline: regressed\n")
    assert "| | base (Hub main) | new (new.json) |" in text
    assert "| change | | **+12.5 %** (95 % CI +10.8 % to +14.3 %) |" in text
    assert "Rule: regression if the lower end" in text


# ------------------------------------------------------------------------------------------------
# Throughput: one definition (issue 13, also found)

# Repetitions of whole passes until a minimum window, so they differ in length (as the meter makes them).
UNEVEN = [(2, 1000 * 2, 10.0), (3, 1000 * 3, 12.0), (2, 1000 * 2, 9.0), (4, 1000 * 4, 20.0)]


def uneven(reps=UNEVEN) -> EnergyResult:
    """A --no-energy result whose repetitions differ in passes and speed; its stored
    ``performance.queries_per_s`` is what `measure` computes: all queries over all seconds."""
    data = no_energy(make_result(samples=(0.8,) * len(reps), gpu_name=None, hardware_class=None))
    for rep, (passes, queries, seconds) in zip(data["measurement"]["repetitions"], reps, strict=True):
        rep.update(passes=passes, queries=queries, seconds=seconds)
    total_q = sum(q for _, q, _ in reps)
    total_s = sum(s for _, _, s in reps)
    data["performance"]["queries_per_s"] = total_q / total_s
    return decode_result(data)


def test_throughput_is_one_figure_in_measure_compare_and_the_result(capsys):
    """`measure` printed Σq/Σs while `compare` averaged each repetition's q/s (here 215.69 and 218.06)."""
    from energy_badge.cli.measure import print_summary
    from energy_badge.throughput import throughput

    result = uneven()
    assert result.performance.queries_per_s == pytest.approx(11000 / 51)  # 215.69, the result's own figure
    assert throughput(result).value == pytest.approx(11000 / 51)
    comparison = compare_results(result, result, metric="throughput")
    assert comparison.base.mean == pytest.approx(11000 / 51) and comparison.new.mean == comparison.base.mean
    print_summary(result)
    out = capsys.readouterr().out
    assert "215.69 queries/s" in out
    low, high = throughput(result).ci95_low, throughput(result).ci95_high
    assert f"95% CI {low:.2f} – {high:.2f}, n=4" in out


def test_throughput_interval_is_the_ratio_estimators():
    """Computed here from the repetitions with scipy's t quantile (results_factory's reference)."""
    from results_factory import _T975_REFERENCE

    from energy_badge.throughput import throughput

    figure = throughput(uneven())
    q = [q for _, q, _ in UNEVEN]
    s = [s for _, _, s in UNEVEN]
    n = len(q)
    r = sum(q) / sum(s)
    se = math.sqrt(sum((qi - r * si) ** 2 for qi, si in zip(q, s, strict=True)) / (n - 1)) / (
        math.sqrt(n) * sum(s) / n
    )
    half = _T975_REFERENCE[n - 2] * se
    assert figure.n == n and figure.value == pytest.approx(r)
    assert figure.ci95_low == pytest.approx(r - half, rel=1e-4)
    assert figure.ci95_high == pytest.approx(r + half, rel=1e-4)
    # equal speeds: no spread, so a zero-width interval; a single repetition: no interval at all
    steady = throughput(uneven(reps=[(2, 2000, 10.0), (3, 3000, 15.0)]))
    assert steady.value == pytest.approx(200) and steady.ci95_low == pytest.approx(200) == steady.ci95_high
    single = throughput(uneven(reps=[(2, 2000, 10.0)]))
    assert single.value == pytest.approx(200) and single.ci95_low is None and single.n == 1


def test_compare_throughput_uses_the_interval_of_that_figure():
    """The comparison's relative half-width is the throughput interval's, not a mean of rates'."""
    from energy_badge.throughput import throughput

    base, new = uneven(), uneven(reps=[(p, q, sec * 1.25) for p, q, sec in UNEVEN])  # 20 % slower
    comparison = compare_results(base, new, metric="throughput", max_regression=5)
    b, n = throughput(base), throughput(new)
    assert comparison.ratio == pytest.approx(n.value / b.value) == pytest.approx(0.8)
    h = math.hypot(
        (b.ci95_high - b.ci95_low) / 2 / b.value,
        (n.ci95_high - n.ci95_low) / 2 / n.value,
    )
    assert comparison.change_low == pytest.approx(0.8 * math.exp(-h) - 1)
    assert comparison.change_high == pytest.approx(0.8 * math.exp(h) - 1)
