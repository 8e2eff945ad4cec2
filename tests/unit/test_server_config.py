import tomllib
from pathlib import Path

from core.cli.app import SERVER_OPTIONS, streamlit_command

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_app_binds_to_loopback_with_an_upload_limit():
    server = tomllib.loads(CONFIG.read_text())["server"]
    assert server["address"] == "127.0.0.1"
    assert 0 < server["maxUploadSize"] <= 200
    assert server["enableXsrfProtection"] is True


def test_vitrine_app_passes_every_setting_of_the_checkout_config():
    """`vitrine app` from any directory behaves like `streamlit run` in the checkout: same settings, explicit."""
    config = tomllib.loads(CONFIG.read_text())
    flat = {f"{section}.{key}": str(value).lower() if isinstance(value, bool) else str(value)
            for section, values in config.items() for key, value in values.items()}
    assert {k: v for k, v in flat.items() if k != "server.address"} == SERVER_OPTIONS
    command = streamlit_command(port=8765)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8765"
    assert command[command.index("--server.fileWatcherType") + 1] == "none"
