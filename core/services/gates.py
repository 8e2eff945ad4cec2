"""CI gates on an evaluation: a prompt change fails the build like code does, below a metric threshold or without a
significant win over a baseline. Each gate says why in one line (the QA flag-rate gate: core/services/flag_rate.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import VitrineError
from core.evaluation.baselines import default_specs, parse_specs
from core.evaluation.metrics import PER_USER, metric_label
from core.evaluation.result import Evaluation
from core.lab import Lab

GATED_METRICS = (*PER_USER, "mrr")  # the per-shopper metrics: each has a bootstrap interval and n


@dataclass(frozen=True)
class Gate:
    passed: bool
    line: str

    def text(self) -> str:
        return f"gate {'passed' if self.passed else 'FAILED'}: {self.line}"


@dataclass(frozen=True)
class Threshold:
    metric: str
    minimum: float


def parse_threshold(text: str) -> Threshold:
    """'recall@10=0.08' -> Threshold('recall@10', 0.08); a metric is a per-shopper one, a value lies in [0, 1]."""
    metric, sep, value = text.partition("=")
    metric = metric.strip().lower()
    if not sep or not re.fullmatch(rf"({'|'.join(PER_USER)})@[1-9]\d*|mrr", metric):
        raise VitrineError(f"{text!r}: expected METRIC@K=VALUE with METRIC one of {', '.join(GATED_METRICS)} "
                           "(mrr takes no @K), e.g. recall@10=0.08")
    try:
        minimum = float(value)
    except ValueError:
        raise VitrineError(f"{text!r}: {value.strip()!r} is not a number") from None
    if not 0.0 <= minimum <= 1.0:
        raise VitrineError(f"{text!r}: metrics lie between 0 and 1 (write 8% as 0.08)")
    return Threshold(metric, minimum)


def planned_methods(lab: Lab, representations: str | list[str], run: str, thresholds: list[Threshold],
                    baselines: list[str], ks: tuple[int, ...]) -> list[str]:
    """What the evaluation will compare ('all' resolved), refused before any work when a gate names a method or
    cut-off it will not have: a gate that cannot be checked must not pass."""
    planned = [s.name for s in parse_specs(default_specs(lab) if representations == "all" else list(representations))]
    absent = [m for m in (run, *baselines) if m not in planned]
    if absent:
        raise VitrineError(f"the gates need {', '.join(absent)}, which will not be evaluated (a run is evaluated once "
                           f"it covers the catalogue, or when named in --representations); planned: "
                           f"{', '.join(planned)}")
    if run in baselines:
        raise VitrineError(f"--must-beat {run} compares the gated run with itself")
    for t in thresholds:
        k = t.metric.partition("@")[2]
        if k and int(k) not in ks:
            raise VitrineError(f"--fail-under {t.metric}: K = {k} is not among the cut-offs --k "
                               f"{','.join(map(str, ks))}")
    return planned


def threshold_gates(ev: Evaluation, run: str, thresholds: list[Threshold]) -> list[Gate]:
    """The run's mean against each minimum, reported with its interval and n (the mean decides)."""
    gates = []
    for t in thresholds:
        est = ev.estimate(run, t.metric)
        gates.append(Gate(est.mean >= t.minimum, f"{metric_label(t.metric)} of {run} = {est.cell()} "
                          f"{'≥' if est.mean >= t.minimum else 'is below'} {t.minimum:g}"))
    return gates


def beat_gates(ev: Evaluation, run: str, baselines: list[str]) -> list[Gate]:
    """The run against each baseline on the primary metric, as one Holm-corrected family: only a verdict for
    the run passes (a tie or too few shoppers fails, since the change was not shown to help)."""
    family = ev.family([(run, b) for b in baselines])
    return [Gate(p.verdict == "a", p.sentence()) for p in family]
