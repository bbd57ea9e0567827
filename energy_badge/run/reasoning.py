"""Reasoning on and off for text generation: the modes, the chat template's control, the record.

Chat models switch reasoning ("thinking") through their chat template, in one of three ways:

* ``enable_thinking``: a template variable (Qwen3-style). Unset means *on*, so "off" must be
  passed explicitly (``enable_thinking=False``); the template then writes an empty thinking
  block into the prompt.
* ``think_flag``: ``/think`` or ``/no_think`` in the system message (SmolLM3-style).
* ``reasoning_effort``: a template variable ``low``/``medium``/``high`` (gpt-oss-style); such a
  model cannot turn reasoning off.

A template that writes ``<think>`` but has none of these always reasons (``always``).
:func:`detect_control` reads which one a template has (from its source; nothing is executed but
the template itself, in transformers' sandboxed Jinja). Only models whose template has one of
these run through the chat template: every other model runs the workload's raw prompts, as
before, and its result records no reasoning.

Off: the workload's canonical forced new tokens. On (and the effort levels): greedy generation
that stops at end-of-sequence under a cap (:data:`DEFAULT_REASONING_CAP`, the AI Energy Score's
8192), since forcing a length would make every token a thinking token. The result records a
:class:`ReasoningRecord`: the mode asked for, the mode in effect, the control, the template's
sha256 and, when on, the tokens generated per query (:class:`OutputTokens`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from energy_badge.errors import UsageError
from energy_badge.stats import percentile

__all__ = [
    "CONTROLS",
    "DEFAULT_REASONING_CAP",
    "REASONING_CLASS_REASON",
    "REASONING_MODES",
    "Control",
    "OutputTokens",
    "ReasoningMode",
    "ReasoningRecord",
    "TemplateControl",
    "detect_control",
    "effective_mode",
    "is_reasoning",
    "output_tokens",
    "reasoning_manifest",
    "render_prompts",
    "template_sha256",
]

ReasoningMode = Literal["off", "on", "low", "medium", "high"]
#: The modes ``measure --reasoning`` takes (default ``off``).
REASONING_MODES: tuple[ReasoningMode, ...] = ("off", "on", "low", "medium", "high")
#: The template's reasoning control (``always``: the template reasons and has no switch).
Control = Literal["enable_thinking", "think_flag", "reasoning_effort", "always"]
CONTROLS: tuple[Control, ...] = ("enable_thinking", "think_flag", "reasoning_effort", "always")
#: Most new tokens per query with reasoning on (the AI Energy Score's cap).
DEFAULT_REASONING_CAP = 8192
_EFFORTS = ("low", "medium", "high")
#: Why a reasoning result has no stars: it is rated only in its own class, which no table has yet.
REASONING_CLASS_REASON = (
    "reasoning results are rated only in their own class, never against non-reasoning ones, and no "
    "rating table has entries for the reasoning class yet"
)


@dataclass(frozen=True)
class TemplateControl:
    """How a chat template switches reasoning.

    Attributes:
        control: which convention (see the module docstring).
        can_disable: whether reasoning can be turned off with it.
        template_sha256: sha256 of the template's source (UTF-8).
    """

    control: Control
    can_disable: bool
    template_sha256: str


@dataclass(frozen=True)
class OutputTokens:
    """Tokens generated per query with reasoning on (end-of-sequence included).

    Attributes:
        mean, p50, p95, max: over the workload's queries.
        hit_cap: share of queries that stopped at the cap, not at end-of-sequence (0 to 1).
    """

    mean: float
    p50: float
    p95: float
    max: int
    hit_cap: float


@dataclass(frozen=True)
class ReasoningRecord:
    """What the result records of a reasoning-capable model's run.

    Attributes:
        requested: the mode asked for (``--reasoning``).
        effective: the mode in effect: ``requested``, or ``always`` for a model that cannot turn
            reasoning off (it is then measured as it is).
        control: the template's control.
        template_sha256: sha256 of the chat template that built the prompts.
        max_new_tokens: the cap with reasoning in effect; None when off (forced tokens).
        output_tokens: tokens per query with reasoning in effect; None when off.
        note: anything the reader must know (a model that cannot turn reasoning off), else None.
        gpu_wh_per_1k_output_tokens: mean GPU energy per 1000 generated tokens (the energy per
            query over the mean tokens per query) with reasoning in effect; None when off or
            not measured. The energy per query is the result's headline figure.
    """

    requested: ReasoningMode
    effective: str
    control: Control
    template_sha256: str
    max_new_tokens: int | None = None
    output_tokens: OutputTokens | None = None
    note: str | None = None
    gpu_wh_per_1k_output_tokens: float | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON form (``workload.reasoning`` of a result)."""
        tokens = self.output_tokens
        return {
            "requested": self.requested,
            "effective": self.effective,
            "control": self.control,
            "template_sha256": self.template_sha256,
            "max_new_tokens": self.max_new_tokens,
            "output_tokens": (
                {
                    "mean": tokens.mean,
                    "p50": tokens.p50,
                    "p95": tokens.p95,
                    "max": tokens.max,
                    "hit_cap": tokens.hit_cap,
                }
                if tokens is not None
                else None
            ),
            "note": self.note,
            "gpu_wh_per_1k_output_tokens": self.gpu_wh_per_1k_output_tokens,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReasoningRecord:
        """Build from the JSON form (already schema-checked)."""
        tokens = data.get("output_tokens")
        return cls(
            requested=data["requested"],
            effective=str(data["effective"]),
            control=data["control"],
            template_sha256=str(data["template_sha256"]),
            max_new_tokens=data.get("max_new_tokens"),
            output_tokens=(
                OutputTokens(
                    float(tokens["mean"]),
                    float(tokens["p50"]),
                    float(tokens["p95"]),
                    int(tokens["max"]),
                    float(tokens["hit_cap"]),
                )
                if tokens is not None
                else None
            ),
            note=data.get("note"),
            gpu_wh_per_1k_output_tokens=data.get("gpu_wh_per_1k_output_tokens"),
        )


def is_reasoning(record: ReasoningRecord | None) -> bool:
    """Whether a run reasoned (any mode in effect but ``off``): such results form their own class."""
    return record is not None and record.effective != "off"


def template_sha256(template: str) -> str:
    """sha256 of a chat template's source (UTF-8)."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()


def detect_control(template: str | None) -> TemplateControl | None:
    """The reasoning control a chat template has, read from its source.

    Args:
        template: the template source (``tokenizer.chat_template``), or None.

    Returns:
        The control, or None when there is no template or it has nothing to do with reasoning.
    """
    if not template or not isinstance(template, str):
        return None
    digest = template_sha256(template)
    if "enable_thinking" in template:
        return TemplateControl("enable_thinking", True, digest)
    if "/no_think" in template and "/think" in template.replace("/no_think", ""):
        return TemplateControl("think_flag", True, digest)
    if "reasoning_effort" in template:
        return TemplateControl("reasoning_effort", False, digest)
    if "<think>" in template:
        return TemplateControl("always", False, digest)
    return None


def effective_mode(mode: ReasoningMode, control: TemplateControl) -> tuple[str, str | None]:
    """The mode in effect for ``mode`` under ``control``, and a note when it differs.

    Raises:
        UsageError: an effort level asked of a template that has no effort levels.
    """
    if mode in _EFFORTS and control.control in ("enable_thinking", "think_flag"):
        raise UsageError(
            f"--reasoning {mode} needs a template with reasoning effort levels; this one switches "
            f"reasoning on or off ({control.control}): use --reasoning on"
        )
    if mode == "off" and not control.can_disable:
        return "always", (
            f"this model cannot turn reasoning off (its chat template's control: {control.control}); "
            "it was measured as it is"
        )
    if mode == "on" and control.control == "reasoning_effort":
        return "on", "reasoning effort: the template's default"
    return mode, None


def render_prompts(
    tokenizer: Any, prompts: Sequence[str], mode: ReasoningMode, control: TemplateControl
) -> list[str]:
    """The workload's prompts through the model's chat template, with the mode passed explicitly.

    Each prompt is one user message; the generation prompt is added.

    Args:
        tokenizer: the model's tokenizer (with its ``chat_template``).
        prompts: the raw prompts.
        mode: the reasoning mode.
        control: the template's control (:func:`detect_control`).

    Returns:
        The rendered prompt texts (special tokens written out; tokenize without adding more).
    """
    kwargs: dict[str, object] = {}
    system: str | None = None
    if control.control == "enable_thinking":
        kwargs["enable_thinking"] = mode != "off"
    elif control.control == "think_flag":
        system = "/no_think" if mode == "off" else "/think"
    elif control.control == "reasoning_effort" and mode in _EFFORTS:
        kwargs["reasoning_effort"] = mode
    texts = []
    for prompt in prompts:
        messages = [{"role": "system", "content": system}] if system is not None else []
        messages.append({"role": "user", "content": prompt})
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kwargs)
        texts.append(str(text))
    return texts


def output_tokens(counts: Sequence[int], hit_cap: Sequence[bool]) -> OutputTokens:
    """Summarise tokens generated per query (``counts``) and whether each stopped at the cap."""
    if not counts:
        raise UsageError("no queries ran")
    values = [float(c) for c in counts]
    return OutputTokens(
        mean=sum(values) / len(values),
        p50=percentile(values, 50),
        p95=percentile(values, 95),
        max=max(counts),
        hit_cap=sum(bool(h) for h in hit_cap) / len(hit_cap),
    )


def reasoning_manifest(
    record: ReasoningRecord | None, manifest: Mapping[str, object], cap: int = DEFAULT_REASONING_CAP
) -> dict[str, object]:
    """The decoding settings a canonical run of ``record``'s mode gives ``generate()``.

    Off (or no record): the workload's own (``manifest``). Reasoning in effect: greedy, up to
    ``cap`` new tokens, stopping at end-of-sequence (``min_new_tokens`` 0).
    """
    if not is_reasoning(record) or (record is not None and record.max_new_tokens is None):
        return dict(manifest)
    return {**manifest, "max_new_tokens": cap, "min_new_tokens": 0}
