"""`vitrine app`: serve the Streamlit skin with the deployed settings passed explicitly, from any directory."""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

from core.config import PROJECT_DIR
from core.errors import VitrineError

APP_SCRIPT = PROJECT_DIR / "app.py"
DEFAULT_PORT = 8501
LOOPBACK = "127.0.0.1"
# Where Streamlit looks for secrets when none are named (its own defaults, the app running from the checkout).
DEFAULT_SECRETS = (Path.home() / ".streamlit" / "secrets.toml", PROJECT_DIR / ".streamlit" / "secrets.toml")
AUTH_KEYS = ("redirect_uri", "cookie_secret")  # st.login refuses an [auth] section without these
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


def streamlit_command(*, port: int = DEFAULT_PORT, address: str = LOOPBACK,
                      secrets: Iterable[Path] = ()) -> list[str]:
    """The one launch line: used by `vitrine app`, `make run`, the browser tests and the P6 bench."""
    options = SERVER_OPTIONS | {"server.port": str(port), "server.address": address}
    named = [arg for path in secrets for arg in ("--secrets.files", str(Path(path).expanduser().resolve()))]
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT),
            *(arg for key, value in options.items() for arg in (f"--{key}", value)), *named]


def auth_configured(secrets: Iterable[Path]) -> bool:
    """Whether the secrets Streamlit will read hold a usable [auth] section (st.login then signs people in)."""
    for path in secrets:
        try:
            auth = tomllib.loads(Path(path).expanduser().read_text()).get("auth")
        except FileNotFoundError:
            continue
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise VitrineError(f"cannot read {path}: {exc}") from exc
        if isinstance(auth, dict) and all(auth.get(k) for k in AUTH_KEYS):
            return True
    return False


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: it may resolve to anything, so it counts as exposed
        return False


def check_exposure(address: str, secrets: Iterable[Path], insecure_no_auth: bool) -> None:
    """Refuse to serve the catalogue beyond this machine to anyone who can reach the port, unless told so."""
    if is_loopback(address) or insecure_no_auth or auth_configured(secrets):
        return
    raise VitrineError(
        f"refusing to serve on {address}: no sign-in is configured, so anyone who can reach this port could see the "
        "catalogue and change, describe (at your provider's cost) or delete it. Add an [auth] section to "
        ".streamlit/secrets.toml (README: \"Sharing Vitrine with your team\"), or put an authenticating proxy in front "
        "and keep 127.0.0.1, or pass --insecure-no-auth if this network is trusted")


def serve_environment(workspace: str | os.PathLike[str] | None, base: dict[str, str]) -> dict[str, str]:
    """The app process's environment: the chosen workspace (absolute, since the app runs from the checkout)."""
    env = dict(base)
    if workspace is not None:
        env["VITRINE_WORKSPACE"] = str(Path(workspace).expanduser().resolve())
    return env


def cmd_app(_lab: None, args: argparse.Namespace) -> int:
    """Run the app in the foreground until Ctrl-C; the exit code is Streamlit's."""
    named = [Path(args.secrets)] if args.secrets else []
    if named and not named[0].expanduser().is_file():
        raise VitrineError(f"--secrets {args.secrets}: no such file")
    check_exposure(args.address, named or DEFAULT_SECRETS, args.insecure_no_auth)
    command = streamlit_command(port=args.port, address=args.address, secrets=named)

    try:
        return subprocess.call(command, cwd=PROJECT_DIR, env=serve_environment(args.workspace, dict(os.environ)))
    except KeyboardInterrupt:
        return 0


def add_app_command(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("app", help="start the Streamlit app on 127.0.0.1 (Ctrl-C stops it)")
    p.add_argument("--workspace", help="workspace folder (default: $VITRINE_WORKSPACE or ./workspace)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--address", default=LOOPBACK,
                   help="address to bind; anything but loopback needs sign-in configured ([auth] in secrets.toml)")
    p.add_argument("--secrets", metavar="FILE", help="the secrets.toml to read (default: ~/.streamlit/secrets.toml "
                   "and .streamlit/secrets.toml in the checkout)")
    p.add_argument("--insecure-no-auth", action="store_true",
                   help="serve a non-loopback address without sign-in (only on a network you trust)")
    p.set_defaults(fn=cmd_app, needs_lab=False)
