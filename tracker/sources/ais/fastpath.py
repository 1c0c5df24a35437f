"""Vectorised decoding of NMEA AIS lines (numpy), field-identical to the pyais path.

:func:`fast_decode` takes a chunk of input lines and decodes, column-wise, every line it can
decode *with certainty* into a :class:`~tracker.sources.ais.batch.MessageBatch`; every other
line is left, in order, for the line-by-line pyais reader (:class:`~tracker.sources.ais.nmea.
NMEAStream`), which quarantines bad lines with its worded reasons. :class:`NMEADecoder` joins
both over one file and keeps the state that spans chunks. The result is the same as the pyais
reader's over the whole file (tests: real recordings, generated edge values, hostile mixes).

What the vectorised path decodes: lines that are exactly one ``!xxVDM``/``!xxVDO`` sentence
(any two-character talker), optionally after one tag block (``\\s:..,c:<UNIX s or ms>*hh\\``;
the tag checksum is not enforced, as in :mod:`~tracker.sources.ais.nmea`), or followed by
USCG-style receiver fields (``,r<station>,<UNIX time>``, read per line with the pyais path's
own rule), of message types 1, 2, 3, 4, 18, 21, 24 and 27 with their standard bit lengths,
and two-sentence type 5 messages whose fragments are adjacent lines of the chunk. Bytes are
split on a numpy view of the chunk (positions of the separator characters), checksums are
``bitwise_xor.reduceat``, payloads are de-armoured and bit fields read as big-endian 64-bit
windows, scaled exactly as pyais 3 does (``((10 * v + 3) // 6) / 1e6`` degrees, tenths of
knots and degrees) and normalised as :mod:`~tracker.sources.ais.normalise` does ("not
available" -> NaN/None). Transmission keys are :func:`~tracker.sources.ais.nmea.
transmission_identity`'s: the key texts are built as byte matrices and each hashed with
SHA-1 (hashlib, ~0.4 us a message: the largest single cost).

Left to the pyais path: anything else, and anything unusual in a candidate line (bad
checksum, characters outside the 6-bit alphabet, other lengths, out-of-range values, an
implausible or unreadable time, a ``c:`` or ``s:`` given twice, control characters or spaces
anywhere in the line, a line of 200 bytes or more). Equivalence across chunks:

- a decoded two-part group leaves a :class:`~tracker.sources.ais.nmea.GroupStart` marker in
  ``rest``, so an incomplete group pending on the same slot is given up as the line-by-line
  reader does when a new fragment 1 arrives;
- a ``$PGHP`` time applies to the next AIS sentence: a chunk with any line holding ``HP``
  goes entirely to the pyais path, and the first line of each chunk the vectorised path
  could decode is left to the pyais path too (a ``$PGHP`` at the end of the previous chunk
  may be waiting for it);
- the expiry of stale multi-part groups does not depend on which lines the pyais path sees
  (:class:`~tracker.sources.ais.nmea.NMEAStream`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter

import numpy as np

from tracker.core.config import MAX_BEAM_M, MAX_DRAUGHT_M, MAX_LENGTH_M, limits
from tracker.core.records import BadRecord
from tracker.core.text import TextProblem, check_text
from tracker.sources.ais.batch import MessageBatch, us_from_datetime
from tracker.sources.ais.nmea import GroupStart, NMEAStream, _tag_fields, _trailing
from tracker.sources.ais.records import STATIC_FIELDS, AISMessage, message_key

__all__ = ["FastChunk", "NMEADecoder", "fast_decode"]

_NL, _BANG, _STAR, _COMMA, _COLON, _BSL = 10, 33, 42, 44, 58, 92
#: Lines this long or longer are left to the pyais path (an over-long line's kept head is
#: 200 bytes: it is never taken for a sentence).
_MAX_FAST_LINE = 200

#: Armoured payload character -> six-bit value; 255 outside the AIS alphabet ("0"-"W", "`"-"w").
_SIX = np.full(256, 255, np.uint8)
_SIX[48:88] = np.arange(0, 40)
_SIX[96:120] = np.arange(40, 64)
#: Hexadecimal digit -> value; 255 for any other byte.
_HEX = np.full(256, 255, np.uint8)
_HEX[48:58] = np.arange(10)
_HEX[65:71] = np.arange(10, 16)
_HEX[97:103] = np.arange(10, 16)
#: Six-bit value -> text character (pyais: "@", "A".."Z", ..., " ", "!".."?").
_TEXT = np.array([v + 64 if v < 32 else v for v in range(64)], np.uint8)
_POW10 = 10 ** np.arange(19, dtype=np.int64)
_BAR = np.frombuffer(b"|", np.uint8)
_T_TAIL = np.frombuffer(b"t|", np.uint8)
_W_TAIL = np.frombuffer(b"w|", np.uint8)
_UTC_SUFFIX = np.frombuffer(b"+00:00", np.uint8)

#: Bit layouts of the position types: (start, width) of each field pyais reads, or None.
#: Coordinates are 28/27 bits in 1/10000 minute, or 18/17 bits in 1/10 minute for type 27.
_POSITION_LAYOUT: dict[int, dict[str, tuple[int, int] | None]] = {
    1: {
        "status": (38, 4),
        "speed": (50, 10),
        "lon": (61, 28),
        "lat": (89, 27),
        "course": (116, 12),
        "heading": (128, 9),
        "second": (137, 6),
    },
    18: {
        "status": None,
        "speed": (46, 10),
        "lon": (57, 28),
        "lat": (85, 27),
        "course": (112, 12),
        "heading": (124, 9),
        "second": (133, 6),
    },
    4: {
        "status": None,
        "speed": None,
        "lon": (79, 28),
        "lat": (107, 27),
        "course": None,
        "heading": None,
        "second": (72, 6),
    },
    21: {
        "status": None,
        "speed": None,
        "lon": (164, 28),
        "lat": (192, 27),
        "course": None,
        "heading": None,
        "second": (253, 6),
    },
    27: {
        "status": (40, 4),
        "speed": (79, 6),
        "lon": (44, 18),
        "lat": (62, 17),
        "course": (85, 9),
        "heading": None,
        "second": None,
    },
}
#: Layout class of each single-sentence type decoded here (2 and 3 read as 1).
_LAYOUT_OF = {1: 1, 2: 1, 3: 1, 4: 4, 18: 18, 21: 21, 27: 27}
#: Payload bits accepted per single-sentence type (the standard lengths; 21 may carry a
#: name extension). Type 24 is checked by part (A: 160 or 168, B: 168).
_BITS_OK = {1: (168, 168), 2: (168, 168), 3: (168, 168), 4: (168, 168), 18: (168, 168)}
_BITS_OK |= {21: (272, 360), 27: (96, 96), 24: (160, 168)}
#: Total bits accepted for a two-part type 5 (every field tracker reads ends by bit 422).
_TYPE5_BITS = (422, 432)
#: Types whose payload carries the UTC second (nmea.SECOND_FIELD_TYPES, as decoded here).
_SECOND_TYPES = (1, 2, 3, 4, 18, 21)
_AUX_CRAFT = (980_000_000, 989_999_999)  # pyais: 98XXXYYYY MMSIs carry a mothership MMSI


@dataclass
class FastChunk:
    """What :func:`fast_decode` made of one chunk of lines.

    ``batch``: the lines it decoded; ``rest``: every other line as ``(number, bytes)`` and the
    :class:`~tracker.sources.ais.nmea.GroupStart` markers, in line order, for the pyais path;
    ``last_number``: the number of the chunk's last line.
    """

    batch: MessageBatch
    rest: list = field(default_factory=list)
    last_number: int = 0

    @property
    def decoded_lines(self) -> int:
        """Input lines the vectorised path decoded (a two-part message counts two)."""
        return int(np.sum(self.batch.line_end - self.batch.line + 1)) if len(self.batch) else 0


# --------------------------------------------------------------------------- byte helpers


def _rows(arr: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``(len(starts), width)`` bytes of ``arr`` beginning at each of ``starts``."""
    if width == 0:
        return np.zeros((len(starts), 0), np.uint8)
    return np.lib.stride_tricks.sliding_window_view(arr, width)[starts]


