"""The seeded generator of energy-badge's canonical workloads (v1: text; v2: all ten tasks).

Everything here is the project's own: a small invented world (towns, people, firms, products,
creatures, festivals), sentence templates written for it, and a template engine that fills them
with a seeded :class:`random.Random`. Lengths are fitted with the bert-base-uncased WordPiece
tokenizer so each task matches the AI Energy Score's mean input length. The media tasks' specs
(picture sizes and scenes, clip lengths and voices, seeds) are drawn here too (:mod:`.media`),
their inputs by :mod:`energy_badge.media`; text-to-image prompts come from :mod:`.captions`.

Regenerate the shipped files (byte for byte) with::

    python -m tools.gen_workloads            # writes energy_badge/data/workloads/v1/ and v2/
    python -m tools.gen_workloads --check    # regenerates into a temporary folder and compares
"""
