"""End-to-end tests of `energy-badge measure`, `validate`, `tasks`, `doctor` as a user runs them.

What is simulated, and only that: the GPU, at the pynvml boundary (tests/fake_nvml.py: an NVML
whose energy counter integrates a scripted power trace), and the Hub, as a loopback HTTP server
(tests/hub_server.py). The models are real tiny transformers built in the test, the workloads are
the shipped canonical ones, and Zeus, transformers and huggingface_hub run for real. Models run
on the CPU while the simulated GPU is metered, so such results are non-canonical by design.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pynvml
import pytest
from click.testing import CliRunner
from fake_nvml import FakeGPU, FakeProcess, install_fake_nvml
from tiny_models import build_tiny_model

from energy_badge.cli import main
from energy_badge.result import load_result
from energy_badge.workload import load_workload

FAST = ["--min-window", "0.2", "--idle-seconds", "0.2"]
RAN_ON_CPU = "the model ran on cpu, not on the metered GPU"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return {
        task: build_tiny_model(task, root / task)
        for task in ("text-classification", "text-generation", "question-answering")
    }


def saved(path: Path) -> dict:
    """A result file as written: checked by the codec (load_result), then read as plain JSON."""
    load_result(path)
    return json.loads(Path(path).read_text("utf-8"))


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_clean_energy_run_on_simulated_gpu(tiny, tmp_path, monkeypatch):
    """Simulated: one H100 drawing a constant 300 W. The full canonical text-classification
    workload runs on a real tiny BERT; the energy must be 300 W x the measured seconds."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(name="NVIDIA H100 80GB HBM3", power_trace=300.0)])
    out = tmp_path / "r.json"
    code, stdout, stderr = run_cli(
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-classification",
        "--device",
        "cpu",
        "--max-repetitions",
        "3",
        "-o",
        str(out),
        *FAST,
    )
    assert code == 0, stderr
    result = load_result(out)
    data = saved(out)
    assert data["schema_version"] == "1.1"
    stop = data["measurement"]["stop"]  # what the stop rule did, and what the interval is
    assert stop["rule"] == "fixed-width-sequential-t/1" and stop["interval"] in ("target", "t")
    assert data["measurement"]["dropped"] == []
    for window in [*data["measurement"]["repetitions"], data["measurement"]["idle"]]:
        assert window["crosscheck"]["verdict"] in ("agree", "inconclusive")  # never "disagree" here
        assert window["crosscheck"]["sample_interval_s"] == 0.02
    assert data["workload"]["queries"] == 1000
    assert data["workload"]["sha256"] == load_workload("text-classification").sha256
    assert data["non_canonical_reasons"] == [RAN_ON_CPU]
    assert data["hardware"]["hardware_class"] == "H100"
    assert data["model"]["source"] == "local" and len(data["model"]["content_sha256"]) == 64
    reps = data["measurement"]["repetitions"]
    assert len(reps) == 3
    for rep in reps:
        assert rep["seconds"] >= 0.2
        assert rep["gpu_energy_j"] == pytest.approx(300.0 * rep["seconds"], rel=0.02)
    per_rep = [r["gpu_energy_j"] / r["queries"] * 1000 / 3600 for r in reps]
    assert result.gpu_energy.samples == pytest.approx(per_rep, rel=1e-9)
    assert data["measurement"]["idle"]["gpu_power_w"] == pytest.approx(300.0, rel=0.02)
    for window in [*reps, data["measurement"]["idle"]]:  # the meter's own NVML read, beside Zeus's
        assert window["nvml_counter_j"] == pytest.approx(window["gpu_energy_j"], rel=0.02)
    # The default warm-up: 10 s of queries, or one whole pass if that is shorter.
    assert data["measurement"]["config"]["warmup_max_s"] == 10.0
    assert 1 <= data["measurement"]["warmup_queries"] <= 1000
    assert data["energy"]["cpu"] is None  # no RAPL here: never estimated
    assert data["performance"]["queries_per_s"] > 0
    assert "GPU energy" in stdout and f"result written to {out}" in stdout
    assert "repetition" in stderr  # the progress display


