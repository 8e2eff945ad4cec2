"""The offline tagger's revision is part of a description's identity: an earlier revision's name still opens, and
the workspace's default run is the current revision's, not the earlier one it kept."""

from __future__ import annotations

import pytest

from core.describe.providers.offline import EARLIER, MODEL, OfflineDescriber
from core.errors import ConfigError
from core.lab import Lab, open_lab
from core.nets.encoders import HashEncoder
from core.represent.recommend import default_representation
from core.runs.prompt import run_prompt
from tests.fakes import FakeDescriber


def test_an_earlier_revisions_name_describes_as_the_current_revision() -> None:
    assert MODEL not in EARLIER
    assert OfflineDescriber(model=EARLIER[0]).model == MODEL
    with pytest.raises(ConfigError, match="only runs"):
        OfflineDescriber(model="efficientnet-lite0-tagger-r0")


def described_by(lab: Lab, *models: str) -> Lab:
    """The catalogue described under each tagger revision named (a stand-in writes the rows), then the workspace
    reopened with the real offline provider."""
    for model in models:
        stand_in = FakeDescriber(model=model)
        stand_in.provider = "offline"
        lab.describer_overrides["offline"] = stand_in
        run_prompt(lab, lab.active_prompt(), "offline", model=model)
    return open_lab(lab.workspace, encoder=HashEncoder())


@pytest.mark.parametrize("active_model", ["", EARLIER[0], MODEL])
def test_the_default_run_is_the_current_revisions(stocked_lab: Lab, active_model: str) -> None:
    lab = described_by(stocked_lab, EARLIER[0], MODEL)
    lab.store.set_setting("active_model", active_model)
    names = set(lab.store.representations()["name"])
    assert {f"preference@v1/offline/{EARLIER[0]}", f"preference@v1/offline/{MODEL}"} <= names
    assert default_representation(lab) == f"preference@v1/offline/{MODEL}"


def test_without_a_current_run_the_earlier_revisions_run_is_still_the_default(stocked_lab: Lab) -> None:
    lab = described_by(stocked_lab, EARLIER[0])
    assert default_representation(lab) == f"preference@v1/offline/{EARLIER[0]}"


def test_home_names_the_revision_that_will_describe(lab: Lab) -> None:
    from core.services.summary import workspace_summary

    lab.store.set_setting("active_provider", "offline")
    lab.store.set_setting("active_model", EARLIER[0])  # promoted before the revision: Home used to show this
    assert workspace_summary(lab).active_provider == f"offline/{MODEL}"


def test_a_provider_not_installed_here_still_has_a_default_run(described_lab) -> None:
    # a workspace promoted where a provider exists, opened where it does not (the served app has no `fake`):
    # ranking, maps and evaluation need no describer, only the stored run
    lab = described_lab.lab
    lab.describer_overrides.pop("fake")
    with pytest.raises(ConfigError):
        lab.describer("fake")
    assert default_representation(lab) == described_lab.representation
