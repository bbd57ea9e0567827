"""`energy-badge bulk` and `energy-badge bulk-report` as a bot operator runs them.

What is simulated, and only that: the Hub's HTTP side (tests/hub_server.py, a loopback server; the
real huggingface_hub client finds it through HF_ENDPOINT). The models are REAL tiny transformers
(tests/tiny_models.py) uploaded to that Hub, measured by the REAL measure_model on this CPU with
--no-energy: such results are non-canonical, so they are recorded as measured and never
published. Crashes are real: a subprocess running `python -m energy_badge bulk` is killed with
SIGKILL, then interrupted with SIGINT, and the state is checked after each.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_server import HubServer, folder_files, running_hub
from tiny_models import build_tiny_model

from energy_badge import hub as hub_module
from energy_badge.cli import main

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_botToken0123456789abcdefghijkl"
FAST = [
    "--no-energy",
    "--queries",
    "5",
    "--idle-seconds",
    "0",
    "--min-repetitions",
    "1",
    "--max-repetitions",
    "1",
]


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """The files of a real tiny BERT classifier and of a tiny causal LM (a wrong task here)."""
    root = tmp_path_factory.mktemp("bulk-tiny")
    tasks = ("text-classification", "text-generation")
    return {task: folder_files(build_tiny_model(task, root / task)) for task in tasks}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_files) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        server.add_user("bot", TOKEN)
        for name in ("tc-a", "tc-b", "tc-c"):
            server.create_repo(f"alice/{name}", tiny_files["text-classification"])
        server.create_repo("alice/gen", tiny_files["text-generation"])
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


def cli(*args: object) -> tuple[int, str, str]:
    run = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert TOKEN not in run.stdout + run.stderr
    return run.exit_code, run.stdout, run.stderr


def read_rows(state: Path) -> dict[str, dict]:
    """The state's rows by model, read the way another process would (read-only, WAL)."""
    if not state.exists():
        return {}
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return {r["model"]: dict(r) for r in conn.execute("SELECT * FROM jobs ORDER BY id")}
    except sqlite3.OperationalError:  # the tables are not there yet
        return {}
    finally:
        conn.close()


