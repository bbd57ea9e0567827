"""How much of a model card energy-badge reads, so that any card is answered in bounded time.

A model author controls the card, and everything that reads one (``card``, the edit inside
``publish``, the bulk bot's opt-out read, the badge service) must answer promptly whatever it holds:

* the whole README.md is at most :data:`MAX_CARD_BYTES` (real cards are a few kB to a few hundred);
* its YAML front matter is at most :data:`MAX_FRONT_MATTER_BYTES`: parsing is linear (about 5 s per
  MiB on a slow, busy core, so about a second at this limit), and the largest real front matter, a
  long ``model-index`` of benchmark results, stays well below it;
* it holds at most :data:`MAX_YAML_NODES` nodes (counted while ruamel composes them, so a long flow
  list ``[0, 0, ...]``, which costs more per byte than block YAML, stops there), nested at most
  :data:`MAX_YAML_DEPTH` deep, flow collections (``[...]``, ``{...}``) at most
  :data:`MAX_FLOW_DEPTH` deep (ruamel's scanner is quadratic in flow nesting);
* YAML aliases (``*name``) may add at most :data:`MAX_ALIAS_EXPANSION` nodes beyond those written:
  an "alias bomb" (a few hundred bytes that expand to 10⁹ nodes) and a recursive alias are refused
  before anything walks the data, while an anchor reused a few times still reads.

Each refusal is a :class:`CardLimitError`, an :class:`~energy_badge.errors.InvalidFileError` (exit
code 4) that names the limit. The same limits hold for the card an edit writes, so that a card
energy-badge wrote is always one it can read again: an edit that would take a card over a limit is
refused, and the card left as it was.
"""

from __future__ import annotations

from energy_badge.errors import InvalidFileError
from energy_badge.files import size_text

__all__ = [
    "CardLimitError",
    "MAX_ALIAS_EXPANSION",
    "MAX_CARD_BYTES",
    "MAX_FLOW_DEPTH",
    "MAX_FRONT_MATTER_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "check_card_size",
    "check_front_matter_size",
    "utf8_size",
]

MAX_CARD_BYTES = 4 * 1024 * 1024
"""The largest README.md energy-badge reads or edits."""

MAX_FRONT_MATTER_BYTES = 256 * 1024
"""The largest YAML front matter energy-badge parses (real cards: a few kB; a long ``model-index``
of a few hundred benchmark results stays under 100 kB)."""

MAX_YAML_NODES = 25_000
"""The most nodes (scalars, sequences, mappings, alias references) a front matter may hold: about
250 kB of a real ``model-index`` (~10 bytes per node)."""

MAX_YAML_DEPTH = 100
"""How deep collections may nest in the front matter (real cards: under 10)."""

MAX_FLOW_DEPTH = 10
"""How deep flow collections (``[...]``, ``{...}``) may nest (real cards: 1 or 2)."""

MAX_ALIAS_EXPANSION = 25_000
"""How many nodes YAML aliases may add to the front matter once expanded."""


class CardLimitError(InvalidFileError):
    """A card, or its YAML, is beyond one of the limits above."""


def utf8_size(text: str, limit: int) -> tuple[int, bool]:
    """``text``'s size in UTF-8 bytes and True; or, for a text of more than 4 × ``limit`` characters
    (certainly over the limit), its length in characters, a lower bound, and False (not encoded)."""
    if len(text) > 4 * limit:
        return len(text), False
    return len(text.encode("utf-8", "surrogatepass")), True


def _size(size: int, exact: bool) -> str:
    return size_text(size) if exact else f"over {size_text(size)}"


def check_card_size(size: int, exact: bool = True) -> None:
    """Refuse a card of ``size`` bytes above :data:`MAX_CARD_BYTES`.

    Args:
        size: the card's size in bytes (a lower bound when not ``exact``).
        exact: whether ``size`` is exact.

    Raises:
        InvalidFileError: the card is too large.
    """
    if size > MAX_CARD_BYTES:
        raise CardLimitError(
            f"model card is {_size(size, exact)}, more than the {size_text(MAX_CARD_BYTES)} energy-badge "
            "reads from a model card"
        )


def check_front_matter_size(content: str) -> None:
    """Refuse YAML front matter above :data:`MAX_FRONT_MATTER_BYTES`.

    Raises:
        InvalidFileError: the front matter is too large.
    """
    size, exact = utf8_size(content, MAX_FRONT_MATTER_BYTES)
    if size > MAX_FRONT_MATTER_BYTES:
        raise CardLimitError(
            f"the card's YAML front matter is {_size(size, exact)}, more than the "
            f"{size_text(MAX_FRONT_MATTER_BYTES)} energy-badge reads (card metadata is rarely over 100 KiB)"
        )
