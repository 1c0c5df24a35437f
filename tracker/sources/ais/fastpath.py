"""Vectorised decoding of NMEA AIS lines (numpy), field-identical to the pyais path.

:func:`fast_decode` takes a chunk of input lines and decodes, column-wise, every line it can
decode *with certainty* into a :class:`~tracker.sources.ais.batch.MessageBatch`; every other
line is left, in order, for the line-by-line pyais reader (:class:`~tracker.sources.ais.nmea.
NMEAStream`), which quarantines bad lines with its worded reasons. :class:`NMEADecoder` joins
both over one file and keeps the state that spans chunks. The result is the same as the pyais
reader's over the whole file (tests: real recordings, generated edge values, hostile mixes).

What the vectorised path decodes: lines that are exactly one ``!xxVDM``/``!xxVDO`` sentence
(any two-character talker), alone, after one tag block (``\\s:..,c:<UNIX s or ms>*hh\\``; the
tag checksum is not enforced, as in :mod:`~tracker.sources.ais.nmea`) or followed by
USCG-style receiver fields (``,r<station>,<UNIX time>``, read per line by the pyais path's
own function); message types 1, 2, 3, 4, 9, 18 (168 bits or more: pyais reads fields by
position and ignores the bits after them), 19 (301 or more: position and static fields), 27
(96), 21 (272-360), 24 (part A 160/168, part B 162-168), the types tracker does not store
(:data:`OTHER_TYPES`, 38 bits or more: rows with neither position nor static fields, counted
and de-duplicated like any message; pyais decodes every such payload, a premise the tests
fuzz) and two-sentence messages of type 5 (422-432 bits) or of those other types whose
fragments are adjacent lines of one pending-group slot (fragment 1 holding the whole type
field, which pyais reads from it). The chunk is joined into one byte buffer; the positions of
its separators (``\\ ! * ,``, newlines and anything not printable ASCII) give each line's
structure; checksums are ``bitwise_xor.reduceat``; payloads are de-armoured arithmetically,
packed into 24-bit groups and bit fields read from 64-bit windows, scaled exactly as pyais 3
does (``((10 * v + 3) // 6) / 1e6`` degrees, ``v / 10`` knots and degrees) and normalised as
:mod:`~tracker.sources.ais.normalise` does ("not available" -> NaN/None, out of range ->
left to pyais). Transmission keys are :func:`~tracker.sources.ais.nmea.transmission_identity`'s:
the key texts are built as byte matrices (ISO times from a per-chunk table) and each hashed
with hashlib's SHA-1 (~0.3 us a text, three texts for a windowed key: the largest single
cost; numpy has no SHA-1); field-width combinations with few rows are formatted one by one. A
:class:`FastChunk` pickles compactly (raw texts as one string, static columns of static rows
only): the main process unpickles what the workers send.

Left to the pyais path: every other line, and anything unusual in a candidate (bad checksum,
characters outside the 6-bit alphabet, other bit lengths, out-of-range values, an unreadable
or implausible time, ``c:``/``s:`` given twice, a space or control character anywhere in
the line, a line of 200 bytes or more, an assumed time that is not UTC). Equivalence across
chunks:

- a decoded two-part message leaves a :class:`~tracker.sources.ais.nmea.GroupStart` marker
  in ``rest``, so an incomplete group pending on the same slot is given up as the
  line-by-line reader does when a new fragment 1 arrives;
- a ``$PGHP`` time applies to the next AIS sentence: a chunk with a line the pyais path
  could read as one goes entirely to the pyais path, and the first line of each chunk the
  vectorised path could decode is left to the pyais path too (a ``$PGHP`` at the end of the
  previous chunk may be waiting for it);
- the expiry of stale multi-part groups does not depend on which lines the pyais path sees
  (:class:`~tracker.sources.ais.nmea.NMEAStream`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from operator import itemgetter

import numpy as np

from tracker.core.config import MAX_BEAM_M, MAX_DRAUGHT_M, MAX_LENGTH_M, limits
from tracker.core.records import BadRecord
from tracker.core.text import TextProblem, check_text
from tracker.sources.ais.batch import FLOAT_POSITION_FIELDS, MessageBatch, us_from_datetime
from tracker.sources.ais.nmea import SECOND_FIELD_TYPES, GroupStart, NMEAStream, _trailing
from tracker.sources.ais.records import STATIC_FIELDS, AISMessage

__all__ = ["OTHER_TYPES", "FastChunk", "NMEADecoder", "fast_decode"]

_NL, _BANG, _STAR, _COMMA, _COLON, _BSL = 10, 33, 42, 44, 58, 92
#: Lines this long or longer are left to the pyais path (an over-long line's kept head is
#: 200 bytes: it is never taken for a sentence).
_MAX_FAST_LINE = 200
#: Zero bytes after the chunk, so fixed-width reads near its end stay inside the buffer.
_PAD = 512

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
_POW10F = 10.0 ** np.arange(16)
_HIGH_BITS = 0x8080808080808080
#: "0000".."9999" as 4-byte words.
_DIGITS4 = np.array([b"%04d" % i for i in range(10_000)], "S4").view(np.uint32)
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
    9: {
        "status": None,
        "speed": (50, 10),
        "lon": (61, 28),
        "lat": (89, 27),
        "course": (116, 12),
        "heading": None,
        "second": (128, 6),
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
#: Layout class of each single-sentence type decoded here (2 and 3 read as 1, 19 as 18 plus
#: its static fields; 0: a type tracker does not store, only its MMSI is read).
_LAYOUT_OF = {1: 1, 2: 1, 3: 1, 4: 4, 9: 9, 18: 18, 19: 19, 21: 21, 27: 27}
#: Types tracker neither stores nor reads past the MMSI ("other" rows). pyais decodes every
#: payload of these types of 38 bits or more (the MMSI whole) without an error, whatever its
#: content (fuzzed over every DAC/FID variant of types 6 and 8: tests/test_fastpath.py).
OTHER_TYPES = frozenset({6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 20, 22, 23, 25, 26})
for _type in OTHER_TYPES:
    _LAYOUT_OF[_type] = 0
_OTHER_LIST = sorted(OTHER_TYPES)
#: Payload bits accepted per single-sentence type. pyais reads fields by position and ignores
#: bits past the last one, so a longer payload (AISHub's 204-bit type 1) decodes as the
#: standard one does. Type 24 is checked by part (A: 160 or 168, B: 168); 21 may carry a name
#: extension; 19 needs its dimensions (bit 301).
_ANY = 6 * _MAX_FAST_LINE
_BITS_OK = {1: (168, _ANY), 2: (168, _ANY), 3: (168, _ANY), 4: (168, _ANY), 18: (168, _ANY)}
_BITS_OK |= {9: (168, _ANY), 19: (301, _ANY), 21: (272, 360), 27: (96, 96), 24: (160, 168)}
_BITS_OK |= {t: (38, _ANY) for t in OTHER_TYPES}
#: Total bits accepted for a two-part type 5 (every field tracker reads ends by bit 422).
_TYPE5_BITS = (422, 432)
#: Types whose UTC second makes an exact key (nmea.SECOND_FIELD_TYPES), by type number.
_HAS_SECOND = np.isin(np.arange(64), sorted(SECOND_FIELD_TYPES))
#: pyais: auxiliary craft (98 + MID + 4 digits) carry a mothership MMSI
_AUX_CRAFT = (980_000_000, 989_999_999)


@dataclass
class FastChunk:
    """What :func:`fast_decode` made of one chunk of lines.

    ``batch``: the lines it decoded; ``rest``: every other line as ``(number, bytes)`` and the
    :class:`~tracker.sources.ais.nmea.GroupStart` markers, in line order, for the pyais path;
    ``last_number``: the number of the chunk's last line.
    """

    batch: MessageBatch
    rest: list[tuple[int, bytes] | GroupStart] = field(default_factory=list)
    last_number: int = 0

    def __reduce__(self) -> tuple:
        # Chunks come back from worker processes and the main process pays for unpickling:
        # the raw texts travel as one string, the static columns for static rows only.
        batch = self.batch
        columns = {
            f.name: getattr(batch, f.name)
            for f in fields(MessageBatch)
            if f.name not in ("raw", "statics")
        }
        raw: np.ndarray | str = batch.raw
        texts = batch.raw.tolist()
        joined = _RAW_SEP.join(texts)
        if all(type(t) is str for t in texts) and joined.count(_RAW_SEP) == max(len(texts) - 1, 0):
            raw = joined
        where = np.flatnonzero(batch.has_static)
        statics = {name: values[where] for name, values in batch.statics.items()}
        # rest as numbers and lines, markers by position (a dataclass each costs ~4 us to load)
        numbers = [item.line if type(item) is GroupStart else item[0] for item in self.rest]
        data = [item.data if type(item) is GroupStart else item[1] for item in self.rest]
        markers = [i for i, item in enumerate(self.rest) if type(item) is GroupStart]
        rest = (numbers, data, markers)
        return _unpickle_chunk, (columns, raw, where, statics, rest, self.last_number)

    @property
    def decoded_lines(self) -> int:
        """Input lines the vectorised path decoded (a two-part message counts two)."""
        return int(np.sum(self.batch.line_end - self.batch.line + 1)) if len(self.batch) else 0


#: Separates the raw texts of a pickled chunk (never in a decoded line: no control characters).
_RAW_SEP = "\x00"


def _unpickle_chunk(
    columns: dict, raw: np.ndarray | str, where: np.ndarray, statics: dict, rest: tuple, last: int
) -> FastChunk:
    n = len(columns["line"])
    if isinstance(raw, str):
        raw = _objects(raw.split(_RAW_SEP) if n else [])
    full = {}
    for name, values in statics.items():
        column = np.full(n, None, dtype=object)
        column[where] = values
        full[name] = column
    numbers, data, markers = rest
    items: list = list(zip(numbers, data, strict=True))
    for i in markers:
        items[i] = GroupStart(numbers[i], data[i])
    return FastChunk(MessageBatch(raw=raw, statics=full, **columns), items, last)


# --------------------------------------------------------------------------- byte helpers


def _rows(arr: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``(len(starts), width)`` bytes of ``arr`` beginning at each of ``starts``."""
    if width == 0:
        return np.zeros((len(starts), 0), np.uint8)
    return np.lib.stride_tricks.sliding_window_view(arr, width)[starts]


