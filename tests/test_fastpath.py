"""The vectorised NMEA decoder (issue 16 part 1) against pyais and against the pyais path.

- every message the vectorised path decodes from the real recordings equals pyais' own decode
  of the same sentence(s), passed through tracker's published normalisation
  (``position_values``/``static_values``) and transmission identity;
- :class:`NMEADecoder` gives the same batches and bad records with the fast path on and off,
  for every real recording and many chunk sizes (fragments straddling chunks);
- generated sentences (pyais' encoder) with edge values, with and without tag blocks;
- hostile mixtures (bad checksums, truncated payloads, interleaved groups, ``$PGHP``, leading
  times, comments, over-long lines) in random order and chunking.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import xor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais.encode import encode_dict
from pyais.messages import _MSG6_VARIANTS, _MSG8_VARIANTS, AISSentence

from tracker.core.timeutil import from_epoch, time_problem
from tracker.sources.ais.batch import MessageBatch, us_from_datetime
from tracker.sources.ais.fastpath import OTHER_TYPES, FastChunk, NMEADecoder, fast_decode
from tracker.sources.ais.nmea import SECOND_FIELD_TYPES, transmission_identity
from tracker.sources.ais.normalise import OutOfRange, position_values, static_values
from tracker.sources.ais.records import POSITION_TYPES, STATIC_FIELDS
from tracker.sources.ais.textio import OverlongLine, numbered_lines, open_binary

ASSUMED = datetime(2020, 1, 1, 12, 0, 30, 250_000, tzinfo=UTC)

#: Every real NMEA recording in shared/data and whether it needs an assumed time.
REAL = {
    "ais/aishub/aishub-ais-nmea-sample.log.gz": True,
    "ais/aisdb/test_data_201201.nmea": False,
    "ais/aisdb/test_data_20211101.nm4": False,
    "ais/kystverket/Ais1000Lines.nm4": False,
    "ais/libais/test.aivdm": False,
    "ais/pyais/messages.ais": True,
    "ais/pyais/mixed.txt": True,
    "ais/pyais/nmea_data_sample.txt": True,
    "ais/pyais/timestamped.ais": True,
}
#: Share of the lines the vectorised path must decode itself (checked so that the
#: comparisons below cannot pass on an empty result).
MIN_SHARE = {
    "ais/aishub/aishub-ais-nmea-sample.log.gz": 0.995,
    "ais/aisdb/test_data_20211101.nm4": 0.99,
    "ais/kystverket/Ais1000Lines.nm4": 0.9,
    "ais/pyais/nmea_data_sample.txt": 0.8,
}

_SENTENCE = re.compile(rb"![A-Za-z]{2}VD[MO],[^*]*\*[0-9A-Fa-f]{2}")
_TAG_TIME = re.compile(rb"^\\(?:[^\\]*,)?c:(\d+)[,*\\]")
_TAG_SOURCE = re.compile(rb"^\\(?:[^\\]*,)?s:([^,*\\]*)[,*\\]")
_AFTER_CHECKSUM = re.compile(rb"\*[0-9A-Fa-f]{2}(,.*)$")


def receiver_fields(line: bytes) -> tuple[datetime | None, str | None]:
    """USCG-style fields after the checksum: the first 10-digit UNIX time (if plausible) and
    the first ``r``/``b`` station id, as tracker documents them."""
    after = _AFTER_CHECKSUM.search(line)
    ts = station = None
    for field in after.group(1).split(b",") if after else []:
        if ts is None and re.fullmatch(rb"\d{10}(\.\d+)?", field):
            ts = from_epoch(float(field))
        elif station is None and re.fullmatch(rb"[rb]\w+", field):
            station = field.decode()
    if ts is not None and time_problem(ts) is not None:
        ts = None
    return ts, station


def _lines_of(path) -> list[bytes]:
    with open_binary(path) as fh:
        return [line for _, line in numbered_lines(fh, path=path)]


# --------------------------------------------------------------------------- the oracle


def _eta(msg) -> str | None:
    """ETA text as tracker documents it: month-day and, when valid, hour:minute."""
    if not msg.month or not msg.day or msg.month > 12 or msg.day > 31:
        return None
    if msg.hour < 24 and msg.minute < 60:
        return f"{msg.month:02d}-{msg.day:02d} {msg.hour:02d}:{msg.minute:02d}"
    return f"{msg.month:02d}-{msg.day:02d}"


def pyais_expected(raw: str, assume_time: datetime | None) -> dict:
    """What one decoded message must hold, from pyais' own decode of its sentence(s), the
    published normalisation and transmission identity, and times read off the raw line."""
    lines = [text.encode() for text in raw.split("\n")]
    parts = [AISSentence(_SENTENCE.search(line).group()) for line in lines]
    nmea = AISSentence.assemble_from_iterable(parts) if len(parts) > 1 else parts[0]
    msg = nmea.decode()
    position = static = None
    if msg.msg_type in POSITION_TYPES:
        position = position_values(
            msg.msg_type,
            lon=msg.lon,
            lat=msg.lat,
            speed=getattr(msg, "speed", None),
            course=getattr(msg, "course", None),
            heading=getattr(msg, "heading", None),
            status=getattr(msg, "status", None),
        )
    if msg.msg_type == 5:
        static = static_values(
            imo=msg.imo,
            name=msg.shipname,
            callsign=msg.callsign,
            ship_type=nmea.bv.get(232, 8),  # the raw code (pyais' enum collapses some)
            to_bow=msg.to_bow,
            to_stern=msg.to_stern,
            to_port=msg.to_port,
            to_starboard=msg.to_starboard,
            draught=msg.draught,
            destination=msg.destination,
            eta=_eta(msg),
        )
    elif msg.msg_type == 19:
        static = static_values(
            name=msg.shipname,
            ship_type=nmea.bv.get(263, 8),
            to_bow=msg.to_bow,
            to_stern=msg.to_stern,
            to_port=msg.to_port,
            to_starboard=msg.to_starboard,
        )
    elif msg.msg_type == 24 and msg.partno == 0:
        static = static_values(name=msg.shipname)
    elif msg.msg_type == 24:
        static = static_values(
            callsign=msg.callsign,
            ship_type=nmea.bv.get(40, 8),
            to_bow=getattr(msg, "to_bow", None),
            to_stern=getattr(msg, "to_stern", None),
            to_port=getattr(msg, "to_port", None),
            to_starboard=getattr(msg, "to_starboard", None),
        )
    ts, assumed, source = None, False, None
    for line in lines:
        tag_time, tag_source = _TAG_TIME.search(line), _TAG_SOURCE.search(line)
        receiver_ts, station = receiver_fields(line)
        if ts is None and tag_time:
            ts = from_epoch(float(tag_time.group(1)))
        ts = ts or receiver_ts
        if source is None:
            if tag_source and tag_source.group(1):
                source = tag_source.group(1).decode()
            else:
                source = station
    if ts is None:
        ts, assumed = assume_time, True
    key, neighbours = transmission_identity(
        msg.msg_type,
        msg.mmsi,
        nmea.payload.decode(),
        nmea.fill_bits,
        ts,
        getattr(msg, "second", None),
    )
    return {
        "msg_type": msg.msg_type,
        "mmsi": msg.mmsi,
        "ts_us": us_from_datetime(ts),
        "ts_assumed": assumed,
        "source": source,
        "key": key,
        "nb_prev": neighbours[0] if neighbours else 0,
        "nb_next": neighbours[1] if neighbours else 0,
        "position": position,
        "static": static,
        "second": getattr(msg, "second", None),
    }


def assert_matches_pyais(batch: MessageBatch, assume_time: datetime | None) -> int:
    """Every row of ``batch`` equals pyais' decode of its raw text; returns the row count."""
    for i in range(len(batch)):
        want = pyais_expected(batch.raw[i], assume_time)
        where = f"line {batch.line[i]}: {batch.raw[i]!r}"
        for name in ("msg_type", "mmsi", "ts_us", "ts_assumed", "source", "key"):
            assert getattr(batch, name)[i] == want[name], f"{name} {where}"
        assert batch.nb_prev[i] == want["nb_prev"] and batch.nb_next[i] == want["nb_next"], where
        second = want["second"]
        exact = want["msg_type"] in SECOND_FIELD_TYPES and second is not None and second <= 59
        windowed = not exact
        assert batch.windowed[i] == windowed, where
        assert batch.position_dict(i) == want["position"], where
        got_static = batch.static_dict(i)
        assert got_static == want["static"], where
        if got_static is not None:  # the same Python types as the pyais path stores
            for name in STATIC_FIELDS:
                assert type(got_static[name]) is type(want["static"][name]), f"{name} {where}"
    return len(batch)


