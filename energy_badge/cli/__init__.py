"""The ``energy-badge`` command line: a thin shell over the library.

Commands live in one module each and are imported only when used, so ``energy-badge --help``
does not import torch. Library errors become a one-line message and the exit code their class
carries (see :mod:`energy_badge.errors`); click's own usage errors (an unknown option, a value out
of range) are one line too, ``error: ... (see 'energy-badge measure --help')``, with click's exit
code 2, instead of click's three lines of usage and ``Error:``.
"""

from __future__ import annotations

import importlib
import sys
from typing import IO, Any, NoReturn

import click

from energy_badge import __version__
from energy_badge.errors import EnergyBadgeError

# name -> (module, attribute, one-line help shown by `energy-badge --help`)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "measure": (
        "energy_badge.cli.measure",
        "measure",
        "Measure a model's energy on its task's canonical workload.",
    ),
    "advise": (
        "energy_badge.cli.advise",
        "advise",
        "Sweep batch size, dtype, quantization, attention, compile: least energy that keeps the answers.",
    ),
    "validate": ("energy_badge.cli.validate", "validate", "Check result files against the result schema."),
    "tasks": ("energy_badge.cli.tasks", "tasks", "List the canonical workloads: versions, hashes, settings."),
    "doctor": (
        "energy_badge.cli.doctor",
        "doctor",
        "Say whether this machine can measure energy, and why not.",
    ),
    "rate": ("energy_badge.cli.rate", "rate", "Rate a result: stars against the rating table."),
    "calibrate": ("energy_badge.cli.rate", "calibrate", "Build a rating table from a population of results."),
    "badge": ("energy_badge.cli.badge", "badge", "Draw a result's badge or label (SVG, PNG, shields JSON)."),
    "card": ("energy_badge.cli.card", "card", "Show (or write) the model-card change for a result."),
    "publish": ("energy_badge.cli.publish", "publish", "Commit the badge, card block and result to the Hub."),
    "compare": (
        "energy_badge.cli.compare",
        "compare",
        "Compare a result with a baseline; exit code 1 on an energy regression.",
    ),
    "bulk": (
        "energy_badge.cli.bulk",
        "bulk",
        "Measure and badge many Hub models: resumable, Ray on many GPUs, throttled writes.",
    ),
    "bulk-report": (
        "energy_badge.cli.bulk",
        "bulk_report",
        "Write the CSV and HTML report of a bulk state file.",
    ),
    "serve": (
        "energy_badge.cli.serve",
        "serve",
        "Run the badge service: Hub webhooks in, live badges and a leaderboard out.",
    ),
    "worker": (
        "energy_badge.cli.serve",
        "worker",
        "Measure and publish the jobs the badge service queued (same code as bulk).",
    ),
}

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 a check failed, 2 usage error, 3 this machine cannot measure, "
    "4 model or input problem, 5 runtime failure."
)


def fail(error: EnergyBadgeError) -> NoReturn:
    """Print ``error`` as one line on stderr and exit with its code."""
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


class _OneLineError(click.ClickException):
    """A click error (usage or other) shown as one ``error:`` line, with the original's exit code."""

    def __init__(self, error: click.ClickException) -> None:
        from energy_badge.text import one_line

        message = one_line(error.format_message(), limit=1000)
        ctx = getattr(error, "ctx", None)
        if isinstance(error, click.UsageError) and ctx is not None:
            message += f" (see '{ctx.command_path} --help')"
        super().__init__(message)
        setattr(self, "exit_code", error.exit_code)  # noqa: B010 - a ClassVar in click's stubs, set per error

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, with library errors mapped to exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing uses the table above, so `--help` imports no command module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry[2]) for name, entry in _COMMANDS.items()])

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:  # noqa: D102 - the group's own options (`energy-badge --bogus`)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _OneLineError:
            raise
        except click.ClickException as error:
            raise _OneLineError(error) from error

    def invoke(self, ctx: click.Context) -> object:  # noqa: D102
        try:
            return super().invoke(ctx)
        except EnergyBadgeError as error:
            fail(error)
        except _OneLineError:
            raise
        except click.ClickException as error:  # a subcommand's usage error, or an unknown command
            raise _OneLineError(error) from error


@click.group(cls=_LazyGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="energy-badge")
def main() -> None:
    """Measure how much energy a Hugging Face model uses on a fixed, task-specific workload,
    rate it 1-5 stars against its peers, and badge its model card.

    \b
    Typical use, on a GPU machine:
      energy-badge doctor
      energy-badge measure org/model --task text-classification
      energy-badge rate energy-results/<model>.json
      energy-badge publish energy-results/<model>.json --create-pr
    """
