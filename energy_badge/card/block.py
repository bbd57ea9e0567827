"""The badge block in the card's body, between :data:`BLOCK_START` and :data:`BLOCK_END`."""

from __future__ import annotations

from energy_badge.card.lines import eol_of, is_blank, iter_lines, line_start
from energy_badge.errors import InvalidFileError

__all__ = ["BLOCK_END", "BLOCK_START", "block_spans", "check_badge", "place_block", "render_block"]

BLOCK_START = "<!-- energy-badge:start -->"
BLOCK_END = "<!-- energy-badge:end -->"


def render_block(badge_markdown: str, eol: str) -> str:
    badge = badge_markdown.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return BLOCK_START + eol + badge.replace("\n", eol) + eol + BLOCK_END


def block_spans(body: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every marker pair in ``body``.

    Raises:
        InvalidFileError: a start marker without its end marker, or the reverse, or nesting.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        start = body.find(BLOCK_START, pos)
        stray_end = body.find(BLOCK_END, pos)
        if start == -1:
            if stray_end != -1:
                raise InvalidFileError(
                    f"model card has {BLOCK_END} without {BLOCK_START}; fix the card by hand"
                )
            return spans
        if stray_end != -1 and stray_end < start:
            raise InvalidFileError(f"model card has {BLOCK_END} before {BLOCK_START}; fix the card by hand")
        end = body.find(BLOCK_END, start + len(BLOCK_START))
        nested = body.find(BLOCK_START, start + len(BLOCK_START))
        if end == -1 or (nested != -1 and nested < end):
            raise InvalidFileError(f"model card has {BLOCK_START} without a matching {BLOCK_END}")
        spans.append((start, end + len(BLOCK_END)))
        pos = end + len(BLOCK_END)


def place_block(head: str, body: str, badge_markdown: str, default_eol: str) -> str:
    """Return ``body`` with the badge block replaced in place, or inserted at its top.

    ``head`` is everything before the body (BOM-less), used for the line ending and to know
    whether the body starts on a fresh line.
    """
    spans = block_spans(body)
    if spans:
        pieces = []
        pos = 0
        for start, end in spans:
            eol = "\r\n" if body.startswith("\r\n", start + len(BLOCK_START)) else default_eol
            pieces += [body[pos:start], render_block(badge_markdown, eol)]
            pos = end
        pieces.append(body[pos:])
        return "".join(pieces)

    # Insert after the first line when it is a `# ` heading (blank lines before it skipped).
    insert_at = 0
    previous = head[line_start(head, len(head) - 1) :] if head else ""
    cursor = 0
    for line in iter_lines(body):
        cursor += len(line)
        if is_blank(line):
            continue
        if line.startswith("# "):
            insert_at, previous = cursor, line
        break
    eol = eol_of(previous, default_eol)
    before = head + body[:insert_at]
    rest = body[insert_at:]
    lead = ("" if before == "" or before.endswith("\n") else eol) + eol
    first_rest_line = next(iter_lines(rest), "")
    trail = eol + (eol if rest and not is_blank(first_rest_line) else "")
    return body[:insert_at] + lead + render_block(badge_markdown, eol) + trail + rest


def check_badge(badge_markdown: str) -> None:
    if not isinstance(badge_markdown, str):
        raise TypeError(f"badge_markdown must be str, not {type(badge_markdown).__name__}")
    for marker in (BLOCK_START, BLOCK_END):
        if marker in badge_markdown:
            raise ValueError(f"badge markdown must not contain the block marker {marker}")