def integrity(state: Path) -> str:
    conn = sqlite3.connect(state)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_bulk_measures_real_tiny_models_and_never_publishes_a_non_canonical_result(
    hub, tmp_path, monkeypatch
):
    """The real measure_model path (local executor, this CPU, --no-energy): measured, not published;
    a bad line and a missing model are reported; the wrong-task model fails for good."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    models = tmp_path / "models.txt"
    models.write_text(
        "# tiny models\nalice/tc-a\nalice/tc-b@main  # pinned to a branch\nnot a model\n"
        "alice/gen\nalice/missing\n",
        encoding="utf-8",
    )
    state, report = tmp_path / "bot.sqlite", tmp_path / "report"
    args = [
        "bulk",
        models,
        "--task",
        "text-classification",
        "--publish",
        "pr",
        "--state",
        state,
        "-o",
        report,
    ]
    code, out, err = cli(*args, *FAST, "--min-window", "0.05")
    assert code == 0, err
    assert f"{models}:4: one model id per line (found spaces): 'not a model' (skipped)" in err
    rows = read_rows(state)
    assert {m: r["status"] for m, r in rows.items()} == {
        "alice/tc-a": "measured",
        "alice/tc-b": "measured",
        "alice/gen": "failed",
        "alice/missing": "failed",
    }
    a = rows["alice/tc-a"]
    assert a["revision"] == hub.head("alice/tc-a") and a["hardware_class"] == "cpu" and a["canonical"] == 0
    assert a["reason"].startswith("not published: alice/tc-a: the result is not canonical (performance only")
    assert rows["alice/tc-b"]["requested_revision"] == "main"
    assert rows["alice/gen"]["permanent"] == 1 and rows["alice/gen"]["reason_code"] == "wrong-task"
    assert rows["alice/gen"]["attempts"] == 1
    assert (
        rows["alice/missing"]["revision"] == "@main" and rows["alice/missing"]["reason_code"] == "not-found"
    )
    assert hub.pull_requests("alice/tc-a") == [] and hub.count("POST", r"/commit/") == 0
    assert "completed: measured 2, published 0, failed 1 (1 could not be resolved on the Hub)" in out
    assert (report / "bulk-report.csv").is_file() and (report / "bulk-report.html").is_file()

    code, out, err = cli("bulk-report", "--state", state, "-o", tmp_path / "again")
    assert code == 0, err
    assert "failed 2, measured 2" in out
    html = (tmp_path / "again" / "bulk-report.html").read_text(encoding="utf-8")
    assert "alice/tc-a" in html and "wrong-task" in html and "not a model" in html
    code, _, err = cli("bulk-report", "--state", tmp_path / "none.sqlite")
    assert code == 4 and "no such state file" in err


def test_dry_run_plans_without_measuring_or_writing(hub, tmp_path):
    models = tmp_path / "models.txt"
    models.write_text("alice/tc-a\nalice/tc-b\n", encoding="utf-8")
    state = tmp_path / "dry.sqlite"
    code, out, err = cli("bulk", models, "--task", "text-classification", "--publish", "pr", "--dry-run",
                         "--state", state, "--hardware-class", "H100")  # fmt: skip
    assert code == 0, err
    assert "dry run: planned 2 job(s)" in out and "2 to measure" in out
    assert {r["status"] for r in read_rows(state).values()} == {"pending"}
    assert hub.count("POST", r".") == 0  # no token needed, nothing written


def test_usage_errors(hub, tmp_path):
    code, _, err = cli("bulk", "--task", "text-classification")
    assert code == 2 and "MODELS_FILE" in err
    code, _, err = cli("bulk", tmp_path / "m.txt", "--search", "x", "--task", "text-classification")
    assert code == 2 and "not both" in err
    code, _, err = cli("bulk", tmp_path / "missing.txt", "--task", "text-classification", "--dry-run")
    assert code == 4 and "cannot read" in err
    (tmp_path / "m.txt").write_text("alice/tc-a\n", encoding="utf-8")
    code, _, err = cli("bulk", tmp_path / "m.txt", "--task", "text-classification", "--publish", "pr",
                       "--state", tmp_path / "s.sqlite", *FAST)  # fmt: skip
    assert code == 4 and "needs a Hugging Face token" in err  # checked before anything is measured


def _start(models: Path, state: Path, hub: HubServer, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(
        HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"), NO_COLOR="1", HF_HUB_DISABLE_TELEMETRY="1"
    )
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, "-m", "energy_badge", "bulk", str(models), "--task", "text-classification",
               "--state", str(state), "-o", str(tmp_path / "report"), *FAST,
               "--min-window", "0.75"]  # fmt: skip
    return subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_until(condition, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early ({proc.returncode}): {proc.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the run")
        time.sleep(0.05)


def test_kill_then_sigint_then_resume(hub, tmp_path):
    """Real crashes of a real `python -m energy_badge bulk` process measuring real tiny models:
    SIGKILL after the first model (no clean-up at all), then SIGINT in the middle of a measurement;
    after each the state is consistent, and the last run finishes without redoing anything."""
    models = tmp_path / "models.txt"
    models.write_text("alice/tc-a\nalice/tc-b\nalice/tc-c\n", encoding="utf-8")
    state = tmp_path / "bot.sqlite"

    def measured() -> set[str]:
        return {m for m, r in read_rows(state).items() if r["status"] == "measured"}

    proc = _start(models, state, hub, tmp_path)  # run 1: killed after the first model
    _wait_until(lambda: len(measured()) >= 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert integrity(state) == "ok"
    rows = read_rows(state)
    (first,) = measured()
    done_at = rows[first]["finished_at"]
    assert rows[first]["attempts"] == 1
    left = [m for m, r in rows.items() if r["status"] == "measuring"]  # what the kill interrupted
    assert len(left) <= 1 and all(rows[m]["attempts"] == 1 for m in left)

    proc = _start(models, state, hub, tmp_path)  # run 2: recovers, then Ctrl-C mid-measurement
    _wait_until(lambda: len(measured()) >= 2, proc)
    _wait_until(lambda: any(r["status"] == "measuring" for r in read_rows(state).values()), proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: run the same command again to resume" in err
    rows = read_rows(state)
    assert integrity(state) == "ok"
    assert not [m for m, r in rows.items() if r["status"] in ("measuring", "publishing")]  # all put back
    (pending,) = [m for m, r in rows.items() if r["status"] == "pending"]
    assert rows[pending]["attempts"] == 0  # the interrupted attempt is not counted
    for model in left:
        assert rows[model]["status"] == "measured" and rows[model]["attempts"] == 2  # retried after the kill
    runs = sqlite3.connect(state).execute("SELECT outcome FROM runs ORDER BY id").fetchall()
    assert [r[0] for r in runs] == [None, "interrupted"]  # the killed run never said how it ended

    proc = _start(models, state, hub, tmp_path)  # run 3: finishes
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    rows = read_rows(state)
    assert {r["status"] for r in rows.values()} == {"measured"}
    assert rows[first]["finished_at"] == done_at and rows[first]["attempts"] == 1  # not redone
    assert "measured 1," in out


def test_sigterm_stops_the_run_the_way_ctrl_c_does():
    """A real SIGTERM sent to this process inside the CLI's handler becomes a KeyboardInterrupt (which
    BulkJob turns into a clean stop); the previous handler is back afterwards."""
    from energy_badge.cli.bulk import _sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), _sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal arrives first
    assert signal.getsignal(signal.SIGTERM) is before
