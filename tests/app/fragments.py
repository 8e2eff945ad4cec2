"""AppTest reruns only a whole page; the browser reruns only the fragment a used widget sits in. This finds that
fragment and reruns just it, as the browser would."""

from __future__ import annotations

import functools

import pytest
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.testing.v1 import local_script_runner
from streamlit.testing.v1.app_test import AppTest


class Fragments:
    """Records each run's forward messages: they say which fragment drew each element."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.messages: list = []
        parse = local_script_runner.parse_tree_from_messages

        def recording_parse(msgs):  # type: ignore[no-untyped-def]
            self.messages[:] = list(msgs)
            return parse(msgs)

        monkeypatch.setattr(local_script_runner, "parse_tree_from_messages", recording_parse)

    def of(self, widget_id: str) -> str:
        """The fragment that drew the widget in the last run ('' when the page itself drew it)."""
        for msg in self.messages:
            if msg.HasField("delta") and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if getattr(getattr(element, element.WhichOneof("type")), "id", None) == widget_id:
                    return msg.delta.fragment_id
        raise AssertionError(f"widget {widget_id} was not drawn")

    def rerun(self, at: AppTest, fragment_id: str) -> AppTest:
        """Run only that fragment with the widgets' current values, as after a click inside it."""
        with self.monkeypatch.context() as patch:
            patch.setattr(local_script_runner, "RerunData", functools.partial(RerunData, fragment_id=fragment_id))
            return at.run()
