"""Coverage-aware defaults and floors: a partial representation never silently shrinks the candidate pool.

Observed: the Evaluation page preselected every representation, 12-item A/B sample runs included, so the pool
became their overlap and the result read "9 SKUs, 7 shoppers" with Recall@10 = 1.000 for every method, random
included, and a green tick.
"""

import pytest

from core.errors import EvaluationError
from core.evaluation.baselines import default_specs, evaluation_choices
from core.evaluation.protocol import MIN_POOL_ITEMS, MIN_SHOPPERS, evaluate
from core.evaluation.report import to_markdown
from core.represent.representations import build_title
from tests.evaluation_catalogue import grouped_catalogue


def test_defaults_leave_out_a_12_item_ab_sample_run(lab):
    log = grouped_catalogue(lab, partial={"ab-sample": 12})
    specs = default_specs(lab)
    assert not any("ab-sample" in s for s in specs), specs
    assert specs[:2] == ["random", "popularity"] and {"good", "visual", "bad"} <= set(specs)
    assert "mean:bad+visual" in specs  # fusions are of full-coverage representations only
    ev = evaluate(lab, log, representations="all", n_resamples=100)
    assert ev.pool_size == ev.catalogue_size == 60 and ev.filter.shoppers_evaluated == 60
    assert ev.pool_note().startswith("Candidate pool: 60 of 60 catalogue SKUs")
    assert ev.excluded_lines() == ["ab-sample: 12 of 60 items — excluded; describe the rest to compare it"]
    assert "ab-sample: 12 of 60 items — excluded" in to_markdown(ev)


def test_the_form_offers_partial_runs_without_preselecting_them(lab):
    grouped_catalogue(lab, partial={"ab-sample": 12})
    choices = evaluation_choices(lab)
    assert "ab-sample" in choices.options and "ab-sample" not in choices.defaults
    assert choices.defaults == default_specs(lab) and choices.catalogue == 60
    assert [c.text() for c in choices.excluded] == ["ab-sample: 12 of 60 items"]


def test_a_pool_shrunk_by_an_explicit_partial_pick_is_refused_not_scored(lab):
    # the observed failure: the pool became the 12-item run's overlap and every method scored Recall@10 = 1.000
    log = grouped_catalogue(lab, partial={"ab-sample": 12})
    with pytest.raises(EvaluationError) as err:
        evaluate(lab, log, representations=["random", "good", "ab-sample"], ks=(10,))
    message = str(err.value)
    assert "candidate pool has 12 SKUs (of 60 in the catalogue)" in message
    assert "limited by ab-sample: 12 of 60 items" in message and f"at least {MIN_POOL_ITEMS}" in message


def test_an_explicit_partial_pick_above_the_floor_is_stated_prominently(lab):
    log = grouped_catalogue(lab, partial={"most": 55})
    ev = evaluate(lab, log, representations=["random", "good", "most"], n_resamples=100)
    assert (ev.pool_size, ev.catalogue_size) == (55, 60)
    assert [c.text() for c in ev.limited_by] == ["most: 55 of 60 items"]
    note = ev.pool_note()
    assert note.startswith("Candidate pool: 55 of 60 catalogue SKUs") and "limited by most: 55 of 60 items" in note
    assert note in to_markdown(ev)
    assert ev.to_dict(per_user=False)["pool"]["limited_by"][0] == {"name": "most", "items": 55, "catalogue": 60,
                                                                    "stale": 0}


def test_too_few_shoppers_are_refused_and_floors_are_explicit_parameters(lab):
    log = grouped_catalogue(lab, shoppers=12)
    with pytest.raises(EvaluationError, match=rf"12 shoppers can be evaluated.*at least {MIN_SHOPPERS}"):
        evaluate(lab, log, representations=["random", "good"])
    ev = evaluate(lab, log, representations=["random", "good"], min_shoppers=10, n_resamples=50)
    assert ev.filter.shoppers_evaluated == 12 and ev.config["floors"]["min_shoppers"] == 10
    # below the verdict floor every comparison is withheld, with the reason
    paired = ev.paired("good", "random")
    assert paired.verdict == "insufficient" and "too few shoppers for a verdict (n = 12 < 30)" in paired.sentence()
    assert MIN_POOL_ITEMS == 50 and MIN_SHOPPERS == 20


def test_stale_vectors_are_named_never_preselected_and_left_out_of_the_pool(lab):
    # a title edited after `title` was embedded: ranking the old text would score a product that no longer exists
    log = grouped_catalogue(lab)
    build_title(lab)
    edited = lab.store.items().iloc[:3].assign(title=lambda f: f["title"] + " (renamed)")
    lab.store.upsert_items(edited.to_dict("records"))
    choices = evaluation_choices(lab)
    assert "title" in choices.options and "title" not in choices.defaults
    assert [c.text() for c in choices.excluded] == ["title: 60 of 60 items (3 stale)"]
    ev = evaluate(lab, log, representations=["random", "good", "title"], n_resamples=50)
    assert (ev.pool_size, ev.catalogue_size) == (57, 60)
    assert "limited by title: 60 of 60 items (3 stale)" in ev.pool_note()