def test_text_generation_reports_prefill_and_decode(tiny, tmp_path, monkeypatch):
    """Simulated: a 200 W GPU. A real tiny Llama generates exactly 10 tokens per query; the
    prefill phase (1 token) is measured the same way and decode = full - prefill."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=200.0)])
    out = tmp_path / "gen.json"
    code, _, stderr = run_cli(
        "measure",
        str(tiny["text-generation"]),
        "--task",
        "text-generation",
        "--device",
        "cpu",
        "--queries",
        "8",
        "--dtype",
        "float32",
        "--warmup",
        "0",
        "-o",
        str(out),
        *FAST,
    )
    assert code == 0, stderr
    data = saved(out)
    assert data["measurement"]["warmup_queries"] == 1  # a zero-second warm-up runs one query
    energy = data["energy"]
    assert energy["decode_gpu"]["mean"] == pytest.approx(
        energy["gpu"]["mean"] - energy["prefill_gpu"]["mean"]
    )
    assert energy["prefill_gpu"]["mean"] < energy["gpu"]["mean"]
    assert data["performance"]["tokens_per_s"] > 0
    assert data["performance"]["prefill_latency_ms"]["p50"] < data["performance"]["latency_ms"]["p50"]
    assert (
        data["workload"]["generation"]["min_new_tokens"]
        == data["workload"]["generation"]["max_new_tokens"]
        == 10
    )
    assert len(data["non_canonical_reasons"]) == 3  # --queries, --dtype, ran on cpu
    # The complete configuration given to generate(): the manifest's values, every other knob neutral.
    config = data["workload"]["generation_config"]
    assert config["max_new_tokens"] == config["min_new_tokens"] == 10 and config["num_beams"] == 1
    assert config["repetition_penalty"] == 1.0 and config["no_repeat_ngram_size"] == 0
    assert config["do_sample"] is False and config["bad_words_ids"] is None


def test_strict_refuses_a_counter_that_disagrees_with_the_sampled_power(tiny, tmp_path, monkeypatch):
    """Simulated: a GPU drawing 300 W whose energy counter reads 25 % high (the power readings are
    right). Without --strict the windows are recorded as disagreeing and the result is not
    canonical for that reason; with --strict the run stops (exit 5) and writes nothing."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0, counter_scale=1.25)])
    out = tmp_path / "r.json"
    args = ["measure", str(tiny["text-classification"]), "--task", "text-classification", "--device", "cpu"]
    args += ["--queries", "8", "--min-window", "0.5", "--idle-seconds", "0.5", "--max-repetitions", "2"]
    args += ["--min-repetitions", "2", "-o", str(out)]
    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    data = saved(out)
    windows = [*data["measurement"]["repetitions"], data["measurement"]["idle"]]
    assert {w["crosscheck"]["verdict"] for w in windows} == {"disagree"}
    assert any(
        "disagreed with the sampled power in the idle sample, repetition 1" in r
        for r in data["non_canonical_reasons"]
    )
    assert "cross-check" in stdout and "3 disagree" in stdout  # the idle sample and both repetitions
    out.unlink()
    code, _, stderr = run_cli(*args, "--strict")
    assert code == 5 and "cross-check failed" in stderr and "idle sample" in stderr
    assert not out.exists()


def test_no_gpu_exits_3_and_writes_nothing(tiny, tmp_path, monkeypatch):
    """Simulated: no NVIDIA driver (NVML library not found)."""
    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    out = tmp_path / "r.json"
    code, _, stderr = run_cli(
        "measure", str(tiny["text-classification"]), "--task", "text-classification", "-o", str(out), *FAST
    )
    assert code == 3
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "NVML" in errors[0] and "--no-energy" in errors[0]
    assert not out.exists()


