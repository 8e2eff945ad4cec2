"""Where the offline jobs run: `local` (this process) or `ray` (Ray Data pipelines over the Lance tables)."""

from __future__ import annotations

from core.engines.base import Engine
from core.engines.local import LOCAL
from core.errors import ConfigError

ENGINES = ("local", "ray")


def get_engine(name: str) -> Engine:
    """The engine by name; `ray` needs the optional extra, so it is imported only when asked for."""
    if name == "local":
        return LOCAL
    if name != "ray":
        raise ConfigError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    try:
        from core.engines.ray_engine import RayEngine
    except ImportError as exc:
        raise ConfigError(f"the ray engine needs the optional extra: pip install 'vitrine[ray]' ({exc})") from exc
    return RayEngine()
