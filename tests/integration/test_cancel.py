"""Stopping a describe run (Ctrl-C in the CLI) ends it within one request and keeps every paid-for result."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.catalog.ingest import ingest
from core.lab import open_lab
from core.nets.encoders import HashEncoder
from core.testing.fake_lvlm import FakeLVLMServer
from tests.fakes import write_catalog

ROOT = Path(__file__).resolve().parents[2]
LATENCY_S = 1.0


def test_ctrl_c_stops_sending_and_keeps_every_finished_description(tmp_path):
    """Observed: Ctrl-C kept going through all requests (132 s) and saved nothing."""
    n = 12
    lab = open_lab(tmp_path / "ws", encoder=HashEncoder())
    items = [{"sku": f"S{i:02d}", "title": f"Item {i}", "category": "apparel"} for i in range(n)]
    assert ingest(lab.store, lab.images, [tmp_path / "imgs"], write_catalog(tmp_path / "imgs", items)).accepted == n
    with FakeLVLMServer(latency_s=LATENCY_S) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "core", "describe", "--workspace", str(tmp_path / "ws"),
                                 "--provider", "openai", "--model", "gpt-4o-mini", "--base-url", srv.base_url_openai,
                                 "--concurrency", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=os.environ | {"OPENAI_API_KEY": "sk-test-cancel"},
                                # as from a terminal: a runner started in the background (nohup, `cmd &`) passes
                                # SIGINT down ignored, and Python then never raises KeyboardInterrupt
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 120
        while len(srv.requests) < 3 and time.time() < deadline:
            time.sleep(0.05)
        sent_before = len(srv.requests)
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - interrupted
        sent = len(srv.requests)
    assert proc.returncode == 130, err[-2000:]
    assert "stopped" in err
    assert took < 3 * LATENCY_S + 5  # the requests in flight finish; nothing waits for the other items
    assert sent <= sent_before + 2  # at most the two requests already in flight when Ctrl-C came
    assert sent < n
    stored = lab.store.descriptions()
    assert len(stored) == sent  # every request the server answered is stored: nothing paid for is lost
    assert (stored["error"] == "").all()
