"""Home goods: cushion, vase, lamp, mug, throw, side table, plate and bowl."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sample_catalog.geometry import Figure, Spec, bezier, ellipse, fringe, lathe, pts, quad, rounded_rect
from sample_catalog.textures import Rng

VASE_PROFILES: tuple[list[tuple[float, float]], ...] = (
    [(0.1, 0.035), (0.2, 0.035), (0.32, 0.07), (0.48, 0.17), (0.66, 0.19), (0.82, 0.15), (0.9, 0.1)],  # bottle
    [(0.12, 0.09), (0.18, 0.07), (0.32, 0.13), (0.52, 0.2), (0.72, 0.17), (0.86, 0.1), (0.9, 0.11)],   # urn
    [(0.12, 0.12), (0.5, 0.125), (0.9, 0.12)],                                                         # cylinder
    [(0.28, 0.05), (0.36, 0.05), (0.5, 0.18), (0.7, 0.2), (0.84, 0.14), (0.9, 0.08)],                  # globe
    [(0.1, 0.17), (0.3, 0.09), (0.6, 0.07), (0.84, 0.1), (0.9, 0.11)],                                 # trumpet
)


def _opening(fig: Figure, cx: float, y: float, r: float) -> None:
    """The dark mouth of a vessel seen slightly from above."""
    fig.part("main", ellipse(cx, y, r, r * 0.28), shading="flat", relief=0.01)
    fig.part("inner", ellipse(cx, y + r * 0.02, r * 0.86, r * 0.22), shading="flat", relief=0.01)


def cushion(spec: Spec, rng: Rng) -> Figure:
    """Plump square (or lumbar) cushion with pinched corners; piping, tufting button or tassels by style."""
    x0, x1, y0, y1 = (0.15, 0.85, 0.18, 0.82) if rng.random() < 0.7 else (0.1, 0.9, 0.3, 0.7)
    bow = 0.045
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    outline = np.vstack([bezier((x0, y0), (cx, y0 + bow), (x1, y0)), bezier((x1, y0), (x1 - bow, cy), (x1, y1)),
                         bezier((x1, y1), (cx, y1 - bow), (x0, y1)), bezier((x0, y1), (x0 + bow, cy), (x0, y0))])
    fig = Figure()
    fig.part("main", outline, relief=0.2)
    for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
        for turn in (-0.35, 0.35):
            dx, dy = (cx - x) * 0.22, (cy - y) * 0.22
            tip = (x + dx * np.cos(turn) - dy * np.sin(turn), y + dx * np.sin(turn) + dy * np.cos(turn))
            fig.line("crease", pts((x + dx * 0.1, y + dy * 0.1), tip), 0.01)
    if spec.style == "classic":
        fig.part("trim", strokes=[(np.vstack([outline, outline[:1]]), 0.014)], relief=0.004)
        fig.dots("trim", [(cx, cy)], 0.02)
    if spec.style in ("bohemian", "rustic"):
        for x, y, sx, sy in ((x0, y0, -1, -1), (x1, y0, 1, -1), (x1, y1, 1, 1), (x0, y1, -1, 1)):
            tips = [(x + sx * 0.05 + sx * dx, y + sy * 0.05 + sy * dy) for dx, dy in ((0.0, 0.02), (0.02, 0.0))]
            fig.part("trim", strokes=[(pts((x, y), tip), 0.01) for tip in tips], relief=0.003)
    return fig


def vase(spec: Spec, rng: Rng) -> Figure:
    """Turned vase in one of five classic profiles, with an unglazed foot on rustic ceramic."""
    profile = VASE_PROFILES[rng.integers(len(VASE_PROFILES))]
    fig = Figure()
    fig.part("main", lathe(profile), shading="cylinder")
    if spec.style == "rustic" and spec.material == "ceramic":
        foot = [(y, r) for y, r in profile if y >= 0.82]
        fig.part("clay", lathe([(0.85, foot[0][1] * 0.98), *foot[1:]]), shading="cylinder")
    if spec.style == "glam":
        fig.part("metal", strokes=[(ellipse(0.5, profile[0][0], profile[0][1], profile[0][1] * 0.28), 0.01)],
                 relief=0.003)
    _opening(fig, 0.5, profile[0][0], profile[0][1])
    return fig


def lamp(spec: Spec, rng: Rng) -> Figure:
    """Table lamp: turned base in the item's material, metal neck, linen drum or empire shade."""
    base = {"wood": [(0.5, 0.04), (0.56, 0.05), (0.64, 0.04), (0.78, 0.07), (0.88, 0.13), (0.92, 0.13)],
            "marble": [(0.52, 0.09), (0.72, 0.09), (0.92, 0.09)]}.get(
        spec.material, [(0.5, 0.04), (0.58, 0.11), (0.72, 0.15), (0.86, 0.11), (0.92, 0.07)])
    top = 0.14 if spec.style in ("minimalist", "streetwear") else 0.1
    fig = Figure()
    fig.part("metal", rounded_rect(0.485, 0.38, 0.515, 0.52, 0.005), shading="cylinder")
    fig.part("main", lathe(base), shading="cylinder")
    shade = quad([(0.5 - top, 0.08), (0.5 + top, 0.08), (0.74, 0.42), (0.26, 0.42)])
    fig.part("shade", np.vstack([shade[:2], bezier((0.74, 0.42), (0.5, 0.45), (0.26, 0.42))]), shading="cylinder")
    if spec.style in ("classic", "romantic"):
        for t in np.linspace(0.1, 0.9, 9):
            fig.line("crease", pts((0.5 - top + 2 * top * t, 0.085), (0.26 + 0.48 * t, 0.425)), 0.006)
    return fig


