"""Read raw NMEA 0183 AIS (``!AIVDM``/``!AIVDO`` and other talkers) line by line.

Handles NMEA 4 tag blocks (``\\c:<unix time>,s:<station>*hh\\``), trailing receiver fields
after the checksum (USCG/NAIS style, ending in a UNIX time), a leading ISO 8601 or UNIX time
on the line, Gatehouse ``$PGHP`` time sentences, comment and blank lines, and multi-part
messages whose fragments may interleave with other sequence ids. Payloads are decoded with
pyais. Every line that cannot be used becomes a :class:`~tracker.core.records.BadRecord` with
its line number and a worded reason (never a Python exception's text); nothing stops the rest
of the file.

Transmission identity (de-duplication of one transmission heard by several receivers, or
twice by one):

- Messages whose payload carries the UTC second of transmission (types 1, 2, 3, 4, 9, 18, 19
  and 21; pyais exposes no such field for type 27) with a value 0-59 are identified by
  (type, MMSI, payload, fill bits, transmission time). The transmission time is rebuilt from
  the reception time and that second: the latest whole second at or before reception time +
  :data:`CLOCK_TOLERANCE` (5 s) whose second is the field's. Receivers whose clocks disagree by
  less than that tolerance (and that hear within 55 s) rebuild the same time, so a sentence
  heard at 12:00:59 by one receiver and at 12:01:01 by another is one transmission, while the
  same payload sent again a minute or more later is another.
- Every other message (types 5, 24, 27, binary messages, and a second of 60-63, meaning "not
  available") is identified by its content (type, MMSI, payload, fill bits) within a window:
  hearings of the same content at most 60 s apart are one transmission. The key names the
  content and the 60 s bucket of the reception time; the keys of the buckets before and after
  travel with the message (``AISMessage.neighbours``) and the store looks them up, so a repeat
  across a bucket boundary is found (:class:`~tracker.sources.ais.records.TransmissionIndex`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import xor
from pathlib import Path

from pyais.exceptions import MissingPayloadException, UnknownMessageException
from pyais.messages import AISSentence, GatehouseSentence

from tracker.core.config import limits
from tracker.core.errors import InputError, MissingTimeError
from tracker.core.records import BadRecord
from tracker.core.text import TextProblem, check_text, escape_raw
from tracker.core.timeutil import from_epoch, parse_utc, time_problem
from tracker.sources.ais.normalise import OutOfRange, position_values, static_values
from tracker.sources.ais.records import POSITION_TYPES, AISMessage, message_key
from tracker.sources.ais.textio import OverlongLine, numbered_lines, open_binary

__all__ = [
    "CLOCK_TOLERANCE",
    "SECOND_FIELD_TYPES",
    "GroupStart",
    "NMEAStream",
    "file_has_times",
    "fragment_slot",
    "iter_nmea",
    "iter_nmea_lines",
    "transmission_identity",
    "transmission_time",
]

#: Message types whose payload carries the UTC second of transmission (pyais ``second``).
SECOND_FIELD_TYPES = frozenset({1, 2, 3, 4, 9, 18, 19, 21})
#: How far ahead of the transmitter's clock a receiver's clock may run (and still rebuild the
#: same transmission time from the message's UTC second).
CLOCK_TOLERANCE = timedelta(seconds=5)

#: Payload bits a message type needs to hold every field tracker reads (pyais field widths:
#: through ``second`` for 1-3, 9, 18; latitude for 4; dimensions for 19 and 21; draught for 5;
#: course for 27; the name (part A) or dimensions (part B) for 24).
_MIN_BITS = {1: 143, 2: 143, 3: 143, 4: 134, 5: 302, 9: 134, 18: 139, 19: 301, 21: 249, 27: 94}
_MIN_BITS_24 = {0: 160, 1: 162}
_SIX_BIT = re.compile(rb"^[0-W`-w]*$")

_LEAD_ISO = re.compile(
    rb"^\s*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)[\s,;|]+"
)
_LEAD_EPOCH = re.compile(rb"^\s*(\d{9,10}(?:\.\d+)?|\d{12,13})[\s,;|:]+")
_CHECKSUM = re.compile(rb"\*([0-9A-Fa-f]{2})")
_EPOCH_FIELD = re.compile(rb"^\d{10}(?:\.\d+)?$")
_SENTENCE_START = re.compile(rb"[!$\\]")
_STATION_FIELD = re.compile(rb"^[rb]\w+$")

#: Literal escape text some loggers write after a sentence (``\\x0d\\x0a``, ``\\r\\n``):
#: stripped, the sentence before it is fine.
_LITERAL_EOL = re.compile(rb"(?:\\x0[dDaA]|\\r|\\n)+$")
#: Where in the payload the raw 8-bit ship type sits (pyais' enum collapses reserved codes).
_SHIP_TYPE_BIT = {5: 232, 19: 263, 24: 40}
#: A multi-part message whose fragments are this many lines apart is given up as incomplete.
_MAX_FRAGMENT_SPAN_LINES = 200


class _Bad(Exception):
    """Internal: one line (or part of it) is unusable, with a reason."""


def _plausible(ts: datetime | None) -> datetime | None:
    """``ts`` when it is a plausible time (:func:`~tracker.core.timeutil.time_problem`)."""
    if ts is None or time_problem(ts) is not None:
        return None
    return ts


def _epoch(text: str | bytes) -> datetime | None:
    try:
        return from_epoch(float(text))
    except (ValueError, OverflowError, OSError, InputError):
        return None


def _nmea_checksum_ok(body: bytes, given: bytes) -> tuple[bool, int]:
    computed = reduce(xor, body, 0)
    return computed == int(given, 16), computed


def transmission_time(received: datetime, second: int) -> datetime:
    """The latest whole second at or before ``received`` + :data:`CLOCK_TOLERANCE` whose
    UTC second is ``second`` (0-59): when a message stamped ``second`` was sent."""
    limit = (received + CLOCK_TOLERANCE).replace(microsecond=0)
    sent = limit.replace(second=second)
    return sent if sent <= limit else sent - timedelta(minutes=1)


def transmission_identity(
    msg_type: int, mmsi: int, payload: str, fill_bits: int, received: datetime, second: object
) -> tuple[int, tuple[int, int] | None]:
    """``(key, neighbours)`` of one heard message (the rule is in the module docstring)."""
    content = (msg_type, mmsi, payload, fill_bits)
    if msg_type in SECOND_FIELD_TYPES and isinstance(second, int) and 0 <= second <= 59:
        return message_key(*content, "t", transmission_time(received, second).isoformat()), None
    bucket = int(received.timestamp() // 60)
    neighbours = (message_key(*content, "w", bucket - 1), message_key(*content, "w", bucket + 1))
    return message_key(*content, "w", bucket), neighbours


def _sentence_problem(sentence: bytes) -> str:
    """Why pyais refused an AIS sentence whose checksum is right, in words."""
    fields = sentence[1 : sentence.rfind(b"*")].split(b",")
    if len(fields) != 7:
        return f"malformed AIS sentence: expected 7 fields, found {len(fields)}"
    count, number, _seq, _channel, payload, fill = fields[1:]
    if not (count.isdigit() and number.isdigit()) or not 1 <= int(number or 0) <= int(count or 0):
        return "malformed AIS sentence: fragment count/number are not numbers 1-9"
    if not _SIX_BIT.match(payload):
        return "malformed AIS sentence: payload has characters outside the AIS 6-bit alphabet"
    if not (fill.isdigit() and int(fill) <= 5):
        return f"malformed AIS sentence: fill bits {_text(fill)!r} not a number 0-5"
    return "malformed AIS sentence"


def _payload_problem(msg_type: int, payload: bytes, fill_bits: int) -> str | None:
    """Why a payload cannot hold the fields tracker reads for its type, or None."""
    if not _SIX_BIT.match(payload):
        return (
            f"payload does not decode as type {msg_type}: characters outside the AIS 6-bit alphabet"
        )
    bits = len(payload) * 6 - fill_bits
    need = _MIN_BITS.get(msg_type)
    if msg_type == 24:
        need = 40 if bits < 40 else _MIN_BITS_24.get((_six_bit_value(payload, 38, 2)), 40)
    if need is not None and bits < need:
        return f"payload does not decode as type {msg_type}: too short ({bits} bits, needs {need})"
    return None


def _six_bit_value(payload: bytes, start: int, width: int) -> int:
    value = 0
    for char in payload:
        code = char - 48
        if code > 40:
            code -= 8
        value = (value << 6) | code
    total = len(payload) * 6
    return (value >> (total - start - width)) & ((1 << width) - 1)


def _split_line(data: bytes) -> tuple[datetime | None, list[tuple[bytes | None, bytes, bytes]]]:
    """Split one input line into (leading time, [(tag block, sentence, trailing fields)])."""
    lead_ts = None
    if data[:1] not in (b"!", b"$", b"\\"):
        match = _LEAD_ISO.match(data)
        if match:
            try:
                lead_ts = parse_utc(match.group(1).decode("ascii"))
            except ValueError as exc:
                raise _Bad(f"unreadable leading time {_text(match.group(1))!r}") from exc
        else:
            match = _LEAD_EPOCH.match(data)
            if match:
                lead_ts = _epoch(match.group(1))
                if lead_ts is None:
                    raise _Bad(f"unreadable leading time {_text(match.group(1))!r}")
        if match is None:
            raise _Bad("not an NMEA sentence")
        data = data[match.end() :]
    items: list[tuple[bytes | None, bytes, bytes]] = []
    pos, size = 0, len(data)
    while pos < size:
        tag = None
        if data[pos : pos + 1] == b"\\":
            end = data.find(b"\\", pos + 1)
            if end < 0:
                raise _Bad("tag block not closed by a backslash")
            tag = data[pos + 1 : end]
            pos = end + 1
        if data[pos : pos + 1] not in (b"!", b"$"):
            raise _Bad("not an NMEA sentence")
        match = _CHECKSUM.search(data, pos)
        if match is None:
            raise _Bad("no *hh checksum")
        sentence = data[pos : match.end()]
        pos = match.end()
        nxt = _SENTENCE_START.search(data, pos)
        stop = nxt.start() if nxt else size
        items.append((tag, sentence, data[pos:stop]))
        pos = stop
    return lead_ts, items


def _tag_fields(tag: bytes) -> dict[str, str]:
    """Fields of an NMEA 4 tag block (``c:``, ``s:``, ``g:``, ...).

    The tag block's own checksum is not enforced: real feeds (e.g. Kystverket's) add group
    fields without updating it, and the AIS sentence after it carries its own checksum, which is.
    """
    body = tag.rpartition(b"*")[0] if b"*" in tag else tag
    fields: dict[str, str] = {}
    for part in body.split(b","):
        key, sep, value = part.partition(b":")
        if sep:
            fields[key.decode("ascii", "replace")] = value.decode("ascii", "replace")
    return fields


def _trailing(trailing: bytes) -> tuple[datetime | None, str | None]:
    """Receiver time (first 10-digit UNIX field) and station id from fields after the checksum.

    USCG/NAIS logs end ``...,r<station>,<receive time>[,<other time>]``; the first time is the receiver's.
    """
    ts, station = None, None
    for field in trailing.split(b","):
        field = field.strip()
        if ts is None and _EPOCH_FIELD.match(field):
            ts = _epoch(field)
        elif _STATION_FIELD.match(field) and station is None:
            station = field.decode("ascii", "replace")
    return _plausible(ts), station


def _eta(decoded) -> str | None:
    month, day = getattr(decoded, "month", 0), getattr(decoded, "day", 0)
    if not month or not day or month > 12 or day > 31:
        return None
    hour, minute = getattr(decoded, "hour", 24), getattr(decoded, "minute", 60)
    if hour < 24 and minute < 60:
        return f"{month:02d}-{day:02d} {hour:02d}:{minute:02d}"
    return f"{month:02d}-{day:02d}"


def _raw_ship_type(decoded, payload: bytes | None) -> int | None:
    """The ship type number as broadcast (8 bits), not pyais' collapsed enum."""
    start = _SHIP_TYPE_BIT.get(decoded.msg_type)
    if payload is None or start is None or len(payload) * 6 < start + 8:
        return int(decoded.ship_type) if decoded.ship_type is not None else None
    return _six_bit_value(payload, start, 8)


