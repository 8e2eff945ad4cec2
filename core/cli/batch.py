"""`vitrine describe --batch`: the cost estimate first, then core.runs.prompt.run_batch with a progress bar."""

from __future__ import annotations

import sys

from tqdm import tqdm

from core.describe.prompts import PromptVersion
from core.lab import Lab
from core.runs.batch import BatchReport, estimate_cost
from core.runs.prompt import run_batch


def run_batch_describe(lab: Lab, prompt: PromptVersion, provider: str, model: str | None, base_url: str | None,
                       api_key: str | None, *, limit: int | None = None, retry_failed: bool = False,
                       wait: bool = True, poll_interval: float = 30.0) -> BatchReport:
    """Print sync vs batch cost per 1,000 SKUs, run (or resume) the batch, print warnings and the summary."""
    describer = lab.describer(provider, model=model, base_url=base_url, api_key=api_key)
    estimate = estimate_cost(lab, prompt, describer.provider, describer.model,
                             items=min(limit, lab.store.item_count()) if limit else None)
    print(estimate.text())
    bar = tqdm(desc=f"{prompt.ref} via {describer.provider} batch", unit="req", file=sys.stderr, leave=False)

    def progress(done: int, total: int, label: str) -> None:
        bar.total, bar.n = total, done
        bar.set_postfix_str(label)

    try:
        report = run_batch(lab, prompt, provider, model=model, base_url=base_url, api_key=api_key, limit=limit,
                           retry_failed=retry_failed, wait=wait, poll_interval=poll_interval, progress=progress)
    finally:
        bar.close()
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"describe: {report.summary()}")
    if report.pending:
        print(f"{report.pending} shard(s) still processing at {report.provider}: run the same command again "
              "to collect them (nothing is sent twice)")
    if report.representation:
        print(f"representation: {report.representation}")
    return report
