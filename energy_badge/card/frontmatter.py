"""The YAML front matter: find it, parse it to locate keys, splice our key in, check the splice.

ruamel.yaml parses the front matter only to *locate* things (the character offsets of the
top-level keys and of the end of our key's value); the edit is a text splice, and only our small
mapping is ever dumped (:func:`dump_metadata`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from energy_badge.card.limits import (
    MAX_ALIAS_EXPANSION,
    MAX_FLOW_DEPTH,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    CardLimitError,
    check_front_matter_size,
)
from energy_badge.card.lines import eol_of, indent_of, is_blank, iter_lines, line_end, line_start, strip_eol
from energy_badge.card.metadata import METADATA_KEY, plain
from energy_badge.errors import InvalidFileError

if TYPE_CHECKING:
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.scanner import Scanner

__all__ = [
    "FENCE",
    "Layout",
    "Parsed",
    "dump_metadata",
    "edit_front_matter",
    "parse_yaml",
    "split_front_matter",
    "verify_front_matter",
]

FENCE = "---"


@dataclass(frozen=True)
class Layout:
    """Offsets (into the BOM-less text) of a card's front matter."""

    fence_eol: str  # line ending of the opening fence line
    content_start: int  # first character after the opening fence line
    content_end: int  # first character of the closing fence line
    body_start: int  # first character after the closing fence line
    content_line: int  # 0-based line number of content_start, for error messages


