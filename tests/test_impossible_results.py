"""Results no GPU can produce, and JSON that breaks parsers (issue 13, items 5 and 6), and the model
id of a local folder (issue 13, "also found").

What is simulated, and only that: the result files are SYNTHETIC (tests/results_factory.py), then
edited the way an attacker or a corrupted copy would; the Hub is the loopback server
(tests/hub_server.py) with the real huggingface_hub client; the service runs in-process through
FastAPI's TestClient on a real SQLite state. The CLI runs in-process (click's CliRunner) on real
files; the local-folder test measures a real tiny model on this CPU (``--no-energy``). Nothing
waits on a clock.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli, one_error_line
from fake_clock import FakeClock
from hub_server import running_hub
from results_factory import make_result
from service_support import SECRET, TASK, payload, store_result
from tiny_models import build_tiny_model

from energy_badge import hub as hub_module
from energy_badge.bulk.inputs import ModelRef
from energy_badge.bulk.job import BulkConfig, BulkJob
from energy_badge.bulk.state import StateStore
from energy_badge.errors import EXIT_CHECK_FAILED, EXIT_INPUT, InvalidFileError
from energy_badge.files import MAX_JSON_DEPTH, parse_json, read_json
from energy_badge.result import decode_result, load_result
from energy_badge.result.physics import MIN_GPU_POWER_W, POWER_LIMIT_MARGIN

REPO = "alice/tiny-classifier"
ALICE = "hf_aliceWriteToken0123456789abcdef"
CARD = b"---\nlicense: mit\n---\n# Tiny classifier\n\nA small model.\n"
DEEP = "[" * 100_000 + "]" * 100_000


def base() -> dict[str, Any]:
    """A canonical synthetic result: five repetitions, 0.8 Wh per 1000 queries, about 520 W."""
    return make_result(model_id=REPO, samples=(0.79, 0.8, 0.81, 0.8, 0.8))


def edited(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = base()
    change(data)
    return data


def write(path: Path, data: dict[str, Any] | str) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def scale_seconds(factor: float) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for rep in data["measurement"]["repetitions"]:
            rep["seconds"] *= factor

    return change


def early_stop(data: dict[str, Any], interval: str = "target") -> None:
    """Make the result a 1.1 file whose stop rule stopped early (``interval``: what it claims)."""
    data["schema_version"] = "1.1"
    gpu = data["energy"]["gpu"]
    t_half = gpu["ci95_half_width"]
    data["measurement"]["stop"] = {
        "rule": "fixed-width-sequential-t/1",
        "target_met": True,
        "interval": interval,
        "t_half_width": t_half,
        "drift": {
            "detected": False,
            "reason": None,
            "slope_rel": None,
            "slope_t": None,
            "temperature_rise_c": None,
        },
    }
    if interval == "target":
        half = data["measurement"]["config"]["target_ci_rel"] * gpu["mean"]
        gpu.update(ci95_low=gpu["mean"] - half, ci95_high=gpu["mean"] + half, ci95_half_width=half)


def with_prefill(data: dict[str, Any]) -> None:
    """Add text generation's prefill phase (each window 30 % of the full one) and its figures."""
    from energy_badge.stats import Stats, difference, summarize

    reps = copy.deepcopy(data["measurement"]["repetitions"])
    for rep in reps:
        rep["gpu_energy_j"] *= 0.3
        rep["seconds"] *= 0.3
    data["measurement"]["prefill"] = {"stopped_because": "ci_target_met", "repetitions": reps}
    prefill = summarize([r["gpu_energy_j"] / r["queries"] * 1000 / 3600 for r in reps])
    full = Stats.from_dict(data["energy"]["gpu"])  # as recorded: the t or the fixed-width interval
    data["energy"]["prefill_gpu"] = prefill.to_dict()
    data["energy"]["decode_gpu"] = difference(full, prefill).to_dict()


# ------------------------------------------------------------------------------------------------
# Item 5: physically impossible values


