"""Shoes: sneaker, boot, loafer and heel in side view (toe left), sandal from above (toe up)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sample_catalog.geometry import Figure, Pts, Spec, bezier, ellipse, lerp, pts, quad, smooth
from sample_catalog.textures import Rng


def _laces(fig: Figure, top: Pts, shift: tuple[float, float], surface: str) -> None:
    """Criss-cross laces between a lacing edge and the parallel eyelet row `shift` away from it."""
    low = top + shift
    crossings = [(pts(top[i], low[i + 1]), 0.012) for i in range(len(top) - 1)]
    crossings += [(pts(low[i], top[i + 1]), 0.012) for i in range(len(top) - 1)]
    fig.part(surface, strokes=crossings, relief=0.004)


def _upper(*top: tuple[float, float]) -> Pts:
    """Shoe upper: a smooth top line from toe to heel, closed by a straight edge along the sole."""
    return smooth(pts(*top), n=10)


def sneaker(spec: Spec, rng: Rng) -> Figure:
    """Low-top sneaker: cupsole, toe cap, laces, heel tab; sporty swoosh panel, chunky sole for streetwear."""
    chunk = 0.05 if spec.style == "streetwear" else 0.0
    fig = Figure()
    fig.part("main", _upper((0.1, 0.655), (0.085, 0.61), (0.12, 0.55), (0.2, 0.51), (0.32, 0.475), (0.4, 0.45),
                            (0.58, 0.35), (0.6, 0.27), (0.655, 0.27), (0.68, 0.34), (0.75, 0.37), (0.84, 0.31),
                            (0.89, 0.33), (0.91, 0.45), (0.9, 0.655)), relief=0.035)
    fig.line("seam", bezier((0.2, 0.51), (0.27, 0.54), (0.28, 0.61), (0.26, 0.65)))
    fig.part("trim", _upper((0.77, 0.655), (0.785, 0.5), (0.83, 0.34), (0.87, 0.315), (0.9, 0.36), (0.908, 0.45),
                            (0.9, 0.655)), relief=0.012)
    if spec.style == "sporty" or rng.random() < 0.3:
        fig.part("contrast", np.vstack([bezier((0.3, 0.62), (0.5, 0.62), (0.68, 0.5), (0.78, 0.4)),
                                        bezier((0.72, 0.5), (0.6, 0.57), (0.45, 0.6), (0.3, 0.62))]),
                 relief=0.008)
    _laces(fig, np.vstack([lerp((0.39, 0.445), (0.59, 0.335), t) for t in np.linspace(0, 1, 5)]), (0.0, 0.035), "sole")
    sole = smooth(pts((0.1, 0.6), (0.3, 0.645), (0.6, 0.645), (0.89, 0.625), (0.91, 0.68 + chunk),
                      (0.88, 0.725 + chunk), (0.5, 0.73 + chunk), (0.15, 0.72 + chunk), (0.085, 0.66)), closed=True)
    fig.part("sole", sole, relief=0.012)
    fig.line("seam", pts((0.12, 0.69 + chunk), (0.89, 0.685 + chunk)), 0.004)
    return fig


def boot(spec: Spec, rng: Rng) -> Figure:
    """Ankle boot: Chelsea gusset and pull tab, or lace-up with hooks and a lug sole for rustic/outdoor looks."""
    lace_up = spec.style in ("rustic", "sporty", "streetwear") or rng.random() < 0.25
    fig = Figure()
    fig.part("heel", pts((0.64, 0.7), (0.8, 0.7), (0.8, 0.79), (0.65, 0.79)), relief=0.006)
    fig.part("main", _upper((0.12, 0.705), (0.095, 0.65), (0.14, 0.575), (0.25, 0.55), (0.38, 0.52), (0.45, 0.46),
                            (0.475, 0.36), (0.465, 0.17), (0.59, 0.165), (0.715, 0.17), (0.705, 0.36),
                            (0.76, 0.55), (0.785, 0.62), (0.79, 0.705)), relief=0.04)
    fig.part("heel", quad([(0.09, 0.7), (0.81, 0.7), (0.81, 0.74 + 0.02 * lace_up), (0.1, 0.74)], 0.3),
             relief=0.006)
    fig.line("stitch", pts((0.12, 0.695), (0.79, 0.695)), 0.004)
    if lace_up:
        edge = np.vstack([lerp((0.475, 0.2), (0.455, 0.45), t) for t in np.linspace(0, 1, 6)])
        _laces(fig, edge, (0.035, 0.01), "trim")
        fig.dots("metal", [tuple(p + [0.035, 0.01]) for p in edge], 0.007)
        fig.line("seam", bezier((0.2, 0.58), (0.3, 0.6), (0.3, 0.66), (0.28, 0.7)))
    else:
        fig.part("inner", np.vstack([pts((0.55, 0.17), (0.63, 0.17)), bezier((0.625, 0.34), (0.61, 0.45),
                                                                            (0.57, 0.45), (0.555, 0.34))]),
                 relief=0.01)
        fig.part("trim", strokes=[(bezier((0.68, 0.2), (0.68, 0.1), (0.72, 0.1), (0.71, 0.21)), 0.014)],
                 relief=0.004)
    return fig


def loafer(spec: Spec, rng: Rng) -> Figure:
    """Slip-on loafer: visible lining, moc-toe seam, penny strap (metal bit for glam), stacked heel."""
    fig = Figure()
    fig.part("inner", pts((0.5, 0.46), (0.6, 0.42), (0.84, 0.41), (0.88, 0.47), (0.8, 0.52), (0.6, 0.52)),
             shading="flat")
    fig.part("main", _upper((0.11, 0.685), (0.095, 0.65), (0.11, 0.6), (0.19, 0.545), (0.33, 0.49), (0.45, 0.455),
                            (0.52, 0.45), (0.6, 0.47), (0.72, 0.465), (0.82, 0.45), (0.87, 0.455), (0.885, 0.52),
                            (0.88, 0.685)), relief=0.025)
    fig.line("stitch", bezier((0.48, 0.452), (0.33, 0.47), (0.18, 0.52), (0.15, 0.6)), 0.004)
    if spec.style == "glam":
        fig.part("metal", strokes=[(bezier((0.37, 0.47), (0.39, 0.52), (0.44, 0.52), (0.46, 0.45)), 0.01)],
                 relief=0.003)
    else:
        fig.part("trim", strokes=[(bezier((0.445, 0.45), (0.43, 0.5), (0.415, 0.56), (0.405, 0.62)), 0.045)],
                 relief=0.008)
        fig.part("inner", ellipse(0.428, 0.51, 0.018, 0.006, rot=-80), shading="flat")
    fig.part("heel", quad([(0.085, 0.68), (0.89, 0.68), (0.89, 0.705), (0.095, 0.71)], 0.3), relief=0.004)
    fig.line("stitch", pts((0.11, 0.692), (0.87, 0.69)), 0.004)
    fig.part("heel", quad([(0.72, 0.7), (0.89, 0.7), (0.885, 0.75), (0.725, 0.75)], 0.05), relief=0.006)
    return fig


def heel(spec: Spec, rng: Rng) -> Figure:
    """Pump: pointed toe, low throat, stiletto (block heel for classic/rustic), ankle strap for romantic."""
    block = spec.style in ("classic", "rustic", "bohemian")
    fig = Figure()
    fig.part("footbed", pts((0.4, 0.64), (0.56, 0.56), (0.76, 0.43), (0.83, 0.42), (0.8, 0.5)), shading="flat")
    heel_shape = pts((0.74, 0.53), (0.84, 0.52), (0.83, 0.9), (0.77, 0.9)) if block else \
        pts((0.75, 0.53), (0.83, 0.52), (0.805, 0.9), (0.79, 0.9))
    fig.part("metal" if spec.style == "glam" else "main", heel_shape, shading="cylinder")
    fig.part("main", smooth(pts((0.08, 0.8), (0.18, 0.74), (0.4, 0.64), (0.56, 0.6), (0.75, 0.47), (0.83, 0.42),
                                (0.85, 0.5), (0.8, 0.535), (0.66, 0.58), (0.48, 0.7), (0.3, 0.81),
                                (0.12, 0.82)), closed=True), relief=0.03)
    fig.part("heel", strokes=[(bezier((0.8, 0.535), (0.6, 0.6), (0.42, 0.76), (0.25, 0.825), (0.1, 0.82)), 0.01)],
             relief=0.003)
    if spec.style == "romantic":
        fig.part("main", strokes=[(bezier((0.845, 0.45), (0.82, 0.33), (0.68, 0.33), (0.66, 0.45)), 0.016)],
                 relief=0.005)
        fig.dots("metal", [(0.7, 0.37)], 0.012)
    return fig


def sandal(spec: Spec, rng: Rng) -> Figure:
    """Flat sandal seen from above: sole edge, footbed, and straps (slide bands, or boho thong with ties)."""
    foot = smooth(pts((0.5, 0.92), (0.39, 0.86), (0.37, 0.7), (0.35, 0.52), (0.33, 0.33), (0.36, 0.17),
                      (0.45, 0.09), (0.56, 0.1), (0.64, 0.18), (0.67, 0.34), (0.64, 0.54), (0.62, 0.72),
                      (0.6, 0.87)), closed=True)
    fig = Figure()
    fig.part("heel" if spec.style == "glam" else "trim", foot * 1.02 - [0.01, 0.0], relief=0.01)
    fig.part("footbed", foot, shading="flat", relief=0.02)
    if spec.style in ("bohemian", "rustic", "romantic"):
        strap_paths = [bezier((0.46, 0.2), (0.4, 0.3), (0.36, 0.4)), bezier((0.46, 0.2), (0.56, 0.3), (0.65, 0.4)),
                       bezier((0.37, 0.72), (0.5, 0.68), (0.63, 0.72))]
        fig.part("main", strokes=[(p, 0.04) for p in strap_paths], relief=0.01)
        fig.dots("metal", [(0.46, 0.2)], 0.02)
    else:
        fig.part("main", quad([(0.32, 0.27), (0.68, 0.25), (0.68, 0.37), (0.32, 0.39)], 0.2),
                 quad([(0.34, 0.47), (0.67, 0.45), (0.66, 0.55), (0.34, 0.57)], 0.2), relief=0.02)
        if spec.material == "leather":
            fig.line("stitch", pts((0.34, 0.3), (0.66, 0.28)), 0.004)
            fig.line("stitch", pts((0.34, 0.365), (0.66, 0.345)), 0.004)
    if spec.style in ("sporty", "classic"):
        fig.part("metal", quad([(0.6, 0.48), (0.67, 0.475), (0.67, 0.54), (0.6, 0.545)], 0.2), relief=0.004)
    return fig


DRAWERS: dict[str, Callable[[Spec, Rng], Figure]] = {
    "sneaker": sneaker, "boot": boot, "loafer": loafer, "heel": heel, "sandal": sandal,
}
