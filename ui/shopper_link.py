"""The Shopper Simulator's deep link: a shopper, the representations to compare and the items an evaluation held
out, carried in the URL's query parameters so the Evaluation page (or a shared link) opens the simulator on them."""

from __future__ import annotations

from dataclasses import dataclass

from streamlit.runtime.state.query_params_proxy import QueryParamsProxy

SHOPPER, REPRESENTATIONS, HELD_OUT = "shopper", "compare", "held_out"


@dataclass(frozen=True)
class ShopperLink:
    shopper: str
    representations: tuple[str, ...]  # evaluation methods, in order: A first (baselines are not representations)
    held_out: tuple[str, ...]  # the shopper's test items: left out of the history, shown with their rank

    def query_params(self) -> dict[str, list[str]]:
        return {SHOPPER: [self.shopper], REPRESENTATIONS: list(self.representations), HELD_OUT: list(self.held_out)}


def read_link(params: QueryParamsProxy) -> ShopperLink | None:
    """The link in st.query_params, or None when the URL names no shopper."""
    shopper = params.get_all(SHOPPER)
    if not shopper:
        return None
    return ShopperLink(shopper[0], tuple(params.get_all(REPRESENTATIONS)), tuple(params.get_all(HELD_OUT)))
