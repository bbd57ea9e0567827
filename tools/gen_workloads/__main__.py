"""Command line: ``python -m tools.gen_workloads [--out DIR] [--seed N] [--task T ...] [--check]``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from energy_badge.workload import TASKS

from .build import SEED, build

SHIPPED = Path(__file__).resolve().parents[2] / "energy_badge" / "data" / "workloads"


def main(argv: list[str] | None = None) -> int:
    """Generate the workloads, or check that the shipped ones regenerate identically.

    Args:
        argv: command-line arguments (``sys.argv[1:]`` when None).

    Returns:
        The exit code: 0 on success, 1 when ``--check`` finds a difference.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.gen_workloads", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=SHIPPED, help="folder that receives v1/ (default: shipped)"
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"generator seed (default {SEED})")
    parser.add_argument("--task", action="append", choices=TASKS, help="only this task (repeatable)")
    parser.add_argument("--check", action="store_true", help="regenerate into a temporary folder and compare")
    args = parser.parse_args(argv)
    tasks = tuple(args.task or TASKS)
    if not args.check:
        build(args.out, args.seed, tasks)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp), args.seed, tasks)
        different = []
        for task in tasks:
            name = f"v1/{task}.jsonl.gz"
            if (Path(tmp) / name).read_bytes() != (args.out / name).read_bytes():
                different.append(name)
        if len(tasks) == len(TASKS):
            name = "v1/manifest.json"
            if (Path(tmp) / name).read_bytes() != (args.out / name).read_bytes():
                different.append(name)
    for name in different:
        print(f"differs: {name}", file=sys.stderr)
    return 1 if different else 0


if __name__ == "__main__":
    raise SystemExit(main())