def test_the_factory_results_and_the_shipped_example_are_physically_possible():
    """The checks leave honest results alone: the factory's (large and tiny energies alike), an
    early stop's fixed-width interval, a prefill phase, and examples/example-result.SYNTHETIC.json."""
    for samples in ((0.412, 0.418), (0.0021, 0.0022), (40.0, 41.0, 42.0), (0.01, 0.5, 0.02), (3000.0,)):
        decode_result(make_result(samples=samples))
    for change in (early_stop, with_prefill, lambda d: (early_stop(d), with_prefill(d))):
        decode_result(edited(change))
    load_result(Path(__file__).resolve().parents[1] / "examples" / "example-result.SYNTHETIC.json")


IMPOSSIBLE: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "negative headline": (
        lambda d: d["energy"]["gpu"].update(mean=-0.8),
        "$.energy.gpu.mean: -0.8 Wh per 1000 queries; an energy is above zero",
    ),
    "zero headline": (lambda d: d["energy"]["gpu"].update(mean=0.0), "$.energy.gpu.mean: 0 Wh per 1000"),
    "negative repetition": (
        lambda d: d["measurement"]["repetitions"][2].update(gpu_energy_j=-5.0),
        "$.measurement.repetitions[2].gpu_energy_j",
    ),
    "zero idle energy": (
        lambda d: d["measurement"]["idle"].update(gpu_energy_j=0.0, gpu_power_w=0.0),
        "$.measurement.idle.gpu_energy_j: 0 J; a GPU's energy over a window is above zero",
    ),
    "idle power below the floor": (
        lambda d: d["measurement"]["idle"].update(gpu_energy_j=1.0, gpu_power_w=0.2),
        "$.measurement.idle: mean GPU power 0.2 W is below 1 W, less than any GPU draws",
    ),
    "idle power above the limit": (
        lambda d: d["measurement"]["idle"].update(gpu_energy_j=5000.0, gpu_power_w=1000.0),
        "$.measurement.idle: mean GPU power 1000 W is above 840 W (1.2 x the recorded power limit of 700 W)",
    ),
    "a window 100 x too short": (
        scale_seconds(0.01),
        "$.measurement.repetitions[0]: mean GPU power 48765.4 W is above 840 W",
    ),
    "a window 1000 x too long": (
        scale_seconds(1000),
        "$.measurement.repetitions[0]: mean GPU power 0.487654 W is below 1 W",
    ),
    "no power limit recorded, 3 kW": (
        lambda d: (d["hardware"]["gpus"][0].update(power_limit_w=None), scale_seconds(0.16)(d)),
        "is above 2400 W (1.2 x 2000 W, as no power limit is recorded)",
    ),
    "headline not from the repetitions": (
        lambda d: d["energy"]["gpu"].update(mean=0.4),
        "$.energy.gpu.mean: 0.4, but the kept repetitions give 0.8",
    ),
    "interval edited": (
        lambda d: d["energy"]["gpu"].update(ci95_high=0.81),
        "$.energy.gpu.ci95_high: 0.81, but the kept repetitions give",
    ),
    "a sample edited": (
        lambda d: d["energy"]["gpu"]["samples"].__setitem__(0, 0.1),
        "$.energy.gpu.samples[0]: 0.1, but the kept repetitions give 0.79",
    ),
    "one repetition too many": (
        lambda d: d["measurement"]["repetitions"].append(dict(d["measurement"]["repetitions"][0], index=5)),
        "$.energy.gpu.n: 5 with 5 samples, but there are 6 kept repetitions",
    ),
    "early stop with the t interval": (
        lambda d: early_stop(d, interval="target") or d["energy"]["gpu"].update(ci95_high=0.8 + 0.004),
        "$.energy.gpu.ci95_high: 0.804, but the kept repetitions give 0.816",
    ),
    "decode not full - prefill": (
        lambda d: with_prefill(d) or d["energy"]["decode_gpu"].update(mean=0.7),
        "$.energy.decode_gpu.mean: 0.7, but the full and prefill figures give 0.56",
    ),
    "prefill headline edited": (
        lambda d: with_prefill(d) or d["energy"]["prefill_gpu"].update(mean=0.1),
        "$.energy.prefill_gpu.mean: 0.1, but the prefill repetitions give 0.24",
    ),
    "power limit 1 MW": (
        lambda d: d["hardware"]["gpus"][0].update(power_limit_w=1e6),
        "$.hardware.gpus[0].power_limit_w",
    ),
    "100 000-character model id": (
        lambda d: d["model"].update(id="org/" + "m" * 100_000),
        "$.model.id: 100004 characters, more than the 1024 allowed",
    ),
    "100 000-character GPU name": (
        lambda d: d["hardware"]["gpus"][0].update(name="NVIDIA " + "H" * 100_000),
        "$.hardware.gpus[0].name: 100007 characters, more than the 256 allowed",
    ),
    "100 000-character tool version": (
        lambda d: d["tool"].update(version="1" * 100_000),
        "$.tool.version: 100000 characters, more than the 64 allowed",
    ),
    "100 000-character software version": (
        lambda d: d["software"].update(torch="2" * 100_000),
        "$.software.torch: 100000 characters, more than the 128 allowed",
    ),
}


