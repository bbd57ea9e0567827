"""The card stage: write the energy metadata and the badge into a model card's README.md.

A model card is Markdown with an optional YAML front matter between two ``---`` lines. This
stage makes exactly two changes to it and nothing else:

* one top-level YAML key, :data:`METADATA_KEY` (``energy_score:``), holding the metadata
  described by ``schemas/card-metadata.schema.json``;
* a badge block in the body, between :data:`BLOCK_START` and :data:`BLOCK_END`.

Every byte outside the key and the block survives: line endings (CRLF), a UTF-8 BOM, blank lines
before the opening ``---``, YAML comments, key order, quoting, indentation, unicode, trailing spaces.
The front matter is therefore never re-dumped as a whole. ruamel.yaml parses it only to *locate*
things (the character offsets of the top-level keys and of the end of our key's value); the edit
is a text splice that replaces exactly the lines of our key, or inserts them before the closing
``---``. Only our small mapping is dumped. After the splice the new front matter is parsed again
and compared with the old one, so a card we cannot edit safely raises instead of being damaged.

Applying twice gives the same text as applying once, and an existing key or block is replaced
where it is. No network: :mod:`energy_badge.hub` moves the bytes.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import io
import json
import math
import numbers
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from energy_badge.errors import InvalidFileError

BLOCK_START = "<!-- energy-badge:start -->"
BLOCK_END = "<!-- energy-badge:end -->"
METADATA_KEY = "energy_score"

SCHEMA_FILE = "card-metadata.schema.json"

_BOM = "\ufeff"
_FENCE = "---"


# --------------------------------------------------------------------------------------------
# Public data object


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
    lines = list(_iter_lines(text))
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


# --------------------------------------------------------------------------------------------
# Public API


def apply_to_card(card_text: str, metadata: dict, badge_markdown: str) -> CardEdit:
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
        InvalidFileError: ``metadata`` does not match its schema; the front matter is not valid
            YAML, has duplicate keys (the Hub rejects them), is not a block mapping, or could not
            be edited without changing anything else; the badge markers are unbalanced.
        ValueError: ``badge_markdown`` contains one of the block markers.
    """
    validate_metadata(metadata)
    _check_badge(badge_markdown)
    normalized = _normalize_metadata(metadata)

    bom = _BOM if card_text.startswith(_BOM) else ""
    text = card_text[len(bom) :]
    layout = _split(text)
    default_eol = _default_eol(text)

    if layout is None:
        key_lines = _dump_metadata(normalized, indent="", eol=default_eol)
        front = f"{_FENCE}{default_eol}{key_lines}{_FENCE}{default_eol}"
        head, body = front, text
        _verify_front_matter(None, key_lines, normalized, location=None)
    else:
        old_content = text[layout.content_start : layout.content_end]
        new_content = _edit_front_matter(old_content, normalized, layout)
        head = text[: layout.content_start] + new_content + text[layout.content_end : layout.body_start]
        body = text[layout.body_start :]

    updated = bom + head + _place_block(head, body, badge_markdown, default_eol)
    return CardEdit(original=card_text, updated=updated, changed=updated != card_text)


