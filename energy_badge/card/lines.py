"""Lines of a card's text: split on ``\\n`` only, their line endings, blank lines, offsets."""

from __future__ import annotations

from collections.abc import Iterator

__all__ = [
    "default_eol",
    "eol_of",
    "indent_of",
    "is_blank",
    "iter_lines",
    "line_end",
    "line_start",
    "strip_eol",
]


def iter_lines(text: str, start: int = 0) -> Iterator[str]:
    """Lines split on ``\\n`` only (keeping it): unlike str.splitlines, U+2028 etc. stay inside."""
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end + 1
        yield text[start:end]
        start = end


def strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith("\n") else line


def eol_of(line: str, default: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    return "\n" if line.endswith("\n") else default


def default_eol(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def is_blank(line: str) -> bool:
    return strip_eol(line).strip(" \t\r") == ""


def line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def line_end(text: str, index: int) -> int:
    """Offset just past the line break of the line holding ``index`` (or len(text))."""
    end = text.find("\n", index)
    return len(text) if end == -1 else end + 1


def indent_of(text: str, index: int) -> str:
    start = line_start(text, index)
    stop = start
    while stop < len(text) and text[stop] == " ":
        stop += 1
    return text[start:stop]