def split_front_matter(text: str) -> Layout | None:
    """Find the front matter the way huggingface_hub does, or return None when there is none.

    As in ``huggingface_hub.repocard.REGEX_YAML_BLOCK``: the opening ``---`` is the first
    non-blank line (blank lines and indentation before it are allowed) and is followed directly by
    its line break; the closing one is the next line that is ``---`` at column 0, optionally
    followed by spaces or tabs, then a line break or the end of the file.
    """
    pos = 0
    line_no = 0
    lines = iter_lines(text)
    for line in lines:
        if is_blank(line):
            pos += len(line)
            line_no += 1
            continue
        if strip_eol(line).lstrip(" \t") != FENCE or not line.endswith("\n"):
            return None
        content_start = pos + len(line)
        fence_eol = eol_of(line, "\n")
        cursor = content_start
        for inner in lines:
            if strip_eol(inner).rstrip(" \t") == FENCE:
                return Layout(
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
class Parsed:
    pairs: list[tuple[Any, Any]]  # the top-level (key node, value node) pairs, as written
    data: Any  # the constructed dict, or None for an empty document


_TRAILING_WHITESPACE = re.compile(r"[ \t]+(?=\r?\n|\Z)")


def _only_comments(content: str) -> bool:
    return all(is_blank(line) or line.lstrip(" \t").startswith("#") for line in iter_lines(content))


def parse_yaml(content: str, first_line: int) -> Parsed:
    """Compose and construct ``content`` with ruamel.yaml; the nodes' marks give offsets.

    Bounded whatever the YAML holds (see :mod:`energy_badge.card.limits`): the size is checked
    first, and the composed node graph is measured before anything is constructed or walked, so
    an alias bomb or a recursive alias is refused at once. The garbage collector is paused while
    ruamel builds its objects: its full collections made parsing superlinear (a 1 MiB front
    matter took 70 % longer with it running).

    Args:
        content: the text between the fences.
        first_line: the 0-based README.md line of ``content``'s first line, for messages.

    Raises:
        CardLimitError: too large, too many nodes, nested too deeply, aliases that expand too far
            or refer to themselves.
        InvalidFileError: not valid YAML, duplicate keys, or not a block mapping.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.composer import MaxDepthExceededError
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import MappingNode

    check_front_matter_size(content)
    if _only_comments(content):  # ruamel cannot compose a comment-only stream
        return Parsed(pairs=[], data=None)
    if "\t" in content:
        # ruamel rejects tabs in trailing whitespace, which YAML allows; same-length spaces keep
        # every offset (and every structure) as it is, and we never write the parsed values back.
        content = _TRAILING_WHITESPACE.sub(lambda m: " " * len(m.group()), content)
    yaml = YAML(typ="safe", pure=True)  # no comment gathering: ~40 % faster than "rt", same marks
    yaml.Scanner, yaml.Composer = _bounded_classes()
    yaml.max_depth = MAX_YAML_DEPTH
    try:
        with _gc_paused():
            constructor, parser = yaml.get_constructor_parser(content)
            try:
                node = constructor.composer.get_single_node()
                if node is not None:
                    _check_node_graph(node, first_line)
                # snapshot before constructing: merge keys (`<<: *x`) are flattened into node.value
                pairs = list(node.value) if isinstance(node, MappingNode) else []
                data = constructor.construct_document(node) if node is not None else None
            finally:
                parser.dispose()
    except InvalidFileError:
        raise
    except DuplicateKeyError as error:
        raise InvalidFileError(
            f"front matter has a duplicate key{_where(error, first_line)}; the Hub rejects duplicate keys"
        ) from error
    except MaxDepthExceededError as error:
        raise CardLimitError(
            f"front matter nests collections more than {MAX_YAML_DEPTH} deep{_where(error, first_line)}; "
            "cannot read it"
        ) from error
    except MarkedYAMLError as error:
        problem = error.problem or error.context or "syntax error"
        raise InvalidFileError(
            f"front matter is not valid YAML{_where(error, first_line)}: {problem}"
        ) from error
    except YAMLError as error:
        raise InvalidFileError(f"front matter is not valid YAML: {error}") from error
    except RecursionError as error:
        raise CardLimitError("front matter is nested too deeply to read") from error
    except Exception as error:  # a parser crash on odd input: refuse rather than guess
        raise InvalidFileError(f"front matter could not be parsed: {error!r}") from error
    if node is None:
        return Parsed(pairs=[], data=None)
    if not isinstance(node, MappingNode) or not isinstance(data, dict):
        raise InvalidFileError("front matter is not a YAML mapping; cannot edit it safely")
    if node.flow_style:
        raise InvalidFileError("front matter is a flow-style mapping ({...}); cannot edit it safely")
    return Parsed(pairs=pairs, data=data)


@functools.lru_cache(maxsize=1)
def _bounded_classes() -> tuple[type[Scanner], type[Composer]]:
    """ruamel's scanner and composer, refusing flow nesting and node counts beyond the limits as
    they go (so the work done before a refusal is bounded too)."""
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.scanner import Scanner

    class BoundedScanner(Scanner):
        def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
            if self.flow_level >= MAX_FLOW_DEPTH:
                raise CardLimitError(
                    "front matter nests flow collections ([...] or {...}) more than "
                    f"{MAX_FLOW_DEPTH} deep; cannot read it"
                )
            super().fetch_flow_collection_start(TokenClass, to_push)

    class BoundedComposer(Composer):
        nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.nodes += 1
            if self.nodes > MAX_YAML_NODES:
                raise CardLimitError(
                    f"front matter has more than {MAX_YAML_NODES:,} YAML nodes; energy-badge reads no more "
                    "(card metadata rarely has 10,000)"
                )
            return super().compose_node(parent, index)

    return BoundedScanner, BoundedComposer


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector; it is switched on again only if it was on (so two
    threads parsing at once, or a caller that switched it off, end as they should)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_node_graph(root: Any, first_line: int) -> None:
    """Refuse a node graph that aliases make too large once expanded, or that contains itself.

    One iterative depth-first pass over the distinct nodes (an alias is the very node it names,
    so shared nodes are visited once), computing each node's expanded size bottom-up.

    Raises:
        InvalidFileError: an alias refers to a node that contains it; or the expanded tree has
            more than :data:`MAX_ALIAS_EXPANSION` nodes beyond the distinct ones.
    """
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    def children(node: Any) -> list[Any]:
        if isinstance(node, MappingNode):
            return [item for pair in node.value for item in pair]
        if isinstance(node, SequenceNode):
            return list(node.value)
        return []

    expanded: dict[int, int] = {}
    open_nodes: set[int] = set()  # the current path: a node met again here is its own ancestor
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in children(node))
            continue
        if key in expanded:
            continue
        if key in open_nodes:
            raise CardLimitError(
                f"front matter has a recursive YAML alias (a node that contains itself) at README.md line "
                f"{first_line + node.start_mark.line + 1}; cannot read it"
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if id(child) not in expanded)
    extra = expanded[id(root)] - len(expanded)
    if extra > MAX_ALIAS_EXPANSION:
        raise CardLimitError(
            f"front matter's YAML aliases (*name) expand it by {extra:,} nodes, more than the "
            f"{MAX_ALIAS_EXPANSION:,} energy-badge reads (an alias bomb?); cannot read it"
        )


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


def key_span(content: str, pairs: list[tuple[Any, Any]], position: int) -> tuple[int, int]:
    """The ``[start, end)`` offsets of the lines of top-level entry ``position``.

    From the start of the key's line to the end of the last line of its value. Blank and
    comment-only lines that follow the value (they belong to the next key, or to nobody) are
    left out, unless they lie inside the value itself (a block scalar's ``# ...`` text).
    """
    key_node, value_node = pairs[position]
    start = line_start(content, key_node.start_mark.index)
    if position + 1 < len(pairs):
        boundary = line_start(content, pairs[position + 1][0].start_mark.index)
    else:
        boundary = len(content)
    last = max(_content_end(key_node), _content_end(value_node))
    while last > start and content[last - 1] in " \t\r\n":  # block scalars end after their blank lines
        last -= 1
    end = line_end(content, max(last - 1, start))
    cursor = end
    for line in iter_lines(content[:boundary], end):
        cursor += len(line)
        if not (is_blank(line) or line.lstrip(" \t").startswith("#")):
            end = cursor
    return start, min(max(end, start), boundary)


def edit_front_matter(content: str, metadata: dict[str, Any], layout: Layout) -> str:
    """Return ``content`` with our key's lines replaced, or appended before the closing fence."""
    parsed = parse_yaml(content, layout.content_line)
    names = [_key_name(key) for key, _ in parsed.pairs]
    if METADATA_KEY in names:
        position = names.index(METADATA_KEY)
        start, end = key_span(content, parsed.pairs, position)
        indent = indent_of(content, start)
        eol = eol_of(content[start:end], layout.fence_eol)
        replacement = dump_metadata(metadata, indent=indent, eol=eol)
        new_content = content[:start] + replacement + content[end:]
    else:
        indent = indent_of(content, parsed.pairs[0][0].start_mark.index) if names else ""
        replacement = dump_metadata(metadata, indent=indent, eol=layout.fence_eol)
        new_content = content + replacement
    if new_content != content:  # an unchanged front matter needs no second look
        verify_front_matter(parsed, new_content, metadata, location=layout)
    return new_content


def verify_front_matter(
    old: Parsed | None, new_content: str, metadata: Mapping[str, object], location: Layout | None
) -> None:
    """Parse the edited front matter and check that only our key changed.

    Raises:
        CardLimitError: with our key written, the front matter would be beyond a limit of
            :mod:`energy_badge.card.limits` (so energy-badge could not read its own card again).
        InvalidFileError: the splice changed the meaning of anything else (e.g. an alias into
            the replaced lines, a ``...`` document end marker), so the card is left alone.
    """
    first_line = location.content_line if location is not None else 1
    try:
        new = parse_yaml(new_content, first_line)
    except CardLimitError as error:
        raise CardLimitError(
            f"cannot write {METADATA_KEY}: the card would then be over a limit: {error}"
        ) from error
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
        or plain(new.data[METADATA_KEY]) != metadata
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


def dump_metadata(metadata: dict[str, Any], indent: str, eol: str) -> str:
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