# --------------------------------------------------------------------------- comparisons


def assert_same_batches(fast: MessageBatch, slow: MessageBatch) -> None:
    """Column by column equality (NaN equals NaN; object columns also by type)."""
    assert len(fast) == len(slow)
    for f in fields(MessageBatch):
        if f.name == "statics":
            for name in STATIC_FIELDS:
                a, b = fast.statics[name], slow.statics[name]
                assert [(type(x), x) for x in a] == [(type(y), y) for y in b], name
            continue
        a, b = getattr(fast, f.name), getattr(slow, f.name)
        assert a.dtype == b.dtype, f.name
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), f.name
        elif a.dtype == object:
            assert [(type(x), x) for x in a] == [(type(y), y) for y in b], f.name
        else:
            assert np.array_equal(a, b), f.name


def decode_both(lines: list[bytes], size: int, assume_time: datetime | None, path="t.nmea"):
    """Fast on and off over the same chunks: per chunk, ``(fast, slow)`` batches and bad
    records (the file end's included)."""
    fast = NMEADecoder(path, assume_time=assume_time, fast=True)
    slow = NMEADecoder(path, assume_time=assume_time, fast=False)
    out = []
    for start in range(0, len(lines), size):
        chunk = lines[start : start + size]
        out.append((fast.decode(chunk, start + 1), slow.decode(chunk, start + 1)))
    out.append((fast.finish(), slow.finish()))
    return out


