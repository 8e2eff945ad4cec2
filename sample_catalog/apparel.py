"""Apparel on a ghost mannequin, front view: tops, dresses, trousers, outerwear and skirts."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from sample_catalog.geometry import Figure, Pts, Spec, bezier, hem, lerp, mirror, pts, rounded_rect
from sample_catalog.textures import Rng

NECK = 0.085  # half-width of a neck opening


class Top(NamedTuple):
    """A top's outline and the landmarks its details hang off (left side; mirror for the right)."""

    outline: Pts
    cuff: tuple[Pts, Pts]
    shoulder: Pts
    armpit: Pts
    side: float
    length: float


def _top(width: float, sleeve: str, length: float, drop: float = 0.0) -> Top:
    """Outline of a short- or long-sleeved top with body half-width `width`."""
    side = 0.5 - width
    shoulder, armpit = np.array([side - 0.035, 0.19 + drop]), np.array([side, 0.34 + drop / 2])
    if sleeve == "short":
        outer = shoulder + [-0.11, 0.15]
        arm = [outer, outer + [0.075, 0.06]]
    else:
        outer = shoulder + [-0.095, 0.62 - drop]
        arm = [lerp(shoulder, outer, 0.45) + [-0.012, 0], outer, outer + [0.085, 0.012]]
    half = np.vstack([pts((0.5, 0.155), (0.5 - NECK, 0.14)), shoulder, *arm, armpit, [(side, length)]])
    return Top(mirror(half, hem(side, 1 - side, length)), (arm[-2], arm[-1]), shoulder, armpit, side, length)


def _across(top: Top, d: float) -> Pts:
    """A line across the left sleeve, distance d up from its end."""
    a, b = top.cuff
    up = (top.shoulder + top.armpit) / 2 - (a + b) / 2
    return np.vstack([a, b]) + up / np.linalg.norm(up) * d


def _seam_kind(spec: Spec) -> str:
    """Denim and leather show contrast topstitching; other cloth shows plain seams."""
    return "stitch" if spec.material in ("denim", "leather") else "seam"


def _neck(fig: Figure, depth: float, band: str | None) -> Pts:
    """Inside-back of a crew or V neck opening, with an optional ribbed band; returns the front edge."""
    vee = depth > 0.1
    if vee:
        front = pts((0.5 - NECK, 0.14), (0.5, 0.14 + depth), (0.5 + NECK, 0.14))
    else:
        front = bezier((0.5 - NECK, 0.14), (0.5 - NECK * 0.7, 0.14 + depth * 1.3),
                       (0.5 + NECK * 0.7, 0.14 + depth * 1.3), (0.5 + NECK, 0.14))
    back = bezier((0.5 - NECK, 0.14), (0.47, 0.16), (0.53, 0.16), (0.5 + NECK, 0.14))
    fig.part("inner", np.vstack([back, front[::-1]]), shading="flat")
    if band:
        fig.part(band, strokes=[(front, 0.026)], relief=0.01)
    return front


def _ribs(fig: Figure, x0: float, x1: float, y0: float, y1: float, step: float = 0.012) -> None:
    """Vertical rib lines over a band."""
    for x in np.arange(x0 + step / 2, x1, step):
        fig.line("seam", pts((x, y0), (x, y1)), 0.003)


def _sleeve_band(fig: Figure, top: Top, surface: str, depth: float) -> None:
    """A cuff or sleeve band across both sleeve ends."""
    a, b = top.cuff
    c, d = _across(top, depth)
    fig.part(surface, np.vstack([a, b, d, c]), twin=True, relief=0.008)


