"""Bags, front view: tote, backpack, handbag, clutch and crossbody."""

from __future__ import annotations

from collections.abc import Callable

from sample_catalog.geometry import Figure, Pts, Spec, bezier, ellipse, fringe, inset, pts, quad, rounded_rect
from sample_catalog.textures import Rng

SOFT = ("leather", "suede")


def _strap_surface(spec: Spec) -> str:
    """Handles match a leather bag and are contrasting leather on cloth or straw."""
    return "main" if spec.material in SOFT else "strap"


def _body(fig: Figure, spec: Spec, outline: Pts, relief: float = 0.05) -> None:
    """The bag's main panel, with an inset stitched edge on leather."""
    fig.part("main", outline, relief=relief)
    if spec.material == "leather":
        fig.line("stitch", inset(outline, 0.014), 0.004)


def _fringe(fig: Figure, spec: Spec, x0: float, x1: float, y: float, rng: Rng) -> None:
    """Bohemian fringe hanging from a bottom edge."""
    if spec.style == "bohemian":
        fig.part(_strap_surface(spec), strokes=fringe(x0, x1, y, 0.1, 16, rng, 0.01), relief=0.004)


def tote(spec: Spec, rng: Rng) -> Figure:
    """Open tote: tapered body, sliver of interior and two long shoulder handles."""
    w = rng.uniform(0.24, 0.28)
    fig = Figure()
    strap = _strap_surface(spec)
    fig.part("trim" if strap == "main" else strap,
             strokes=[(bezier((0.36, 0.41), (0.35, 0.1), (0.65, 0.1), (0.64, 0.41)), 0.026)], relief=0.01)
    fig.part("inner", quad([(0.51 - w, 0.388), (0.49 + w, 0.388), (0.49 + w, 0.42), (0.51 - w, 0.42)]),
             shading="flat")
    _body(fig, spec, quad([(0.5 - w, 0.4), (0.5 + w, 0.4), (0.5 + w - 0.04, 0.88), (0.54 - w, 0.88)], 0.03))
    fig.part(strap, strokes=[(bezier((0.38, 0.43), (0.37, 0.15), (0.63, 0.15), (0.62, 0.43)), 0.028)],
             relief=0.01)
    fig.part(strap, *[rounded_rect(x - 0.025, 0.41, x + 0.025, 0.49, 0.008) for x in (0.38, 0.62)], relief=0.008)
    _fringe(fig, spec, 0.56 - w, 0.44 + w, 0.875, rng)
    return fig


def backpack(spec: Spec, rng: Rng) -> Figure:
    """Backpack: padded straps at the sides, grab loop, zipped body and front pocket (or buckled flap)."""
    fig = Figure()
    fig.part("trim", strokes=[(bezier((0.4, 0.25), (0.2, 0.33), (0.22, 0.72), (0.31, 0.86)), 0.05)], twin=True,
             relief=0.015)
    fig.part("trim", strokes=[(bezier((0.45, 0.22), (0.45, 0.12), (0.55, 0.12), (0.55, 0.22)), 0.018)],
             relief=0.006)
    _body(fig, spec, rounded_rect(0.28, 0.18, 0.72, 0.88, 0.13), 0.06)
    if spec.style in ("classic", "rustic"):
        flap = quad([(0.3, 0.2), (0.7, 0.2), (0.69, 0.5), (0.31, 0.5)], 0.12)
        _body(fig, spec, flap, 0.02)
        fig.part("strap", strokes=[(pts((x, 0.4), (x, 0.62)), 0.035) for x in (0.4, 0.6)], relief=0.008)
        fig.part("metal", *[rounded_rect(x - 0.025, 0.45, x + 0.025, 0.49, 0.005) for x in (0.4, 0.6)],
                 relief=0.004)
    else:
        fig.part("metal", strokes=[(bezier((0.3, 0.46), (0.31, 0.2), (0.69, 0.2), (0.7, 0.46)), 0.008)],
                 relief=0.003)
        fig.part("main", rounded_rect(0.34, 0.56, 0.66, 0.84, 0.05), relief=0.025)
        fig.part("metal", strokes=[(pts((0.37, 0.585), (0.63, 0.585)), 0.007),
                                   (pts((0.6, 0.585), (0.6, 0.63)), 0.012)], relief=0.003)
    if spec.style == "sporty":
        fig.part("contrast", strokes=[(pts((0.34, 0.7), (0.66, 0.7)), 0.02)], relief=0.004)
    return fig


def handbag(spec: Spec, rng: Rng) -> Figure:
    """Structured top-handle bag with a curved flap and a turn-lock clasp."""
    fig = Figure()
    fig.part(_strap_surface(spec), strokes=[(bezier((0.37, 0.43), (0.37, 0.18), (0.63, 0.18), (0.63, 0.43)),
                                             0.03)], relief=0.012)
    fig.part("metal", strokes=[(ellipse(0.37, 0.43, 0.018, 0.018), 0.007)], twin=True, relief=0.003)
    _body(fig, spec, quad([(0.3, 0.43), (0.7, 0.43), (0.79, 0.84), (0.21, 0.84)], 0.08))
    flap = pts((0.295, 0.43), (0.705, 0.43), (0.73, 0.55))
    _body(fig, spec, pts(*flap, *bezier((0.73, 0.55), (0.6, 0.63), (0.4, 0.63), (0.27, 0.55))), 0.015)
    fig.part("metal", rounded_rect(0.465, 0.56, 0.535, 0.62, 0.012), relief=0.008)
    return fig


def clutch(spec: Spec, rng: Rng) -> Figure:
    """Envelope clutch, or a framed box clutch with a metal kiss-lock for glam."""
    fig = Figure()
    _body(fig, spec, rounded_rect(0.15, 0.38, 0.85, 0.66, 0.025), 0.035)
    if spec.style == "glam":
        fig.part("metal", rounded_rect(0.15, 0.37, 0.85, 0.4, 0.01), relief=0.006)
        fig.dots("metal", [(0.48, 0.36), (0.52, 0.36)], 0.014)
    else:
        fig.part("main", pts((0.155, 0.385), (0.845, 0.385), (0.52, 0.6), (0.48, 0.6)), relief=0.012)
        fig.dots("metal", [(0.5, 0.585)], 0.014)
    return fig


def crossbody(spec: Spec, rng: Rng) -> Figure:
    """Small flap bag on a long thin shoulder strap with metal rings."""
    fig = Figure()
    fig.part(_strap_surface(spec), strokes=[(bezier((0.31, 0.5), (0.26, 0.0), (0.74, 0.0), (0.69, 0.5)), 0.014)],
             relief=0.005)
    fig.part("metal", strokes=[(ellipse(0.31, 0.5, 0.016, 0.016), 0.006)], twin=True, relief=0.003)
    _body(fig, spec, rounded_rect(0.28, 0.5, 0.72, 0.82, 0.05), 0.04)
    _body(fig, spec, quad([(0.28, 0.5), (0.72, 0.5), (0.72, 0.68), (0.28, 0.68)], 0.15), 0.015)
    fig.dots("metal", [(0.5, 0.665)], 0.013)
    _fringe(fig, spec, 0.3, 0.7, 0.81, rng)
    return fig


DRAWERS: dict[str, Callable[[Spec, Rng], Figure]] = {
    "tote": tote, "backpack": backpack, "handbag": handbag, "clutch": clutch, "crossbody": crossbody,
}