def _records(decoded, payload: bytes | None = None) -> tuple[dict | None, dict | None]:
    """Position and static fields of a decoded pyais message (either may be ``None``)."""
    msg_type = decoded.msg_type
    position = static = None
    if msg_type in POSITION_TYPES:
        position = position_values(
            msg_type,
            lon=decoded.lon,
            lat=decoded.lat,
            speed=getattr(decoded, "speed", None),
            course=getattr(decoded, "course", None),
            heading=getattr(decoded, "heading", None),
            status=getattr(decoded, "status", None),
        )
    if msg_type == 5:
        static = static_values(
            imo=decoded.imo,
            name=decoded.shipname,
            callsign=decoded.callsign,
            ship_type=_raw_ship_type(decoded, payload),
            to_bow=decoded.to_bow,
            to_stern=decoded.to_stern,
            to_port=decoded.to_port,
            to_starboard=decoded.to_starboard,
            draught=decoded.draught,
            destination=decoded.destination,
            eta=_eta(decoded),
        )
    elif msg_type == 19:
        static = static_values(
            name=decoded.shipname,
            ship_type=_raw_ship_type(decoded, payload),
            to_bow=decoded.to_bow,
            to_stern=decoded.to_stern,
            to_port=decoded.to_port,
            to_starboard=decoded.to_starboard,
        )
    elif msg_type == 24:
        if decoded.partno == 0:
            static = static_values(name=decoded.shipname)
        else:
            static = static_values(
                callsign=decoded.callsign,
                ship_type=_raw_ship_type(decoded, payload),
                to_bow=getattr(decoded, "to_bow", None),
                to_stern=getattr(decoded, "to_stern", None),
                to_port=getattr(decoded, "to_port", None),
                to_starboard=getattr(decoded, "to_starboard", None),
            )
    return position, static


