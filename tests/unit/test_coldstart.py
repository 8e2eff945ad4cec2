import numpy as np
import pytest

from core.catalog.images import ImageRejected
from core.represent.recommend import load_matrix, recommend
from core.represent.shoppers import sample_shoppers
from core.services.coldstart import ColdStartError, add_to_catalogue, audience_reach, preview
from tests.fakes import png_bytes

INTERACTIONS = """shopper_id,sku,timestamp
S1,A1,2026-01-01T10:00:00Z
S1,A2,2026-01-02T10:00:00Z
S2,B1,2026-01-01T10:00:00Z
S3,H1,2026-02-01T10:00:00Z
S4,ZZ9,2026-02-01T10:00:00Z
"""


@pytest.fixture
def with_shoppers(described_lab):
    """The described catalogue plus a small log (S4 only knows an unknown SKU)."""
    described_lab.lab.workspace.interactions_csv.write_text(INTERACTIONS)
    return described_lab


def snapshot(lab):
    """Everything a preview must leave alone: rows, table versions and stored files."""
    tables = {name: (t.count_rows(), t.version) for name in lab.store.table_names()
              if (t := lab.store.open_table(name)) is not None}
    files = sorted(p.name for d in (lab.workspace.images_dir, lab.workspace.thumbs_dir) for p in d.iterdir())
    return lab.store.item_count(), len(lab.store.descriptions()), tables, files


def test_preview_reports_neighbours_duplicates_reach_and_place_but_writes_nothing(with_shoppers, fake_describer):
    lab, rep = with_shoppers
    before = snapshot(lab)
    calls = len(fake_describer.calls)
    p = preview(lab, png_bytes("green", shape="circle"), "Red Linen Shirt", "Apparel", k=3)
    assert snapshot(lab) == before
    assert len(fake_describer.calls) == calls + 1
    assert p.representation == rep and p.category == "apparel"
    assert p.description.text == "Red Linen Shirt apparel for preference"
    assert len(p.neighbours) == 3 and p.neighbours[0].sku == "A1"
    assert p.neighbours[0].title == "Red Linen Shirt"
    assert [r.sku for r in p.near_duplicates] == ["A1"]  # same description text as A1: cosine 1
    assert p.near_duplicates[0].score == pytest.approx(1.0, abs=1e-5)
    assert p.same_image == []
    assert p.shoppers == 4
    assert {r.shopper_id for r in p.reached} == {"S1", "S2", "S3"}  # 6 items < top-10; S4 has no known SKU
    assert p.position is not None and p.position.shape == (2,) and np.isfinite(p.position).all()
    assert set(p.projection.points["sku"]) == {"A1", "A2", "A3", "B1", "B2", "H1"}


def test_audience_reach_matches_each_shoppers_kth_best_score(with_shoppers):
    lab, rep = with_shoppers
    m = load_matrix(lab, rep)
    histories = sample_shoppers(lab)
    vector = lab.encoder.encode(["Black Leather Tote bags for preference"])[0]
    reached = {r.shopper_id: r for r in audience_reach(m, vector, histories, k=1)}
    for shopper, history in histories.items():
        if shopper == "S4":
            continue
        profile = m.vectors[[m.index[s] for s in history]].mean(axis=0)
        score = float(profile @ vector) / float(np.linalg.norm(profile))
        best = recommend(lab, history, 1, rep)[0].score
        assert (shopper in reached) == (score > best)
        if shopper in reached:
            assert reached[shopper].score == pytest.approx(score, abs=1e-5)
            assert reached[shopper].cutoff == pytest.approx(best, abs=1e-5)
    assert "S2" in reached and "S1" not in reached  # the tote-buyer is reached, the shirt-buyer is not


def test_add_to_catalogue_is_the_only_write(with_shoppers):
    lab, rep = with_shoppers
    p = preview(lab, png_bytes("green", shape="circle"), "Green Wool Scarf", "accessories")
    added = add_to_catalogue(lab, p, "N1")
    assert set(added) == {rep, "title"}
    items = lab.store.items().set_index("sku")
    assert items.loc["N1", "title"] == "Green Wool Scarf" and items.loc["N1", "category"] == "accessories"
    assert lab.images.path(p.image.sha256, p.image.ext).exists() and lab.images.thumb_path(p.image.sha256).exists()
    descs = lab.store.descriptions()
    assert p.description.key in set(descs["key"])
    assert "N1" in load_matrix(lab, rep).index and "N1" in load_matrix(lab, "title").index
    assert "N1" in [r.sku for r in recommend(lab, ["A1"], 10, rep)]
    again = preview(lab, png_bytes("green", shape="circle"), "Green Wool Scarf", "accessories")
    assert again.same_image == ["N1"]


def test_add_refuses_existing_or_bad_skus_without_writing(with_shoppers):
    lab, _ = with_shoppers
    p = preview(lab, png_bytes("green"), "Green Wool Scarf", "accessories")
    before = snapshot(lab)
    with pytest.raises(ColdStartError, match="already in the catalogue"):
        add_to_catalogue(lab, p, "A1")
    with pytest.raises(ColdStartError, match="contains"):
        add_to_catalogue(lab, p, "../evil")
    assert snapshot(lab) == before


def test_bad_input_fails_before_the_describer_is_called(with_shoppers, fake_describer):
    lab, _ = with_shoppers
    calls = len(fake_describer.calls)
    with pytest.raises(ImageRejected, match="not a recognised image"):
        preview(lab, b"not an image", "Scarf", "accessories")
    with pytest.raises(ColdStartError, match="title"):
        preview(lab, png_bytes(), "  ", "accessories")
    with pytest.raises(ColdStartError, match="threshold"):
        preview(lab, png_bytes(), "Scarf", "accessories", threshold=0)
    assert len(fake_describer.calls) == calls


def test_describer_failure_is_a_clear_error(with_shoppers, fake_describer):
    lab, _ = with_shoppers
    fake_describer.queue.append(TimeoutError("provider timed out"))
    with pytest.raises(ColdStartError, match="fake could not describe the image: TimeoutError"):
        preview(lab, png_bytes(), "Scarf", "accessories")


def test_without_the_active_run_the_default_representation_is_used(with_shoppers):
    lab, rep = with_shoppers
    lab.store.set_setting("active_prompt", "appearance")  # never run: no appearance representation
    p = preview(lab, png_bytes("green"), "Red Linen Shirt", "apparel")
    assert p.representation == rep
    assert p.description.prompt_name == "appearance"
