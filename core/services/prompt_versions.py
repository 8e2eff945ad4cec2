"""Saving a prompt version is a change to the workspace like any other: an editor's act, attributed in the audit log."""

from __future__ import annotations

from core.access import audit
from core.access.audit import Action
from core.access.roles import require
from core.describe.prompts import PromptVersion
from core.lab import Lab


def save_prompt(lab: Lab, name: str, template: str, *, variables: list[str], facets: list[str], max_words: int,
                summary: str = "") -> PromptVersion:
    """The Prompt Lab's and `vitrine prompt save`'s one way to write a new version (the library never overwrites)."""
    require(lab.store, Action.PROMPT)
    saved = lab.prompts.save(name, template, variables=variables, facets=facets, max_words=max_words,
                             summary=summary)
    audit.record(lab.store, Action.PROMPT, detail=f"saved {saved.ref}" + (f": {summary}" if summary else ""))
    return saved
