"""Write ``energy_badge/data/optimum_tasks.json`` from the installed optimum's ``TasksManager``.

The file holds the ``TasksManager`` tables energy-badge reads (task synonyms, each library's loader
per task, the custom classes; :mod:`energy_badge.run.optimum_table`), so that a ``measure`` process
does not import ``optimum.exporters.tasks`` (seconds: it imports diffusers' pipelines). Run it after
upgrading optimum; ``tests/test_optimum_table.py`` fails until the file matches the installed optimum.

Usage (from the repository root)::

    python -m tools.gen_optimum_table            # write the file
    python -m tools.gen_optimum_table --check    # exit 1 if the file differs from the installed optimum
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from energy_badge.run.optimum_table import TABLE_FILE, encode, snapshot

OUTPUT = Path(__file__).resolve().parent.parent / "energy_badge" / "data" / TABLE_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # optimum's import notes on optional kernels
    from optimum.exporters.tasks import TasksManager

    text = encode(snapshot(TasksManager))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} differs from the installed optimum: run python -m tools.gen_optimum_table")
            return 1
        print(f"{args.output} matches the installed optimum")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
