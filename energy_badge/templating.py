"""The HTML pages' template engine: Jinja2, templates in ``energy_badge/templates/``, autoescaped.

Used by the bulk report (:mod:`energy_badge.bulk.report`) and the service's leaderboard page
(:mod:`energy_badge.service.page`). The Python side gathers plain values (text, numbers); the markup
lives in the templates. Every ``{{ value }}`` is HTML-escaped whatever the template's name (autoescape
is on for all of them), ``None`` renders as nothing, and a name the template does not receive is an
error instead of an empty string. No template marks a value ``|safe``: model ids, reasons and card
values come from the Hub or from users (``tests/test_templates.py`` checks this).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

__all__ = ["environment", "render"]


def _finalize(value: Any) -> Any:
    return "" if value is None else value


@cache
def environment() -> jinja2.Environment:
    """The shared environment (templates are compiled once per process)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("energy_badge", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` (under ``energy_badge/templates/``) with ``context``."""
    return environment().get_template(name).render(**context)
