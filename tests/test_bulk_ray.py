"""The Ray executor end to end: a REAL local Ray instance (CPU only, started once for the module).

What is simulated, and only that: the Hub's HTTP side (tests/hub_server.py, a loopback server the
Ray workers reach on 127.0.0.1). The models are REAL tiny transformers (tests/tiny_models.py)
uploaded there; each measurement is a Ray task (num_gpus=0 here: --gpus-per-task 0) running the
REAL measure_model with --no-energy; the result comes back as its JSON form and the driver
validates, rates and records it. Such results are non-canonical: measured, never published.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_server import HubServer, folder_files, running_hub
from tiny_models import build_tiny_model

from energy_badge.bulk.executors import RayExecutor, import_ray
from energy_badge.bulk.inputs import ModelRef
from energy_badge.bulk.job import BulkConfig, BulkJob
from energy_badge.bulk.state import StateStore
from energy_badge.meter import MeterConfig

# not pytest.importorskip("ray"): importing ray directly is what import_ray guards (see its docstring)
if importlib.util.find_spec("ray") is None:
    pytest.skip("the ray extra is not installed", allow_module_level=True)

FAST_METER = MeterConfig(min_repetitions=1, max_repetitions=1, min_window_s=0.05, idle_seconds=0)


@pytest.fixture(scope="module")
def ray_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, float]]:
    """One local Ray instance (2 CPUs, no GPU) for the whole module; yields (ray, start-up seconds).

    The workers get a private Hugging Face cache (HF_HOME as it is when Ray starts); Ray's token
    authentication is off, so nothing is written to ~/.ray."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(tmp_path_factory.mktemp("ray-hf-home")))
        patch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        patch.delenv("HF_TOKEN", raising=False)
        patch.setenv("RAY_AUTH_MODE", "disabled")  # else Ray 2.60 writes a token to ~/.ray
        ray = import_ray()
        started = time.monotonic()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        startup = time.monotonic() - started
    try:
        yield ray, startup
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    root = tmp_path_factory.mktemp("ray-tiny")
    tasks = ("text-classification", "text-generation")
    return {task: folder_files(build_tiny_model(task, root / task)) for task in tasks}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_files) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        for name in ("tc-a", "tc-b", "tc-c"):
            server.create_repo(f"alice/{name}", tiny_files["text-classification"])
        server.create_repo("alice/gen", tiny_files["text-generation"])
        yield server


def test_ray_measures_on_workers_and_the_driver_records(ray_instance, hub, tmp_path):
    ray, startup = ray_instance
    assert startup < 60, f"Ray took {startup:.1f} s to start"
    executor = RayExecutor(gpus_per_task=0, cpus_per_task=1)
    assert executor.capacity == 2  # 2 CPUs, one per task
    events: list[tuple[str, dict]] = []
    config = BulkConfig(
        task="text-classification",
        energy=False,
        queries=5,
        meter=FAST_METER,
        endpoint=hub.url,
        publish="none",
    )
    models = [ModelRef(f"alice/{n}", None, "test") for n in ("tc-a", "tc-b", "tc-c", "gen")]
    with StateStore(tmp_path / "ray.sqlite") as state:
        job = BulkJob(state, config, executor=executor, on_event=lambda k, d: events.append((k, d)))
        plan, summary = job.execute(models)
        assert plan.hardware_class == "cpu"  # asked of a Ray worker with the tasks' resources
        assert summary.outcome == "completed" and summary.counts == {"measured": 3, "failed": 1}
        rows = {r.model: r for r in state.rows()}
    executor.close()  # joined an instance it did not start: leaves it running
    assert ray.is_initialized()
    for name in ("tc-a", "tc-b", "tc-c"):
        row = rows[f"alice/{name}"]
        result = row.result
        assert result is not None and result.model_revision == row.revision == hub.head(f"alice/{name}")
        assert result.canonical is False and result.measurement.meter == "none"
        assert result.workload.queries == 5 and row.reason.startswith("not published: ")
    gen = rows["alice/gen"]
    assert gen.status == "failed" and gen.permanent and gen.reason_code == "wrong-task" and gen.attempts == 1
    measuring = [d["model"] for k, d in events if k == "measuring"]
    assert sorted(measuring) == ["alice/gen", "alice/tc-a", "alice/tc-b", "alice/tc-c"]  # one try each


