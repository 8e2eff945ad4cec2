"""The simulated LVLM behind the fake server: the real openai SDK path (core.runs.prompt.run_prompt with a base_url
on 127.0.0.1) states the same facts as the in-process provider, with the accuracy named by the model."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.catalog.ingest import ingest
from core.config import SAMPLE_CATALOG_DIR
from core.describe.identity import run_descriptions
from core.describe.providers.openai_provider import OpenAIDescriber
from core.describe.providers.simulated import TRUTH_FACETS
from core.lab import Lab, open_lab
from core.nets.encoders import HashEncoder
from core.represent.coverage import coverage
from core.runs.prompt import run_prompt
from core.testing.fake_lvlm import FakeLVLMServer, SimulatedTruth

ROOT = Path(__file__).resolve().parents[2]
ITEMS = 24


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    """24 sample items (six of each category) with their images and ground-truth columns, as a metadata CSV."""
    folder = tmp_path / "catalogue"
    folder.mkdir()
    rows = list(csv.DictReader((SAMPLE_CATALOG_DIR / "items.csv").open(encoding="utf-8")))
    chosen = [r for n, r in enumerate(rows) if n % 50 < 6]  # 50 per category, in category order
    with (folder / "items.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in chosen:
            shutil.copyfile(SAMPLE_CATALOG_DIR / row["image"], folder / Path(row["image"]).name)
            writer.writerow({**row, "image": Path(row["image"]).name})
    assert len(chosen) == ITEMS
    return folder / "items.csv"


@pytest.fixture
def lab(tmp_path: Path, catalogue: Path) -> Lab:
    lab = open_lab(tmp_path / "ws", encoder=HashEncoder())
    assert ingest(lab.store, lab.images, [catalogue.parent], catalogue.read_bytes()).accepted == ITEMS
    return lab


@pytest.fixture
def srv(catalogue: Path) -> Iterator[FakeLVLMServer]:
    with FakeLVLMServer(simulated=SimulatedTruth.from_catalog(catalogue)) as server:
        yield server


def stated(lab: Lab, prompt_name: str, provider: str, model: str) -> dict[str, dict[str, list[str]]]:
    """sku -> the facets its current description states."""
    current = run_descriptions(lab.store, lab.store.items(), lab.prompts.get(prompt_name), provider, model)
    assert (current["error"] == "").all(), current["error"].tolist()
    return {sku: {f: v for f, v in json.loads(a).items() if v} for sku, a in zip(current["sku"], current["attributes"],
                                                                                  strict=True)}


def truth(lab: Lab) -> dict[str, dict[str, list[str]]]:
    return {r["sku"]: {f: [r[f]] for f in TRUTH_FACETS} for r in lab.store.items().to_dict("records")}


@pytest.mark.parametrize("prompt_name", ["preference", "appearance"])
def test_the_sdk_path_states_the_same_facts_as_the_in_process_provider(lab: Lab, srv: FakeLVLMServer,
                                                                       prompt_name: str) -> None:
    prompt = lab.prompts.get(prompt_name)
    report = run_prompt(lab, prompt, "openai", model="simulated-p0.75", base_url=srv.base_url_openai)
    assert (report.calls, report.failed) == (ITEMS, 0)
    assert report.representation == f"{prompt.ref}/openai/simulated-p0.75"
    assert coverage(lab, report.representation).complete
    run_prompt(lab, prompt, "simulated", model="simulated-p0.75")
    over_http = stated(lab, prompt_name, "openai", "simulated-p0.75")
    assert over_http == stated(lab, prompt_name, "simulated", "simulated-p0.75")
    assert all(set(facets) == set(prompt.facets) - {"usage_context"} for facets in over_http.values())
    texts = run_descriptions(lab.store, lab.store.items(), prompt, "openai", "simulated-p0.75")["text"]
    assert all(len(t.split()) <= prompt.max_words for t in texts)


def test_the_model_name_sets_the_accuracy_over_http(lab: Lab, srv: FakeLVLMServer) -> None:
    prompt = lab.prompts.get("preference")
    for model in ("simulated-p1", "simulated-p0"):
        run_prompt(lab, prompt, "openai", model=model, base_url=srv.base_url_openai)
    facts = truth(lab)
    right = {model: [(sku, f) for sku, facets in stated(lab, "preference", "openai", model).items()
                     for f, v in facets.items() if v == facts[sku][f]] for model in ("simulated-p1", "simulated-p0")}
    assert len(right["simulated-p1"]) == ITEMS * len(TRUTH_FACETS) and right["simulated-p0"] == []


def test_an_unknown_image_or_model_fails_with_the_reason(lab: Lab, catalogue: Path, srv: FakeLVLMServer) -> None:
    prompt = lab.prompts.get("preference")
    report = run_prompt(lab, prompt, "openai", model="gpt-4o-mini", base_url=srv.base_url_openai, limit=1)
    assert report.failed == 1
    assert "named simulated-p and the accuracy (e.g. simulated-p0.75), not 'gpt-4o-mini'" in report.errors[0][1]
    with FakeLVLMServer(simulated=SimulatedTruth({})) as empty:
        report = run_prompt(lab, prompt, "openai", model="simulated-p1", base_url=empty.base_url_openai, limit=1)
    assert report.failed == 1 and "not in the catalogue the server was given" in report.errors[0][1]


def test_the_fake_server_command_serves_the_simulated_mode(lab: Lab, catalogue: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "core.testing.fake_lvlm", "--port", "0", "--simulated",
                             str(catalogue)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().split()[-1]
        item = lab.store.items().iloc[0].to_dict()
        desc = OpenAIDescriber(model="simulated-p1", base_url=base_url).describe(lab.image_ref(item),
                                                                                 lab.prompts.get("preference"))
        assert desc.ok and desc.attributes.facet("material") == [item["material"]]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
