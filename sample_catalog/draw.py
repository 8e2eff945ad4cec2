"""Render a Spec to a studio product shot: rasterise the figure, texture, light, shadow and save."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from sample_catalog import apparel, bags, home, shoes
from sample_catalog.geometry import Figure, Line, Part, Spec
from sample_catalog.textures import FINISHES, Array, Rng, accent_for, blur, coords, luminance, rgb, surface

SIZE = 256
N = SIZE * 2  # drawn at twice the size, then reduced: cheap anti-aliasing
LIGHT = tuple(float(v) for v in np.array([-0.45, -0.6, 0.66]) / np.linalg.norm([-0.45, -0.6, 0.66]))
HALF = tuple(float(v) for v in (np.array(LIGHT) + [0, 0, 1]) / np.linalg.norm(np.array(LIGHT) + [0, 0, 1]))
DRAWERS: dict[str, Callable[[Spec, Rng], Figure]] = {**apparel.DRAWERS, **bags.DRAWERS, **shoes.DRAWERS,
                                                      **home.DRAWERS}
TILT = 0.6  # how far the edge of a rounded part turns away from the camera
GOLD, SILVER = np.array([0.84, 0.66, 0.3]), np.array([0.76, 0.77, 0.8])
DENIM_THREAD = np.array([0.86, 0.58, 0.22])


def render(spec: Spec, rng: Rng, flip: bool = False) -> Image.Image:
    """Draw one catalogue item as a 256x256 RGB image."""
    figure = DRAWERS[spec.subtype](spec, rng).fit(flip=flip)
    surfaces = Surfaces(spec, rng)
    masks = [_raster(p) for p in figure.parts]
    img = _background(rng)
    _cast_shadow(img, masks)
    _lines(img, figure.lines, 0, surfaces.thread)
    for k, (part, mask) in enumerate(zip(figure.parts, masks, strict=True)):
        if k:
            _contact(img, mask)
        _paint(img, mask, part, *surfaces(part.surface))
        _lines(img, figure.lines, k + 1, surfaces.thread)
    return Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).reduce(2)


def save_png(img: Image.Image, path: Path, colours: int = 96) -> None:
    """Write a small palette PNG (median-cut quantised, no dithering)."""
    small = img.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


class Surfaces:
    """Lazily made textures for the named surfaces an item's parts use, plus its stitching thread."""

    def __init__(self, spec: Spec, rng: Rng) -> None:
        base = rgb(spec.colour)
        metal = GOLD if spec.style == "glam" or rng.random() < 0.3 else SILVER
        strap = base if spec.material in ("leather", "suede") else rgb(("camel", "brown", "black")[rng.integers(3)])
        sole = ((0.95, 0.94, 0.9), (0.74, 0.55, 0.34))[int(rng.random() < 0.2)]
        self.rng = rng
        self.plans: dict[str, tuple[str, Array, str]] = {
            "main": (spec.material, base, spec.pattern),
            "trim": (spec.material, base * 0.8, "solid"),
            "inner": (spec.material, base * 0.5 + 0.02, "solid"),
            "contrast": (spec.material, accent_for(base, rng), "solid"),
            "metal": ("metal", metal, "solid"),
            "sole": ("rubber", np.array(sole), "solid"),
            "heel": ("rubber", np.array([0.16, 0.14, 0.13]), "solid"),
            "strap": ("leather", strap, "solid"),
            "footbed": ("cork" if spec.style in ("rustic", "bohemian") else "leather",
                        np.array([0.78, 0.6, 0.42]), "solid"),
            "shade": ("linen", np.array([0.95, 0.93, 0.88]) if luminance(base) < 0.8 else base * 0.92, "solid"),
            "clay": ("cork", np.array([0.8, 0.7, 0.58]), "solid"),
            "wood": ("wood", np.array([0.66, 0.48, 0.32]), "solid"),
        }
        self.thread = DENIM_THREAD if spec.material == "denim" else (
            base * 0.5 + 0.45 if luminance(base) < 0.55 else base * 0.6)
        self.made: dict[str, tuple[Array, tuple[float, float]]] = {}

    def __call__(self, name: str) -> tuple[Array, tuple[float, float]]:
        """Texture and (gloss, sharpness) of a named surface."""
        if name not in self.made:
            material, colour, pattern = self.plans[name]
            finish = FINISHES[material]
            texture = surface(material, colour, pattern, self.rng, (N, N))
            self.made[name] = texture, (finish.gloss, finish.sharpness)
        return self.made[name]