@pytest.mark.parametrize("case", list(IMPOSSIBLE))
def test_an_impossible_result_is_refused_by_the_codec_with_its_json_path(case):
    change, words = IMPOSSIBLE[case]
    with pytest.raises(InvalidFileError) as info:
        decode_result(edited(change), source="r.json")
    message = str(info.value)
    assert words in message, message
    assert info.value.exit_code == EXIT_INPUT and "\n" not in message and len(message) < 400


@pytest.mark.parametrize(
    "case", ["negative headline", "a window 100 x too short", "headline not from the repetitions"]
)
def test_validate_rate_badge_card_and_publish_dry_run_refuse_an_impossible_result(
    tmp_path, monkeypatch, case
):
    """Every command that reads a result answers one line and exit 4 (validate: the problem, exit 1);
    ``publish --dry-run`` refuses before it asks the Hub anything (the loopback Hub sees no request)."""
    change, words = IMPOSSIBLE[case]
    path = write(tmp_path / "r.json", edited(change))
    readme = tmp_path / "README.md"
    readme.write_bytes(CARD)
    code, out, _ = cli("validate", path)
    assert code == EXIT_CHECK_FAILED and "INVALID" in out and words in out
    with running_hub(monkeypatch, tmp_path) as hub:
        hub.add_user("alice", ALICE)
        hub.create_repo(REPO, {"README.md": CARD})
        monkeypatch.setenv("HF_TOKEN", ALICE)
        hub_module.clear_account_cache()
        head = hub.head(REPO)
        commands = [
            ("rate", path),
            ("badge", path, "-o", tmp_path / "b.svg"),
            ("badge", path, "-o", tmp_path / "l.svg", "--kind", "label"),
            ("card", path, "--readme", readme, "--write"),
            ("publish", path, "--dry-run"),
            ("publish", path, "--create-pr"),
        ]
        for args in commands:
            code, out, err = cli(*args)
            assert code == EXIT_INPUT, (args, code, out, err)
            assert words in one_error_line(err), (args, err)
        assert hub.pull_requests(REPO) == [] and hub.head(REPO) == head
    hub_module.clear_account_cache()
    assert (
        readme.read_bytes() == CARD
        and not (tmp_path / "b.svg").exists()
        and not (tmp_path / "l.svg").exists()
    )


def test_power_bounds_are_the_documented_ones():
    assert (MIN_GPU_POWER_W, POWER_LIMIT_MARGIN) == (1.0, 1.2)
    for watts, ok in ((1.0, True), (0.99, False), (840.0, True), (841.0, False)):
        data = base()
        for rep in data["measurement"]["repetitions"]:
            rep["seconds"] = rep["gpu_energy_j"] / watts
        if ok:
            decode_result(data)
        else:
            with pytest.raises(InvalidFileError, match="mean GPU power"):
                decode_result(data)


# ------------------------------------------------------------------------------------------------
# Item 6: JSON that breaks parsers, and damaged bulk states


SURROGATE = '"alice/tiny\\ud800"'  # a lone surrogate, written as JSON writes it (an escape)


def surrogate_text() -> str:
    text = json.dumps(base())
    return text.replace(f'"{REPO}"', SURROGATE, 1)


