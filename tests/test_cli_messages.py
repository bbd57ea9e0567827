"""What the command line says (issue 13, "also found"): one-line usage errors, the `--queries`
range, the warning when a card contradicts the result, and the README's install note.

Nothing is simulated but the Hub: the CLI runs in-process through click's CliRunner (and once as a
real subprocess, for the entry point itself); the publish test uses the loopback Hub
(tests/hub_server.py) with the real huggingface_hub client. Result files are SYNTHETIC
(tests/results_factory.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_server import Fault, HubServer, running_hub
from results_factory import write_result_file

from energy_badge import hub as hub_module
from energy_badge.card import read_metadata
from energy_badge.cli import main
from energy_badge.errors import EXIT_USAGE

ROOT = Path(__file__).resolve().parents[1]
REPO = "alice/tiny-classifier"
ALICE = "hf_aliceWriteToken0123456789abcdef"
SIMILARITY_CARD = b"---\nlicense: apache-2.0\npipeline_tag: sentence-similarity\n---\n# Tiny\n\nText.\n"


def cli(*args: object) -> tuple[int, str, str]:
    run = CliRunner().invoke(main, [str(a) for a in args], prog_name="energy-badge", catch_exceptions=False)
    return run.exit_code, run.stdout, run.stderr


# ------------------------------------------------------------------------------------------------
# Usage errors: one line, `error:`, exit code 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["measure", "org/m", "--task", "text-classification", "--queries", "5000"],
            ["1<=x<=1000", "--queries"],
        ),
        (["measure", "org/m", "--task", "no-such-task"], ["--task", "no-such-task"]),
        (["--bogus"], ["--bogus", "'energy-badge --help'"]),
        (["no-such-command"], ["no-such-command"]),
        (["card", "r.json"], ["--readme", "'energy-badge card --help'"]),
        (["compare", "a.json", "b.json", "--metric", "joules"], ["--metric", "joules"]),
    ],
)
def test_usage_errors_are_one_error_line_with_exit_code_2(args: list[str], words: list[str]) -> None:
    code, out, err = cli(*args)
    assert code == EXIT_USAGE, out + err
    assert out == ""
    (line,) = err.strip().splitlines()  # not click's `Usage: ...`, `Try ...`, blank, `Error: ...`
    assert line.startswith("error: ") and "Usage:" not in err
    assert all(word in line for word in words), line


def test_usage_error_from_the_installed_entry_point(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "energy_badge",
            "measure",
            "x",
            "--task",
            "text-classification",
            "--queries",
            "0",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == EXIT_USAGE
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: Invalid value for '--queries': 0 is not in the range 1<=x<=1000")


def test_help_and_version_still_exit_0() -> None:
    code, out, _ = cli("--help")
    assert code == 0 and "Usage:" in out and "Exit codes" in out
    code, out, _ = cli("--version")
    assert code == 0 and "energy-badge, version" in out


def test_queries_help_says_the_range() -> None:
    code, out, _ = cli("measure", "--help")
    assert code == 0
    text = " ".join(out.split())
    queries = text[text.index("--queries INTEGER RANGE") : text.index("--device")]
    assert "first N queries, 1 to 1000" in queries and "[1<=x<=1000]" in queries
    assert "x>=1]" not in queries


def test_readme_promises_what_the_cli_does() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "Errors are one line on stderr, starting with `error:`, usage errors included" in readme
    assert "| 2 | usage error: a bad option or argument |" in readme


# ------------------------------------------------------------------------------------------------
# A card that contradicts the result


def test_card_warns_when_the_pipeline_tag_contradicts_the_result(tmp_path: Path) -> None:
    result = write_result_file(tmp_path / "r.json", model_id=REPO, samples=(0.79, 0.8, 0.81, 0.8, 0.8))
    readme = tmp_path / "README.md"
    readme.write_bytes(SIMILARITY_CARD)
    code, out, err = cli("card", result, "--readme", readme, "--write")
    assert code == 0, err
    (line,) = err.strip().splitlines()
    assert line == (
        "warning: the card's pipeline_tag is sentence-similarity (it agrees with sentence-similarity), "
        "but the result measured text-classification"
    )
    assert (
        f"wrote {readme}" in out and read_metadata(readme.read_text("utf-8"))["task"] == "text-classification"
    )


def test_card_warns_when_the_result_measured_the_base_model(tmp_path: Path) -> None:
    result = write_result_file(tmp_path / "r.json", model_id="google-bert/bert-base-uncased")
    readme = tmp_path / "README.md"
    readme.write_bytes(b"---\nbase_model: google-bert/bert-base-uncased\n---\n# Fine-tuned\n")
    code, out, err = cli("card", result, "--readme", readme)
    assert code == 0, err
    assert "base_model" in err and err.startswith("warning: ") and out.startswith("--- a/README.md")


def test_card_without_contradiction_prints_no_warning(tmp_path: Path) -> None:
    result = write_result_file(tmp_path / "r.json", model_id=REPO, task="sentence-similarity")
    readme = tmp_path / "README.md"
    readme.write_bytes(SIMILARITY_CARD)
    code, _, err = cli("card", result, "--readme", readme)
    assert code == 0 and err == ""


def test_publish_warns_once_and_still_publishes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Unattended: the warning is a line of the run's output; the commit is made as usual. Someone
    pushes between our read and our commit (HTTP 412), so the card is read and edited twice: the
    warning is still said once."""
    result = write_result_file(tmp_path / "r.json", model_id=REPO, samples=(0.79, 0.8, 0.81, 0.8, 0.8))
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice", ALICE)
        server.create_repo(REPO, {"README.md": SIMILARITY_CARD, "config.json": b"{}"})
        monkeypatch.setenv("HF_TOKEN", ALICE)
        hub_module.clear_account_cache()
        try:
            code, out, err = cli("publish", result, "--dry-run")
            assert code == 0, err
            assert (
                len(re.findall(r"^warning: the card's pipeline_tag is sentence-similarity", err, re.M)) == 1
            )

            def push(hub: HubServer) -> None:
                hub.push(REPO, {"notes.txt": b"meanwhile"}, author="alice")

            hook = server.inject(Fault.on_request(push), method="POST", path=r"/commit/main$")
            code, out, err = cli("publish", result)
            assert code == 0, err
            assert hook.hits == 1 and "412" in err  # a second round
            assert len(re.findall(r"^warning: .*text-classification$", err, re.M)) == 1
            assert "committed" in out
        finally:
            hub_module.clear_account_cache()


# ------------------------------------------------------------------------------------------------
# The README's install note


def test_readme_says_how_to_install_the_cpu_build_of_torch_and_keeps_its_two_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    commands = re.findall(r"```bash\n(python3 -m venv [^\n]*)\n```", readme)
    venv = "python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && "
    assert commands[:2] == [
        venv + "pip install -e . && energy-badge measure "
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english --task text-classification",
        venv + 'pip install -e ".[test]" && ruff check . && mypy && pytest',
    ]
    assert (
        "python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 --index-url "
        "https://download.pytorch.org/whl/cpu"
    ) in commands[2:]
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert (
        'pip install -q torch==2.13.0 && pip install -q -e ".[test]" && ruff check . && mypy && pytest' in ci
    )