def _groups(six: np.ndarray) -> np.ndarray:
    """Six-bit values ``(n, chars)`` (chars a multiple of 4) -> 24-bit groups ``(n, chars / 4)``
    (uint64): bit ``i`` of the payload is bit ``23 - i % 24`` of group ``i // 24``."""
    pairs = (six[:, 0::2].astype(np.uint16) << 6) | six[:, 1::2]
    return ((pairs[:, 0::2].astype(np.uint64) << 12) | pairs[:, 1::2]).astype(np.uint64)


def _bits(groups: np.ndarray, start: int, width: int, signed: bool = False) -> np.ndarray:
    """The ``width``-bit field (at most 30) at bit ``start`` of every row's payload (int64;
    two's complement if ``signed``), read from a 64-bit window over its 24-bit groups."""
    k, offset = divmod(start, 24)
    count = groups.shape[1]
    window = groups[:, k] << 40
    if k + 1 < count:
        window |= groups[:, k + 1] << 16
    if k + 2 < count:
        window |= groups[:, k + 2] >> 8
    value = ((window >> (64 - offset - width)) & ((1 << width) - 1)).astype(np.int64)
    if signed:
        value -= (value >> (width - 1)) << width
    return value


def _text_field(groups: np.ndarray, start: int, chars: int) -> list[str | None]:
    """A six-bit text field as tracker stores it: pyais' text (trailing ``@`` and spaces
    stripped), ``@`` as space, stripped, ``None`` when empty (normalise.clean_text)."""
    at = start + 6 * np.arange(chars)
    k, offset = at // 24, at % 24  # each character lies within two consecutive groups
    pair = (groups[:, k] << 24) | groups[:, np.minimum(k + 1, groups.shape[1] - 1)]
    codes = (pair >> (42 - offset).astype(np.uint64)) & np.uint64(63)
    text = np.take(_TEXT, codes).view(f"S{chars}").ravel().tolist()
    out: list[str | None] = []
    for value in text:
        cleaned = value.decode("ascii").rstrip("@").strip().replace("@", " ").strip()
        out.append(cleaned or None)
    return out


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Decimal digits of non-negative ``values`` as ASCII, ``(n, width)``, zero padded."""
    out = np.empty((len(values), width), np.uint8)
    if width <= 2:
        out[:, -1] = values % 10 + 48
        if width == 2:
            out[:, 0] = values // 10 % 10 + 48
        return out
    rest = values.astype(np.int64)
    end = width
    while end > 0:
        four = np.take(_DIGITS4, rest % 10_000).view(np.uint8).reshape(-1, 4)
        size = min(4, end)
        out[:, end - size : end] = four[:, 4 - size :]
        rest = rest // 10_000
        end -= size
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

#: Key texts of groups (same field widths) smaller than this are formatted one by one.
_SMALL_GROUP = 48


def _small_texts(
    msg_type: np.ndarray,
    mmsi: np.ndarray,
    payload: np.ndarray,
    pay_len: np.ndarray,
    fill: np.ndarray,
    windowed: np.ndarray,
    tail_value: np.ndarray,
) -> list[bytes]:
    """Key texts (as :func:`_keys` builds them in byte matrices) formatted one by one."""
    iso = _iso_seconds(np.where(windowed, 0, tail_value)).view("S19").ravel().tolist()
    texts = []
    for t, m, pay, n, f, w, v, stamp in zip(
        msg_type.tolist(),
        mmsi.tolist(),
        payload.view(f"S{payload.shape[1]}").ravel().tolist(),
        pay_len.tolist(),
        fill.tolist(),
        windowed.tolist(),
        tail_value.tolist(),
        iso,
        strict=True,
    ):
        if w:
            texts.append(b"%d|%d|%b|%d|w|%d" % (t, m, pay[:n], f, v))
        else:
            texts.append(b"%d|%d|%b|%d|t|%b+00:00" % (t, m, pay[:n], f, stamp))
    return texts


def _keys(
    msg_type: np.ndarray,
    mmsi: np.ndarray,
    payload: Callable[[np.ndarray, int], np.ndarray],
    pay_len: np.ndarray,
    fill: np.ndarray,
    ts_us: np.ndarray,
    second: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(key, windowed, nb_prev, nb_next)`` per row as nmea.transmission_identity gives them
    for (type, MMSI, payload text, fill bits, reception time in microseconds, UTC second or
    -1); ``payload(rows, width)`` gives the first ``width`` ASCII bytes of those rows'
    payloads."""
    n = len(msg_type)
    exact = np.take(_HAS_SECOND, msg_type) & (second >= 0) & (second <= 59)
    # exact: the latest whole second <= reception + 5 s whose second is the field's
    limit = (ts_us + 5_000_000) // 1_000_000
    sent = limit - limit % 60 + second
    sent = np.where(sent > limit, sent - 60, sent)
    # windowed: int(received.timestamp() // 60), in floating point as Python computes it
    bucket = np.floor_divide(ts_us / 1e6, 60.0).astype(np.int64)
    ex, win = np.flatnonzero(exact), np.flatnonzero(~exact)
    # one text to hash per entry: row, slot (0 key, 1 previous window, 2 next), tail value
    rows = np.concatenate([ex, win, win, win])
    slot = np.repeat(np.array([0, 0, 1, 2]), [len(ex), len(win), len(win), len(win)])
    windowed = np.arange(len(rows)) >= len(ex)
    tail_value = np.concatenate([sent[ex], bucket[win], bucket[win] - 1, bucket[win] + 1])
    keys = np.zeros((3, n), np.int64)
    if len(rows):
        t_len = _n_digits(msg_type[rows])
        m_len = _n_digits(mmsi[rows])
        tail_len = np.where(windowed, 2 + _n_digits(tail_value), 27)
        group = ((t_len * 16 + m_len) * 1024 + pay_len[rows]) * 64 + tail_len  # pay_len < 1024
        order = np.argsort(group, kind="stable")
        cuts = np.flatnonzero(np.diff(group[order])) + 1
        small: list[np.ndarray] = []
        for sel in np.split(order, cuts):
            if len(sel) < _SMALL_GROUP:  # a byte matrix per group costs more than it saves
                small.append(sel)
                continue
            code = int(group[sel[0]])
            tl, ml, pl, tail = code >> 20, (code >> 16) & 15, (code >> 6) & 1023, code & 63
            r = rows[sel]
            total = tl + ml + pl + tail + 5
            text = np.empty((len(sel), total), np.uint8)
            text[:, :tl] = _digits(msg_type[r], tl)
            text[:, tl] = 124  # "|"
            text[:, tl + 1 : tl + 1 + ml] = _digits(mmsi[r], ml)
            pos = tl + 1 + ml
            text[:, pos] = 124
            text[:, pos + 1 : pos + 1 + pl] = payload(r, pl)
            pos += 1 + pl
            text[:, pos] = 124
            text[:, pos + 1] = fill[r] + 48
            text[:, pos + 2] = 124
            pos += 3
            if windowed[sel[0]]:
                text[:, pos : pos + 2] = _W_TAIL
                text[:, pos + 2 :] = _digits(tail_value[sel], tail - 2)
            else:
                text[:, pos : pos + 2] = _T_TAIL
                text[:, pos + 2 : pos + 21] = _iso_seconds(tail_value[sel])
                text[:, pos + 21 :] = _UTC_SUFFIX
            keys[slot[sel], r] = _sha_keys(text.view(f"S{total}").ravel().tolist())
        if small:
            sel = np.concatenate(small)
            keys[slot[sel], rows[sel]] = _sha_keys(
                _small_texts(
                    msg_type[rows[sel]],
                    mmsi[rows[sel]],
                    payload(rows[sel], int(pay_len[rows[sel]].max())),
                    pay_len[rows[sel]],
                    fill[rows[sel]],
                    windowed[sel],
                    tail_value[sel],
                )
            )
    return keys[0], ~exact, np.where(exact, 0, keys[1]), np.where(exact, 0, keys[2])


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
    for width in np.flatnonzero(np.bincount(lengths)).tolist():
        if width == 0:
            continue
        sel = np.flatnonzero(lengths == width)
        rows = _rows(arr, starts[sel], width)
        if width <= 8:
            words = np.zeros((len(sel), 8), np.uint8)
            words[:, :width] = rows
            codes = words.view(np.uint64).ravel()
        else:
            codes = np.ascontiguousarray(rows).view(f"S{width}").ravel()
        change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        if len(change) < len(codes) // 8:  # runs of one station: one string per run
            first = np.concatenate([[0], change])
            counts = np.diff(np.append(first, len(codes)))
            texts = _objects([rows[i].tobytes().decode("ascii") for i in first.tolist()])
            out[sel] = np.repeat(texts, counts)
            continue
        _uniq, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        texts = _objects([rows[i].tobytes().decode("ascii") for i in first.tolist()])
        out[sel] = texts[inverse.ravel()]
    return out


