"""Fair offline evaluation: one candidate pool, history excluded, seeded splits, bootstrap confidence intervals.

Modules: interactions (importers), splits, metrics, bootstrap, baselines (scoring methods), protocol
(evaluate), result (the Evaluation and its comparisons), report (Markdown + JSON), ablation (title
withheld), neighbours (item-to-item neighbour precision).
"""