def apply_to_card_bytes(data: bytes, metadata: dict, badge_markdown: str) -> tuple[bytes, bool]:
    """Byte-exact form of :func:`apply_to_card`, for README.md as read from disk or the Hub.

    Args:
        data: the README.md bytes (UTF-8, optionally with a BOM).
        metadata: the metadata mapping; it must match ``card-metadata.schema.json``.
        badge_markdown: the Markdown that shows the badge.

    Returns:
        ``(new_bytes, changed)``; every byte outside our key and block is the input's own.

    Raises:
        InvalidFileError: the bytes are not UTF-8, or as for :func:`apply_to_card`.
        ValueError: as for :func:`apply_to_card`.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidFileError(f"model card is not valid UTF-8: {error}") from error
    edit = apply_to_card(text, metadata, badge_markdown)
    return (edit.updated.encode("utf-8") if edit.changed else data), edit.changed


def read_metadata(card_text: str) -> dict | None:
    """Return the value of the card's ``energy_score:`` key as plain Python data.

    The value is returned as written (it is not validated; see :func:`validate_metadata`).
    Unquoted YAML dates come back as ``YYYY-MM-DD`` strings.

    Args:
        card_text: the decoded README.md text.

    Returns:
        The mapping, or None when the card has no front matter or no such key.

    Raises:
        InvalidFileError: the front matter is not valid YAML, has duplicate keys, is not a
            mapping, or its ``energy_score`` value is not a mapping.
    """
    text = card_text[1:] if card_text.startswith(_BOM) else card_text
    layout = _split(text)
    if layout is None:
        return None
    parsed = _parse(text[layout.content_start : layout.content_end], layout.content_line)
    if parsed.data is None or METADATA_KEY not in parsed.data:
        return None
    value = _plain(parsed.data[METADATA_KEY])
    if not isinstance(value, dict):
        raise InvalidFileError(f"front matter key {METADATA_KEY!r} is not a mapping")
    return value


def read_front_matter(card_text: str) -> dict | None:
    """Return the card's whole YAML front matter as plain Python data (what ``cardData`` holds).

    Args:
        card_text: the decoded README.md text.

    Returns:
        The mapping, or None when the card has no front matter (or an empty one).

    Raises:
        InvalidFileError: the front matter is not valid YAML, has duplicate keys, or is not a mapping.
    """
    text = card_text[1:] if card_text.startswith(_BOM) else card_text
    layout = _split(text)
    if layout is None:
        return None
    parsed = _parse(text[layout.content_start : layout.content_end], layout.content_line)
    return None if parsed.data is None else _plain(parsed.data)


def validate_metadata(metadata: dict) -> None:
    """Check ``metadata`` against ``card-metadata.schema.json`` and the CI ordering.

    Args:
        metadata: the mapping meant for the ``energy_score:`` key.

    Returns:
        None when it is valid.

    Raises:
        InvalidFileError: it is not valid; the message names the first offending JSON path
            (``$.wh_per_1k_queries.value``) and ``errors`` lists every violation.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        _schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(
        validator.iter_errors(metadata), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    )
    messages = [f"{_json_path(e.absolute_path)}: {e.message}" for e in errors]
    messages += [f"{path}: {value!r} is not a finite number" for path, value in _non_finite(metadata, "$")]
    if not messages:
        energy = metadata["wh_per_1k_queries"]
        if not energy["ci95_low"] <= energy["value"] <= energy["ci95_high"]:
            messages.append(
                "$.wh_per_1k_queries: expected ci95_low <= value <= ci95_high, got "
                f"{energy['ci95_low']} <= {energy['value']} <= {energy['ci95_high']}"
            )
    if messages:
        raise InvalidFileError(f"card metadata does not match {SCHEMA_FILE}: {messages[0]}", errors=messages)


# --------------------------------------------------------------------------------------------
# Schema and metadata normalisation