def assert_fast_equals_slow(lines, size, assume_time, path="t.nmea") -> tuple[int, int]:
    """Fast on/off give the same batches and bad records, chunk by chunk; returns the
    numbers of messages and bad records."""
    messages = bad = 0
    for (fast_batch, fast_bad), (slow_batch, slow_bad) in decode_both(
        lines, size, assume_time, path
    ):
        assert_same_batches(fast_batch, slow_batch)
        assert Counter(fast_bad) == Counter(slow_bad)
        messages += len(slow_batch)
        bad += len(slow_bad)
    return messages, bad


def fast_only(lines: list[bytes], size: int, assume_time) -> tuple[MessageBatch, int]:
    """The vectorised path's own batches over the chunks, and the lines they cover."""
    batches = [
        fast_decode(lines[s : s + size], s + 1, assume_time=assume_time)
        for s in range(0, len(lines), size)
    ]
    return MessageBatch.concat([c.batch for c in batches]), sum(c.decoded_lines for c in batches)


# --------------------------------------------------------------------------- real data


@pytest.mark.parametrize("relative", sorted(REAL))
def test_real_recording_fast_rows_equal_pyais(shared_file, relative):
    path = shared_file(relative)
    lines = _lines_of(path)
    assume = ASSUMED if REAL[relative] else None
    batch, covered = fast_only(lines, 5000, assume)
    assert assert_matches_pyais(batch, assume) == len(batch)
    share = covered / len(lines)
    assert share >= MIN_SHARE.get(relative, 0.0), f"{relative}: {share:.3f} of lines decoded"
    if relative in MIN_SHARE:
        assert len(batch) > 500


@pytest.mark.parametrize("relative", sorted(REAL))
def test_real_recording_fast_on_off_identical(shared_file, relative):
    path = shared_file(relative)
    lines = _lines_of(path)
    assume = ASSUMED if REAL[relative] else None
    if len(lines) > 10_000:  # tiny chunks over the first lines, then the whole file
        cases = [(lines[:8000], 7), (lines, 997), (lines, 20_000)]
    else:
        cases = [(lines, size) for size in (1, 7, 100, 10_000)]
    for subset, size in cases:
        messages, _bad = assert_fast_equals_slow(subset, size, assume, str(path))
        assert messages > 0


