"""Screen the vessels in a store against the sanctions lists it holds (store -> matching)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tracker.analysis.matching import match_vessels
from tracker.store.ais import distinct_identities
from tracker.store.engine import Store
from tracker.store.sanctions import read_list_entries

__all__ = ["screen_store"]


def screen_store(
    store: Store, *, mmsi: Sequence[int] | None = None, threshold: float = 0.70
) -> pd.DataFrame:
    """Matches of stored vessels (every identity each broadcast) against the newest edition
    of each list held: one row per (MMSI, list entry), the strongest evidence kept."""
    entries = read_list_entries(store, latest_only=True)
    vessels = distinct_identities(store, mmsi=mmsi)
    matches = match_vessels(vessels, entries, threshold=threshold)
    if matches.empty:
        return matches
    matches = matches.sort_values(
        ["mmsi", "list", "entry_id", "score"], ascending=[True, True, True, False]
    )
    return matches.drop_duplicates(["mmsi", "list", "entry_id"]).reset_index(drop=True)
