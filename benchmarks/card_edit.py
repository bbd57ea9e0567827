"""Throughput of the card stage, and how long it takes to answer on hostile cards.

Run with ``python benchmarks/card_edit.py``. It prints figures; it asserts nothing about time.

**Throughput**: model cards edited per second, small (~2 kB) and large (~25 kB). Three operations
per card size: a first edit (key appended, block inserted), a repeat edit on the already-edited card
(the no-op a bulk bot meets most), and ``read_metadata``.

**Hostile cards** (``--hostile``, on by default; ``--no-throughput`` prints only these): the time
``read_front_matter`` (what bulk's opt-out read does) and ``apply_to_card`` (what ``card --write``
and the edit inside ``publish`` do) take to answer, or to refuse, on

* an alias bomb: ~470 bytes of front matter, 9 levels of 10 YAML aliases (10⁹ nodes if expanded);
* a recursive alias (``a: &a [*a]``), and flow collections nested 5000 deep (10 kB);
* 250 kB (just under the cap), 1 MB and 5 MB of realistic front matter (a long ``model-index``);
* the slowest front matter the limits let through: a flow list ``[0, 0, ...]`` of just under
  25 000 nodes (75 kB; ruamel spends more per node on flow lists than on block YAML);
* a 4 MB README body with 40 000 fenced code blocks, one showing the badge markers.

Each case runs in a child process stopped after ``--limit`` seconds (default 120), so the script
also measures the code before a fix: run it with ``PYTHONPATH`` pointing at an older checkout.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CARDS = Path(__file__).resolve().parent.parent / "tests" / "cards"
sys.path.insert(0, str(CARDS.parent))

from card_samples import BADGE, METADATA  # noqa: E402 - the tests' card data (tests/card_samples.py)

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


def throughput(seconds: float) -> None:
    from energy_badge.card import apply_to_card, read_metadata

    cards = {
        "small": _sized("model_index.md", 2_000),
        "large": _sized("large_card.md", 25_000),
    }
    print(f"{'card':<6} {'bytes':>7} {'first edit/s':>13} {'repeat edit/s':>14} {'read/s':>9}")
    for label, text in cards.items():
        edited = apply_to_card(text, METADATA, BADGE).updated
        first = _rate(lambda t=text: apply_to_card(t, METADATA, BADGE), seconds)
        repeat = _rate(lambda t=edited: apply_to_card(t, METADATA, BADGE), seconds)
        read = _rate(lambda t=edited: read_metadata(t), seconds)
        print(f"{label:<6} {len(text.encode('utf-8')):>7} {first:>13.0f} {repeat:>14.0f} {read:>9.0f}")


# --------------------------------------------------------------------------------------------
# Hostile cards


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """``levels`` levels of ``width`` aliases each: width**(levels + 1) scalars once expanded."""
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "---\n" + "\n".join(lines) + "\n---\n# Bomb\n"


def large_front_matter(target_bytes: int) -> str:
    """A card whose front matter is a ``model-index`` of about ``target_bytes`` (MTEB-like results)."""
    parts = ["---\nlicense: mit\npipeline_tag: sentence-similarity\nmodel-index:\n- name: m\n  results:\n"]
    size, index = len(parts[0]), 0
    while size < target_bytes:
        chunk = (
            f"  - task:\n      type: Retrieval\n    dataset:\n      name: MTEB Task{index} (ru)\n"
            f"      type: mteb/task{index}\n      config: default\n      split: test\n"
            f"      revision: {index:040x}\n    metrics:\n    - type: ndcg_at_10\n"
            f"      value: {index % 97}.{index % 1000:03d}\n"
            f"    - type: map_at_10\n      value: 0.{index:06d}\n"
        )
        parts.append(chunk)
        size += len(chunk)
        index += 1
    return "".join(parts) + "---\n# Large\n"


def fenced_body(target_bytes: int) -> str:
    from energy_badge.card import BLOCK_END, BLOCK_START

    example = f"```md\n{BLOCK_START}\n[![badge](energy/badge.svg)](energy/result.json)\n{BLOCK_END}\n```\n\n"
    filler = "Some text about the model.\n\n```python\nprint('hello')\n```\n\n"
    text = "---\nlicense: mit\n---\n# Fenced\n\n" + example
    return text + filler * ((target_bytes - len(text)) // len(filler) + 1)


CASES: dict[str, Callable[[], str]] = {
    "alias bomb (9 x 10)": alias_bomb,
    "recursive alias": lambda: "---\na: &a [*a]\n---\n# Loop\n",
    "flow nesting 5000": lambda: "---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\n# Deep\n",
    "front matter 250 kB": lambda: large_front_matter(250_000),
    "front matter 1 MB": lambda: large_front_matter(1_000_000),
    "front matter 5 MB": lambda: large_front_matter(5_000_000),
    "flow list 24 990": lambda: "---\nx: [" + "0, " * 24_989 + "0]\n---\n# Flow\n",
    "body 4 MB, fences": lambda: fenced_body(4_000_000),
}


def _child(case: str, operation: str) -> None:
    """Run one operation on one case and print ``{"seconds": ..., "outcome": ...}`` as JSON."""
    from energy_badge.card import apply_to_card, read_front_matter

    text = CASES[case]()
    start = time.perf_counter()
    try:
        if operation == "read":
            read_front_matter(text)
        else:
            apply_to_card(text, METADATA, BADGE)
        outcome = "ok"
    except Exception as error:  # the point is to see what a hostile card does
        outcome = f"{type(error).__name__}: {str(error)[:90]}"
    print(json.dumps({"seconds": time.perf_counter() - start, "outcome": outcome}))


def _run_child(case: str, operation: str, limit: float) -> tuple[str, str]:
    command = [sys.executable, __file__, "--child", case, operation]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return f">{limit:.0f} s", "stopped: still running"
    if proc.returncode != 0:
        return "-", f"crashed: {(proc.stderr.strip().splitlines() or ['?'])[-1][:90]}"
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return f"{data['seconds']:.3f} s", data["outcome"]


def hostile(limit: float) -> None:
    print(f"hostile cards (each in a child process, stopped after {limit:.0f} s)")
    print(f"{'case':<21} {'bytes':>9} {'operation':<10} {'time':>9}  outcome")
    for case, make in CASES.items():
        size = len(make().encode("utf-8"))
        for operation in ("read", "edit"):
            seconds, outcome = _run_child(case, operation, limit)
            print(f"{case:<21} {size:>9} {operation:<10} {seconds:>9}  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="time spent per throughput figure (default 3)"
    )
    parser.add_argument("--limit", type=float, default=120.0, help="seconds before a hostile case is stopped")
    parser.add_argument("--no-throughput", action="store_true", help="only the hostile cards")
    parser.add_argument("--no-hostile", action="store_true", help="only the throughput figures")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "OPERATION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    print(
        f"card stage ({platform.python_implementation()} {platform.python_version()}, {platform.machine()})"
    )
    if not args.no_throughput:
        print("throughput, best of 3")
        throughput(args.seconds)
    if not args.no_hostile:
        hostile(args.limit)


if __name__ == "__main__":
    main()
