"""Procedural textures: printed patterns and material surfaces as float RGB arrays in 0..1."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw

from sample_catalog.geometry import ellipse

Array = np.ndarray
Rng = np.random.Generator

PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (36, 36, 40), "white": (246, 245, 240), "grey": (138, 140, 144), "navy": (32, 46, 90),
    "blue": (56, 108, 184), "red": (184, 38, 44), "burgundy": (112, 28, 48), "pink": (236, 156, 178),
    "green": (44, 118, 72), "olive": (108, 112, 56), "beige": (216, 198, 166), "brown": (104, 68, 42),
    "yellow": (236, 196, 60), "orange": (228, 118, 40), "camel": (190, 142, 88),
}
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
LIGHT_ACCENTS = ((0.96, 0.94, 0.88), (0.98, 0.84, 0.86), (0.98, 0.92, 0.62))
DARK_ACCENTS = ((0.13, 0.18, 0.36), (0.55, 0.12, 0.16), (0.16, 0.36, 0.22), (0.18, 0.18, 0.2))


def rgb(name: str) -> Array:
    """Palette colour as floats."""
    return np.array(PALETTE[name], dtype=np.float32) / 255


def luminance(colour: Array) -> float:
    """Perceived brightness of one colour."""
    return float(np.dot(colour, LUMA))


def accent_for(base: Array, rng: Rng) -> Array:
    """A motif colour that reads against the base: light on dark bases, dark on light ones."""
    choices = LIGHT_ACCENTS if luminance(base) < 0.5 else DARK_ACCENTS
    return np.array(choices[rng.integers(len(choices))], dtype=np.float32)


@cache
def coords(shape: tuple[int, int]) -> tuple[Array, Array]:
    """Row and column index grids (cached, read-only)."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    yy.flags.writeable = xx.flags.writeable = False
    return yy, xx


