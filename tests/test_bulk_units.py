"""Unit tests of the bulk building blocks: input parsing, the token bucket, the SQLite state, the
report and the opt-out rules.

Nothing is simulated here but time: the token bucket runs on a fake clock that its sleep advances.
The state is a real SQLite file in pytest's temporary folder; the report is rendered from real rows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fake_clock import FakeClock
from results_factory import make_energy_result

from energy_badge.bulk.inputs import parse_model_lines, read_model_file, read_skip_file
from energy_badge.bulk.job import BulkConfig, card_opt_out
from energy_badge.bulk.report import CSV_COLUMNS, render_csv, write_reports
from energy_badge.bulk.state import StateStore
from energy_badge.bulk.throttle import TokenBucket
from energy_badge.card import read_front_matter
from energy_badge.errors import InvalidFileError, UsageError
from energy_badge.publish import AUTOMATED_COMMIT_TITLE, COMMIT_TITLE, commit_description, publish_plan
from energy_badge.rating import rate

# ------------------------------------------------------------------------------------------------
# Inputs


def test_model_lines_comments_revisions_and_bad_lines_with_their_numbers(tmp_path):
    text = (
        "\ufeff# models to label\n"
        "\n"
        "alice/tiny-classifier\n"
        "bob/model@v1.0   # a tag\n"
        "carol/x@refs/pr/3\n"
        "gpt2\n"
        "alice/ bad\n"
        "org/x@\n"
        "org/x@..\n"
        "./local-folder\n"
        "alice/tiny-classifier\n"
        "alice/tiny-classifier@main\n"
        "  dave/indented  \r\n"
    )
    path = tmp_path / "models.txt"
    path.write_text(text, encoding="utf-8")
    refs, problems = read_model_file(path)
    assert [(r.model, r.revision, r.source) for r in refs] == [
        ("alice/tiny-classifier", None, f"{path}:3"),
        ("bob/model", "v1.0", f"{path}:4"),
        ("carol/x", "refs/pr/3", f"{path}:5"),
        ("alice/tiny-classifier", "main", f"{path}:12"),
        ("dave/indented", None, f"{path}:13"),
    ]
    assert [(p.line, p.text) for p in problems] == [
        (6, "gpt2"),
        (7, "alice/ bad"),
        (8, "org/x@"),
        (9, "org/x@.."),
        (10, "./local-folder"),
        (11, "alice/tiny-classifier"),
    ]
    reasons = [p.reason for p in problems]
    assert "org/name" in reasons[0] and "spaces" in reasons[1] and "revision" in reasons[2]
    assert reasons[5] == "a repeat of line 3"
    assert str(problems[0]).startswith(f"{path}:6: not a Hub model id")
    assert refs[1].ref == "v1.0" and refs[0].ref == "main"


def test_skip_file_names_models_only(tmp_path):
    path = tmp_path / "skip.txt"
    path.write_text("alice/a\nbob/b@v2\n# c\n", encoding="utf-8")
    skip, problems = read_skip_file(path)
    assert skip == frozenset({"alice/a"})
    assert [(p.line, p.reason) for p in problems] == [(2, "a skip list names models, not revisions")]


def test_unreadable_model_file_is_an_input_error(tmp_path):
    with pytest.raises(InvalidFileError, match="cannot read"):
        read_model_file(tmp_path / "missing.txt")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("org/caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidFileError, match="UTF-8"):
        read_model_file(latin1)
    refs, problems = parse_model_lines([], "empty")
    assert refs == [] and problems == []


# ------------------------------------------------------------------------------------------------
# Token bucket (simulated: time)


def test_token_bucket_lets_a_burst_through_then_spaces_requests():
    clock = FakeClock()
    bucket = TokenBucket(6, 2, clock=clock, sleep=clock.sleep)  # 6 per minute: one every 10 s
    for _ in range(5):
        bucket.acquire()
    assert clock.sleeps == pytest.approx([10.0, 10.0, 10.0])  # 2 at once, then every 10 s
    clock.now += 60  # idle for a minute: refilled up to the burst only
    bucket.acquire()
    bucket.acquire()
    assert len(clock.sleeps) == 3
    bucket.acquire()
    assert clock.sleeps[-1] == pytest.approx(10.0)


def test_token_bucket_hold_obeys_the_hub_then_starts_empty():
    clock = FakeClock()
    bucket = TokenBucket(60, 5, clock=clock, sleep=clock.sleep)  # one a second, 5 at once
    bucket.hold(31.0)  # a 429 said: wait 30 s (+1)
    assert bucket.try_acquire() == pytest.approx(31.0)
    bucket.acquire()
    assert clock.sleeps == pytest.approx([31.0, 1.0])  # the wait, then an empty bucket's first token
    unlimited = TokenBucket(0, clock=clock, sleep=clock.sleep)
    assert unlimited.unlimited and unlimited.try_acquire() == 0.0
    unlimited.hold(5.0)  # a 429 holds even an unthrottled bucket
    assert unlimited.try_acquire() == pytest.approx(5.0)


# ------------------------------------------------------------------------------------------------
# State


def _row(model: str, revision: str = "a" * 40, **extra) -> dict:
    return {
        "model": model,
        "revision": revision,
        "task": "text-classification",
        "workload_version": "1.0.0",
        "hardware_class": "H100",
        "status": "pending",
        **extra,
    }


def test_state_is_wal_keyed_locked_and_recovers_a_stopped_run(tmp_path):
    path = tmp_path / "bot.sqlite"
    with StateStore(path) as state:
        assert state.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert state.insert_many([_row("a/x"), _row("a/y"), _row("a/x")]) == 2  # the key is unique
        assert state.insert_many([_row("a/x")]) == 0
        x, y = state.rows()
        state.update(x.id, status="measuring", attempts=1)
        state.update(y.id, status="publishing", attempts=1, publish_attempts=1, canonical=True)
        with pytest.raises(UsageError, match="in use by another bulk run"):
            StateStore(path)  # a second driver is refused
        with StateStore(path, exclusive=False, create=False) as reader:  # bulk-report can read
            assert reader.counts() == {"measuring": 1, "publishing": 1}
        assert state.recover([x.id, y.id], max_attempts=3) == {"measuring": 1, "publishing": 1, "gave_up": 0}
        assert [(r.status, r.attempts) for r in state.rows()] == [("pending", 1), ("measured", 1)]
        state.update(x.id, status="measuring", attempts=3)
        assert state.recover([x.id], max_attempts=3)["gave_up"] == 1
        row = state.get(x.id)
        assert row.status == "failed" and row.permanent is False and "stopped while measuring" in row.reason
        with pytest.raises(ValueError, match="unknown status"):
            state.update(x.id, status="done")
        with pytest.raises(ValueError, match="not updatable"):
            state.update(x.id, model="b/z")
    with StateStore(path) as state:  # the lock went with the first store
        assert len(state.rows()) == 2
        assert state.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_transaction_interrupted_midway_rolls_back(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as state:
        state.insert_many([_row("a/x")])
        with pytest.raises(KeyboardInterrupt), state.transaction() as conn:
            conn.execute("UPDATE jobs SET status = 'measured'")
            raise KeyboardInterrupt
        assert state.rows()[0].status == "pending"


def test_a_file_that_is_not_a_state_is_refused(tmp_path):
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InvalidFileError, match="not an energy-badge state"):
        StateStore(bogus)
    with pytest.raises(InvalidFileError, match="no such state file"):
        StateStore(tmp_path / "missing.sqlite", create=False)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    conn.commit()
    conn.close()
    with pytest.raises(InvalidFileError, match="schema version 99"):
        StateStore(other)


# ------------------------------------------------------------------------------------------------
# Opt-out and wording


def test_opt_out_keys_in_the_card_front_matter():
    card = "\ufeff---\r\nlicense: mit\r\nenergy_badge: false  # no thanks\r\n---\r\n# Model\r\n"
    data = read_front_matter(card)
    assert data == {"license": "mit", "energy_badge": False}
    assert "energy_badge: false" in card_opt_out(data)
    assert "energy_score: false" in card_opt_out({"energy_score": False})
    assert card_opt_out({"energy_badge": True}) is None
    assert card_opt_out({"energy_badge": "false"}) is None  # only a YAML boolean opts out
    assert card_opt_out(None) is None
    assert read_front_matter("# no front matter\n") is None


def test_automated_title_and_description_say_so_and_how_to_opt_out():
    result = make_energy_result(model_id="alice/tiny-classifier")
    rating = rate(result)
    plain = publish_plan(result, rating)
    bot = publish_plan(result, rating, create_pr=True, automated=True)
    assert plain.commit_title == COMMIT_TITLE and bot.commit_title == AUTOMATED_COMMIT_TITLE
    assert "automated" in bot.commit_title
    assert plain.commit_description == commit_description(result, rating)
    assert "automated" not in plain.commit_description
    text = bot.commit_description
    assert text.startswith("**This is an automated change.**")
    assert "close this pull request" in text and "`energy_badge: false`" in text
    assert text.endswith(plain.commit_description)  # the same account of how it was measured
    assert bot.files == plain.files


def test_bulk_config_checks_its_values():
    with pytest.raises(UsageError, match="--publish"):
        BulkConfig(task="text-classification", publish="maybe")
    with pytest.raises(UsageError, match="unknown task"):
        BulkConfig(task="translation")
    assert "token" not in BulkConfig(task="text-classification", token="hf_secret").to_dict()
    assert "hf_secret" not in repr(BulkConfig(task="text-classification", token="hf_secret"))


# ------------------------------------------------------------------------------------------------
# Report


def test_report_groups_escapes_and_needs_no_external_asset(tmp_path):
    with StateStore(tmp_path / "r.sqlite") as state:
        state.insert_many(
            [
                _row("a/five", "1" * 40, status="pr_open", canonical=True, stars=5, wh_per_1k=0.05,
                     url="https://hf.example/a/five/discussions/1", pr_num=1),
                _row("a/four", "2" * 40, status="published", canonical=True, stars=4, wh_per_1k=0.2,
                     url="javascript:alert(1)"),
                _row("a/cpu", "3" * 40, status="measured", canonical=False,
                     reason="not published: not canonical", reason_code="not-publishable"),
                _row("a/gone", "@main", status="failed", permanent=True,
                     reason="not found <script>x</script>", reason_code="not-found"),
                _row("a/flaky", "4" * 40, status="failed", permanent=False, reason="gave up after 3 attempts",
                     reason_code="network", attempts=3),
                _row("a/no", "5" * 40, status="skipped", reason="opted out", reason_code="opted-out"),
                _row("b/gen", "6" * 40, task="text-generation", status="measured", canonical=True, stars=None,
                     wh_per_1k=42.0),
            ]
        )  # fmt: skip
        state.add_problems(state.start_run({}), [type("P", (), {"source": "m.txt", "line": 7, "text": "<b>",
                                                                "reason": "bad"})()])  # fmt: skip
        csv_path, html_path = write_reports(state, tmp_path / "out")
        rows = state.rows()
    csv_text = csv_path.read_text(encoding="utf-8")
    assert csv_text == render_csv(rows) and csv_text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert len(csv_text.splitlines()) == 8 and "a/gone,@main" in csv_text
    page = html_path.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page  # reasons from the Hub are escaped
    assert 'href="https://hf.example/a/five/discussions/1"' in page
    assert "javascript" not in page  # only http(s) URLs become links
    assert "<link" not in page and "src=" not in page and "@import" not in page and "url(" not in page
    # star distribution: text-classification/H100 has one 5-star, one 4-star and one unrated
    (tc_row,) = [
        line for line in page.splitlines() if line.startswith("<tr><td>text-classification</td><td>H100")
    ]
    assert tc_row.count('<td class="num">') == 7 and tc_row.endswith('<td class="num">3</td></tr>')
    # failures grouped by reason, with how many are permanent
    assert '<code>not-found</code> <span class="muted">(1 permanent)</span>' in page
    assert '<code>network</code> <span class="muted">(0 permanent)</span>' in page
    assert "m.txt:7" in page and "&lt;b&gt;" in page


def test_report_of_an_empty_state(tmp_path):
    with StateStore(tmp_path / "e.sqlite") as state:
        _, html_path = write_reports(state, tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert "Nothing measured yet" in page and "0 jobs" in page
    assert Path(tmp_path / "bulk-report.csv").read_text(encoding="utf-8").count("\n") == 1


def test_an_older_state_file_opens_and_gains_the_model_index(tmp_path):
    """A state written before the model index existed (bulk only, never served) keeps its rows."""
    path = tmp_path / "old.sqlite"
    with StateStore(path) as state:
        state.insert_many([_row("a/x")])
        state.conn.execute("DROP INDEX service_jobs_by_model")
    conn = sqlite3.connect(path)
    assert "service_jobs_by_model" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    with StateStore(path, exclusive=False) as state:
        names = {r[0] for r in state.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "service_jobs_by_model" in names and [r.model for r in state.rows()] == ["a/x"]


def test_the_queue_api_the_service_uses(tmp_path):
    from energy_badge.bulk.state import JobKey

    key = JobKey("text-classification", "1.0.0", "H100")
    sha1, sha2 = "1" * 40, "2" * 40
    with StateStore(tmp_path / "s.sqlite") as state:
        first = state.enqueue("a/x", sha1, key, source="webhook")
        assert (
            first.status == "queued"
            and state.enqueue("a/x", sha1, key, source="webhook").status == "duplicate"
        )
        # without the push's parent (updatedRefs' oldSha), which is newer is unknown: ask the Hub
        assert state.enqueue("a/x", sha2, key, source="webhook").status == "unordered"
        second = state.enqueue("a/x", sha2, key, source="webhook", parent=sha1)  # pushed on sha1
        assert second.status == "queued"
        assert (
            state.get(first.row_id).status == "skipped"
            and state.get(first.row_id).reason_code == "superseded"
        )
        assert state.latest_result("a/x", canonical=False) is None
        state.update(second.row_id, status="published", result_json="{}", canonical=True, wh_per_1k=1.5,
                     commit_sha="3" * 40, finished_at="2026-01-01T00:00:00Z")  # fmt: skip
        own = state.enqueue("a/x", "3" * 40, key, source="webhook")
        assert (own.status, own.row_id) == ("ignored", second.row_id)
        found = state.latest_result("a/x", canonical=True)
        assert found is not None and found.id == second.row_id and found.canonical is True
        assert [r.id for r in state.latest_canonical_results()] == [second.row_id]
        assert state.result_text(second.row_id) == "{}" and state.result_text(first.row_id) is None


def test_the_service_has_no_sql_of_its_own():
    service = Path(__file__).resolve().parents[1] / "energy_badge" / "service"
    for path in service.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not any(word in text for word in ("SELECT ", "INSERT ", "UPDATE ", ".conn", "execute(")), path