def mug(spec: Spec, rng: Rng) -> Figure:
    """Mug with a loop handle, rolled rim and dark interior; gold rim for glam, clay foot for rustic."""
    fig = Figure()
    fig.part("main", strokes=[(ellipse(0.68, 0.52, 0.1, 0.13, start=-80, end=80, n=24), 0.045)], relief=0.015)
    body = rounded_rect(0.28, 0.3, 0.68, 0.82, 0.05)
    fig.part("main", body, shading="cylinder")
    if spec.style == "rustic":
        fig.part("clay", rounded_rect(0.285, 0.76, 0.675, 0.82, 0.05), shading="cylinder")
    _opening(fig, 0.48, 0.3, 0.2)
    if spec.style == "glam":
        fig.part("metal", strokes=[(ellipse(0.48, 0.3, 0.2, 0.056), 0.008)], relief=0.003)
    return fig


def throw(spec: Spec, rng: Rng) -> Figure:
    """Folded throw blanket: three stacked folds, the top face visible, fringed ends."""
    fig = Figure()
    for i, y in enumerate((0.62, 0.5, 0.38)):
        dx = (i % 2) * 0.012
        fig.part("main", rounded_rect(0.14 + dx, y, 0.86 + dx, y + 0.15, 0.06), relief=0.05)
        fig.line("crease", pts((0.2 + dx, y + 0.1), (0.8 + dx, y + 0.1)), 0.01)
    fig.part("main", quad([(0.2, 0.26), (0.8, 0.26), (0.86, 0.42), (0.14, 0.42)], 0.08), relief=0.03)
    if spec.style in ("bohemian", "rustic") or spec.material == "wool":
        fig.part("main", strokes=fringe(0.16, 0.84, 0.77, 0.06, 24, rng, 0.008), relief=0.003)
    return fig


def side_table(spec: Spec, rng: Rng) -> Figure:
    """Round side table: thick top on splayed legs, or a pedestal for minimalist and glam."""
    legs = "main" if spec.material == "wood" else ("metal" if spec.style in ("glam", "minimalist") else "wood")
    fig = Figure()
    if spec.style in ("minimalist", "glam"):
        fig.part(legs, ellipse(0.5, 0.88, 0.17, 0.035), shading="cylinder")
        fig.part(legs, rounded_rect(0.47, 0.36, 0.53, 0.88, 0.01), shading="cylinder")
    else:
        fig.part("inner" if legs == "main" else legs, quad([(0.48, 0.36), (0.52, 0.36), (0.515, 0.84), (0.485, 0.84)]),
                 shading="cylinder")
        for a, b in (((0.28, 0.36), (0.22, 0.9)), ((0.72, 0.36), (0.78, 0.9))):
            w = 0.025
            fig.part(legs, quad([(a[0] - w, a[1]), (a[0] + w, a[1]), (b[0] + w * 0.6, b[1]), (b[0] - w * 0.6, b[1])]),
                     shading="cylinder")
    fig.part("trim", np.vstack([ellipse(0.5, 0.3, 0.34, 0.08, start=0, end=180, n=32),
                                ellipse(0.5, 0.345, 0.34, 0.08, start=180, end=0, n=32)]), shading="cylinder")
    fig.part("main", ellipse(0.5, 0.3, 0.34, 0.08), shading="flat", relief=0.02)
    return fig


def plate(spec: Spec, rng: Rng) -> Figure:
    """Dinner plate at a three-quarter angle: rim, sunken well, glaze band or gold edge."""
    fig = Figure()
    fig.part("trim", ellipse(0.5, 0.515, 0.4, 0.17), shading="flat", relief=0.01)
    fig.part("main", ellipse(0.5, 0.5, 0.4, 0.17), shading="flat", relief=0.02)
    fig.line("crease", ellipse(0.5, 0.51, 0.26, 0.105), 0.01, closed=True)
    fig.line("highlight", ellipse(0.5, 0.5, 0.37, 0.155, start=190, end=300, n=20), 0.006)
    if spec.style in ("glam", "classic"):
        fig.part("metal" if spec.style == "glam" else "contrast",
                 strokes=[(ellipse(0.5, 0.5, 0.38, 0.16), 0.008)], relief=0.003)
    return fig


def bowl(spec: Spec, rng: Rng) -> Figure:
    """Deep bowl: rounded body on a foot ring, interior visible from above."""
    depth = rng.uniform(0.3, 0.38)
    fig = Figure()
    fig.part("trim", rounded_rect(0.4, 0.38 + depth - 0.02, 0.6, 0.38 + depth + 0.035, 0.01), shading="cylinder")
    fig.part("main", np.vstack([ellipse(0.5, 0.38, 0.34, 0.1, start=180, end=360, n=32),
                                ellipse(0.5, 0.38, 0.34, depth, start=0, end=180, n=48)]), shading="cylinder")
    fig.part("inner", ellipse(0.5, 0.385, 0.32, 0.088), relief=-0.04)
    fig.line("highlight", ellipse(0.5, 0.38, 0.33, 0.095, start=200, end=320, n=20), 0.006)
    if spec.style == "glam":
        fig.part("metal", strokes=[(ellipse(0.5, 0.38, 0.335, 0.097), 0.008)], relief=0.003)
    return fig


DRAWERS: dict[str, Callable[[Spec, Rng], Figure]] = {
    "cushion": cushion, "vase": vase, "lamp": lamp, "mug": mug, "throw": throw,
    "side table": side_table, "plate": plate, "bowl": bowl,
}