def tshirt(spec: Spec, rng: Rng) -> Figure:
    """Short-sleeved tee: crew or V neck; sporty ringer bands, streetwear boxy fit with a chest graphic."""
    street = spec.style == "streetwear"
    top = _top(0.23 if street else rng.uniform(0.17, 0.2), "short", rng.uniform(0.82, 0.88), 0.04 if street else 0)
    fig = Figure()
    fig.part("main", top.outline, relief=0.035, folds=0.06)
    band = "contrast" if spec.style == "sporty" else "main"
    _neck(fig, 0.16 if rng.random() < 0.3 and not street else 0.06, band)
    if spec.style == "sporty":
        _sleeve_band(fig, top, "contrast", 0.03)
    else:
        fig.line("stitch", _across(top, 0.025), twin=True)
    fig.line("stitch", hem(top.side + 0.005, 1 - top.side - 0.005, top.length - 0.025))
    if street:
        fig.part("contrast", rounded_rect(0.4, 0.27, 0.6, 0.42, 0.02), relief=0.004)
        fig.part("main", *[rounded_rect(0.42, y, 0.58, y + 0.022, 0.005) for y in (0.3, 0.34, 0.38)],
                 shading="flat", relief=0.004)
    return fig


def shirt(spec: Spec, rng: Rng) -> Figure:
    """Long-sleeved button-down shirt with pointed collar, placket, cuffs and a chest pocket."""
    top = _top(rng.uniform(0.17, 0.2), "long", rng.uniform(0.84, 0.9))
    kind = _seam_kind(spec)
    fig = Figure()
    fig.part("main", top.outline, relief=0.03, folds=0.05)
    fig.line("seam", bezier(top.shoulder, top.shoulder + [0.02, 0.08], top.armpit), twin=True)
    fig.part("inner", np.vstack([bezier((0.5 - NECK, 0.14), (0.5, 0.16), (0.5 + NECK, 0.14)),
                                 pts((0.5, 0.21))]), shading="flat")
    fig.part("main", pts((0.5 - NECK - 0.004, 0.13), (0.5 - NECK - 0.03, 0.205), (0.455, 0.265), (0.5, 0.21),
                         (0.5 - NECK + 0.02, 0.15)), twin=True, relief=0.012)
    for x in (0.485, 0.515):
        fig.line(kind, pts((x, 0.24), (x, top.length)), 0.004)
    fig.dots("trim", [(0.5, y) for y in np.arange(0.28, top.length - 0.04, 0.09)], 0.009)
    fig.line(kind, _across(top, 0.06), twin=True)
    if spec.style in ("classic", "rustic") or spec.material == "denim":
        fig.line(kind, rounded_rect(0.56, 0.3, 0.645, 0.4, 0.008), closed=True)
    fig.line(kind, hem(top.side + 0.005, 1 - top.side - 0.005, top.length - 0.02))
    return fig


def sweater(spec: Spec, rng: Rng) -> Figure:
    """Knit jumper: crew neck band, ribbed cuffs and hem band."""
    street = spec.style == "streetwear"
    top = _top(0.22 if street else rng.uniform(0.18, 0.2), "long", rng.uniform(0.8, 0.86), 0.03 if street else 0)
    fig = Figure()
    fig.part("main", top.outline, relief=0.045)
    _neck(fig, 0.05, "trim")
    _sleeve_band(fig, top, "trim", 0.08)
    fig.part("trim", rounded_rect(top.side, top.length - 0.07, 1 - top.side, top.length + 0.012, 0.01),
             relief=0.01)
    _ribs(fig, top.side, 1 - top.side, top.length - 0.065, top.length + 0.008)
    return fig


