import pytest

from core.represent.coverage import list_representations
from core.represent.representations import build_title, run_name
from core.runs import describe as runs
from core.runs.describe import describe_items, select_items
from core.runs.prompt import run_prompt
from tests.fakes import FakeDescriber


def test_rerun_makes_zero_provider_calls(stocked_lab, fake_describer):
    prompt = stocked_lab.prompts.get("preference")
    first = run_prompt(stocked_lab, prompt, "fake")
    assert (first.calls, first.cached, first.failed) == (6, 0, 0)
    assert len(fake_describer.calls) == 6
    second = run_prompt(stocked_lab, prompt, "fake")
    assert (second.calls, second.cached) == (0, 6)
    assert len(fake_describer.calls) == 6
    reps = list_representations(stocked_lab).set_index("name")
    assert reps.loc[run_name(prompt, "fake", "fake-1"), "count"] == 6


def test_new_prompt_version_is_a_cache_miss(stocked_lab, fake_describer):
    run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), "fake")
    run_prompt(stocked_lab, stocked_lab.prompts.get("appearance"), "fake")
    assert len(fake_describer.calls) == 12
    assert len(stocked_lab.store.descriptions()) == 12


def test_per_item_error_is_recorded_and_run_continues(stocked_lab, fake_describer):
    fake_describer.queue.extend([RuntimeError("provider exploded")])
    prompt = stocked_lab.prompts.get("preference")
    report = run_prompt(stocked_lab, prompt, "fake", concurrency=1)
    assert (report.calls, report.failed) == (6, 1)
    assert "provider exploded" in report.errors[0][1]
    assert list_representations(stocked_lab).iloc[0]["count"] == 5
    again = run_prompt(stocked_lab, prompt, "fake")
    assert again.calls == 0  # a failure is remembered, not silently re-paid
    retried = run_prompt(stocked_lab, prompt, "fake", retry_failed=True)
    assert (retried.calls, retried.failed) == (1, 0)
    assert list_representations(stocked_lab).iloc[0]["count"] == 6


def test_cost_and_tokens_are_recorded(stocked_lab):
    report = run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), "fake", limit=2)
    assert (report.calls, report.input_tokens, report.output_tokens) == (2, 20, 40)
    assert abs(report.cost_usd - 0.002) < 1e-9
    assert set(stocked_lab.store.descriptions()["cost_usd"]) == {0.001}


def test_title_representation_reembeds_only_changes(stocked_lab):
    build_title(stocked_lab)
    table = stocked_lab.store.representation("title")["table"]
    v1 = stocked_lab.store.vector_table(table).version
    build_title(stocked_lab)
    assert stocked_lab.store.vector_table(table).version == v1  # nothing changed, nothing written


def test_missing_key_stops_the_run_and_caches_nothing(stocked_lab, fake_describer):
    import pytest

    from core.errors import ConfigError

    fake_describer.queue.extend([ConfigError("no API key for fake: set FAKE_API_KEY")] * 6)
    with pytest.raises(ConfigError, match="FAKE_API_KEY"):
        run_prompt(stocked_lab, stocked_lab.prompts.get("preference"), "fake", concurrency=1)
    assert stocked_lab.store.descriptions().empty


def test_batches_run_ahead_yet_finish_in_order_and_a_failed_batch_is_retried_item_by_item(stocked_lab,
                                                                                          monkeypatch):
    items = select_items(stocked_lab)
    order = list(dict.fromkeys(items["image_sha256"]))

    class Batched(FakeDescriber):
        def describe_many(self, images, prompt):
            if images[0].sha256 == order[2]:
                raise RuntimeError("batch exploded")
            return [self.describe(ref, prompt) for ref in images]

    monkeypatch.setattr("core.engines.local.BATCH_SIZE", 2)  # three batches, two in flight
    seen: list[str] = []
    describer = Batched()
    report = describe_items(stocked_lab, items, stocked_lab.prompts.get("preference"), describer,
                            progress=lambda done, total, sha: seen.append(sha))
    assert seen == order and (report.calls, report.failed) == (len(order), 0)
    assert sorted(sha for sha, _ in describer.calls) == sorted(order)  # the failed batch's items, once each
    assert len(stocked_lab.store.descriptions()) == len(order)


def test_a_long_run_compacts_its_descriptions_as_it_goes(stocked_lab, fake_describer, monkeypatch):
    monkeypatch.setattr(runs, "FLUSH_EVERY", 1)  # a fragment per description, as a 16x longer run would leave
    monkeypatch.setattr(runs, "COMPACT_EVERY", 3)
    monkeypatch.setattr("core.catalog.store.SMALL_FRAGMENTS_TO_COMPACT", 2)
    report = describe_items(stocked_lab, stocked_lab.store.items(), stocked_lab.prompts.get("preference"),
                            fake_describer, concurrency=1)
    fragments, _ = stocked_lab.store.fragment_counts(["descriptions"])["descriptions"]
    assert report.calls == 6
    assert fragments < 6
    assert len(stocked_lab.store.descriptions()) == 6


class _Stopped(BaseException):
    """Stands in for Streamlit's StopException/RerunException, raised through a progress callback."""


def test_a_stop_raised_through_progress_keeps_finished_work_and_sends_nothing_more(stocked_lab, fake_describer):
    """Observed: leaving the page mid-run still made every paid call and saved nothing."""

    def progress(done: int, _total: int, _label: str) -> None:
        if done == 2:
            raise _Stopped

    with pytest.raises(_Stopped):
        run_prompt(stocked_lab, stocked_lab.prompts.get("preference@v1"), "fake", concurrency=1, progress=progress)
    assert len(fake_describer.calls) == 2  # nothing was sent after the stop
    assert len(stocked_lab.store.descriptions()) == 2  # both finished descriptions were kept...
    table = stocked_lab.store.representations()["table"].iloc[0]
    assert len(stocked_lab.store.vectors(table)[0]) == 2  # ...and embedded
