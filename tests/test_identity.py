"""Hull identity over static reports (fictitious MMSIs 999..., fictitious IMO 9999993)."""

from __future__ import annotations

import pandas as pd

from tracker.analysis.identity import hull_identities, identity_changes, identity_intervals
from tracker.core.identifiers import flag_from_mmsi, imo_is_valid, parse_imo

T0 = pd.Timestamp("2025-04-01T00:00:00Z")
IMO = 9999993  # fictitious, valid check digit (9*7+9*6+9*5+9*4+9*3+9*2 = 243 -> 3)


def _reports() -> pd.DataFrame:
    h = pd.Timedelta(hours=1)
    return pd.DataFrame(
        [
            dict(
                mmsi=999000101,
                ts=T0,
                imo=IMO,
                name="FICTITIOUS ONE",
                callsign="TEST1",
                destination="BALTIYSK",
            ),
            dict(
                mmsi=999000101,
                ts=T0 + 5 * h,
                imo=IMO,
                name="fictitious one ",
                callsign="TEST1",
                destination="CONAKRY",
            ),
            dict(
                mmsi=999000102,
                ts=T0 + 72 * h,
                imo=IMO,
                name="FICTITIOUS TWO",
                callsign="TEST2",
                destination="CONAKRY",
            ),
            dict(
                mmsi=999000102,
                ts=T0 + 96 * h,
                imo=None,
                name="FICTITIOUS TWO",
                callsign="TEST2",
                destination="CONAKRY",
            ),
            dict(
                mmsi=999000103,
                ts=T0 + h,
                imo=None,
                name="OTHER FICTITIOUS",
                callsign=None,
                destination=None,
            ),
        ]
    )


def test_one_imo_under_two_names_and_two_mmsis_is_one_hull():
    hulls = hull_identities(_reports()).set_index("hull")
    assert list(hulls.index) == ["IMO9999993", "MMSI999000103"]
    hull = hulls.loc["IMO9999993"]
    assert hull["mmsis"] == [999000101, 999000102]
    assert hull["names"] == ["FICTITIOUS ONE", "FICTITIOUS TWO"]
    assert hull["callsigns"] == ["TEST1", "TEST2"]
    assert hull["imo_valid"] and hull["reports"] == 4
    assert (hull["first_seen"], hull["last_seen"]) == (T0, T0 + pd.Timedelta(hours=96))


def test_identity_intervals_are_dated_runs():
    iv = identity_intervals(_reports())
    names = iv[(iv["hull"] == "IMO9999993") & (iv["attribute"] == "name")]
    assert names[["value", "start", "end", "reports"]].values.tolist() == [
        ["FICTITIOUS ONE", T0, T0 + pd.Timedelta(hours=5), 2],
        ["FICTITIOUS TWO", T0 + pd.Timedelta(hours=72), T0 + pd.Timedelta(hours=96), 2],
    ]
    mmsis = iv[(iv["hull"] == "IMO9999993") & (iv["attribute"] == "mmsi")]
    assert mmsis["value"].tolist() == [999000101, 999000102]


def test_identity_changes_give_both_values_and_when():
    ch = identity_changes(_reports())
    ch = ch[ch["hull"] == "IMO9999993"].set_index("attribute")
    assert set(ch.index) == {"name", "mmsi", "callsign", "destination"}
    name = ch.loc["name"]
    assert (name["old"], name["new"], name["start"], name["end"], name["mmsi"]) == (
        "FICTITIOUS ONE",
        "FICTITIOUS TWO",
        T0 + pd.Timedelta(hours=5),
        T0 + pd.Timedelta(hours=72),
        999000102,
    )
    assert (ch.loc["destination", "old"], ch.loc["destination", "new"]) == ("BALTIYSK", "CONAKRY")


def test_list_entries_join_hulls_by_imo():
    entries = pd.DataFrame(
        [
            {
                "list": "watchlist",
                "entry_id": "a",
                "name": "FICTITIOUS ONE",
                "aliases": [],
                "imo": IMO,
                "mmsi": None,
                "callsign": None,
                "flag": None,
            },
            {
                "list": "ofac",
                "entry_id": "b",
                "name": "FICTITIOUS GHOST",
                "aliases": ["GHOST"],
                "imo": 9999981,
                "mmsi": None,
                "callsign": None,
                "flag": "RU",
            },
        ]
    )
    entries["imo"] = entries["imo"].astype("Int64")
    hulls = hull_identities(_reports(), entries).set_index("hull")
    assert hulls.loc["IMO9999993", "listed"] == ["watchlist:a"]
    ghost = hulls.loc["IMO9999981"]  # on a list, never heard on AIS
    assert ghost["reports"] == 0 and ghost["names"] == ["FICTITIOUS GHOST", "GHOST"]


def test_imo_check_digit_and_mid_flags():
    assert imo_is_valid(9220639) and imo_is_valid("9250385") and imo_is_valid(9339301)
    assert not imo_is_valid(9220638) and not imo_is_valid(15411) and not imo_is_valid("0000000")
    assert (
        parse_imo("IMO 9220639") == 9220639 and parse_imo(0.0) is None and parse_imo("n/a") is None
    )
    assert flag_from_mmsi(273297850).iso2 == "RU"
    assert flag_from_mmsi(632000000).iso2 == "GN" and flag_from_mmsi(631000000).iso2 == "GQ"
    assert flag_from_mmsi(999000001) is None and flag_from_mmsi(2573000) is None