def duplicate_text() -> str:
    text = json.dumps(base())
    assert text.endswith("}")
    return text[:-1] + ', "canonical": true}'


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("surrogate", surrogate_text(), "$.model.id: a lone surrogate (U+D800) is not text"),
        ("deep", DEEP, f"JSON nested more than {MAX_JSON_DEPTH} levels deep"),
        ("duplicate", duplicate_text(), 'the key "canonical" appears twice in one object'),
    ],
)
def test_hostile_json_in_a_result_is_one_line_in_every_command(tmp_path, name, text, words):
    path = write(tmp_path / f"{name}.json", text)
    code, out, _ = cli("validate", path)
    assert code == EXIT_CHECK_FAILED and words in out
    for args in (
        ("rate", path),
        ("badge", path, "-o", tmp_path / "b.svg"),
        ("badge", path, "-o", tmp_path / "l.svg", "--kind", "label"),
        ("card", path, "--readme", write(tmp_path / "README.md", "# m\n")),
        ("publish", path, "--dry-run"),
        ("compare", path, path),
    ):
        code, _, err = cli(*args)
        assert code == EXIT_INPUT and words in one_error_line(err), (args, err)


def test_hostile_json_in_a_rating_table_is_refused(tmp_path):
    result = write(tmp_path / "r.json", base())
    for name, text, words in (
        ("deep", DEEP, "nested more than"),
        ("dup", '{"table_version": "1", "table_version": "2"}', 'the key "table_version" appears twice'),
        ("sur", '{"table_version": "\\udfff"}', "a lone surrogate (U+DFFF)"),
    ):
        path = write(tmp_path / f"{name}.json", text)
        with pytest.raises(InvalidFileError) as info:
            read_json(path)
        assert words in str(info.value)
        code, _, err = cli("rate", result, "--table", path)
        assert code == EXIT_INPUT and words in one_error_line(err)


def test_parse_json_accepts_what_json_means():
    assert parse_json('{"a": [1, {"b": "\\ud83d\\ude00"}]}', source="t") == {"a": [1, {"b": "😀"}]}
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json(nested, source="t") is not None
    with pytest.raises(InvalidFileError, match="nested more than"):
        parse_json("[" + nested + "]", source="t")
    with pytest.raises(InvalidFileError, match="not UTF-8"):
        parse_json(b'{"a": "\xff"}', source="t")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from energy_badge.service.app import create_app

    state = tmp_path / "bot.sqlite"
    app = create_app(str(state), webhook_secret=SECRET, task=TASK, hardware_class="H100")
    with TestClient(app, raise_server_exceptions=False) as client:
        client.state_path = state  # type: ignore[attr-defined]
        yield client


def replace_stored(state: Path, row_id: int, text: str) -> None:
    """Put ``text`` in a row's stored result, as a damaged or hand-edited state would hold it."""
    conn = sqlite3.connect(state)
    try:
        conn.execute(
            "UPDATE jobs SET result_json = ?, updated_at = ? WHERE id = ?", (text, "2026-12-01", row_id)
        )
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        (lambda text: text.replace(f'"{REPO}"', SURROGATE, 1), "a lone surrogate (U+D800)"),
        (lambda text: text[:-1] + ', "task": "text-classification"}', 'the key "task" appears twice'),
        (lambda text: DEEP, "nested more than"),
        (
            lambda text: text.replace('"mean": 0.8', '"mean": -0.8', 1),
            "not physically possible: $.energy.gpu.mean: -0.8",
        ),
    ],
)
def test_the_service_answers_a_bad_stored_result_with_422_not_500(service, stored, words):
    state = service.state_path
    row = store_result(state, REPO, samples=(0.8, 0.8, 0.8))
    conn = sqlite3.connect(state)
    (text,) = conn.execute("SELECT result_json FROM jobs WHERE id = ?", (row,)).fetchone()
    conn.close()
    replace_stored(state, row, stored(text))
    for fmt in ("svg", "json"):
        response = service.get(f"/badge/{REPO}.{fmt}")
        assert response.status_code == 422, response.text
        assert words in response.json()["error"]
    assert service.get("/healthz").status_code == 200
    assert service.get("/").status_code == 200  # the leaderboard still renders


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"[" * 30_000 + b"]" * 30_000, "nested more than"),  # under the 64 KiB body cap
        (json.dumps(payload())[:-1].encode() + b', "event": {}}', 'the key "event" appears twice'),
        (json.dumps(payload()).replace('"alice/tiny-classifier"', SURROGATE).encode(), "lone surrogate"),
        (b'{"a": "\xff"}', "not UTF-8"),
    ],
)
def test_a_hostile_webhook_body_gets_422(service, body, words):
    response = service.post("/webhook", content=body, headers={"X-Webhook-Secret": SECRET})
    assert response.status_code == 422, response.text
    assert words in response.json()["error"]
    conn = sqlite3.connect(service.state_path)
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone() == (0,)
    conn.close()


