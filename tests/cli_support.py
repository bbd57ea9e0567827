"""Running the CLI in-process for tests (click's ``CliRunner``), and reading its one-line errors.

Nothing is simulated here: the real ``energy-badge`` command group runs in this process.
"""

from __future__ import annotations

from click.testing import CliRunner

from energy_badge.cli import main


def cli(*args: object) -> tuple[int, str, str]:
    """Run ``energy-badge ARGS...``; return the exit code, stdout and stderr."""
    run = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return run.exit_code, run.stdout, run.stderr


def one_error_line(err: str) -> str:
    """The single ``error:`` line ``err`` must consist of (asserts there is exactly one)."""
    (line,) = err.strip().splitlines()
    assert line.startswith("error:"), line
    return line
