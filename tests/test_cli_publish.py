"""End-to-end tests of `energy-badge publish` and `energy-badge card`, as a user runs them.

What is simulated, and only that: the Hub's HTTP side (tests/hub_server.py, a loopback server that
speaks the Hub's protocol). The client is the REAL huggingface_hub, pointed at the server through
HF_ENDPOINT (which running_hub sets and energy_badge.hub.resolve_endpoint reads) with the token in
HF_TOKEN, exactly as a user's shell would. The CLI runs in-process through click's CliRunner, and
once as a subprocess (`python -m energy_badge publish ...`). Result files are SYNTHETIC
(tests/results_factory.py; their model.note says so), valid against the result schema.
"""

from __future__ import annotations

import difflib
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_server import HubServer, running_hub
from results_factory import SYNTHETIC_NOTE, write_result_file

from energy_badge import hub as hub_module
from energy_badge.card import BLOCK_END, BLOCK_START, read_metadata
from energy_badge.cli import main
from energy_badge.errors import EXIT_INPUT, EXIT_RUNTIME
from energy_badge.publish import COMMIT_TITLE
from energy_badge.result import load_result
from energy_badge.workload import load_workload

REPO = "alice/tiny-classifier"
ALICE = "hf_aliceWriteToken0123456789abcdef"
READ_ONLY = "hf_ritaReadOnlyToken0123456789abc"
TOKENS = (ALICE, READ_ONLY)
COMMIT_PATH = r"/commit/"
ROOT = Path(__file__).resolve().parents[1]
CARD = (
    "---\n"
    "# Model card metadata, see https://huggingface.co/docs/hub/model-cards\n"
    "language:\n"
    "- en\n"
    "license: apache-2.0  # the weights' licence\n"
    "tags:\n"
    "- text-classification\n"
    "# - sentiment   (not yet)\n"
    "widget:\n"
    "- text: |\n"
    "    Отличный сервис, спасибо! 좋아요 👍\n"
    "---\n"
    "\n"
    "# Tiny classifier\n"
    "\n"
    "A small sentiment model.  \n"
    "\n"
    "## Training\n"
    "\n"
    "| epoch | loss |\n"
    "|------:|-----:|\n"
    "| 1 | 0.31 |\n"
).encode()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    """A loopback Hub where alice owns alice/tiny-classifier (with CARD) and HF_TOKEN is hers."""
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice", ALICE)
        server.add_user("rita", READ_ONLY, role="read")
        server.create_repo(REPO, {"README.md": CARD, "config.json": b"{}"})
        monkeypatch.setenv("HF_TOKEN", ALICE)
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    """A canonical synthetic result of alice/tiny-classifier: 0.8 Wh per 1000 queries, 1 star."""
    return write_result_file(tmp_path / "result.json", model_id=REPO, samples=(0.79, 0.8, 0.81, 0.8, 0.8))


def cli(*args: object) -> tuple[int, str, str]:
    """Run the CLI in-process; no output may ever contain a token."""
    run = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    for token in TOKENS:
        assert token not in run.stdout and token not in run.stderr
    return run.exit_code, run.stdout, run.stderr