def _pack(six: np.ndarray) -> np.ndarray:
    """Six-bit values ``(n, chars)`` -> their bits as bytes ``(n, k)``, 8 zero bytes padded."""
    n, chars = six.shape
    groups = -(-chars // 4)
    padded = np.zeros((n, groups * 4), np.uint8)
    padded[:, :chars] = six
    a, b, c, d = (padded[:, i::4] for i in range(4))
    out = np.zeros((n, groups * 3 + 8), np.uint8)
    body = out[:, : groups * 3].reshape(n, groups, 3)
    body[:, :, 0] = (a << 2) | (b >> 4)
    body[:, :, 1] = ((b & 15) << 4) | (c >> 2)
    body[:, :, 2] = ((c & 3) << 6) | d
    return out


def _bits(packed: np.ndarray, start: int, width: int, signed: bool = False) -> np.ndarray:
    """The ``width``-bit field at bit ``start`` of every row (int64; two's complement if
    ``signed``), read as a big-endian 64-bit window of the packed bytes."""
    window = np.ndarray(
        (packed.shape[0],),
        dtype=">u8",
        buffer=packed,
        offset=start // 8,
        strides=(packed.strides[0],),
    ).astype(np.uint64)
    value = ((window >> np.uint64(64 - start % 8 - width)) & np.uint64((1 << width) - 1)).astype(
        np.int64
    )
    if signed:
        value -= (value >> (width - 1)) << width
    return value


def _text_field(packed: np.ndarray, start: int, chars: int) -> list[str | None]:
    """A six-bit text field as tracker stores it: pyais' text (trailing ``@`` and spaces
    stripped), ``@`` as space, stripped, ``None`` when empty (normalise.clean_text)."""
    codes = np.stack([_bits(packed, start + 6 * i, 6) for i in range(chars)], axis=1)
    text = _TEXT[codes].view(f"S{chars}").ravel().tolist()
    out: list[str | None] = []
    for value in text:
        cleaned = value.decode("ascii").rstrip("@").strip().replace("@", " ").strip()
        out.append(cleaned or None)
    return out


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Decimal digits of non-negative ``values`` as ASCII, ``(n, width)``, zero padded."""
    out = np.empty((len(values), width), np.uint8)
    rest = values.astype(np.int64)
    for j in range(width - 1, -1, -1):
        out[:, j] = rest % 10 + 48
        rest = rest // 10
    return out


def _n_digits(values: np.ndarray) -> np.ndarray:
    """How many decimal digits each non-negative value is written with (at least 1)."""
    return np.searchsorted(_POW10[1:], values, side="right") + 1


def _iso_seconds(seconds: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS`` of UNIX seconds as ASCII bytes ``(n, 19)``."""
    if not len(seconds):
        return np.zeros((0, 19), np.uint8)
    low, high = int(seconds.min()), int(seconds.max())
    if high - low < max(4096, 2 * len(seconds)):
        table = np.arange(low, high + 1).astype("datetime64[s]").astype("S19")
        return table.view(np.uint8).reshape(-1, 19)[seconds - low]
    return seconds.astype("datetime64[s]").astype("S19").view(np.uint8).reshape(-1, 19)


def _sha_keys(texts: list[bytes]) -> np.ndarray:
    """Signed 64-bit transmission keys (records.message_key) of the key texts."""
    if not texts:
        return np.zeros(0, np.int64)
    sha1 = hashlib.sha1
    digests = b"".join([sha1(t).digest() for t in texts])
    first8 = np.frombuffer(digests, np.uint8).reshape(-1, 20)[:, :8].copy()
    return first8.view(">i8").ravel().astype(np.int64)


# --------------------------------------------------------------------------- keys


def _keys(
    msg_type: np.ndarray,
    mmsi: np.ndarray,
    payload: np.ndarray,
    fill: np.ndarray,
    ts_us: np.ndarray,
    second: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(key, windowed, nb_prev, nb_next)`` per row, as nmea.transmission_identity gives them
    for (type, MMSI, payload text ``payload`` (ASCII rows), fill bits, reception time in us,
    UTC second or -1)."""
    n = len(msg_type)
    exact = np.isin(msg_type, _SECOND_TYPES) & (second >= 0) & (second <= 59)
    # exact: the latest whole second <= reception + 5 s whose second is the field's
    limit = (ts_us + 5_000_000) // 1_000_000
    sent = limit - limit % 60 + second
    sent = np.where(sent > limit, sent - 60, sent)
    # windowed: int(received.timestamp() // 60), in float as Python computes it
    bucket = np.floor_divide(ts_us / 1e6, 60.0).astype(np.int64)
    win = np.flatnonzero(~exact)
    ex = np.flatnonzero(exact)
    # one entry per text to hash: (row, slot 0 key / 1 prev / 2 next, tail kind, tail value)
    rows = np.concatenate([ex, win, win, win])
    slots = np.concatenate(
        [
            np.zeros(len(ex) + len(win), np.int8),
            np.ones(len(win), np.int8),
            np.full(len(win), 2, np.int8),
        ]
    )
    windowed_entry = np.concatenate([np.zeros(len(ex), bool), np.ones(3 * len(win), bool)])
    tail_value = np.concatenate([sent[ex], bucket[win], bucket[win] - 1, bucket[win] + 1])
    keys = np.zeros((3, n), np.int64)
    if not len(rows):
        return keys[0], ~exact, keys[1], keys[2]
    t_len = _n_digits(msg_type[rows])
    m_len = _n_digits(mmsi[rows])
    tail_len = np.where(windowed_entry, 2 + _n_digits(tail_value), 27)
    group = (t_len * 16 + m_len) * 64 + tail_len
    width = payload.shape[1]
    for code in np.unique(group):
        sel = np.flatnonzero(group == code)
        tl, ml, tail = int(code // 1024), int(code // 64 % 16), int(code % 64)
        r = rows[sel]
        total = tl + 1 + ml + 1 + width + 3 + tail
        text = np.empty((len(sel), total), np.uint8)
        pos = 0
        for part in (
            _digits(msg_type[r], tl),
            _BAR,
            _digits(mmsi[r], ml),
            _BAR,
            payload[r],
            _BAR,
            (fill[r] + 48).astype(np.uint8)[:, None],
            _BAR,
        ):
            text[:, pos : pos + part.shape[-1]] = part
            pos += part.shape[-1]
        if windowed_entry[sel[0]]:
            text[:, pos : pos + 2] = _W_TAIL
            text[:, pos + 2 :] = _digits(tail_value[sel], tail - 2)
        else:
            text[:, pos : pos + 2] = _T_TAIL
            text[:, pos + 2 : pos + 21] = _iso_seconds(tail_value[sel])
            text[:, pos + 21 :] = _UTC_SUFFIX
        texts = text.view(f"S{total}").ravel().tolist()
        keys[slots[sel], r] = _sha_keys(texts)
    return keys[0], ~exact, keys[1], keys[2]


# --------------------------------------------------------------------------- text columns


def _pick(items: list, index: np.ndarray) -> list:
    """``[items[i] for i in index]`` (C-level)."""
    if len(index) == 0:
        return []
    if len(index) == 1:
        return [items[int(index[0])]]
    return list(itemgetter(*index.tolist())(items))


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _span_strings(arr: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The ASCII text at each span of ``arr`` as str objects (``None`` for an empty span)."""
    out = np.empty(len(starts), dtype=object)
    for width in np.unique(lengths).tolist():
        sel = np.flatnonzero(lengths == width)
        if width == 0:
            continue
        rows = _rows(arr, starts[sel], width)
        if width <= 8:
            words = np.zeros((len(sel), 8), np.uint8)
            words[:, :width] = rows
            codes = words.view(">u8").ravel()
        else:
            codes = np.ascontiguousarray(rows).view(f"S{width}").ravel()
        uniq, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        texts = _objects([rows[i].tobytes().decode("ascii") for i in first.tolist()])
        out[sel] = texts[inverse.ravel()]
    return out


# --------------------------------------------------------------------------- decoding


def _positions(packed: np.ndarray, msg_type: np.ndarray, layout: int) -> dict[str, np.ndarray]:
    """Position columns (normalise.position_values) of rows sharing one bit layout, and
    ``ok``: False where a value is out of range (left to the pyais path to quarantine)."""
    spec = _POSITION_LAYOUT[layout]
    n = packed.shape[0]
    nan = np.full(n, np.nan)
    lon_at, lat_at = spec["lon"], spec["lat"]
    lon_raw = _bits(packed, *lon_at, signed=True)
    lat_raw = _bits(packed, *lat_at, signed=True)
    if layout == 27:  # 1/10 minute
        lon = ((10_000 * lon_raw + 3) // 6) / 1e6
        lat = ((10_000 * lat_raw + 3) // 6) / 1e6
    else:  # 1/10000 minute
        lon = ((10 * lon_raw + 3) // 6) / 1e6
        lat = ((10 * lat_raw + 3) // 6) / 1e6
    lon_na = np.abs(lon - 181.0) < 1e-6
    lat_na = np.abs(lat - 91.0) < 1e-6
    ok = (lon_na | ((lon >= -180.0) & (lon <= 180.0))) & (lat_na | ((lat >= -90.0) & (lat <= 90.0)))
    none = lon_na | lat_na
    out = {"lon": np.where(none, np.nan, lon), "lat": np.where(none, np.nan, lat)}
    if spec["speed"] is not None:
        raw = _bits(packed, *spec["speed"]).astype(np.float64)
        sog, unavailable = (raw, 63.0) if layout == 27 else (raw / 10.0, 102.3)
        sog_na = np.abs(sog - unavailable) < 1e-6
        ok &= sog_na | ((sog >= 0.0) & (sog < unavailable))
        out["sog_kn"] = np.where(sog_na, np.nan, sog)
    else:
        out["sog_kn"] = nan
    if spec["course"] is not None:
        raw = _bits(packed, *spec["course"]).astype(np.float64)
        cog = raw if layout == 27 else raw / 10.0
        out["cog_deg"] = np.where((cog >= 0.0) & (cog < 360.0), cog, np.nan)
    else:
        out["cog_deg"] = nan
    if spec["heading"] is not None:
        hdg = _bits(packed, *spec["heading"]).astype(np.float64)
        out["heading_deg"] = np.where(hdg < 360.0, hdg, np.nan)
    else:
        out["heading_deg"] = nan
    if spec["status"] is not None:
        status = _bits(packed, *spec["status"])
        out["nav_status"] = np.where(status == 15, -1, status).astype(np.int16)
    else:
        out["nav_status"] = np.full(n, -1, np.int16)
    out["second"] = _bits(packed, *spec["second"]) if spec["second"] else np.full(n, -1)
    out["ok"] = ok
    return out


def _int_objects(values: np.ndarray, none: np.ndarray) -> np.ndarray:
    out = _objects(values.tolist())
    out[none] = None
    return out


def _dims(
    packed: np.ndarray, at: int, present: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """to_bow/to_stern/to_port/to_starboard (9, 9, 6, 6 bits from ``at``), length and beam
    (normalise.static_values: 0 -> None); ``ok`` False where length/beam is out of range."""
    out: dict[str, np.ndarray] = {}
    raw = {}
    for name, start, width in (
        ("to_bow", at, 9),
        ("to_stern", at + 9, 9),
        ("to_port", at + 18, 6),
        ("to_starboard", at + 24, 6),
    ):
        value = _bits(packed, start, width)
        raw[name] = value
        out[name] = _int_objects(value, ~present | (value == 0))
    n = packed.shape[0]
    ok = np.ones(n, bool)
    for name, (a, b), high in (
        ("length_m", ("to_bow", "to_stern"), MAX_LENGTH_M),
        ("beam_m", ("to_port", "to_starboard"), MAX_BEAM_M),
    ):
        given = present & (raw[a] > 0) & (raw[b] > 0)
        total = (raw[a] + raw[b]).astype(np.float64)
        ok &= ~given | (total <= high)
        out[name] = _int_objects(total, ~given)
    return out, ok


def _statics_24(packed: np.ndarray, mmsi: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Static columns of type 24 parts A (name) and B (call sign, ship type, dimensions)."""
    n = packed.shape[0]
    part_b = _bits(packed, 38, 2) == 1
    out = {name: np.full(n, None, dtype=object) for name in STATIC_FIELDS}
    ok = np.ones(n, bool)
    a_rows = np.flatnonzero(~part_b)
    b_rows = np.flatnonzero(part_b)
    if len(a_rows):
        out["name"][a_rows] = _objects(_text_field(packed[a_rows], 40, 20))
    if len(b_rows):
        pb = packed[b_rows]
        ship_type = _bits(pb, 40, 8)
        out["ship_type"][b_rows] = _int_objects(ship_type, ship_type == 0)
        out["callsign"][b_rows] = _objects(_text_field(pb, 90, 7))
        aux = (mmsi[b_rows] >= _AUX_CRAFT[0]) & (mmsi[b_rows] <= _AUX_CRAFT[1])
        dims, dims_ok = _dims(pb, 132, ~aux)
        for name, values in dims.items():
            out[name][b_rows] = values
        ok[b_rows] = dims_ok
    return out, ok


def _statics_5(packed: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Static columns of type 5 (normalise.static_values; ETA as nmea._eta writes it)."""
    n = packed.shape[0]
    imo = _bits(packed, 40, 30)
    ship_type = _bits(packed, 232, 8)
    draught = _bits(packed, 294, 8) / 10.0
    out = {
        "imo": _int_objects(imo, imo == 0),
        "callsign": _objects(_text_field(packed, 70, 7)),
        "name": _objects(_text_field(packed, 112, 20)),
        "ship_type": _int_objects(ship_type, ship_type == 0),
        "draught_m": _int_objects(draught, draught == 0),
        "destination": _objects(_text_field(packed, 302, 20)),
    }
    dims, ok = _dims(packed, 240, np.ones(n, bool))
    out.update(dims)
    ok &= draught <= MAX_DRAUGHT_M
    month, day = _bits(packed, 274, 4).tolist(), _bits(packed, 278, 5).tolist()
    hour, minute = _bits(packed, 283, 5).tolist(), _bits(packed, 288, 6).tolist()
    eta: list[str | None] = []
    for mo, d, h, mi in zip(month, day, hour, minute, strict=True):
        if not mo or not d or mo > 12 or d > 31:
            eta.append(None)
        elif h < 24 and mi < 60:
            eta.append(f"{mo:02d}-{d:02d} {h:02d}:{mi:02d}")
        else:
            eta.append(f"{mo:02d}-{d:02d}")
    out["eta"] = _objects(eta)
    return out, ok


# --------------------------------------------------------------------------- the chunk


def _all_rest(lines: list[bytes], first_number: int) -> FastChunk:
    return FastChunk(
        MessageBatch.empty(),
        list(zip(range(first_number, first_number + len(lines)), lines, strict=True)),
        first_number + len(lines) - 1,
    )


def _assume_us(assume_time: datetime | None) -> int | None:
    """``assume_time`` in microseconds when the vectorised path can use it (an aware UTC time
    of years 1971-9000, whose ISO text and window number it rebuilds exactly), else None."""
    if assume_time is None or assume_time.tzinfo is not UTC:
        return None
    if not 1971 <= assume_time.year <= 9000:
        return None
    return us_from_datetime(assume_time)


class _Lines:
    """Column view of one chunk: where every candidate sentence's fields are (compressed to
    the candidate lines; ``li`` gives their index in the chunk)."""

    def __init__(self, lines: list[bytes]) -> None:
        n = len(lines)
        self.n = n
        lens = np.fromiter(map(len, lines), np.int64, count=n)
        buf = b"\n".join(lines) + b"\n"
        arr = self.arr = np.frombuffer(buf, np.uint8)
        ends = np.cumsum(lens + 1) - 1  # each line's "\n"
        starts = ends - lens
        # separators and anything that is not printable ASCII: the structure of each line
        special = (arr < 45) | (arr == _BSL) | (arr > 126)
        sp = np.flatnonzero(special)
        csp = arr[sp]
        nonc = np.flatnonzero(csp != _COMMA)
        cnc = csp[nonc]
        nl = np.flatnonzero(cnc == _NL)
        self.valid = len(nl) == n  # False if a "line" holds a newline: none decoded here
        if not self.valid:
            return
        # the non-comma separators of a line, last first: "*", "!", then "\" ("*") "\" if tagged
        knc = np.diff(nl, prepend=-1)

        def back(k: int) -> np.ndarray:
            return cnc.take(nl - k, mode="clip")

        notag = knc == 3
        tag5 = (knc == 5) & (back(3) == _BSL) & (back(4) == _BSL)
        tag6 = (knc == 6) & (back(3) == _BSL) & (back(4) == _STAR) & (back(5) == _BSL)
        cap = min(_MAX_FAST_LINE - 1, limits().max_line_bytes)
        ok = (lens <= cap) & (back(1) == _STAR) & (back(2) == _BANG) & (notag | tag5 | tag6)
        if set(map(type, lines)) != {bytes}:  # an OverlongLine (or any other kind): never here
            ok &= np.fromiter((type(x) is bytes for x in lines), bool, count=n)
        li = np.flatnonzero(ok)
        jl = nl[li]
        k_star, k_bang = nonc[jl - 1], nonc[jl - 2]
        bang, star = sp[k_bang], sp[k_star]
        start, end = starts[li], ends[li]
        tagged = ~notag[li]
        t6 = tag6[li]
        k_open = np.where(t6, nonc.take(jl - 5, mode="clip"), nonc.take(jl - 4, mode="clip"))
        k_close = nonc.take(jl - 3, mode="clip")
        k_tag_end = np.where(t6, nonc.take(jl - 4, mode="clip"), k_close)

        def at(pos: np.ndarray) -> np.ndarray:
            return arr.take(pos, mode="clip").astype(np.int16)

        good = k_star - k_bang == 7
        good &= np.where(
            tagged,
            (sp.take(k_open, mode="clip") == start) & (sp[k_close] + 1 == bang),
            bang == start,
        )
        good &= ~t6 | (k_close - k_tag_end == 1)  # the tag's "*" is its last separator
        trailing = ~tagged & (star + 3 < end) & (at(star + 3) == _COMMA)
        good &= (star + 3 == end) | trailing
        c1, c2, c3, c4, c5, c6 = (sp.take(k_bang + j, mode="clip") for j in range(1, 7))
        good &= c1 == bang + 6
        good &= (at(bang + 3) == ord("V")) & (at(bang + 4) == ord("D"))
        good &= (at(bang + 5) == ord("M")) | (at(bang + 5) == ord("O"))
        count = at(c1 + 1) - 48
        number = at(c2 + 1) - 48
        good &= (c2 == c1 + 2) & ((count == 1) | (count == 2))
        good &= (c3 == c2 + 2) & (number >= 1) & (number <= count)
        seq_len = c4 - c3 - 1
        seq = at(c3 + 1) - 48
        good &= (seq_len == 0) | ((seq_len == 1) & (seq >= 0) & (seq <= 9))
        good &= (c5 - c4 - 1 >= 0) & (c5 - c4 - 1 <= 1)  # channel: none or one character
        pay_len = c6 - c5 - 1
        fill = at(c6 + 1) - 48
        good &= (pay_len >= 1) & (star == c6 + 2) & (fill >= 0) & (fill <= 5)
        hi, lo = _HEX[arr.take(star + 1, mode="clip")], _HEX[arr.take(star + 2, mode="clip")]
        good &= (hi != 255) & (lo != 255)
        bounds = np.empty(2 * len(li), np.int64)
        bounds[0::2] = np.minimum(bang + 1, len(arr) - 1)
        bounds[1::2] = np.minimum(star, len(arr) - 1)
        if len(li):
            computed = np.bitwise_xor.reduceat(arr, bounds)[0::2]
            good &= computed == (hi.astype(np.int16) * 16 + lo)
        keep = np.flatnonzero(good)
        self.li = li[keep]
        self.start, self.end, self.bang, self.star = start[keep], end[keep], bang[keep], star[keep]
        self.tagged, self.trailing = tagged[keep], trailing[keep]
        self.count, self.number = count[keep], number[keep]
        self.seq_start, self.seq_len = c3[keep] + 1, seq_len[keep]
        self.chan_start, self.chan_len = c4[keep] + 1, (c5 - c4 - 1)[keep]
        self.pay_start, self.pay_len, self.fill = c5[keep] + 1, pay_len[keep], fill[keep]
        self.msg_type = _SIX[arr.take(self.pay_start, mode="clip")].astype(np.int64)
        self.k_open, self.k_tag_end, self.k_close = k_open[keep], k_tag_end[keep], k_close[keep]
        self.sp = sp

    def times_and_sources(
        self, lines: list[bytes]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per candidate: ``(usable, has_ts, ts_us, source)``; usable is False where the time
        or the source is unusual (left to the pyais path), ``ts_us`` the reception time in
        microseconds where ``has_ts`` (tag ``c:`` or receiver fields)."""
        m = len(self.li)
        arr, sp = self.arr, self.sp
        usable = np.ones(m, bool)
        has_ts = np.zeros(m, bool)
        ts_us = np.zeros(m, np.int64)
        source = np.full(m, None, dtype=object)
        rows = np.flatnonzero(self.tagged)
        if len(rows):
            # tag fields: parts start after the opening "\" and after each "," before the end
            k_open, k_end = self.k_open[rows], self.k_tag_end[rows]
            counts = k_end - k_open
            total = int(counts.sum())
            owner = np.repeat(rows, counts)
            offsets = np.repeat(k_open - (np.cumsum(counts) - counts), counts)
            kk = np.arange(total) + offsets
            p_start = sp[kk] + 1
            p_len = sp[kk + 1] - p_start
            key = arr.take(p_start, mode="clip")
            colon = (p_len >= 2) & (arr.take(p_start + 1, mode="clip") == _COLON)
            for name in (b"c", b"s"):
                hit = colon & (key == name[0])
                per_row = np.bincount(owner[hit], minlength=m)
                usable &= per_row <= 1
                hit &= per_row[owner] == 1
                v_start, v_len, who = p_start[hit] + 2, p_len[hit] - 2, owner[hit]
                if name == b"s":
                    source[who] = _span_strings(arr, v_start, v_len)
                    continue
                for width in np.unique(v_len).tolist():
                    sel = np.flatnonzero(v_len == width)
                    if not 1 <= width <= 13:
                        usable[who[sel]] = False
                        continue
                    digits = _rows(arr, v_start[sel], width).astype(np.int64) - 48
                    clean = ((digits >= 0) & (digits <= 9)).all(axis=1)
                    value = digits @ _POW10[width - 1 :: -1]
                    # from_epoch: above 1e11 the value is milliseconds
                    us = np.where(value > 100_000_000_000, value * 1000, value * 1_000_000)
                    usable[who[sel[~clean]]] = False
                    ts_us[who[sel[clean]]] = us[clean]
                    has_ts[who[sel[clean]]] = True
        lim = limits()
        early, late = us_from_datetime(lim.earliest_time), us_from_datetime(lim.latest_time)
        usable &= ~has_ts | ((ts_us >= early) & (ts_us <= late))
        for i in np.flatnonzero(self.trailing).tolist():  # receiver fields: pyais path's rule
            line = lines[int(self.li[i])]
            trail_ts, station = _trailing(line[int(self.star[i] - self.start[i]) + 3 :])
            try:
                source[i] = check_text(station, "source station", max_chars=200)
            except TextProblem:
                usable[i] = False
            if trail_ts is not None:
                ts_us[i] = us_from_datetime(trail_ts)
                has_ts[i] = True
        return usable, has_ts, ts_us, source


def _batch(
    lines_at: np.ndarray,
    line_end: np.ndarray,
    msg_type: np.ndarray,
    mmsi: np.ndarray,
    ts_us: np.ndarray,
    assumed: np.ndarray,
    source: np.ndarray,
    keys: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    raw: list[str],
    position: dict[str, np.ndarray] | None,
    statics: dict[str, np.ndarray] | None,
) -> MessageBatch:
    n = len(lines_at)
    key, windowed, nb_prev, nb_next = keys
    if position is None:
        position = {name: np.full(n, np.nan) for name in ("lon", "lat", "sog_kn", "cog_deg")}
        position |= {"heading_deg": np.full(n, np.nan), "nav_status": np.full(n, -1, np.int16)}
        has_pos = np.zeros(n, bool)
    else:
        has_pos = np.ones(n, bool)
    if statics is None:
        statics = {name: np.full(n, None, dtype=object) for name in STATIC_FIELDS}
        has_static = np.zeros(n, bool)
    else:
        has_static = np.ones(n, bool)
    return MessageBatch(
        line=lines_at.astype(np.int64),
        line_end=line_end.astype(np.int64),
        msg_type=msg_type.astype(np.int16),
        mmsi=mmsi.astype(np.int64),
        ts_us=ts_us.astype(np.int64),
        ts_assumed=assumed.astype(bool),
        source=source,
        key=key,
        windowed=windowed,
        nb_prev=np.where(windowed, nb_prev, 0),
        nb_next=np.where(windowed, nb_next, 0),
        raw=_objects(raw),
        has_pos=has_pos,
        lon=position["lon"],
        lat=position["lat"],
        sog_kn=position["sog_kn"],
        cog_deg=position["cog_deg"],
        heading_deg=position["heading_deg"],
        nav_status=position["nav_status"].astype(np.int16),
        has_static=has_static,
        statics=statics,
    )


def _singles(
    view: _Lines,
    lines: list[bytes],
    first_number: int,
    rows: np.ndarray,
    ts_us: np.ndarray,
    assumed: np.ndarray,
    source: np.ndarray,
) -> list[MessageBatch]:
    """Decode the single-sentence candidates ``rows`` (one payload length at a time)."""
    arr = view.arr
    out: list[MessageBatch] = []
    pay_len = view.pay_len[rows]
    for width in np.unique(pay_len).tolist():
        group = rows[pay_len == width]
        payload = np.ascontiguousarray(_rows(arr, view.pay_start[group], width))
        six = _SIX[payload]
        alphabet = (six != 255).all(axis=1)
        group, payload, six = group[alphabet], payload[alphabet], six[alphabet]
        packed = _pack(six)
        msg_type = view.msg_type[group]
        mmsi = _bits(packed, 8, 30)
        bits = width * 6 - view.fill[group]
        for layout in (1, 4, 18, 21, 27, 24):
            if layout == 24:
                sel = np.flatnonzero(msg_type == 24)
            else:
                sel = np.flatnonzero(
                    np.isin(msg_type, [t for t, c in _LAYOUT_OF.items() if c == layout])
                )
            if not len(sel):
                continue
            pk = packed[sel]
            second = np.full(len(sel), -1)
            position = statics = None
            if layout == 24:
                part = _bits(pk, 38, 2)
                statics, ok = _statics_24(pk, mmsi[sel])
                ok &= ((part == 0) & (bits[sel] >= 160)) | ((part == 1) & (bits[sel] >= 162))
            else:
                position = _positions(pk, msg_type[sel], layout)
                ok, second = position.pop("ok"), position.pop("second")
            take = np.flatnonzero(ok)
            if not len(take):
                continue
            r = group[sel[take]]
            if position is not None:
                position = {k: v[take] for k, v in position.items()}
            if statics is not None:
                statics = {k: v[take] for k, v in statics.items()}
            keys = _keys(
                msg_type[sel[take]],
                mmsi[sel[take]],
                payload[sel[take]],
                view.fill[r],
                ts_us[r],
                second[take],
            )
            numbers = view.li[r] + first_number
            raw = list(map(bytes.decode, _pick(lines, view.li[r])))
            out.append(
                _batch(
                    numbers,
                    numbers,
                    msg_type[sel[take]],
                    mmsi[sel[take]],
                    ts_us[r],
                    assumed[r],
                    source[r],
                    keys,
                    raw,
                    position,
                    statics,
                )
            )
    return out


def _pair_slot(view: _Lines, lines: list[bytes], r: int, source: str | None) -> tuple:
    """The pending-group slot (nmea.fragment_slot) of the two-part fragment at candidate ``r``."""
    line = lines[int(view.li[r])]
    start = int(view.start[r])
    if view.tagged[r]:
        tags = _tag_fields(line[1 : int(view.sp[view.k_close[r]]) - start])
        group_id = tags.get("g", "").rsplit("-", 1)[-1]
        if group_id:
            return ("g", group_id, 2)
    bang = int(view.bang[r]) - start
    seq_at = int(view.seq_start[r]) - start
    chan_at = int(view.chan_start[r]) - start
    return (
        line[bang + 1 : bang + 3].decode("ascii"),
        line[bang + 3 : bang + 6].decode("ascii"),
        line[chan_at : chan_at + int(view.chan_len[r])].decode("ascii"),
        int(line[seq_at : seq_at + 1]) if view.seq_len[r] else None,
        2,
        source,
    )


def _pairs(
    view: _Lines,
    lines: list[bytes],
    first_number: int,
    usable: np.ndarray,
    has_ts: np.ndarray,
    ts_us: np.ndarray,
    source: np.ndarray,
    assume_us: int | None,
) -> tuple[list[MessageBatch], list[GroupStart]]:
    """Decode two-part type 5 messages whose fragments are adjacent candidate lines."""
    m = len(view.li)
    two = usable & (view.count == 2) & ~view.trailing
    first = np.flatnonzero(two & (view.number == 1) & (view.msg_type == 5))
    if not len(first):
        return [], []
    index_of = np.full(view.n + 1, -1, np.int64)
    index_of[view.li] = np.arange(m)
    second = index_of[view.li[first] + 1]
    ok = second >= 0
    second = np.where(ok, second, 0)
    ok &= two[second] & (view.number[second] == 2)
    ok &= has_ts[first] | has_ts[second] | (assume_us is not None)
    bits = (view.pay_len[first] + view.pay_len[second]) * 6 - view.fill[second]
    ok &= (bits >= _TYPE5_BITS[0]) & (bits <= _TYPE5_BITS[1])
    first, second = first[ok], second[ok]
    slots: list[tuple] = []
    same: list[bool] = []
    for a, b in zip(first.tolist(), second.tolist(), strict=True):
        slot = _pair_slot(view, lines, a, source[a])
        slots.append(slot)
        same.append(slot == _pair_slot(view, lines, b, source[b]))
    same_slot = np.array(same, bool)
    first, second = first[same_slot], second[same_slot]
    slots = [s for s, keep in zip(slots, same, strict=True) if keep]
    out: list[MessageBatch] = []
    markers: list[GroupStart] = []
    arr = view.arr
    widths = view.pay_len[first] * 256 + view.pay_len[second]
    for code in np.unique(widths).tolist():
        sel = np.flatnonzero(widths == code)
        a, b = first[sel], second[sel]
        payload = np.concatenate(
            [_rows(arr, view.pay_start[a], code // 256), _rows(arr, view.pay_start[b], code % 256)],
            axis=1,
        )
        six = _SIX[payload]
        good = (six != 255).all(axis=1)
        packed = _pack(np.where(six == 255, 0, six).astype(np.uint8))
        statics, static_ok = _statics_5(packed)
        good &= static_ok
        take = np.flatnonzero(good)
        if not len(take):
            continue
        a, b, payload, packed = a[take], b[take], payload[take], packed[take]
        statics = {k: v[take] for k, v in statics.items()}
        mmsi = _bits(packed, 8, 30)
        ts_pair = np.where(has_ts[a], ts_us[a], np.where(has_ts[b], ts_us[b], assume_us or 0))
        assumed = ~(has_ts[a] | has_ts[b])
        src = [x or y for x, y in zip(source[a].tolist(), source[b].tolist(), strict=True)]
        keys = np.zeros((3, len(a)), np.int64)
        fill_first = view.fill[a].tolist()
        for i, (text, who, t_us, fill) in enumerate(
            zip(
                payload.view(f"S{payload.shape[1]}").ravel().tolist(),
                mmsi.tolist(),
                ts_pair.tolist(),
                fill_first,
                strict=True,
            )
        ):
            bucket = int((t_us / 1e6) // 60)
            content = (5, who, text.decode("ascii"), fill, "w")
            keys[:, i] = [
                message_key(*content, bucket),
                message_key(*content, bucket - 1),
                message_key(*content, bucket + 1),
            ]
        raw = [
            f"{x}\n{y}"
            for x, y in zip(
                map(bytes.decode, _pick(lines, view.li[a])),
                map(bytes.decode, _pick(lines, view.li[b])),
                strict=True,
            )
        ]
        n = len(a)
        out.append(
            _batch(
                view.li[a] + first_number,
                view.li[b] + first_number,
                np.full(n, 5),
                mmsi,
                ts_pair,
                assumed,
                _objects(src),
                (keys[0], np.ones(n, bool), keys[1], keys[2]),
                raw,
                None,
                statics,
            )
        )
        for i in sel[take].tolist():
            markers.append(GroupStart(int(view.li[first[i]]) + first_number, slots[i]))
    return out, markers


def _maybe_gatehouse(line: bytes) -> bool:
    """Whether the pyais path could read a ``$PGHP`` time sentence in ``line`` (its test:
    the sentence body starts ``PGHP`` or its type field is ``HP``)."""
    upper = line.upper()
    return b"PGHP" in upper or b"HP*" in upper


def fast_decode(
    lines: list[bytes], first_number: int, *, assume_time: datetime | None = None
) -> FastChunk:
    """Decode, vectorised, the lines of a chunk that can be decoded with certainty.

    ``lines``: consecutive input lines without line endings (as
    :func:`~tracker.sources.ais.textio.numbered_lines` gives them; an
    :class:`~tracker.sources.ais.textio.OverlongLine` is left alone), numbered from
    ``first_number``. Lines without a time of their own take ``assume_time`` (``ts_assumed``).
    Pure and picklable: runs in worker processes. See the module docstring for what is left
    in ``rest``.
    """
    n = len(lines)
    last_number = first_number + n - 1
    if n == 0:
        return FastChunk(MessageBatch.empty(), [], last_number)
    view = _Lines(lines)
    if not view.valid or not len(view.li):
        return _all_rest(lines, first_number)
    assume_us = _assume_us(assume_time)
    usable, has_ts, ts_us, source = view.times_and_sources(lines)
    single = usable & (view.count == 1) & (has_ts | (assume_us is not None))
    bits = view.pay_len * 6 - view.fill
    fits = np.zeros(len(single), bool)
    for msg_type, (low, high) in _BITS_OK.items():
        fits |= (view.msg_type == msg_type) & (bits >= low) & (bits <= high)
    single &= fits
    ts_single = np.where(has_ts, ts_us, assume_us or 0)
    parts = _singles(view, lines, first_number, np.flatnonzero(single), ts_single, ~has_ts, source)
    pair_parts, markers = _pairs(
        view, lines, first_number, usable, has_ts, ts_us, source, assume_us
    )
    batch = MessageBatch.concat(parts + pair_parts)
    if not len(batch):
        return _all_rest(lines, first_number)
    # the first line decoded here goes back: a $PGHP time may be waiting for it
    first_line = int(batch.line[0])
    batch = batch.take(np.arange(1, len(batch)))
    markers = [m for m in markers if m.line != first_line]
    done = np.zeros(n, bool)
    done[batch.line - first_number] = True
    done[batch.line_end - first_number] = True
    rest_index = np.flatnonzero(~done)
    rest_lines = _pick(lines, rest_index)
    if any(_maybe_gatehouse(line) for line in rest_lines):  # a $PGHP time: all to pyais
        return _all_rest(lines, first_number)
    rest: list = list(zip((rest_index + first_number).tolist(), rest_lines, strict=True))
    if markers:
        rest = sorted(
            rest + markers, key=lambda item: item.line if isinstance(item, GroupStart) else item[0]
        )
    return FastChunk(batch, rest, last_number)


class NMEADecoder:
    """Decode one NMEA file chunk by chunk: the vectorised path, then the pyais path
    (:class:`~tracker.sources.ais.nmea.NMEAStream`) over what it left, with the pyais path's
    state (pending fragments, ``$PGHP`` time) kept across chunks.

    Chunks must come in file order, each once. ``fast=False`` sends every line through the
    pyais path (the reference: the results are the same).
    """

    def __init__(
        self, path: str, *, assume_time: datetime | None = None, fast: bool = True
    ) -> None:
        self.path = path
        self.assume_time = assume_time
        self.fast = fast
        self._stream = NMEAStream(path, assume_time=assume_time)

    def complete(self, chunk: FastChunk) -> tuple[MessageBatch, list[BadRecord]]:
        """The chunk's messages (its vectorised batch and what the pyais path decodes of its
        rest, sorted by line) and bad records."""
        messages: list[AISMessage] = []
        bad: list[BadRecord] = []
        for item in self._stream.feed(chunk.rest):
            (bad if isinstance(item, BadRecord) else messages).append(item)
        bad.extend(self._stream.advance(chunk.last_number))
        return MessageBatch.concat([chunk.batch, MessageBatch.from_messages(messages)]), bad

    def decode(self, lines: list[bytes], first_number: int) -> tuple[MessageBatch, list[BadRecord]]:
        """:meth:`complete` of :func:`fast_decode` (or of all lines when ``fast`` is off)."""
        if self.fast:
            chunk = fast_decode(lines, first_number, assume_time=self.assume_time)
        else:
            chunk = _all_rest(lines, first_number)
        return self.complete(chunk)

    def finish(self) -> tuple[MessageBatch, list[BadRecord]]:
        """At the end of the file: multi-part messages still incomplete, as bad records."""
        return MessageBatch.empty(), list(self._stream.finish())