def test_a_hub_baseline_nested_100000_deep_is_one_line(monkeypatch, tmp_path):
    """The Action's ``baseline: hub`` downloads energy/result.json from the (loopback) Hub."""
    from energy_badge.action.steps import download_hub_baseline

    with running_hub(monkeypatch, tmp_path) as hub:
        hub.add_user("alice", ALICE)
        hub.create_repo(REPO, {"README.md": CARD, "energy/result.json": DEEP.encode()})
        monkeypatch.setenv("HF_TOKEN", ALICE)
        hub_module.clear_account_cache()
        path = download_hub_baseline(REPO, tmp_path / "dl")
        assert path is not None
        with pytest.raises(InvalidFileError, match="nested more than") as info:
            load_result(path)
        assert "\n" not in str(info.value)
    hub_module.clear_account_cache()


def test_bulk_never_publishes_an_impossible_result(monkeypatch, tmp_path):
    """The measuring step is injected (a CPU cannot measure): it returns a SYNTHETIC result whose
    headline its repetitions do not give. The job records the failure; no pull request is opened."""
    token = "hf_botToken0123456789abcdefghijkl"

    def measure(model: str, task: str, options: Any) -> dict:
        data = make_result(model_id=model, task=task, samples=(0.79, 0.8, 0.81))
        data["model"]["revision"] = options.revision
        data["energy"]["gpu"]["mean"] = 0.08
        return data

    with running_hub(monkeypatch, tmp_path) as hub:
        hub.add_user("alice")
        hub.add_user("bot", token)
        hub.create_repo("alice/m0", {"README.md": CARD, "config.json": b'{"model_type": "bert"}'})
        hub_module.clear_account_cache()
        clock = FakeClock()
        config = BulkConfig(
            task="text-classification", publish="pr", hardware_class="H100", endpoint=hub.url, token=token,
            retry_backoff_s=1.0, max_attempts=2,
        )  # fmt: skip
        with StateStore(tmp_path / "bot.sqlite") as state:
            job = BulkJob(state, config, measure=measure, sleep=clock.sleep, clock=clock)
            _, summary = job.execute([ModelRef("alice/m0", None, "test:1")])
            (row,) = state.rows()
        assert summary.published == 0 and row.status == "failed", row
        assert "not physically possible" in (row.reason or "") and "$.energy.gpu.mean" in (row.reason or "")
        assert hub.pull_requests("alice/m0") == []
    hub_module.clear_account_cache()


def damaged_state(path: Path, how: str) -> Path:
    StateStore(path).close()
    conn = sqlite3.connect(path)
    try:
        if how == "column":
            conn.execute("ALTER TABLE jobs DROP COLUMN url")
        else:
            conn.execute("DROP TABLE jobs")
        conn.commit()
    finally:
        conn.close()
    return path


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("column", "the state's jobs table has no url column: a damaged state file"),
        ("table", "the state has no jobs table: a damaged state file"),
    ],
)
def test_bulk_and_bulk_report_refuse_a_damaged_state_in_one_line(tmp_path, how, words):
    state = damaged_state(tmp_path / "bot.sqlite", how)
    models = write(tmp_path / "models.txt", "alice/m0\n")
    code, _, err = cli("bulk-report", "--state", state, "-o", tmp_path / "report")
    assert code == EXIT_INPUT and words in one_error_line(err)
    code, _, err = cli("bulk", models, "--task", "text-classification", "--state", state, "--no-energy")
    assert code == EXIT_INPUT and words in one_error_line(err)
    assert not (tmp_path / "report").exists()