class _Pending:
    __slots__ = ("first_line", "lines", "parts", "source", "ts")

    def __init__(self, first_line: int, ts: datetime | None, source: str | None) -> None:
        self.first_line = first_line
        self.ts = ts
        self.source = source
        self.parts: list[AISSentence] = []
        self.lines: list[tuple[int, str]] = []


def _text(raw: bytes) -> str:
    return escape_raw(raw.decode("ascii", "backslashreplace"))


_INCOMPLETE = "incomplete multi-part message: {got} of {count} fragments, the rest never came"


@dataclass(frozen=True, slots=True)
class GroupStart:
    """Marker for :class:`NMEAStream`: ``data``, the input line numbered ``line``, is fragment 1
    of a multi-part message decoded elsewhere (the vectorised decoder decodes whole adjacent
    groups).

    The line-by-line reader gives up an incomplete group pending on the same slot when a new
    fragment 1 arrives; the marker makes it do so though it never decodes that line (the slot
    is worked out from ``data`` only when a group is pending).
    """

    line: int
    data: bytes


class NMEAStream:
    """The line-by-line (pyais) NMEA reader as a resumable object: :meth:`feed` numbered lines
    in any number of calls, then :meth:`finish`. State kept between calls: pending multi-part
    fragments and a ``$PGHP`` time waiting for its sentence.

    Incomplete multi-part groups are given up when a multiple of 100 is reached in the line
    numbers and the group began more than 200 lines before it. The check runs when a line or
    marker numbered at or past that multiple is fed (or :meth:`advance` passes it), so the
    result does not depend on which lines this reader is shown: lines decoded elsewhere
    (:mod:`tracker.sources.ais.fastpath`) change nothing here except through
    :class:`GroupStart` markers.
    """

    __slots__ = ("_checked", "assume_time", "gatehouse_ts", "path", "pending")

    def __init__(self, path: str = "<input>", *, assume_time: datetime | None = None) -> None:
        self.path = path
        self.assume_time = assume_time
        self.pending: dict[tuple, _Pending] = {}
        self.gatehouse_ts: datetime | None = None
        self._checked: int | None = None  # the last line number the expiry check has covered

    def feed(
        self, lines: Iterable[tuple[int, bytes] | GroupStart]
    ) -> Iterator[AISMessage | BadRecord]:
        """Decode numbered lines (and :class:`GroupStart` markers), in order of their numbers."""
        for item in lines:
            if isinstance(item, GroupStart):
                yield from self.advance(item.line)
                if self.pending:
                    group = self.pending.pop(self._slot_of(item.data), None)
                    if group is not None:
                        yield from self._give_up(group)
                continue
            number, data = item
            yield from self.advance(number)
            yield from self._line(number, data)

    def advance(self, number: int) -> Iterator[BadRecord]:
        """Run the expiry check of pending groups for line ``number`` and every multiple of 100
        passed since the last line seen (see the class docstring)."""
        last = self._checked
        if last is None or number <= last:
            check = number if number % 100 == 0 else None
        else:
            check = number - number % 100
            if check <= last:
                check = None
        if last is None or number > last:
            self._checked = number
        if check is None or not self.pending:
            return
        stale = [
            s for s, g in self.pending.items() if check - g.first_line > _MAX_FRAGMENT_SPAN_LINES
        ]
        for slot in stale:
            yield from self._give_up(self.pending.pop(slot))

    def finish(self) -> Iterator[BadRecord]:
        """Give up every multi-part message still incomplete at the end of the input."""
        groups, self.pending = list(self.pending.values()), {}
        for group in groups:
            yield from self._give_up(group)

    @staticmethod
    def _slot_of(data: bytes) -> tuple | None:
        """The pending-group slot of a line holding one multi-part fragment (as :meth:`_line`
        reads it), or None when the line is not one."""
        stripped = _LITERAL_EOL.sub(b"", data.strip()).strip()
        try:
            _lead, items = _split_line(stripped)
            tag, sentence_bytes, trailing = items[0]
            tags = _tag_fields(tag) if tag is not None else {}
            sentence = AISSentence(sentence_bytes)
            station = _trailing(trailing)[1] if trailing else None
            source = check_text(tags.get("s") or station, "source station", max_chars=200)
        except Exception:  # noqa: BLE001 - not a fragment line: nothing to give up
            return None
        return fragment_slot(sentence, tags, source)

    def _give_up(self, group: _Pending) -> Iterator[BadRecord]:
        why = _INCOMPLETE.format(got=len(group.parts), count=group.parts[0].frag_cnt)
        for number, raw in group.lines:
            yield BadRecord(self.path, number, why, raw)

    def _decode(
        self, parts: list[AISSentence], line: int, line_end: int, raw: str, ts, source
    ) -> AISMessage | BadRecord:
        path = self.path
        sentence = parts[0] if len(parts) == 1 else AISSentence.assemble_from_iterable(parts)
        msg_type = sentence.ais_id
        if not sentence.payload:
            return BadRecord(path, line, "empty payload", raw)
        problem = _payload_problem(msg_type, sentence.payload, parts[-1].fill_bits)
        if problem:
            return BadRecord(path, line, problem, raw)
        try:
            decoded = sentence.decode()
        except MissingPayloadException:
            return BadRecord(path, line, "empty payload", raw)
        except UnknownMessageException:
            return BadRecord(path, line, f"unknown AIS message type {msg_type}", raw)
        except Exception:  # noqa: BLE001 - pyais raises many kinds on hostile payloads
            return BadRecord(path, line, f"payload does not decode as type {msg_type}", raw)
        if getattr(decoded, "mmsi", None) is None or getattr(decoded, "msg_type", None) is None:
            return BadRecord(path, line, f"payload too short for a type {msg_type} MMSI", raw)
        assumed = False
        if isinstance(ts, str):  # only an implausible time: the reason
            return BadRecord(path, line, ts, raw)
        if ts is None:
            if self.assume_time is None:
                return BadRecord(path, line, "no time for this message (give --assume-time)", raw)
            ts, assumed = self.assume_time, True
        try:
            position, static = _records(decoded, sentence.payload)
        except (OutOfRange, TextProblem) as exc:
            return BadRecord(path, line, str(exc), raw)  # tracker's own words: which value, range
        except Exception:  # noqa: BLE001
            return BadRecord(
                path, line, f"decoded type {msg_type} fields are not usable values", raw
            )
        key, neighbours = transmission_identity(
            decoded.msg_type,
            decoded.mmsi,
            _text(sentence.payload),
            sentence.fill_bits,
            ts,
            getattr(decoded, "second", None),
        )
        return AISMessage(
            line=line,
            line_end=line_end,
            raw=raw,
            msg_type=decoded.msg_type,
            mmsi=int(decoded.mmsi),
            ts=ts,
            ts_assumed=assumed,
            source=source,
            key=key,
            position=position,
            static=static,
            neighbours=neighbours,
        )

    def _line(self, number: int, data: bytes) -> Iterator[AISMessage | BadRecord]:
        """Everything one input line gives."""
        path = self.path
        if isinstance(data, OverlongLine):
            yield BadRecord(path, number, data.reason(limits().max_line_bytes), _text(data))
            return
        stripped = _LITERAL_EOL.sub(b"", data.strip()).strip()
        if not stripped or stripped[:1] == b"#":
            return
        raw_line = _text(stripped)
        try:
            lead_ts, items = _split_line(stripped)
        except _Bad as exc:
            yield BadRecord(path, number, str(exc), raw_line)
            return
        for tag, sentence_bytes, trailing in items:
            try:
                tags = _tag_fields(tag) if tag is not None else {}
                body = sentence_bytes[1:-3]
                ok, computed = _nmea_checksum_ok(body, sentence_bytes[-2:])
                if not ok:
                    raise _Bad(
                        f"bad checksum: computed {computed:02X}, found {_text(sentence_bytes[-2:])}"
                    )
                kind = body[2:5].upper()
                if kind == b"HP" or body[:4].upper() == b"PGHP":
                    try:
                        stamp = GatehouseSentence(sentence_bytes).timestamp
                    except Exception as exc:  # pyais raises several kinds
                        raise _Bad("unreadable $PGHP time sentence") from exc
                    self.gatehouse_ts = _plausible(stamp.replace(tzinfo=UTC))
                    continue
                if kind not in (b"VDM", b"VDO"):
                    continue  # another NMEA sentence (GPS, wind, ...): not AIS, not an error
                sentence = AISSentence(sentence_bytes)
            except _Bad as exc:
                yield BadRecord(path, number, str(exc), raw_line)
                continue
            except Exception:  # noqa: BLE001 - pyais raises on malformed fields
                yield BadRecord(path, number, _sentence_problem(sentence_bytes), raw_line)
                continue
            ts = None
            implausible = None
            if "c" in tags:
                tag_ts = _epoch(tags["c"])
                ts = _plausible(tag_ts)
                if tag_ts is not None and ts is None:
                    implausible = time_problem(tag_ts, "tag block time")
            trail_ts, station = _trailing(trailing) if trailing else (None, None)
            if ts is None and self.gatehouse_ts is not None:
                ts = self.gatehouse_ts
            self.gatehouse_ts = None
            if lead_ts is not None and time_problem(lead_ts) is not None:
                implausible = implausible or time_problem(lead_ts, "leading time")
                lead_ts = None
            ts = ts or trail_ts or lead_ts or implausible
            try:
                source = check_text(tags.get("s") or station, "source station", max_chars=200)
            except TextProblem as exc:
                yield BadRecord(path, number, str(exc), raw_line)
                continue
            if sentence.frag_cnt == 1:
                yield self._decode([sentence], number, number, raw_line, ts, source)
                continue
            slot = fragment_slot(sentence, tags, source)
            group = self.pending.get(slot)
            if sentence.frag_num == 1:
                if group is not None:
                    self.pending.pop(slot)
                    yield from self._give_up(group)
                group = self.pending[slot] = _Pending(number, ts, source)
            elif group is None or sentence.frag_num != len(group.parts) + 1:
                yield BadRecord(
                    path,
                    number,
                    f"fragment {sentence.frag_num} of {sentence.frag_cnt} without the fragments before it",
                    raw_line,
                )
                continue
            group.parts.append(sentence)
            group.lines.append((number, raw_line))
            group.ts = group.ts or ts
            group.source = group.source or source
            if len(group.parts) == sentence.frag_cnt:
                self.pending.pop(slot)
                raw = "\n".join(text for _, text in group.lines)
                yield self._decode(
                    group.parts, group.first_line, number, raw, group.ts, group.source
                )