@functools.lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = (
        resources.files("energy_badge").joinpath("schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def _non_finite(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """JSON Schema lets NaN and infinity through ``minimum``; JSON itself has neither."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{index}]")
    elif isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isfinite(value):
        yield path, value


def _json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _normalize_metadata(metadata: dict) -> dict[str, Any]:
    """Plain copy of ``metadata`` with keys in the schema's order, so the dump is canonical."""
    order = list(_schema()["properties"])
    energy_order = list(_schema()["properties"]["wh_per_1k_queries"]["properties"])
    out: dict[str, Any] = {}
    for key in sorted(metadata, key=lambda k: order.index(k) if k in order else len(order)):
        value = _plain(metadata[key])
        if key == "wh_per_1k_queries":
            value = {k: value[k] for k in sorted(value, key=energy_order.index)}
        out[key] = value
    return out


def _check_badge(badge_markdown: str) -> None:
    if not isinstance(badge_markdown, str):
        raise TypeError(f"badge_markdown must be str, not {type(badge_markdown).__name__}")
    for marker in (BLOCK_START, BLOCK_END):
        if marker in badge_markdown:
            raise ValueError(f"badge markdown must not contain the block marker {marker}")


# --------------------------------------------------------------------------------------------
# Lines and front-matter layout


def _iter_lines(text: str, start: int = 0) -> Iterator[str]:
    """Lines split on ``\\n`` only (keeping it): unlike str.splitlines, U+2028 etc. stay inside."""
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end + 1
        yield text[start:end]
        start = end


def _strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith("\n") else line


def _eol_of(line: str, default: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    return "\n" if line.endswith("\n") else default


def _default_eol(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _is_blank(line: str) -> bool:
    return _strip_eol(line).strip(" \t\r") == ""


@dataclass(frozen=True)
class _Layout:
    """Offsets (into the BOM-less text) of a card's front matter."""

    fence_eol: str  # line ending of the opening fence line
    content_start: int  # first character after the opening fence line
    content_end: int  # first character of the closing fence line
    body_start: int  # first character after the closing fence line
    content_line: int  # 0-based line number of content_start, for error messages


def _split(text: str) -> _Layout | None:
    """Find the front matter the way huggingface_hub does, or return None when there is none.

    As in ``huggingface_hub.repocard.REGEX_YAML_BLOCK``: the opening ``---`` is the first
    non-blank line (blank lines and indentation before it are allowed) and is followed directly by
    its line break; the closing one is the next line that is ``---`` at column 0, optionally
    followed by spaces or tabs, then a line break or the end of the file.
    """
    pos = 0
    line_no = 0
    lines = _iter_lines(text)
    for line in lines:
        if _is_blank(line):
            pos += len(line)
            line_no += 1
            continue
        if _strip_eol(line).lstrip(" \t") != _FENCE or not line.endswith("\n"):
            return None
        content_start = pos + len(line)
        fence_eol = _eol_of(line, "\n")
        cursor = content_start
        for inner in lines:
            if _strip_eol(inner).rstrip(" \t") == _FENCE:
                return _Layout(
                    fence_eol=fence_eol,
                    content_start=content_start,
                    content_end=cursor,
                    body_start=cursor + len(inner),
                    content_line=line_no + 1,
                )
            cursor += len(inner)
        return None
    return None


# --------------------------------------------------------------------------------------------
# YAML parsing (to locate, never to re-dump the card)


@dataclass(frozen=True)
class _Parsed:
    pairs: list[tuple[Any, Any]]  # the top-level (key node, value node) pairs, as written
    data: Any  # the constructed dict, or None for an empty document


_TRAILING_WHITESPACE = re.compile(r"[ \t]+(?=\r?\n|\Z)")


def _only_comments(content: str) -> bool:
    return all(_is_blank(line) or line.lstrip(" \t").startswith("#") for line in _iter_lines(content))


def _parse(content: str, first_line: int) -> _Parsed:
    """Compose and construct ``content`` with ruamel.yaml; the nodes' marks give offsets.

    Raises:
        InvalidFileError: not valid YAML, duplicate keys, or not a block mapping.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import MappingNode

    if _only_comments(content):  # ruamel cannot compose a comment-only stream
        return _Parsed(pairs=[], data=None)
    if "\t" in content:
        # ruamel rejects tabs in trailing whitespace, which YAML allows; same-length spaces keep
        # every offset (and every structure) as it is, and we never write the parsed values back.
        content = _TRAILING_WHITESPACE.sub(lambda m: " " * len(m.group()), content)
    yaml = YAML(typ="safe", pure=True)  # no comment gathering: ~40 % faster than "rt", same marks
    try:
        constructor, parser = yaml.get_constructor_parser(content)
        try:
            node = constructor.composer.get_single_node()
            # snapshot before constructing: merge keys (`<<: *x`) are flattened into node.value
            pairs = list(node.value) if isinstance(node, MappingNode) else []
            data = constructor.construct_document(node) if node is not None else None
        finally:
            parser.dispose()
    except DuplicateKeyError as error:
        raise InvalidFileError(
            f"front matter has a duplicate key{_where(error, first_line)}; the Hub rejects duplicate keys"
        ) from error
    except MarkedYAMLError as error:
        problem = error.problem or error.context or "syntax error"
        raise InvalidFileError(
            f"front matter is not valid YAML{_where(error, first_line)}: {problem}"
        ) from error
    except YAMLError as error:
        raise InvalidFileError(f"front matter is not valid YAML: {error}") from error
    except Exception as error:  # a parser crash on odd input: refuse rather than guess
        raise InvalidFileError(f"front matter could not be parsed: {error!r}") from error
    if node is None:
        return _Parsed(pairs=[], data=None)
    if not isinstance(node, MappingNode) or not isinstance(data, dict):
        raise InvalidFileError("front matter is not a YAML mapping; cannot edit it safely")
    if node.flow_style:
        raise InvalidFileError("front matter is a flow-style mapping ({...}); cannot edit it safely")
    return _Parsed(pairs=pairs, data=data)


def _where(error: Any, first_line: int) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return ""
    return f" at README.md line {first_line + mark.line + 1}"


def _key_name(key_node: Any) -> Any:
    from ruamel.yaml.nodes import ScalarNode

    return key_node.value if isinstance(key_node, ScalarNode) else None


def _content_end(node: Any) -> int:
    """Offset just past the last non-empty scalar or flow collection under ``node`` (-1: none)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    best = -1
    stack = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ScalarNode):
            if current.end_mark.index > current.start_mark.index:
                best = max(best, current.end_mark.index)
        elif isinstance(current, (MappingNode, SequenceNode)) and current.flow_style:
            best = max(best, current.end_mark.index)
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
    return best


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Offset just past the line break of the line holding ``index`` (or len(text))."""
    end = text.find("\n", index)
    return len(text) if end == -1 else end + 1


def _indent_of(text: str, index: int) -> str:
    start = _line_start(text, index)
    stop = start
    while stop < len(text) and text[stop] == " ":
        stop += 1
    return text[start:stop]


def _key_span(content: str, pairs: list[tuple[Any, Any]], position: int) -> tuple[int, int]:
    """The ``[start, end)`` offsets of the lines of top-level entry ``position``.

    From the start of the key's line to the end of the last line of its value. Blank and
    comment-only lines that follow the value (they belong to the next key, or to nobody) are
    left out, unless they lie inside the value itself (a block scalar's ``# ...`` text).
    """
    key_node, value_node = pairs[position]
    start = _line_start(content, key_node.start_mark.index)
    if position + 1 < len(pairs):
        boundary = _line_start(content, pairs[position + 1][0].start_mark.index)
    else:
        boundary = len(content)
    last = max(_content_end(key_node), _content_end(value_node))
    while last > start and content[last - 1] in " \t\r\n":  # block scalars end after their blank lines
        last -= 1
    end = _line_end(content, max(last - 1, start))
    cursor = end
    for line in _iter_lines(content[:boundary], end):
        cursor += len(line)
        if not (_is_blank(line) or line.lstrip(" \t").startswith("#")):
            end = cursor
    return start, min(max(end, start), boundary)


def _edit_front_matter(content: str, metadata: dict[str, Any], layout: _Layout) -> str:
    """Return ``content`` with our key's lines replaced, or appended before the closing fence."""
    parsed = _parse(content, layout.content_line)
    names = [_key_name(key) for key, _ in parsed.pairs]
    if METADATA_KEY in names:
        position = names.index(METADATA_KEY)
        start, end = _key_span(content, parsed.pairs, position)
        indent = _indent_of(content, start)
        eol = _eol_of(content[start:end], layout.fence_eol)
        replacement = _dump_metadata(metadata, indent=indent, eol=eol)
        new_content = content[:start] + replacement + content[end:]
    else:
        indent = _indent_of(content, parsed.pairs[0][0].start_mark.index) if names else ""
        replacement = _dump_metadata(metadata, indent=indent, eol=layout.fence_eol)
        new_content = content + replacement
    if new_content != content:  # an unchanged front matter needs no second look
        _verify_front_matter(parsed, new_content, metadata, location=layout)
    return new_content


def _verify_front_matter(
    old: _Parsed | None, new_content: str, metadata: dict, location: _Layout | None
) -> None:
    """Parse the edited front matter and check that only our key changed.

    Raises:
        InvalidFileError: the splice changed the meaning of anything else (e.g. an alias into
            the replaced lines, a ``...`` document end marker), so the card is left alone.
    """
    first_line = location.content_line if location is not None else 1
    try:
        new = _parse(new_content, first_line)
    except InvalidFileError as error:
        cause = getattr(error.__cause__, "problem", None) or str(error)
        raise InvalidFileError(
            f"cannot edit the front matter safely: with {METADATA_KEY} written it would not parse ({cause})"
        ) from error
    old_data = old.data if old is not None and old.data is not None else {}
    old_keys = [k for k in old_data if k != METADATA_KEY]
    new_keys = [k for k in new.data if k != METADATA_KEY] if new.data is not None else []
    expected_order = list(old_data) if METADATA_KEY in old_data else [*old_data, METADATA_KEY]
    if (
        new.data is None
        or list(new.data) != expected_order
        or old_keys != new_keys
        or not all(_same(old_data[k], new.data[k]) for k in old_keys)
        or _plain(new.data[METADATA_KEY]) != metadata
    ):
        raise InvalidFileError(
            "cannot edit the front matter safely: writing the energy_score key would change other keys"
        )


def _same(a: Any, b: Any) -> bool:
    """Deep equality that keeps mapping order and treats NaN as equal to NaN."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _plain(value: Any) -> Any:
    """Round-trip ruamel objects -> plain dict/list/str/int/float/bool/None (dates -> ISO str)."""
    if isinstance(value, dict):
        return {_hashable(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


# --------------------------------------------------------------------------------------------
# Dumping our mapping (and only it)


def _yaml_ambiguous(text: str) -> bool:
    """True when ``text`` written plain would not read back as a string in YAML 1.1 or 1.2.

    The Hub parses YAML 1.2, but huggingface_hub's ``metadata_load`` uses PyYAML (1.1), where
    ``yes``, ``on`` or ``1:20`` are not strings; such values are single-quoted.
    """
    from ruamel.yaml.nodes import ScalarNode

    for resolver in _resolvers():
        if str(resolver.resolve(ScalarNode, text, (True, False))) != "tag:yaml.org,2002:str":
            return True
    return False


@functools.lru_cache(maxsize=1)
def _resolvers() -> tuple[Any, Any]:
    from ruamel.yaml.resolver import VersionedResolver

    return VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2))


def _float_text(value: float) -> str:
    """A float that both YAML 1.1 and 1.2 read back exactly: ``1.0e-07``, never ``1e-07``."""
    text = repr(value).lower()
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}e{exponent}" if exponent else mantissa


@functools.lru_cache(maxsize=1)
def _metadata_representer() -> type:
    """A representer subclass: ``add_representer`` on ruamel's own class would change it for everyone."""
    from ruamel.yaml.representer import RoundTripRepresenter

    class MetadataRepresenter(RoundTripRepresenter):
        pass

    MetadataRepresenter.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    MetadataRepresenter.add_representer(
        float, lambda rep, data: rep.represent_scalar("tag:yaml.org,2002:float", _float_text(data))
    )
    return MetadataRepresenter


def _dump_metadata(metadata: dict[str, Any], indent: str, eol: str) -> str:
    """Render ``{METADATA_KEY: metadata}`` as block YAML lines, each ending with ``eol``."""
    from ruamel.yaml import YAML
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    def prepare(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: prepare(v) for k, v in value.items()}
        if isinstance(value, list):
            return [prepare(v) for v in value]
        if isinstance(value, str) and _yaml_ambiguous(value):
            return SingleQuotedScalarString(value)
        return value

    yaml = YAML(typ="rt")
    yaml.Representer = _metadata_representer()
    yaml.width = 1_000_000
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    stream = io.StringIO()
    yaml.dump({METADATA_KEY: prepare(metadata)}, stream)
    lines = stream.getvalue().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join(f"{indent}{line}{eol}" for line in lines)


# --------------------------------------------------------------------------------------------
# The badge block


def _render_block(badge_markdown: str, eol: str) -> str:
    badge = badge_markdown.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return BLOCK_START + eol + badge.replace("\n", eol) + eol + BLOCK_END


def _block_spans(body: str) -> list[tuple[int, int]]:
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


def _place_block(head: str, body: str, badge_markdown: str, default_eol: str) -> str:
    """Return ``body`` with the badge block replaced in place, or inserted at its top.

    ``head`` is everything before the body (BOM-less), used for the line ending and to know
    whether the body starts on a fresh line.
    """
    spans = _block_spans(body)
    if spans:
        pieces = []
        pos = 0
        for start, end in spans:
            eol = "\r\n" if body.startswith("\r\n", start + len(BLOCK_START)) else default_eol
            pieces += [body[pos:start], _render_block(badge_markdown, eol)]
            pos = end
        pieces.append(body[pos:])
        return "".join(pieces)

    # Insert after the first line when it is a `# ` heading (blank lines before it skipped).
    insert_at = 0
    previous = head[_line_start(head, len(head) - 1) :] if head else ""
    cursor = 0
    for line in _iter_lines(body):
        cursor += len(line)
        if _is_blank(line):
            continue
        if line.startswith("# "):
            insert_at, previous = cursor, line
        break
    eol = _eol_of(previous, default_eol)
    before = head + body[:insert_at]
    rest = body[insert_at:]
    lead = ("" if before == "" or before.endswith("\n") else eol) + eol
    first_rest_line = next(_iter_lines(rest), "")
    trail = eol + (eol if rest and not _is_blank(first_rest_line) else "")
    return body[:insert_at] + lead + _render_block(badge_markdown, eol) + trail + rest
