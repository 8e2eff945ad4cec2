"""`vitrine app`: serve the Streamlit skin with the deployed settings passed explicitly, from any directory."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from core.config import PROJECT_DIR

APP_SCRIPT = PROJECT_DIR / "app.py"
DEFAULT_PORT = 8501
# What .streamlit/config.toml holds, passed on the command line so the cwd's config (or none) changes nothing.
SERVER_OPTIONS: dict[str, str] = {
    "server.headless": "true",
    "server.maxUploadSize": "200",
    "server.enableXsrfProtection": "true",
    "server.fileWatcherType": "none",  # a watcher on the checkout overflows inotify and re-walks the tree
    "server.runOnSave": "false",
    "browser.gatherUsageStats": "false",
    "client.toolbarMode": "minimal",
    "runner.postScriptGC": "false",  # a full gc after each run holds the GIL just as thumbnails load
}


def streamlit_command(*, port: int = DEFAULT_PORT, address: str = "127.0.0.1") -> list[str]:
    """The one launch line: used by `vitrine app`, `make run`, the browser tests and the P6 bench."""
    options = SERVER_OPTIONS | {"server.port": str(port), "server.address": address}
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT),
            *(arg for key, value in options.items() for arg in (f"--{key}", value))]


def serve_environment(workspace: str | os.PathLike[str] | None, base: dict[str, str]) -> dict[str, str]:
    """The app process's environment: the chosen workspace (absolute, since the app runs from the checkout)."""
    env = dict(base)
    if workspace is not None:
        env["VITRINE_WORKSPACE"] = str(Path(workspace).expanduser().resolve())
    return env


def cmd_app(_lab: None, args: argparse.Namespace) -> int:
    """Run the app in the foreground until Ctrl-C; the exit code is Streamlit's."""
    command = streamlit_command(port=args.port)
    try:
        return subprocess.call(command, cwd=PROJECT_DIR, env=serve_environment(args.workspace, dict(os.environ)))
    except KeyboardInterrupt:
        return 0


def add_app_command(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("app", help="start the Streamlit app on 127.0.0.1 (Ctrl-C stops it)")
    p.add_argument("--workspace", help="workspace folder (default: $VITRINE_WORKSPACE or ./workspace)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.set_defaults(fn=cmd_app, needs_lab=False)
