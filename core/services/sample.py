"""Build the ready-to-explore sample workspace from sample_catalog/ (images, metadata, interactions)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from core.catalog.ingest import IngestReport, ingest
from core.config import SAMPLE_CATALOG_DIR
from core.lab import Lab
from core.models import Progress
from core.represent.representations import build_title, build_visual
from core.runs.describe import RunReport
from core.runs.prompt import run_prompt

SAMPLE_DIR = SAMPLE_CATALOG_DIR
SAMPLE_PROMPTS = ("preference", "appearance")


@dataclass
class SampleReport:
    ingest: IngestReport
    runs: list[RunReport] = field(default_factory=list)
    representations: list[str] = field(default_factory=list)


def build_sample(lab: Lab, *, with_visual: bool = True, progress: Progress | None = None,
                 sample_dir: Path = SAMPLE_DIR) -> SampleReport:
    """Ingest, describe with both shipped prompts (offline), and build title + visual baselines."""
    report = SampleReport(ingest(lab.store, lab.images, [sample_dir / "images"],
                                 metadata=(sample_dir / "items.csv").read_bytes()))
    shutil.copyfile(sample_dir / "interactions.csv", lab.workspace.interactions_csv)
    for name in SAMPLE_PROMPTS:
        run = run_prompt(lab, lab.prompts.get(name), "offline", progress=progress)
        report.runs.append(run)
        report.representations.append(run.representation)
    report.representations.append(build_title(lab))
    if with_visual:
        report.representations.append(build_visual(lab))
    lab.store.set_setting("active_prompt", lab.prompts.get(SAMPLE_PROMPTS[0]).ref)
    return report
