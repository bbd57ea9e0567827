"""PNG output of any of the SVGs (the optional ``png`` extra)."""

from __future__ import annotations

__all__ = ["to_png"]


def to_png(svg: str, *, scale: float = 1.0) -> bytes:
    """Render an SVG to PNG bytes with cairosvg (imported here, so the rest works without it).

    cairosvg is the optional ``png`` extra (``pip install 'energy-badge[png]'``), and it needs the
    system cairo library at import (cairocffi raises ``OSError`` without it).

    Args:
        svg: the SVG text.
        scale: pixels per SVG px (2 for a sharp image on high-density screens).

    Raises:
        UsageError: cairosvg is not installed, or the system cairo library is missing (one line,
            saying what to install).
    """
    from energy_badge.errors import UsageError

    try:
        import cairosvg
    except ImportError as exc:
        raise UsageError("PNG output needs the png extra: pip install 'energy-badge[png]'") from exc
    except OSError as exc:
        raise UsageError(
            "PNG output needs the system cairo library, which cairosvg could not load "
            "(Debian/Ubuntu: apt-get install libcairo2; Fedora: dnf install cairo; macOS: brew install cairo)"
        ) from exc
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
