"""Detectors on fictitious tracks the tests generate (NMEA encoded with pyais) and on the real
recordings in ../shared/data/ais."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from tracks import T0, as_positions, voyage

from tracker.analysis.encounters import detect_encounters
from tracker.analysis.gaps import detect_gaps
from tracker.analysis.implausible import detect_implausible
from tracker.analysis.loitering import detect_loitering
from tracker.analysis.port_calls import detect_port_calls
from tracker.analysis.shore import shore_distance_m
from tracker.core.geo import geodesic_distance_m
from tracker.sources.ports import read_geofences

CONAKRY_BERTH = (-13.712, 9.515)  # inside the CONAKRY PORT polygon (data/ports/conakry.geojson)
OFFSHORE = (-14.6, 9.1)
MID_ATLANTIC = (-25.0, 5.0)


@pytest.fixture(scope="module")
def ports():
    return read_geofences()


def _conakry_call():
    return voyage(
        ("sail", [OFFSHORE, CONAKRY_BERTH], 10.0),
        ("stay", 30),
        ("sail", [CONAKRY_BERTH, OFFSHORE], 10.0),
    )


def test_conakry_call_of_30_hours_is_one_port_call_with_the_right_times(tmp_path, ports):
    track = _conakry_call()
    positions = as_positions(tmp_path, {999000901: track})
    calls = detect_port_calls(positions, ports)
    assert len(calls) == 1
    call = calls.iloc[0]
    assert (call["kind"], call["place"], call["mmsi"], call["status"], call["confidence"]) == (
        "port_call",
        "CONAKRY",
        999000901,
        "closed",
        "high",
    )
    # expected times straight from the track: first fix within 3 km of the port, last within 4 km
    port = ports[ports["port"] == "CONAKRY"].union_all()
    import shapely

    pts = shapely.points(track["lon"], track["lat"])
    lines = shapely.shortest_line(pts, port)
    c = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    d = geodesic_distance_m(c[:, 0, 0], c[:, 0, 1], c[:, 1, 0], c[:, 1, 1])
    assert call["start"] == pd.Timestamp(track["ts"][d <= 3000].iloc[0])
    assert call["end"] == pd.Timestamp(track["ts"][d <= 4000].iloc[-1])
    assert call["figures"]["stop_s"] == pytest.approx(30 * 3600, abs=600)
    assert call["figures"]["entry_observed"] and call["figures"]["exit_observed"]
    assert len(call["position_ids"]) == call["figures"]["fixes"]


def test_passing_outside_4_km_is_no_port_call(tmp_path, ports):
    track = voyage(("sail", [(-13.84, 9.0), (-13.84, 9.8)], 10.0))
    positions = as_positions(tmp_path, {999000902: track})
    port = ports[ports["port"] == "CONAKRY"].union_all()
    import shapely

    c = shapely.get_coordinates(
        shapely.shortest_line(shapely.points(track["lon"], track["lat"]), port)
    ).reshape(-1, 2, 2)
    assert geodesic_distance_m(c[:, 0, 0], c[:, 0, 1], c[:, 1, 0], c[:, 1, 1]).min() > 4000
    assert detect_port_calls(positions, ports).empty


def test_a_silent_visit_is_split_and_drifting_through_without_stop_is_not_a_call(tmp_path, ports):
    split = voyage(
        ("sail", [OFFSHORE, CONAKRY_BERTH], 10.0),
        ("stay", 6),
        ("silent", 5),
        ("stay", 6),
        ("sail", [CONAKRY_BERTH, OFFSHORE], 10.0),
    )
    through = voyage(("sail", [(-13.9, 9.3), CONAKRY_BERTH, (-13.5, 9.7)], 8.0))
    positions = as_positions(tmp_path, {999000903: split, 999000904: through})
    calls = detect_port_calls(positions, ports)
    assert list(calls["mmsi"]) == [999000903, 999000903]
    assert [c["exit_observed"] for c in calls["figures"]] == [False, True]
    assert (
        list(detect_port_calls(positions, ports, require_stop=False)["mmsi"]).count(999000904) == 1
    )


def _atlantic(mmsi_silent: bool):
    a = voyage(
        ("sail", [MID_ATLANTIC, (-24.0, 5.0)], 12.0),
        ("silent", 10),
        ("sail", [(-22.2, 5.0), (-21.8, 5.0)], 12.0),
    )
    return a


def test_ten_hour_silence_mid_ocean_with_others_heard_is_likely_disabled(tmp_path):
    silent = _atlantic(True)
    witness = voyage(
        ("sail", [(-24.5, 5.3), (-19.0, 5.3)], 12.0)
    )  # heard throughout; ~35 km away when the gap begins
    positions = as_positions(tmp_path, {999001001: silent, 999001002: witness})
    gaps = detect_gaps(positions)
    assert list(gaps["mmsi"]) == [999001001]
    gap = gaps.iloc[0]
    assert gap["confidence"] == "likely disabled" and gap["wording"].startswith("likely disabled")
    assert gap["duration_s"] == pytest.approx(10 * 3600 + 600, abs=600)
    assert (
        gap["figures"]["shore_distance_m"] > 50 * 1852
        and gap["figures"]["other_vessels_heard"] == 1
    )


def test_ten_hour_silence_where_nobody_is_heard_is_no_ais_received(tmp_path):
    positions = as_positions(tmp_path, {999001003: _atlantic(True)})
    gap = detect_gaps(positions).iloc[0]
    assert gap["confidence"] == "no AIS received"
    assert "no other vessel heard within 100 km" in gap["wording"]


def test_gap_near_shore_is_no_ais_received_and_open_gaps_are_reported(tmp_path):
    near = voyage(
        ("sail", [(-13.9, 9.3), (-13.9, 9.2)], 5.0),
        ("silent", 8),
        ("sail", [(-13.9, 9.1), (-13.9, 9.0)], 5.0),
    )
    witness = voyage(("sail", [(-14.0, 9.3), (-14.0, 8.0)], 5.0))
    positions = as_positions(tmp_path, {999001004: near, 999001005: witness})
    gaps = detect_gaps(positions, until=pd.Timestamp(T0) + timedelta(days=3))
    closed = gaps[gaps["status"] == "closed"].iloc[0]
    assert (
        closed["mmsi"] == 999001004
        and closed["confidence"] == "no AIS received"
        and "nm from shore" in closed["wording"]
    )
    assert set(gaps.loc[gaps["status"] == "open", "mmsi"]) == {999001004, 999001005}
    assert gaps.loc[gaps["status"] == "open", "end"].isna().all()


def test_two_slow_vessels_side_by_side_for_three_hours_is_an_encounter_and_loitering(
    tmp_path, ports
):
    a = voyage(
        ("sail", [(-26.0, 4.0), (-25.0, 4.0)], 12.0),
        ("stay", 3),
        ("sail", [(-25.0, 4.0), (-24.0, 4.0)], 12.0),
    )
    b = voyage(
        ("sail", [(-26.0, 3.5), (-25.0, 4.002)], 12.0 * 1.118),
        ("stay", 3),
        ("sail", [(-25.0, 4.002), (-26.0, 4.5)], 12.0),
    )
    far = voyage(("sail", [(-30.0, 4.0), (-29.0, 4.0)], 12.0), ("stay", 3))
    positions = as_positions(tmp_path, {999001101: a, 999001102: b, 999001103: far})
    enc = detect_encounters(positions, geofences=ports)
    assert len(enc) == 1
    e = enc.iloc[0]
    assert (e["mmsi"], e["other_mmsi"]) == (999001101, 999001102)
    assert e["duration_s"] >= 3 * 3600 - 1200 and e["figures"]["max_distance_m"] < 500
    loit = detect_loitering(positions, geofences=ports)
    assert sorted(loit["mmsi"]) == [999001101, 999001102, 999001103]
    assert detect_loitering(positions, geofences=ports, min_duration=timedelta(hours=4)).empty
    # a 30 h stay in Conakry is neither an encounter nor loitering (in port, near shore)
    conakry = as_positions(tmp_path, {999001104: _conakry_call(), 999001105: _conakry_call()})
    assert (
        detect_encounters(conakry, geofences=ports).empty
        and detect_loitering(conakry, geofences=ports).empty
    )


def test_implausible_jumps_two_places_and_land(tmp_path):
    track = voyage(("sail", [(-20.0, 10.0), (-19.0, 10.0)], 12.0))
    spoofed = track.copy()
    spoofed.loc[10, ["lon", "lat"]] = (-19.5, 12.5)  # one fix far away, then back
    jumped = track.copy()
    jumped.loc[20:, "lon"] += 2.0  # teleports and stays
    inland = voyage(("sail", [(-16.6, 18.0), (-15.6, 18.0)], 12.0))  # from sea onto Mauritania
    positions = as_positions(tmp_path, {999001201: spoofed, 999001202: jumped, 999001203: inland})
    ev = detect_implausible(positions)
    got = sorted(zip(ev["mmsi"], ev["place"], strict=True))
    assert got == [(999001201, "two_places"), (999001202, "speed"), (999001203, "on_land")]
    assert (
        shore_distance_m([0.0], [20.0])[0] < -500_000
        and shore_distance_m([-25.0], [5.0])[0] > 500_000
    )
    # a vessel never seen at sea (inland waters the coarse land layer fills in) is not flagged
    lake = as_positions(tmp_path, {999001204: voyage(("sail", [(0.0, 20.0), (0.2, 20.0)], 12.0))})
    assert detect_implausible(lake).empty


def test_thresholds_are_recorded_on_every_event(tmp_path, ports):
    positions = as_positions(tmp_path, {999000901: _conakry_call()})
    call = detect_port_calls(positions, ports, enter_m=2500.0).iloc[0]
    assert call["thresholds"]["enter_m"] == 2500.0 and call["thresholds"]["stop_kn"] == 0.2


REAL_COUNTS = {
    # file: (port calls, closed gaps, open gaps, likely disabled, encounters, loitering, implausible)
    "ais/kystverket/Ais1000Lines.nm4": (0, 0, 0, 0, 0, 0, 0),
    "ais/aisdb/test_data_20211101.nm4": (1, 0, 0, 0, 0, 0, 0),
    "ais/aisdb/test_data_201201.nmea": (0, 0, 0, 0, 0, 0, 0),
    "ais/aisdb/test_data_20210701.csv.gz": (4, 72, 1643, 158, 0, 0, 2),
    "ais/dma/aisdk_header.csv": (0, 0, 0, 0, 0, 0, 0),
    "ais/libais/test.aivdm": (0, 0, 17, 0, 0, 0, 0),
}


@pytest.mark.parametrize("relative", sorted(REAL_COUNTS))
def test_detectors_on_real_recordings(shared_file, ports, relative):
    from tracker.sources.ais.frames import read_ais

    p = read_ais(shared_file(relative)).positions
    p = p[p["msg_type"].isin([1, 2, 3, 18, 19, 27])]
    gaps = detect_gaps(p)
    got = (
        len(detect_port_calls(p, ports)),
        int((gaps["status"] == "closed").sum()),
        int((gaps["status"] == "open").sum()),
        int((gaps["confidence"] == "likely disabled").sum()),
        len(detect_encounters(p, geofences=ports)),
        len(detect_loitering(p, geofences=ports)),
        len(detect_implausible(p)),
    )
    assert got == REAL_COUNTS[relative]


def test_real_conakry_call_checked_by_hand(shared_file, ports):
    """Checked by hand: in the 2021-07-01 satellite CSV, MMSI 312363000 reports once, SOG 0 at
    (-13.7143, 9.5190), 0.5 km from the Natural Earth Conakry port point and inside the
    CONAKRY PORT polygon; one fix, so no entry or exit is seen: a low-confidence, open call."""
    from tracker.sources.ais.frames import read_ais

    p = read_ais(shared_file("ais/aisdb/test_data_20210701.csv.gz")).positions
    calls = detect_port_calls(p, ports).set_index("place")
    c = calls.loc["CONAKRY"]
    assert (c["mmsi"], c["confidence"], c["status"], c["figures"]["fixes"]) == (
        312363000,
        "low",
        "open",
        1,
    )
    assert c["start"] == pd.Timestamp("2021-07-01T01:58:37.310Z")
