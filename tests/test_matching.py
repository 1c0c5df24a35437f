"""Vessel-to-list matching: exact identifiers first, then fuzzy names with stated reasons."""

from __future__ import annotations

import pandas as pd
import pytest

from tracker.analysis.matching import match_vessels
from tracker.analysis.names import match_key, normalise_name
from tracker.sources.sanctions import read_list


@pytest.fixture
def case_watchlist(project_data_dir) -> pd.DataFrame:
    return read_list(project_data_dir / "watchlists" / "case-2025.csv", list="watchlist").entries


@pytest.mark.parametrize(
    "broadcast,listed",
    [
        ("M/V BALTIC-LEADER", "BALTIC LEADER"),
        ("baltic leader.", "BALTIC LEADER"),
        ("MV. Siyanie Severa", "SIYANIE SEVERA"),
        ("SIJANIE SEVERA", "SIYANIE SEVERA"),
        ("Сияние Севера", "SIYANIE SEVERA"),
        ("M/V PATRIA", "PATRIA"),
        ("patria", "PATRIA"),
    ],
)
def test_case_names_match_despite_punctuation_case_prefix_and_transliteration(
    case_watchlist, broadcast, listed
):
    # fictitious MMSIs: only the broadcast name links them to the list
    vessels = pd.DataFrame([{"mmsi": 999000201, "name": broadcast}])
    m = match_vessels(vessels, case_watchlist)
    assert list(m["entry_name"]) == [listed]
    assert m.iloc[0]["method"] == "name" and m.iloc[0]["score"] >= 0.9
    assert m.iloc[0]["reason"].startswith("name ")


def test_identifier_evidence_ranks_before_names(case_watchlist):
    vessels = pd.DataFrame(
        [
            {"mmsi": 999000301, "imo": 9220639, "name": "FICTITIOUS RENAMED"},  # IMO only
            {"mmsi": 273297850, "imo": None, "name": "FICTITIOUS"},  # MMSI only
            {"mmsi": 999000302, "callsign": "u bew 6", "name": None},  # call sign only
        ]
    )
    m = match_vessels(vessels, case_watchlist).set_index("mmsi")
    assert (m.loc[999000301, "method"], m.loc[999000301, "reason"]) == ("imo", "imo 9220639")
    assert (m.loc[273297850, "method"], m.loc[273297850, "reason"]) == ("mmsi", "mmsi 273297850")
    assert (m.loc[999000302, "method"], m.loc[999000302, "score"]) == ("callsign", 0.9)


def test_all_evidence_is_named_and_flag_supports(case_watchlist):
    vessels = pd.DataFrame(
        [{"mmsi": 273297850, "imo": 9220639, "name": "BALTIC LEADER", "callsign": "UBEW6"}]
    )
    m = match_vessels(vessels, case_watchlist)
    assert len(m) == 1
    assert (
        m.iloc[0]["reason"] == "imo 9220639 + mmsi 273297850 + callsign UBEW6 + name 1.00 + flag RU"
    )


def test_name_match_with_conflicting_valid_imos_is_dropped(case_watchlist):
    # same name, a different (valid) IMO: another hull called Baltic Leader
    vessels = pd.DataFrame([{"mmsi": 999000401, "imo": 9999993, "name": "BALTIC LEADER"}])
    assert match_vessels(vessels, case_watchlist).empty


def test_threshold_is_a_keyword(case_watchlist):
    vessels = pd.DataFrame([{"mmsi": 999000501, "name": "BALTIC LEAD"}])
    loose = match_vessels(vessels, case_watchlist, threshold=0.70)
    strict = match_vessels(vessels, case_watchlist, threshold=0.95)
    assert list(loose["entry_name"]) == ["BALTIC LEADER"] and strict.empty
    assert 0.70 <= loose.iloc[0]["score"] < 0.95


def test_unrelated_names_do_not_match(case_watchlist):
    vessels = pd.DataFrame(
        [{"mmsi": 999000601, "name": n} for n in ["NORDIC STAR", "MAERSK ESSEN", "X", ""]]
    )
    assert match_vessels(vessels, case_watchlist).empty


