"""How often QA's automatic checks flag a run's current descriptions: what `vitrine qa --max-flag-rate` gates on."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from core.errors import VitrineError
from core.lab import Lab
from core.services.ab import Side
from core.services.gates import Gate
from core.services.qa import qa_table


@dataclass(frozen=True)
class FlagRate:
    run: str
    checked: int  # current, successful descriptions
    flagged: int  # of those, with at least one automatic flag
    failed: int  # current descriptions that are failures: not checked
    undescribed: int  # catalogue items without a current description under the run
    common: list[tuple[str, int]]  # most frequent flag kinds, with counts

    @property
    def rate(self) -> float:
        return self.flagged / self.checked

    def lines(self) -> list[str]:
        out = [f"{self.run}: {self.flagged:,} of {self.checked:,} current descriptions auto-flagged "
               f"({self.rate:.1%}, n = {self.checked:,})"]
        out += [f"not checked: {n:,} {why}" for n, why in ((self.failed, "failed description(s)"),
                                                           (self.undescribed, "item(s) without a description"))
                if n]
        if self.common:
            out.append("most common flags: " + "; ".join(f"{kind} ×{n}" for kind, n in self.common))
        return out

    def gate(self, max_rate: float) -> Gate:
        passed = self.rate <= max_rate
        return Gate(passed, f"flag rate {self.rate:.1%} {'≤' if passed else '>'} {max_rate:.1%} "
                            f"({self.flagged:,} of {self.checked:,})")


def _kind(flag: str) -> str:
    """'very short text (3 words)' and 'colour contradiction: text says red; ...' -> what kind of flag it is."""
    return re.split(r":| \(", flag, maxsplit=1)[0]


def flag_rate(lab: Lab, run: Side, top: int = 5, table: pd.DataFrame | None = None) -> FlagRate:
    """Share of the run's current descriptions that QA's automatic checks flag; `table`, an already built
    qa_table(lab), spares rebuilding it when several runs are measured at once."""
    rows = qa_table(lab) if table is None else table
    rows = rows[(rows["prompt_ref"] == run.prompt.ref) & (rows["provider"] == run.provider)
                & (rows["model"] == run.model)]
    ok = rows[rows["error"] == ""]
    if ok.empty:
        raise VitrineError(f"no successful descriptions under {run.run} to check (run `vitrine sync`)")
    kinds = Counter(k for flags in ok["auto_flags"] for k in dict.fromkeys(map(_kind, flags)))
    common = sorted(kinds.items(), key=lambda kind: (-kind[1], kind[0]))[:top]  # ties by name: stable CI logs
    return FlagRate(run.run, len(ok), int(ok["auto_flags"].map(bool).sum()), len(rows) - len(ok),
                    lab.store.item_count() - rows["sku"].nunique(), common)
