"""The NMEA reader against real recordings (pyais as oracle) and hand-made edge cases."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from aisutil import ASSUMED, REAL_NMEA, pyais_counts
from pyais.encode import encode_dict

import tracker
from tracker.core.errors import MissingTimeError
from tracker.core.records import BadRecord
from tracker.sources.ais.nmea import iter_nmea, iter_nmea_lines
from tracker.sources.ais.synth import tag_block


def _lines(*texts: str):
    return list(enumerate((t.encode() for t in texts), start=1))


def _decode(*texts: str, assume_time=ASSUMED):
    return list(iter_nmea_lines(_lines(*texts), path="t.nmea", assume_time=assume_time))


POS = encode_dict(
    {"type": 1, "mmsi": 999000001, "lon": -13.7, "lat": 9.5, "speed": 7.5},
    talker_id="AI",
    sentence_type="VDM",
)[0]
STATIC = encode_dict(
    {
        "type": 5,
        "mmsi": 999000002,
        "shipname": "TEST VESSEL B",
        "imo": 9999998,
        "callsign": "TEST2",
    },
    talker_id="AI",
    sentence_type="VDM",
    seq_id=3,
)
STATIC_OTHER = encode_dict(
    {"type": 5, "mmsi": 999000003, "shipname": "TEST VESSEL C"},
    talker_id="AI",
    sentence_type="VDM",
    seq_id=4,
)


@pytest.mark.parametrize("relative", sorted(REAL_NMEA))
def test_real_recording_counts_match_pyais(shared_data, relative):
    path = shared_data / relative
    if not path.exists():
        pytest.skip(f"{relative} is not in this copy of shared/data")
    frames = tracker.read_nmea(
        path, assume_time=ASSUMED if REAL_NMEA[relative] else None, dedupe=False
    )
    expected_positions, expected_statics = pyais_counts(path)
    assert len(frames.positions) == expected_positions
    assert len(frames.statics) == expected_statics


def test_nmea_data_sample_messages_and_quarantine_match_a_line_count(shared_file):
    path = shared_file("ais/pyais/nmea_data_sample.txt")
    # the oracle: the file's comma fields counted by hand (count, number, seq id, payload)
    fields = [line.split(",") for line in path.read_text().splitlines() if line.startswith("!")]
    empty = sum(1 for f in fields if f[5] == "")
    singles = sum(1 for f in fields if f[1] == "1" and f[5] != "")
    pairs = sum(
        1
        for f, g in zip(fields, fields[1:], strict=False)
        if (f[1], f[2], g[1], g[2]) == ("2", "1", "2", "2") and f[3] == g[3]
    )
    firsts = sum(1 for f in fields if (f[1], f[2]) == ("2", "1"))
    frames = tracker.read_nmea(path, assume_time=ASSUMED)
    assert frames.messages == singles + pairs > 0
    reasons = Counter(b.reason for b in frames.bad)
    assert reasons["empty payload"] == empty > 0
    incomplete = [b for b in frames.bad if b.reason.startswith("incomplete multi-part message")]
    assert len(incomplete) == firsts - pairs > 0
    assert len(frames.bad) == empty + firsts - pairs
    assert all(",2,1," in b.raw for b in incomplete)  # each is a first fragment of two
    assert frames.positions["ts_assumed"].all()


def test_file_without_times_needs_assume_time(shared_file):
    path = shared_file("ais/pyais/nmea_data_sample.txt")
    with pytest.raises(MissingTimeError, match="--assume-time"):
        iter_nmea(path)


def test_kystverket_positions_carry_tag_block_times(shared_file):
    path = shared_file("ais/kystverket/Ais1000Lines.nm4")
    frames = tracker.read_nmea(path)
    assert len(frames.positions) == pyais_counts(path)[0] > 0
    assert not frames.positions["ts_assumed"].any()
    text = path.read_text().splitlines()
    for row in frames.positions.itertuples():
        stamp = int(re.search(r"c:(\d+)", text[row.line - 1]).group(1))
        assert row.ts == datetime.fromtimestamp(stamp, tz=UTC)


def test_tag_block_source_station_is_kept(shared_file):
    frames = tracker.read_nmea(shared_file("ais/aisdb/test_data_20211101.nm4"))
    assert set(frames.positions["source"].dropna()) >= {"41925", "42809"}


def test_trailing_receiver_time_is_used(shared_file):
    frames = tracker.read_nmea(shared_file("ais/aisdb/test_data_201201.nmea"))
    first = frames.positions.sort_values("line").iloc[0]
    assert first["ts"] == datetime.fromtimestamp(1325394060, tz=UTC)
    assert first["source"] == "r003669946"


def test_leading_iso_and_epoch_times():
    out = _decode(f"2025-05-29T06:30:00Z {POS}", f"1748500200.5,{POS}", assume_time=None)
    assert [m.ts for m in out] == [
        datetime(2025, 5, 29, 6, 30, tzinfo=UTC),
        datetime(2025, 5, 29, 6, 30, 0, 500000, tzinfo=UTC),
    ]


def test_gatehouse_time_applies_to_next_sentence(shared_file):
    frames = tracker.read_nmea(shared_file("ais/pyais/timestamped.ais"), assume_time=ASSUMED)
    timed = frames.positions[~frames.positions["ts_assumed"]]
    # $PGHP,1,2008,5,9,0,0,0,10,...: 2008-05-09 00:00:00 and 10 milliseconds
    assert list(timed["ts"]) == [datetime(2008, 5, 9, 0, 0, 0, 10_000, tzinfo=UTC)]
    assert any("bad checksum" in b.reason for b in frames.bad)  # the edited $PGHP line


def test_interleaved_multipart_fragments_assemble():
    a1, a2 = STATIC
    b1, b2 = STATIC_OTHER
    out = _decode(a1, b1, POS, b2, a2)
    statics = {m.mmsi: m.static for m in out if not isinstance(m, BadRecord) and m.static}
    assert statics[999000002]["name"] == "TEST VESSEL B"
    assert statics[999000002]["imo"] == 9999998
    assert statics[999000003]["name"] == "TEST VESSEL C"
    assert not [m for m in out if isinstance(m, BadRecord)]


def test_multipart_span_and_raw_text_are_kept():
    a1, a2 = STATIC
    (msg,) = _decode(a1, "", a2)
    assert (msg.line, msg.line_end) == (1, 3)
    assert msg.raw == f"{a1}\n{a2}"


def _with_checksum(sentence: str) -> str:
    """``sentence`` (``!...*hh`` or without ``*hh``) with its NMEA checksum computed here."""
    body = sentence.split("*")[0]
    chk = 0
    for byte in body[1:].encode("ascii"):
        chk ^= byte
    return f"{body}*{chk:02X}"


def _group_tag(group: str, when: int = 1748520000) -> str:
    body = f"g:{group},s:rx9,c:{when}"
    chk = 0
    for byte in body.encode("ascii"):
        chk ^= byte
    return f"\\{body}*{chk:02X}\\"


def test_missing_and_orphan_fragments_are_quarantined():
    a1, a2 = STATIC
    orphan = _with_checksum(a2.replace(",2,2,3,", ",2,2,7,"))  # valid checksum, no first part
    out = _decode(a1, POS, orphan)
    bad = {m.line: m.reason for m in out if isinstance(m, BadRecord)}
    assert bad == {
        3: "fragment 2 of 2 without the fragments before it",
        1: "incomplete multi-part message: 1 of 2 fragments, the rest never came",
    }
    assert [m.line for m in out if not isinstance(m, BadRecord)] == [2]


def test_tag_block_groups_assemble_and_orphans_are_quarantined():
    a1, a2 = STATIC
    b1, b2 = STATIC_OTHER
    # NMEA 4 groups g:<part>-<count>-<id>: the group id, not the sequence id, joins the parts
    joined = [_group_tag("1-2-501") + a1, _group_tag("1-2-502") + b1]
    joined += [_group_tag("2-2-501") + a2, _group_tag("2-2-502") + b2]
    out = _decode(*joined, assume_time=None)
    names = {m.mmsi: m.static["name"] for m in out if not isinstance(m, BadRecord)}
    assert names == {999000002: "TEST VESSEL B", 999000003: "TEST VESSEL C"}
    lone_second = _group_tag("2-2-777") + b2
    lone_first = _group_tag("1-2-778") + a1
    out = _decode(lone_second, POS, lone_first, assume_time=ASSUMED)
    bad = {m.line: m.reason for m in out if isinstance(m, BadRecord)}
    assert bad == {
        1: "fragment 2 of 2 without the fragments before it",
        3: "incomplete multi-part message: 1 of 2 fragments, the rest never came",
    }


#: Words of Python's own exception messages that must never reach a quarantine reason.
PYTHON_WORDS = re.compile(
    r"Error|Exception|Traceback|invalid literal|could not convert|NoneType|object has no|"
    r"index out of range|unpack|codec|bitarray|does not match format"
)


def test_quarantine_reasons_are_worded():
    short5 = _with_checksum("!AIVDM,1,1,,A,5>pf7hP00000,0")
    out = _decode(
        _with_checksum("!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,6"),  # fill bits 6
        _with_checksum("!AIVDM,1,1,,A,13HOI:0P0000VOH~~~~~~~~~~~~~,0"),  # outside 6-bit alphabet
        _with_checksum("!AIVDM,1,1,,A,13HOI:0P,0"),  # 48 bits of a 168-bit type 1
        short5,
        _with_checksum("!AIVDM,x,y,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"),
    )
    reasons = [m.reason for m in out if isinstance(m, BadRecord)]
    assert reasons == [
        "malformed AIS sentence: fill bits '6' not a number 0-5",
        "payload does not decode as type 1: characters outside the AIS 6-bit alphabet",
        "payload does not decode as type 1: too short (48 bits, needs 143)",
        "payload does not decode as type 5: too short (72 bits, needs 302)",
        "malformed AIS sentence: fragment count/number are not numbers 1-9",
    ]


@pytest.mark.parametrize("relative", sorted(REAL_NMEA))
def test_real_recording_reasons_are_worded(shared_file, relative):
    frames = tracker.read_nmea(shared_file(relative), assume_time=ASSUMED)
    for bad in frames.bad:
        assert not PYTHON_WORDS.search(bad.reason), bad


def test_bad_checksum_garbage_and_empty_payload_are_quarantined_with_reasons():
    broken = POS[:-2] + ("00" if POS[-2:] != "00" else "11")
    out = _decode("garbage line", broken, "!AIVDM,1,1,,B,,0*25", POS, "# comment", "")
    bad = {m.line: m.reason for m in out if isinstance(m, BadRecord)}
    assert bad[1] == "not an NMEA sentence"
    assert bad[2].startswith("bad checksum")
    assert bad[3] == "empty payload"
    assert [m.line for m in out if not isinstance(m, BadRecord)] == [4]


def test_not_available_values_become_null():
    sentence = encode_dict(
        {
            "type": 1,
            "mmsi": 999000004,
            "lon": 181,
            "lat": 91,
            "speed": 102.3,
            "course": 360,
            "heading": 511,
        },
        talker_id="AI",
        sentence_type="VDM",
    )[0]
    (msg,) = _decode(sentence)
    assert msg.position == {
        "lon": None,
        "lat": None,
        "sog_kn": None,
        "cog_deg": None,
        "heading_deg": None,
        "nav_status": None,
    }


def test_out_of_range_position_is_quarantined(shared_file):
    frames = tracker.read_nmea(shared_file("ais/aisdb/test_data_201201.nmea"))
    reasons = sorted(b.reason for b in frames.bad)
    assert reasons == [
        "latitude -101.547042 outside -90..90",
        "latitude -99.423647 outside -90..90",
        "longitude 200.231667 outside -180..180",
    ]
    assert frames.positions["lon"].abs().max() <= 180
    assert frames.positions["lat"].abs().max() <= 90


def test_other_talkers_and_vdo_are_read():
    vdo = encode_dict(
        {"type": 1, "mmsi": 999000006, "lon": 1, "lat": 1}, talker_id="AI", sentence_type="VDO"
    )[0]
    for text in (vdo, POS.replace("!AIVDM", "!BSVDM", 1), POS.replace("!AIVDM", "!ABVDM", 1)):
        body = text[1 : text.index("*")]
        chk = 0
        for ch in body.encode():
            chk ^= ch
        fixed = text[: text.index("*") + 1] + f"{chk:02X}"
        (msg,) = _decode(fixed)
        assert not isinstance(msg, BadRecord), msg


def test_gz_file_reads_like_plain(shared_file, tmp_path):
    import gzip

    path = shared_file("ais/kystverket/Ais1000Lines.nm4")
    packed = tmp_path / "kyst.nm4.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    plain, zipped = tracker.read_nmea(path), tracker.read_nmea(packed)
    assert len(plain.positions) == len(zipped.positions) == pyais_counts(path)[0] > 0
    assert list(plain.positions["key"]) == list(zipped.positions["key"])


def test_tag_block_time_beats_other_sources():
    line = tag_block(datetime(2025, 5, 29, 12, 0, tzinfo=UTC)) + POS + ",1600000000"
    (msg,) = _decode(f"2024-01-01T00:00:00Z {line}")
    assert msg.ts == datetime(2025, 5, 29, 12, 0, tzinfo=UTC)
    assert not msg.ts_assumed
