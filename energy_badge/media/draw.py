"""Integer raster primitives for the synthetic pictures: exact on every platform.

Every mask and colour is computed with integer numpy arithmetic (no anti-aliasing library, no
floating point), so a picture's pixels depend only on the numbers given here. Shapes are filled
into an ``int32`` canvas of shape (height, width, 3); colours are RGB triples in 0..255 and a
shading term scales them by ``factor / 256`` per pixel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Canvas = NDArray[np.int32]
    Mask = NDArray[np.bool_]

__all__ = ["box_blur", "ellipse", "gradient_rows", "polygon", "rectangle", "value_noise"]

Color = tuple[int, int, int]


def _window(canvas: Canvas, x0: int, y0: int, x1: int, y1: int) -> tuple[int, int, int, int] | None:
    h, w = canvas.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def _fill(
    canvas: Canvas,
    box: tuple[int, int, int, int],
    mask: Mask | None,
    color: Color,
    light: tuple[int, int, int, int, int] | None,
) -> None:
    """Fill ``mask`` (over ``box``; None: all of it) with ``color``, lit by a linear ramp.

    ``light = (cx, cy, gx, gy, scale)``: the factor at (x, y) is
    ``256 + (gx * (x - cx) + gy * (y - cy)) // scale``, clipped to 64..400.
    """
    import numpy as np

    x0, y0, x1, y1 = box
    region = canvas[y0:y1, x0:x1]
    base = np.array(color, dtype=np.int32)
    if light is None:
        if mask is None:
            region[...] = base
        else:
            np.copyto(region, base, where=mask[..., None])
        return
    cx, cy, gx, gy, scale = light
    xs = np.arange(x0, x1, dtype=np.int32) - cx
    ys = np.arange(y0, y1, dtype=np.int32) - cy
    factor = (gx * xs[None, :] + gy * ys[:, None]) // scale + 256
    np.clip(factor, 64, 400, out=factor)
    shaded = (factor[..., None] * base[None, None, :]) >> 8
    if mask is None:
        region[...] = shaded
    else:
        np.copyto(region, shaded, where=mask[..., None])


def rectangle(
    canvas: Canvas, x0: int, y0: int, x1: int, y1: int, color: Color, light: tuple[int, ...] | None = None
) -> None:
    """Fill the rectangle [x0, x1) x [y0, y1).

    Args:
        canvas: the picture.
        x0, y0, x1, y1: its corners (clipped to the picture).
        color: its RGB colour.
        light: ``(cx, cy, gx, gy, scale)`` of a linear shading ramp, or None for a flat fill.
    """

    box = _window(canvas, x0, y0, x1, y1)
    if box is None:
        return
    _fill(canvas, box, None, color, light)  # type: ignore[arg-type]


def ellipse(
    canvas: Canvas,
    cx: int,
    cy: int,
    rx: int,
    ry: int,
    color: Color,
    light: tuple[int, ...] | None = None,
    radial: int = 0,
) -> None:
    """Fill the ellipse ``((x-cx)/rx)^2 + ((y-cy)/ry)^2 <= 1``.

    Args:
        canvas: the picture.
        cx, cy: its centre.
        rx, ry: its radii (at least 1).
        color: its RGB colour.
        light: a linear shading ramp, as for :func:`rectangle`.
        radial: when positive, a spherical shading instead: the factor falls from 256 at a
            highlight up and left of the centre by ``radial * d^2 / r^2``.
    """
    import math

    import numpy as np

    rx, ry = max(rx, 1), max(ry, 1)
    box = _window(canvas, cx - rx, cy - ry, cx + rx + 1, cy + ry + 1)
    if box is None:
        return
    x0, y0, x1, y1 = box
    # Row by row, the pixels with (dx ry)^2 + (dy rx)^2 <= (rx ry)^2: |dx| <= isqrt(K) // ry.
    full = (rx * ry) ** 2
    half = []
    for y in range(y0, y1):
        k = full - ((y - cy) * rx) ** 2
        half.append(math.isqrt(k) // ry if k >= 0 else -1)
    dx = np.abs(np.arange(x0 - cx, x1 - cx, dtype=np.int32))
    mask = dx[None, :] <= np.array(half, dtype=np.int32)[:, None]
    if radial <= 0:
        _fill(canvas, box, mask, color, light)  # type: ignore[arg-type]
        return
    # Spherical shading: the factor falls with the squared distance from a highlight up and left.
    hx = np.arange(x0 - cx, x1 - cx, dtype=np.int64) + rx // 3
    hy = np.arange(y0 - cy, y1 - cy, dtype=np.int64) + ry // 3
    across = (radial * (hx * ry) ** 2 // full).astype(np.int32)
    down = (radial * (hy * rx) ** 2 // full).astype(np.int32)
    factor = 290 - down[:, None] - across[None, :]
    np.clip(factor, 70, 330, out=factor)
    shaded = (factor[..., None] * np.array(color, dtype=np.int32)[None, None, :]) >> 8
    np.copyto(canvas[y0:y1, x0:x1], shaded, where=mask[..., None])


def polygon(
    canvas: Canvas, points: list[tuple[int, int]], color: Color, light: tuple[int, ...] | None = None
) -> None:
    """Fill a convex polygon (vertices in either order; pixel centres on an edge are inside).

    Args:
        canvas: the picture.
        points: its vertices (at least 3), in order around it.
        color: its RGB colour.
        light: a linear shading ramp, as for :func:`rectangle`.
    """
    import numpy as np

    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    box = _window(canvas, min(xs), min(ys), max(xs) + 1, max(ys) + 1)
    if box is None:
        return
    x0, y0, x1, y1 = box
    px = np.arange(x0, x1, dtype=np.int64)[None, :]
    py = np.arange(y0, y1, dtype=np.int64)[:, None]
    area = sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(points)))
    sign = 1 if area >= 0 else -1
    mask = np.ones((y1 - y0, x1 - x0), dtype=bool)
    for i in range(len(points)):
        ax, ay = points[i - 1]
        bx, by = points[i]
        mask &= sign * ((bx - ax) * (py - ay) - (by - ay) * (px - ax)) <= 0
    _fill(canvas, box, mask, color, light)  # type: ignore[arg-type]


def gradient_rows(top: Color, bottom: Color, rows: int) -> NDArray[np.int32]:
    """A vertical colour ramp from ``top`` to ``bottom``.

    Args:
        top: the first row's colour.
        bottom: the colour the ramp reaches after ``rows`` rows.
        rows: its height (at least 1).

    Returns:
        An ``int32`` array of shape (rows, 1, 3).
    """
    import numpy as np

    t = np.arange(rows, dtype=np.int32)[:, None]
    a = np.array(top, dtype=np.int32)[None, :]
    b = np.array(bottom, dtype=np.int32)[None, :]
    return (a + ((b - a) * t) // max(rows, 1))[:, None, :]


def value_noise(grid: NDArray[np.int64], cell: int, height: int, width: int) -> NDArray[np.int32]:
    """Smooth noise: the integer bilinear interpolation of grid values at every ``cell`` pixels.

    Args:
        grid: values at the grid nodes, shape at least (height // cell + 2, width // cell + 2).
        cell: the node spacing in pixels.
        height, width: the output size.

    Returns:
        An ``int32`` array (height, width) of values between the grid's extremes.
    """
    import numpy as np

    grid = grid.astype(np.int32)
    xs = np.arange(width, dtype=np.int32)
    gx, fx = xs // cell, xs % cell
    rows = grid[:, gx] * (cell - fx)[None, :] + grid[:, gx + 1] * fx[None, :]
    ys = np.arange(height, dtype=np.int32)
    gy, fy = ys // cell, ys % cell
    out = rows[gy] * (cell - fy)[:, None] + rows[gy + 1] * fy[:, None]
    out //= cell * cell
    return out.astype(np.int32, copy=False)


def box_blur(pixels: NDArray[np.uint16]) -> NDArray[np.uint16]:
    """Soften edges with the separable integer kernel [1, 2, 1] / 4 (edges replicated), rounding.

    Args:
        pixels: the picture, values 0..255, shape (height, width, 3).

    Returns:
        The softened picture (a new array; values 0..255).
    """
    out = pixels * 2
    out[:, 1:] += pixels[:, :-1]
    out[:, 0] += pixels[:, 0]
    out[:, :-1] += pixels[:, 1:]
    out[:, -1] += pixels[:, -1]
    out += 2
    out >>= 2
    rows = out * 2
    rows[1:] += out[:-1]
    rows[0] += out[0]
    rows[:-1] += out[1:]
    rows[-1] += out[-1]
    rows += 2
    rows >>= 2
    return rows
