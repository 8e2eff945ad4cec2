"""Fair offline evaluation: one candidate pool, history excluded, seeded splits, bootstrap confidence intervals.

Modules: splits, metrics, bootstrap (intervals, permutation p, Holm), coverage (each representation's share of
the catalogue), baselines (scoring methods, coverage-aware defaults), protocol (evaluate, its floors), result
(the Evaluation and its comparisons), report (Markdown + JSON), ablation (title withheld), neighbours
(item-to-item neighbour precision). Interaction importers live in core.catalog.interactions.
"""