def _raster(part: Part) -> Image.Image:
    """Coverage mask of a part at the working resolution."""
    im = Image.new("L", (N, N), 0)
    draw = ImageDraw.Draw(im)
    for poly in part.polys:
        draw.polygon([tuple(p) for p in poly * N], fill=255)
    for line, width in part.strokes:
        _polyline(draw, line * N, max(1, round(width * N)), 255)
    return im


def _region(mask: Image.Image, pad: int) -> tuple[slice, slice] | None:
    """Array slices of a mask's non-empty bounding box, grown by pad pixels."""
    box = mask.getbbox()
    if box is None:
        return None
    x0, y0, x1, y1 = box
    return slice(max(y0 - pad, 0), min(y1 + pad, N)), slice(max(x0 - pad, 0), min(x1 + pad, N))


def _crop(mask: Image.Image, box: tuple[slice, slice]) -> Array:
    """Float coverage of a mask inside a region."""
    return np.asarray(mask, dtype=np.float32)[box] / 255


def _polyline(draw: ImageDraw.ImageDraw, points: Array, width: int, fill: int) -> None:
    """Thick polyline with round joints and caps."""
    draw.line([tuple(p) for p in points], fill=fill, width=width, joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=fill)


def _background(rng: Rng) -> Array:
    """Light studio sweep: off-white to light grey, slightly warm or cool, brighter in the middle."""
    yy, xx = coords((N // 8, N // 8))
    n = N // 8
    glow = 0.04 * np.exp(-(((xx - n / 2) / (0.6 * n)) ** 2 + ((yy - 0.42 * n) / (0.6 * n)) ** 2))
    level = _upscale(rng.uniform(0.87, 0.93) + glow - 0.025 * (yy / n))
    tint = np.array([[1.01, 1.0, 0.97], [0.985, 0.995, 1.01], [1.0, 1.0, 1.0]][rng.integers(3)], np.float32)
    return level[..., None] * tint


def _upscale(small: Array) -> Array:
    """Smoothly resize a low-resolution float map to the working canvas."""
    return np.asarray(Image.fromarray(small.astype(np.float32)).resize((N, N), Image.Resampling.BILINEAR))


def _cast_shadow(img: Array, masks: list[Image.Image]) -> None:
    """Soft floor shadow under the object plus a faint drop shadow down-right (in place)."""
    union = np.clip(sum(np.asarray(m.reduce(4), dtype=np.float32) for m in masks) / 255, 0, 1)
    n = N // 4
    rows = np.flatnonzero(union.max(axis=1) > 0.5)
    cols = np.flatnonzero(union[rows[-1] - int(0.15 * (rows[-1] - rows[0])):rows[-1] + 1].max(axis=0) > 0.5)
    yy, xx = coords((n, n))
    cx, rx = (cols[0] + cols[-1]) / 2, (cols[-1] - cols[0]) / 2 + 0.04 * n
    floor = np.exp(-2 * (((xx - cx) / rx) ** 2 + ((yy - rows[-1]) / (0.03 * n)) ** 2))
    drop = blur(np.roll(union, (int(0.02 * n), int(0.012 * n)), axis=(0, 1)), 0.02 * n)
    img *= _upscale(1 - np.clip(0.3 * floor + 0.16 * drop, 0, 0.5))[..., None]


def _contact(img: Array, mask: Image.Image) -> None:
    """Darken what lies just below and right of a part that sits on top of others (in place)."""
    box = _region(mask, 12)
    if box:
        m = _crop(mask, box)
        shadow = blur(np.roll(m, (4, 3), axis=(0, 1)), 4) * (1 - m)
        img[box] *= (1 - 0.25 * shadow)[..., None]


def _normals(m: Array, part: Part) -> tuple[Array, Array, Array]:
    """Surface normals: a rounded cushion, a turned cylinder, or nearly flat, plus drape folds."""
    yy, xx = coords(m.shape)
    if part.shading == "cylinder":
        inside = m > 0.5
        left = np.argmax(inside, axis=1)[:, None]
        right = (m.shape[1] - 1 - np.argmax(inside[:, ::-1], axis=1))[:, None]
        nx = np.clip((xx - (left + right) / 2) / np.maximum((right - left) / 2, 1), -0.97, 0.97)
        ny = np.zeros_like(nx)
    else:
        radius = abs(part.relief) * N * (0.35 if part.shading == "flat" else 1.0)
        height = np.sqrt(np.clip(blur(m, max(radius, 1.0)), 0, 1))
        gy, gx = np.gradient(height)
        steepest = np.percentile(np.hypot(gx, gy)[::4, ::4][m[::4, ::4] > 0.5], 98) if m.max() > 0.5 else 1.0
        bulge = TILT / max(float(steepest), 1e-6) * np.sign(part.relief)  # negative relief: a hollow
        nx, ny = -gx * bulge, -gy * bulge
    if part.folds:
        rows = np.flatnonzero(m.max(axis=1) > 0.5)
        depth = np.clip((yy - rows[0]) / max(rows[-1] - rows[0], 1), 0, 1)
        nx = nx + part.folds * depth * np.sin(xx / N * 2 * np.pi * 7 + 3 * np.sin(yy / N * 5))
    nz = np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0.05, 1)) if part.shading == "cylinder" else np.ones_like(nx)
    norm = np.sqrt(nx ** 2 + ny ** 2 + nz ** 2)
    return nx / norm, ny / norm, nz / norm


