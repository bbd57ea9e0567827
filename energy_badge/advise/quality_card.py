"""A model's reported quality, from its card's ``model-index`` (the Hub's eval results).

``advise --models A B C`` puts each model's energy beside the quality its author reports. The card
is read bounded (at most 4 MiB, the front matter parsed with the card editor's limits); a card
without ``model-index`` results "reports no quality", and a card that cannot be read says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from energy_badge.errors import EnergyBadgeError

__all__ = ["ReportedMetric", "ReportedQuality", "parse_model_index", "reported_quality"]

_MAX_METRICS = 5


@dataclass(frozen=True)
class ReportedMetric:
    """One result of a card's ``model-index``: the metric on a dataset."""

    metric: str
    value: float | str
    dataset: str | None


@dataclass(frozen=True)
class ReportedQuality:
    """What a model's card reports: its first few ``model-index`` results, or why there are none."""

    metrics: tuple[ReportedMetric, ...]
    note: str | None

    def describe(self) -> str:
        """``accuracy 0.913 on sst2`` or ``reports no quality``."""
        if not self.metrics:
            return self.note or "reports no quality"
        parts = []
        for m in self.metrics[:2]:
            value = f"{m.value:.4g}" if isinstance(m.value, float) else str(m.value)
            parts.append(f"{m.metric} {value}" + (f" on {m.dataset}" if m.dataset else ""))
        return "; ".join(parts)


def parse_model_index(card_text: str) -> ReportedQuality:
    """Read the ``model-index`` results of a model card's front matter."""
    from energy_badge.card.frontmatter import parse_yaml, split_front_matter

    text = card_text.removeprefix("\ufeff")
    layout = split_front_matter(text)
    if layout is None:
        return ReportedQuality((), "reports no quality (no card metadata)")
    data = parse_yaml(text[layout.content_start : layout.content_end], layout.content_line).data
    index = data.get("model-index") if isinstance(data, dict) else None
    found: list[ReportedMetric] = []
    for entry in index if isinstance(index, list) else []:
        for result in (entry.get("results") or []) if isinstance(entry, dict) else []:
            if not isinstance(result, dict):
                continue
            dataset = result.get("dataset")
            name = str(dataset.get("name") or dataset.get("type")) if isinstance(dataset, dict) else None
            for metric in result.get("metrics") or []:
                if not isinstance(metric, dict) or "value" not in metric:
                    continue
                value = metric["value"]
                shown: float | str = float(value) if isinstance(value, (int, float)) else str(value)[:40]
                label = str(metric.get("name") or metric.get("type") or "metric")[:60]
                found.append(ReportedMetric(label, shown, name[:60] if name else None))
    if not found:
        return ReportedQuality((), "reports no quality")
    return ReportedQuality(tuple(found[:_MAX_METRICS]), None)


def reported_quality(model: str, *, token: str | None = None, endpoint: str | None = None) -> ReportedQuality:
    """The quality ``model``'s card reports (a local folder's README.md, or the Hub card).

    Never raises for an unreadable card: the reason becomes the note.
    """
    from energy_badge.card import MAX_CARD_BYTES
    from energy_badge.files import read_text

    try:
        path = Path(model).expanduser()
        if path.is_dir():
            card = path / "README.md"
            if not card.exists():
                return ReportedQuality((), "reports no quality (no model card)")
            text = read_text(card, max_bytes=MAX_CARD_BYTES, follow_symlinks=False)
        else:
            from energy_badge.hub import HubClient

            text = (
                HubClient(token=token, endpoint=endpoint)
                .read_file(model, "README.md", "main")
                .decode("utf-8")
            )
        return parse_model_index(text)
    except (EnergyBadgeError, UnicodeDecodeError) as exc:
        return ReportedQuality((), f"card not readable: {str(exc).splitlines()[0][:160]}")
