"""The fictitious fleet generator (tracker.sources.ais.synth.fleet_tracks / fleet_batch) used by
bench/scale.py and the cluster notebook: exact sizes, fictitious MMSIs, deterministic slices,
plausible tracks and the events it is meant to give the detectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.encounters import detect_encounters
from tracker.analysis.gaps import detect_gaps
from tracker.analysis.implausible import detect_implausible
from tracker.analysis.port_calls import detect_port_calls
from tracker.sources.ais.synth import WEST_AFRICA_PORTS, fleet_batch, fleet_tracks
from tracker.sources.ports import read_geofences

START = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def fleet() -> pd.DataFrame:
    frame = fleet_tracks(vessels=24, positions=48_003, start=START, silence_every=10)
    return frame.assign(id=np.arange(len(frame)))


def test_sizes_mmsis_order_and_span(fleet):
    assert len(fleet) == 48_003
    counts = fleet.groupby("mmsi").size()
    assert len(counts) == 24 and set(counts) == {2000, 2001}
    assert fleet["mmsi"].between(999_100_000, 999_100_023).all()  # fictitious 999 MMSIs
    keys = list(zip(fleet["mmsi"], fleet["ts"], strict=True))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert fleet["ts"].min() >= pd.Timestamp(START)
    assert fleet["ts"].max() <= pd.Timestamp(START) + timedelta(days=380)
    # on the AIS grid: 1/10000 minute
    assert np.allclose(np.rint(fleet["lon"] * 600_000), fleet["lon"] * 600_000, atol=1e-6)


def test_deterministic_and_sliceable(fleet):
    again = fleet_tracks(vessels=24, positions=48_003, start=START, silence_every=10)
    pd.testing.assert_frame_equal(again, fleet.drop(columns="id"))
    part = fleet_tracks(
        vessels=24, positions=48_003, start=START, silence_every=10, only=range(5, 9)
    )
    want = fleet[fleet["mmsi"].between(999_100_005, 999_100_008)].drop(columns="id")
    pd.testing.assert_frame_equal(part, want.reset_index(drop=True))


def test_tracks_are_plausible_and_give_the_detectors_work(fleet):
    geofences = read_geofences()
    assert detect_implausible(fleet).empty  # no jumps, nothing sails over land
    calls = detect_port_calls(fleet, geofences)
    assert len(calls) >= 24 * 3
    assert set(calls["place"]) <= set(WEST_AFRICA_PORTS)
    met = detect_encounters(fleet, geofences=geofences)
    pairs = {
        tuple(sorted((int(a), int(b)))) for a, b in zip(met["mmsi"], met["other_mmsi"], strict=True)
    }
    assert pairs == {(999_100_000, 999_100_001), (999_100_002, 999_100_003)}
    gaps = detect_gaps(fleet)
    silent = {999_100_000 + v for v in range(4, 24) if v % 10 == 5}
    assert silent <= set(gaps["mmsi"])
    assert (gaps["duration_s"] >= 14 * 3600).all()


def test_fleet_batch_holds_the_frame(fleet):
    part = fleet.iloc[:5000]
    batch = fleet_batch(part, station="test", first_line=11)
    assert len(batch) == 5000 and batch.line[0] == 11
    assert (batch.mmsi == part["mmsi"].to_numpy()).all()
    assert (batch.lon == part["lon"].to_numpy()).all()
    assert (batch.ts_us == part["ts"].dt.as_unit("us").astype("int64").to_numpy()).all()
    assert len(set(batch.key.tolist())) == 5000
    assert batch.has_pos.all() and not batch.has_static.any() and (batch.msg_type == 1).all()
