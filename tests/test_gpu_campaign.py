"""The GPU campaign (benchmarks/gpu/campaign.py) and its report, rehearsed without a GPU.

Simulated: NVML, in every process the campaign starts, by a ``sitecustomize`` module that installs
``tests/fake_nvml.py`` (one H100 drawing a constant 300 W) at the pynvml boundary. Real: the
campaign's subprocesses (``python -m energy_badge measure`` and ``benchmarks/overhead.py``), Zeus,
torch and transformers running a catalogue architecture (bert-tiny) with random weights on the CPU,
and the report script. The calibration path of the report runs on synthetic results that are
canonical but for their random weights (``results_factory``), like a GPU campaign's, since results
made on a CPU are non-canonical for more reasons and never calibrated.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from results_factory import make_energy_result

from energy_badge.result import load_result, write_result

REPO = Path(__file__).resolve().parent.parent
CAMPAIGN = REPO / "benchmarks" / "gpu" / "campaign.py"
REPORT = REPO / "benchmarks" / "gpu" / "report.py"
TINY = "prajjwal1/bert-tiny"
# Few queries, short windows, and a loose interval target so the adaptive runs stop at their 3
# repetitions (fixed-10 still runs its 10): the rehearsal checks the campaign's plumbing, not
# precision, and each job's time is then mostly its process start (torch, transformers, Zeus).
FAST = "--device cpu --queries 4 --min-window 0.1 --idle-seconds 0.1 --warmup 0.1 --target-ci 50"
OVERHEAD = "--device cpu --queries 4 --min-window 0.1 --rounds 1 --help-runs 1"

SITECUSTOMIZE = """
import sys
sys.path.insert(0, {tests!r})
import pytest
from fake_nvml import FakeGPU, install_fake_nvml
install_fake_nvml(pytest.MonkeyPatch(), gpus=[FakeGPU(power_trace=300.0)])
"""


@pytest.fixture(scope="module")
def simulated_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("site")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(tests=str(REPO / "tests")))
    path = os.pathsep.join([str(site), str(REPO), os.environ.get("PYTHONPATH", "")])
    # One torch thread: on a busy 2-core machine a tiny model runs faster without thread contention.
    return dict(os.environ, PYTHONPATH=path, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")


def campaign(env: dict[str, str], results: Path, models: Path, *extra: str, budget: str = "400"):
    cmd = [
        sys.executable,
        str(CAMPAIGN),
        "run",
        "--budget",
        budget,
        "--results",
        str(results),
        "--models",
        str(models),
        "--task",
        "text-classification",
        "--only",
        TINY,
        "--validity-model",
        f"text-classification={TINY}",
        "--overhead-args",
        OVERHEAD,
        *extra,
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def log_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "campaign.jsonl").read_text().splitlines()]


def test_campaign_runs_every_job_once_and_the_report_recomputes_them(simulated_env, tmp_path):
    """Simulated: NVML (one H100 at 300 W) in every subprocess. All five jobs of a task run once, in
    real subprocesses; a second call finds nothing to do; the report recomputes every figure."""
    results, models = tmp_path / "results", tmp_path / "models"
    proc = campaign(simulated_env, results, models, "--measure-args", FAST)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = results / "h100"  # the simulated GPU's class names the folder
    jobs = {r["job"]: r for r in log_of(folder)}
    base = "validity/text-classification"
    assert set(jobs) == {
        f"{base}/run-a",
        f"{base}/run-b",
        f"{base}/fixed-10",
        f"{base}/overhead",
        "calibration/text-classification/prajjwal1--bert-tiny",
    }
    assert all(r["status"] == "ok" and r["seconds"] > 0 for r in jobs.values())

    run_a = load_result(folder / base / "run-a.json")
    assert run_a.model_id == TINY and run_a.random_weights and run_a.model_source == "local"
    assert run_a.parameters == 4_386_178  # bert-tiny's architecture, with a 2-label head
    assert len(load_result(folder / base / "fixed-10.json").measurement.repetitions) == 10
    overhead = json.loads((folder / base / "overhead.json").read_text())
    assert overhead["energy_ratio"] > 0 and overhead["model"] == TINY
    assert overhead["time_ratio_one_sync"] > 0 and overhead["energy_ratio_one_sync"] > 0
    assert (folder / base / "run-a.log").read_text().startswith("$ ")

    # Run again: everything is done, nothing runs, nothing is appended.
    again = campaign(simulated_env, results, models, "--measure-args", FAST)
    assert again.returncode == 0 and "0 jobs to do" in again.stdout
    assert len(log_of(folder)) == 5

    # The report, from the raw files alone (no NVML here: it must not need one).
    report = subprocess.run(
        [sys.executable, str(REPORT), "--results", str(results), "--gpu", "h100"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    text = report.stdout
    windows = sum(
        len(load_result(p).measurement.repetitions)
        for p in folder.glob("*/*/*.json")
        if p.name != "overhead.json"
    )
    assert f"| {windows} | " in text  # (d): every repetition's Zeus and NVML reads compared
    assert f"| text-classification | {TINY} | {run_a.gpu_energy.mean:.4g} ± " in text
    keys = ("time_ratio", "energy_ratio", "time_ratio_one_sync", "energy_ratio_one_sync")
    ratios = [overhead[k] for k in keys]
    assert "| text-classification | 4 | " + " | ".join(f"{r:.4f}" for r in ratios) + " |" in text
    assert "No table: cannot calibrate" in text  # CPU results are not canonical


def test_a_job_cut_off_by_the_budget_writes_no_result_and_stops_that_task(simulated_env, tmp_path):
    """Simulated: NVML (one H100 at 300 W) in every subprocess. The smallest calibration model's
    measure has a 120 s idle sample, longer than a 12 s budget (1 s margin, jobs start with 2 s
    left; the campaign's own start, building both models, takes about 3 s): it is killed when the
    budget runs out, writes no result, and the task's next model is not started."""
    results, models = tmp_path / "results", tmp_path / "models"
    slow = FAST.replace("--idle-seconds 0.1", "--idle-seconds 120")  # an idle sample longer than the budget
    budget = 12
    proc = campaign(
        simulated_env,
        results,
        models,
        "--part",
        "calibration",
        "--only",
        "google/electra-small-discriminator",  # larger: after bert-tiny
        "--measure-args",
        slow,
        "--margin",
        "1",
        "--min-job",
        "2",
        budget=str(budget),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (record,) = log_of(results / "h100")  # the task's larger model never started
    assert record["job"] == f"calibration/text-classification/{TINY.replace('/', '--')}"
    assert record["status"] == "timeout" and record["exit_code"] is None
    left = float(re.search(r"bert-tiny \((\d+) s left\)", proc.stdout).group(1))
    assert left - 1 <= record["seconds"] < budget  # it ran until the budget's deadline
    assert not list((results / "h100").glob("calibration/*/*.json"))
    assert not (
        results / "h100" / "calibration" / "text-classification" / "google--electra-small-discriminator.log"
    ).exists()
    assert "1 cut off by the budget" in proc.stdout and "2 jobs left" in proc.stdout


def synthetic_population(folder: Path) -> None:
    """Ten H100 text-classification results (synthetic), canonical but for their random weights,
    spanning 0.05-5 Wh/1k."""
    for i in range(10):
        value = 0.05 * (100 ** (i / 9))
        result = make_energy_result(
            model_id=f"org/model-{i}",
            samples=(value * 0.99, value, value * 1.01),
            random_weights=True,
            source="local",
        )
        write_result(result, folder / "calibration" / "text-classification" / f"org--model-{i}.json")


def test_report_calibrates_a_table_and_checks_a_report_and_a_table_against_the_raw_files(tmp_path):
    """Simulated: nothing but the results: ten synthetic H100 results (results_factory), canonical but
    for their random weights, as the campaign's are.
    The report calibrates a table from them and checks a report and a table against the raw files."""
    folder = tmp_path / "results" / "h100"
    synthetic_population(folder)
    base = [sys.executable, str(REPORT), "--results", str(tmp_path / "results"), "--gpu", "h100"]
    env = dict(os.environ, PYTHONPATH=str(REPO))

    def report(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([*base, *extra], capture_output=True, text=True, env=env, timeout=120)

    table_path = tmp_path / "table.json"
    printed = report("--table-out", str(table_path))
    assert printed.returncode == 0, printed.stderr
    table = json.loads(table_path.read_text())
    (entry,) = table["entries"]
    assert entry["task"] == "text-classification" and entry["hardware_class"] == "H100"
    assert entry["population"]["n"] == 10
    assert entry["population"]["min"] == pytest.approx(0.05) and entry["population"]["max"] == pytest.approx(
        5.0
    )
    assert entry["cut_points"] == pytest.approx([0.05 * 10 ** (0.4 * k) for k in (1, 2, 3, 4)], rel=1e-3)
    assert "random weights" in table["source"]
    assert "| text-classification | H100 | – | 10 | 0.05 |" in printed.stdout

    good = tmp_path / "REPORT.md"
    good.write_text("# Report\n\nSome words.\n\n" + printed.stdout)
    assert report("--check", str(good), "--check-table", str(table_path)).returncode == 0

    tampered = tmp_path / "TAMPERED.md"
    tampered.write_text(printed.stdout.replace("| 10 | 0.05 |", "| 10 | 0.04 |"))
    bad = report("--check", str(tampered))
    assert bad.returncode == 1 and "Rating table" in bad.stderr

    table["entries"][0]["cut_points"][0] *= 1.1
    table_path.write_text(json.dumps(table))
    assert report("--check-table", str(table_path)).returncode == 1

    first = load_result(folder / "calibration" / "text-classification" / "org--model-0.json")
    # Canonical but for the random weights: the policy marks them non-canonical, and only the
    # campaign's calibration (allow_random_weights) takes them.
    assert first.random_weights and not first.canonical
    assert len(first.non_canonical_reasons) == 1 and "random weights" in first.non_canonical_reasons[0]
