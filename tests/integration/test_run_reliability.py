"""Runs through the real SDKs against the fake LVLM server: permanent failures, secrets, crashes, concurrency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.catalog.ingest import ingest
from core.lab import open_lab
from core.nets.encoders import HashEncoder
from core.runs.prompt import run_prompt
from core.testing.fake_lvlm import FakeLVLMServer
from tests.fakes import png_bytes

SENTINEL = "sk-SENTINEL-7f3a9c-never-store-me"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def srv():
    with FakeLVLMServer() as server:
        yield server


def make_workspace(root: Path, n: int):
    lab = open_lab(root, encoder=HashEncoder())
    colours = ["red", "blue", "green", "black"]
    uploads = [(f"P{i:03d}.png", png_bytes(colours[i % 4]) + str(i).encode()) for i in range(n)]
    assert ingest(lab.store, lab.images, [], uploads=uploads).accepted == n
    return lab


def test_permanent_failures_are_recorded_and_retryable(tmp_path, srv):
    lab = make_workspace(tmp_path / "ws", 6)
    srv.inject("schema_invalid")
    srv.inject("refusal")
    prompt = lab.prompts.get("preference")
    report = run_prompt(lab, prompt, "openai", model="gpt-4o-mini", base_url=srv.base_url_openai, concurrency=1)
    assert (report.calls, report.failed) == (6, 2)
    reasons = sorted(e for _, e in report.errors)
    assert "does not match the description schema" in reasons[0] or "schema" in reasons[0]
    assert any("refus" in r for r in reasons)
    stored = lab.store.descriptions()
    assert (stored["error"] != "").sum() == 2
    served = len(srv.requests)
    again = run_prompt(lab, prompt, "openai", model="gpt-4o-mini", base_url=srv.base_url_openai)
    assert again.calls == 0 and len(srv.requests) == served
    retried = run_prompt(lab, prompt, "openai", model="gpt-4o-mini", base_url=srv.base_url_openai, retry_failed=True)
    assert (retried.calls, retried.failed) == (2, 0)
    assert len(srv.requests) == served + 2
    assert (lab.store.descriptions()["error"] != "").sum() == 0


def test_api_key_never_reaches_disk_logs_or_errors(tmp_path, srv, caplog, capfd):
    lab = make_workspace(tmp_path / "ws", 4)
    srv.inject("401")
    report = run_prompt(lab, lab.prompts.get("preference"), "openai", model="gpt-4o-mini",
                        base_url=srv.base_url_openai, api_key=SENTINEL, concurrency=1)
    assert report.failed == 1 and report.calls == 4
    assert "OPENAI_API_KEY" in report.errors[0][1]
    leaks = [p for p in (tmp_path / "ws").rglob("*") if p.is_file() and SENTINEL.encode() in p.read_bytes()]
    assert leaks == []
    out, err = capfd.readouterr()
    assert SENTINEL not in caplog.text + out + err
    assert SENTINEL not in str(lab.store.descriptions().to_dict("records"))


def _describe_cmd(ws: Path, url: str, prompt: str, concurrency: int) -> list[str]:
    return [sys.executable, "-m", "core", "describe", "--workspace", str(ws), "--provider", "openai",
            "--model", "gpt-4o-mini", "--base-url", url, "--prompt", prompt, "--concurrency", str(concurrency)]


def test_sigkill_mid_run_resumes_without_recalling_finished_items(tmp_path):
    n = 48
    lab = make_workspace(tmp_path / "ws", n)
    with FakeLVLMServer(latency_s=0.15) as srv:
        proc = subprocess.Popen(_describe_cmd(tmp_path / "ws", srv.base_url_openai, "preference", 2), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while len(srv.requests) < n // 2 and time.time() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        first = len(srv.requests)
        assert first < n, "the run finished before it could be killed"
        done = len(lab.store.descriptions())
        assert 0 < done <= first
        subprocess.run(_describe_cmd(tmp_path / "ws", srv.base_url_openai, "preference", 4), cwd=ROOT, check=True,
                       capture_output=True, timeout=300)
        assert len(srv.requests) - first == n - done  # only unfinished items were called again
    assert len(lab.store.descriptions()) == n


def test_two_processes_writing_one_workspace_lose_nothing(tmp_path):
    n = 24
    lab = make_workspace(tmp_path / "ws", n)
    with FakeLVLMServer(latency_s=0.02) as srv:
        procs = [subprocess.Popen(_describe_cmd(tmp_path / "ws", srv.base_url_openai, p, 4), cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for p in ("preference", "appearance")]
        outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outputs]
    stored = lab.store.descriptions()
    assert stored.groupby("prompt_name").size().to_dict() == {"appearance": n, "preference": n}
    reps = lab.store.representations()
    assert len(reps) == 2
    for table in reps["table"]:
        assert len(lab.store.vectors(table)[0]) == n


def test_readers_only_ever_see_whole_committed_batches(tmp_path):
    import threading

    from core.runs.describe import FLUSH_EVERY
    from tests.fakes import FakeDescriber

    n = 3 * FLUSH_EVERY
    lab = make_workspace(tmp_path / "ws", n)
    lab.describer_overrides["fake"] = FakeDescriber()
    reader = open_lab(tmp_path / "ws", encoder=HashEncoder())  # a second connection, as another process has
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(len(reader.store.descriptions()))

    thread = threading.Thread(target=read)
    thread.start()
    run_prompt(lab, lab.prompts.get("preference"), "fake", concurrency=1)
    done.set()
    thread.join()
    seen.add(len(reader.store.descriptions()))
    assert seen <= {0, FLUSH_EVERY, 2 * FLUSH_EVERY, n}  # never a half-written batch
    assert n in seen
