"""A/B results with their votes as files a reviewer takes away (CSV, Markdown): the browser cannot reach the
workspace's reports folder."""

from __future__ import annotations

import pandas as pd

from core.evaluation.report import markdown_table
from core.lab import Lab
from core.safe_text import formula_safe_csv
from core.services.ab import ABResult
from core.services.votes import votes, win_rate

VOTE_COLUMNS = {"a": "votes A", "b": "votes B", "tie": "ties"}


def results_frame(lab: Lab, result: ABResult) -> pd.DataFrame:
    """One row per sampled item: both sides' text (or error), facets, the cosine A↔B and the votes cast so far."""
    rows = result.rows
    frame = pd.DataFrame({"sku": rows["sku"], "title": rows["title"], "category": rows["category"],
                          "run A": result.a.run, "run B": result.b.run})
    for side in "ab":
        failed = rows[f"error_{side}"] != ""
        frame[f"{side.upper()} text"] = rows[f"text_{side}"].where(~failed, "error: " + rows[f"error_{side}"])
        frame[f"{side.upper()} facets"] = rows[f"attributes_{side}"]
    frame["cosine A-B"] = rows["cosine"]
    cast = votes(lab, result.ab_id)
    counts = pd.crosstab(cast["sku"], cast["winner"])  # one row per reviewer's vote, counted per item
    for winner, column in VOTE_COLUMNS.items():
        frame[column] = frame["sku"].map(counts.get(winner, pd.Series(dtype=int))).fillna(0).astype(int)
    return frame


def results_csv(lab: Lab, result: ABResult) -> bytes:
    """The per-item results, formula-safe: titles and model output must not run in a spreadsheet."""
    return formula_safe_csv(results_frame(lab, result))


def results_markdown(lab: Lab, result: ABResult) -> str:
    """What was compared, the per-side numbers, B's win rate with its interval, and every item with its votes."""
    frame = results_frame(lab, result)
    rate = win_rate(votes(lab, result.ab_id)["winner"])
    verdict = ("no decisive votes yet" if rate.rate_b is None else
               f"{rate.rate_b:.0%} (95% Wilson CI {rate.ci_low:.0%}–{rate.ci_high:.0%})")
    cosine = f"{result.mean_cosine:.3f}" if result.mean_cosine is not None else result.cosine_note or "—"
    metrics = result.metrics_table()
    items = frame[["sku", "title", *VOTE_COLUMNS.values(), "A text", "B text"]]
    lines = [
        "# A/B results", "",
        f"- A: `{result.a.run}`", f"- B: `{result.b.run}`",
        f"- Sample: {len(frame):,} items (comparison {result.ab_id})",
        f"- Mean cosine A↔B: {cosine}",
        f"- B win rate (non-tie votes): {verdict}; {rate.wins_b} B / {rate.wins_a} A / {rate.ties} ties",
        *([f"- Note: {result.identical_note}"] if result.identical_note else []),
        "", "## Per-side metrics", "", *markdown_table(metrics.to_dict("records"), list(metrics.columns)),
        "", "## Items", "", *markdown_table(items.to_dict("records"), list(items.columns)),
    ]
    return "\n".join(lines) + "\n"
