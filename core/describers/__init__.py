"""Describer providers: offline tagger (default), OpenAI-compatible, Anthropic."""

from core.describers.base import Describer, get_describer, provider_label, provider_names, register

__all__ = ["Describer", "get_describer", "provider_label", "provider_names", "register"]
