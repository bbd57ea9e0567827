"""Rating tables, stars, calibration, and the ``rate`` / ``calibrate`` commands.

Every result here is a real :class:`~energy_badge.result.EnergyResult`, built by
``tests/results_factory.py`` from synthetic repetitions (schema-valid, its ``canonical`` flag derived
by the policy); tables are real :class:`~energy_badge.rating.RatingTable` objects decoded from their
JSON form. The CLI tests write real result files and run the real commands.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from results_factory import make_energy_result, make_result, samples_for, write_result_file

import energy_badge.rating.codec as tables_mod
from energy_badge import rating as rating_mod
from energy_badge.errors import EXIT_INPUT, EXIT_USAGE, InputError, InvalidFileError, UsageError
from energy_badge.rating import (
    MIN_POPULATION,
    Population,
    Provenance,
    RatingTable,
    TableEntry,
    calibrate,
    compose_tables,
    cut_points,
    decode_table,
    encode_table,
    find_entry,
    load_table,
    position,
    rate,
    shipped_tables,
    stars_for,
    table_errors,
    write_table,
)
from energy_badge.result import EnergyResult
from energy_badge.workload import TASKS, canonical_spec

TEXT_TASKS = (
    "text-classification",
    "sentence-similarity",
    "question-answering",
    "summarization",
    "text-generation",
)
GPU_NAMES = {"H100": "NVIDIA H100 80GB HBM3", "A100": "NVIDIA A100-SXM4-80GB", "T4": "Tesla T4"}


def one_run(value: float, **knobs) -> EnergyResult:
    """A canonical result of a single repetition of ``value`` Wh per 1000 queries (no interval):
    its mean is exactly ``value``, for tests at a cut point."""
    res = make_energy_result(samples=(value,), **knobs)
    assert res.gpu_energy is not None and res.gpu_energy.mean == value
    return res


def result(value: float, rel: float = 0.05, n: int = 5, **knobs) -> EnergyResult:
    """A result of ``n`` repetitions with mean ``value`` and a 95 % interval of ``value * (1 ± rel)``."""
    return make_energy_result(samples=samples_for(value, value * rel, n), **knobs)


def table_json(cuts=(1.0, 2.0, 3.0, 4.0), low=0.5, high=8.0, method="log", **entry) -> dict:
    """The JSON form of a one-entry test table (text classification on H100)."""
    return {
        "schema_version": "1.0",
        "table_version": "9.9.9-test",
        "created": "2026-11-21",
        "status": "provisional",
        "source": "made up for the tests, no real measurement behind it",
        "method": method,
        "unit": "Wh per 1000 queries",
        "entries": [
            {
                "task": "text-classification",
                "hardware_class": "H100",
                "cut_points": list(cuts),
                "population": {"n": 0, "min": low, "max": high},
                **entry,
            }
        ],
    }


def table_with(cuts=(1.0, 2.0, 3.0, 4.0), low=0.5, high=8.0, method="log", **entry) -> RatingTable:
    return decode_table(table_json(cuts, low, high, method, **entry))


# --------------------------------------------------------------------------------------------
# Stars at every boundary


@pytest.mark.parametrize(
    ("value", "stars"),
    [(0.01, 5), (0.999, 5), (1.0, 4), (1.5, 4), (2.0, 3), (2.999, 3), (3.0, 2), (4.0, 1), (1e6, 1)],
)
def test_stars_for_boundaries(value, stars):
    assert stars_for(value, (1.0, 2.0, 3.0, 4.0)) == stars


@pytest.mark.parametrize("k", range(4))
def test_cut_point_belongs_to_the_band_above_it(k):
    cuts = (0.502, 1.26, 3.17, 7.96)
    below = math.nextafter(cuts[k], 0)
    assert stars_for(below, cuts) == 5 - k
    assert stars_for(cuts[k], cuts) == 4 - k


def test_rate_at_every_boundary_reports_band_edges_and_position():
    table = table_with()
    cases = {
        0.5: (5, None, 1.0),
        1.0: (4, 1.0, 2.0),
        2.0: (3, 2.0, 3.0),
        3.0: (2, 3.0, 4.0),
        4.0: (1, 4.0, None),
    }
    for value, (stars, low, high) in cases.items():
        r = rate(one_run(value), table)
        assert (r.stars, r.band_low, r.band_high) == (stars, low, high), value
        assert r.unrated_reason is None and r.rated
        assert r.cut_points == (1.0, 2.0, 3.0, 4.0)
    # position: 0 at the population min, k/5 at the k-th cut point, 1 at the max
    assert rate(one_run(0.5), table).position == pytest.approx(0.0)
    for k, cut in enumerate((1.0, 2.0, 3.0, 4.0), start=1):
        assert rate(one_run(cut), table).position == pytest.approx(k / 5)
    assert rate(one_run(8.0), table).position == pytest.approx(1.0)
    assert rate(one_run(16.0), table).position > 1.0
    assert rate(one_run(0.25), table).position < 0.0


def test_position_is_log_fraction_for_log_table_and_linear_for_linear():
    entry = TableEntry("text-classification", "H100", (10, 100, 1000, 10000), Population(0, 1, 100000))
    assert position(math.sqrt(10), entry, "log") == pytest.approx(0.1)
    lin = TableEntry("text-classification", "H100", (2, 4, 6, 8), Population(0, 0.0001, 10))
    assert position(5.0, lin, "linear") == pytest.approx(0.5, abs=1e-4)


def test_stars_ci_shows_when_the_interval_crosses_a_cut():
    table = table_with()
    wide = make_energy_result(samples=samples_for(2.05, 0.15, 3))  # interval 1.9 - 2.2 crosses 2.0
    assert (wide.gpu_energy.ci95_low, wide.gpu_energy.ci95_high) == pytest.approx((1.9, 2.2), rel=1e-3)
    r = rate(wide, table)
    assert r.stars == 3 and r.stars_ci == (3, 4)
    assert (r.ci95_low, r.ci95_high) == (wide.gpu_energy.ci95_low, wide.gpu_energy.ci95_high)
    assert rate(result(2.5), table).stars_ci == (3, 3)
    r = rate(one_run(2.5), table)  # one repetition: no interval
    assert r.stars == 3 and r.stars_ci is None and r.ci95_low is None and r.ci95_high is None


@given(st.floats(min_value=1e-3, max_value=1e3), st.floats(min_value=1e-3, max_value=1e3))
def test_more_energy_never_earns_more_stars(a, b):
    table = table_with()
    ratings = sorted((rate(make_energy_result(samples=(v,)), table) for v in (a, b)), key=lambda r: r.value)
    r_lo, r_hi = ratings
    assert r_lo.stars >= r_hi.stars
    assert r_lo.position <= r_hi.position + 1e-12


def test_rating_to_dict_is_json():
    d = rate(result(1.5), table_with()).to_dict()
    back = json.loads(json.dumps(d))
    assert back["stars"] == 4 and back["cut_points"] == [1.0, 2.0, 3.0, 4.0]
    assert back["unit"] == "Wh per 1000 queries" and back["table_version"] == "9.9.9-test"
    assert back["stars_ci"] == [4, 4]


# --------------------------------------------------------------------------------------------
# Unrated: never guessed


def test_unknown_hardware_is_unrated_with_reason():
    r = rate(one_run(1.0, hardware_class="T4", gpu_name="Tesla T4"), table_with())
    assert r.stars is None and not r.rated
    assert "T4" in r.unrated_reason and "H100" in r.unrated_reason
    assert r.value == 1.0 and r.cut_points is None and r.position is None


def test_task_the_table_lacks_is_unrated_with_reason():
    # The result schema allows only the five text tasks; the table here covers one of them.
    r = rate(result(1.0, task="summarization"), table_with())
    assert r.stars is None and r.task == "summarization"
    assert r.unrated_reason == (
        "rating table 9.9.9-test has no entry for task summarization (it covers: text-classification)"
    )


def test_gpu_without_hardware_class_is_unrated():
    r = rate(result(1.0, hardware_class=None, gpu_name="NVIDIA GeForce RTX 4090"), table_with())
    assert r.stars is None and "RTX 4090" in r.unrated_reason


@pytest.mark.parametrize(
    ("knobs", "reason"),
    [
        ({"batch_size": 8}, "--batch-size 8 instead of the canonical 1"),
        ({"queries": 50}, "--queries 50: a subset of the 1000 canonical queries"),
        ({"dtype": "float16"}, "--dtype float16 instead of the canonical float32"),
        ({"random_weights": True}, "random weights (--random-weights)"),
    ],
    ids=["batch-size", "queries", "dtype", "random-weights"],
)
def test_non_canonical_is_never_rated_even_when_energy_is_tiny(knobs, reason):
    res = result(0.01, **knobs)
    assert not res.canonical
    r = rate(res, table_with())
    assert r.stars is None and r.value == pytest.approx(0.01)
    assert "not from the canonical workload" in r.unrated_reason and reason in r.unrated_reason


def test_unmeasured_energy_is_unrated():
    # A performance-only run (--no-energy) is not canonical: unrated with the policy's reason.
    res = make_energy_result(energy=False)
    assert res.gpu_energy is None and not res.canonical
    r = rate(res, table_with())
    assert r.stars is None and r.value is None and r.ci95_low is None
    assert "not from the canonical workload" in r.unrated_reason
    assert "performance only (--no-energy): no energy measured" in r.unrated_reason


def test_workload_pinned_entry_only_rates_its_version():
    res = result(1.5)
    assert res.workload_version == "1.0.0"  # the workload energy-badge ships
    assert rate(res, table_with(workload_version="1.0.0")).stars == 4
    r = rate(res, table_with(workload_version="2.0.0"))
    assert r.stars is None
    assert r.unrated_reason == (
        "rating table 9.9.9-test has no entry for text-classification on H100 with workload version 1.0.0"
    )


def test_find_entry_prefers_the_pinned_entry():
    data = table_json()
    data["entries"].append(data["entries"][0] | {"workload_version": "2.0.0", "cut_points": [5, 6, 7, 7.5]})
    table = decode_table(data)
    assert find_entry(table, "text-classification", "H100", "2.0.0").cut_points == (5, 6, 7, 7.5)
    assert find_entry(table, "text-classification", "H100", "1.0.0").cut_points == (1.0, 2.0, 3.0, 4.0)
    # pinned to the shipped version, the pinned entry rates the shipped workload's results
    data["entries"][1]["workload_version"] = "1.0.0"
    pinned = decode_table(data)
    assert find_entry(pinned, "text-classification", "H100", "1.0.0").cut_points == (5, 6, 7, 7.5)
    assert find_entry(pinned, "text-classification", "H100", "2.0.0").cut_points == (1.0, 2.0, 3.0, 4.0)
    r = rate(result(1.5), pinned)
    assert r.stars == 5 and r.cut_points == (5, 6, 7, 7.5)


# --------------------------------------------------------------------------------------------
# Methods: log vs linear vs quantile


def test_cut_points_per_method():
    values = [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0]
    assert cut_points(values, "log") == pytest.approx((10, 100, 1000, 10000))
    assert cut_points([0.5, 10.5], "linear") == pytest.approx((2.5, 4.5, 6.5, 8.5))
    assert cut_points([float(v) for v in range(1, 12)], "quantile") == pytest.approx((3, 5, 7, 9))
    with pytest.raises(UsageError):
        cut_points(values, "median")
    with pytest.raises(ValueError, match="same energy"):
        cut_points([2.0] * 12, "log")
    with pytest.raises(ValueError, match="not distinct"):
        cut_points([1.0] * 8 + [2.0, 3.0, 4.0], "quantile")
    with pytest.raises(ValueError, match="positive"):
        cut_points([0.0, 1.0, 2.0], "log")


def _band_counts(values, cuts):
    counts = dict.fromkeys(range(1, 6), 0)
    for v in values:
        counts[stars_for(v, cuts)] += 1
    return counts


def test_log_spreads_a_skewed_population_where_linear_lumps_it():
    # 40 models spread over 3 orders of magnitude (0.1 to 100 Wh per 1000 queries), as real
    # energies within a task are: evenly spaced on a log scale.
    values = [0.1 * 10 ** (3 * i / 39) for i in range(40)]
    log_counts = _band_counts(values, cut_points(values, "log"))
    linear_counts = _band_counts(values, cut_points(values, "linear"))
    quantile_counts = _band_counts(values, cut_points(values, "quantile"))
    assert max(linear_counts.values()) >= 0.75 * len(values)  # linear: nearly everyone 5 stars
    assert linear_counts[5] == max(linear_counts.values())
    assert all(c >= 0.15 * len(values) for c in log_counts.values())  # log: every band used
    assert max(log_counts.values()) <= 0.25 * len(values)
    assert all(c == 8 for c in quantile_counts.values())  # quantile: a fifth in each band


# --------------------------------------------------------------------------------------------
# Calibration


@functools.cache
def _population(n: int, task: str, hardware: str, start: float, ratio: float, knobs: tuple) -> tuple:
    return tuple(
        make_energy_result(
            model_id=f"org/{task}-{hardware}-{start}-{i}",
            task=task,
            hardware_class=hardware,
            gpu_name=GPU_NAMES[hardware],
            samples=(v, v * 1.001, v * 0.999),
            **dict(knobs),
        )
        for i in range(n)
        for v in [start * ratio**i]
    )


def population(
    n: int, task="text-classification", hardware="H100", start=0.2, ratio=1.5, **knobs
) -> list[EnergyResult]:
    """``n`` results of distinct models, energies ``start * ratio**i`` (the mean of three repetitions)."""
    return list(_population(n, task, hardware, start, ratio, tuple(sorted(knobs.items()))))


@pytest.mark.parametrize("method", ["log", "linear", "quantile"])
def test_calibrate_builds_a_valid_measured_table(method):
    members = population(12)
    table = calibrate(members, method, version="1.0.0", created="2026-11-21")
    assert table_errors(encode_table(table)) == []
    assert (table.status, table.method, table.table_version, table.created) == (
        "measured",
        method,
        "1.0.0",
        "2026-11-21",
    )
    (entry,) = table.entries
    assert entry.task == "text-classification" and entry.hardware_class == "H100"
    assert entry.workload_version == "1.0.0" and entry.size_class is None
    pop = entry.population
    assert pop.n == 12 and sorted(pop.model_ids) == sorted(r.model_id for r in members)
    assert pop.min == pytest.approx(0.2) and pop.max == pytest.approx(0.2 * 1.5**11)
    assert list(entry.cut_points) == sorted(entry.cut_points)
    assert pop.min <= entry.cut_points[0] and entry.cut_points[-1] <= pop.max
    assert (
        "12 results" in table.source
        and "all canonical" in table.source
        and table.excluded_results == table.skipped_groups == ()
    )
    # the population's members are rated against it: the least energy gets 5 stars, the most 1
    assert rate(members[0], table).stars == 5
    assert rate(members[-1], table).stars == 1


def test_calibrate_refuses_fewer_than_ten_and_names_task_and_count():
    with pytest.raises(InputError) as info:
        calibrate(population(MIN_POPULATION - 1, task="summarization"))
    assert "summarization" in str(info.value) and "9" in str(info.value)
    assert not isinstance(info.value, InvalidFileError)


def test_calibrate_tables_qualifying_groups_and_reports_skipped_ones():
    results = population(10) + population(3, task="summarization") + population(11, hardware="A100")
    table = calibrate(results, "log")
    keys = {(e.task, e.hardware_class) for e in table.entries}
    assert keys == {("text-classification", "H100"), ("text-classification", "A100")}
    (skipped,) = table.skipped_groups
    assert skipped.task == "summarization" and skipped.count == 3 and "at least 10" in skipped.reason
    assert skipped.hardware_class == "H100"
    assert skipped.workload_version == canonical_spec("summarization").version  # 2.0.0 since issue 14


def test_calibrate_excludes_non_canonical_results_with_reason():
    results = population(10)
    outsider = result(0.001, model_id="org/custom", batch_size=8)
    table = calibrate([*results, outsider])
    (excluded,) = table.excluded_results
    assert excluded.model_id == "org/custom"
    assert "--batch-size 8 instead of the canonical 1" in excluded.reason
    assert (excluded.task, excluded.hardware_class) == ("text-classification", "H100")
    assert table.entries[0].population.min == pytest.approx(0.2)  # the outlier is not in it
    assert "org/custom" not in table.entries[0].population.model_ids
    # ten canonical results minus one non-canonical is nine: refused
    with pytest.raises(InputError, match="9 canonical results"):
        calibrate([*population(9), outsider])


@pytest.mark.parametrize("old_first", [True, False])
def test_calibrate_keeps_the_newest_result_of_a_model(old_first):
    results = population(10)
    old = result(99.0, model_id=results[0].model_id, created_at="2025-01-01T00:00:00Z")
    table = calibrate([old, *results] if old_first else [*results, old])
    assert table.entries[0].population.n == 10
    assert table.entries[0].population.max < 99.0
    (excluded,) = table.excluded_results
    assert excluded.model_id == results[0].model_id and "older result" in excluded.reason
    assert results[0].created_at in excluded.reason  # the newer one's date


def test_calibrate_skips_a_group_it_cannot_split():
    same = [one_run(1.0, model_id=f"org/m{i}") for i in range(10)]
    with pytest.raises(InputError, match="same energy"):
        calibrate(same)


def test_calibrate_rejects_empty_input_and_unknown_method():
    with pytest.raises(InputError, match="no results"):
        calibrate([])
    with pytest.raises(UsageError):
        calibrate(population(10), "median")


def test_calibrate_uses_random_weight_results_only_when_allowed():
    """A calibration campaign measures real architectures with random weights (issue 7): those
    results are canonical but for their weights, and count only with allow_random_weights."""
    real = population(10)
    random = population(3, start=0.1, ratio=100.0, random_weights=True)  # 0.1, 10, 1000: beyond the real ones
    also_batched = result(0.5, model_id="org/random-batched", random_weights=True, batch_size=8)
    offered = [*real, *random, also_batched]

    table = calibrate(offered)
    assert table.entries[0].population.n == 10
    assert "random weights" not in table.source
    excluded = {x.model_id: x.reason for x in table.excluded_results}
    assert set(excluded) == {r.model_id for r in random} | {"org/random-batched"}
    for r in random:
        assert "random weights (--random-weights)" in excluded[r.model_id]
    assert "--batch-size 8" in excluded["org/random-batched"]

    allowed = calibrate(offered, allow_random_weights=True)
    (entry,) = allowed.entries
    assert entry.population.n == 13 and {r.model_id for r in random} <= set(entry.population.model_ids)
    assert entry.population.min == pytest.approx(0.1) and entry.population.max == pytest.approx(1000)
    assert "3 of them measured real architectures with random weights" in allowed.source
    (batched,) = allowed.excluded_results  # random weights allowed, the batch size still not
    assert batched.model_id == "org/random-batched"
    assert "--batch-size 8" in batched.reason and "random weights" not in batched.reason

    with pytest.raises(InputError, match="random weights"):  # only random-weight results
        calibrate(population(10, random_weights=True))
    (entry,) = calibrate(population(10, random_weights=True), allow_random_weights=True).entries
    assert entry.population.n == 10


def test_written_table_loads_back(tmp_path):
    table = calibrate(population(10), "quantile", version="2.0.0")
    path = write_table(table, tmp_path / "t.json")
    assert load_table(path) == table
    assert json.loads(path.read_text()) == encode_table(table)


# --------------------------------------------------------------------------------------------
# The shipped provisional table and schema validation


def test_shipped_tables_are_valid():
    paths = shipped_tables()
    assert paths, "no rating table shipped"
    for path in paths:
        load_table(path)


def test_default_table_is_the_provisional_text_table():
    table = load_table()
    assert table.status == "provisional" and table.method == "log"
    assert table.unit == "Wh per 1000 queries"
    source = table.source
    for words in ("not calibrated", "AI Energy Score", "Luccioni", "A100", "H200", "B200", "log scale"):
        assert words in source, words
    for task in TASKS:  # the text tasks and, since table 0.3.0, the image, audio and generation ones
        version = canonical_spec(task).version
        entry = find_entry(
            table, task, "H100", version, size_class="A" if task == "text-generation" else None
        )
        assert entry is not None, task
        pop, cuts = entry.population, entry.cut_points
        assert pop.n == 0 and pop.model_ids is None
        ratios = [b / a for a, b in zip([pop.min, *cuts], [*cuts, pop.max], strict=True)]
        assert ratios == pytest.approx([ratios[0]] * 5, rel=1e-3)  # five equal log bands


@pytest.mark.parametrize(
    ("task", "median_wh", "scale"),
    [("text-classification", 0.2835, 1), ("sentence-similarity", 0.5904, 1),
     ("question-answering", 0.8125, 1), ("text-generation", 9.381, 1), ("summarization", 3.524, 1),
     ("image-to-text", 101.7, 1)],
)  # fmt: skip
def test_provisional_table_centres_on_the_ai_energy_score_medians(task, median_wh, scale):
    """Each provisional entry of a task's current workload is centred (on a log scale) on the
    median of the AI Energy Score's published H100 figures for its task (summarization's workload
    2.0.0 forces 10 new tokens, as the AES; its old 1.0.0 entries scale the figures by 65/11). See
    tests/test_provisional_table.py."""
    version = canonical_spec(task).version
    entry = find_entry(load_table(), task, "H100", version, "A" if task == "text-generation" else None)
    centre = math.sqrt(entry.population.min * entry.population.max)
    assert centre == pytest.approx(median_wh * scale, rel=1e-3)
    assert rate(result(centre, task=task, parameters=1_100_000_000), load_table()).stars == 3


def _broken(mutate) -> dict:
    """The JSON form of the default table, changed by ``mutate``."""
    data = encode_table(load_table())
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda t: t["entries"][1]["cut_points"].__setitem__(2, "x"), "$.entries[1].cut_points[2]"),
        (lambda t: t["entries"][0]["cut_points"].pop(), "$.entries[0].cut_points"),
        (lambda t: t["entries"][0]["cut_points"].reverse(), "$.entries[0].cut_points"),
        (lambda t: t["entries"][2]["population"].__setitem__("min", -1), "$.entries[2].population.min"),
        (lambda t: t.__setitem__("status", "guessed"), "$.status"),
        (lambda t: t.__setitem__("method", "median"), "$.method"),
        (lambda t: t.__setitem__("unit", "kWh"), "$.unit"),
        (lambda t: t.__setitem__("created", "21/11/2026"), "$.created"),
        (lambda t: t.pop("source"), "$"),
        (lambda t: t.__setitem__("extra", 1), "$"),
        (lambda t: t["entries"].append(json.loads(json.dumps(t["entries"][0]))), "$.entries[33]"),
        (lambda t: t["entries"][0]["population"].__setitem__("max", 0.3), "$.entries[0].cut_points"),
    ],
)
def test_invalid_table_errors_name_the_json_path(tmp_path, mutate, path):
    broken = _broken(mutate)
    assert any(e.startswith(f"{path}:") for e in table_errors(broken)), table_errors(broken)
    file = tmp_path / "table.json"
    file.write_text(json.dumps(broken))
    with pytest.raises(InvalidFileError) as info:
        load_table(file)
    assert any(e.startswith(f"{path}:") for e in info.value.errors), info.value.errors
    assert str(file) in str(info.value) and "$" in str(info.value)


def test_measured_table_needs_model_ids_and_ten_results():
    data = encode_table(calibrate(population(10)))
    assert table_errors(data) == []
    del data["entries"][0]["population"]["model_ids"]
    assert any(e.startswith("$.entries[0].population:") for e in table_errors(data))
    data = encode_table(calibrate(population(10)))
    data["entries"][0]["population"]["n"] = 9
    data["entries"][0]["population"]["model_ids"].pop()
    assert any(e.startswith("$.entries[0].population.n:") for e in table_errors(data))
    with pytest.raises(InvalidFileError, match=r"\$\.entries\[0\]\.population\.n"):
        decode_table(data)


def test_unreadable_tables(tmp_path):
    with pytest.raises(InvalidFileError, match="cannot read"):
        load_table(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidFileError, match="not JSON"):
        load_table(bad)


def test_default_table_with_one_shipped_table_is_that_table_with_provenance():
    (path,) = shipped_tables()
    raw = load_table(path)
    table = load_table()
    assert table_errors(encode_table(table)) == []
    assert [s.table_version for s in table.composed_from] == [raw.table_version]
    assert table.composed_from[0].file == path.name
    assert dataclasses.replace(table, entries=raw.entries, composed_from=()) == raw
    provenance = Provenance(raw.table_version, "provisional", "log")
    assert table.entries == tuple(dataclasses.replace(e, provenance=provenance) for e in raw.entries)
    assert raw.entries[0].provenance is None  # the file itself is untouched
    assert "table_version" not in json.loads(path.read_text())["entries"][0]


# --------------------------------------------------------------------------------------------
# CLI: rate and calibrate, on real result files


def _cli(*args):
    from energy_badge.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def _write(path: Path, value: float, rel: float = 0.05, **knobs) -> Path:
    """A result file of mean ``value`` and 95 % interval ``value * (1 ± rel)``."""
    return write_result_file(path, samples=samples_for(value, value * rel, 5), **knobs)


def _write_results(folder: Path, results: list[EnergyResult]) -> list[Path]:
    paths = []
    for i, res in enumerate(results):
        path = folder / f"r{i}.json"
        path.write_text(res.to_json(), encoding="utf-8")
        paths.append(path)
    return paths


def test_cli_rate_table_and_json(tmp_path):
    path = _write(tmp_path / "r.json", 0.3, model_id="org/tiny")
    out = _cli("rate", path)
    assert out.exit_code == 0, out.output
    assert "org/tiny" in out.output and "★★★☆☆" in out.output and "3 of 5" in out.output
    assert "0.2241" in out.output and "0.3586" in out.output  # the cut points around it
    assert "provisional" in out.output
    out = _cli("rate", path, "--json")
    assert out.exit_code == 0
    data = json.loads(out.output)
    assert data["stars"] == 3 and data["cut_points"] == [0.1401, 0.2241, 0.3586, 0.5738]
    assert data["value"] == pytest.approx(0.3) and data["ci95_low"] == pytest.approx(0.285, rel=1e-3)


def test_cli_rate_unrated_and_custom_table(tmp_path):
    path = _write(tmp_path / "r.json", 1.5, hardware_class="T4", gpu_name="Tesla T4")
    out = _cli("rate", path, "--json")
    assert out.exit_code == 0 and json.loads(out.output)["stars"] is None
    table = tmp_path / "t.json"
    data = table_json()
    data["entries"][0]["hardware_class"] = "T4"
    table.write_text(json.dumps(data))
    out = _cli("rate", path, "--table", table, "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["stars"] == 4


def test_cli_rate_bad_files_exit_4(tmp_path):
    path = _write(tmp_path / "r.json", 1.5)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_broken(lambda t: t.__setitem__("method", "median"))))
    out = _cli("rate", path, "--table", bad)
    assert out.exit_code == EXIT_INPUT and "$.method" in out.output
    out = _cli("rate", tmp_path / "missing.json")
    assert out.exit_code == EXIT_INPUT
    # a file edited to claim canonical: true for a batch-size 8 run is refused, not rated
    forged = make_result(batch_size=8) | {"canonical": True, "non_canonical_reasons": []}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    out = _cli("rate", tmp_path / "forged.json")
    assert out.exit_code == EXIT_INPUT and "canonical" in out.output and "stars" not in out.output


def test_cli_calibrate(tmp_path):
    files = _write_results(tmp_path, population(10) + population(2, "summarization"))
    out_file = tmp_path / "tables" / "mine.json"
    out = _cli("calibrate", *files, "--method", "quantile", "-o", out_file, "--version", "3.1.0")
    assert out.exit_code == 0, out.output
    table = load_table(out_file)
    assert table.table_version == "3.1.0" and table.method == "quantile" and table.status == "measured"
    assert table == calibrate(population(10) + population(2, "summarization"), "quantile",
                              version="3.1.0", created=table.created)  # fmt: skip
    assert "skipped" in out.output and "summarization" in out.output


def test_cli_calibrate_too_few_exits_4(tmp_path):
    files = _write_results(tmp_path, population(4))
    out = _cli("calibrate", *files, "-o", tmp_path / "t.json")
    assert out.exit_code == EXIT_INPUT
    assert "text-classification on H100" in out.output and "4 canonical results" in out.output
    assert not (tmp_path / "t.json").exists()
    out = _cli("calibrate", *files, "--method", "median", "-o", tmp_path / "t.json")
    assert out.exit_code == EXIT_USAGE


def test_cli_calibrate_allow_random_weights(tmp_path):
    files = _write_results(tmp_path, population(10, random_weights=True))
    out = _cli("calibrate", *files, "-o", tmp_path / "t.json")
    assert out.exit_code == EXIT_INPUT and "random weights" in out.output
    out = _cli("calibrate", *files, "--allow-random-weights", "-o", tmp_path / "t.json")
    assert out.exit_code == 0, out.output
    assert (
        "10 of them measured real architectures with random weights" in load_table(tmp_path / "t.json").source
    )


# --------------------------------------------------------------------------------------------
# Text generation per size class (AI Energy Score: A <= 20B parameters, B <= 66B, C larger)


@pytest.mark.parametrize(
    ("parameters", "size"),
    [(1, "A"), (124_000_000, "A"), (20_000_000_000, "A"), (20_000_000_001, "B"), (66_000_000_000, "B"),
     (66_000_000_001, "C"), (405_000_000_000, "C"), (None, None), (0, None)],
)  # fmt: skip
def test_size_class_boundaries(parameters, size):
    assert rating_mod.size_class(parameters) == size


def test_size_class_only_for_text_generation():
    assert rating_mod.result_size_class(result(1.0, task="text-generation", parameters=7 * 10**9)) == "A"
    assert rating_mod.result_size_class(result(1.0, task="text-generation", parameters=70 * 10**9)) == "C"
    assert rating_mod.result_size_class(result(1.0, parameters=7 * 10**9)) is None  # text-classification


def _generation_json(*sizes: str | None) -> dict:
    """A table with one text-generation entry per size (None: an entry without a size class)."""
    entries = []
    for i, size in enumerate(sizes):
        scale = 10.0**i
        entry = {
            "task": "text-generation",
            "hardware_class": "H100",
            "cut_points": [scale * c for c in (1.0, 2.0, 3.0, 4.0)],
            "population": {"n": 0, "min": scale * 0.5, "max": scale * 8.0},
        }
        if size is not None:
            entry["size_class"] = size
        entries.append(entry)
    return table_json() | {"entries": entries}


def _generation_table(*sizes: str | None) -> RatingTable:
    return decode_table(_generation_json(*sizes))


def test_text_generation_is_rated_in_its_size_class():
    table = _generation_table("A", "B", "C")
    small = result(1.5, task="text-generation", parameters=7 * 10**9)
    medium = result(15.0, task="text-generation", parameters=34 * 10**9)
    large = result(150.0, task="text-generation", parameters=70 * 10**9)
    for res in (small, medium, large):
        r = rate(res, table)
        assert r.stars == 4, r
    assert [rate(r, table).size_class for r in (small, medium, large)] == ["A", "B", "C"]
    assert rate(small, table).cut_points == (1.0, 2.0, 3.0, 4.0)
    assert rate(large, table).cut_points == (100.0, 200.0, 300.0, 400.0)
    assert rate(small, table).to_dict()["size_class"] == "A"
    assert rate(result(1.5), table_with()).size_class is None  # not a per-size task


def test_shipped_table_rates_only_size_class_a_text_generation():
    table = load_table()
    small = rate(result(9.0, task="text-generation", parameters=8_030_000_000), table)
    assert small.stars == 3 and small.size_class == "A"
    big = rate(result(40.0, task="text-generation", parameters=70_600_000_000), table)
    assert big.stars is None and big.size_class == "C"
    reason = big.unrated_reason
    assert "size class C" in reason and "70.6B parameters" in reason and "size class A" in reason
    for entry in table.entries:
        assert (entry.size_class is not None) == (entry.task == "text-generation")


def test_entry_without_size_class_rates_every_size_and_sized_entry_wins():
    old_style = _generation_table(None)  # a table written before size classes
    assert rate(result(1.5, task="text-generation", parameters=10**11), old_style).stars == 4
    assert rate(result(1.5, task="text-generation", parameters=10**6), old_style).stars == 4
    table = _generation_table(None, "B")
    assert find_entry(table, "text-generation", "H100", "1.0.0", "B").size_class == "B"
    assert find_entry(table, "text-generation", "H100", "1.0.0", "A").size_class is None
    assert find_entry(table, "text-generation", "H100", "1.0.0", None).size_class is None
    medium = result(15.0, task="text-generation", parameters=34 * 10**9)
    assert rate(medium, table).cut_points == (10, 20, 30, 40)


def test_workload_pin_outranks_size_class():
    data = _generation_json("A", None)
    data["entries"][1]["workload_version"] = "1.0.0"
    table = decode_table(data)
    assert find_entry(table, "text-generation", "H100", "1.0.0", "A") is table.entries[1]
    assert find_entry(table, "text-generation", "H100", "2.0.0", "A") is table.entries[0]
    small = result(15.0, task="text-generation", parameters=7 * 10**9)  # workload 1.0.0, class A
    assert rate(small, table).cut_points == (10, 20, 30, 40)


def test_size_class_rules_in_tables():
    duplicated = _generation_json("A", "A")
    assert any(e.startswith("$.entries[1]: duplicates $.entries[0]") and "size class A" in e
               for e in table_errors(duplicated))  # fmt: skip
    assert table_errors(_generation_json("A", "B", None)) == []
    wrong_task = table_json(size_class="A")  # on text-classification
    wrong_task_errors = table_errors(wrong_task)
    assert any(e.startswith("$.entries[0].size_class:") for e in wrong_task_errors), wrong_task_errors
    bad_value = _generation_json("A")
    bad_value["entries"][0]["size_class"] = "D"
    assert any(e.startswith("$.entries[0].size_class:") for e in table_errors(bad_value))


def test_calibrate_groups_text_generation_by_size_class():
    def generation(n: int, parameters: int, start: float, tag: str) -> list[EnergyResult]:
        return [
            result(start * 1.5**i, model_id=f"org/{tag}-{i}", task="text-generation", parameters=parameters)
            for i in range(n)
        ]

    small = generation(10, 7 * 10**9, 10.0, "small")
    medium = generation(4, 30 * 10**9, 100.0, "medium")
    # The schema requires a parameter count, so every text-generation result has a size class; a
    # result without a hardware class is what calibrate cannot group.
    unclassed = result(
        5.0, model_id="org/unclassed", task="text-generation", hardware_class=None, gpu_name="NVIDIA L40S"
    )
    table = calibrate([*small, *medium, unclassed, *population(10)], "log")
    keys = {(e.task, e.size_class) for e in table.entries}
    assert keys == {("text-generation", "A"), ("text-classification", None)}
    (skipped,) = table.skipped_groups
    assert skipped.size_class == "B" and skipped.count == 4
    (excluded,) = table.excluded_results
    assert excluded.model_id == "org/unclassed" and "NVIDIA L40S" in excluded.reason
    assert "no hardware class" in excluded.reason
    assert rate(small[0], table).stars == 5 and rate(small[-1], table).stars == 1
    assert rate(medium[0], table).stars is None
    with pytest.raises(InputError, match=r"text-generation on H100 \(size class B\)"):
        calibrate(medium)


def test_cli_rate_shows_the_size_class(tmp_path):
    path = _write(
        tmp_path / "r.json", 40.0, task="text-generation", parameters=34 * 10**9, model_id="org/mid"
    )
    out = _cli("rate", path)
    assert out.exit_code == 0, out.output
    assert "size class B" in out.output and "unrated" in out.output


# --------------------------------------------------------------------------------------------
# Several shipped tables: the default table is their composite (rule in energy_badge/rating/)

PROVISIONAL = "0.3.0-provisional"  # the shipped table
MEASURED = "2027.01.15-h100"
A100 = {"gpu_name": "NVIDIA A100-SXM4-80GB", "hardware_class": "A100"}


def _samples(mean: float) -> tuple[float, float]:
    return (mean * 0.99, mean * 1.01)


@functools.cache
def _measured_h100_table(method: str) -> RatingTable:
    """A calibrated (measured) table for H100 only, from synthetic results_factory results:
    text classification (0.1 to 10 Wh per 1000 queries) and text generation of size class B only
    (30B parameters; class A has no results, so the table has no class A entry)."""
    classifiers = [
        make_energy_result(model_id=f"org/tc-{i}", samples=_samples(0.1 * 10 ** (i * 2 / 9)))
        for i in range(10)
    ]
    generators = [
        make_energy_result(
            model_id=f"org/gen-30b-{i}",
            task="text-generation",
            parameters=30_000_000_000,
            samples=_samples(50.0 * 10 ** (i / 9)),
        )
        for i in range(10)
    ]
    return calibrate([*classifiers, *generators], method, version=MEASURED, created="2027-01-15")


def measured_h100_table(method: str = "log", **changes) -> RatingTable:
    return dataclasses.replace(_measured_h100_table(method), **changes)


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """Package data with more tables: the real shipped files copied into a temporary folder that
    ``shipped_tables`` lists instead of ``energy_badge/data/rating_tables``; the fixture's value
    adds a table file there (validated) and returns its path."""
    folder = tmp_path / "rating_tables"
    folder.mkdir()
    for path in shipped_tables():
        shutil.copy(path, folder / path.name)
    monkeypatch.setattr(tables_mod, "shipped_tables", lambda: sorted(folder.glob("*.json")))

    def add(table: RatingTable, name: str | None = None) -> Path:
        return write_table(table, folder / (name or f"rating-table-{table.table_version}.json"))

    return add


def _raw_provisional() -> dict:
    (path,) = shipped_tables()
    return json.loads(path.read_text())


def _provisional() -> RatingTable:
    return decode_table(_raw_provisional())


def _result(value: float, **kwargs) -> EnergyResult:
    return make_energy_result(samples=_samples(value), **kwargs)


def _pair(entries, task: str, hardware: str) -> list:
    """The entries (typed or JSON) of one task on one hardware class."""

    def get(e, key):
        return e[key] if isinstance(e, dict) else getattr(e, key)

    return [e for e in entries if get(e, "task") == task and get(e, "hardware_class") == hardware]


def test_measured_table_rates_its_hardware_and_the_provisional_table_the_rest(shipped):
    from energy_badge.publish import card_metadata

    shipped(measured_h100_table())
    table = load_table()
    assert table_errors(encode_table(table)) == []
    assert [(s.table_version, s.status) for s in table.composed_from] == [
        (MEASURED, "measured"),
        (PROVISIONAL, "provisional"),
    ]
    assert table.status == "provisional"  # not every entry is measured
    measured = find_entry(table, "text-classification", "H100", "1.0.0")
    assert measured.provenance.table_version == MEASURED and measured.population.n == 10
    cuts = measured.cut_points
    assert cuts == pytest.approx((0.2512, 0.631, 1.585, 3.981), rel=1e-3)  # log bands of 0.1-10

    h100 = rate(_result(0.3))
    assert h100.stars == stars_for(0.3, cuts) == 4  # the provisional table gives 3 (0.2241 <= 0.3 < 0.3586)
    assert h100.cut_points == tuple(cuts)
    assert (h100.table_version, h100.table_status, h100.method) == (MEASURED, "measured", "log")
    assert h100.to_dict()["table_version"] == MEASURED
    assert card_metadata(_result(0.3), h100)["rating_table"] == MEASURED

    a100 = rate(_result(0.3, **A100))
    assert a100.stars == 3 and a100.cut_points == (0.1401, 0.2241, 0.3586, 0.5738)
    assert (a100.table_version, a100.table_status) == (PROVISIONAL, "provisional")
    assert card_metadata(_result(0.3, **A100), a100)["rating_table"] == PROVISIONAL
    a100_generation = rate(_result(9.0, task="text-generation", parameters=7_000_000_000, **A100))
    assert a100_generation.stars == 3 and a100_generation.table_version == PROVISIONAL


def test_a_task_the_measured_table_lacks_on_its_hardware_keeps_the_provisional_entry(shipped):
    shipped(measured_h100_table())
    qa = rate(_result(0.8, task="question-answering"))  # no question answering in the measured table
    assert qa.stars == 3 and qa.cut_points == (0.1622, 0.4749, 1.39, 4.071)
    assert (qa.table_version, qa.table_status) == (PROVISIONAL, "provisional")


def test_the_measured_table_replaces_all_provisional_entries_of_its_task_and_hardware(shipped):
    """Per (task, hardware class), not per entry: the measured text-generation H100 entries (class
    B only, pinned to workload 1.0.0) replace the provisional class A entry, and the unpinned
    provisional text-classification H100 entry no longer rates a workload version the measured
    table has no entry for (here, a measured table pinned to 2.0.0 and a result of 1.0.0)."""
    shipped(measured_h100_table())
    table = load_table()
    generation = _pair(table.entries, "text-generation", "H100")
    assert [(e.size_class, e.provenance.table_version) for e in generation] == [("B", MEASURED)]
    assert rate(_result(200.0, task="text-generation", parameters=30_000_000_000)).table_version == MEASURED
    small = rate(_result(40.0, task="text-generation", parameters=7_000_000_000))
    assert small.stars is None and (small.table_version, small.table_status) == (MEASURED, "measured")
    reason = small.unrated_reason
    assert f"rating table {MEASURED}" in reason and "size class A" in reason and "size class B" in reason
    assert "only this one is used for text-generation on H100" in reason
    # a GPU no table covers: both tables are named, the rating quotes the most preferred one
    t4 = rate(_result(0.3, hardware_class="T4", gpu_name="Tesla T4"))
    assert t4.stars is None and (t4.table_version, t4.table_status) == (MEASURED, "measured")
    assert f"the shipped rating tables ({MEASURED}, {PROVISIONAL}) have no entry" in t4.unrated_reason
    assert "A100, H100" in t4.unrated_reason


def test_a_measured_table_of_another_workload_version_leaves_the_pair_unrated(shipped):
    """The unpinned provisional text-classification H100 entry would rate a 1.0.0 result; once a
    measured table covers text classification on H100 (for workload 2.0.0 only), it does not."""
    base = measured_h100_table(table_version="2027.02.01-h100-v2", created="2027-02-01")
    pinned_v2 = dataclasses.replace(
        base,
        entries=tuple(
            dataclasses.replace(e, workload_version="2.0.0") if e.task == "text-classification" else e
            for e in base.entries
        ),
    )
    assert rate(_result(0.3)).stars == 3  # before: the provisional entry rates it
    shipped(pinned_v2)
    r = rate(_result(0.3))
    assert r.stars is None and (r.table_version, r.table_status) == ("2027.02.01-h100-v2", "measured")
    assert "with workload version 1.0.0" in r.unrated_reason
    assert "only this one is used for text-classification on H100" in r.unrated_reason
    assert rate(_result(0.3, **A100)).stars == 3  # other hardware keeps the provisional entry


def test_an_explicit_table_file_is_used_alone_and_as_it_is(shipped, tmp_path):
    path = write_table(measured_h100_table(), tmp_path / "measured.json")
    shipped(measured_h100_table())
    table = load_table(path)
    assert table == measured_h100_table()
    assert encode_table(table) == json.loads(path.read_text())
    assert table.composed_from == () and table.entries[0].provenance is None
    assert "composed_from" not in json.loads(path.read_text())
    a100 = rate(_result(0.3, **A100), table)
    assert a100.stars is None and (a100.table_version, a100.table_status) == (MEASURED, "measured")
    assert a100.unrated_reason == (
        f"rating table {MEASURED} has no entry for text-classification on A100 "
        "(it covers text-classification on: H100); a result is rated only against cut points for its "
        "own GPU class, since the same work takes different energy on different GPUs"
    )
    provisional = load_table(shipped_tables()[0])
    assert provisional == _provisional() and encode_table(provisional) == _raw_provisional()
    assert rate(_result(0.3), provisional).stars == 3


def _newer_provisional() -> RatingTable:
    return dataclasses.replace(_provisional(), table_version="0.2.0", created="2027-06-01")


@pytest.mark.parametrize(
    ("extra", "h100", "a100"),
    [
        # measured wins over a newer provisional table; the newer provisional wins on A100
        (lambda: [measured_h100_table(), _newer_provisional()], MEASURED, "0.2.0"),
        # two measured tables: the later created wins, whatever the version
        (lambda: [measured_h100_table(), measured_h100_table(table_version="0.0.1", created="2027-02-01")],
         "0.0.1", PROVISIONAL),
        # created the same day: the higher version wins, versions compared as numbers
        (lambda: [measured_h100_table(table_version="0.10.0"), measured_h100_table(table_version="0.9.0")],
         "0.10.0", PROVISIONAL),
    ],
    ids=["measured-over-newer-provisional", "newer-created", "higher-version"],
)  # fmt: skip
def test_default_table_ranks_measured_then_newer_then_higher_version(shipped, extra, h100, a100):
    tables = extra()
    for i, table in enumerate(tables):
        shipped(table, name=f"z{len(tables) - i}.json")  # file names sort against the ranking
    table = load_table()
    assert table_errors(encode_table(table)) == []
    assert rate(_result(0.3)).table_version == h100
    assert rate(_result(0.3, **A100)).table_version == a100
    used = [s.table_version for s in table.composed_from]
    assert used == [h100, a100]  # tables that lost every pair add nothing
    assert table.table_version == h100


def test_each_rating_uses_the_method_of_its_own_table(shipped):
    shipped(measured_h100_table("linear"))
    table = load_table()
    assert table.method == "linear"  # the most preferred table's; the A100 entries are log
    h100, a100 = rate(_result(0.3)), rate(_result(0.3, **A100))
    assert (h100.method, a100.method) == ("linear", "log")
    h100_entry = find_entry(table, "text-classification", "H100", "1.0.0")
    a100_entry = find_entry(table, "text-classification", "A100", "1.0.0")
    assert h100.position == pytest.approx(position(h100.value, h100_entry, "linear"))
    assert a100.position == pytest.approx(position(a100.value, a100_entry, "log"))
    assert a100.position != pytest.approx(position(a100.value, a100_entry, "linear"))


def test_two_shipped_tables_with_one_version_are_refused(shipped):
    shipped(dataclasses.replace(_provisional(), created="2027-06-01"), name="copy.json")
    with pytest.raises(InvalidFileError, match=f"copy.json and .* the same table_version {PROVISIONAL}"):
        load_table()
    with pytest.raises(InvalidFileError, match="no rating table to compose"):
        compose_tables([])


def test_composite_table_is_checked_and_loads_back_from_a_file(shipped, tmp_path):
    shipped(measured_h100_table())
    table = load_table()
    path = write_table(table, tmp_path / "composite.json")
    assert load_table(path) == table
    assert rate(_result(0.3), load_table(path)) == rate(_result(0.3))

    mixed = encode_table(table)  # a provisional class A entry beside the measured class B entry
    (provisional_a,) = _pair(_raw_provisional()["entries"], "text-generation", "H100")
    mixed["entries"].append(
        provisional_a | {"table_version": PROVISIONAL, "status": "provisional", "method": "log"}
    )
    errors = table_errors(mixed)
    last = f"$.entries[{len(mixed['entries']) - 1}]"
    mixing = f"{last}.table_version: text-generation on H100 comes from table {MEASURED}"
    assert any(e.startswith(mixing) for e in errors), errors

    unnamed = encode_table(table)
    del unnamed["entries"][0]["table_version"]
    needs = "$.entries[0]: an entry of a composite table needs table_version"
    assert any(e.startswith(needs) for e in table_errors(unnamed)), table_errors(unnamed)
    wrong_status = encode_table(table)
    wrong_status["entries"][-1]["table_version"] = MEASURED  # a provisional entry claimed by the measured
    claim = f".status: provisional, but table {MEASURED} is measured"
    assert any(e.endswith(claim) for e in table_errors(wrong_status)), table_errors(wrong_status)

    no_ids = encode_table(table)  # a measured entry keeps the measured table's guarantees
    assert no_ids["entries"][0]["status"] == "measured"
    del no_ids["entries"][0]["population"]["model_ids"]
    assert any(e.startswith("$.entries[0].population:") for e in table_errors(no_ids))


def test_cli_rate_names_the_table_of_the_entry_used(shipped, tmp_path):
    shipped(measured_h100_table())
    h100 = write_result_file(tmp_path / "h100.json", model_id="org/h100", samples=_samples(0.3))
    out = _cli("rate", h100)
    assert out.exit_code == 0, out.output
    assert f"{MEASURED} (measured, method log)" in out.output and "4 of 5" in out.output
    assert "provisional" not in out.output
    assert "0.2512" in out.output and "0.631" in out.output  # the measured cut points
    data = json.loads(_cli("rate", h100, "--json").output)
    assert (data["table_version"], data["table_status"], data["stars"]) == (MEASURED, "measured", 4)

    a100 = write_result_file(tmp_path / "a100.json", model_id="org/a100", samples=_samples(0.3), **A100)
    out = _cli("rate", a100)
    assert out.exit_code == 0, out.output
    assert f"{PROVISIONAL} (provisional" in out.output and "3 of 5" in out.output
    assert f"Rating table {PROVISIONAL} is provisional" in out.output

    measured_file = write_table(measured_h100_table(), tmp_path / "measured.json")
    data = json.loads(_cli("rate", a100, "--table", measured_file, "--json").output)
    assert data["stars"] is None and data["table_version"] == MEASURED


def test_calibrate_counts_only_the_random_weight_results_it_tabled():
    """Older duplicates and skipped groups are not counted among the tabled random-weight results;
    duplicates are ordered by time, not by the text of their timestamps."""
    real = [make_energy_result(model_id=f"org/r{i}", samples=(0.2 * 1.5**i,)) for i in range(10)]
    new = make_energy_result(
        model_id="org/rand", samples=(0.5,), random_weights=True, created_at="2026-11-21T00:00:00.5Z"
    )
    old = make_energy_result(  # half a second older, though its text sorts after the newer one's
        model_id="org/rand", samples=(0.6,), random_weights=True, created_at="2026-11-21T00:00:00Z"
    )
    skipped = [
        make_energy_result(
            model_id=f"org/s{i}", task="summarization", samples=(1.0 + i,), random_weights=True
        )
        for i in range(2)
    ]
    table = calibrate([*real, old, new, *skipped], allow_random_weights=True)
    assert "from 11 results" in table.source and "1 of them measured real architectures" in table.source
    (excluded,) = table.excluded_results
    assert excluded.model_id == "org/rand" and "newer one from 2026-11-21T00:00:00.5Z" in excluded.reason
