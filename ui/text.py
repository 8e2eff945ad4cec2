"""The one escaping helper: user- and model-written text (titles, SKUs, file names, CSV cells, model output,
error messages quoting them) reaches the page as literal text, never as Markdown, LaTeX, colour directives,
links or images that make the browser fetch a URL."""

from __future__ import annotations

import pandas as pd

from core.safe_text import escape_markdown, formula_safe


def plain(value: object) -> str:
    """Text for any Markdown-rendering element (captions, st.info/warning/error, labels, image captions)."""
    return escape_markdown(value).replace("\n", "  \n")


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A display copy whose text cells cannot run as spreadsheet formulas when the table is downloaded from the
    dataframe toolbar (numbers stay numbers)."""
    return frame.map(formula_safe)