def dress(spec: Spec, rng: Rng) -> Figure:
    """Fitted bodice and flared skirt; strap or cap-sleeve top; tiers, scallops, bow or belt by style."""
    straps = spec.style in ("glam", "bohemian", "sporty") or rng.random() < 0.3
    flare = {"minimalist": 0.14, "glam": 0.15, "romantic": 0.27, "bohemian": 0.25}.get(spec.style, 0.21)
    hem_y, waist = rng.uniform(0.78, 0.95), 0.42
    if straps:
        top = pts((0.5, 0.16), (0.445, 0.1), (0.418, 0.1), (0.365, 0.25))
        neck = bezier((0.445, 0.1), (0.47, 0.21), (0.53, 0.21), (0.555, 0.1))
    else:
        top = pts((0.5, 0.13), (0.44, 0.1), (0.37, 0.12), (0.325, 0.21), (0.355, 0.235), (0.368, 0.25))
        neck = bezier((0.44, 0.1), (0.46, 0.19), (0.54, 0.19), (0.56, 0.1))
    half = np.vstack([top, pts((0.366, 0.31), (0.395, waist), (0.385, waist + 0.05), (0.5 - flare, hem_y))])
    scallops = 7 if spec.style == "romantic" else 0
    fig = Figure()
    fig.part("main", mirror(half, hem(0.5 - flare, 0.5 + flare, hem_y, 0.02, scallops)), relief=0.035,
             folds=0.1 + flare)
    fig.part("inner", np.vstack([neck, pts((0.5, 0.13 if not straps else 0.16))]), shading="flat")
    fig.line("seam", bezier((0.395, waist), (0.5, waist + 0.012), (0.605, waist)))
    for t in np.linspace(0.15, 0.85, 4 if flare > 0.2 else 2):
        fig.line("crease", pts((0.395 + 0.21 * t, waist + 0.05), (0.5 - flare + 2 * flare * t, hem_y - 0.02)),
                 0.01)
    if spec.style == "bohemian":
        for t in (0.35, 0.68):
            y, w = waist + (hem_y - waist) * t, 0.105 + (flare - 0.105) * t
            fig.line("seam", hem(0.5 - w, 0.5 + w, y, 0.01))
    if spec.style == "romantic":
        fig.part("trim", pts((0.5, waist), (0.44, waist - 0.035), (0.44, waist + 0.035)), twin=True, relief=0.01)
        fig.dots("trim", [(0.5, waist)], 0.016)
    if spec.style in ("classic", "glam"):
        fig.part("metal" if spec.style == "glam" else "trim",
                 rounded_rect(0.39, waist - 0.012, 0.61, waist + 0.018, 0.006), relief=0.006)
    return fig


def trousers(spec: Spec, rng: Rng) -> Figure:
    """Trousers and jeans: waistband, legs, fly and pockets; jeans rivets, pressed creases, sporty stripe."""
    out, inner = {"sporty": (0.15, 0.035), "bohemian": (0.23, 0.012), "romantic": (0.22, 0.012),
                  "streetwear": (0.2, 0.02)}.get(spec.style, (rng.uniform(0.155, 0.18), 0.03))
    jeans = spec.material == "denim"
    kind = _seam_kind(spec)
    half = pts((0.5, 0.155), (0.33, 0.155), (0.316, 0.3), (0.5 - out, 0.93))
    crotch = pts((0.5 - out, 0.93), (0.5 - inner, 0.93), (0.5, 0.37), (0.5 + inner, 0.93), (0.5 + out, 0.93))
    fig = Figure()
    fig.part("main", mirror(half, crotch), relief=0.03, folds=0.04)
    fig.part("main", rounded_rect(0.325, 0.1, 0.675, 0.162, 0.008), relief=0.01)
    fig.part("main", strokes=[(pts((x, 0.097), (x, 0.168)), 0.012) for x in (0.36, 0.44)], twin=True,
             relief=0.004)
    fig.line(kind, bezier((0.53, 0.165), (0.53, 0.3), (0.53, 0.33), (0.5, 0.355)))
    fig.line(kind, bezier((0.4, 0.165), (0.395, 0.23), (0.36, 0.25), (0.322, 0.255)), twin=True)
    fig.line(kind, hem(0.5 - out, 0.5 - inner, 0.905, 0.005), twin=True)
    fig.dots("metal" if jeans else "trim", [(0.5, 0.13)], 0.014)
    if jeans:
        fig.dots("metal", [(0.398, 0.172), (0.323, 0.255)], 0.006, twin=True)
        fig.line(kind, rounded_rect(0.33, 0.1, 0.67, 0.162, 0.008), closed=True)
    elif spec.style in ("classic", "minimalist"):
        fig.line("crease", pts((0.415, 0.19), (0.5 - (out + inner) / 2, 0.92)), 0.008, twin=True)
    if spec.style == "sporty":
        fig.part("contrast", strokes=[(pts((0.332, 0.17), (0.5 - out + 0.012, 0.9)), 0.018)], twin=True,
                 relief=0.005)
    return fig


