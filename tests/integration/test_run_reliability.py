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
    srv.inject("schema_invalid")  # the re-ask's reply too: the model gets one chance to correct itself
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


def test_sigkill_between_the_items_commit_and_the_title_embedding_is_repaired_by_doctor(tmp_path):
    from core.represent.coverage import coverage

    n = 40
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(n):
        (folder / f"K{i:03d}.png").write_bytes(png_bytes(["red", "blue", "green", "black"][i % 4]) + bytes([i]))
    ws = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-m", "core", "ingest", str(folder), "--workspace", str(ws)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    reader = None
    while time.time() < deadline:
        if reader is None and (ws / "db").exists():
            reader = open_lab(ws, encoder=HashEncoder())
        if reader is not None and reader.store.item_count() == n:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # items are committed; the title embedding (MiniLM) has not been written
    proc.wait()
    assert reader is not None and reader.store.item_count() == n
    reps = set(reader.store.representations()["name"])
    assert "title" not in reps or coverage(reader, "title").missing, "the ingest finished before it was killed"
    doctor = subprocess.run([sys.executable, "-m", "core", "doctor", "--workspace", str(ws)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert doctor.returncode == 0, doctor.stderr[-2000:]
    assert "title: embedded" in doctor.stdout and "missing vector(s)" in doctor.stdout
    assert coverage(reader, "title").complete and coverage(reader, "visual").complete
    again = subprocess.run([sys.executable, "-m", "core", "doctor", "--workspace", str(ws)], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert "every representation has a fresh vector" in again.stdout


KILLED_EDIT = """
import os, signal, sys
from core.lab import open_lab
from core.nets.encoders import HashEncoder
from core.services import qa

lab = open_lab(sys.argv[1], encoder=HashEncoder())
lab.store.put_rows = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # die between the two writes
qa.edit(lab, sys.argv[2], sys.argv[3])
"""


def test_sigkill_in_the_middle_of_a_qa_edit_leaves_a_stale_vector_that_doctor_and_a_resave_repair(tmp_path):
    from core.represent.coverage import coverage
    from core.services import qa
    from core.services.doctor import repair
    from tests.fakes import FakeDescriber

    lab = make_workspace(tmp_path / "ws", 4)
    lab.describer_overrides["fake"] = FakeDescriber()
    rep = run_prompt(lab, lab.prompts.get("preference"), "fake").representation
    row = qa.qa_table(lab).iloc[0]
    text = "A reviewer's revision that was saved just before the process was killed."
    proc = subprocess.run([sys.executable, "-c", KILLED_EDIT, str(tmp_path / "ws"), row["key"], text], cwd=ROOT,
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert qa.qa_table(lab).iloc[0]["text"] == text  # the human's text survived the kill
    assert coverage(lab, rep).stale == (row["sku"],)  # ...its vector did not
    assert qa.edit(lab, row["key"], text) == 1  # saving it again re-embeds instead of "nothing changed"
    assert coverage(lab, rep).complete
    lab.store.delete_rows(lab.store.representation(rep)["table"], f"sku = '{row['sku']}'")  # a vector gone too
    assert f"{rep}: embedded 1 missing vector(s)" in repair(lab).lines()
    assert coverage(lab, rep).complete