def test_nvml_error_mid_run_exits_5_and_writes_nothing(tiny, tmp_path, monkeypatch):
    """Simulated: the GPU falls off the bus after the meter started (counter reads fail)."""
    fake = install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0)])
    fake.fail("nvmlDeviceGetTotalEnergyConsumption", pynvml.NVML_ERROR_GPU_IS_LOST, after=6)
    out = tmp_path / "r.json"
    code, _, stderr = run_cli(
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-classification",
        "--device",
        "cpu",
        "--queries",
        "50",
        "-o",
        str(out),
        *FAST,
    )
    assert code == 5, stderr
    assert "error:" in stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_zero_counter_delta_is_refused(tiny, tmp_path, monkeypatch):
    """Simulated: an energy counter that never advances (0 W)."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=0.0)])
    out = tmp_path / "r.json"
    code, _, stderr = run_cli(
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-classification",
        "--device",
        "cpu",
        "--queries",
        "20",
        "-o",
        str(out),
        *FAST,
    )
    assert code == 5
    assert "does not increase" in stderr
    assert not out.exists()


def test_other_process_on_gpu_is_refused_unless_allowed(tiny, tmp_path, monkeypatch):
    """Simulated: another process (pid 4242) holds a CUDA context on the GPU."""
    install_fake_nvml(
        monkeypatch,
        gpus=[FakeGPU(power_trace=250.0, processes=[FakeProcess(pid=4242, used_memory_mib=1024)])],
    )
    out = tmp_path / "r.json"
    args = [
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-classification",
        "--device",
        "cpu",
        "--queries",
        "20",
        "-o",
        str(out),
        *FAST,
    ]
    code, _, stderr = run_cli(*args)
    assert code == 3 and "4242" in stderr and "--allow-shared-gpu" in stderr
    assert not out.exists()

    code, _, stderr = run_cli(*args, "--allow-shared-gpu")
    assert code == 0, stderr
    data = saved(out)
    assert data["measurement"]["isolation"]["allow_shared_gpu"] is True
    assert data["measurement"]["isolation"]["other_processes"][0]["pid"] == 4242
    assert any("other processes" in r for r in data["non_canonical_reasons"])


def test_wrong_task_model_exits_4_before_measuring(tiny, tmp_path, monkeypatch):
    """Simulated: a healthy GPU. The model is a real sequence classifier asked to generate text."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(power_trace=300.0)])
    out = tmp_path / "r.json"
    code, _, stderr = run_cli(
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-generation",
        "--device",
        "cpu",
        "-o",
        str(out),
        *FAST,
    )
    assert code == 4
    assert "BertForSequenceClassification" in stderr
    assert not out.exists()


def test_missing_model_exits_4(tmp_path):
    code, _, stderr = run_cli(
        "measure", str(tmp_path / "nope"), "--task", "text-classification", "--no-energy"
    )
    assert code == 4 and "error:" in stderr


def test_no_energy_smoke_run_on_cpu(tiny, tmp_path):
    """Nothing simulated: a performance-only run of a real tiny QA model on this CPU."""
    out = tmp_path / "qa.json"
    code, stdout, stderr = run_cli(
        "measure",
        str(tiny["question-answering"]),
        "--task",
        "question-answering",
        "--no-energy",
        "--queries",
        "30",
        "--min-window",
        "0.1",
        "-o",
        str(out),
        "--format",
        "json",
    )
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data == saved(out)
    assert data["energy"]["gpu"] is None and data["canonical"] is False
    assert data["measurement"]["meter"] == "none"
    assert data["workload"]["queries"] == 30
    assert data["workload"]["sha256"] == load_workload("question-answering").subset(30).sha256


def test_bad_options_are_usage_errors(tiny):
    code, _, stderr = run_cli("measure", str(tiny["text-classification"]), "--task", "translation")
    assert code == 2
    code, _, stderr = run_cli(
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-classification",
        "--no-energy",
        "--min-repetitions",
        "5",
        "--max-repetitions",
        "3",
    )
    assert code == 2 and "--min-repetitions" in stderr
    code, _, stderr = run_cli(
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-classification",
        "--no-energy",
        "--queries",
        "5000",
    )
    assert code == 2 and "--queries" in stderr


def test_validate_reports_json_paths(tiny, tmp_path):
    good = tmp_path / "good.json"
    code, _, _ = run_cli(
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-classification",
        "--no-energy",
        "--queries",
        "10",
        "--min-window",
        "0.05",
        "-o",
        str(good),
    )
    assert code == 0
    data = json.loads(good.read_text())
    data["energy"]["unit"] = "kWh"
    data["measurement"]["repetitions"][0]["seconds"] = -1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    not_json = tmp_path / "broken.json"
    not_json.write_text("{")

    code, stdout, _ = run_cli("validate", str(good))
    assert code == 0 and "valid" in stdout
    code, stdout, _ = run_cli("validate", str(good), str(bad), str(not_json))
    assert code == 1
    assert "$.energy.unit" in stdout
    assert "$.measurement.repetitions[0].seconds" in stdout
    assert "broken.json: INVALID" in stdout and "not JSON" in stdout


def test_canonical_claim_is_checked_by_the_schema(tiny, tmp_path):
    out = tmp_path / "r.json"
    run_cli(
        "measure",
        str(tiny["text-classification"]),
        "--task",
        "text-classification",
        "--no-energy",
        "--queries",
        "10",
        "--min-window",
        "0.05",
        "-o",
        str(out),
    )
    data = json.loads(out.read_text())
    data["canonical"] = True  # a performance-only run claiming to be canonical
    out.write_text(json.dumps(data))
    code, stdout, _ = run_cli("validate", str(out))
    assert code == 1 and "$.energy.gpu" in stdout


