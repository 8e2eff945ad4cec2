"""Build the ready-to-explore sample workspace from sample_catalog/ (images, metadata, interactions)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from core.catalog.ingest import IngestReport, ingest
from core.config import SAMPLE_CATALOG_DIR
from core.describe.providers.simulated import label, model_name
from core.lab import Lab
from core.models import Progress
from core.represent.representations import build_metadata, build_title, build_visual
from core.runs.describe import RunReport
from core.runs.prompt import run_prompt

SAMPLE_DIR = SAMPLE_CATALOG_DIR
SAMPLE_PROMPTS = ("preference", "appearance")
SIMULATED_ACCURACY = 0.75  # the demo's simulated LVLM: right on three facets in four


@dataclass
class SampleReport:
    ingest: IngestReport
    runs: list[RunReport] = field(default_factory=list)
    representations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build_sample(lab: Lab, *, with_visual: bool = True, progress: Progress | None = None,
                 sample_dir: Path = SAMPLE_DIR) -> SampleReport:
    """Ingest, describe with both shipped prompts (offline), build the title, metadata and visual baselines, and
    describe once more with the simulated LVLM, so a demo can show the mechanism (labelled as simulated)."""
    report = SampleReport(ingest(lab.store, lab.images, [sample_dir / "images"],
                                 metadata=(sample_dir / "items.csv").read_bytes()))
    shutil.copyfile(sample_dir / "interactions.csv", lab.workspace.interactions_csv)
    for name in SAMPLE_PROMPTS:
        run = run_prompt(lab, lab.prompts.get(name), "offline", progress=progress)
        report.runs.append(run)
        report.representations.append(run.representation)
    simulated = run_prompt(lab, lab.prompts.get(SAMPLE_PROMPTS[0]), "simulated", model=model_name(SIMULATED_ACCURACY),
                           progress=progress)
    report.runs.append(simulated)
    report.representations.append(simulated.representation)
    report.notes.append(f"{simulated.representation} is a {label(SIMULATED_ACCURACY)}: written from the sample's "
                        "ground-truth attributes, not by a model looking at the images")
    report.representations += [build_title(lab), build_metadata(lab)]
    if with_visual:
        report.representations.append(build_visual(lab))
    lab.store.set_setting("active_prompt", lab.prompts.get(SAMPLE_PROMPTS[0]).ref)
    return report