def _spans_equal(
    arr: np.ndarray, a_start: np.ndarray, a_len: np.ndarray, b_start: np.ndarray, b_len: np.ndarray
) -> np.ndarray:
    """Whether the byte spans ``a`` and ``b`` of ``arr`` hold the same bytes, row by row."""
    same = a_len == b_len
    width = int(max(a_len.max(initial=0), b_len.max(initial=0)))
    if width and len(a_start):
        inside = np.arange(width) < a_len[:, None]
        differ = (_rows(arr, a_start, width) != _rows(arr, b_start, width)) & inside
        same &= ~differ.any(axis=1)
    return same


# --------------------------------------------------------------------------- decoding


def _positions(groups: np.ndarray, layout: int) -> dict[str, np.ndarray]:
    """Position columns (normalise.position_values) of rows sharing one bit layout, the UTC
    second (-1: none) and ``ok``: False where a value is out of range (left to pyais)."""
    spec = _POSITION_LAYOUT[layout]
    n = groups.shape[0]
    lon_raw = _bits(groups, *spec["lon"], signed=True)
    lat_raw = _bits(groups, *spec["lat"], signed=True)
    scale = 10_000 if layout == 27 else 10  # 1/10 minute, else 1/10000 minute
    lon = ((scale * lon_raw + 3) // 6) / 1e6
    lat = ((scale * lat_raw + 3) // 6) / 1e6
    lon_na = np.abs(lon - 181.0) < 1e-6
    lat_na = np.abs(lat - 91.0) < 1e-6
    ok = (lon_na | ((lon >= -180.0) & (lon <= 180.0))) & (lat_na | ((lat >= -90.0) & (lat <= 90.0)))
    none = lon_na | lat_na
    out = {"lon": np.where(none, np.nan, lon), "lat": np.where(none, np.nan, lat)}
    out["sog_kn"] = out["cog_deg"] = out["heading_deg"] = np.full(n, np.nan)
    out["nav_status"] = np.full(n, -1, np.int16)
    out["second"] = np.full(n, -1, np.int64)
    if spec["speed"] is not None:
        raw = _bits(groups, *spec["speed"]).astype(np.float64)
        if layout in (9, 27):  # whole knots; "not available" 1023 (type 9), 63 (type 27)
            sog, unavailable = raw, (1023.0 if layout == 9 else 63.0)
        else:
            sog, unavailable = raw / 10.0, 102.3
        sog_na = np.abs(sog - unavailable) < 1e-6
        ok &= sog_na | ((sog >= 0.0) & (sog < unavailable))
        out["sog_kn"] = np.where(sog_na, np.nan, sog)
    if spec["course"] is not None:
        raw = _bits(groups, *spec["course"]).astype(np.float64)
        cog = raw if layout == 27 else raw / 10.0
        out["cog_deg"] = np.where((cog >= 0.0) & (cog < 360.0), cog, np.nan)
    if spec["heading"] is not None:
        hdg = _bits(groups, *spec["heading"]).astype(np.float64)
        out["heading_deg"] = np.where(hdg < 360.0, hdg, np.nan)
    if spec["status"] is not None:
        status = _bits(groups, *spec["status"])
        out["nav_status"] = np.where(status == 15, -1, status).astype(np.int16)
    if spec["second"] is not None:
        out["second"] = _bits(groups, *spec["second"])
    out["ok"] = ok
    return out


def _int_objects(values: np.ndarray, none: np.ndarray) -> np.ndarray:
    out = _objects(values.tolist())
    out[none] = None
    return out


def _dims(
    groups: np.ndarray, at: int, present: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """to_bow/to_stern/to_port/to_starboard (9, 9, 6, 6 bits from bit ``at``), length and beam
    (normalise.static_values: 0 -> None); ``ok`` is False where length/beam is out of range."""
    out: dict[str, np.ndarray] = {}
    raw = {}
    for name, start, width in (
        ("to_bow", at, 9),
        ("to_stern", at + 9, 9),
        ("to_port", at + 18, 6),
        ("to_starboard", at + 24, 6),
    ):
        value = _bits(groups, start, width)
        raw[name] = value
        out[name] = _int_objects(value, ~present | (value == 0))
    ok = np.ones(groups.shape[0], bool)
    for name, (a, b), high in (
        ("length_m", ("to_bow", "to_stern"), MAX_LENGTH_M),
        ("beam_m", ("to_port", "to_starboard"), MAX_BEAM_M),
    ):
        given = present & (raw[a] > 0) & (raw[b] > 0)
        total = (raw[a] + raw[b]).astype(np.float64)
        ok &= ~given | (total <= high)
        out[name] = _int_objects(total, ~given)
    return out, ok


def _statics_24(groups: np.ndarray, mmsi: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Static columns of type 24 parts A (name) and B (call sign, ship type, dimensions)."""
    n = groups.shape[0]
    part_b = _bits(groups, 38, 2) == 1
    out = {name: np.full(n, None, dtype=object) for name in STATIC_FIELDS}
    ok = np.ones(n, bool)
    a_rows, b_rows = np.flatnonzero(~part_b), np.flatnonzero(part_b)
    if len(a_rows):
        out["name"][a_rows] = _objects(_text_field(groups[a_rows], 40, 20))
    if len(b_rows):
        pb = groups[b_rows]
        ship_type = _bits(pb, 40, 8)
        out["ship_type"][b_rows] = _int_objects(ship_type, ship_type == 0)
        out["callsign"][b_rows] = _objects(_text_field(pb, 90, 7))
        aux = (mmsi[b_rows] >= _AUX_CRAFT[0]) & (mmsi[b_rows] <= _AUX_CRAFT[1])
        dims, ok[b_rows] = _dims(pb, 132, ~aux)
        for name, values in dims.items():
            out[name][b_rows] = values
    return out, ok


def _statics_19(groups: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Static columns of type 19 (name, ship type, dimensions: nmea._records)."""
    n = groups.shape[0]
    out = {name: np.full(n, None, dtype=object) for name in STATIC_FIELDS}
    out["name"] = _objects(_text_field(groups, 143, 20))
    ship_type = _bits(groups, 263, 8)
    out["ship_type"] = _int_objects(ship_type, ship_type == 0)
    dims, ok = _dims(groups, 271, np.ones(n, bool))
    out.update(dims)
    return out, ok


def _statics_5(groups: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Static columns of type 5 (normalise.static_values; the ETA as nmea._eta writes it)."""
    imo = _bits(groups, 40, 30)
    ship_type = _bits(groups, 232, 8)
    draught = _bits(groups, 294, 8) / 10.0
    out = {
        "imo": _int_objects(imo, imo == 0),
        "callsign": _objects(_text_field(groups, 70, 7)),
        "name": _objects(_text_field(groups, 112, 20)),
        "ship_type": _int_objects(ship_type, ship_type == 0),
        "draught_m": _int_objects(draught, draught == 0),
        "destination": _objects(_text_field(groups, 302, 20)),
    }
    dims, ok = _dims(groups, 240, np.ones(groups.shape[0], bool))
    out.update(dims)
    ok &= draught <= MAX_DRAUGHT_M
    month, day = _bits(groups, 274, 4).tolist(), _bits(groups, 278, 5).tolist()
    hour, minute = _bits(groups, 283, 5).tolist(), _bits(groups, 288, 6).tolist()
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


def _six_bits(payload: np.ndarray, pay_len: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """De-armoured payloads (six-bit values, 0 past each row's length; ``payload`` is
    ``(n, 8k)`` ASCII) and whether every character of each row is in the AIS alphabet
    ("0"-"W" -> 0-39, "`"-"w" -> 40-63)."""
    six = payload - np.uint8(48)
    bad = ((six - np.uint8(40)) < 8) | (six >= 72)
    six -= (six >= 48) * np.uint8(8)
    longest = int(pay_len.max())
    six[:, longest:] = 0
    bad[:, longest:] = False
    short = np.flatnonzero(pay_len < longest)
    if len(short):
        inside = np.arange(longest) < pay_len[short, None]
        six[short, :longest] *= inside
        bad[short, :longest] &= inside
    words = bad.view(np.uint64)
    seen = words[:, 0].copy()
    for column in range(1, words.shape[1]):
        seen |= words[:, column]
    return six, seen == 0


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
    """Where every candidate sentence's fields are in the chunk's bytes.

    A candidate is a line the pyais path reads as exactly one ``!..VDM``/``!..VDO`` sentence
    with a right checksum and well-formed fields (the first such line of the chunk excepted:
    see the module docstring). Arrays are per candidate; ``li`` is the line's index in the
    chunk, positions are offsets in ``full`` (the chunk joined by newlines, zero padded).
    """

    def __init__(self, lines: list[bytes]) -> None:
        n = self.n = len(lines)
        lens = np.fromiter(map(len, lines), np.int64, count=n)
        buf = b"\n".join(lines) + b"\n"
        self.full = np.frombuffer(buf + bytes(_PAD), np.uint8)
        arr = self.full[: len(buf)]
        ends = np.cumsum(lens + 1) - 1  # each line's "\n"
        starts = ends - lens
        # separators and anything that is not printable ASCII: the structure of each line
        special = (arr - 45) >= 82  # below "-" or above "~" (uint8 arithmetic wraps)
        special |= arr == _BSL
        sp = self.sp = np.flatnonzero(special)
        csp = arr[sp]
        nonc = np.flatnonzero(csp != _COMMA)
        cnc = csp[nonc]
        nl = np.flatnonzero(cnc == _NL)
        self.valid = len(nl) == n  # False if a "line" holds a newline: none decoded here
        if not self.valid:
            return
        # a line's non-comma separators, last first: "*", "!", then "\" ("*") "\" if tagged
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
        full = self.full

        def at(pos: np.ndarray) -> np.ndarray:  # uint8: "digit - 48" wraps above 9 if not
            return full.take(pos, mode="clip")

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
        good &= (c1 == bang + 6) & (at(bang + 3) == 86) & (at(bang + 4) == 68)  # "V", "D"
        good &= (at(bang + 5) == 77) | (at(bang + 5) == 79)  # "M", "O"
        count = at(c1 + 1) - 48
        number = at(c2 + 1) - 48
        good &= (c2 == c1 + 2) & ((count == 1) | (count == 2))
        good &= (c3 == c2 + 2) & (number >= 1) & (number <= count)
        seq_len = c4 - c3 - 1
        seq = at(c3 + 1) - 48
        good &= (seq_len == 0) | ((seq_len == 1) & (seq <= 9))
        good &= (c5 - c4 - 1 >= 0) & (c5 - c4 - 1 <= 1)  # channel: none or one character
        pay_len = c6 - c5 - 1
        fill = at(c6 + 1) - 48
        good &= (pay_len >= 1) & (star == c6 + 2) & (fill <= 5)
        hi, lo = _HEX[full.take(star + 1, mode="clip")], _HEX[full.take(star + 2, mode="clip")]
        good &= (hi != 255) & (lo != 255)
        if len(li):
            bounds = np.empty(2 * len(li), np.int64)
            bounds[0::2] = np.minimum(bang + 1, len(arr) - 1)
            bounds[1::2] = np.minimum(star, len(arr) - 1)
            computed = np.bitwise_xor.reduceat(arr, bounds)[0::2]
            good &= computed == (hi.astype(np.int16) * 16 + lo)
        # the chunk's first candidate goes to the pyais path: a $PGHP time may wait for it
        if good.any():
            good[np.argmax(good)] = False
        self.good, self.li = good, li
        self.start, self.end, self.bang, self.star = start, end, bang, star
        self.tagged, self.trailing = tagged, trailing
        self.count, self.number = count.astype(np.int64), number.astype(np.int64)
        self.seq_start, self.seq_len = c3 + 1, seq_len
        self.chan_start, self.chan_len = c4 + 1, c5 - c4 - 1
        self.pay_start, self.pay_len, self.fill = c5 + 1, pay_len, fill.astype(np.int64)
        self.msg_type = _SIX[full.take(self.pay_start, mode="clip")].astype(np.int64)
        self.k_open, self.k_tag_end = k_open, k_tag_end

    def tag_fields(self) -> None:
        """Read the tag blocks: ``usable`` (False where ``c:``/``s:`` is given twice or ``c:``
        is not a UNIX time in seconds or milliseconds), ``has_ts``/``ts_us`` (the ``c:`` time
        in microseconds), ``source`` (``s:`` text or None) and the group id of ``g:``
        (``gid_start``/``gid_len``, the text after its last "-"; ``g_twice`` if repeated)."""
        m = len(self.li)
        full, sp = self.full, self.sp
        self.usable = self.good.copy()
        self.has_ts = np.zeros(m, bool)
        self.ts_us = np.zeros(m, np.int64)
        self.source = np.full(m, None, dtype=object)
        self.gid_start = np.zeros(m, np.int64)
        self.gid_len = np.zeros(m, np.int64)
        self.g_twice = np.zeros(m, bool)
        rows = np.flatnonzero(self.tagged & self.good)
        if not len(rows):
            return
        # tag fields begin after the opening "\" and after each "," before the tag's end
        k_open = self.k_open[rows]
        counts = self.k_tag_end[rows] - k_open
        owner = np.repeat(rows, counts)
        kk = np.arange(len(owner)) + np.repeat(k_open - (np.cumsum(counts) - counts), counts)
        p_start = sp[kk] + 1
        p_len = sp[kk + 1] - p_start
        key = np.where(p_len >= 2, full[p_start], 0)
        key[full[p_start + 1] != _COLON] = 0
        for name in (b"c", b"s", b"g"):
            hit = key == name[0]
            if not hit.any():
                continue
            per_row = np.bincount(owner[hit], minlength=m)
            if name == b"g":
                self.g_twice = per_row > 1
            else:
                self.usable &= per_row <= 1
            hit &= per_row[owner] == 1
            v_start, v_len, who = p_start[hit] + 2, p_len[hit] - 2, owner[hit]
            if name == b"s":
                self.source[who] = _span_strings(full, v_start, v_len)
            elif name == b"g":
                width = int(v_len.max())
                if width:
                    dash = (_rows(full, v_start, width) == 45) & (np.arange(width) < v_len[:, None])
                    last = np.where(
                        dash.any(axis=1), width - 1 - np.argmax(dash[:, ::-1], axis=1), -1
                    )
                    self.gid_start[who] = v_start + last + 1
                    self.gid_len[who] = v_len - last - 1
            else:
                self._epochs(who, v_start, v_len)

    def _epochs(self, who: np.ndarray, v_start: np.ndarray, v_len: np.ndarray) -> None:
        """``c:`` values: digits only, UNIX seconds or (above 1e11, as from_epoch reads them)
        milliseconds, within the plausible times (timeutil.time_problem)."""
        lim = limits()
        early, late = us_from_datetime(lim.earliest_time), us_from_datetime(lim.latest_time)
        for width in np.flatnonzero(np.bincount(v_len)).tolist():
            sel = np.flatnonzero(v_len == width)
            if not 1 <= width <= 13:
                self.usable[who[sel]] = False
                continue
            digits = _rows(self.full, v_start[sel], 16) - np.uint8(48)
            digits[:, width:] = 0
            words = digits.view(np.uint64)  # a byte above 9 sets its high bit here:
            high = (words | (words + np.uint64(0x7676767676767676))) & np.uint64(_HIGH_BITS)
            clean = (high[:, 0] | high[:, 1]) == 0
            value = (digits[:, :width] @ _POW10F[width - 1 :: -1]).astype(np.int64)  # exact
            us = np.where(value > 100_000_000_000, value * 1000, value * 1_000_000)
            clean &= (us >= early) & (us <= late)
            self.usable[who[sel[~clean]]] = False
            self.ts_us[who[sel[clean]]] = us[clean]
            self.has_ts[who[sel[clean]]] = True

    def receiver_fields(self, lines: list[bytes]) -> None:
        """USCG-style fields after the checksum, read per line with the pyais path's rule."""
        for i in np.flatnonzero(self.trailing & self.good).tolist():
            line = lines[int(self.li[i])]
            trail_ts, station = _trailing(line[int(self.star[i] - self.start[i]) + 3 :])
            try:
                self.source[i] = check_text(station, "source station", max_chars=200)
            except TextProblem:
                self.usable[i] = False
            if trail_ts is not None:
                self.ts_us[i] = us_from_datetime(trail_ts)
                self.has_ts[i] = True


class _Out:
    """The decoded columns, one row per candidate line (a two-part message on its first
    line's row); ``done`` marks the rows that become messages."""

    def __init__(self, view: _Lines) -> None:
        m = len(view.li)
        self.done = np.zeros(m, bool)
        self.last = np.arange(m)
        self.mmsi = np.zeros(m, np.int64)
        self.ts_us = np.zeros(m, np.int64)
        self.assumed = np.zeros(m, bool)
        self.source = view.source.copy()
        self.key = np.zeros(m, np.int64)
        self.windowed = np.zeros(m, bool)
        self.nb_prev = np.zeros(m, np.int64)
        self.nb_next = np.zeros(m, np.int64)
        self.has_pos = np.zeros(m, bool)
        self.position = {name: np.full(m, np.nan) for name in FLOAT_POSITION_FIELDS}
        self.nav_status = np.full(m, -1, np.int16)
        self.statics: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []

    def set_keys(self, rows: np.ndarray, keys: tuple[np.ndarray, ...]) -> None:
        self.key[rows], self.windowed[rows], self.nb_prev[rows], self.nb_next[rows] = keys


#: Layout class of each message type (-1: not decoded as a single sentence here).
_LAYOUT_LUT = np.full(64, -1, np.int64)
for _type, _layout in _LAYOUT_OF.items():
    _LAYOUT_LUT[_type] = _layout
_LAYOUT_LUT[24] = 24


def _singles(view: _Lines, out: _Out, rows: np.ndarray, assume_us: int | None) -> None:
    """Decode the single-sentence candidates ``rows`` into ``out`` (payloads up to 32
    characters, then the longer ones)."""
    full = view.full
    second = np.full(len(view.li), -1, np.int64)
    short = view.pay_len[rows] <= 32
    for part in (rows[short], rows[~short]):
        if not len(part):
            continue
        pay_len = view.pay_len[part]
        width = -(-int(pay_len.max()) // 8) * 8
        six, alphabet = _six_bits(_rows(full, view.pay_start[part], width), pay_len)
        groups = _groups(six)
        layout_of = np.take(_LAYOUT_LUT, view.msg_type[part])
        out.mmsi[part] = _bits(groups, 8, 30)
        bits = pay_len * 6 - view.fill[part]
        for layout in (1, 4, 9, 18, 19, 21, 27, 24, 0):
            sel = np.flatnonzero((layout_of == layout) & alphabet)
            if not len(sel):
                continue
            grp, r = groups[sel], part[sel]
            if layout == 0:  # only counted: type, MMSI, time, key
                ok = np.ones(len(sel), bool)
            elif layout == 24:
                number = _bits(grp, 38, 2)
                statics, ok = _statics_24(grp, out.mmsi[r])
                ok &= ((number == 0) & (bits[sel] >= 160)) | ((number == 1) & (bits[sel] >= 162))
                take = np.flatnonzero(ok)
                out.statics.append((r[take], {k: v[take] for k, v in statics.items()}))
            else:
                position = _positions(grp, 18 if layout == 19 else layout)
                ok = position["ok"]
                if layout == 19:
                    statics, static_ok = _statics_19(grp)
                    ok &= static_ok
                    take = np.flatnonzero(ok)
                    out.statics.append((r[take], {k: v[take] for k, v in statics.items()}))
                out.has_pos[r] = True
                out.nav_status[r] = position["nav_status"]
                for name in FLOAT_POSITION_FIELDS:
                    out.position[name][r] = position[name]
                second[r] = position["second"]
            out.done[r[ok]] = True
    rows = rows[out.done[rows]]
    out.ts_us[rows] = np.where(view.has_ts[rows], view.ts_us[rows], assume_us or 0)
    out.assumed[rows] = ~view.has_ts[rows]
    starts = view.pay_start[rows]
    out.set_keys(
        rows,
        _keys(
            view.msg_type[rows],
            out.mmsi[rows],
            lambda i, w: _rows(full, starts[i], w),
            view.pay_len[rows],
            view.fill[rows],
            out.ts_us[rows],
            second[rows],
        ),
    )


def _pairs(view: _Lines, out: _Out, assume_us: int | None) -> None:
    """Decode into ``out`` the two-part messages of type 5 and of the types tracker does not
    store (:data:`OTHER_TYPES`) whose fragments are adjacent candidate lines of one
    pending-group slot (nmea.fragment_slot)."""
    two = view.usable & (view.count == 2) & ~view.trailing & ~view.g_twice
    kind = (view.msg_type == 5) | np.isin(view.msg_type, _OTHER_LIST)
    a = np.flatnonzero(two & (view.number == 1) & kind)
    if not len(a):
        return
    index_of = np.full(view.n + 1, -1, np.int64)
    index_of[view.li] = np.arange(len(view.li))
    b = index_of[view.li[a] + 1]
    ok = b >= 0
    b = np.where(ok, b, 0)
    ok &= two[b] & (view.number[b] == 2)
    ok &= view.has_ts[a] | view.has_ts[b] | (assume_us is not None)
    bits = (view.pay_len[a] + view.pay_len[b]) * 6 - view.fill[b]
    # pyais takes the type from fragment 1's own bits (its fill bits removed): they must
    # hold the whole 6-bit type field, or pyais reads another type
    ok &= view.pay_len[a] * 6 - view.fill[a] >= 6
    is_five = view.msg_type[a] == 5
    ok &= np.where(is_five, (bits >= _TYPE5_BITS[0]) & (bits <= _TYPE5_BITS[1]), bits >= 38)
    a, b = a[ok], b[ok]
    if not len(a):
        return
    # the same slot: the same g: group id, or neither has one and talker, sentence type,
    # channel, sequence id and source are the same
    full = view.full
    g_a, g_b = view.gid_len[a] > 0, view.gid_len[b] > 0
    same = g_a & g_b
    same &= _spans_equal(
        full, view.gid_start[a], view.gid_len[a], view.gid_start[b], view.gid_len[b]
    )
    five = np.full(len(a), 5)
    fields = ~g_a & ~g_b & _spans_equal(full, view.bang[a] + 1, five, view.bang[b] + 1, five)
    fields &= _spans_equal(
        full, view.chan_start[a], view.chan_len[a], view.chan_start[b], view.chan_len[b]
    )
    fields &= _spans_equal(
        full, view.seq_start[a], view.seq_len[a], view.seq_start[b], view.seq_len[b]
    )
    fields &= (view.source[a] == view.source[b]).astype(bool)
    keep = same | fields
    a, b = a[keep], b[keep]
    if not len(a):
        return
    len_a, len_b = view.pay_len[a], view.pay_len[b]
    width_a, width_b = int(len_a.max()), int(len_b.max())
    width = -(-(width_a + width_b) // 8) * 8
    payload = np.zeros((len(a), width), np.uint8)
    payload[:, :width_a] = _rows(full, view.pay_start[a], width_a)
    payload[np.arange(len(a))[:, None], len_a[:, None] + np.arange(width_b)] = _rows(
        full, view.pay_start[b], width_b
    )
    pay_len = len_a + len_b
    six, alphabet = _six_bits(payload, pay_len)
    groups = _groups(six)
    is5 = view.msg_type[a] == 5
    ok = alphabet.copy()
    rows5 = np.flatnonzero(is5 & alphabet)
    statics: dict[str, np.ndarray] = {}
    ok5 = np.zeros(0, bool)
    if len(rows5):
        statics, ok5 = _statics_5(groups[rows5])
        ok[rows5] = ok5
    take = np.flatnonzero(ok)
    if not len(take):
        return
    keep5 = ok5.nonzero()[0]
    a_all = a
    a, b, payload, pay_len = a[take], b[take], payload[take], pay_len[take]
    has_a, has_b = view.has_ts[a], view.has_ts[b]
    out.done[a] = True
    out.last[a] = b
    out.mmsi[a] = _bits(groups[take], 8, 30)
    out.ts_us[a] = np.where(has_a, view.ts_us[a], np.where(has_b, view.ts_us[b], assume_us or 0))
    out.assumed[a] = ~(has_a | has_b)
    out.source[a] = _objects(
        [x or y for x, y in zip(view.source[a].tolist(), view.source[b].tolist(), strict=True)]
    )
    if len(keep5):
        out.statics.append((a_all[rows5[keep5]], {k: v[keep5] for k, v in statics.items()}))
    out.set_keys(
        a,
        _keys(
            view.msg_type[a],
            out.mmsi[a],
            lambda i, w: payload[i, :w],
            pay_len,
            view.fill[a],  # the key names the first sentence's fill bits (pyais' assembled one)
            out.ts_us[a],
            np.full(len(a), -1, np.int64),
        ),
    )


def _assemble(view: _Lines, out: _Out, lines: list[bytes], first_number: int) -> MessageBatch:
    """The batch of the decoded rows (in line order: candidates are)."""
    rows = np.flatnonzero(out.done)
    n = len(rows)
    place = np.cumsum(out.done) - 1  # candidate row -> batch row
    statics = {name: np.full(n, None, dtype=object) for name in STATIC_FIELDS}
    has_static = np.zeros(n, bool)
    for where, values in out.statics:
        where = place[where]
        has_static[where] = True
        for name in STATIC_FIELDS:
            statics[name][where] = values[name]
    li_first, li_last = view.li[rows], view.li[out.last[rows]]
    raw = [line.decode() for line in _pick(lines, li_first)]
    for i in np.flatnonzero(li_last != li_first).tolist():
        raw[i] = f"{raw[i]}\n{lines[int(li_last[i])].decode()}"
    return MessageBatch(
        line=li_first + first_number,
        line_end=li_last + first_number,
        msg_type=view.msg_type[rows].astype(np.int16),
        mmsi=out.mmsi[rows],
        ts_us=out.ts_us[rows],
        ts_assumed=out.assumed[rows],
        source=out.source[rows],
        key=out.key[rows],
        windowed=out.windowed[rows],
        nb_prev=out.nb_prev[rows],
        nb_next=out.nb_next[rows],
        raw=_objects(raw),
        has_pos=out.has_pos[rows],
        nav_status=out.nav_status[rows],
        has_static=has_static,
        statics=statics,
        **{name: values[rows] for name, values in out.position.items()},
    )


def _maybe_gatehouse(line: bytes) -> bool:
    """Whether the pyais path could read a ``$PGHP`` time sentence in ``line`` (it does when a
    sentence body starts ``PGHP`` or its type field is ``HP``)."""
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
    Pure and picklable: runs in worker processes. What is left in ``rest`` for the pyais path:
    see the module docstring.
    """
    n = len(lines)
    if n == 0:
        return FastChunk(MessageBatch.empty(), [], first_number - 1)
    view = _Lines(lines)
    if not view.valid or not len(view.li):
        return _all_rest(lines, first_number)
    assume_us = _assume_us(assume_time)
    view.tag_fields()
    view.receiver_fields(lines)
    bits = view.pay_len * 6 - view.fill
    fits = np.zeros(len(view.li), bool)
    for msg_type, (low, high) in _BITS_OK.items():
        fits |= (view.msg_type == msg_type) & (bits >= low) & (bits <= high)
    single = view.usable & (view.count == 1) & fits
    if assume_us is None:
        single &= view.has_ts
    out = _Out(view)
    _singles(view, out, np.flatnonzero(single), assume_us)
    _pairs(view, out, assume_us)
    if not out.done.any():
        return _all_rest(lines, first_number)
    batch = _assemble(view, out, lines, first_number)
    # what is left: 1 a line for the pyais path, 2 a decoded pair's fragment 1 (a marker)
    left = np.ones(n, np.int8)
    left[batch.line - first_number] = 0
    left[batch.line_end - first_number] = 0
    left[batch.line[batch.line_end != batch.line] - first_number] = 2
    index = np.flatnonzero(left)
    items = _pick(lines, index)
    if any(_maybe_gatehouse(line) for line in items):  # a $PGHP time: all to pyais
        return _all_rest(lines, first_number)
    numbers = (index + first_number).tolist()
    rest: list[tuple[int, bytes] | GroupStart] = list(zip(numbers, items, strict=True))
    for i in np.flatnonzero(left[index] == 2).tolist():
        rest[i] = GroupStart(numbers[i], items[i])
    return FastChunk(batch, rest, first_number + n - 1)


def _merge(fast: MessageBatch, slow: MessageBatch) -> MessageBatch:
    """``MessageBatch.concat([fast, slow])`` (sorted by line, stable) for a ``fast`` batch in
    line order: each column written once into place instead of joined and re-sorted."""
    if not len(fast) or not len(slow):
        return MessageBatch.concat([fast, slow])
    order = np.argsort(slow.line, kind="stable")
    if np.any(order[1:] < order[:-1]):
        slow = slow.take(order)
    if np.any(fast.line[1:] < fast.line[:-1]):
        return MessageBatch.concat([fast, slow])
    n = len(fast) + len(slow)
    at_slow = np.searchsorted(fast.line, slow.line, side="right") + np.arange(len(slow))
    at_fast = np.ones(n, bool)
    at_fast[at_slow] = False

    def put(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.empty(n, np.result_type(a, b))
        out[at_fast] = a
        out[at_slow] = b
        return out

    values: dict = {}
    for f in fields(MessageBatch):
        a, b = getattr(fast, f.name), getattr(slow, f.name)
        if f.name == "statics":
            values[f.name] = {k: put(a[k], b[k]) for k in STATIC_FIELDS}
        else:
            values[f.name] = put(a, b)
    return MessageBatch(**values)


class NMEADecoder:
    """Decode one NMEA file chunk by chunk: the vectorised path, then the pyais path
    (:class:`~tracker.sources.ais.nmea.NMEAStream`) over what it left, with the pyais path's
    state (pending fragments, a ``$PGHP`` time) kept across chunks.

    Chunks must come in file order, each once. ``fast=False`` sends every line through the
    pyais path (the reference: results are the same).
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
        if not messages:
            return chunk.batch, bad
        return _merge(chunk.batch, MessageBatch.from_messages(messages)), bad

    def decode(self, lines: list[bytes], first_number: int) -> tuple[MessageBatch, list[BadRecord]]:
        """:meth:`complete` of :func:`fast_decode` (of all lines unread when ``fast`` is off)."""
        if self.fast:
            chunk = fast_decode(lines, first_number, assume_time=self.assume_time)
        else:
            chunk = _all_rest(lines, first_number)
        return self.complete(chunk)

    def finish(self) -> tuple[MessageBatch, list[BadRecord]]:
        """At the end of the file: multi-part messages still incomplete, as bad records."""
        return MessageBatch.empty(), list(self._stream.finish())
