"""Card-stage test data shared by test modules and ``benchmarks/card_edit.py``: a fixed, valid value
of the ``energy_score:`` key (``schemas/card-metadata.schema.json``) and a badge block line.

SYNTHETIC: the figures describe no measurement. Plain data, no imports, so a benchmark can import it
(with ``tests/`` on ``sys.path``) without pytest.
"""

from __future__ import annotations

METADATA = {
    "stars": 4,
    "task": "text-classification",
    "wh_per_1k_queries": {"value": 0.42, "ci95_low": 0.4, "ci95_high": 0.44},
    "hardware": "NVIDIA H100 80GB HBM3",
    "hardware_class": "H100",
    "workload": "text-classification@1.0.0",
    "rating_table": "2025.06",
    "measured_at": "2025-06-01",
    "tool": "energy-badge 0.1.0",
    "result": "energy/result.json",
}
"""A valid ``energy_score:`` value (4 stars, 0.42 Wh per 1000 texts on an H100). Copy it before
changing it (``json.loads(json.dumps(METADATA))``): modules share this one dict."""

BADGE = "[![AI energy: ★★★★☆ 0.42 Wh/1k](energy/badge.svg)](energy/result.json)"
"""A badge block's Markdown, as :func:`energy_badge.publish.badge_markdown` writes one."""
