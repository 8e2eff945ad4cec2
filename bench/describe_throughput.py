"""P2: describing throughput against the fake LVLM server (300 ms latency) at several concurrencies,
plus the cache (a re-run makes 0 calls) and crash-resume (kill -9 mid-run) checks.

Usage: python bench/describe_throughput.py [--write] [--latency 0.3] [--levels 1,8,32,64] [--waves 20]

The server runs in its own process (python -m core.testing.fake_lvlm) so its threads do not share our GIL; the
client is the real path: core.runs.describe.describe_items with the OpenAI describer over HTTP.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from common import ROOT, table, write_section
from PIL import Image

from core.catalog.ingest import ingest
from core.lab import Lab, open_lab
from core.nets.encoders import HashEncoder
from core.runs.describe import describe_items

SECTION = "perf-P2"
PROMPT = "preference"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The fake server in a subprocess; stats() reads its request counters over HTTP."""

    def __init__(self, latency: float) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "core.testing.fake_lvlm", "--port", str(self.port),
                                      "--latency", str(latency)], cwd=ROOT, stdout=subprocess.DEVNULL)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the fake LVLM server did not start")

    def stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_fake/stats", timeout=5) as response:
            return json.loads(response.read())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def stock(root: Path, n: int) -> Lab:
    """n distinct small product images, ingested the normal way."""
    folder = root / "images"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    lines = ["sku,title,category,image"]
    for i in range(n):
        img = Image.new("RGB", (64, 64), tuple(int(c) for c in rng.integers(0, 255, 3)))
        img.putpixel((i % 64, i // 64 % 64), (i % 256, 7, 7))  # every file distinct
        buf = io.BytesIO()
        img.save(buf, "PNG")
        (folder / f"P{i:05d}.png").write_bytes(buf.getvalue())
        lines.append(f"P{i:05d},Product {i},apparel,P{i:05d}.png")
    lab = open_lab(root / "ws", encoder=HashEncoder())
    report = ingest(lab.store, lab.images, [folder], ("\n".join(lines) + "\n").encode())
    assert report.accepted == n, report.summary()
    return lab


def throughput(lab: Lab, server: Server, levels: list[int], waves: int, latency: float) -> tuple[list[dict], dict]:
    items = lab.store.items()
    prompt = lab.prompts.get(PROMPT)
    rows = []
    for c in levels:
        describer = lab.describer("openai", model=f"bench-c{c}", base_url=server.base_url, api_key="sk-bench")
        subset = items.head(c * waves)
        report = describe_items(lab, subset, prompt, describer, concurrency=c)
        rate = report.calls / report.elapsed_s
        ideal = c / latency
        rows.append({"concurrency": c, "items": report.calls, "failed": report.failed,
                     "elapsed": f"{report.elapsed_s:.2f} s", "items/s": f"{rate:.1f}", "ideal (c / latency)":
                     f"{ideal:.1f}", "of ideal": f"{100 * rate / ideal:.0f}%"})
        print(rows[-1], flush=True)
    c = 32 if 32 in levels else levels[-1]
    before = server.stats()["requests"]
    describer = lab.describer("openai", model=f"bench-c{c}", base_url=server.base_url, api_key="sk-bench")
    again = describe_items(lab, items.head(c * waves), prompt, describer, concurrency=c)
    rerun = {"items": len(items.head(c * waves)), "calls": again.calls, "cached": again.cached,
             "server requests": server.stats()["requests"] - before, "elapsed": f"{again.elapsed_s:.2f} s"}
    return rows, rerun


def crash_resume(lab: Lab, server: Server, n: int) -> dict:
    """Run the CLI, SIGKILL it halfway, re-run it; count what the server answered each time."""
    cmd = [sys.executable, "-m", "core", "describe", "--workspace", str(lab.workspace.root), "--prompt", PROMPT,
           "--provider", "openai", "--model", "bench-kill", "--base-url", server.base_url, "--api-key", "sk-bench",
           "--concurrency", "8", "--limit", str(n)]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    start = len(server.stats()["answered_images"])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while len(server.stats()["answered_images"]) - start < n // 2 and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)  # let requests already in flight at the server finish
    answered_first = server.stats()["answered_images"][start:]
    prompt = lab.prompts.get(PROMPT)
    stored = lab.store.descriptions(prompt_hash=prompt.hash, provider="openai", model="bench-kill")
    persisted = set(stored["image_sha256"])
    mid = len(server.stats()["answered_images"])
    second = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    answered_second = server.stats()["answered_images"][mid:]
    final = lab.store.descriptions(prompt_hash=prompt.hash, provider="openai", model="bench-kill")
    recalled_persisted = persisted & set(answered_second)
    return {"items": n, "answered before the kill": len(answered_first), "persisted before the kill": len(persisted),
            "answered but lost (in flight or unflushed)": len(set(answered_first) - persisted),
            "calls on resume": len(answered_second), "persisted items called again": len(recalled_persisted),
            "described after resume": int((final["error"] == "").sum()), "resume exit code": second.returncode}


def report(rows: list[dict], rerun: dict, crash: dict, latency: float) -> str:
    at32 = next((r for r in rows if r["concurrency"] == 32), None)
    verdicts = []
    if at32:
        pct = int(at32["of ideal"].rstrip("%"))
        verdicts.append(f"- >= 90% of ideal at concurrency 32: **{'met' if pct >= 90 else 'missed'}** ({pct}%).")
    zero = rerun["calls"] == 0 == rerun["server requests"]
    verdicts.append(f"- A re-run makes 0 calls: **{'met' if zero else 'missed'}**"
                    f" ({rerun['calls']} calls, {rerun['server requests']} server requests, {rerun['elapsed']}).")
    ok = crash["persisted items called again"] == 0 and crash["described after resume"] == crash["items"]
    verdicts.append(f"- kill -9 resumes without re-calling finished items: **{'met' if ok else 'missed'}** "
                    f"({crash['persisted items called again']} persisted items called again; "
                    f"{crash['calls on resume']} calls on resume for "
                    f"{crash['items'] - crash['persisted before the kill']} unpersisted items).")
    return f"""`core.runs.describe.describe_items` with the OpenAI describer (real SDK, HTTP keep-alive) against the fake LVLM
server in its own process, every answer delayed {latency * 1000:.0f} ms. Ideal throughput is concurrency / latency.
Each level describes concurrency x waves distinct images under its own model name (so nothing is cached).

{table(rows, ["concurrency", "items", "failed", "elapsed", "items/s", "ideal (c / latency)", "of ideal"])}

Re-run of the concurrency-32 set: {rerun['calls']} provider calls, {rerun['cached']} cached, {rerun['server requests']}
requests reached the server, {rerun['elapsed']}.

Crash and resume (`vitrine describe --provider openai --base-url ... --concurrency 8 --limit {crash['items']}`
in a subprocess, SIGKILL once half the items were answered, then the same command again):

{table([crash], list(crash))}

Results are flushed every 16 (core/runs.py FLUSH_EVERY), so a kill loses at most the unflushed results plus
the requests in flight; those, and only those, are called again.

{chr(10).join(verdicts)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--levels", default="1,8,32,64")
    parser.add_argument("--waves", type=int, default=20, help="rounds of `concurrency` requests per level")
    parser.add_argument("--crash-items", type=int, default=400)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    server = Server(args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="vitrine-p2-") as tmp:
            lab = stock(Path(tmp), max(max(levels) * args.waves, args.crash_items))
            rows, rerun = throughput(lab, server, levels, args.waves, args.latency)
            crash = crash_resume(lab, server, args.crash_items)
    finally:
        server.close()
    text = report(rows, rerun, crash, args.latency)
    print(text)
    if args.write:
        write_section(SECTION, "P2 - describing throughput (fake LVLM, 300 ms latency)", text,
                      "python bench/describe_throughput.py --write")


if __name__ == "__main__":
    main()
