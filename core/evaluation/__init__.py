"""Fair offline evaluation: one candidate pool, history excluded, seeded splits, bootstrap confidence intervals.

Modules: splits, metrics, bootstrap, baselines (scoring methods), protocol (evaluate), result (the Evaluation
and its comparisons), report (Markdown + JSON), ablation (title withheld), neighbours (item-to-item neighbour
precision). Interaction importers live in core.catalog.interactions.
"""
