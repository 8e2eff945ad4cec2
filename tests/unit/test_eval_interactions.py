"""Importers on small files written by the tests: CSV, MMRec .inter, Amazon reviews (+ metadata)."""

import gzip
import json

import pytest

from core.catalog.interactions import load_interactions, read_amazon, read_csv, read_mmrec, read_upload
from core.errors import EvaluationError


def test_csv_with_iso_and_epoch_times(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("shopper_id,sku,timestamp,rating,extra\nS1, A1 ,2026-01-01T00:00:00Z,5,x\n"
                    "S1,A2,2026-01-01T00:01:00Z,,y\n")
    inter = read_csv(path)
    f = inter.frame
    assert f["sku"].tolist() == ["A1", "A2"]  # stripped
    assert f["timestamp"].diff().iloc[1] == 60.0
    assert f["timestamp"].iloc[0] == 1767225600.0  # 2026-01-01 UTC in epoch seconds
    assert f["rating"].iloc[0] == 5 and f["rating"].isna().iloc[1]
    assert not inter.has_labels
    epoch = read_csv(b"shopper_id,sku,timestamp\nS1,A1,100\nS2,A1,50.5\n")
    assert epoch.frame["timestamp"].tolist() == [100.0, 50.5]
    assert epoch.summary() == "2 interactions, 2 shoppers, 1 SKUs"


@pytest.mark.parametrize(("text", "message"), [
    ("shopper_id,sku\nS1,A1\n", "missing column(s) timestamp"),
    ("shopper_id,sku,timestamp\nS1,A1,yesterday\n", "'yesterday' at data row 1"),
    ("shopper_id,sku,timestamp\nS1,,5\n", "without a shopper_id or sku"),
])
def test_csv_errors_name_the_problem(text, message):
    with pytest.raises(EvaluationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_csv(text.encode(), "my.csv")


def test_mmrec_inter_keeps_its_split_labels(tmp_path):
    path = tmp_path / "baby.inter"
    path.write_text("userID\titemID\trating\ttimestamp\tx_label\n0\t10\t5\t1000\t0\n0\t11\t4\t1001\t1\n"
                    "0\t12\t3\t1002\t2\n")
    inter = read_mmrec(path)
    assert inter.frame["label"].tolist() == ["train", "valid", "test"]
    assert inter.frame["sku"].tolist() == ["10", "11", "12"]
    assert inter.has_labels
    no_time = read_mmrec(b"userID\titemID\tx_label\n1\t5\t0\n1\t6\t2\n")
    assert no_time.frame["timestamp"].tolist() == [0.0, 1.0]  # row order stands in for time
    with pytest.raises(EvaluationError, match="x_label '7'"):
        read_mmrec(b"userID\titemID\tx_label\n1\t5\t7\n")
    with pytest.raises(EvaluationError, match="x_label"):
        read_mmrec(b"user\titem\n1\t5\n")


def test_amazon_2023_json_lines_gzip_with_metadata(tmp_path):
    reviews = tmp_path / "reviews.jsonl.gz"
    rows = [{"user_id": "U1", "parent_asin": "P1", "asin": "X1", "timestamp": 1_600_000_000_000, "rating": 5.0},
            {"user_id": "U1", "parent_asin": "P2", "timestamp": 1_600_000_060_000, "rating": 3.0}]
    reviews.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    meta = tmp_path / "meta.jsonl"
    meta.write_text(json.dumps({"parent_asin": "P1", "title": "Red Dress", "main_category": "Fashion",
                                "categories": ["Clothing", "Women", "Dresses"]}) + "\n"
                    + json.dumps({"parent_asin": "P2", "title": "Mug", "main_category": "Home"}) + "\n")
    inter = read_amazon(reviews, meta)
    assert inter.frame["sku"].tolist() == ["P1", "P2"]  # parent_asin preferred over asin
    assert inter.frame["timestamp"].tolist() == [1_600_000_000.0, 1_600_000_060.0]  # ms -> s
    assert inter.items.set_index("sku")["category"].to_dict() == {"P1": "Dresses", "P2": "Home"}


def test_amazon_2014_python_literal_lines():
    data = (b"{'reviewerID': 'R1', 'asin': 'B1', 'unixReviewTime': 1400000000, 'overall': 4.0}\n"
            b"{'reviewerID': 'R1', 'asin': 'B2', 'unixReviewTime': 1400000100, 'overall': 2.0}\n")
    meta = b"{'asin': 'B1', 'title': 'Tote', 'categories': [['Clothing', 'Bags', 'Totes']]}\n"
    inter = read_amazon(data, meta)
    assert inter.frame["rating"].tolist() == [4.0, 2.0]
    assert inter.items.iloc[0].to_dict() == {"sku": "B1", "title": "Tote", "category": "Totes"}
    with pytest.raises(EvaluationError, match="record 1 lacks"):
        read_amazon(b'{"reviewerID": "R1", "unixReviewTime": 1}\n')
    with pytest.raises(EvaluationError, match="line 2 is not a JSON object"):
        read_amazon(b'{"reviewerID": "R1", "asin": "B", "unixReviewTime": 1}\nnot json\n')


def test_upload_dispatch_by_file_name():
    assert read_upload("x.inter", b"userID\titemID\tx_label\n1\t5\t0\n").has_labels
    assert read_upload("x.jsonl", b'{"user_id": "U", "asin": "A", "timestamp": 1000}\n').frame["sku"][0] == "A"
    assert read_upload("x.csv", b"shopper_id,sku,timestamp\nS,A,1\n").frame["shopper_id"][0] == "S"


def test_load_interactions_defaults_to_the_workspace_file(lab, tmp_path):
    with pytest.raises(EvaluationError, match="no interactions at"):
        load_interactions(lab.workspace)
    lab.workspace.interactions_csv.write_text("shopper_id,sku,timestamp\nS,A,1\n")
    assert load_interactions(lab.workspace).source.endswith("interactions.csv")
    with pytest.raises(EvaluationError, match="one interaction source"):
        load_interactions(lab.workspace, csv="a.csv", mmrec="b.inter")
    with pytest.raises(EvaluationError, match="no such file"):
        load_interactions(lab.workspace, csv=str(tmp_path / "missing.csv"))
    with pytest.raises(EvaluationError, match="--amazon-meta needs --amazon"):
        load_interactions(lab.workspace, amazon_meta="m.jsonl")


@pytest.mark.parametrize("data", [b"", b"shopper_id,sku,timestamp\n", b"\n\n", b"\xef\xbb\xbf"])
def test_an_empty_csv_says_there_are_no_interactions(data):
    with pytest.raises(EvaluationError, match=r"^no interactions in my\.csv$"):
        read_csv(data, "my.csv")


@pytest.mark.parametrize("data", [b"", b"userID\titemID\tx_label\n"])
def test_an_empty_inter_file_says_there_are_no_interactions(data):
    with pytest.raises(EvaluationError, match=r"^no interactions in baby\.inter$"):
        read_mmrec(data, "baby.inter")


def test_an_empty_amazon_file_says_there_are_no_interactions():
    with pytest.raises(EvaluationError, match=r"^no interactions in reviews\.jsonl$"):
        read_amazon(b"\n", name="reviews.jsonl")


def test_iso_dates_past_2262_convert_to_epoch_seconds():
    inter = read_csv(b"shopper_id,sku,timestamp\nS1,A1,2026-01-01T00:00:00Z\nS1,A2,2300-01-01\n"
                     b"S1,A3,1600-01-01T00:00:00Z\n")
    assert inter.frame["timestamp"].tolist() == [1767225600.0, 10413792000.0, -11676096000.0]


def test_an_iso_date_past_2262_beside_nanosecond_times_still_converts():
    inter = read_csv(b"shopper_id,sku,timestamp\nS1,A1,2026-01-01T00:00:00.123456789Z\nS1,A2,2300-01-01\n")
    assert inter.frame["timestamp"].tolist() == [pytest.approx(1767225600.123457), 10413792000.0]
