"""Screen the vessels in a store against the sanctions lists it holds (store -> matching)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tracker.analysis.matching import NAME_ONLY_THRESHOLD, match_vessels, rank_matches
from tracker.store.ais import distinct_identities
from tracker.store.engine import Store
from tracker.store.sanctions import read_list_entries

__all__ = ["screen_store"]


def screen_store(
    store: Store,
    *,
    mmsi: Sequence[int] | None = None,
    threshold: float = NAME_ONLY_THRESHOLD,
    strong_only: bool = False,
    flag_bonus: float = 0.05,
) -> pd.DataFrame:
    """Matches of stored vessels (every identity each broadcast) against the newest edition
    of each list held: one row per (MMSI, list entry), the strongest evidence kept.

    Strong matches (IMO, MMSI, call sign; ``strong`` is True) come first, then name-only
    matches whose score (after the flag bonus) is >= ``threshold`` (0-1), best first.
    ``strong_only`` drops name-only matches. This is the same notion of "listed" as
    :func:`tracker.analysis.status.sanction_status` on a date at or after every newest edition.
    """
    entries = read_list_entries(store, latest_only=True)
    vessels = distinct_identities(store, mmsi=mmsi)
    matches = match_vessels(
        vessels, entries, threshold=max(0.0, threshold - flag_bonus), flag_bonus=flag_bonus
    )
    if matches.empty:
        return rank_matches(matches)
    keep = matches["method"].ne("name") | (matches["score"] >= threshold - 1e-9)
    if strong_only:
        keep &= matches["method"].ne("name")
    matches = matches[keep].assign(_name=matches["method"].eq("name"))
    matches = matches.sort_values(
        ["mmsi", "list", "entry_id", "_name", "score"],
        ascending=[True, True, True, True, False],
    )
    matches = matches.drop_duplicates(["mmsi", "list", "entry_id"]).drop(columns="_name")
    return rank_matches(matches)
