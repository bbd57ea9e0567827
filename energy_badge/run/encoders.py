"""The encoder tasks' runners: text classification, sentence similarity, extractive QA.

One forward pass per batch; decoding (labels, cosine scores, answer spans) happens outside the
measured window, in :meth:`~energy_badge.run.runner.TaskRunner.sample_outputs`.
"""

from __future__ import annotations

from typing import Any

from energy_badge.errors import UsageError
from energy_badge.run.runner import Batch, TaskRunner

__all__ = [
    "MAX_ANSWER_TOKENS",
    "POOLING_MODES",
    "QuestionAnsweringRunner",
    "SentenceSimilarityRunner",
    "TextClassificationRunner",
    "pool",
]

# Longest answer span (in tokens) extractive QA may return, as in the transformers QA pipeline.
MAX_ANSWER_TOKENS = 30

# Sentence-transformers pooling modes this runner implements.
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")


class TextClassificationRunner(TaskRunner):
    """Sequence classification: one forward per batch; the label is the argmax of the logits."""

    task = "text-classification"

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        texts = [q["text"] for q in queries]
        truncated = self._truncated(self._lengths(texts))
        enc = self._tokenize(texts)
        counts = enc["attention_mask"].sum(dim=1).tolist()
        return Batch([str(q["id"]) for q in queries], self._model_inputs(enc), counts), sum(truncated)

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        return self.model(**batch.inputs).logits

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        logits = result.float()
        id2label = getattr(self.model.config, "id2label", None) or {}
        out = []
        if logits.shape[-1] == 1:  # a regression head: the score is the logit itself
            for qid, value in zip(batch.ids, logits[:, 0].tolist(), strict=True):
                out.append({"id": qid, "label": None, "score": float(value)})
            return out
        probs = logits.softmax(dim=-1)
        scores, labels = probs.max(dim=-1)
        for qid, label, score in zip(batch.ids, labels.tolist(), scores.tolist(), strict=True):
            out.append({"id": qid, "label": str(id2label.get(label, label)), "score": float(score)})
        return out


