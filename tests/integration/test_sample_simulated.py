"""The sample workspace, as `vitrine sample` builds it, ships the metadata baseline and one simulated run, the
latter named for what it is."""

import json
import subprocess
import sys


def vitrine(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_the_sample_ships_metadata_and_a_labelled_simulated_run(sample_workspace):
    reps = {r["name"]: r for r in json.loads(vitrine("representations", "--workspace", str(sample_workspace),
                                                     "--json"))}
    simulated = reps["preference@v1/simulated/simulated-p0.75"]
    assert (simulated["kind"], simulated["count"], simulated["stale"]) == ("description", 200, 0)
    assert (reps["metadata"]["kind"], reps["metadata"]["count"], reps["metadata"]["stale"]) == ("metadata", 200, 0)
    shown = json.loads(vitrine("show", "APP-0001", "--workspace", str(sample_workspace), "--json"))
    text = next(r for r in shown["representations"] if r["name"] == "preference@v1/simulated/simulated-p0.75")
    assert text["state"] == "fresh" and "shirt" in text["description"]["text"]
