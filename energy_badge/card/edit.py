"""Editing a card: the public functions of :mod:`energy_badge.card`."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from energy_badge.card.block import check_badge, place_block
from energy_badge.card.frontmatter import (
    FENCE,
    dump_metadata,
    edit_front_matter,
    parse_yaml,
    split_front_matter,
    verify_front_matter,
)
from energy_badge.card.limits import MAX_CARD_BYTES, CardLimitError, check_card_size, utf8_size
from energy_badge.card.lines import default_eol, iter_lines
from energy_badge.card.metadata import METADATA_KEY, normalize_metadata, plain, validate_metadata
from energy_badge.errors import InvalidFileError

__all__ = ["CardEdit", "apply_to_card", "apply_to_card_bytes", "read_front_matter", "read_metadata"]

_BOM = "\ufeff"


@dataclass(frozen=True)
class CardEdit:
    """The outcome of editing one card: both texts and whether they differ.

    Attributes:
        original: the card text that was given.
        updated: the card text with the metadata key and the badge block in place.
        changed: ``updated != original``; False means there is nothing to commit.
    """

    original: str
    updated: str
    changed: bool

    def diff(self, path_label: str = "README.md") -> str:
        """Return the change as a unified diff (empty when nothing changed).

        Args:
            path_label: the file name shown in the ``--- a/...`` and ``+++ b/...`` header lines.

        Returns:
            The unified diff text, with git's ``\\ No newline at end of file`` marker where a side
            does not end with a line break. Lines keep their own line endings (CRLF stays CRLF).
        """
        if not self.changed:
            return ""
        old = _diff_lines(self.original)
        new = _diff_lines(self.updated)
        return "".join(difflib.unified_diff(old, new, fromfile=f"a/{path_label}", tofile=f"b/{path_label}"))


def _diff_lines(text: str) -> list[str]:
    lines = list(iter_lines(text))
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


# --------------------------------------------------------------------------------------------
# Public API


def apply_to_card(card_text: str, metadata: Mapping[str, object], badge_markdown: str) -> CardEdit:
    """Put ``metadata`` under ``energy_score:`` and ``badge_markdown`` in the badge block.

    The key replaces an existing ``energy_score:`` where it stands (same position in the mapping)
    or is appended at the end of the mapping, just before the closing ``---``. A card without
    front matter gets one, holding only our key. The badge block replaces every existing block in
    place; a card without one gets it after the front matter, or after the first ``# `` heading
    line when that is the first non-blank line of the body, with a blank line on either side.
    Lines written use the card's own line ending.

    Args:
        card_text: the exact decoded text of README.md (a leading BOM kept as ``"\\ufeff"``).
        metadata: the metadata mapping; it must match ``card-metadata.schema.json``.
        badge_markdown: the Markdown that shows the badge, placed between the two markers.

    Returns:
        A :class:`CardEdit`; ``changed`` is False when the card already says exactly this.

    Raises:
        InvalidFileError: ``metadata`` does not match its schema; the card or its front matter is
            larger, or its YAML more nested or aliased, than :mod:`energy_badge.card.limits`
            allows; the front matter is not valid YAML, has duplicate keys (the Hub rejects them),
            is not a block mapping, or could not be edited without changing anything else; the
            badge markers (outside code) are unbalanced.
        ValueError: ``badge_markdown`` contains one of the block markers.
    """
    validate_metadata(metadata)
    check_badge(badge_markdown)
    check_card_size(*utf8_size(card_text, MAX_CARD_BYTES))
    normalized = normalize_metadata(metadata)

    bom = _BOM if card_text.startswith(_BOM) else ""
    text = card_text[len(bom) :]
    layout = split_front_matter(text)
    eol = default_eol(text)

    if layout is None:
        key_lines = dump_metadata(normalized, indent="", eol=eol)
        front = f"{FENCE}{eol}{key_lines}{FENCE}{eol}"
        head, body = front, text
        verify_front_matter(None, key_lines, normalized, location=None)
    else:
        old_content = text[layout.content_start : layout.content_end]
        new_content = edit_front_matter(old_content, normalized, layout)
        head = text[: layout.content_start] + new_content + text[layout.content_end : layout.body_start]
        body = text[layout.body_start :]

    updated = bom + head + place_block(head, body, badge_markdown, eol)
    if len(updated) > len(card_text):  # what we write must stay readable by us
        try:
            check_card_size(*utf8_size(updated, MAX_CARD_BYTES))
        except CardLimitError as error:
            raise CardLimitError(
                f"cannot add the badge: the card would then be over a limit: {error}"
            ) from None
    return CardEdit(original=card_text, updated=updated, changed=updated != card_text)


def apply_to_card_bytes(
    data: bytes, metadata: Mapping[str, object], badge_markdown: str
) -> tuple[bytes, bool]:
    """Byte-exact form of :func:`apply_to_card`, for README.md as read from disk or the Hub.

    Args:
        data: the README.md bytes (UTF-8, optionally with a BOM).
        metadata: the metadata mapping; it must match ``card-metadata.schema.json``.
        badge_markdown: the Markdown that shows the badge.

    Returns:
        ``(new_bytes, changed)``; every byte outside our key and block is the input's own.

    Raises:
        InvalidFileError: the bytes are more than :data:`~energy_badge.card.limits.MAX_CARD_BYTES`
            or not UTF-8, or as for :func:`apply_to_card`.
        ValueError: as for :func:`apply_to_card`.
    """
    check_card_size(len(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidFileError(f"model card is not valid UTF-8: {error}") from error
    edit = apply_to_card(text, metadata, badge_markdown)
    return (edit.updated.encode("utf-8") if edit.changed else data), edit.changed


def read_metadata(card_text: str) -> dict[str, object] | None:
    """Return the value of the card's ``energy_score:`` key as plain Python data.

    The value is returned as written (it is not validated; see :func:`validate_metadata`).
    Unquoted YAML dates come back as ``YYYY-MM-DD`` strings.

    Args:
        card_text: the decoded README.md text.

    Returns:
        The mapping, or None when the card has no front matter or no such key.

    Raises:
        InvalidFileError: the card is too large or its YAML too nested or aliased
            (:mod:`energy_badge.card.limits`); the front matter is not valid YAML, has duplicate
            keys, is not a mapping, or its ``energy_score`` value is not a mapping.
    """
    check_card_size(*utf8_size(card_text, MAX_CARD_BYTES))
    text = card_text[1:] if card_text.startswith(_BOM) else card_text
    layout = split_front_matter(text)
    if layout is None:
        return None
    parsed = parse_yaml(text[layout.content_start : layout.content_end], layout.content_line)
    if parsed.data is None or METADATA_KEY not in parsed.data:
        return None
    value = plain(parsed.data[METADATA_KEY])
    if not isinstance(value, dict):
        raise InvalidFileError(f"front matter key {METADATA_KEY!r} is not a mapping")
    return value


def read_front_matter(card_text: str) -> dict[str, object] | None:
    """Return the card's whole YAML front matter as plain Python data (what ``cardData`` holds).

    Args:
        card_text: the decoded README.md text.

    Returns:
        The mapping, or None when the card has no front matter (or an empty one).

    Raises:
        InvalidFileError: the card is too large or its YAML too nested or aliased
            (:mod:`energy_badge.card.limits`: any card is answered in bounded time); the front
            matter is not valid YAML, has duplicate keys, or is not a mapping.
    """
    check_card_size(*utf8_size(card_text, MAX_CARD_BYTES))
    text = card_text[1:] if card_text.startswith(_BOM) else card_text
    layout = split_front_matter(text)
    if layout is None:
        return None
    parsed = parse_yaml(text[layout.content_start : layout.content_end], layout.content_line)
    return None if parsed.data is None else plain(parsed.data)
