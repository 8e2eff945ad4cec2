"""QA on the simulated LVLM's runs: a correct simulated description is not flagged for the facet it has no ground
truth for (usage_context), a facet it could have stated but did not still is, and the frontier's flag-rate axis
reads one QA table for every run (fakes only: HashEncoder, tmp_path LanceDB)."""

import pytest

from core.catalog.ingest import ingest
from core.config import SEED_PROMPTS_DIR
from core.describe.prompts import parse_prompt_file
from core.lab import Lab
from core.models import Attributes
from core.runs.prompt import run_prompt
from core.services import qa
from core.services.ab import Side
from core.services.flag_rate import flag_rate
from core.services.frontier import frontier
from tests.fakes import write_catalog

COLUMNS = ("sku", "title", "category", "style", "material", "occasion", "colour", "pattern", "subtype")
TRUTH = [
    ("S1", "Red Linen Shirt", "apparel", "minimalist", "linen", "office", "red", "solid", "shirt"),
    ("S2", "Blue Cotton Shirt", "apparel", "classic", "cotton", "weekend", "blue", "stripes", "shirt"),
    ("S3", "Black Leather Tote", "bags", "classic", "leather", "office", "black", "solid", "tote"),
    ("S4", "Green Denim Jacket", "apparel", "streetwear", "denim", "weekend", "green", "", "jacket"),  # no pattern
]
SIMULATED = "preference@v1/simulated/simulated-p1"


@pytest.fixture
def simulated_lab(lab: Lab, tmp_path) -> Lab:
    """Items carrying the sample catalogue's ground-truth columns, described by the simulated LVLM at accuracy 1."""
    items = [dict(zip(COLUMNS, row, strict=True)) for row in TRUTH]
    write_catalog(tmp_path / "imgs", items)
    csv = "\n".join([",".join(("image", *COLUMNS)), *(",".join((f"{it['sku']}.png", *(it[c] for c in COLUMNS)))
                                                      for it in items)]) + "\n"
    assert ingest(lab.store, lab.images, [tmp_path / "imgs"], csv.encode()).accepted == len(TRUTH)
    assert run_prompt(lab, lab.prompts.get("preference@v1"), "simulated", model="simulated-p1").representation \
        == SIMULATED
    return lab


def test_a_correct_simulated_description_is_not_flagged_but_a_facet_it_could_state_and_did_not_is(simulated_lab):
    table = qa.qa_table(simulated_lab, provider="simulated").set_index("sku")
    assert {sku: table.at[sku, "auto_flags"] for sku in ("S1", "S2", "S3")} == {"S1": [], "S2": [], "S3": []}
    assert table.at["S4", "auto_flags"] == ["missing facets: pattern"]  # the item has no pattern to state


def test_a_describer_that_can_state_usage_context_and_leaves_it_out_is_still_flagged():
    attrs = Attributes(style=["minimalist"], material=["linen"], colour=["red"], pattern=["solid"], occasion=["office"])
    prompt = parse_prompt_file(SEED_PROMPTS_DIR / "preference" / "v1.md")
    text = "A minimalist red linen shirt for office days, plain and easy to wear."
    assert qa.auto_flags(text, attrs, prompt, ()) == ["missing facets: usage_context"]


def test_the_frontier_flag_rate_of_a_simulated_run_counts_only_real_flags_from_one_qa_table(simulated_lab,
                                                                                           monkeypatch):
    run_prompt(simulated_lab, simulated_lab.prompts.get("preference@v1"), "simulated", model="simulated-p0")
    rate = flag_rate(simulated_lab, Side(simulated_lab.prompts.get("preference@v1"), "simulated", "simulated-p1"))
    assert (rate.flagged, rate.checked, rate.common) == (1, 4, [("missing facets", 1)])
    builds = []
    build = qa._build
    monkeypatch.setattr(qa, "_build", lambda *a, **k: builds.append(1) or build(*a, **k))
    runs = frontier(simulated_lab).runs.set_index("run")
    assert runs.at[SIMULATED, "flag_rate"] == pytest.approx(0.25) and runs.at[SIMULATED, "flag_checked"] == 4
    assert len(runs) == 2 and len(builds) == 1
