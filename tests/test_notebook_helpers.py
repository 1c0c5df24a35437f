"""Helpers the notebooks call (tracker.jobs.investigate, tracker.core.paths.shared_data)."""

from __future__ import annotations

import pandas as pd
import pytest

from tracker.core import paths
from tracker.core.paths import shared_data
from tracker.jobs.investigate import (
    GAP_CHECKS,
    gap_conditions,
    quarantine_summary,
    quarantined_lines,
    vessel_history,
)
from tracker.store import open_store
from tracker.store.ingest import ingest_ais_file

AISDB_DAY = "ais/aisdb/test_data_20210701.csv.gz"
KYSTVERKET = "ais/kystverket/Ais1000Lines.nm4"


def test_shared_data_follows_env_and_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_SHARED_DATA", str(tmp_path))
    assert shared_data() == tmp_path.resolve()
    with pytest.raises(FileNotFoundError, match="real data file missing"):
        shared_data("ais", "nothing.nm4")
    monkeypatch.setenv("TRACKER_SHARED_DATA", str(tmp_path / "absent"))
    if not paths._CHECKOUT_DATA.parent.parent.joinpath("shared", "data").is_dir():
        with pytest.raises(FileNotFoundError, match="TRACKER_SHARED_DATA"):
            shared_data()


def test_quarantine_summary_groups_reasons_by_kind():
    lines = pd.DataFrame(
        {
            "input_path": ["f"] * 3,
            "line": [5, 9, 12],
            "reason": ["draught 87 m outside 0..30", "draught 91 m outside 0..30", "bad checksum"],
            "raw": ["a", "b", "c"],
        }
    )
    out = quarantine_summary(lines)
    assert out["reason_kind"].tolist() == ["draught # m outside #..#", "bad checksum"]
    assert out["lines"].tolist() == [2, 1] and out["example_line"].tolist() == [5, 12]
    assert quarantine_summary(lines.iloc[:0]).empty


def test_gap_conditions_names_failed_checks():
    checks = {c: True for c in GAP_CHECKS} | {"heard_regularly_before": False}
    gaps = pd.DataFrame(
        [
            {
                "mmsi": 999000001,
                "start": pd.Timestamp("2025-05-01", tz="UTC"),
                "end": pd.Timestamp("2025-05-02", tz="UTC"),
                "duration_s": 86400.0,
                "figures": {"checks": checks, "gap_s": 86400.0, "likely_disabled": False},
            }
        ]
    )
    row = gap_conditions(gaps).iloc[0]
    assert row["hours"] == 24.0 and not row["likely_disabled"]
    assert row["failed"] == "heard_regularly_before" and row["reception_shown"]


def test_real_quarantine_and_history_with_raw_text(tmp_path, shared_file):
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    day = shared_file(AISDB_DAY)
    summary = ingest_ais_file(store, day, workers=0)
    lines = quarantined_lines(store)
    assert len(lines) == summary.quarantined > 0
    assert set(lines["input_path"]) == {str(day)} and lines["raw"].str.len().min() > 0
    assert quarantine_summary(lines)["lines"].sum() == summary.quarantined
    ingest_ais_file(store, shared_file(KYSTVERKET), workers=0)
    assert quarantined_lines(store, paths=[str(shared_file(KYSTVERKET))]).empty
    from tracker.store.ais import read_static_reports

    mmsi = int(read_static_reports(store)["mmsi"].iloc[-1])
    history = vessel_history(store, mmsi)
    assert (history["change"] == "first").all() and "name" in set(history["attribute"])
    assert history["raw"].str.contains("VDM|,").all()
    assert history["input_path"].notna().all() and history["line"].notna().all()
    assert vessel_history(store, mmsi, raw=False).columns.tolist().count("raw") == 0