def fragment_slot(sentence: AISSentence, tags: dict[str, str], source: str | None) -> tuple:
    """Which pending group a fragment of a multi-part message belongs to: the tag block group
    id (``g:1-2-<id>``) when there is one, else talker, sentence type, channel, sequence id,
    fragment count and source station."""
    group_id = tags.get("g", "").rsplit("-", 1)[-1]
    if group_id:
        return ("g", group_id, sentence.frag_cnt)
    return (
        sentence.talker_id,
        sentence.type,
        sentence.channel,
        sentence.seq_id,
        sentence.frag_cnt,
        source,
    )


def iter_nmea_lines(
    lines: Iterable[tuple[int, bytes]],
    *,
    path: str = "<input>",
    assume_time: datetime | None = None,
) -> Iterator[AISMessage | BadRecord]:
    """Decode numbered NMEA lines into :class:`AISMessage` and :class:`BadRecord` items.

    Times come from, in order: the tag block ``c:``, a preceding ``$PGHP`` sentence, a trailing
    receiver UNIX time, a leading time on the line. A message with none of these takes
    ``assume_time`` (flagged ``ts_assumed``) or is quarantined. (:class:`NMEAStream` over all
    lines, then its end.)
    """
    stream = NMEAStream(path, assume_time=assume_time)
    yield from stream.feed(lines)
    yield from stream.finish()


