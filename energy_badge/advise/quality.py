"""The quality guard: a setting that changes the answers is no saving.

Each point's decoded outputs on the first queries of the workload (``TaskRunner.sample_outputs``)
are compared with the canonical setting's, query by query, with one measure per task:

=====================  ===========================================================  =========
task                   measure                                                      threshold
=====================  ===========================================================  =========
text-classification    same label                                                   99 %
question-answering     same answer span                                             98 %
sentence-similarity    cosine score of the pair within 0.02 of the canonical one    98 %
summarization          same generated text (exact match of the decoded tokens)      90 %
text-generation        same generated text (exact match of the decoded tokens)      90 %
other tasks            same output (text fields equal, numbers within 0.02)         95 %
=====================  ===========================================================  =========

Greedy generation in a lower precision drifts after a few tokens on some prompts, hence the lower
threshold for the generation tasks. A point below its threshold is shown, marked, and never
recommended.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["QUALITY_MEASURES", "QualityCheck", "compare_outputs"]

#: task -> (measure in words, threshold as a share of queries).
QUALITY_MEASURES: Mapping[str, tuple[str, float]] = {
    "text-classification": ("same labels", 0.99),
    "question-answering": ("same answer spans", 0.98),
    "sentence-similarity": ("cosine scores within 0.02", 0.98),
    "summarization": ("same generated text", 0.90),
    "text-generation": ("same generated text", 0.90),
}
_DEFAULT_MEASURE = ("same outputs", 0.95)
_TOLERANCE = 0.02
#: The fields compared for each task (others are ignored: a classifier's softmax score moves
#: with the precision without changing the answer).
_FIELDS: Mapping[str, tuple[str, ...]] = {
    "text-classification": ("label",),
    "question-answering": ("start", "end"),
    "sentence-similarity": ("score",),
    "summarization": ("summary",),
    "text-generation": ("continuation",),
}

Output = Mapping[str, object]


@dataclass(frozen=True)
class QualityCheck:
    """One point's outputs against the canonical setting's.

    Attributes:
        measure: what was compared, in words (``same label``).
        agreement: share of the compared queries that agree (0 to 1).
        threshold: the least agreement that passes.
        queries: how many queries were compared.
        passed: ``agreement >= threshold``.
    """

    measure: str
    agreement: float
    threshold: float
    queries: int

    @property
    def passed(self) -> bool:
        """Whether the point keeps the canonical setting's answers."""
        return self.agreement >= self.threshold

    def describe(self) -> str:
        """``99.8 % same labels (of 50)``."""
        share = 100 * self.agreement
        digits = 0 if share in (0, 100) else 1
        return f"{share:.{digits}f} % {self.measure} (of {self.queries})"


def compare_outputs(task: str, reference: Sequence[Output], outputs: Sequence[Output]) -> QualityCheck:
    """Compare a point's outputs with the canonical setting's, query by query (matched by ``id``).

    Args:
        task: the task (chooses the measure and threshold).
        reference: the canonical setting's outputs.
        outputs: the point's outputs.

    Returns:
        The :class:`QualityCheck`; a query missing from ``outputs`` counts as a disagreement.
    """
    measure, threshold = QUALITY_MEASURES.get(task, _DEFAULT_MEASURE)
    fields = _FIELDS.get(task)
    by_id = {str(o.get("id")): o for o in outputs}
    agree = 0
    for ref in reference:
        out = by_id.get(str(ref.get("id")))
        if out is not None and _same(ref, out, fields):
            agree += 1
    total = len(reference)
    return QualityCheck(measure, agree / total if total else 0.0, threshold, total)


def _same(ref: Output, out: Output, fields: tuple[str, ...] | None) -> bool:
    keys = fields if fields is not None else tuple(k for k in ref if k != "id")
    for key in keys:
        a, b = ref.get(key), out.get(key)
        if isinstance(a, float) or isinstance(b, float):
            if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
                return False
            if not (math.isfinite(float(b)) and abs(float(a) - float(b)) <= _TOLERANCE):
                return False
        elif a != b:
            return False
    return True
