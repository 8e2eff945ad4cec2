"""Description runs for the cost–quality frontier: hosted-looking runs with recorded tokens, and two runs with one
stored evaluation report between them."""

from __future__ import annotations

import numpy as np

from core.describe.identity import item_context, stamped
from core.evaluation.report import evaluate_to_workspace
from core.lab import Lab
from core.models import Description
from core.runs.describe import describe_items
from tests.evaluation_catalogue import add_vectors, grouped_catalogue
from tests.fakes import FakeDescriber

GOOD, NOISY = "preference@v1/fake/fake-1", "appearance@v1/fake/fake-1"


def hosted(lab: Lab, prompt_ref: str, model: str) -> None:
    """Descriptions recorded as if an OpenAI model made them (10 input and 20 output tokens each)."""
    describer = FakeDescriber(model=model)
    describer.provider = "openai"
    describe_items(lab, lab.store.items(), lab.prompts.get(prompt_ref), describer)


def describe_directly(lab: Lab, prompt_ref: str, provider: str, model: str) -> None:
    """Plain descriptions of every item under the run, as if recorded by it (no images needed)."""
    prompt = lab.prompts.get(prompt_ref)
    lab.store.upsert_descriptions([stamped(Description(
        image_sha256=item["image_sha256"], prompt_name=prompt.name, prompt_version=prompt.version,
        prompt_hash=prompt.hash, provider=provider, model=model, text=f"plain words about {item['sku']}"),
        prompt, item_context(item)) for item in lab.store.items().to_dict("records")])


def evaluated_runs(lab: Lab) -> Lab:
    """60 grouped items; GOOD's vectors follow the groups shoppers buy from, NOISY's are noise; one report."""
    log = grouped_catalogue(lab)
    skus = lab.store.items()["sku"].tolist()
    good = lab.store.vectors(lab.store.representation("good")["table"])
    add_vectors(lab, GOOD, good[0], good[1])
    add_vectors(lab, NOISY, skus, np.random.default_rng(1).normal(size=(len(skus), 16)))
    for ref in ("preference@v1", "appearance@v1"):
        describe_directly(lab, ref, "fake", "fake-1")
    evaluate_to_workspace(lab, log, representations=[GOOD, NOISY], n_resamples=50)
    return lab
