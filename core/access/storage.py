"""What access control needs of the workspace store, as a protocol: access sits below catalog (whose services call
the guard) instead of importing it back."""

from __future__ import annotations

from typing import Protocol

import pandas as pd
import pyarrow as pa


class AccessStore(Protocol):
    """The settings and table calls roles and the audit log use; core.catalog.store.Store provides them."""

    def get_setting(self, key: str, default: str = "") -> str: ...

    def set_setting(self, key: str, value: str) -> None: ...

    def upsert_rows(self, name: str, schema: pa.Schema, rows: list[dict], key: str) -> None: ...

    def frame(self, name: str, schema: pa.Schema, where: str | None = None) -> pd.DataFrame: ...