def test_aishub_with_tag_blocks_and_without_assumed_time(shared_file):
    """The AISHub sample as a tagged feed (station and UNIX time per line, as the bench
    makes it): the vectorised path decodes nearly all of it, equal to pyais and to the pyais
    path, and lines without a time are left to the pyais path to quarantine."""
    raw = _lines_of(shared_file("ais/aishub/aishub-ais-nmea-sample.log.gz"))[:20_000]
    tagged = []
    for i, line in enumerate(raw):
        tag = b"s:aishub%d,c:%d" % (i // 1000 % 5, 1_700_000_000 + i // 300)
        keep_untagged = i % 997 == 0
        prefix = b"" if keep_untagged else b"\\%s*%02X\\" % (tag, reduce(xor, tag, 0))
        tagged.append(prefix + line if line.startswith(b"!") else line)
    batch, covered = fast_only(tagged, 4000, None)
    assert covered / len(tagged) > 0.9
    assert not batch.ts_assumed.any()
    assert assert_matches_pyais(batch, None) == len(batch)
    messages, bad = assert_fast_equals_slow(tagged, 4000, None)
    assert bad >= 10  # the untagged lines: "no time for this message"
    assert messages > len(batch)


# --------------------------------------------------------------------------- generated


def _tagged(sentence: str, epoch: int, station: str) -> bytes:
    tag = f"s:{station},c:{epoch}".encode()
    return b"\\%s*%02X\\%s" % (tag, reduce(xor, tag, 0), sentence.encode())


_MMSI = st.one_of(
    st.sampled_from([0, 1, 999_999_999, 981_234_567, 2_300_000, 1_073_741_823]),
    st.integers(0, 2**30 - 1),
)
_LON = st.one_of(st.sampled_from([181.0, -180.0, 180.0, 0.0, -0.0001]), st.floats(-180, 180))
_LAT = st.one_of(st.sampled_from([91.0, -90.0, 90.0, -0.0001]), st.floats(-90, 90))
_SPEED = st.one_of(st.sampled_from([102.3, 102.2, 0.0]), st.integers(0, 1023).map(lambda v: v / 10))
_COURSE = st.one_of(
    st.sampled_from([360.0, 359.9, 409.5]), st.integers(0, 4095).map(lambda v: v / 10)
)
_HEADING = st.one_of(st.sampled_from([511, 360, 359, 0]), st.integers(0, 511))
_SECOND = st.integers(0, 63)
_TEXT = st.text(alphabet="@ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789-.,/", max_size=22)


@st.composite
def ais_message(draw) -> dict:
    msg_type = draw(st.sampled_from([1, 2, 3, 18, 4, 5, 24, 24, 27, 21]))
    data = {"type": msg_type, "mmsi": draw(_MMSI)}
    if msg_type in (1, 2, 3, 18):
        data |= {
            "lon": draw(_LON),
            "lat": draw(_LAT),
            "speed": draw(_SPEED),
            "course": draw(_COURSE),
            "heading": draw(_HEADING),
            "second": draw(_SECOND),
        }
        if msg_type != 18:
            data["status"] = draw(st.integers(0, 15))
    elif msg_type in (4, 21):
        data |= {"lon": draw(_LON), "lat": draw(_LAT), "second": draw(_SECOND)}
        if msg_type == 21:
            data["name"] = draw(_TEXT)
    elif msg_type == 27:
        data |= {
            "lon": draw(st.one_of(st.just(181.0), st.floats(-180, 180))),
            "lat": draw(st.one_of(st.just(91.0), st.floats(-90, 90))),
            "speed": draw(st.integers(0, 63)),
            "course": draw(st.integers(0, 511)),
            "status": draw(st.integers(0, 15)),
        }
    elif msg_type == 5:
        data |= {
            "imo": draw(st.sampled_from([0, 9_999_998, 2**30 - 1])),
            "shipname": draw(_TEXT),
            "callsign": draw(_TEXT.map(lambda t: t[:7])),
            "destination": draw(_TEXT),
            "ship_type": draw(st.integers(0, 255)),
            "to_bow": draw(st.integers(0, 511)),
            "to_stern": draw(st.integers(0, 511)),
            "to_port": draw(st.integers(0, 63)),
            "to_starboard": draw(st.integers(0, 63)),
            "draught": draw(st.integers(0, 255)) / 10,
            "month": draw(st.integers(0, 15)),
            "day": draw(st.integers(0, 31)),
            "hour": draw(st.integers(0, 31)),
            "minute": draw(st.integers(0, 63)),
        }
    else:  # 24
        part = draw(st.integers(0, 1))
        data["partno"] = part
        if part == 0:
            data["shipname"] = draw(_TEXT)
        else:
            data |= {
                "callsign": draw(_TEXT.map(lambda t: t[:7])),
                "ship_type": draw(st.integers(0, 255)),
                "to_bow": draw(st.integers(0, 511)),
                "to_stern": draw(st.integers(0, 511)),
                "to_port": draw(st.integers(0, 63)),
                "to_starboard": draw(st.integers(0, 63)),
                "mothership_mmsi": draw(_MMSI),  # read instead of dimensions for 98xxxxxxx
            }
    return data


@st.composite
def generated_lines(draw) -> tuple[list[bytes], datetime | None]:
    """A leading sentence (the chunk's first candidate goes to the pyais path) and messages
    encoded by pyais, each with or without a tag block."""
    tagged = draw(st.sampled_from(["all", "none", "some"]))
    assume = None if tagged == "all" else ASSUMED
    epoch = 1_600_000_000 + draw(st.integers(0, 10**8))
    lines = [b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"]
    for n, data in enumerate(draw(st.lists(ais_message(), min_size=1, max_size=6))):
        sentences = encode_dict(data, talker_id="AI", sentence_type="VDM", seq_id=n % 10)
        with_tag = tagged == "all" or (tagged == "some" and draw(st.booleans()))
        station = draw(st.sampled_from(["r003669945", "aishub1", "x"]))
        for sentence in sentences:
            lines.append(_tagged(sentence, epoch + n, station) if with_tag else sentence.encode())
    if assume is None:
        lines[0] = _tagged(lines[0].decode(), epoch, "x")
    return lines, assume


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_lines())
def test_generated_edge_values_fast_equals_pyais_and_slow(case):
    lines, assume = case
    chunk = fast_decode(lines, 1, assume_time=assume)
    assert_matches_pyais(chunk.batch, assume)
    # everything in range is decoded here: what is left is the first line and bad values
    for number, line in (item for item in chunk.rest if isinstance(item, tuple)):
        text = line.decode()
        if number == 1 or "!AIVDM,2" in text:
            continue
        try:
            want = pyais_expected(text, assume)
        except OutOfRange:
            continue  # quarantined by the pyais path, with its reason
        if want["position"] is not None:
            pytest.fail(f"in-range position left to the pyais path: {text}")
    for size in (1, 2, len(lines)):
        assert_fast_equals_slow(lines, size, assume)


def test_generated_edge_values_are_decoded_here():
    """Sentinels and extremes the vectorised path must handle itself (not defer)."""
    edge = [
        {
            "type": 1,
            "mmsi": 999_999_999,
            "lon": 181,
            "lat": 91,
            "speed": 102.3,
            "heading": 511,
            "course": 360,
            "second": 60,
            "status": 15,
        },
        {
            "type": 2,
            "mmsi": 0,
            "lon": -180,
            "lat": -90,
            "speed": 102.2,
            "heading": 359,
            "course": 359.9,
            "second": 59,
            "status": 0,
        },
        {"type": 3, "mmsi": 1, "lon": -0.5, "lat": -0.25, "speed": 0, "second": 63, "status": 14},
        {"type": 18, "mmsi": 1_073_741_823, "lon": 180, "lat": 90, "speed": 102.3, "second": 61},
        {"type": 4, "mmsi": 2_300_000, "lon": 10.5, "lat": 91, "second": 62},
        {"type": 24, "partno": 0, "mmsi": 999_000_024, "shipname": "@@EDGE @ NAME  @@"},
        {
            "type": 24,
            "partno": 1,
            "mmsi": 981_234_567,
            "callsign": "AUX",
            "ship_type": 255,
            "mothership_mmsi": 999_000_001,
        },
        {
            "type": 5,
            "mmsi": 999_000_005,
            "shipname": "",
            "destination": "@",
            "imo": 0,
            "ship_type": 99,
            "to_bow": 1,
            "to_stern": 0,
            "month": 13,
            "day": 1,
        },
        {
            "type": 27,
            "mmsi": 999_000_027,
            "lon": 181,
            "lat": 91,
            "speed": 63,
            "course": 511,
            "status": 15,
        },
    ]
    edge += [
        {"type": 1, "mmsi": 999_000_100 + s, "lon": 1, "lat": 1, "status": s} for s in range(16)
    ]
    lines = [b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"]
    for n, data in enumerate(edge):
        for sentence in encode_dict(data, talker_id="AI", sentence_type="VDM", seq_id=n % 10):
            lines.append(_tagged(sentence, 1_700_000_000 + n, "edge"))
    chunk = fast_decode(lines, 1, assume_time=None)
    assert len(chunk.batch) == len(edge)
    assert chunk.decoded_lines == len(lines) - 1
    assert_matches_pyais(chunk.batch, None)
    assert sorted(set(chunk.batch.nav_status.tolist())) == [-1, *range(15)]
    for size in (1, 3, len(lines)):
        assert_fast_equals_slow(lines, size, None)


# --------------------------------------------------------------------------- hostile mixes


def _checksum(body: str) -> str:
    return f"{reduce(xor, body.encode(), 0):02X}"


def _sentence(body: str) -> bytes:
    return f"!{body}*{_checksum(body)}".encode()


POS = "AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"
TYPE5 = encode_dict(
    {"type": 5, "mmsi": 999_000_002, "shipname": "HOSTILE", "callsign": "H1"},
    talker_id="AI",
    sentence_type="VDM",
    seq_id=3,
)
TYPE5_G = [
    b"\\g:1-2-77,s:st1,c:1700000001*00\\" + TYPE5[0].encode(),
    b"\\g:2-2-77*00\\" + TYPE5[1].encode(),
]
POOL = [
    _sentence(POS),
    b"\\s:st1,c:1700000000*00\\" + _sentence(POS),
    b"\\c:1700000000,c:1700000005*00\\" + _sentence(POS),  # c: twice
    b"\\c:170000000x*00\\" + _sentence(POS),  # unreadable c:
    b"\\c:946684800*00\\" + _sentence(POS),  # 2000: plausible
    b"\\c:315532800*00\\" + _sentence(POS),  # 1980: implausible
    b"\\c:1700000000123*00\\" + _sentence(POS),  # milliseconds
    b"\\s:a b,c:1700000000*00\\" + _sentence(POS),  # a space in the station
    _sentence(POS)[:-2] + b"00",  # bad checksum
    _sentence("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQ,0"),  # truncated payload
    _sentence("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05I~,0"),  # outside the 6-bit alphabet
    _sentence("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,6"),  # fill bits 6
    _sentence("AIVDM,1,1,,A,,0"),  # empty payload
    _sentence("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0,extra"),
    _sentence("AIvdm,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"),
    _sentence("AIVDM,1,1,12,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"),
    _sentence(POS) + b",r003669945,1325394060",  # USCG receiver fields
    _sentence(POS) + b",b003669945,1325394060.5,1325394001",
    _sentence(POS) + b"!" + _sentence(POS)[1:],  # two sentences on a line
    b"2024-05-01T10:00:00Z " + _sentence(POS),  # leading time
    b"1714557600 " + _sentence(POS),
    b"$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17",
    b"$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D",
    b"",
    b"# a comment",
    b"   ",
    b"garbage\x00\x1b line",
    _sentence(POS) + b"\\x0d\\x0a",  # literal escapes some loggers write
    _sentence(POS) + b" ",
    TYPE5[0].encode(),
    TYPE5[1].encode(),
    TYPE5_G[0],
    TYPE5_G[1],
    b"\\g:1-2-78,c:1700000002*00\\" + TYPE5[0].encode(),
    b"\\s:st2*00\\" + TYPE5[1].encode(),
    _sentence("AIVDM,2,2,3,A,00000000000,2"),  # an orphan fragment 2
    OverlongLine(_sentence(POS) + b"x" * 300, 5_000_000),
    OverlongLine(_sentence(POS), 5_000_000),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=60),
    st.integers(1, 12),
    st.sampled_from([None, ASSUMED]),
)
def test_hostile_mixtures_fast_on_off_identical(picks, size, assume):
    lines = [POOL[i] for i in picks]
    assert_fast_equals_slow(lines, size, assume)


def test_hostile_mixture_long_file_with_stale_groups():
    """Stale multi-part groups are given up at the same lines whichever lines the pyais path
    sees (fragments 1 without their 2 spread over hundreds of lines, decoded pairs between)."""
    lines = []
    for i in range(1500):
        if i % 37 == 0:
            lines.append(TYPE5[0].encode())  # a group that never completes
        elif i % 53 == 0:
            lines.extend([TYPE5[0].encode(), TYPE5[1].encode()])  # the same slot, complete
        elif i % 211 == 0:
            lines.append(TYPE5[1].encode())
        else:
            lines.append(b"\\s:st1,c:%d*00\\" % (1_700_000_000 + i) + _sentence(POS))
    for size in (1, 7, 99, 100, 101, 333, 2000):
        messages, bad = assert_fast_equals_slow(lines, size, None)
        assert messages > 1400 and bad > 10
    chunk = fast_decode(lines, 1, assume_time=None)
    assert chunk.decoded_lines > 1400


def test_gatehouse_time_waiting_across_a_chunk_edge():
    """A $PGHP time at the end of one chunk applies to the first sentence of the next."""
    pghp = b"$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17"
    lines = [_sentence(POS)] * 5 + [pghp] + [_sentence(POS)] * 5
    for size in range(1, 12):
        messages, _bad = assert_fast_equals_slow(lines, size, ASSUMED)
        assert messages == 10
    fast = NMEADecoder("t", assume_time=ASSUMED)
    batch, _ = fast.decode(lines[:6], 1)
    batch, _ = fast.decode(lines[6:], 7)
    assert not batch.ts_assumed[0] and batch.ts_assumed[1:].all()


def test_fast_chunk_is_picklable_and_rest_is_in_line_order():
    import pickle

    lines = [line for line in POOL if b"PGHP" not in line] * 3  # ($PGHP: all to pyais)
    sent = pickle.loads(pickle.dumps(lines))  # chunks travel to worker processes
    assert sent == lines and [type(x) for x in sent] == [type(x) for x in lines]
    assert [x.length for x in sent if isinstance(x, OverlongLine)] == [5_000_000] * 6
    chunk = fast_decode(lines, 10, assume_time=ASSUMED)
    again = pickle.loads(pickle.dumps(chunk))
    assert isinstance(again, FastChunk)
    assert_same_batches(again.batch, chunk.batch)
    assert again.rest == chunk.rest
    overlong = [item[1] for item in again.rest if isinstance(item, tuple)]
    overlong = [line for line in overlong if isinstance(line, OverlongLine)]
    assert len(overlong) == 6 and all(line.length == 5_000_000 for line in overlong)
    numbers = [item[0] if isinstance(item, tuple) else item.line for item in chunk.rest]
    assert numbers == sorted(numbers)
    assert chunk.last_number == 10 + len(lines) - 1
    assert len(chunk.batch) > 0


def test_assumed_time_not_utc_is_left_to_the_pyais_path():
    """An assumed time in another zone (or naive) is never used by the vectorised path."""
    from datetime import timezone

    lines = [_sentence(POS)] * 4
    for assume in (
        datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        datetime(2020, 1, 1, 12),
    ):
        chunk = fast_decode(lines, 1, assume_time=assume)
        assert len(chunk.batch) == 0
        assert_fast_equals_slow(lines, 2, assume)


# --------------------------------------------------------------------------- every type

_ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"


def _armour(bits: int, count: int) -> str:
    """The ``count`` six-bit characters of the integer ``bits`` (6 * count bits, MSB first)."""
    return "".join(_ARMOUR[(bits >> (6 * (count - 1 - i))) & 63] for i in range(count))


def _payload_bits(draw, msg_type: int, chars: int) -> int:
    """Random payload bits of ``chars`` characters starting with ``msg_type``; for types 6/8
    the DAC/FID of one of pyais' variants half of the time."""
    total = 6 * chars
    bits = draw(st.integers(0, 2**total - 1)) & ((1 << (total - 6)) - 1)
    bits |= msg_type << (total - 6)

    def put(start: int, width: int, value: int) -> None:
        nonlocal bits
        if start + width <= total:
            shift = total - start - width
            bits = (bits & ~(((1 << width) - 1) << shift)) | (value << shift)

    variants = {6: (72, sorted(_MSG6_VARIANTS)), 8: (40, sorted(_MSG8_VARIANTS))}
    if msg_type in variants and draw(st.booleans()):
        at, keys = variants[msg_type]
        dac, fid = draw(st.sampled_from(keys))
        put(at, 10, dac)
        put(at + 10, 6, fid)
    return bits


@st.composite
def any_type_sentences(draw) -> list[str]:
    """One message of any type (random bits, any length, any fill bits) as one sentence or,
    for longer payloads, two fragments; lengths around the limits pyais and tracker use."""
    msg_type = draw(
        st.one_of(
            st.sampled_from(sorted(OTHER_TYPES)),
            st.sampled_from([1, 2, 3, 4, 5, 9, 18, 19, 21, 24, 27]),
            st.integers(0, 63),
        )
    )
    chars = draw(st.one_of(st.integers(1, 90), st.sampled_from([6, 7, 28, 29, 34, 52, 53, 71])))
    fill = draw(st.integers(0, 5))
    payload = _armour(_payload_bits(draw, msg_type, chars), chars)
    seq = draw(st.sampled_from(["", "4"]))
    if chars > 10 and draw(st.booleans()):
        cut = draw(st.integers(1, chars - 1))
        first, second = draw(st.sampled_from([(0, fill), (fill, fill), (2, 0)]))
        return [
            _sentence(f"AIVDM,2,1,{seq or 4},A,{payload[:cut]},{first}").decode(),
            _sentence(f"AIVDM,2,2,{seq or 4},A,{payload[cut:]},{second}").decode(),
        ]
    return [_sentence(f"AIVDM,1,1,{seq},B,{payload},{fill}").decode()]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_type_sentences(), min_size=1, max_size=8), st.booleans())
