"""Generate the font metrics that ``energy_badge.render`` measures text with.

Reads the advance width of every character a TrueType font maps (its ``cmap`` and ``hmtx``
tables, via fontTools) and writes a compact JSON file. Each face holds ``spans``: runs of
consecutive code points, each written ``[first_code_point, advance, advance, ...]`` with advances
in font units (``units_per_em`` to the em). Kerning is ignored: a measured width is the sum of
advances. The SVGs also set ``textLength`` to that width, so a renderer that kerns (or substitutes
another font) still draws each text exactly as wide as measured.

Characters a face does not map are measured as one em (``fallback_advance``): CJK and most wide
scripts are full-width, so narrower scripts are over-estimated and text measured this way still fits.

Usage (from the repository root)::

    python tools/gen_font_metrics.py
    python tools/gen_font_metrics.py --font-dir /path/to/dejavu -o energy_badge/data/fonts/dejavu-sans.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent / "energy_badge" / "data" / "fonts" / "dejavu-sans.json"
)
FACES = {"normal": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
FALLBACK_EM = 1.0


def face_metrics(path: Path) -> dict:
    """Return one face's metrics: units per em, the fallback advance and the advance spans."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), lazy=True)
    units = font["head"].unitsPerEm
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    spans: list[list[int]] = []
    for code in sorted(cmap):
        advance = hmtx[cmap[code]][0]
        if spans and spans[-1][0] + len(spans[-1]) - 1 == code:
            spans[-1].append(advance)
        else:
            spans.append([code, advance])
    name = font["name"]
    return {
        "file": path.name,
        "family": name.getDebugName(1),
        "subfamily": name.getDebugName(2),
        "font_version": name.getDebugName(5),
        "units_per_em": units,
        "fallback_advance": round(units * FALLBACK_EM),
        "characters": len(cmap),
        "spans": spans,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write DejaVu Sans advance widths as compact JSON.")
    parser.add_argument("--font-dir", type=Path, default=DEFAULT_FONT_DIR)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    data = {
        "generator": "tools/gen_font_metrics.py",
        "family": "DejaVu Sans",
        "kerning": "ignored",
        "fallback": f"characters a face does not map measure {FALLBACK_EM:g} em (full width)",
        "faces": {face: face_metrics(args.font_dir / file) for face, file in FACES.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, separators=(",", ":"))
    # One span per line keeps diffs readable while the file stays compact.
    text = text.replace("],[", "],\n[")
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
