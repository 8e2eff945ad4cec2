"""`vitrine app`'s launch line in a subprocess on a free loopback port, as browser tests and the P6 bench serve it."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from core.cli.app import serve_environment, streamlit_command
from core.config import PROJECT_DIR

KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL")  # served without a real LVLM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(workspace: Path, *, timeout: float = 120) -> tuple[subprocess.Popen, str]:
    """Serve the app on a workspace and return (process, url) once its health check answers.

    Served as deployed: headless, offline, without LVLM keys, and without watching the checkout for edits (a
    development feature whose inotify queue overflows and re-walks the tree while other jobs write files).
    """
    port = free_port()
    env = serve_environment(workspace, {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES})
    log = tempfile.NamedTemporaryFile(prefix="vitrine-streamlit-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(streamlit_command(port=port), cwd=PROJECT_DIR, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"streamlit did not start; its output:\n{Path(log.name).read_text()[-3000:]}")
