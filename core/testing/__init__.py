"""Test doubles shipped for demos and tests (the fake LVLM server); not product code."""
