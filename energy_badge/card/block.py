"""The badge block in the card's body, between :data:`BLOCK_START` and :data:`BLOCK_END`.

Markers inside code are the author's text, not our block: a README that shows the badge block as
an example in a fenced code block (```` ``` ```` or ``~~~``, indented or not, inside a list or a
quote, closed or running to the end of the file) or an indented code block keeps the example as it
is, and gets the real block as if the example were not there. Code is found the way CommonMark
parses the body (markdown-it-py, the parser ``rich`` already depends on), and only when the body
holds a marker at all.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import Any

from energy_badge.card.lines import eol_of, is_blank, iter_lines, line_end, line_start
from energy_badge.errors import InvalidFileError

__all__ = [
    "BLOCK_END",
    "BLOCK_START",
    "block_spans",
    "check_badge",
    "code_ranges",
    "place_block",
    "render_block",
]

BLOCK_START = "<!-- energy-badge:start -->"
BLOCK_END = "<!-- energy-badge:end -->"


def render_block(badge_markdown: str, eol: str) -> str:
    badge = badge_markdown.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return BLOCK_START + eol + badge.replace("\n", eol) + eol + BLOCK_END


@functools.lru_cache(maxsize=1)
def _block_parser() -> Any:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark")
    parser.core.ruler.disable(["inline", "text_join"], ignoreInvalid=True)  # blocks are enough
    return parser


# CommonMark's line endings (markdown-it normalises each to \n before numbering lines).
_LINE_BREAK = re.compile(r"\r\n?|\n")


def code_ranges(body: str) -> list[tuple[int, int]]:
    """``[start, end)`` offsets of the code blocks in ``body``, in order, as CommonMark parses it.

    Fenced code blocks (backticks or tildes, up to three spaces of indentation, inside list items
    and block quotes too; an unclosed fence runs to the end of its container) and indented code
    blocks. Each range covers whole lines, fences included.

    Args:
        body: the card's Markdown body (after the front matter).

    Returns:
        The ranges, possibly empty.
    """
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(body)]
    ranges = []
    for token in _block_parser().parse(body):
        if token.type in ("fence", "code_block") and token.map:
            first, last = token.map
            ranges.append((starts[first], starts[last] if last < len(starts) else len(body)))
    return ranges


def _outside(positions: list[int], ranges: list[tuple[int, int]]) -> list[int]:
    """The positions that fall in none of the (sorted, disjoint) ``ranges``."""
    ends = [end for _, end in ranges]
    kept = []
    for pos in positions:
        i = bisect.bisect_right(ends, pos)
        if i == len(ranges) or pos < ranges[i][0]:
            kept.append(pos)
    return kept


def _find_all(text: str, marker: str) -> list[int]:
    found = []
    pos = text.find(marker)
    while pos != -1:
        found.append(pos)
        pos = text.find(marker, pos + len(marker))
    return found


def block_spans(body: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every marker pair in ``body``, leaving out markers inside code.

    Raises:
        InvalidFileError: a start marker without its end marker, or the reverse, or nesting.
    """
    starts, ends = _find_all(body, BLOCK_START), _find_all(body, BLOCK_END)
    if not starts and not ends:
        return []
    # Whether a line is code depends only on the lines before it: the body past the last marker's
    # line is not parsed (an example at the top of a 4 MB card costs nothing).
    code = code_ranges(body[: line_end(body, max(starts + ends))])
    starts, ends = _outside(starts, code), _outside(ends, code)
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for pos, is_start in sorted([(p, True) for p in starts] + [(p, False) for p in ends]):
        if is_start:
            if open_at is not None:
                raise InvalidFileError(f"model card has {BLOCK_START} without a matching {BLOCK_END}")
            open_at = pos
        elif open_at is None:
            if any(start > pos for start in starts):
                raise InvalidFileError(
                    f"model card has {BLOCK_END} before {BLOCK_START}; fix the card by hand"
                )
            raise InvalidFileError(f"model card has {BLOCK_END} without {BLOCK_START}; fix the card by hand")
        else:
            spans.append((open_at, pos + len(BLOCK_END)))
            open_at = None
    if open_at is not None:
        raise InvalidFileError(f"model card has {BLOCK_START} without a matching {BLOCK_END}")
    return spans


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
