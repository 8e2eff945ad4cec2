"""What a page button or CLI command calls: sample, summary, upkeep, cold start, QA, A/B, votes."""