def blur(a: Array, sigma: float) -> Array:
    """Gaussian-like blur of a 2-D float array; wide blurs run on a reduced copy and are scaled back up."""
    step, (h, w) = int(sigma // 3), a.shape
    if step < 2 or min(h, w) < 2 * step:
        return _box_blur(a.astype(np.float32), sigma)
    small = np.asarray(Image.fromarray(a.astype(np.float32)).reduce(step))
    return np.asarray(Image.fromarray(_box_blur(small, sigma / step)).resize((w, h), Image.Resampling.BICUBIC))


def _box_blur(a: Array, sigma: float) -> Array:
    """Three box passes along each axis (edges clamped): close to a Gaussian of this sigma."""
    r = max(1, round((np.sqrt(4 * sigma ** 2 + 1) - 1) / 2))
    k = 2 * r + 1
    for _ in range(2):
        for _ in range(3):
            c = np.cumsum(np.pad(a, ((0, 0), (r + 1, r)), mode="edge"), axis=1, dtype=np.float32)
            a = (c[:, k:] - c[:, :-k]) / k
        a = np.ascontiguousarray(a.T)
    return a


def noise(rng: Rng, shape: tuple[int, int], cell: tuple[float, float], octaves: int = 1) -> Array:
    """Smooth value noise in about 0..1; `cell` is the feature size (rows, cols) in pixels."""
    h, w = shape
    total, weight = np.zeros(shape, np.float32), 0.0
    cy, cx = cell
    for octave in range(octaves):
        gh, gw = int(h / cy) + 4, int(w / cx) + 4
        grid = Image.fromarray(rng.random((gh, gw), dtype=np.float32))
        big = np.asarray(grid.resize((int(gw * cx), int(gh * cy)), Image.Resampling.BICUBIC))
        oy, ox = int(cy), int(cx)
        amp = 0.5 ** octave
        total += amp * big[oy:oy + h, ox:ox + w]
        weight += amp
        cy, cx = max(cy / 2, 1.0), max(cx / 2, 1.0)
    return total / weight


def _detail(colour: Array, d: Array, amount: float) -> Array:
    """Modulate colour by a zero-mean detail map, visibly on dark and light colours alike."""
    return colour + (d * amount)[..., None] * (0.35 + 0.65 * colour)


def _towards(colour: Array, target: Array | float, t: Array | float) -> Array:
    """Blend colour towards a target by per-pixel amount t."""
    t = t[..., None] if isinstance(t, np.ndarray) else t
    return colour + (target - colour) * t


# --- patterns: (base colour, rng, shape) -> colour map --------------------------------------------

def solid(base: Array, rng: Rng, shape: tuple[int, int]) -> Array:
    """Plain colour."""
    return np.broadcast_to(base, (*shape, 3)).astype(np.float32)


def stripes(base: Array, rng: Rng, shape: tuple[int, int]) -> Array:
    """Breton or pinstripe-ish bands in an accent colour."""
    yy, xx = coords(shape)
    period, duty = rng.uniform(26, 40), rng.uniform(0.25, 0.4)
    on = ((xx if rng.random() < 0.35 else yy) / period) % 1 < duty
    return np.where(on[..., None], accent_for(base, rng), solid(base, rng, shape))


def plaid(base: Array, rng: Rng, shape: tuple[int, int]) -> Array:
    """Tartan: darker crossing bands plus thin accent over-check lines."""
    yy, xx = coords(shape)
    period = rng.uniform(60, 84)
    u, v = (xx / period) % 1, (yy / period) % 1
    dark = 0.28 * (u < 0.32) + 0.28 * (v < 0.32)
    thin = (np.abs(u - 0.66) < 0.03) | (np.abs(v - 0.66) < 0.03)
    colour = solid(base, rng, shape) * (1 - dark)[..., None]
    return np.where(thin[..., None], accent_for(base, rng), colour)


def polka(base: Array, rng: Rng, shape: tuple[int, int]) -> Array:
    """Offset grid of round dots."""
    yy, xx = coords(shape)
    spacing = rng.uniform(30, 40)
    row = np.floor(yy / spacing)
    dx = (xx + (row % 2) * spacing / 2) % spacing - spacing / 2
    dy = yy % spacing - spacing / 2
    dot = np.clip(spacing * 0.2 - np.hypot(dx, dy) + 0.5, 0, 1)
    return _towards(solid(base, rng, shape), accent_for(base, rng), dot)


def floral(base: Array, rng: Rng, shape: tuple[int, int]) -> Array:
    """Scattered five-petal flowers with leaves."""
    h, w = shape
    im = Image.new("RGB", (w, h), tuple(int(c * 255) for c in base))
    draw = ImageDraw.Draw(im)
    petal, leaf = accent_for(base, rng), _towards(base, np.array([0.2, 0.42, 0.22]), 0.7)
    heart = (0.95, 0.78, 0.3) if luminance(base) < 0.5 else (0.55, 0.25, 0.1)
    spacing = rng.uniform(50, 66)
    for gy in np.arange(-spacing / 2, h + spacing, spacing):
        for gx in np.arange(-spacing / 2, w + spacing, spacing):
            x, y = gx + rng.uniform(-0.3, 0.3) * spacing, gy + rng.uniform(-0.3, 0.3) * spacing
            r, turn = spacing * rng.uniform(0.16, 0.22), rng.uniform(0, 72)
            for a in (turn + 150, turn + 210):
                lx, ly = x + 1.6 * r * np.cos(np.radians(a)), y + 1.6 * r * np.sin(np.radians(a))
                _fill(draw, ellipse(lx, ly, r * 0.9, r * 0.38, rot=a, n=16), leaf)
            for k in range(5):
                a = np.radians(turn + 72 * k)
                _fill(draw, ellipse(x + r * np.cos(a), y + r * np.sin(a), r * 0.75, r * 0.55,
                                    rot=np.degrees(a), n=16), petal)
            _fill(draw, ellipse(x, y, r * 0.42, r * 0.42, n=12), np.array(heart))
    return np.asarray(im, dtype=np.float32) / 255


def _fill(draw: ImageDraw.ImageDraw, poly: Array, colour: Array) -> None:
    """Fill a polygon given in pixel coordinates with a float colour."""
    draw.polygon([tuple(p) for p in poly], fill=tuple(int(c * 255) for c in colour))


PATTERNS: dict[str, Callable[[Array, Rng, tuple[int, int]], Array]] = {
    "solid": solid, "stripes": stripes, "plaid": plaid, "polka dots": polka, "floral": floral,
}


# --- materials: (colour map, rng) -> shaded-free surface colour ----------------------------------

def cotton(c: Array, rng: Rng) -> Array:
    """Smooth jersey with a faint knit grain."""
    return _detail(c, noise(rng, c.shape[:2], (2, 2)) - 0.5, 0.08)


def denim(c: Array, rng: Rng) -> Array:
    """Diagonal twill, white weft flecks and streaky fading."""
    yy, xx = coords(c.shape[:2])
    twill = 0.5 + 0.5 * np.sin((xx + 0.6 * yy) * 2 * np.pi / 8)
    flecks = np.clip((noise(rng, c.shape[:2], (1.5, 1.5)) - 0.62) * 4, 0, 1)
    fade = np.clip(noise(rng, c.shape[:2], (70, 10), octaves=2) - 0.45, 0, 1)
    return _towards(c, c * 0.45 + 0.5, 0.3 * twill + 0.25 * flecks + 0.5 * fade)


def leather(c: Array, rng: Rng) -> Array:
    """Smooth hide: a fine, faint pebble grain and a gentle tonal drift (the sheen comes from the finish)."""
    pebble = np.abs(noise(rng, c.shape[:2], (4, 4)) - 0.5) * 2 - 0.5
    return _detail(c, 0.35 * pebble + 0.5 * (noise(rng, c.shape[:2], (160, 160)) - 0.5), 0.1)


def suede(c: Array, rng: Rng) -> Array:
    """Matte brushed nap with soft blotches."""
    nap = noise(rng, c.shape[:2], (30, 12), octaves=2) - 0.5
    return _detail(c * 0.92, nap + 0.4 * (noise(rng, c.shape[:2], (1.5, 1.5)) - 0.5), 0.3)


def knit(c: Array, rng: Rng) -> Array:
    """Rows of V stitches in ribbed columns with rope cables every few columns."""
    h, w = c.shape[:2]
    tile = _knit_tile()
    pattern = np.tile(tile, (h // tile.shape[0] + 1, w // tile.shape[1] + 1))[:h, :w]
    return c * (0.5 + 0.65 * pattern)[..., None] + 0.04


@cache
def _knit_tile(col: int = 12, row: int = 10, band: int = 36) -> Array:
    """One repeat of the knit: stitch columns (every fourth recessed) beside a rope cable."""
    period = band + 4 * col
    yy, xx = coords((row * 14, period))
    u, v = (xx % col) / col, (yy % row) / row
    centre = np.where(u < 0.5, 0.1 + 0.3 * v, 0.9 - 0.3 * v)
    stitch = np.clip(1 - ((u - centre) / 0.2) ** 2, 0, 1) * np.sin(np.pi * v) ** 0.5
    stitch *= np.where((xx // col) % 4 == 3, 0.7, 1.0)
    p = xx / band
    twist = np.clip(np.sin(np.pi * ((yy / 28 - 0.9 * np.abs(p - 0.5)) % 1)), 0, 1) ** 0.7
    rope = twist * np.clip(np.sin(np.pi * np.clip(p, 0, 1)), 0, 1) ** 0.4
    return np.where(p < 1, rope, stitch).astype(np.float32)


def linen(c: Array, rng: Rng) -> Array:
    """Fine plain weave with slubby horizontal and vertical threads."""
    yy, xx = coords(c.shape[:2])
    weave = np.sin(xx * 2 * np.pi / 5) * np.sin(yy * 2 * np.pi / 5)
    slubs = 1.4 * (noise(rng, c.shape[:2], (3, 50)) - 0.5) + 0.9 * (noise(rng, c.shape[:2], (50, 3)) - 0.5)
    return _detail(_towards(c, (c @ LUMA)[..., None], 0.1), slubs + 0.25 * weave, 0.3)


def canvas(c: Array, rng: Rng) -> Array:
    """Coarse basket weave."""
    yy, xx = coords(c.shape[:2])
    weave = np.sin(xx * 2 * np.pi / 8) * np.sin(yy * 2 * np.pi / 8)
    return _detail(c, weave + 0.6 * (noise(rng, c.shape[:2], (12, 12)) - 0.5), 0.12)


def wool(c: Array, rng: Rng) -> Array:
    """Heathered herringbone tweed."""
    yy, xx = coords(c.shape[:2])
    direction = np.where((xx // 16) % 2 == 0, 1.0, -1.0)
    herring = np.sin((yy + direction * xx) * 2 * np.pi / 10)
    heather = noise(rng, c.shape[:2], (1.5, 1.5)) - 0.5
    return _detail(c, 0.6 * herring + 1.2 * heather, 0.22)


def silk(c: Array, rng: Rng) -> Array:
    """Smooth lustrous cloth with faint long sheen streaks."""
    return _detail(c, noise(rng, c.shape[:2], (120, 30)) - 0.5, 0.12)


def velvet(c: Array, rng: Rng) -> Array:
    """Deep pile with crushed light and dark patches."""
    return _detail(c, noise(rng, c.shape[:2], (40, 40), octaves=2) - 0.5, 0.6)


def nylon(c: Array, rng: Rng) -> Array:
    """Ripstop: a fine square grid of heavier threads."""
    yy, xx = coords(c.shape[:2])
    grid = ((xx % 16) < 2) | ((yy % 16) < 2)
    return _detail(c, np.where(grid, -0.6, 0.1) + 0.2 * (noise(rng, c.shape[:2], (2, 2)) - 0.5), 0.2)


def mesh(c: Array, rng: Rng) -> Array:
    """Sports mesh: an offset grid of small open holes."""
    yy, xx = coords(c.shape[:2])
    s = 11.0
    row = np.floor(yy / s)
    d = np.hypot((xx + (row % 2) * s / 2) % s - s / 2, yy % s - s / 2)
    return c * (1 - 0.5 * np.clip(3.4 - d, 0, 1))[..., None]


def straw(c: Array, rng: Rng) -> Array:
    """Basket-woven straw: alternating cells of horizontal and vertical fibres."""
    yy, xx = coords(c.shape[:2])
    cell = 20.0
    across = ((xx // cell + yy // cell) % 2) == 0
    fibres = np.where(across, noise(rng, c.shape[:2], (2, 40)), noise(rng, c.shape[:2], (40, 2))) - 0.5
    u, v = (xx % cell) / cell, (yy % cell) / cell
    edge = np.where(across, np.sin(np.pi * v), np.sin(np.pi * u)) ** 0.5
    return c * (0.55 + 0.45 * edge)[..., None] + (fibres * 0.25)[..., None] * (0.3 + 0.7 * c)


def wood(c: Array, rng: Rng) -> Array:
    """Wavy long grain with darker growth lines and fine fibres."""
    yy, xx = coords(c.shape[:2])
    turb = noise(rng, c.shape[:2], (90, 160), octaves=3)
    rings = (yy + 60 * turb + 0.04 * xx) / rng.uniform(12, 18)
    lines = np.abs(((rings % 1) - 0.5) * 2) ** 6
    fibres = noise(rng, c.shape[:2], (1.5, 40)) - 0.5
    return _detail(c, -1.2 * lines + 0.8 * fibres + 0.8 * (turb - 0.5), 0.3)


def marble(c: Array, rng: Rng) -> Array:
    """Polished stone: cloudy ground with sharp branching veins."""
    yy, xx = coords(c.shape[:2])
    turb = noise(rng, c.shape[:2], (110, 110), octaves=5)
    veins = (1 - np.abs(np.sin((xx * 0.6 + yy * 0.8) / 60 + turb * 10))) ** 12
    fine = (1 - np.abs(np.sin((xx * 0.9 - yy * 0.4) / 30 + noise(rng, c.shape[:2], (60, 60), 4) * 8))) ** 24
    vein_colour = c * 0.4 if luminance(c.mean(axis=(0, 1))) > 0.45 else c * 0.3 + 0.62
    ground = _detail(c, noise(rng, c.shape[:2], (70, 70), octaves=2) - 0.5, 0.12)
    return _towards(ground, vein_colour, np.clip(veins + 0.6 * fine, 0, 1))


def ceramic(c: Array, rng: Rng) -> Array:
    """Glaze with gentle pooling and a sprinkle of iron speckles."""
    specks = blur((rng.random(c.shape[:2]) > 0.9982).astype(np.float32), 1.0) * 4
    glaze = _detail(c, noise(rng, c.shape[:2], (40, 40), octaves=2) - 0.5, 0.16)
    return glaze * (1 - 0.6 * np.clip(specks, 0, 1))[..., None]


def metal(c: Array, rng: Rng) -> Array:
    """Brushed metal."""
    return _detail(c, noise(rng, c.shape[:2], (1, 60)) - 0.5, 0.25)


def rubber(c: Array, rng: Rng) -> Array:
    """Moulded rubber: almost featureless."""
    return _detail(c, noise(rng, c.shape[:2], (3, 3)) - 0.5, 0.05)


def cork(c: Array, rng: Rng) -> Array:
    """Granular cork."""
    grains = noise(rng, c.shape[:2], (2.5, 2.5)) - 0.5 + 0.5 * (noise(rng, c.shape[:2], (8, 8)) - 0.5)
    return _detail(c, grains, 0.5)


@dataclass(frozen=True)
class Finish:
    """How a material looks: its texture and how glossy it is under the studio light."""

    texture: Callable[[Array, Rng], Array]
    gloss: float = 0.0
    sharpness: float = 8.0


FINISHES: dict[str, Finish] = {
    "cotton": Finish(cotton, 0.02), "denim": Finish(denim, 0.02), "linen": Finish(linen),
    "wool": Finish(wool), "knit": Finish(knit), "silk": Finish(silk, 0.45, 5),
    "velvet": Finish(velvet, 0.25, 3), "leather": Finish(leather, 0.55, 10),
    "suede": Finish(suede), "canvas": Finish(canvas), "nylon": Finish(nylon, 0.2, 6),
    "mesh": Finish(mesh, 0.05), "straw": Finish(straw), "wood": Finish(wood, 0.12, 6),
    "marble": Finish(marble, 0.45, 14), "ceramic": Finish(ceramic, 0.6, 16),
    "metal": Finish(metal, 0.9, 10), "rubber": Finish(rubber, 0.08), "cork": Finish(cork),
}


def surface(material: str, base: Array, pattern: str, rng: Rng, shape: tuple[int, int]) -> Array:
    """Texture for a material in a colour and print, clipped to 0..1."""
    colour = PATTERNS[pattern](np.asarray(base, dtype=np.float32), rng, shape)
    return np.clip(FINISHES[material].texture(colour, rng), 0, 1).astype(np.float32)