def test_bulk_cli_with_the_ray_executor(ray_instance, hub, tmp_path):
    from click.testing import CliRunner

    from energy_badge.cli import main

    models = tmp_path / "models.txt"
    models.write_text("alice/tc-a\nalice/tc-b\n", encoding="utf-8")
    state = tmp_path / "cli.sqlite"
    args = ["bulk", str(models), "--task", "text-classification", "--executor", "ray", "--gpus-per-task", "0",
            "--no-energy", "--queries", "5", "--min-window", "0.05", "--idle-seconds", "0",
            "--min-repetitions", "1", "--max-repetitions", "1", "--state", str(state)]  # fmt: skip
    run = CliRunner().invoke(main, args, catch_exceptions=False)
    assert run.exit_code == 0, run.stderr
    assert "completed: measured 2" in run.stdout and "hardware cpu" in run.stderr
    with StateStore(state, exclusive=False) as store:
        assert store.counts() == {"measured": 2}
    run = CliRunner().invoke(main, [*args[:6], "--gpus-per-task", "1", *args[8:]], catch_exceptions=False)
    assert run.exit_code == 2 and "the Ray cluster has 0 GPU(s)" in run.stderr


def test_bulk_cli_hub_query_with_the_ray_executor(ray_instance, monkeypatch, tmp_path, tiny_files):
    """The issue's second command: models from a Hub query (HfApi.list_models against the loopback
    Hub, which is simulated), measured as Ray tasks on the real local instance (CPU, --no-energy)."""
    from click.testing import CliRunner

    from energy_badge.cli import main

    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        for name in ("bert-tc-a", "bert-tc-b"):
            server.create_repo(
                f"alice/{name}", tiny_files["text-classification"], pipeline_tag="text-classification"
            )
        server.create_repo("alice/bert-gen", tiny_files["text-generation"], pipeline_tag="text-generation")
        server.create_repo(
            "alice/other-tc", tiny_files["text-classification"], pipeline_tag="text-classification"
        )
        state = tmp_path / "query.sqlite"
        args = ["bulk", "--search", "bert", "--pipeline-tag", "text-classification", "--limit", "500",
                "--task", "text-classification", "--executor", "ray", "--gpus-per-task", "0", "--no-energy",
                "--queries", "5", "--min-window", "0.05", "--idle-seconds", "0", "--min-repetitions", "1",
                "--max-repetitions", "1", "--state", str(state)]  # fmt: skip
        run = CliRunner().invoke(main, args, catch_exceptions=False)
        assert run.exit_code == 0, run.stderr
        with StateStore(state, exclusive=False) as store:
            assert sorted(row.model for row in store.rows()) == ["alice/bert-tc-a", "alice/bert-tc-b"]
            assert store.counts() == {"measured": 2}


def test_service_worker_measures_queued_models_on_ray_two_at_a_time(ray_instance, hub, tmp_path):
    """`serve --workers 2 --executor ray`'s worker: two webhooks (the Hub's payload format, sent by
    the test) queue two models; one worker round measures both as Ray tasks (real local instance,
    CPU, the real measure_model with --no-energy). Simulated: the Hub (loopback server)."""
    from fastapi.testclient import TestClient
    from service_support import SECRET, TASK, payload

    from energy_badge.cli.serve import _worker
    from energy_badge.service.app import create_app

    state = tmp_path / "service.sqlite"
    app = create_app(str(state), webhook_secret=SECRET, task=TASK, hardware_class="cpu")
    config = BulkConfig(task=TASK, energy=False, queries=5, meter=FAST_METER, hardware_class="cpu")
    opts = {"executor": "ray", "ray_address": None, "gpus_per_task": 0.0, "gpu_index": 0, "poll": 0.1,
            "state_path": str(state)}  # fmt: skip
    worker = _worker(opts, config, in_flight=2)
    assert worker._executor.capacity == 2
    with TestClient(app) as client:
        for name in ("alice/tc-a", "alice/tc-b"):
            sent = client.post(
                "/webhook", json=payload(model=name, sha=hub.head(name)), headers={"X-Webhook-Secret": SECRET}
            )
            assert sent.status_code == 202
        try:
            summary = worker.run_once()
        finally:
            worker.close()
        assert summary is not None and summary.measured == 2, summary
        for name in ("alice/tc-a", "alice/tc-b"):
            assert client.get(f"/results/{name}").json()["model"]["revision"] == hub.head(name)


def test_several_service_workers_need_ray_and_a_hardware_class(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from energy_badge.cli import main

    monkeypatch.setenv("ENERGY_BADGE_WEBHOOK_SECRET", "whsec-test")
    base = ["serve", "--task", "text-classification", "--state", str(tmp_path / "s.sqlite"), "--port", "0"]
    run = CliRunner().invoke(main, [*base, "--hardware-class", "cpu", "--workers", "2"])
    assert run.exit_code == 2 and "--workers 2 needs --executor ray" in run.stderr
    run = CliRunner().invoke(main, [*base, "--executor", "ray", "--workers", "2"])
    assert run.exit_code == 2 and "--executor ray needs --hardware-class" in run.stderr