def test_a_state_from_before_the_pushes_table_still_opens(tmp_path):
    """``pushes`` came later within state version 1: a state without it is completed, not refused."""
    path = tmp_path / "old.sqlite"
    StateStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE pushes")
    conn.commit()
    conn.close()
    with StateStore(path, exclusive=False) as state:
        assert state.rows() == []


# ------------------------------------------------------------------------------------------------
# A local folder's model id is its name; the full path stays in the raw data


@pytest.fixture(scope="module")
def deep_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    folder = root / ("checkpoints-" + "x" * 60) / "run-17" / "tiny-sentiment"
    return build_tiny_model("text-classification", folder)


def test_an_absolute_local_path_records_the_folder_name(deep_folder, tmp_path, monkeypatch):
    """Measured for real on this CPU, performance only (--no-energy, 20 queries)."""
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(
        "measure", str(deep_folder), "--task", "text-classification", "--no-energy", "--queries", "20",
        "--min-window", "0.2", "--warmup", "0", "--max-repetitions", "3",
    )  # fmt: skip
    assert code == 0, err
    (written,) = (tmp_path / "energy-results").iterdir()
    assert written.name.startswith("tiny-sentiment--text-classification--") and len(written.name) < 80
    data = json.loads(written.read_text("utf-8"))
    assert data["model"]["id"] == "tiny-sentiment" and data["model"]["source"] == "local"
    assert data["model"]["path"] == str(deep_folder.resolve())
    assert load_result(written).model.path == str(deep_folder.resolve())
    code, _, err = cli("badge", written, "-o", tmp_path / "b.svg")
    assert code == 0, err
    svg = ET.fromstring((tmp_path / "b.svg").read_text("utf-8"))
    title = "".join(svg.itertext())
    assert "tiny-sentiment" in (svg.get("aria-label") or "") + title and "checkpoints-" not in title
    assert "checkpoints-" not in (svg.get("aria-label") or "")
    code, _, err = cli("badge", written, "-o", tmp_path / "l.svg", "--kind", "label")
    assert code == 0, err
    label = (tmp_path / "l.svg").read_text("utf-8")
    assert "tiny-sentiment" in label and "checkpoints-" not in label and "run-17" not in label


def test_a_relative_org_name_folder_keeps_its_hub_like_id(deep_folder, tmp_path, monkeypatch):
    """The GPU campaign measures checkouts laid out as ``org/name`` (a link here): that id stays."""
    from energy_badge.run.source import local_model_id

    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "name").symlink_to(deep_folder, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    assert local_model_id("org/name", Path("org/name")) == "org/name"
    assert local_model_id("./org/name", Path("./org/name")) == "name"  # the link's name, not its target's
    assert local_model_id(str(deep_folder), deep_folder) == "tiny-sentiment"
    assert local_model_id(".", Path(".")) == tmp_path.resolve().name


def test_a_model_config_nested_100000_deep_is_one_line(tmp_path):
    """A model folder (a Hub download looks the same) whose config.json is hostile: measure stops
    with one line before anything loads."""
    folder = build_tiny_model("text-classification", tmp_path / "model")
    (folder / "config.json").write_text(DEEP, encoding="utf-8")
    code, _, err = cli("measure", folder, "--task", "text-classification", "--no-energy", "--queries", "5")
    last = err.strip().splitlines()[-1]  # after measure's progress lines
    assert code == EXIT_INPUT and last.startswith("error:") and "nested too deep" in last
    assert "Traceback" not in err and err.count("error:") == 1


def test_a_hub_model_listing_nested_100000_deep_is_a_hub_error():
    """Simulated: the Hub's model listing, by a loopback HTTP server whose every answer is 200 with
    JSON nested 100 000 deep (a broken or hostile endpoint); the real huggingface_hub session asks."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from energy_badge.errors import HubError
    from energy_badge.hub import HubClient, RetryPolicy

    class Deep(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = DEEP.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Deep)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = HubClient(
            endpoint=f"http://127.0.0.1:{server.server_address[1]}", retry=RetryPolicy(max_attempts=1)
        )
        with pytest.raises(HubError, match="the Hub's model listing: JSON nested more than") as info:
            client.list_models(search="bert", author=None, pipeline_tag=None, limit=5, expand=())
        assert "\n" not in str(info.value)
    finally:
        server.shutdown()
        server.server_close()