def test_normalisation():
    assert normalise_name("M/V Baltic-Leader") == "BALTIC LEADER"
    assert normalise_name("MT. NS Leader") == "NS LEADER"
    assert normalise_name("MV") == "MV"  # a name that is only a prefix stays
    assert normalise_name(None) == "" and normalise_name(float("nan")) == ""
    assert match_key("SIYANIE SEVERA") == match_key("SIJANIE SEVERA") == match_key("Сияние Севера")


def test_real_recordings_against_real_lists_every_match_has_a_reason(shared_file):
    from tracker.sources.ais.frames import read_ais

    statics = pd.concat(
        [
            read_ais(shared_file(p)).statics
            for p in (
                "ais/kystverket/Ais1000Lines.nm4",
                "ais/aisdb/test_data_20211101.nm4",
                "ais/dma/aisdk_header.csv",
                "ais/aisdb/test_data_20210701.csv.gz",
            )
        ],
        ignore_index=True,
    )
    vessels = statics[["mmsi", "imo", "name", "callsign"]].drop_duplicates()
    entries = pd.concat(
        [
            read_list(
                shared_file("sanctions/ofac/2021-07-07_watchman_bench/sdn.csv.gz"), list="ofac"
            ).entries,
            read_list(
                shared_file("sanctions/uk/uk_sanctions_list_2025-08-11_ships.csv"), list="uk"
            ).entries,
            read_list(
                shared_file("sanctions/ofac/2025-05-16_watchman_ofactest_fixture"), list="ofac"
            ).entries,
        ],
        ignore_index=True,
    )
    assert len(vessels) > 200 and len(entries) == 406 + 461 + 4
    m = match_vessels(vessels, entries)
    assert m["reason"].str.len().gt(0).all() and m["score"].between(0.7, 1.0).all()
    # these are ordinary European coastal ships: no identifier matches, only weak name likenesses
    assert set(m["method"]) <= {"name"}


def test_numbered_sister_ships_do_not_match_on_name():
    listed = pd.DataFrame(
        [
            {
                "list": "uk",
                "edition": None,
                "entry_id": "X1",
                "name": "FICTITIOUS SPARTA II",
                "aliases": [],
                "imo": pd.NA,
                "mmsi": pd.NA,
                "callsign": None,
                "flag": None,
                "programme": None,
                "listed_on": None,
            },
        ]
    )
    vessels = pd.DataFrame(
        [
            {"mmsi": 999000801, "name": n}
            for n in ["FICTITIOUS SPARTA IV", "FICTITIOUS SPARTA 2", "FICTITIOUS SPARTA II"]
        ]
    )
    m = match_vessels(vessels, listed)
    assert list(m["name"]) == ["FICTITIOUS SPARTA II"]


def test_rank_matches_puts_identifier_matches_before_names(case_watchlist):
    from tracker.analysis.matching import rank_matches

    # lowest MMSI matches PATRIA by name only; the other broadcasts Baltic Leader's IMO
    # 9220639 (as the watchlist file states it) under another name
    vessels = pd.DataFrame(
        [
            {"mmsi": 999000211, "name": "PATRIA"},
            {"mmsi": 999000212, "name": "FICTITIOUS RENAMED", "imo": 9220639},
        ]
    )
    ranked = rank_matches(match_vessels(vessels, case_watchlist))
    assert list(zip(ranked["mmsi"], ranked["method"], ranked["strong"], strict=True)) == [
        (999000212, "imo", True),
        (999000211, "name", False),
    ]


def test_status_from_a_name_alone_is_possible_never_listed(case_watchlist):
    from tracker.analysis.status import sanction_status

    entries = case_watchlist.assign(edition=pd.Timestamp("2025-05-01").date())
    named = sanction_status({"name": "M/V PATRIA"}, at="2025-05-29", entries=entries)
    assert not named.listed and named.possible_by == ["watchlist"]
    assert named.lists[0].name == "PATRIA" and named.lists[0].method == "name"
    by_imo = sanction_status({"imo": 9220639, "name": "X"}, at="2025-05-29", entries=entries)
    assert by_imo.listed and by_imo.listed_by == ["watchlist"] and by_imo.possible_by == []
