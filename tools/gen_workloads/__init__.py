"""The seeded generator of energy-badge's canonical workloads (v1).

Everything here is the project's own: a small invented world (towns, people, firms, products,
creatures, festivals), sentence templates written for it, and a template engine that fills them
with a seeded :class:`random.Random`. Lengths are fitted with the bert-base-uncased WordPiece
tokenizer so each task matches the AI Energy Score's mean input length.

Regenerate the shipped files (byte for byte) with::

    python -m tools.gen_workloads            # writes energy_badge/data/workloads/v1/
    python -m tools.gen_workloads --check    # regenerates into a temporary folder and compares
"""
