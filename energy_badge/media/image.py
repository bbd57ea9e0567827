"""Synthetic pictures: things on backgrounds, drawn from a seed with integer arithmetic.

Three scene styles:

* ``object``: one large object (a ball, a fruit, a cup, a box, a bottle, a lamp, a plant) near
  the centre on a table-and-wall background, like an ImageNet / Food-101 photo;
* ``outdoor``: sky and ground with a horizon, sun or clouds, and several things standing on the
  ground (trees, houses, cars, bushes, balls, boxes, people) at perspective-scaled sizes, with
  shadows, like a COCO street or park picture;
* ``indoor``: a wall and a planked floor with framed pictures, a window, tables, boxes, cups,
  plants and lamps.

Objects are filled shapes (ellipses, rectangles, convex polygons) with linear or spherical
shading; backgrounds are colour ramps with smooth value-noise texture; the picture is softened
with a [1, 2, 1] kernel and given a faint sensor grain. Only integer numpy arithmetic and the raw
words of :class:`energy_badge.media.bits.Bits` are used, so the pixels are the same on every
platform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from energy_badge.media import draw
from energy_badge.media.bits import Bits

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Canvas = NDArray[np.int32]

__all__ = ["SCENES", "render"]

SCENES = ("object", "outdoor", "indoor")
"""The scene styles :func:`render` draws."""

Color = tuple[int, int, int]

PALETTE: dict[str, tuple[Color, ...]] = {
    "bright": ((200, 40, 40), (230, 150, 30), (240, 210, 60), (60, 150, 60), (40, 90, 190), (130, 60, 150)),
    "muted": ((150, 110, 80), (120, 120, 110), (90, 110, 130), (170, 160, 130), (110, 80, 70), (80, 100, 80)),
    "wood": ((150, 100, 60), (120, 80, 45), (170, 125, 80), (100, 70, 45)),
    "leaf": ((50, 110, 45), (70, 130, 50), (40, 90, 40), (90, 140, 60)),
    "wall": ((215, 205, 185), (190, 200, 210), (225, 215, 200), (200, 185, 165), (170, 185, 175)),
    "sky": ((110, 160, 220), (150, 185, 230), (90, 140, 205), (190, 200, 215)),
    "ground": ((95, 140, 70), (120, 150, 80), (140, 130, 105), (120, 120, 120), (160, 145, 110)),
}


def _pick(bits: Bits, name: str) -> Color:
    options = PALETTE[name]
    return options[bits.randint(0, len(options) - 1)]


def _jitter(bits: Bits, color: Color, amount: int = 18) -> Color:
    d = bits.integers(3, -amount, amount + 1)
    return (
        min(255, max(0, color[0] + int(d[0]))),
        min(255, max(0, color[1] + int(d[1]))),
        min(255, max(0, color[2] + int(d[2]))),
    )


def _shade(bits: Bits, color: Color, amount: int) -> Color:
    """The same colour lighter or darker (one offset for all three channels: the hue stays)."""
    d = bits.randint(-amount, amount)
    return (min(255, max(0, color[0] + d)), min(255, max(0, color[1] + d)), min(255, max(0, color[2] + d)))


def _texture(bits: Bits, canvas: Canvas, y0: int, y1: int, cell: int, amplitude: int) -> None:

    h, w = y1 - y0, canvas.shape[1]
    if h <= 0:
        return
    grid = bits.integers((h // cell + 2) * (w // cell + 2), -amplitude, amplitude + 1).reshape(
        h // cell + 2, w // cell + 2
    )
    canvas[y0:y1] += draw.value_noise(grid, cell, h, w)[..., None]


def _light(bits: Bits, cx: int, cy: int, size: int) -> tuple[int, int, int, int, int]:
    """A shading ramp lit from the upper left: darker towards the lower right of the shape."""
    return (cx, cy, -bits.randint(20, 60), -bits.randint(30, 80), max(size, 1))


def _shadow(canvas: Canvas, cx: int, base: int, rx: int) -> None:
    import numpy as np

    rx = max(rx, 2)
    ry = max(rx // 5, 1)
    h, w = canvas.shape[:2]
    x0, x1, y0, y1 = max(cx - rx, 0), min(cx + rx + 1, w), max(base - ry, 0), min(base + ry + 1, h)
    if x0 >= x1 or y0 >= y1:
        return
    dx = np.arange(x0, x1, dtype=np.int64)[None, :] - cx
    dy = np.arange(y0, y1, dtype=np.int64)[:, None] - base
    mask = (dx * ry) ** 2 + (dy * rx) ** 2 <= (rx * ry) ** 2
    region = canvas[y0:y1, x0:x1]
    np.copyto(region, (region * 5) >> 3, where=mask[..., None])


# --- things -------------------------------------------------------------------------------------
# Each draws one object whose bottom centre is (x, base) and whose height is about ``s`` pixels.


def _ball(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    r = max(s // 2, 2)
    _shadow(c, x, base, r)
    draw.ellipse(c, x, base - r, r, r, _pick(bits, "bright"), radial=bits.randint(120, 200))


def _fruit(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    rx, ry = max(s // 2, 2), max(s * bits.randint(40, 55) // 100, 2)
    _shadow(c, x, base, rx)
    color = bits.choice(("red", "orange", "yellow", "green"))
    rgb = {"red": (190, 35, 30), "orange": (235, 130, 25), "yellow": (230, 200, 50), "green": (110, 170, 50)}
    draw.ellipse(c, x, base - ry, rx, ry, _jitter(bits, rgb[color]), radial=170)
    draw.rectangle(
        c,
        x - max(s // 30, 1),
        base - 2 * ry - s // 8,
        x + max(s // 30, 1) + 1,
        base - 2 * ry + 2,
        (90, 60, 30),
    )
    draw.ellipse(c, x + s // 8, base - 2 * ry - s // 16, max(s // 8, 1), max(s // 20, 1), (60, 130, 40))


def _box(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = s * bits.randint(80, 150) // 100
    d = s // 4
    color = _pick(bits, bits.choice(("bright", "muted", "wood")))
    _shadow(c, x + d // 2, base, w // 2 + d)
    x0, y0 = x - w // 2, base - s
    draw.rectangle(c, x0, y0, x0 + w, base, color, _light(bits, x, base - s // 2, s))
    top = (min(255, color[0] + 40), min(255, color[1] + 40), min(255, color[2] + 40))
    draw.polygon(c, [(x0, y0), (x0 + d, y0 - d // 2), (x0 + w + d, y0 - d // 2), (x0 + w, y0)], top)
    side = (color[0] * 3 // 5, color[1] * 3 // 5, color[2] * 3 // 5)
    draw.polygon(
        c, [(x0 + w, y0), (x0 + w + d, y0 - d // 2), (x0 + w + d, base - d // 2), (x0 + w, base)], side
    )


def _cup(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = s * 3 // 4
    color = _pick(bits, bits.choice(("bright", "wall")))
    _shadow(c, x, base, w // 2 + 2)
    draw.ellipse(c, x + w // 2, base - s // 2, max(s // 5, 2), max(s // 4, 2), _jitter(bits, color, 8))
    draw.ellipse(c, x + w // 2, base - s // 2, max(s // 9, 1), max(s // 7, 1), (120, 110, 100))
    draw.polygon(
        c,
        [(x - w // 2, base - s), (x + w // 2, base - s), (x + w * 2 // 5, base), (x - w * 2 // 5, base)],
        color,
        _light(bits, x, base - s // 2, s),
    )
    draw.ellipse(c, x, base - s, w // 2, max(s // 10, 1), (80, 50, 35))


def _bottle(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = max(s // 4, 2)
    color = bits.choice(((40, 110, 60), (120, 70, 30), (60, 90, 150), (200, 200, 190)))
    _shadow(c, x, base, w)
    light = _light(bits, x, base - s // 2, s)
    draw.rectangle(c, x - w, base - s * 3 // 5, x + w, base, color, light)
    draw.polygon(
        c,
        [
            (x - w, base - s * 3 // 5),
            (x + w, base - s * 3 // 5),
            (x + w // 3, base - s * 4 // 5),
            (x - w // 3, base - s * 4 // 5),
        ],
        color,
        light,
    )
    draw.rectangle(c, x - w // 3, base - s, x + w // 3 + 1, base - s * 4 // 5, color, light)
    draw.rectangle(c, x - w * 3 // 4, base - s * 2 // 5, x + w * 3 // 4, base - s // 5, _pick(bits, "wall"))


def _plant(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = s * 2 // 5
    _shadow(c, x, base, w // 2 + 2)
    for _ in range(bits.randint(4, 7)):
        lx = x + bits.randint(-w, w)
        ly = base - s // 3 - bits.randint(s // 6, s * 2 // 3)
        draw.ellipse(
            c, lx, ly, max(s // 6, 2), max(s // 10, 1), _jitter(bits, _pick(bits, "leaf")), radial=90
        )
    pot = bits.choice(((180, 90, 60), (200, 190, 180), (70, 70, 80)))
    draw.polygon(
        c,
        [
            (x - w // 2, base - s // 3),
            (x + w // 2, base - s // 3),
            (x + w * 3 // 8, base),
            (x - w * 3 // 8, base),
        ],
        pot,
        _light(bits, x, base - s // 6, s // 3),
    )


def _lamp(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = s // 3
    _shadow(c, x, base, w // 2)
    draw.rectangle(c, x - w // 2, base - s // 12, x + w // 2, base, (60, 60, 60))
    draw.rectangle(c, x - max(s // 40, 1), base - s * 2 // 3, x + max(s // 40, 1) + 1, base, (90, 90, 90))
    shade = _jitter(bits, (235, 220, 170), 12)
    draw.polygon(
        c,
        [
            (x - w // 3, base - s),
            (x + w // 3, base - s),
            (x + w * 2 // 3, base - s * 2 // 3),
            (x - w * 2 // 3, base - s * 2 // 3),
        ],
        shade,
        _light(bits, x, base - s * 5 // 6, s // 3),
    )


def _tree(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    t = max(s // 14, 1)
    _shadow(c, x, base, s // 3)
    draw.rectangle(c, x - t, base - s // 2, x + t + 1, base, _pick(bits, "wood"), _light(bits, x, base, s))
    leaf = _pick(bits, "leaf")
    for _ in range(bits.randint(2, 4)):
        ox, oy = bits.randint(-s // 6, s // 6), bits.randint(-s // 10, s // 10)
        r = s * bits.randint(22, 32) // 100
        draw.ellipse(c, x + ox, base - s * 2 // 3 + oy, r, r * 9 // 10, _jitter(bits, leaf, 10), radial=110)


def _house(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = s * bits.randint(100, 160) // 100
    wall = _pick(bits, "wall")
    _shadow(c, x, base, w * 3 // 5)
    x0, top = x - w // 2, base - s * 3 // 5
    draw.rectangle(c, x0, top, x0 + w, base, wall, _light(bits, x, base - s // 3, s))
    roof = bits.choice(((150, 60, 45), (90, 70, 65), (70, 80, 100)))
    draw.polygon(c, [(x0 - s // 12, top), (x0 + w + s // 12, top), (x, base - s)], roof)
    draw.rectangle(c, x - s // 12, base - s // 4, x + s // 12, base, (100, 65, 40))
    for wx in (x0 + w // 5, x0 + w * 4 // 5 - s // 8):
        draw.rectangle(
            c,
            wx,
            top + s // 10,
            wx + s // 8,
            top + s // 10 + s // 8,
            (150, 185, 215),
            _light(bits, wx, top, s // 4),
        )


def _car(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = s * bits.randint(220, 280) // 100
    body = _pick(bits, bits.choice(("bright", "muted")))
    r = max(s // 5, 2)
    _shadow(c, x, base, w * 3 // 5)
    x0 = x - w // 2
    draw.rectangle(c, x0, base - s * 3 // 5, x0 + w, base - r // 2, body, _light(bits, x, base - s // 3, s))
    draw.polygon(
        c,
        [
            (x0 + w // 5, base - s * 3 // 5),
            (x0 + w * 3 // 10, base - s),
            (x0 + w * 7 // 10, base - s),
            (x0 + w * 17 // 20, base - s * 3 // 5),
        ],
        body,
        _light(bits, x, base - s, s),
    )
    draw.polygon(
        c,
        [
            (x0 + w * 6 // 20, base - s * 3 // 5),
            (x0 + w * 7 // 20, base - s * 9 // 10),
            (x0 + w * 13 // 20, base - s * 9 // 10),
            (x0 + w * 15 // 20, base - s * 3 // 5),
        ],
        (170, 200, 220),
    )
    for wx in (x0 + w // 5, x0 + w * 4 // 5):
        draw.ellipse(c, wx, base - r, r, r, (30, 30, 30))
        draw.ellipse(c, wx, base - r, r // 2, r // 2, (150, 150, 150))


def _person(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = max(s // 5, 2)
    _shadow(c, x, base, w)
    legs = bits.choice(((50, 60, 90), (60, 50, 40), (40, 40, 45)))
    draw.rectangle(c, x - w // 2, base - s * 9 // 20, x - 1, base, legs)
    draw.rectangle(c, x + 1, base - s * 9 // 20, x + w // 2 + 1, base, legs)
    shirt = _pick(bits, "bright")
    draw.polygon(
        c,
        [
            (x - w // 2, base - s * 9 // 20),
            (x + w // 2, base - s * 9 // 20),
            (x + w * 3 // 5, base - s * 4 // 5),
            (x - w * 3 // 5, base - s * 4 // 5),
        ],
        shirt,
        _light(bits, x, base - s * 3 // 5, s // 2),
    )
    skin = bits.choice(((235, 200, 170), (200, 150, 110), (150, 100, 70), (95, 65, 45)))
    draw.ellipse(c, x, base - s * 9 // 10, max(s // 10, 1), max(s // 9, 1), skin, radial=90)


def _bush(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    leaf = _pick(bits, "leaf")
    for _ in range(bits.randint(3, 5)):
        ox = bits.randint(-s // 2, s // 2)
        r = s * bits.randint(30, 50) // 100
        draw.ellipse(c, x + ox, base - r, r, r * 4 // 5, _jitter(bits, leaf, 12), radial=100)


def _table(bits: Bits, c: Canvas, x: int, base: int, s: int) -> None:
    w = s * bits.randint(150, 220) // 100
    wood = _pick(bits, "wood")
    _shadow(c, x, base, w // 2)
    leg = max(s // 14, 1)
    for lx in (x - w // 2 + leg, x + w // 2 - 2 * leg):
        draw.rectangle(
            c, lx, base - s * 4 // 5, lx + leg, base, (wood[0] * 3 // 4, wood[1] * 3 // 4, wood[2] * 3 // 4)
        )
    draw.rectangle(
        c, x - w // 2, base - s, x + w // 2, base - s * 4 // 5 - 1, wood, _light(bits, x, base - s, w)
    )


Draw = Callable[[Bits, "Canvas", int, int, int], None]
CENTRE: tuple[Draw, ...] = (_ball, _fruit, _cup, _box, _bottle, _lamp, _plant)
OUTDOOR: tuple[Draw, ...] = (_tree, _tree, _house, _car, _car, _person, _person, _bush, _ball, _box)
INDOOR: tuple[Draw, ...] = (_table, _box, _cup, _bottle, _plant, _lamp, _ball, _fruit, _person)
HEIGHT: dict[Draw, int] = {
    _tree: 75,
    _house: 65,
    _car: 26,
    _person: 55,
    _bush: 22,
    _ball: 12,
    _box: 18,
    _table: 30,
}


def _room(bits: Bits, c: Canvas, floor: int) -> None:
    import numpy as np

    h, w = c.shape[:2]
    wall = _pick(bits, "wall")
    wall = _jitter(bits, wall, 10)
    c[:floor] = draw.gradient_rows(wall, _shade(bits, wall, 30), floor)
    _texture(bits, c, 0, floor, 48, 5)
    wood = _pick(bits, "wood")
    c[floor:] = draw.gradient_rows(wood, _shade(bits, wood, 25), h - floor)
    plank = bits.randint(h // 20 + 2, h // 9 + 3)
    for y in range(floor, h, plank):
        shade = bits.randint(-14, 14)
        c[y : y + plank] += np.int32(shade)
        c[y : y + 1] = (c[y : y + 1] * 3) >> 2
    _texture(bits, c, floor, h, 12, 6)
    draw.rectangle(
        c, 0, floor - max(h // 60, 2), w, floor + 1, (wall[0] * 4 // 5, wall[1] * 4 // 5, wall[2] * 4 // 5)
    )


def _scene_object(bits: Bits, c: Canvas) -> None:
    h, w = c.shape[:2]
    _room(bits, c, h * bits.randint(45, 70) // 100)
    s = min(h, w) * bits.randint(45, 72) // 100
    x = w // 2 + bits.randint(-w // 10, w // 10)
    base = h * bits.randint(78, 92) // 100
    CENTRE[bits.randint(0, len(CENTRE) - 1)](bits, c, x, base, s)


def _scene_outdoor(bits: Bits, c: Canvas) -> None:
    h, w = c.shape[:2]
    horizon = h * bits.randint(35, 58) // 100
    sky, ground = _pick(bits, "sky"), _pick(bits, "ground")
    c[:horizon] = draw.gradient_rows(_jitter(bits, sky, 10), (230, 232, 235), horizon)
    _texture(bits, c, 0, horizon, 64, 4)
    ground = _jitter(bits, ground, 10)
    c[horizon:] = draw.gradient_rows(ground, _shade(bits, ground, 35), h - horizon)
    _texture(bits, c, horizon, h, 32, 12)
    _texture(bits, c, horizon, h, 8, 5)
    if bits.random() < 0.35:
        draw.ellipse(
            c,
            bits.randint(w // 10, w * 9 // 10),
            bits.randint(h // 20, horizon // 2 + 1),
            h // 14 + 2,
            h // 14 + 2,
            (250, 240, 190),
        )
    for _ in range(bits.randint(0, 3)):
        cx, cy = bits.randint(0, w), bits.randint(h // 20, max(horizon * 2 // 3, h // 20 + 1))
        for _ in range(bits.randint(3, 5)):
            r = h * bits.randint(3, 7) // 100 + 2
            draw.ellipse(
                c,
                cx + bits.randint(-2 * r, 2 * r),
                cy + bits.randint(-r // 2, r // 2),
                r * 3 // 2,
                r,
                (245, 245, 248),
                radial=40,
            )
    _place(bits, c, horizon, OUTDOOR, bits.randint(3, 8))


def _scene_indoor(bits: Bits, c: Canvas) -> None:
    h, w = c.shape[:2]
    floor = h * bits.randint(50, 68) // 100
    _room(bits, c, floor)
    for _ in range(bits.randint(1, 3)):
        fw, fh = w * bits.randint(10, 22) // 100, h * bits.randint(10, 22) // 100
        fx, fy = (
            bits.randint(0, max(w - fw, 1)),
            bits.randint(h // 20, max(floor - fh - h // 10, h // 20 + 1)),
        )
        draw.rectangle(c, fx, fy, fx + fw, fy + fh, _pick(bits, "wood"))
        draw.rectangle(
            c,
            fx + fw // 10,
            fy + fh // 10,
            fx + fw * 9 // 10,
            fy + fh * 9 // 10,
            _pick(bits, bits.choice(("sky", "bright", "ground"))),
            _light(bits, fx, fy, fw),
        )
    _place(bits, c, floor, INDOOR, bits.randint(2, 6))


def _place(bits: Bits, c: Canvas, horizon: int, kinds: tuple[Draw, ...], count: int) -> None:
    """Stand ``count`` things on the ground, far ones first, sized by their distance."""
    h, w = c.shape[:2]
    things = []
    for _ in range(count):
        base = horizon + 2 + (h - horizon) * bits.randint(5, 100) // 100
        things.append((base, bits.randint(0, w - 1), kinds[bits.randint(0, len(kinds) - 1)]))
    for base, x, kind in sorted(things, key=lambda t: (t[0], t[1])):
        depth = (base - horizon) * 100 // max(h - horizon, 1)  # 0 at the horizon, 100 at the bottom
        size = h * HEIGHT.get(kind, 20) * (25 + depth) // 10000
        kind(bits, c, x, min(base, h - 1), max(size, 4))


STYLES = {"object": _scene_object, "outdoor": _scene_outdoor, "indoor": _scene_indoor}


def render(width: int, height: int, seed: int, scene: str) -> NDArray[np.uint8]:
    """Draw one picture.

    Args:
        width, height: its size in pixels (16 to 4096 each).
        seed: the picture's seed; the same arguments always give the same pixels.
        scene: one of :data:`SCENES`.

    Returns:
        A ``uint8`` array of shape (height, width, 3), RGB.

    Raises:
        ValueError: a size or the scene is out of range.
    """
    import numpy as np

    if scene not in STYLES or not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise ValueError(f"cannot draw a {width}x{height} {scene!r} picture")
    bits = Bits(f"energy-badge/image/{scene}/{width}x{height}/{seed}")
    canvas = np.zeros((height, width, 3), dtype=np.int32)
    STYLES[scene](bits, canvas)
    np.clip(canvas, 0, 255, out=canvas)
    pixels = draw.box_blur(canvas.astype(np.uint16)).astype(np.int16)
    pixels += bits.small(height * width).astype(np.int16).reshape(height, width, 1)
    np.clip(pixels, 0, 255, out=pixels)
    return pixels.astype(np.uint8)
