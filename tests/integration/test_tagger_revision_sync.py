"""`vitrine sync` on a workspace whose active run is an earlier tagger revision's: the real offline tagger describes
the catalogue under the current revision, for free, says so, and keeps the earlier run as it was."""

from __future__ import annotations

import pandas as pd

from core.catalog.ingest import ingest
from core.cli.main import main
from core.describe.providers.offline import EARLIER, MODEL
from core.lab import Lab, open_lab
from core.represent.recommend import default_representation
from core.runs.prompt import run_prompt
from tests.conftest import SMALL_CATALOG
from tests.fakes import FakeDescriber, write_catalog


def texts(lab: Lab, model: str) -> pd.DataFrame:
    return lab.store.descriptions(model=model)[["image_sha256", "text"]].sort_values("image_sha256", ignore_index=True)


def test_sync_describes_an_earlier_revisions_workspace_under_the_current_revision(tmp_path, capsys):
    lab = open_lab(tmp_path / "ws")
    ingest(lab.store, lab.images, [tmp_path / "imgs"], write_catalog(tmp_path / "imgs", SMALL_CATALOG))
    earlier = FakeDescriber(model=EARLIER[0])  # stands in for the earlier tagger that wrote this workspace's rows
    earlier.provider = "offline"
    lab.describer_overrides["offline"] = earlier
    run_prompt(lab, lab.active_prompt(), "offline", model=EARLIER[0])
    lab.store.set_setting("active_model", EARLIER[0])  # as promoting the earlier revision left it
    kept = texts(lab, EARLIER[0])

    assert main(["sync", "--workspace", str(tmp_path / "ws")]) == 0
    out = capsys.readouterr().out
    run = f"preference@v1/offline/{MODEL}"
    assert f"plan: {run}: {len(SMALL_CATALOG)} item(s) to describe via offline/{MODEL}: free (runs locally)" in out
    assert f"preference@v1 via offline/{MODEL}: {len(SMALL_CATALOG)} images, 0 cached, " \
           f"{len(SMALL_CATALOG)} described, 0 failed, $0.0000" in out

    lab = open_lab(tmp_path / "ws")
    current = lab.store.descriptions(model=MODEL)
    assert len(current) == len(SMALL_CATALOG) and (current["error"] == "").all()
    assert current["text"].str.len().min() > 0 and not set(current["text"]) & set(kept["text"])  # the real tagger's
    assert texts(lab, EARLIER[0]).equals(kept)  # the earlier run stays as it was, honestly named
    assert default_representation(lab) == run