def outerwear(spec: Spec, rng: Rng, length: float) -> Figure:
    """Jacket or coat: denim trucker, leather moto, sporty bomber or tailored lapels."""
    top = _top(rng.uniform(0.2, 0.215), "long", length)
    fig = Figure()
    fig.part("main", top.outline, relief=0.04, folds=0.03)
    fig.line("seam", bezier(top.shoulder, top.shoulder + [0.02, 0.08], top.armpit), twin=True)
    kind = _seam_kind(spec)
    if spec.material == "denim":
        _trucker(fig, top, kind)
    elif spec.style in ("sporty", "streetwear") and spec.material != "leather":
        _bomber(fig, top)
    else:
        _tailored(fig, spec, top, kind)
    return fig


def _trucker(fig: Figure, top: Top, kind: str) -> None:
    """Denim jacket details: point collar, yoke, flap pockets, metal buttons, waistband."""
    fig.part("inner", np.vstack([bezier((0.5 - NECK, 0.14), (0.5, 0.16), (0.5 + NECK, 0.14)),
                                 pts((0.5, 0.2))]), shading="flat")
    fig.part("main", pts((0.5 - NECK - 0.005, 0.13), (0.5 - NECK - 0.05, 0.22), (0.45, 0.25), (0.5, 0.2),
                         (0.5 - NECK + 0.02, 0.15)), twin=True, relief=0.014)
    fig.line(kind, pts((top.side - 0.01, 0.27), (0.5, 0.29)), twin=True)
    fig.line(kind, pts((0.5, 0.2), (0.5, top.length)))
    fig.part("main", pts((0.34, 0.3), (0.45, 0.3), (0.45, 0.34), (0.395, 0.36), (0.34, 0.34)), twin=True,
             relief=0.008)
    fig.line(kind, pts((0.4, 0.36), (0.4, top.length - 0.06)), twin=True)
    fig.line(kind, pts((top.side, top.length - 0.06), (1 - top.side, top.length - 0.06)))
    fig.dots("metal", [(0.515, y) for y in (0.25, 0.36, 0.47, top.length - 0.03)], 0.011)
    fig.dots("metal", [(0.395, 0.335)], 0.011, twin=True)


def _bomber(fig: Figure, top: Top) -> None:
    """Bomber details: ribbed collar, cuffs and hem band, centre zip."""
    _neck(fig, 0.05, "trim")
    _sleeve_band(fig, top, "trim", 0.07)
    fig.part("trim", rounded_rect(top.side, top.length - 0.07, 1 - top.side, top.length + 0.01, 0.01),
             relief=0.01)
    _ribs(fig, top.side, 1 - top.side, top.length - 0.065, top.length + 0.006)
    fig.part("metal", strokes=[(pts((0.5, 0.2), (0.5, top.length)), 0.008)], relief=0.003)