class SentenceSimilarityRunner(TaskRunner):
    """Embed both sentences of each pair in one forward, pool, and score by cosine similarity.

    Args (beyond :class:`TaskRunner`):
        pooling: sentence-transformers pooling modes (concatenated when several), default mean.
        normalize: L2-normalize the embeddings (sentence-transformers ``Normalize`` module).
    """

    task = "sentence-similarity"

    def __init__(
        self, *, pooling: tuple[str, ...] = ("mean",), normalize: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        for mode in pooling:
            if mode not in POOLING_MODES:
                raise UsageError(f"unsupported sentence-transformers pooling mode {mode!r}")
        self.pooling = tuple(pooling) or ("mean",)
        self.normalize = normalize

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        first = [q["sentence1"] for q in queries]
        second = [q["sentence2"] for q in queries]
        cut1 = self._truncated(self._lengths(first))
        cut2 = self._truncated(self._lengths(second))
        enc = self._tokenize(first + second)
        per_row = enc["attention_mask"].sum(dim=1).tolist()
        n = len(queries)
        counts = [per_row[i] + per_row[n + i] for i in range(n)]
        truncated = sum(a or b for a, b in zip(cut1, cut2, strict=True))
        return Batch([str(q["id"]) for q in queries], self._model_inputs(enc), counts), truncated

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        import torch

        output = self.model(**batch.inputs)
        hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
        emb = pool(hidden, batch.inputs["attention_mask"], self.pooling)
        if self.normalize:
            emb = torch.nn.functional.normalize(emb, p=2, dim=-1)
        n = len(batch.ids)
        return torch.nn.functional.cosine_similarity(emb[:n].float(), emb[n:].float(), dim=-1)

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        return [{"id": qid, "score": float(s)} for qid, s in zip(batch.ids, result.tolist(), strict=True)]


def pool(hidden: Any, mask: Any, modes: tuple[str, ...]) -> Any:
    """Sentence-transformers pooling of token embeddings.

    Args:
        hidden: ``(batch, tokens, dim)`` token embeddings.
        mask: ``(batch, tokens)`` attention mask.
        modes: pooling modes from :data:`POOLING_MODES`; several are concatenated in that order.

    Returns:
        ``(batch, dim * len(modes))`` sentence embeddings.
    """
    import torch

    m = mask.unsqueeze(-1).to(hidden.dtype)
    parts = []
    for mode in POOLING_MODES:
        if mode not in modes:
            continue
        if mode == "cls":
            parts.append(hidden[:, 0])
        elif mode == "max":
            filled = hidden.masked_fill(m == 0, torch.finfo(hidden.dtype).min)
            parts.append(filled.max(dim=1).values)
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            total = (hidden * m).sum(dim=1)
            count = m.sum(dim=1).clamp(min=1e-9)
            parts.append(total / (count if mode == "mean" else count.sqrt()))
        elif mode == "weightedmean":
            positions = torch.arange(1, hidden.shape[1] + 1, device=hidden.device, dtype=hidden.dtype)
            w = m * positions.view(1, -1, 1)
            parts.append((hidden * w).sum(dim=1) / w.sum(dim=1).clamp(min=1e-9))
        elif mode == "lasttoken":
            positions = torch.arange(hidden.shape[1], device=hidden.device)
            last = (mask.to(torch.long) * positions).argmax(dim=1)
            parts.append(hidden[torch.arange(hidden.shape[0], device=hidden.device), last])
    return torch.cat(parts, dim=-1)


class QuestionAnsweringRunner(TaskRunner):
    """Extractive QA: the answer is the best-scoring span (start + end logits) inside the context."""

    task = "question-answering"

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:
        import torch

        questions = [q["question"] for q in queries]
        contexts = [q["context"] for q in queries]
        truncated = self._truncated(self._lengths(questions, contexts))
        try:
            enc = self._tokenize(questions, contexts, truncation="only_second", return_offsets_mapping=True)
        except Exception:  # the question alone is longer than the limit: cut both
            enc = self._tokenize(questions, contexts, truncation="longest_first", return_offsets_mapping=True)
        offsets = enc.pop("offset_mapping")
        context_mask = torch.zeros_like(enc["input_ids"], dtype=torch.bool)
        for i in range(len(queries)):
            for j, seq in enumerate(enc.sequence_ids(i)):
                if seq == 1:
                    context_mask[i, j] = True
        counts = enc["attention_mask"].sum(dim=1).tolist()
        extra = {"context_mask": context_mask, "offsets": offsets.tolist(), "contexts": contexts}
        return Batch([str(q["id"]) for q in queries], self._model_inputs(enc), counts, extra), sum(truncated)

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        import torch

        out = self.model(**batch.inputs)
        mask = batch.extra["context_mask"]
        neg = torch.finfo(torch.float32).min
        start = out.start_logits.float().masked_fill(~mask, neg)
        end = out.end_logits.float().masked_fill(~mask, neg)
        length = start.shape[1]
        ones = torch.ones(length, length, dtype=torch.bool, device=start.device)
        band = torch.triu(ones) & ~torch.triu(ones, diagonal=MAX_ANSWER_TOKENS)
        scores = (start.unsqueeze(2) + end.unsqueeze(1)).masked_fill(~band, neg)
        best = scores.flatten(1).argmax(dim=1)
        return best // length, best % length

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        starts, ends = (t.tolist() for t in result)
        mask = batch.extra["context_mask"]
        out = []
        for i, qid in enumerate(batch.ids):
            s, e = starts[i], ends[i]
            if not bool(mask[i, s]) or not bool(mask[i, e]):
                out.append({"id": qid, "answer": "", "start": None, "end": None})
                continue
            char_start = batch.extra["offsets"][i][s][0]
            char_end = batch.extra["offsets"][i][e][1]
            context = batch.extra["contexts"][i]
            out.append(
                {"id": qid, "answer": context[char_start:char_end], "start": char_start, "end": char_end}
            )
        return out
