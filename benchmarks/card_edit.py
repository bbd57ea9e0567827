"""Throughput of the card stage: model cards edited per second, small (~2 kB) and large (~25 kB).

Run with ``python benchmarks/card_edit.py``. It prints figures; it asserts nothing about time.
Three operations per card size: a first edit (key appended, block inserted), a repeat edit on the
already-edited card (the no-op a bulk bot meets most), and ``read_metadata``.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path

from energy_badge.card import apply_to_card, read_metadata

CARDS = Path(__file__).resolve().parent.parent / "tests" / "cards"

METADATA = {
    "stars": 4,
    "task": "text-classification",
    "wh_per_1k_queries": {"value": 0.42, "ci95_low": 0.4, "ci95_high": 0.44},
    "hardware": "NVIDIA H100 80GB HBM3",
    "hardware_class": "H100",
    "workload": "text-classification@1.0.0",
    "rating_table": "2025.06",
    "measured_at": "2025-06-01",
    "tool": "energy-badge 0.1.0",
    "result": "energy/result.json",
}
BADGE = "[![AI energy: ★★★★☆ 0.42 Wh/1k](energy/badge.svg)](energy/result.json)"

FILLER = (
    "The model was evaluated on held-out data; results may differ on other domains, and users should "
    "check the limitations section before deploying it.\n\n"
)


def _sized(name: str, target_bytes: int) -> str:
    text = (CARDS / name).read_text(encoding="utf-8")
    while len(text.encode("utf-8")) < target_bytes:
        text += FILLER
    return text


def _rate(func: Callable[[], object], seconds: float) -> float:
    """Calls per second: best of three rounds of about ``seconds`` / 3 each."""
    func()  # warm up (imports, schema load)
    best = 0.0
    for _ in range(3):
        count = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            func()
            count += 1
        best = max(best, count / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent per figure (default 3)")
    args = parser.parse_args()

    cards = {
        "small": _sized("model_index.md", 2_000),
        "large": _sized("large_card.md", 25_000),
    }
    print(
        f"card edit throughput ({platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}), best of 3"
    )
    print(f"{'card':<6} {'bytes':>7} {'first edit/s':>13} {'repeat edit/s':>14} {'read/s':>9}")
    for label, text in cards.items():
        edited = apply_to_card(text, METADATA, BADGE).updated
        first = _rate(lambda t=text: apply_to_card(t, METADATA, BADGE), args.seconds)
        repeat = _rate(lambda t=edited: apply_to_card(t, METADATA, BADGE), args.seconds)
        read = _rate(lambda t=edited: read_metadata(t), args.seconds)
        print(f"{label:<6} {len(text.encode('utf-8')):>7} {first:>13.0f} {repeat:>14.0f} {read:>9.0f}")


if __name__ == "__main__":
    main()
