"""describe --batch end to end with the real openai/anthropic SDKs against the fake server's batch endpoints."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.describe.identity import item_key
from core.describe.pricing import cost_usd
from core.lab import Lab
from core.runs import batch
from core.runs.prompt import run_batch
from core.testing import fake_lvlm
from core.testing.fake_lvlm import FakeLVLMServer

PROVIDERS = ["openai", "anthropic"]
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}


@pytest.fixture
def srv() -> Iterator[FakeLVLMServer]:
    with FakeLVLMServer() as server:
        yield server


def run(lab: Lab, srv: FakeLVLMServer, provider: str, **options: object) -> batch.BatchReport:
    base_url = srv.base_url_openai if provider == "openai" else srv.base_url_anthropic
    options = {"poll_interval": 0.02, "sleep": lambda s: time.sleep(s), **options}
    return run_batch(lab, lab.prompts.get("preference"), provider, model=MODELS[provider], base_url=base_url,
                           api_key="sk-test", **options)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_batch_run_describes_the_catalogue_at_the_batch_price(stocked_lab: Lab, srv: FakeLVLMServer,
                                                                provider: str) -> None:
    report = run(stocked_lab, srv, provider)
    assert (report.items, report.new_requests, report.shards_written, report.submitted) == (6, 6, 1, 1)
    assert (report.ingested, report.failed, report.pending) == (6, 0, 0)
    descs = stocked_lab.store.descriptions(provider=provider, model=MODELS[provider])
    assert len(descs) == 6 and (descs["error"] == "").all() and descs["text"].str.contains("Fake LVLM").all()
    expected = sum(cost_usd(provider, MODELS[provider], r.input_tokens, r.output_tokens, batch=True)
                   for r in descs.itertuples())
    assert report.cost_usd == pytest.approx(expected) and expected > 0
    assert report.representation and len(stocked_lab.store.vectors(
        stocked_lab.store.representation(report.representation)["table"])[0]) == 6
    [job] = batch.jobs(stocked_lab).to_dict("records")
    assert job["status"] == "ingested" and job["batch_id"] in srv.batches.created
    sent = [json.loads(line)["custom_id"] for line in batch.shard_path(stocked_lab, job).read_text().splitlines()]
    items = stocked_lab.store.items()
    prompt = stocked_lab.prompts.get("preference")
    assert sorted(sent) == sorted(item_key(item, prompt, provider, MODELS[provider])
                                  for item in items.to_dict("records"))
    assert set(sent) == set(descs["key"])  # each description is stored under the key its request was sent with
    assert not [r for r in srv.requests if r.path.endswith(("/chat/completions", "/messages"))]  # no sync calls


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rerun_sends_nothing(stocked_lab: Lab, srv: FakeLVLMServer, provider: str) -> None:
    run(stocked_lab, srv, provider)
    again = run(stocked_lab, srv, provider)
    assert (again.cached, again.new_requests, again.submitted, again.ingested) == (6, 0, 0, 0)
    assert len(srv.batches.created) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_interrupted_run_resumes_without_resubmitting(stocked_lab: Lab, provider: str) -> None:
    with FakeLVLMServer(batch_delay_s=0.4) as slow:
        first = run(stocked_lab, slow, provider, wait=False)  # submit and leave, as after a crash or Ctrl-C
        assert (first.submitted, first.pending, first.ingested) == (1, 1, 0)
        assert batch.jobs(stocked_lab)["status"].tolist() == ["submitted"]
        second = run(stocked_lab, slow, provider)
        assert (second.in_flight, second.new_requests, second.submitted, second.ingested) == (6, 0, 0, 6)
        assert len(slow.batches.created) == 1


def test_shards_stay_within_the_limits(stocked_lab: Lab, srv: FakeLVLMServer) -> None:
    limits = batch.BatchLimits(max_requests=4, max_bytes=10**8, results_ttl=timedelta(days=30))
    report = run(stocked_lab, srv, "openai", limits=limits)
    assert (report.shards_written, report.submitted, report.ingested) == (2, 2, 6)
    assert sorted(batch.jobs(stocked_lab)["requests"]) == [2, 4] and len(srv.batches.created) == 2


def test_a_batch_the_provider_rejects_is_reported(stocked_lab: Lab, srv: FakeLVLMServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_lvlm, "OPENAI_BATCH_LIMITS", (4, 200 * 1024**2))  # a stricter server than the client
    report = run(stocked_lab, srv, "openai")
    assert report.ingested == 0 and any("at most 4" in w for w in report.warnings)
    assert batch.jobs(stocked_lab)["status"].tolist() == ["failed"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_failed_lines_are_recorded_and_retried(stocked_lab: Lab, srv: FakeLVLMServer, provider: str) -> None:
    srv.inject("500")
    srv.inject("schema_invalid")
    report = run(stocked_lab, srv, provider)
    assert (report.ingested, report.failed) == (4, 2)
    errors = stocked_lab.store.descriptions(provider=provider)["error"]
    assert errors.str.contains("HTTP 500|errored").sum() == 1 and errors.str.contains("schema").sum() == 1
    assert run(stocked_lab, srv, provider).new_requests == 0  # failures are cached like any result...
    retry = run(stocked_lab, srv, provider, retry_failed=True)  # ...until asked to retry them
    assert (retry.new_requests, retry.ingested, retry.failed) == (2, 2, 0)


def test_anthropic_results_near_expiry_warn_and_expired_ones_are_sent_again(stocked_lab: Lab) -> None:
    with FakeLVLMServer(batch_delay_s=0.3) as slow:
        run(stocked_lab, slow, "anthropic", wait=False)
        later = datetime.now(UTC) + timedelta(days=27)
        warned = run(stocked_lab, slow, "anthropic", wait=False, now=lambda: later)
        time.sleep(0.5)
        assert any("will be deleted" in w and "day(s) left" in w for w in warned.warnings)
        gone = datetime.now(UTC) + timedelta(days=30)
        expired = run(stocked_lab, slow, "anthropic", wait=False, now=lambda: gone)
        assert expired.ingested == 0 and batch.jobs(stocked_lab)["status"].tolist() == ["expired"]
        resent = run(stocked_lab, slow, "anthropic")
        assert (resent.new_requests, resent.ingested) == (6, 6) and len(slow.batches.created) == 2


def test_the_cli_entry_prints_the_estimate_before_running(stocked_lab: Lab, srv: FakeLVLMServer,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli.batch import run_batch_describe

    report = run_batch_describe(stocked_lab, stocked_lab.prompts.get("preference"), "openai", "gpt-4o-mini",
                                srv.base_url_openai, "sk-test", poll_interval=0.02)
    out = capsys.readouterr().out
    assert out.index("estimated cost per 1,000 SKUs") < out.index("describe:")
    assert "sync $" in out and "batch $" in out and f"representation: {report.representation}" in out
    assert report.ingested == 6