def test_tasks_lists_the_ten_workloads_with_hashes():
    code, stdout, _ = run_cli("tasks", "--json")
    assert code == 0
    listed = {w["task"]: w for w in json.loads(stdout)}
    assert set(listed) == {
        "text-classification",
        "sentence-similarity",
        "question-answering",
        "summarization",
        "text-generation",
        "image-classification",
        "object-detection",
        "automatic-speech-recognition",
        "image-to-text",
        "text-to-image",
    }
    for task, entry in listed.items():
        assert entry["sha256"] == load_workload(task).sha256
        assert entry["queries"] == 1000 and entry["batch_size"] == 1
    assert listed["text-generation"]["generation"]["max_new_tokens"] == 10
    assert listed["text-generation"]["default_dtype"] == "float16"
    code, stdout, _ = run_cli("tasks")
    assert code == 0 and f"{load_workload('summarization').sha256}  summarization" in stdout


def test_doctor_without_gpu_exits_3_and_never_prints_the_token(monkeypatch):
    """Simulated: no NVIDIA driver."""
    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    monkeypatch.setenv("HF_TOKEN", "hf_secretSECRETsecret123")
    code, stdout, _ = run_cli("doctor", "--json")
    assert code == 3
    report = json.loads(stdout)
    assert report["can_measure"] is False and report["reason"]
    assert report["hub_token"]["configured"] is True
    assert "hf_secret" not in stdout
    code, stdout, _ = run_cli("doctor")
    assert code == 3 and "hf_secret" not in stdout


def test_help_is_fast_and_imports_no_torch():
    code = (
        "import sys; from click.testing import CliRunner; from energy_badge.cli import main; "
        "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
        "assert 'Exit codes' in r.output; "
        "heavy = [m for m in ('torch', 'transformers', 'zeus', 'huggingface_hub') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_measure_from_the_loopback_hub_records_the_revision(tiny, tmp_path):
    """Simulated: the Hub (loopback server speaking its protocol). The real `energy-badge` process
    finds it through HF_ENDPOINT, resolves `main` to a commit sha and downloads the model."""
    from hub_server import HubServer

    files = {p.name: p.read_bytes() for p in tiny["text-classification"].iterdir() if p.is_file()}
    with HubServer() as server:
        server.create_repo("alice/tiny-tc", files)
        sha = server.head("alice/tiny-tc")
        out = tmp_path / "hub.json"
        env = {**os.environ, "HF_ENDPOINT": server.url, "HF_HOME": str(tmp_path / "hf"), "NO_COLOR": "1"}
        env.pop("HF_TOKEN", None)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "energy_badge",
                "measure",
                "alice/tiny-tc",
                "--task",
                "text-classification",
                "--no-energy",
                "--queries",
                "10",
                "--min-window",
                "0.05",
                "-o",
                str(out),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        model = saved(out)["model"]
        assert model["source"] == "hub" and model["revision"] == sha and model["id"] == "alice/tiny-tc"

        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "energy_badge",
                "measure",
                "alice/missing",
                "--task",
                "text-classification",
                "--no-energy",
                "-o",
                str(tmp_path / "missing.json"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 4, proc.stderr
        assert not (tmp_path / "missing.json").exists()


def test_random_weights_measure_the_architecture_only(tiny, tmp_path):
    """Nothing simulated: a folder with only config and tokenizer (no weights) runs with
    --random-weights, and the result says so."""
    import shutil

    folder = tmp_path / "config-only"
    shutil.copytree(tiny["text-classification"], folder)
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    out = tmp_path / "r.json"
    code, _, stderr = run_cli(
        "measure",
        str(folder),
        "--task",
        "text-classification",
        "--no-energy",
        "--queries",
        "5",
        "--min-window",
        "0.05",
        "-o",
        str(out),
    )
    assert code == 4  # no weights and no --random-weights: refused
    code, _, stderr = run_cli(
        "measure",
        str(folder),
        "--task",
        "text-classification",
        "--no-energy",
        "--queries",
        "5",
        "--min-window",
        "0.05",
        "--random-weights",
        "-o",
        str(out),
    )
    assert code == 0, stderr
    assert saved(out)["model"]["random_weights"] is True
