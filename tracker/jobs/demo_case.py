"""Load the bundled demo case into a store: what ``tracker demo`` and the notebooks start from.

FICTITIOUS AIS (two made-up ships, MMSIs 999000001/2, generated as NMEA with pyais, Baltic to
Conakry and Bata), one FICTITIOUS watchlist entry plus the real case watchlist, every detector,
the real public case sightings and FICTITIOUS convoy sightings along the real route.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from tracker.core.paths import package_data, project_data
from tracker.jobs.detect import KINDS, detect_store
from tracker.sources.ports import read_geofences
from tracker.sources.sanctions.watchlist import read_watchlist
from tracker.sources.sightings import read_sightings
from tracker.store.engine import Store
from tracker.store.events import EventSummary, replace_events
from tracker.store.ingest import IngestSummary, ingest_ais_file
from tracker.store.sanctions import read_list_entries, store_list
from tracker.store.sightings import store_sightings

__all__ = ["DEMO_AIS", "DemoLoad", "load_demo_case"]

DEMO_AIS = package_data("demo", "fictitious-voyage.nmea.gz")
DEMO_WATCHLIST = package_data("demo", "fictitious-watchlist.csv")
DEMO_CONVOY = package_data("demo", "fictitious-convoy.csv")


@dataclass
class DemoLoad:
    """What loading the demo case stored."""

    ingest: IngestSummary
    watchlist_entries: int
    events: pd.DataFrame
    event_summary: EventSummary
    sightings_added: int


def load_demo_case(store: Store) -> DemoLoad:
    """Ingest the demo AIS, store the watchlists, run every detector and import the sightings."""
    ingested = ingest_ais_file(store, DEMO_AIS)
    # one watchlist edition: the FICTITIOUS demo entry plus the real case watchlist
    watch = read_watchlist(DEMO_WATCHLIST, edition=date(2025, 6, 1))
    case_watch = project_data("watchlists", "case-2025.csv")
    if case_watch.is_file():
        case = read_watchlist(case_watch, edition=date(2025, 6, 1))
        watch = replace(watch, entries=pd.concat([watch.entries, case.entries], ignore_index=True))
    store_list(store, watch)
    found = detect_store(
        store, read_geofences(), kinds=KINDS, entries=read_list_entries(store, latest_only=False)
    )
    summary = replace_events(store, found, kinds=KINDS)
    added = 0
    for path in (project_data("sightings", "case-2025.csv"), DEMO_CONVOY):
        if path.is_file():
            got = read_sightings(path)
            added += store_sightings(
                store, got.sightings, bad=got.bad, imported_from=str(path)
            ).added
    return DemoLoad(
        ingested,
        len(watch.entries),
        found.sort_values("start").reset_index(drop=True),
        summary,
        added,
    )
