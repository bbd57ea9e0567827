"""Command line: ``python -m tools.gen_workloads [--out DIR] [--seed N] [--task T ...] [--check]``."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from energy_badge.workload import MEDIA_TASKS, TASKS, TEXT_TASKS

from .build import SEED, build
from .build_v2 import build_v2

SHIPPED = Path(__file__).resolve().parents[2] / "energy_badge" / "data" / "workloads"


def _files(tasks: tuple[str, ...]) -> list[str]:
    names = [f"v1/{t}.jsonl.gz" for t in tasks if t in TEXT_TASKS]
    names += [f"v2/{t}.jsonl.gz" for t in tasks if t in MEDIA_TASKS]
    if len(tasks) == len(TASKS):
        names += ["v1/manifest.json", "v2/manifest.json"]
    return names


def generate(out: Path, seed: int, tasks: tuple[str, ...], workers: int) -> None:
    """Write v1 (the text tasks) and v2 (all ten tasks' manifest, the media files) under ``out``.

    Args:
        out: the folder receiving ``v1/`` and ``v2/``.
        seed: the generator seed.
        tasks: the tasks to generate.
        workers: processes decoding media inputs.
    """
    text = tuple(t for t in tasks if t in TEXT_TASKS)
    if text:
        build(out, seed, text)
    build_v2(out, seed, tuple(t for t in tasks if t in MEDIA_TASKS), workers)


def main(argv: list[str] | None = None) -> int:
    """Generate the workloads, or check that the shipped ones regenerate identically.

    Args:
        argv: command-line arguments (``sys.argv[1:]`` when None).

    Returns:
        The exit code: 0 on success, 1 when ``--check`` finds a difference.
    """
    parser = argparse.ArgumentParser(prog="python -m tools.gen_workloads", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=SHIPPED, help="folder that receives v1/ and v2/ (default: shipped)"
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"generator seed (default {SEED})")
    parser.add_argument("--task", action="append", choices=TASKS, help="only this task (repeatable)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="decoding processes")
    parser.add_argument("--check", action="store_true", help="regenerate into a temporary folder and compare")
    args = parser.parse_args(argv)
    tasks = tuple(args.task or TASKS)
    if not args.check:
        generate(args.out, args.seed, tasks, args.workers)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        # v2's text entries come from v1's manifest, and a partial run keeps v2's other entries.
        shutil.copytree(args.out / "v1", Path(tmp) / "v1")
        (Path(tmp) / "v2").mkdir()
        shutil.copy(args.out / "v2" / "manifest.json", Path(tmp) / "v2" / "manifest.json")
        generate(Path(tmp), args.seed, tasks, args.workers)
        different = [
            name
            for name in _files(tasks)
            if (Path(tmp) / name).read_bytes() != (args.out / name).read_bytes()
        ]
    for name in different:
        print(f"differs: {name}", file=sys.stderr)
    return 1 if different else 0


if __name__ == "__main__":
    raise SystemExit(main())
