"""How accurate must a describer be before its descriptions beat raw visual features? The simulated LVLM at several
accuracies against `visual`, `title` and `metadata`, under the fair protocol, as a curve.

One evaluation holds every simulated run and the baselines, so all share one pool, split and seed; per metric, the
comparisons of every run against every baseline form one family (Holm-corrected together). The result is kept as
JSON in the workspace's reports folder, where the Evaluation page finds it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from core.catalog.interactions import Interactions
from core.describe.prompts import PromptVersion
from core.describe.providers.simulated import PROVIDER, model_name
from core.errors import EvaluationError
from core.evaluation.bootstrap import Paired
from core.evaluation.protocol import evaluate
from core.lab import Lab
from core.represent.coverage import require_complete
from core.represent.representations import METADATA, TITLE, VISUAL
from core.runs.prompt import run_prompt

ACCURACIES = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
BASELINES = (VISUAL, TITLE, METADATA)
METRICS = ("recall@10", "ndcg@10")
SWEEP_FILE = "simulated-sweep.json"
VERDICTS = {"a": "simulated better", "b": "baseline better", "tie": "no clear difference",
            "insufficient": "too few shoppers"}


@dataclass(frozen=True)
class Point:
    """One method's mean on one metric with its 95% bootstrap interval; accuracy is None for a baseline."""

    method: str
    accuracy: float | None
    metric: str
    mean: float
    lo: float
    hi: float
    n: int


@dataclass(frozen=True)
class Comparison:
    """A simulated run minus a baseline, paired per shopper, with its Holm-adjusted verdict."""

    accuracy: float
    baseline: str
    metric: str
    diff: float
    lo: float
    hi: float
    p: float
    p_holm: float
    verdict: str  # a (the simulated run is better), b, tie or insufficient
    sentence: str


@dataclass
class Sweep:
    prompt: str
    split: str
    seed: int
    pool: str  # the pool against the catalogue, as every result states it first
    points: list[Point] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)

    def curve(self, metric: str) -> pd.DataFrame:
        """One row per method on `metric`: accuracy (NaN for baselines), mean, lo, hi, n."""
        return pd.DataFrame([asdict(p) for p in self.points if p.metric == metric])

    def comparison_frame(self, metric: str) -> pd.DataFrame:
        """The family on `metric` as a table: p, baseline, difference with its interval, p, Holm p, verdict."""
        return pd.DataFrame([{"p": c.accuracy, "baseline": c.baseline, "simulated − baseline": round(c.diff, 4),
                              "95% CI": f"[{c.lo:+.3f}, {c.hi:+.3f}]", "p value": round(c.p, 4),
                              "Holm p": round(c.p_holm, 4), "verdict": VERDICTS[c.verdict]}
                             for c in self.comparisons if c.metric == metric])

    def lowest_beating(self, baseline: str, metric: str) -> float | None:
        """The lowest accuracy whose run beats the baseline (Holm-corrected verdict); None when none does."""
        wins = [c.accuracy for c in self.comparisons if c.baseline == baseline and c.metric == metric
                and c.verdict == "a"]
        return min(wins) if wins else None


def run_sweep(lab: Lab, interactions: Interactions, prompt: PromptVersion, *,
              accuracies: Sequence[float] = ACCURACIES, split: str = "loo", seed: int = 0) -> Sweep:
    """Describe the catalogue with the simulated LVLM at each accuracy (through the describe cache), then evaluate
    those runs with the baselines, which must already cover the catalogue (`vitrine sync`)."""
    for name in BASELINES:
        require_complete(lab, name, "the accuracy sweep")
    runs = {a: run_prompt(lab, prompt, PROVIDER, model=model_name(a)).representation for a in accuracies}
    ev = evaluate(lab, interactions, split=split, representations=[*BASELINES, *runs.values()], ks=(10,), seed=seed)
    sweep = Sweep(prompt.ref, split, seed, ev.pool_note())
    for metric in METRICS:
        for method in ev.methods:
            est = ev.estimate(method, metric)
            accuracy = next((a for a, name in runs.items() if name == method), None)
            sweep.points.append(Point(method, accuracy, metric, est.mean, est.lo, est.hi, est.n))
        cells = [(a, b) for a in accuracies for b in BASELINES]
        family = ev.family([(runs[a], b) for a, b in cells], metric)
        sweep.comparisons += [_comparison(a, b, metric, p) for (a, b), p in zip(cells, family, strict=True)]
    return sweep


def _comparison(accuracy: float, baseline: str, metric: str, paired: Paired) -> Comparison:
    return Comparison(accuracy, baseline, metric, paired.diff.mean, paired.diff.lo, paired.diff.hi, paired.p_value,
                      paired.p_holm, paired.verdict, paired.sentence())


def write_sweeps(sweeps: Sequence[Sweep], folder: Path) -> Path:
    """<reports>/simulated-sweep.json (one sweep per split), replaced whole: written beside it, then renamed."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SWEEP_FILE
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps([asdict(s) for s in sweeps], indent=1), encoding="utf-8")
    tmp.replace(target)
    return target


def read_sweeps(folder: Path) -> list[Sweep]:
    """The sweeps last written into this reports folder (none when no sweep has run there)."""
    path = folder / SWEEP_FILE
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Sweep(d["prompt"], d["split"], d["seed"], d["pool"], [Point(**p) for p in d["points"]],
                      [Comparison(**c) for c in d["comparisons"]]) for d in data]
    except (ValueError, KeyError, TypeError) as exc:
        raise EvaluationError(f"{path} is not a sweep written by bench/simulated_sweep.py ({type(exc).__name__}: "
                              f"{exc}); run the sweep again to replace it") from None