def inserted_only(old: bytes, new: bytes) -> list[bytes]:
    """The lines ``new`` adds to ``old``; fails when any line of ``old`` was changed or removed."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    added: list[bytes] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        assert op in ("equal", "insert"), (op, a[i1:i2], b[j1:j2])
        if op == "insert":
            added += b[j1:j2]
    return added


# ------------------------------------------------------------------------------------------------
# The flow: rate -> badge -> publish


def test_rate_badge_publish_commits_once_then_finds_nothing_to_do(hub, result_file, tmp_path):
    code, out, err = cli("rate", result_file)
    assert code == 0, err
    assert "★☆☆☆☆" in out and "1 of 5" in out
    badge = tmp_path / "badge.svg"
    code, out, err = cli("badge", result_file, "-o", badge)
    assert code == 0, err
    before = hub.head(REPO)

    code, out, err = cli("publish", result_file)
    assert code == 0, err
    commit = hub.history(REPO)[0]
    assert commit.parents == [before] and hub.api_commit_count(REPO) == 1
    assert f"committed {commit.sha[:12]} to {REPO} (main)" in out
    assert f"{hub.url}/{REPO}/commit/{commit.sha}" in out
    assert "README.md, energy/badge.svg, energy/result.json" in out
    assert "AI energy: ★☆☆☆☆ 0.80 Wh per 1000 texts classified" in out
    # the commit: the badge the `badge` command drew, the result file's exact bytes, the card
    assert commit.tree["energy/badge.svg"] == badge.read_bytes()
    assert commit.tree["energy/result.json"] == result_file.read_bytes()
    assert commit.tree["config.json"] == b"{}"
    readme = commit.tree["README.md"]
    added = b"".join(inserted_only(CARD, readme)).decode()
    assert added.startswith("energy_score:\n  stars: 1\n")
    assert (
        f"{BLOCK_START}\n[![AI energy: ★☆☆☆☆ 0.80 Wh per 1000 texts classified](energy/badge.svg)]" in added
    )
    assert added.rstrip("\n").endswith(BLOCK_END)
    metadata = read_metadata(readme.decode())
    assert metadata["stars"] == 1 and metadata["result"] == "energy/result.json"
    assert metadata["workload"] == "text-classification@1.0.0"
    assert metadata["wh_per_1k_queries"] == {"value": 0.8, "ci95_low": 0.7912, "ci95_high": 0.8088}
    # the commit says how the number was measured
    assert commit.title == COMMIT_TITLE
    for words in (load_workload("text-classification").sha256, "text-classification@1.0.0",
                  "5 repetitions", "95 % interval", "0.3.0-provisional", "NVIDIA H100 80GB HBM3",
                  "remove", "generated"):  # fmt: skip
        assert words in commit.message, words
    assert "reading alice/tiny-classifier" in err  # progress on stderr

    # again: the Hub already has it, so no commit (and no commit request) at all
    posts = hub.count("POST", COMMIT_PATH)
    code, out, err = cli("publish", result_file)
    assert code == 0, err
    assert "no change: the Hub already has this badge" in out
    assert hub.head(REPO) == commit.sha and hub.api_commit_count(REPO) == 1
    assert hub.count("POST", COMMIT_PATH) == posts


def test_crlf_card_with_bom_stays_byte_exact(hub, result_file):
    card = b"\xef\xbb\xbf---\r\nlicense: mit   # keep me\r\n---\r\n# T\xc3\xadtulo\r\n\r\nTexto.  \r\n"
    hub.push(REPO, {"README.md": card}, author="alice")
    code, _, err = cli("publish", result_file)
    assert code == 0, err
    readme = hub.file(REPO, "README.md")
    assert readme.startswith(b"\xef\xbb\xbf---\r\nlicense: mit   # keep me\r\nenergy_score:\r\n")
    added = inserted_only(card, readme)
    assert added and all(line.endswith(b"\r\n") for line in added)


def test_create_pr_twice_opens_exactly_one_pull_request(hub, result_file):
    main_before = hub.head(REPO)
    code, out, err = cli("publish", result_file, "--create-pr")
    assert code == 0, err
    (pr,) = hub.pull_requests(REPO)
    assert pr.title == COMMIT_TITLE and pr.status == "open" and pr.author == "alice"
    assert f"opened pull request #{pr.num}" in out
    assert f"{hub.url}/{REPO}/discussions/{pr.num}" in out
    assert hub.head(REPO) == main_before  # main untouched
    pr_head = hub.head(REPO, f"refs/pr/{pr.num}")
    assert read_metadata(hub.file(REPO, "README.md", pr_head).decode())["stars"] == 1

    code, out, err = cli("publish", result_file, "--create-pr")
    assert code == 0, err
    assert "no change: the Hub already has this badge" in out and f"pull request #{pr.num}" in out
    assert len(hub.pull_requests(REPO)) == 1 and hub.head(REPO, f"refs/pr/{pr.num}") == pr_head

    # the author edits main: the next run brings the PR up to date instead of opening another
    hub.push(REPO, {"README.md": CARD + b"\n## Limits\n\nEnglish only.\n"}, author="alice")
    code, out, err = cli("publish", result_file, "--create-pr")
    assert code == 0, err
    assert f"updated pull request #{pr.num}" in out
    assert len(hub.pull_requests(REPO)) == 1
    assert hub.file(REPO, "README.md", f"refs/pr/{pr.num}").endswith(b"English only.\n")


def test_dry_run_prints_the_diff_and_commits_nothing(hub, result_file):
    before = hub.head(REPO)
    code, out, err = cli("publish", result_file, "--dry-run")
    assert code == 0, err
    assert "dry run" in out and f"it would commit to {REPO} (main)" in out
    assert "README.md, energy/badge.svg, energy/result.json" in out
    assert "--- a/README.md\n+++ b/README.md\n" in out
    assert "+energy_score:\n" in out and f"+{BLOCK_START}\n" in out
    assert "     Отличный сервис, спасибо! 좋아요 👍\n" in out  # a context line, unchanged
    assert hub.head(REPO) == before and hub.api_commit_count(REPO) == 0
    assert hub.count("POST", COMMIT_PATH) == 0
    code, out, _ = cli("publish", result_file, "--dry-run", "--create-pr")
    assert code == 0 and f"it would open a pull request on {REPO}" in out
    assert hub.pull_requests(REPO) == []


def test_unrated_result_is_published_with_the_reason(hub, tmp_path):
    """A 70B text-generation model: the shipped table rates size class A only, so it is unrated."""
    path = write_result_file(
        tmp_path / "big.json", model_id=REPO, task="text-generation", parameters=70_600_000_000,
        samples=(41.0, 42.0, 43.0),
    )  # fmt: skip
    code, out, err = cli("publish", path)
    assert code == 0, err
    assert "AI energy: unrated 42 Wh per 1000 replies generated" in out and "size class C" in out
    metadata = read_metadata(hub.file(REPO, "README.md").decode())
    assert metadata["stars"] is None and "size class C" in metadata["unrated_reason"]


# ------------------------------------------------------------------------------------------------
# Refusals: nothing is sent


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"batch_size": 8}, ["not canonical", "--batch-size 8 instead of the canonical 1"]),
        ({"random_weights": True}, ["random weights", "real model"]),
    ],
)  # fmt: skip
def test_a_result_that_must_not_be_a_badge_is_refused_before_any_request(hub, tmp_path, kwargs, words):
    path = write_result_file(tmp_path / "r.json", model_id=REPO, **kwargs)
    for extra in ([], ["--create-pr"], ["--dry-run"]):
        code, out, err = cli("publish", path, *extra)
        assert code == EXIT_INPUT, out + err
        (line,) = err.strip().splitlines()
        assert line.startswith("error:") and all(w in line for w in words), line
    assert hub.count("POST", COMMIT_PATH) == 0 and hub.requests == []
    code, _, err = cli("card", path, "--readme", write_bytes(tmp_path / "README.md", CARD), "--write")
    assert code == EXIT_INPUT and words[0] in err
    assert (tmp_path / "README.md").read_bytes() == CARD


def test_repo_choice(hub, tmp_path):
    local = write_result_file(tmp_path / "local.json", model_id="./my-model", source="local")
    code, _, err = cli("publish", local)
    assert code == EXIT_INPUT and "--repo" in err and "local folder" in err
    code, _, err = cli("publish", write_result_file(tmp_path / "h.json", model_id=REPO), "--repo", "bob/x")
    assert code == EXIT_INPUT and "bob/x" in err and REPO in err
    code, _, err = cli("publish", local, "--repo", "not a repo")
    assert code == EXIT_INPUT and "not a Hub model repo id" in err
    assert hub.requests == []
    code, out, err = cli("publish", local, "--repo", REPO)  # a local folder's result names its repo
    assert code == 0, err
    assert "committed" in out and hub.api_commit_count(REPO) == 1


def test_repo_not_found_exits_4(hub, tmp_path):
    path = write_result_file(tmp_path / "r.json", model_id="alice/no-such-model")
    code, _, err = cli("publish", path)
    assert code == EXIT_INPUT
    assert "alice/no-such-model" in err and "not found" in err
    assert hub.count("POST", COMMIT_PATH) == 0


def test_read_only_token_exits_4_and_is_never_shown(hub, result_file, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", READ_ONLY)
    code, out, err = cli("publish", result_file)  # cli() checks that no token is in the output
    assert code == EXIT_INPUT, out + err
    assert "no write access with this token" in err
    assert hub.api_commit_count(REPO) == 0


def test_no_token_exits_4(hub, result_file, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    code, _, err = cli("publish", result_file)
    assert code == EXIT_INPUT and "HF_TOKEN" in err
    assert hub.requests == []


def test_hub_down_exits_5(hub, result_file, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)  # the client's backoff, not really waited
    hub.stop()
    code, _, err = cli("publish", result_file)
    assert code == EXIT_RUNTIME
    (line,) = [x for x in err.splitlines() if x.startswith("error:")]
    assert "cannot reach the Hub" in line and hub.url in line
    assert waits  # it did retry, with backoff


def test_publish_as_a_subprocess_with_the_token_in_its_environment(hub, result_file, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_TOKEN=ALICE, HF_HOME=str(tmp_path / "hf-home"), NO_COLOR="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, "-m", "energy_badge", "publish", str(result_file), "--create-pr"]
    proc = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (pr,) = hub.pull_requests(REPO)
    assert f"opened pull request #{pr.num}" in proc.stdout
    assert f"{hub.url}/{REPO}/discussions/{pr.num}" in proc.stdout
    assert ALICE not in proc.stdout + proc.stderr
    proc = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "no change" in proc.stdout
    assert len(hub.pull_requests(REPO)) == 1


# ------------------------------------------------------------------------------------------------
# energy-badge card: the same change, on a local README.md


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_card_shows_the_diff_then_writes_it_atomically(tmp_path, result_file):
    readme = write_bytes(tmp_path / "README.md", CARD)
    os.chmod(readme, 0o640)
    code, out, err = cli("card", result_file, "--readme", readme)
    assert code == 0, err
    assert out.startswith("--- a/README.md\n+++ b/README.md\n")
    assert "+energy_score:\n" in out and "--write" in out
    assert readme.read_bytes() == CARD  # only shown

    code, out, err = cli("card", result_file, "--readme", readme, "--write")
    assert code == 0, err
    assert f"wrote {readme}" in out and "+energy_score:\n" in out
    written = readme.read_bytes()
    assert read_metadata(written.decode())["stars"] == 1
    inserted_only(CARD, written)
    assert stat.S_IMODE(readme.stat().st_mode) == 0o640  # the file's permissions are kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "result.json"]  # no temp file left

    mtime = readme.stat().st_mtime_ns
    code, out, _ = cli("card", result_file, "--readme", readme, "--write")
    assert code == 0 and out.startswith("no change:")
    assert readme.read_bytes() == written and readme.stat().st_mtime_ns == mtime


def test_card_matches_what_publish_commits(hub, tmp_path, result_file):
    readme = write_bytes(tmp_path / "README.md", CARD)
    assert cli("card", result_file, "--readme", readme, "--write")[0] == 0
    assert cli("publish", result_file)[0] == 0
    assert hub.file(REPO, "README.md") == readme.read_bytes()


def test_card_errors_write_nothing(tmp_path, result_file):
    broken = b"---\nlicense: mit\nlicense: apache-2.0\n---\n# Dup\n"
    readme = write_bytes(tmp_path / "README.md", broken)
    code, _, err = cli("card", result_file, "--readme", readme, "--write")
    assert code == EXIT_INPUT and "error:" in err
    assert readme.read_bytes() == broken and len(list(tmp_path.iterdir())) == 2
    code, _, err = cli("card", result_file, "--readme", tmp_path / "missing.md")
    assert code == EXIT_INPUT and "cannot read" in err
    latin1 = write_bytes(tmp_path / "latin1.md", "# Caf\xe9\n".encode("latin-1"))
    code, _, err = cli("card", result_file, "--readme", latin1, "--write")
    assert code == EXIT_INPUT and "UTF-8" in err


def test_result_factory_is_synthetic_and_valid(result_file):
    result = load_result(result_file)
    assert result.model.note == SYNTHETIC_NOTE and result.canonical