def _tailored(fig: Figure, spec: Spec, top: Top, kind: str) -> None:
    """Notched lapels over a dark V, buttons (double-breasted for classic), flap pockets, trench belt."""
    fig.part("inner", pts((0.5 - NECK, 0.14), (0.5 + NECK, 0.14), (0.5, 0.43)), shading="flat")
    fig.part("main", pts((0.5 - NECK, 0.133), (0.5 - NECK - 0.035, 0.2), (0.5 - NECK - 0.018, 0.215),
                         (0.5 - NECK - 0.07, 0.245), (0.497, 0.44), (0.5 - NECK + 0.02, 0.15)), twin=True,
             relief=0.012)
    zip_line = spec.material == "leather" and spec.style != "classic"
    if zip_line:
        fig.part("metal", strokes=[(pts((0.47, 0.3), (0.56, top.length - 0.01)), 0.008)], relief=0.003)
    else:
        fig.line("seam", pts((0.5, 0.44), (0.5, top.length)), 0.005)
        cols = (0.46, 0.54) if spec.style == "classic" else (0.515,)
        fig.dots("trim", [(x, y) for x in cols for y in (0.48, 0.58, 0.68) if y < top.length - 0.05], 0.012)
    pocket_y = 0.5 + (top.length - 0.5) * 0.35
    fig.part("main", rounded_rect(top.side + 0.03, pocket_y, top.side + 0.12, pocket_y + 0.035, 0.005),
             twin=True, relief=0.006)
    if spec.style == "classic" and top.length > 0.8:
        fig.part("main", rounded_rect(top.side - 0.006, 0.5, 1 - top.side + 0.006, 0.54, 0.01), relief=0.01)
        fig.part("metal", strokes=[(rounded_rect(0.34, 0.495, 0.38, 0.545, 0.004), 0.006)], relief=0.002)
    fig.line(kind, _across(top, 0.05), twin=True)


def jacket(spec: Spec, rng: Rng) -> Figure:
    """Hip-length jacket."""
    return outerwear(spec, rng, rng.uniform(0.66, 0.72))


def coat(spec: Spec, rng: Rng) -> Figure:
    """Knee-length coat."""
    return outerwear(spec, rng, rng.uniform(0.9, 0.98))


def skirt(spec: Spec, rng: Rng) -> Figure:
    """Skirt: pencil, A-line, pleated or tiered by style; denim front seam and button."""
    flare = {"minimalist": 0.14, "glam": 0.14, "romantic": 0.28, "bohemian": 0.28}.get(spec.style, 0.22)
    pencil = flare < 0.15
    hem_y = rng.uniform(0.55, 0.62) if spec.style in ("streetwear", "sporty") else rng.uniform(0.72, 0.92)
    half = pts((0.5, 0.25), (0.355, 0.25), (0.33 if pencil else 0.34, 0.36), (0.5 - flare, hem_y))
    scallops = 7 if spec.style == "romantic" else 0
    fig = Figure()
    fig.part("main", mirror(half, hem(0.5 - flare, 0.5 + flare, hem_y, 0.02, scallops)), relief=0.03,
             folds=0 if pencil else 0.15 + flare * 0.8)
    if pencil:
        fig.line("seam", pts((0.5, hem_y - 0.1), (0.5, hem_y + 0.015)), 0.005)
    fig.part("main", rounded_rect(0.35, 0.2, 0.65, 0.255, 0.008), relief=0.01)
    kind = _seam_kind(spec)
    pleats = 9 if spec.style == "classic" else 4 if flare > 0.2 else 0
    for t in np.linspace(0.1, 0.9, pleats):
        fig.line("crease", pts((0.345 + 0.31 * t, 0.27), (0.5 - flare + 2 * flare * t, hem_y - 0.01)), 0.009)
    if spec.style == "bohemian":
        for t in (0.4, 0.72):
            y, w = 0.25 + (hem_y - 0.25) * t, 0.15 + (flare - 0.15) * t
            fig.line("seam", hem(0.5 - w, 0.5 + w, y, 0.01))
    if spec.material == "denim":
        fig.line(kind, pts((0.5, 0.26), (0.5, hem_y)))
        fig.line(kind, bezier((0.41, 0.26), (0.4, 0.3), (0.37, 0.32), (0.345, 0.32)), twin=True)
        fig.dots("metal", [(0.5, 0.228)], 0.013)
    fig.line(kind, hem(0.5 - flare + 0.005, 0.5 + flare - 0.005, hem_y - 0.02, 0.02) if not scallops else
             hem(0.36, 0.64, 0.27, 0.0))
    return fig


DRAWERS: dict[str, Callable[[Spec, Rng], Figure]] = {
    "t-shirt": tshirt, "shirt": shirt, "sweater": sweater, "dress": dress, "trousers": trousers,
    "jeans": trousers, "jacket": jacket, "coat": coat, "skirt": skirt,
}