def test_any_type_any_length_fast_equals_pyais_and_slow(messages, tagged):
    """Random payloads of every type: what the vectorised path decodes equals pyais' decode
    (oracle), the pyais path gives the same batches and bad records, and a single or
    two-part message of a type tracker does not store (38 bits or more) is decoded here."""
    lines = [_sentence(POS)]  # the chunk's first candidate goes to the pyais path
    for n, sentences in enumerate(messages):
        for sentence in sentences:
            lines.append(
                _tagged(sentence, 1_700_000_000 + n, "st") if tagged else sentence.encode()
            )
    assume = None if tagged else ASSUMED
    if tagged:
        lines[0] = _tagged(lines[0].decode(), 1_700_000_000, "st")
    chunk = fast_decode(lines, 1, assume_time=assume)
    assert_matches_pyais(chunk.batch, assume)
    for size in (1, 3, len(lines)):
        assert_fast_equals_slow(lines, size, assume)
    done = set(chunk.batch.line.tolist()) | set(chunk.batch.line_end.tolist())
    number = 2
    for sentences in messages:
        nmea = [AISSentence(s.encode()) for s in sentences]
        # fragment 1 must hold the whole type field, or pyais reads another type
        type_whole = len(nmea[0].payload) * 6 - nmea[0].fill_bits >= 6
        whole = AISSentence.assemble_from_iterable(nmea) if len(nmea) > 1 else nmea[0]
        if whole.ais_id in OTHER_TYPES and len(whole.bv) >= 38 and type_whole:
            assert number in done, f"type {whole.ais_id} left to the pyais path: {sentences}"
        number += len(sentences)


