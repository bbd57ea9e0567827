"""GitHub Actions' runner interface: workflow commands on stdout, and the files it names.

Outputs go to the files the runner names, in its documented formats: ``name=value`` lines in
``$GITHUB_OUTPUT`` and ``$GITHUB_ENV`` (``name<<DELIMITER`` blocks with a random delimiter for
values with line breaks), Markdown appended to ``$GITHUB_STEP_SUMMARY``. Log lines use workflow
commands (``::group::``, ``::error::``, ``::warning::``, ``::notice::``), escaped as the runner
expects. Outside a runner, outputs and summaries go to stderr instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import uuid
from collections.abc import Iterator

__all__ = [
    "add_summary",
    "annotate",
    "command",
    "escape_data",
    "escape_property",
    "export_env",
    "group",
    "key_value_block",
    "set_output",
]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def escape_data(text: str) -> str:
    """Escape a workflow command's message (``%``, CR and LF), as the runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: str) -> str:
    """One workflow command line, e.g. ``::error title=energy-badge::message``."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotate(level: str, message: str, title: str = "energy-badge") -> None:
    """Print an ``::error::`` / ``::warning::`` / ``::notice::`` annotation on stdout."""
    print(command(level, message, title=title), flush=True)


@contextlib.contextmanager
def group(title: str) -> Iterator[None]:
    """Fold the log lines printed inside into a group (``::group::`` ... ``::endgroup::``)."""
    print(command("group", title), flush=True)
    try:
        yield
    finally:
        sys.stderr.flush()
        print("::endgroup::", flush=True)


def key_value_block(name: str, value: str) -> str:
    """``name=value`` for a one-line value, else a ``name<<DELIMITER`` block with a random delimiter.

    Raises:
        ValueError: a name the runner would not accept (empty, ``=``, line breaks).
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid output or variable name")
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:  # pragma: no cover - a random uuid does not occur by chance
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def _append(env_var: str, text: str) -> bool:
    path = os.environ.get(env_var)
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)
    return True


def set_output(name: str, value: str) -> None:
    """Set a step output (``$GITHUB_OUTPUT``); outside a runner, print it instead."""
    if not _append("GITHUB_OUTPUT", key_value_block(name, value)):
        print(f"output {name}={value}", file=sys.stderr)


def export_env(name: str, value: str) -> None:
    """Set an environment variable for the job's later steps (``$GITHUB_ENV``)."""
    _append("GITHUB_ENV", key_value_block(name, value))


def add_summary(markdown: str) -> None:
    """Append Markdown to the job summary (``$GITHUB_STEP_SUMMARY``); outside a runner, print it."""
    if not _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n"):
        print(markdown, file=sys.stderr)
