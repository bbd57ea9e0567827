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
where it is; markers inside code (a fenced or indented code block showing the block as an example)
are the author's text. Every read is bounded (:mod:`energy_badge.card.limits`): a card too large, or
YAML too nested or aliased (an alias bomb), is refused at once. :func:`card_conflicts` says when the
card's ``pipeline_tag`` or ``base_model`` contradicts the result. No network:
:mod:`energy_badge.hub` moves the bytes.
"""

from energy_badge.card.block import BLOCK_END, BLOCK_START
from energy_badge.card.consistency import PIPELINE_TAG_TASKS, card_conflicts, front_matter_conflicts
from energy_badge.card.edit import (
    CardEdit,
    apply_to_card,
    apply_to_card_bytes,
    read_front_matter,
    read_metadata,
)
from energy_badge.card.limits import (
    MAX_ALIAS_EXPANSION,
    MAX_CARD_BYTES,
    MAX_FLOW_DEPTH,
    MAX_FRONT_MATTER_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    CardLimitError,
)
from energy_badge.card.metadata import METADATA_KEY, SCHEMA_FILE, validate_metadata

__all__ = [
    "BLOCK_END",
    "BLOCK_START",
    "MAX_ALIAS_EXPANSION",
    "MAX_CARD_BYTES",
    "MAX_FLOW_DEPTH",
    "MAX_FRONT_MATTER_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "METADATA_KEY",
    "PIPELINE_TAG_TASKS",
    "SCHEMA_FILE",
    "CardEdit",
    "CardLimitError",
    "apply_to_card",
    "apply_to_card_bytes",
    "card_conflicts",
    "front_matter_conflicts",
    "read_front_matter",
    "read_metadata",
    "validate_metadata",
]
