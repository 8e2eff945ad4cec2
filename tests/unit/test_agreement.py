"""Reviewer agreement: kappa against published worked examples, per-reviewer votes, and the plain-words verdict."""

from __future__ import annotations

import pandas as pd
import pytest

from core.access.actor import Actor, acting_as
from core.services.agreement import DISAGREE, agreement, agreement_of, cohen_kappa, fleiss_kappa
from core.services.votes import ab_id, record_vote, vote_choices

# Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters, 5 categories; kappa 0.210.
FLEISS_TABLE = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_cohen_kappa_matches_the_worked_example():
    # Wikipedia's "Cohen's kappa": 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> p_o .7, p_e .5, kappa .4
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([("a", "a")] * 5) is None  # chance agreement is total: undefined, not 1 or 0


def test_fleiss_kappa_matches_the_worked_example():
    assert fleiss_kappa(FLEISS_TABLE) == pytest.approx(0.20993, abs=5e-5)
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[1, 1, 0], [3, 0, 0]])


def _votes(rows: dict[str, list[str]]) -> pd.DataFrame:
    return pd.DataFrame([{"sku": f"S{i}", "reviewer": who, "winner": w}
                         for who, winners in rows.items() for i, w in enumerate(winners)])


def test_reviewers_who_disagree_are_told_the_win_rate_is_not_a_verdict():
    ana = ["b"] * 12
    bob = ["a", "b", "tie"] * 4  # agrees with Ana on a third of the items: below chance-corrected "fair"
    result = agreement_of(_votes({"ana": ana, "bob": bob}))
    assert result.method == "Cohen's kappa" and result.shared == 12
    assert result.kappa == pytest.approx(cohen_kappa(list(zip(ana, bob, strict=True))) or 0.0)
    assert result.low and DISAGREE in result.verdict and "n = 12" in result.verdict
    assert result.reviewers["ana"].rate_b == 1.0 and result.reviewers["bob"].rate_b == 0.5
    assert result.overall.n == 12  # one verdict per item, not one per vote


def test_agreeing_reviewers_and_three_reviewers_use_fleiss():
    same = ["a", "b", "b", "tie"] * 3
    two = agreement_of(_votes({"ana": same, "bob": same}))
    assert two.kappa == pytest.approx(1.0) and not two.low and two.verdict.startswith("reviewers agree")
    three = agreement_of(_votes({"ana": same, "bob": same, "cy": same[:-1] + ["a"]}))
    assert three.method == "Fleiss' kappa" and three.shared == 12 and 0.8 < (three.kappa or 0) < 1


def test_one_reviewer_or_few_shared_items_is_not_a_verdict():
    assert "cannot be measured" in agreement_of(_votes({"ana": ["b"] * 20})).verdict
    few = agreement_of(_votes({"ana": ["a", "b"], "bob": ["b", "a"]}))
    assert not few.low and "too few" in few.verdict and "not a verdict" in few.verdict


def test_votes_are_kept_per_reviewer_and_blind_to_the_others(lab):
    with acting_as(Actor("ana", "sign-in")):
        record_vote(lab, "run-a", "run-b", "A1", "left", left="b")
    with acting_as(Actor("bob", "sign-in")):
        record_vote(lab, "run-a", "run-b", "A1", "right", left="b")
        assert vote_choices(lab, ab_id("run-a", "run-b")) == {"A1": "right"}  # only Bob's own vote is shown
    result = agreement(lab, ab_id("run-a", "run-b"))
    assert {n: r.rate_b for n, r in result.reviewers.items()} == {"ana": 1.0, "bob": 0.0}
    assert result.overall.ties == 1  # split item: a tie, not a win for either side