def _paint(img: Array, mask: Image.Image, part: Part, texture: Array, finish: tuple[float, float]) -> None:
    """Composite one textured, lit part with a darker rim onto the image (in place)."""
    box = _region(mask, int(abs(part.relief) * N) + 4)
    if not box:
        return
    m = _crop(mask, box)
    nx, ny, nz = _normals(m, part)
    diffuse = np.clip(nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2], 0, 1) / LIGHT[2]
    light = 0.3 + 0.7 * np.minimum(diffuse, 1.25)
    colour = texture[box] * light[..., None]
    gloss, sharpness = finish
    if gloss:
        facing = nx * HALF[0] + ny * HALF[1] + nz * HALF[2]
        spec = np.clip((facing - HALF[2] * 0.985) / (1 - HALF[2] * 0.985), 0, 1) ** sharpness
        if part.shading != "cylinder":
            spec += 0.35 * _softbox(m.shape)
        colour += (gloss * spec)[..., None]
    rim = np.clip((m - blur(m, 1.5)) * 3, 0, 1)
    colour *= (1 - 0.45 * rim)[..., None]
    img[box] = img[box] * (1 - m[..., None]) + colour * m[..., None]


def _softbox(shape: tuple[int, int]) -> Array:
    """Broad diagonal reflection of the studio softbox across a glossy part's bounding box."""
    yy, xx = coords(shape)
    return np.exp(-(((xx / shape[1] + yy / shape[0]) - 0.75) / 0.2) ** 2)


def _lines(img: Array, lines: list[Line], layer: int, thread: Array) -> None:
    """Lay the figure's lines of one layer over the image, one pass per kind (in place)."""
    for kind in ("seam", "crease", "highlight", "stitch"):
        chosen = [x for x in lines if x.layer == layer and x.kind == kind]
        if not chosen:
            continue
        im = Image.new("L", (N, N), 0)
        for line in chosen:
            _polyline(ImageDraw.Draw(im), line.pts * N, max(1, round(line.width * N)), 255)
        box = _region(im, 8)
        if box is None:
            continue
        m = _crop(im, box)
        if kind == "seam":
            img[box] *= (1 - 0.4 * m)[..., None]
        elif kind == "crease":
            img[box] *= (1 - 0.3 * blur(m, 3))[..., None]
        elif kind == "highlight":
            img[box] += (1 - img[box]) * (0.35 * blur(m, 2))[..., None]
        else:  # dashed thread
            img[box] += (thread - img[box]) * (0.85 * m * _dashes()[box])[..., None]


@cache
def _dashes() -> Array:
    """Checkerboard that chops any thin line into dashes."""
    yy, xx = coords((N, N))
    return (((xx // 6) + (yy // 6)) % 2).astype(np.float32)
