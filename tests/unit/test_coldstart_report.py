import io

import pandas as pd
import pytest

from core.services.coldstart import preview
from core.services.coldstart_report import placement, report_csv, report_frame, report_markdown
from tests.fakes import png_bytes

INTERACTIONS = """shopper_id,sku,timestamp
S1,A1,2026-01-01T10:00:00Z
S1,A2,2026-01-02T10:00:00Z
S2,B1,2026-01-01T10:00:00Z
S3,H1,2026-02-01T10:00:00Z
"""
HOSTILE = "=HYPERLINK(\"http://x\") ![x](http://127.0.0.1:9/leak) | shirt"


@pytest.fixture
def previewed(described_lab):
    lab = described_lab.lab
    lab.workspace.interactions_csv.write_text(INTERACTIONS)
    return preview(lab, png_bytes("green", shape="circle"), "Red Linen Shirt", "apparel", k=4)


def test_the_report_carries_every_figure_the_preview_computed(previewed):
    p = previewed
    frame = report_frame(p)
    neighbours = frame[frame["section"] == "neighbour"]
    assert neighbours["id"].tolist() == [r.sku for r in p.neighbours] and neighbours["rank"].tolist() == [1, 2, 3, 4]
    assert neighbours["cosine"].tolist() == pytest.approx([r.score for r in p.neighbours])
    near = frame.loc[frame["section"] == "near-duplicate", "id"].tolist()
    assert near == [r.sku for r in p.near_duplicates] == ["A1"]
    reached = frame[frame["section"] == "reached shopper"]
    assert reached["id"].tolist() == [r.shopper_id for r in p.reached] and len(reached) == len(p.reached) > 0
    summary = dict(zip(frame.loc[frame["section"] == "summary", "id"], frame.loc[frame["section"] == "summary", "note"],
                       strict=True))
    assert summary["audience reach"] == f"{len(p.reached)} of 3 sample shoppers (top 10)"
    assert summary["compared items"] == "6 of 6" and summary["representation"] == p.representation

    text = report_markdown(p)
    assert "## Cannibalisation risk" in text and "1 catalogue item(s) at cosine ≥ 0.90" in text
    assert f"| 1 | A1 | Red Linen Shirt | apparel | {p.neighbours[0].score:.3f} |" in text
    assert f"{len(p.reached)} of 3 sample shoppers" in text
    assert "**Audience reach**: sample shoppers whose profile (mean of their history's vectors)" in text


def test_placement_is_the_neighbours_category_mix_and_the_map_position(previewed):
    place = placement(previewed)
    cats = [r.category for r in previewed.neighbours]
    assert dict(place.categories) == {c: cats.count(c) for c in set(cats)}
    assert place.neighbours == 4 and place.declared == "apparel"
    assert place.declared_share == cats.count("apparel") / 4
    assert (place.x, place.y) == (float(previewed.position[0]), float(previewed.position[1]))


def test_without_shoppers_reach_says_not_measured(described_lab):
    p = preview(described_lab.lab, png_bytes("green"), "Scarf", "accessories", k=3)
    assert "Not measured: the workspace has no interactions.csv" in report_markdown(p)
    assert "not measured: no interactions.csv" in report_frame(p)["note"].tolist()


def test_hostile_catalogue_text_is_literal_in_markdown_and_inert_in_csv(described_lab):
    lab = described_lab.lab
    p = preview(lab, png_bytes("green"), HOSTILE, "apparel", k=3)
    text = report_markdown(p)
    assert "![x](" not in text and "](http" not in text  # no image or link a viewer would fetch
    assert r"\=HYPERLINK\(" in text and r"\| shirt" in text  # the title stays one table-safe literal
    frame = pd.read_csv(io.BytesIO(report_csv(p)), encoding="utf-8-sig", keep_default_na=False)
    title = frame.loc[(frame["section"] == "summary") & (frame["id"] == "title"), "note"].item()
    assert title == "'" + HOSTILE
