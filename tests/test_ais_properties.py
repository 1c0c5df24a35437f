"""Property tests: pyais-encoded reports round-trip within AIS resolution; junk never crashes."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyais.encode import encode_dict

from tracker.core.records import BadRecord
from tracker.sources.ais.frames import frames_from_messages
from tracker.sources.ais.nmea import iter_nmea_lines
from tracker.sources.ais.synth import tag_block
from tracker.store import open_store
from tracker.store.ais import read_positions
from tracker.store.ingest import ingest_messages

LON_LAT_RESOLUTION = 1 / 600000 + 1e-9  # 1/10000 minute
START = datetime(2025, 1, 1, tzinfo=UTC)

reports = st.fixed_dictionaries(
    {
        "type": st.sampled_from([1, 2, 3, 18]),
        "mmsi": st.integers(200_000_000, 799_999_999),
        "lon": st.floats(-180, 180, allow_nan=False),
        "lat": st.floats(-90, 90, allow_nan=False),
        "speed": st.floats(0, 102.2, allow_nan=False),
        "course": st.floats(0, 359.9, allow_nan=False),
        "heading": st.integers(0, 359),
    }
)


def _lines(texts):
    return list(
        enumerate((t.encode("latin-1") if isinstance(t, str) else t for t in texts), start=1)
    )


@settings(max_examples=300, deadline=None)
# up to ten months after START (2025-01-01): in the past, inside tracker's plausible time range
@given(report=reports, seconds=st.integers(0, 10**8 // 4))
def test_encoded_position_decodes_within_resolution(report, seconds):
    ts = datetime.fromtimestamp(START.timestamp() + seconds, tz=UTC)
    (sentence,) = encode_dict(
        report | {"msg_type": report["type"]}, talker_id="AI", sentence_type="VDM"
    )
    (msg,) = iter_nmea_lines(_lines([tag_block(ts) + sentence]), path="prop")
    assert not isinstance(msg, BadRecord), msg
    assert msg.mmsi == report["mmsi"] and msg.ts == ts and msg.msg_type == report["type"]
    pos = msg.position
    assert abs(pos["lon"] - report["lon"]) <= LON_LAT_RESOLUTION
    assert abs(pos["lat"] - report["lat"]) <= LON_LAT_RESOLUTION
    assert abs(pos["sog_kn"] - report["speed"]) <= 0.1 + 1e-9  # one 0.1 kn step (pyais truncates)
    assert abs(pos["cog_deg"] - report["course"]) <= 0.1 + 1e-9
    if report["type"] != 18 or pos["heading_deg"] is not None:
        assert pos["heading_deg"] == report["heading"]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(reports, min_size=1, max_size=20))
def test_encoded_positions_store_within_resolution_and_once(batch, tmp_path_factory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}")
    lines = [
        tag_block(START) + encode_dict(r, talker_id="AI", sentence_type="VDM")[0] for r in batch
    ]
    for _ in range(2):  # ingesting twice equals ingesting once
        ingest_messages(store, iter_nmea_lines(_lines(lines), path="prop"), input_id=_input(store))
    stored = read_positions(store, vessels_only=False)
    expected = frames_from_messages(iter_nmea_lines(_lines(lines), path="prop")).positions
    assert len(stored) == len(expected)
    columns = ["mmsi", "ts", "msg_type", "lon", "lat", "sog_kn", "cog_deg"]
    as_rows = lambda f: sorted(map(tuple, f[columns].astype(str).to_numpy()))  # noqa: E731
    assert as_rows(stored) == as_rows(expected)
    for report in batch:
        near = stored[(stored["mmsi"] == report["mmsi"])]
        assert ((near["lon"] - report["lon"]).abs() <= LON_LAT_RESOLUTION).any()
    store.dispose()


def _input(store) -> int:
    from tracker.store.ingest import _begin_run

    return _begin_run(store, sha256="property-test", path="prop", fmt="nmea", assume_time=None)


@settings(max_examples=200, deadline=None)
@given(junk=st.lists(st.binary(max_size=120), min_size=1, max_size=8))
def test_random_bytes_never_crash_the_reader(junk):
    out = list(iter_nmea_lines(_lines(junk), path="junk", assume_time=START))
    for item in out:
        assert isinstance(item, BadRecord) or item.mmsi >= 0


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(
        ["!AIVDM,", "\\c:1700000000*00\\!AIVDM,", "!AIVDM,2,1,3,A,", "$PGHP,1,"]
    ),
    rest=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
)
def test_near_nmea_junk_is_quarantined_not_raised(prefix, rest):
    out = list(iter_nmea_lines(_lines([prefix + rest]), path="junk", assume_time=START))
    assert all(isinstance(item, BadRecord) or item.mmsi >= 0 for item in out)


#: Text that exports treat as "no value" (NOAA/DMA write these for a missing field).
_NULL_WORDS = {"", "unknown", "undefined", "unknown value", "nan", "none", "null", "n/a"}
hostile_text = st.one_of(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "Robert'); DROP TABLE vessels;--",
            '"quoted" \\ back\\slash',
            "СИЯНИЕ СЕВЕРА",
            "BALTIC\tLEADER\x07\x1b[31m",
            "名前 ☃ \u202e",
        ]
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=40,
    ),
)


_LINE_SPACES = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"


def _expected_name(name: str) -> str | None:
    """The AIS rule, written here: '@' is padding, a line break or tab is one space, outer
    whitespace is dropped, empty is none."""
    text = "".join(" " if c in _LINE_SPACES else c for c in name.replace("@", " ")).strip()
    return text or None


def _refused(name: str) -> bool:
    """tracker's policy, written independently: a control character that is not whitespace
    (Unicode category Cc), a lone surrogate or U+FFFE/U+FFFF quarantines the record."""
    import unicodedata

    return any(
        (unicodedata.category(c) == "Cc" and not c.isspace())
        or 0xD800 <= ord(c) <= 0xDFFF
        or c in "\ufffe\uffff"
        for c in name
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(hostile_text, min_size=1, max_size=6))
def test_hostile_names_survive_the_store(names, tmp_path_factory):
    import json

    from hypothesis import assume

    from tracker.store.ais import read_static_reports
    from tracker.store.ingest import ingest_ais_file

    assume(all(n.strip().lower() not in _NULL_WORDS for n in names))
    assume(all(n[:7].strip().lower() not in _NULL_WORDS for n in names))
    folder = tmp_path_factory.mktemp("hostile")
    # one plain record first: a file whose every record is refused is refused whole
    names = ["FICTITIOUS PLAIN", *names]
    lines = []
    for i, name in enumerate(names):
        message = {
            "MessageType": "ShipStaticData",
            "MetaData": {"MMSI": 999000100 + i, "time_utc": "2025-05-20 00:00:00 +0000 UTC"},
            "Message": {
                "ShipStaticData": {
                    "UserID": 999000100 + i,
                    "MessageID": 5,
                    "Name": name,
                    "CallSign": name[:7],
                    "Destination": name,
                }
            },
        }
        lines.append(json.dumps(message))
    path = folder / "hostile.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = open_store(f"sqlite:///{folder / 'h.db'}")
    summary = ingest_ais_file(store, path)
    kept = [n for n in names if not _refused(n)]
    # a control character anywhere quarantines the record (with its reason), never stored
    assert summary.quarantined == len(names) - len(kept)
    assert summary.statics == len(kept)
    stored = read_static_reports(store).sort_values("mmsi")
    assert stored["name"].tolist() == [_expected_name(n) for n in kept]
    assert stored["destination"].tolist() == [_expected_name(n) for n in kept]
    expected_calls = [_expected_name(n[:7]) for n in kept]
    assert [None if c != c else c for c in stored["callsign"].tolist()] == expected_calls
    store.dispose()


@settings(max_examples=200, deadline=None)
@example(prefix="!AIVDM,1,1,,A,", rest="0,")  # a 6-bit payload: pyais decodes no MMSI
@given(
    prefix=st.sampled_from(["!AIVDM,1,1,,A,", "!AIVDM,2,1,3,B,", "!AIVDM,1,1,,B,5", "!AIVDM,"]),
    rest=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=90),
)
def test_reasons_for_checksum_valid_junk_are_worded(prefix, rest):
    import re

    body = (prefix + rest).replace("*", "")
    chk = 0
    for byte in body[1:].encode():
        chk ^= byte
    out = list(iter_nmea_lines(_lines([f"{body}*{chk:02X}"]), path="junk", assume_time=START))
    python_words = re.compile(r"Error|Exception|Traceback|invalid literal|NoneType|object has")
    for item in out:
        if isinstance(item, BadRecord):
            assert not python_words.search(item.reason), item.reason