def file_has_times(path: str | Path) -> bool:
    """True when any line of the NMEA file carries a time tracker can use."""
    with open_binary(path) as fh:
        for _number, data in numbered_lines(fh, path=path):
            stripped = _LITERAL_EOL.sub(b"", data.strip()).strip()
            if not stripped or stripped[:1] == b"#":
                continue
            try:
                lead_ts, items = _split_line(stripped)
            except _Bad:
                continue
            if lead_ts is not None and time_problem(lead_ts) is None:
                return True
            for tag, sentence, trailing in items:
                if tag and b"c:" in tag:
                    return True
                if sentence[3:6].upper() == b"GHP" or sentence[1:5].upper() == b"PGHP":
                    return True
                if trailing and _trailing(trailing)[0] is not None:
                    return True
    return False


def iter_nmea(
    path: str | Path, *, assume_time: datetime | None = None
) -> Iterator[AISMessage | BadRecord]:
    """Decode an NMEA file (plain or gzip) into messages and bad records.

    Raises :class:`~tracker.core.errors.MissingTimeError` at once (before anything is read or
    stored) when the file carries no time at all and ``assume_time`` is not given.
    """
    if assume_time is None and not file_has_times(path):
        raise MissingTimeError(
            f"{path}: no line carries a time (tag block c:, $PGHP, trailing or leading time); "
            "give --assume-time ISO to store it with an assumed time"
        )
    return _iter_nmea_file(path, assume_time)


def _iter_nmea_file(
    path: str | Path, assume_time: datetime | None
) -> Iterator[AISMessage | BadRecord]:
    with open_binary(path) as fh:
        yield from iter_nmea_lines(
            numbered_lines(fh, path=path), path=str(path), assume_time=assume_time
        )
