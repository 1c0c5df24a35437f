"""Read AIS that someone else already decoded: CSV exports and JSON-lines feeds.

- ``noaa-csv``: NOAA MarineCadastre (``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,...``)
- ``dma-csv``: Danish Maritime Authority (``# Timestamp,Type of mobile,MMSI,Latitude,...``)
- ``decoded-csv``: exactEarth/Spire-style per-message CSV (``MMSI,Message_ID,...,Time,...``)
- ``aisstream-json``: aisstream.io websocket messages, one JSON object a line
- ``gpsd-json``: gpsd/gpsdecode ``{"class": "AIS", ...}`` lines (no times: needs ``assume_time``)

Each row becomes an :class:`AISMessage`; rows that cannot be used become a
:class:`BadRecord` naming the line and a worded reason (which field, what was found; never a
Python exception's text). An MMSI that is a whole number of at most nine digits is kept even
when it cannot be a real ship (0, 123, an unassigned MID): the store counts and flags those. CSV exports repeat a ship's identity on
every row, so a static report is emitted only when a ship's identity changes within the file.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracker.core.config import MAX_BEAM_M, MAX_LENGTH_M, limits
from tracker.core.errors import InputError, MissingTimeError
from tracker.core.records import BadRecord
from tracker.core.text import TextProblem, check_text
from tracker.core.timeutil import parse_utc, time_problem
from tracker.sources.ais.normalise import OutOfRange, measure, position_values, static_values
from tracker.sources.ais.records import (
    POSITION_FIELDS,
    POSITION_TYPES,
    STATIC_FIELDS,
    STATIC_TYPES,
    AISMessage,
    message_key,
)
from tracker.sources.ais.textio import OverlongLine, numbered_lines, open_binary, text_lines

__all__ = [
    "iter_aisstream_json",
    "iter_decoded_csv",
    "iter_dma_csv",
    "iter_gpsd_json",
    "iter_noaa_csv",
]

Row = dict[str, Any]

# DMA writes navigational status and ship type as text; these are the ITU codes they stand for.
_DMA_NAV_STATUS = {
    "under way using engine": 0,
    "at anchor": 1,
    "not under command": 2,
    "restricted maneuverability": 3,
    "constrained by her draught": 4,
    "moored": 5,
    "aground": 6,
    "engaged in fishing": 7,
    "under way sailing": 8,
    "reserved for future amendment [hsc]": 9,
    "reserved for future amendment [wig]": 10,
    "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12,
    "ais-sart": 14,
}
_DMA_SHIP_TYPE = {
    "wig": 20,
    "fishing": 30,
    "towing": 31,
    "towing long/wide": 32,
    "dredging": 33,
    "diving": 34,
    "military": 35,
    "sailing": 36,
    "pleasure": 37,
    "hsc": 40,
    "pilot": 50,
    "sar": 51,
    "tug": 52,
    "port tender": 53,
    "anti-pollution": 54,
    "law enforcement": 55,
    "medical": 58,
    "not party to conflict": 59,
    "passenger": 60,
    "cargo": 70,
    "tanker": 80,
    "other": 90,
}
_DMA_MOBILE_TYPE = {"class a": 1, "class b": 18, "base station": 4, "aton": 21, "sar airborne": 9}
_NULL_TEXT = {"", "unknown", "undefined", "unknown value", "nan", "none", "null", "n/a"}


def _value(row: Row, *names: str) -> Any:
    for name in names:
        if name in row:
            value = row[name]
            if isinstance(value, str):
                value = value.strip()
                if value.lower() in _NULL_TEXT:
                    return None
            return value
    return None


def _imo(value: Any) -> Any:
    if isinstance(value, str):
        digits = re.sub(r"\D", "", value)
        return digits or None
    return value


def _message(
    *,
    path: str,
    line: int,
    raw: str,
    msg_type: int,
    mmsi: Any,
    ts: datetime,
    assumed: bool,
    source: str | None,
    position: dict | None,
    static: dict | None,
) -> AISMessage:
    pos_part = tuple(position[f] for f in POSITION_FIELDS) if position else ()
    static_part = tuple(static[f] for f in STATIC_FIELDS) if static else ()
    key = message_key("x", msg_type, mmsi, ts.isoformat(), *pos_part, *static_part)
    return AISMessage(
        line=line,
        line_end=line,
        raw=raw,
        msg_type=msg_type,
        mmsi=mmsi,
        ts=ts,
        ts_assumed=assumed,
        source=source,
        key=key,
        position=position,
        static=static,
    )


class _RowProblem(ValueError):
    """A row field that cannot be used, with a worded reason."""


def _shown(value: Any) -> str:
    text = repr(value if not isinstance(value, str) else value.strip())
    return text if len(text) <= 40 else text[:37] + "..."


def _mmsi(value: Any) -> int:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise _RowProblem(f"MMSI {_shown(value)} is not a number") from exc
    if not math.isfinite(number) or number != int(number):
        raise _RowProblem(f"MMSI {_shown(value)} is not a whole number")
    mmsi = int(number)
    if not 0 <= mmsi < 1_000_000_000:
        raise _RowProblem(f"MMSI {mmsi} has more than 9 digits")
    return mmsi


def _parse(what: str, value: Any, parse: Callable[[Any], Any], expected: str) -> Any:
    """``parse(value)``, or a :class:`_RowProblem` saying which field and what was expected."""
    try:
        return parse(value)
    except (TypeError, ValueError, OverflowError, InputError) as exc:
        raise _RowProblem(f"{what} {_shown(value)} is not {expected}") from exc


def _float(what: str, value: Any) -> float | None:
    return None if value in (None, "") else _parse(what, value, float, "a number")


class _IdentityChanges:
    """Emit a row's static report only when that ship's identity differs from its last one."""

    def __init__(self) -> None:
        self._last: dict[int, tuple] = {}

    def changed(self, mmsi: int, static: dict) -> bool:
        content = tuple(static[f] for f in STATIC_FIELDS if f != "eta")
        if not any(v is not None for v in content):
            return False
        if self._last.get(mmsi) == content:
            return False
        self._last[mmsi] = content
        return True


def _csv_rows(path: str | Path, *, strip_hash: bool = False) -> Iterator[tuple[int, Row, str]]:
    """Yield (line number, row dict, raw line) from a CSV file (plain or gzip).

    Lines longer than ``$TRACKER_MAX_LINE_BYTES`` and rows the CSV parser cannot split (an
    unclosed quote running past the field size limit) are yielded as errors, never read whole.
    """
    limit = limits().max_line_bytes
    with open_binary(path) as fh:
        overlong: list[int] = []
        lines = text_lines(fh, overlong=overlong)
        header_line = next(lines, "")
        if overlong:
            raise InputError(f"{path}: the header line is longer than {limit:,} bytes")
        if strip_hash:
            header_line = header_line.lstrip("#").strip()
        header = next(csv.reader([header_line]), [])
        header = [h.strip() for h in header]
        csv.field_size_limit(max(limit, 131072))
        reader = csv.reader(lines)
        previous = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                line = previous + 1
                previous = reader.line_num + 1
                yield line, {"__error__": f"not a CSV row ({exc})"}, ""
                continue
            line = previous + 1
            previous = reader.line_num + 1
            while overlong:
                number = overlong.pop(0)
                yield number, {"__error__": f"line longer than {limit:,} bytes"}, ""
            if not fields or all(not f.strip() for f in fields):
                continue
            raw = ",".join(fields)
            if len(fields) != len(header):
                yield (
                    line,
                    {"__error__": f"expected {len(header)} columns, found {len(fields)}"},
                    raw,
                )
                continue
            yield line, dict(zip(header, fields, strict=True)), raw


def _rows_to_messages(
    rows: Iterator[tuple[int, Row, str]],
    convert: Callable[
        [Row], tuple[int, int, datetime | None, dict | None, dict | None, str | None]
    ],
    *,
    path: str,
    assume_time: datetime | None,
    identity: _IdentityChanges | None,
) -> Iterator[AISMessage | BadRecord]:
    for line, row, raw in rows:
        if "__error__" in row:
            yield BadRecord(path, line, row["__error__"], raw)
            continue
        try:
            msg_type, mmsi, ts, position, static, source = convert(row)
            source = check_text(source, "source", max_chars=200)
            if ts is not None and (problem := time_problem(ts)):
                raise _RowProblem(problem)
        except (OutOfRange, _RowProblem, TextProblem) as exc:
            yield BadRecord(path, line, str(exc), raw)  # tracker's own words
            continue
        except KeyError as exc:
            yield BadRecord(path, line, f"no {exc.args[0]} field", raw)
            continue
        except (ValueError, TypeError, InputError, AttributeError):
            yield BadRecord(path, line, "a field of this row is not in the expected form", raw)
            continue
        assumed = False
        if ts is None:
            if assume_time is None:
                yield BadRecord(path, line, "no time for this row (give --assume-time)", raw)
                continue
            ts, assumed = assume_time, True
        if static is not None and identity is not None and not identity.changed(mmsi, static):
            static = None
        yield _message(
            path=path,
            line=line,
            raw=raw,
            msg_type=msg_type,
            mmsi=mmsi,
            ts=ts,
            assumed=assumed,
            source=source,
            position=position,
            static=static,
        )


def _noaa(row: Row):
    mmsi = _mmsi(row["MMSI"])
    ts = _parse("BaseDateTime", row["BaseDateTime"], parse_utc, "an ISO 8601 time")
    cls = (_value(row, "TransceiverClass", "TranscieverClass") or "A").upper()
    msg_type = 18 if cls == "B" else 1
    position = position_values(
        msg_type,
        lon=_value(row, "LON"),
        lat=_value(row, "LAT"),
        speed=_value(row, "SOG"),
        course=_value(row, "COG"),
        heading=_value(row, "Heading"),
        status=_value(row, "Status"),
    )
    length, width = _value(row, "Length"), _value(row, "Width")
    static = static_values(
        imo=_imo(_value(row, "IMO")),
        name=_value(row, "VesselName"),
        callsign=_value(row, "CallSign"),
        ship_type=_value(row, "VesselType"),
        draught=_value(row, "Draft"),
    )
    static["length_m"] = measure(_float("Length", length), "Length", MAX_LENGTH_M)
    static["beam_m"] = measure(_float("Width", width), "Width", MAX_BEAM_M)
    return msg_type, mmsi, ts, position, static, None


def iter_noaa_csv(
    path: str | Path, *, assume_time: datetime | None = None
) -> Iterator[AISMessage | BadRecord]:
    """Rows of a NOAA MarineCadastre AIS CSV (times are UTC)."""
    return _rows_to_messages(
        _csv_rows(path), _noaa, path=str(path), assume_time=assume_time, identity=_IdentityChanges()
    )


def _dma_time(value: str) -> datetime:
    return _parse(
        "Timestamp",
        value,
        lambda v: datetime.strptime(v.strip(), "%d/%m/%Y %H:%M:%S").replace(tzinfo=UTC),
        "a dd/mm/yyyy HH:MM:SS time",
    )


def _dma(row: Row):
    mmsi = _mmsi(row["MMSI"])
    ts = _dma_time(row["Timestamp"])
    mobile = (_value(row, "Type of mobile") or "").lower()
    msg_type = _DMA_MOBILE_TYPE.get(mobile, 1)
    status = _value(row, "Navigational status")
    ship_type = _value(row, "Ship type")
    position = position_values(
        msg_type,
        lon=_value(row, "Longitude"),
        lat=_value(row, "Latitude"),
        speed=_value(row, "SOG"),
        course=_value(row, "COG"),
        heading=_value(row, "Heading"),
        status=_DMA_NAV_STATUS.get(status.lower()) if status else None,
    )
    static = static_values(
        imo=_imo(_value(row, "IMO")),
        name=_value(row, "Name"),
        callsign=_value(row, "Callsign"),
        ship_type=_DMA_SHIP_TYPE.get(ship_type.lower()) if ship_type else None,
        draught=_value(row, "Draught"),
        destination=_value(row, "Destination"),
        eta=_value(row, "ETA"),
    )
    length, width = _value(row, "Length"), _value(row, "Width")
    static["length_m"] = measure(_float("Length", length), "Length", MAX_LENGTH_M)
    static["beam_m"] = measure(_float("Width", width), "Width", MAX_BEAM_M)
    return msg_type, mmsi, ts, position, static, _value(row, "Data source type")


def iter_dma_csv(
    path: str | Path, *, assume_time: datetime | None = None
) -> Iterator[AISMessage | BadRecord]:
    """Rows of a Danish Maritime Authority AIS CSV (``dd/mm/yyyy HH:MM:SS`` UTC times)."""
    return _rows_to_messages(
        _csv_rows(path, strip_hash=True),
        _dma,
        path=str(path),
        assume_time=assume_time,
        identity=_IdentityChanges(),
    )


def _decoded_time(row: Row) -> datetime | None:
    value = _value(row, "Time")
    if not value:
        return None
    ts = _parse(
        "Time",
        value,
        lambda v: datetime.strptime(v, "%Y%m%d_%H%M%S").replace(tzinfo=UTC),
        "a yyyymmdd_HHMMSS time",
    )
    millis = _value(row, "Millisecond")
    if millis:
        number = _float("Millisecond", millis)
        if number is None or not 0 <= number < 1000:
            raise _RowProblem(f"Millisecond {_shown(millis)} is not a number 0-999")
        ts = ts.replace(microsecond=int(number) * 1000)
    return ts


def _decoded(row: Row):
    mmsi = _mmsi(row["MMSI"])
    msg_type = _parse("Message_ID", row["Message_ID"], lambda v: int(float(v)), "a message type")
    ts = _decoded_time(row)
    position = static = None
    if msg_type in POSITION_TYPES:
        position = position_values(
            msg_type,
            lon=_value(row, "Longitude"),
            lat=_value(row, "Latitude"),
            speed=_value(row, "SOG"),
            course=_value(row, "COG"),
            heading=_value(row, "Heading"),
            status=_value(row, "Navigational_status"),
        )
    if msg_type in STATIC_TYPES:
        month, day = _value(row, "ETA_month"), _value(row, "ETA_day")
        eta = None
        if month and day and 0 < float(month) <= 12 and 0 < float(day) <= 31:
            eta = f"{int(float(month)):02d}-{int(float(day)):02d}"
        static = static_values(
            imo=_value(row, "IMO"),
            name=_value(row, "Vessel_Name"),
            callsign=_value(row, "Call_sign"),
            ship_type=_value(row, "Ship_Type"),
            to_bow=_value(row, "Dimension_to_Bow"),
            to_stern=_value(row, "Dimension_to_stern"),
            to_port=_value(row, "Dimension_to_port"),
            to_starboard=_value(row, "Dimension_to_starboard"),
            draught=_value(row, "Draught"),
            destination=_value(row, "Destination"),
            eta=eta,
        )
    return msg_type, mmsi, ts, position, static, _value(row, "Base_station", "Region")


def iter_decoded_csv(
    path: str | Path, *, assume_time: datetime | None = None
) -> Iterator[AISMessage | BadRecord]:
    """Rows of an exactEarth/Spire-style decoded-message CSV (one row per AIS message)."""
    return _rows_to_messages(
        _csv_rows(path), _decoded, path=str(path), assume_time=assume_time, identity=None
    )


def _json_lines(path: str | Path) -> Iterator[tuple[int, Row, str]]:
    with open_binary(path) as fh:
        for number, data in numbered_lines(fh, path=path):
            if isinstance(data, OverlongLine):
                yield number, {"__error__": data.reason(limits().max_line_bytes)}, ""
                continue
            text = data.decode("utf-8", "replace").strip()
            if not text or text.startswith("#"):
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                yield (
                    number,
                    {"__error__": f"not a JSON object (unreadable at column {exc.colno})"},
                    text,
                )
                continue
            if not isinstance(obj, dict):
                yield number, {"__error__": "expected a JSON object"}, text
                continue
            yield number, obj, text


_AISSTREAM_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?\s*([+-]\d{2}:?\d{2}|Z)?"
)


def _aisstream_time(value: Any) -> datetime | None:
    if not value:
        return None
    match = _AISSTREAM_TIME.match(str(value))
    if not match:
        raise _RowProblem(f"time_utc {_shown(value)} is not a time")
    date, clock, frac, offset = match.groups()
    frac = (frac or "")[:7]
    offset = offset or "+00:00"
    if offset != "Z" and ":" not in offset:
        offset = offset[:3] + ":" + offset[3:]
    return _parse("time_utc", f"{date}T{clock}{frac}{offset}", parse_utc, "a time")


def _dims(dim: Any) -> dict:
    dim = dim if isinstance(dim, dict) else {}
    return {
        "to_bow": dim.get("A"),
        "to_stern": dim.get("B"),
        "to_port": dim.get("C"),
        "to_starboard": dim.get("D"),
    }


def _aisstream(obj: Row):
    kind = obj.get("MessageType")
    meta = obj.get("MetaData") or obj.get("Metadata") or {}
    body = (obj.get("Message") or {}).get(kind)
    if not isinstance(body, dict):
        raise _RowProblem(f"no Message.{_shown(kind)} object")
    mmsi = _mmsi(body.get("UserID", meta.get("MMSI")))
    msg_type = _parse("MessageID", body.get("MessageID") or 0, int, "a message type")
    ts = _aisstream_time(meta.get("time_utc"))
    position = static = None
    if "Latitude" in body and "Longitude" in body and msg_type in POSITION_TYPES:
        position = position_values(
            msg_type,
            lon=body.get("Longitude"),
            lat=body.get("Latitude"),
            speed=body.get("Sog"),
            course=body.get("Cog"),
            heading=body.get("TrueHeading"),
            status=body.get("NavigationalStatus"),
        )
    if kind == "ShipStaticData":
        eta = body.get("Eta") or {}
        month, day = eta.get("Month"), eta.get("Day")
        static = static_values(
            imo=body.get("ImoNumber"),
            name=body.get("Name"),
            callsign=body.get("CallSign"),
            ship_type=body.get("Type"),
            draught=body.get("MaximumStaticDraught"),
            destination=body.get("Destination"),
            eta=f"{month:02d}-{day:02d} {eta.get('Hour', 0):02d}:{eta.get('Minute', 0):02d}"
            if month and day
            else None,
            **_dims(body.get("Dimension")),
        )
    elif kind == "ExtendedClassBPositionReport":
        static = static_values(
            name=body.get("Name"), ship_type=body.get("Type"), **_dims(body.get("Dimension"))
        )
    elif kind == "StaticDataReport":
        report_a, report_b = body.get("ReportA") or {}, body.get("ReportB") or {}
        if report_a.get("Valid"):
            static = static_values(name=report_a.get("Name"))
        elif report_b.get("Valid"):
            static = static_values(
                callsign=report_b.get("CallSign"),
                ship_type=report_b.get("ShipType"),
                **_dims(report_b.get("Dimension")),
            )
    return msg_type or 0, mmsi, ts, position, static, "aisstream"


def iter_aisstream_json(
    path: str | Path, *, assume_time: datetime | None = None
) -> Iterator[AISMessage | BadRecord]:
    """aisstream.io messages (``{"MessageType", "MetaData", "Message"}``), one JSON object a line."""
    return _rows_to_messages(
        _json_lines(path), _aisstream, path=str(path), assume_time=assume_time, identity=None
    )


def _gpsd(obj: Row):
    if obj.get("class") not in (None, "AIS"):
        raise _RowProblem(f"class {_shown(obj.get('class'))} is not AIS")
    msg_type = _parse("type", obj["type"], int, "a message type")
    mmsi = _mmsi(obj["mmsi"])
    scaled = obj.get("scaled", True)
    lon, lat, speed, course = obj.get("lon"), obj.get("lat"), obj.get("speed"), obj.get("course")
    if not scaled:
        lon = _float("lon", lon) / 600000.0 if lon is not None else None
        lat = _float("lat", lat) / 600000.0 if lat is not None else None
        speed = _float("speed", speed) / 10.0 if speed is not None else None
        course = _float("course", course) / 10.0 if course is not None else None
    ts = None
    if obj.get("time"):
        ts = _parse("time", str(obj["time"]), parse_utc, "a time")
    elif isinstance(obj.get("timestamp"), str) and not obj["timestamp"].startswith("0000"):
        try:
            ts = parse_utc(obj["timestamp"])
        except InputError:
            ts = None
    position = static = None
    if msg_type in POSITION_TYPES and lon is not None and lat is not None:
        position = position_values(
            msg_type,
            lon=lon,
            lat=lat,
            speed=speed,
            course=course,
            heading=obj.get("heading"),
            status=obj.get("status"),
        )
    if msg_type in STATIC_TYPES:
        static = static_values(
            imo=obj.get("imo"),
            name=obj.get("shipname"),
            callsign=obj.get("callsign"),
            ship_type=obj.get("shiptype"),
            to_bow=obj.get("to_bow"),
            to_stern=obj.get("to_stern"),
            to_port=obj.get("to_port"),
            to_starboard=obj.get("to_starboard"),
            draught=obj.get("draught"),
            destination=obj.get("destination"),
            eta=obj.get("eta"),
        )
    return msg_type, mmsi, ts, position, static, obj.get("device")


def _gpsd_has_times(path: str | Path) -> bool:
    for _line, obj, _raw in _json_lines(path):
        if "__error__" in obj:
            continue
        try:
            if _gpsd(obj)[2] is not None:
                return True
        except (ValueError, TypeError, KeyError, InputError, OutOfRange, AttributeError):
            continue
    return False


def iter_gpsd_json(
    path: str | Path, *, assume_time: datetime | None = None
) -> Iterator[AISMessage | BadRecord]:
    """gpsd/gpsdecode AIS JSON lines; gpsd output carries no reception time, so give ``assume_time``.

    Raises :class:`MissingTimeError` before yielding anything when no line has a time and
    ``assume_time`` is not given.
    """
    if assume_time is None and not _gpsd_has_times(path):
        raise MissingTimeError(
            f"{path}: no line carries a time; give --assume-time ISO to store it with an assumed time"
        )
    return _rows_to_messages(
        _json_lines(path), _gpsd, path=str(path), assume_time=assume_time, identity=None
    )