@settings(max_examples=2000, deadline=None)
@given(st.data())
def test_pyais_decodes_every_payload_of_the_types_not_stored(data):
    """The premise of decoding these types without pyais: any payload of 38 bits or more
    decodes without an error, with the type and the MMSI of its first bits (all DAC/FID
    variants of types 6 and 8 included)."""
    msg_type = data.draw(st.sampled_from(sorted(OTHER_TYPES)))
    chars = data.draw(st.integers(7, 170))
    fill = data.draw(st.integers(0, 5))
    bits = _payload_bits(data.draw, msg_type, chars)
    if 6 * chars - fill < 38:
        return
    sentence = AISSentence(_sentence(f"AIVDM,1,1,,A,{_armour(bits, chars)},{fill}"))
    decoded = sentence.decode()
    assert decoded.msg_type == msg_type
    assert decoded.mmsi == (bits >> (6 * chars - 38)) & (2**30 - 1)


def test_real_recordings_every_kind_decoded_here(shared_file):
    """The vectorised path itself decodes (and test_real_recording_fast_rows_equal_pyais
    checks against pyais) types 9 and 19, longer-than-standard type 1/3 payloads and single
    and two-part messages of the types tracker does not store."""
    seen: Counter = Counter()
    for relative, needs_time in REAL.items():
        lines = _lines_of(shared_file(relative))
        batch, _covered = fast_only(lines, 5000, ASSUMED if needs_time else None)
        for i in range(len(batch)):
            kind, two = int(batch.msg_type[i]), bool(batch.line_end[i] > batch.line[i])
            payload_chars = len(batch.raw[i].split("\n")[0].split("*")[-2].split(",")[-2])
            if kind in OTHER_TYPES:
                seen["other two-part" if two else "other single"] += 1
                assert not batch.has_pos[i] and not batch.has_static[i]
            elif kind == 19:
                seen["19"] += 1
                assert batch.has_pos[i] and batch.has_static[i]
            elif kind == 9:
                seen["9"] += 1
            elif kind in (1, 3) and payload_chars > 28:
                seen["long 1/3"] += 1
    for kind in ("other single", "other two-part", "19", "9", "long 1/3"):
        assert seen[kind] >= 5, f"{kind}: {seen}"
