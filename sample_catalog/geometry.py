"""Vector figures in unit canvas coordinates (x right, y down): polygon helpers and the Figure model."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb
from typing import Literal

import numpy as np

Pts = np.ndarray  # (n, 2) float array of points
Shading = Literal["pillow", "cylinder", "flat"]  # rounded cushion, turned solid, or nearly flat


@dataclass(frozen=True)
class Spec:
    """What to draw: the catalogue attributes that the picture must show."""

    subtype: str
    style: str
    material: str
    pattern: str
    colour: str


def pts(*xy: tuple[float, float]) -> Pts:
    """Points from (x, y) pairs."""
    return np.array(xy, dtype=float)


def ellipse(cx: float, cy: float, rx: float, ry: float, rot: float = 0.0,
            start: float = 0.0, end: float = 360.0, n: int = 64) -> Pts:
    """Points on an (optionally rotated, optionally partial) ellipse; angles in degrees, 0 = +x."""
    t = np.radians(np.linspace(start, end, n, endpoint=end - start < 360))
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = np.cos(np.radians(rot)), np.sin(np.radians(rot))
    return np.column_stack([cx + c * x - s * y, cy + s * x + c * y])


def rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> Pts:
    """Rectangle with circular corners of radius r."""
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    corners = [(x1 - r, y0 + r, 270), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180)]
    return np.vstack([ellipse(cx, cy, r, r, start=a, end=a + 90, n=8) for cx, cy, a in corners])


def quad(corners: list[tuple[float, float]], r: float = 0.0) -> Pts:
    """Quadrilateral (top-left, top-right, bottom-right, bottom-left) with corners rounded by r (unit square)."""
    tl, tr, br, bl = (np.asarray(c, dtype=float) for c in corners)
    u, v = rounded_rect(0, 0, 1, 1, r).T if r else np.array([[0, 1, 1, 0], [0, 0, 1, 1]], dtype=float)
    left, right = tl + (bl - tl) * v[:, None], tr + (br - tr) * v[:, None]
    return left + (right - left) * u[:, None]


def fringe(x0: float, x1: float, y: float, length: float, count: int, rng: np.random.Generator,
           width: float = 0.008) -> list[tuple[Pts, float]]:
    """Strokes hanging down from a horizontal edge, slightly uneven."""
    return [(pts((x, y), (x + rng.uniform(-0.01, 0.01), y + length * rng.uniform(0.85, 1.1))), width)
            for x in np.linspace(x0, x1, count)]


def bezier(*ctrl: tuple[float, float], n: int = 24) -> Pts:
    """Points on the Bezier curve with the given control points (any degree)."""
    p = np.array(ctrl, dtype=float)
    k = len(p) - 1
    t = np.linspace(0, 1, n)[:, None]
    basis = np.hstack([comb(k, i) * t ** i * (1 - t) ** (k - i) for i in range(k + 1)])
    return basis @ p


def smooth(points: Pts, n: int = 8, closed: bool = False) -> Pts:
    """Catmull-Rom spline through the points, n samples per segment."""
    p = np.asarray(points, dtype=float)
    ext = np.vstack([p[-1:], p, p[:2]]) if closed else np.vstack([p[:1], p, p[-1:]])
    t = np.linspace(0, 1, n, endpoint=False)[:, None]
    out = []
    for i in range(len(p) if closed else len(p) - 1):
        p0, p1, p2, p3 = ext[i:i + 4]
        out.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3))
    if not closed:
        out.append(p[-1:])
    return np.vstack(out)


def mirror(half: Pts, bottom: Pts | None = None) -> Pts:
    """Symmetric outline from its left half (top centre down to the bottom-left), plus an optional hem."""
    half = np.asarray(half, dtype=float)
    parts = [half] + ([np.asarray(bottom, dtype=float)] if bottom is not None else []) + [flip_x(half[::-1])]
    return np.vstack(parts)


def lathe(profile: list[tuple[float, float]], cx: float = 0.5) -> Pts:
    """Outline of a turned object from (y, half-width) samples, top to bottom."""
    prof = smooth(np.array([(r, y) for y, r in profile]), n=10)
    left = np.column_stack([cx - prof[:, 0], prof[:, 1]])
    right = np.column_stack([cx + prof[::-1, 0], prof[::-1, 1]])
    return np.vstack([left, right])


def flip_x(points: Pts) -> Pts:
    """Mirror points about the vertical centre line."""
    return np.asarray(points, dtype=float) * [-1, 1] + [1, 0]


def lerp(a: tuple[float, float] | Pts, b: tuple[float, float] | Pts, t: float) -> Pts:
    """Point a fraction t of the way from a to b."""
    return np.asarray(a, dtype=float) + (np.asarray(b, dtype=float) - np.asarray(a, dtype=float)) * t


def inset(points: Pts, d: float) -> Pts:
    """Shrink a roughly convex outline towards its centroid by distance d."""
    p = np.asarray(points, dtype=float)
    v = p.mean(axis=0) - p
    return p + v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9) * d


def hem(x0: float, x1: float, y: float, sag: float = 0.015, scallops: int = 0) -> Pts:
    """Hem from left to right: a gentle downward curve, or a row of scallops."""
    if not scallops:
        return bezier((x0, y), ((2 * x0 + x1) / 3, y + sag), ((x0 + 2 * x1) / 3, y + sag), (x1, y), n=16)
    r = (x1 - x0) / scallops / 2
    arcs = [ellipse(x0 + r * (2 * i + 1), y, r, r * 0.8, start=180, end=0, n=10) for i in range(scallops)]
    return np.vstack(arcs)


@dataclass
class Part:
    """One filled region of a figure, painted with a named surface and shaded as one piece."""

    surface: str
    polys: list[Pts]
    strokes: list[tuple[Pts, float]] = field(default_factory=list)
    shading: Shading = "pillow"
    relief: float = 0.04     # pillow rounding radius as a fraction of the canvas; negative for hollows
    folds: float = 0.0       # strength of vertical drape folds


@dataclass
class Line:
    """A drawn line on top of the parts below it: seam, stitch, crease or highlight."""

    kind: str
    pts: Pts
    width: float
    layer: int


@dataclass
class Figure:
    """An object drawing: parts painted in order, lines laid over the parts added before them."""

    parts: list[Part] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    def part(self, surface: str, *polys: Pts, strokes: list[tuple[Pts, float]] | None = None,
             shading: Shading = "pillow", relief: float = 0.04, folds: float = 0.0, twin: bool = False) -> None:
        """Add a filled part (union of polygons and thick strokes); twin adds its mirror image too."""
        shapes = [np.asarray(p, dtype=float) for p in polys]
        lines = [(np.asarray(p, dtype=float), w) for p, w in strokes or []]
        if twin:
            shapes += [flip_x(p) for p in shapes]
            lines += [(flip_x(p), w) for p, w in lines]
        self.parts.append(Part(surface, shapes, lines, shading, relief, folds))

    def line(self, kind: str, points: Pts, width: float = 0.006, closed: bool = False, twin: bool = False) -> None:
        """Add a seam/stitch/crease/highlight line over everything drawn so far (twin: and its mirror)."""
        p = np.asarray(points, dtype=float)
        p = np.vstack([p, p[:1]]) if closed else p
        self.lines.append(Line(kind, p, width, len(self.parts)))
        if twin:
            self.lines.append(Line(kind, flip_x(p), width, len(self.parts)))

    def dots(self, surface: str, centres: list[tuple[float, float]], r: float, twin: bool = False) -> None:
        """Add small round pieces (buttons, rivets, studs) as one part."""
        self.part(surface, *[ellipse(x, y, r, r, n=16) for x, y in centres], twin=twin, relief=r * 0.8)

    def points(self) -> Pts:
        """Every coordinate in the figure (stroke ends padded by their half-width)."""
        clouds = [p for part in self.parts for p in part.polys]
        clouds += [np.vstack([p - w / 2, p + w / 2]) for part in self.parts for p, w in part.strokes]
        return np.vstack(clouds)

    def transform(self, scale: float, offset: Pts, flip: bool = False) -> None:
        """Scale and move every coordinate and width in place, optionally mirroring left-right."""
        def move(p: Pts) -> Pts:
            """Apply the flip, scale and offset to points."""
            return (flip_x(p) if flip else p) * scale + offset

        for part in self.parts:
            part.polys = [move(p) for p in part.polys]
            part.strokes = [(move(p), w * scale) for p, w in part.strokes]
            part.relief *= scale
        for line in self.lines:
            line.pts, line.width = move(line.pts), line.width * scale

    def fit(self, size: float = 0.8, centre: tuple[float, float] = (0.5, 0.47), flip: bool = False) -> Figure:
        """Centre the figure and scale its longest side to `size` of the canvas."""
        if flip:
            self.transform(1.0, np.zeros(2), flip=True)
        cloud = self.points()
        lo, hi = cloud.min(axis=0), cloud.max(axis=0)
        scale = size / float(max(hi - lo))
        self.transform(scale, np.asarray(centre) - (lo + hi) / 2 * scale)
        return self
