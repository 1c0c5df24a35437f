"""Turn decoded AIS values into tracker's units, with "not available" values as ``None``.

AIS marks missing values with sentinels (latitude 91, longitude 181, SOG 102.3 kn, COG 360,
heading 511, ...); these become ``None`` and are never stored as numbers. Coordinates outside
the valid range raise :class:`OutOfRange`, which readers turn into a quarantined record.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["OutOfRange", "clean_text", "position_values", "static_values"]

_NAV_STATUS_UNDEFINED = 15


class OutOfRange(ValueError):
    """A decoded value lies outside what AIS allows (and is not a 'not available' sentinel)."""


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    return number


def clean_text(value: Any) -> str | None:
    """AIS six-bit text without padding ``@`` and spaces; ``None`` when empty."""
    if value is None:
        return None
    text = str(value).replace("@", " ").strip()
    return text or None


def _lon_lat(lon: Any, lat: Any) -> tuple[float | None, float | None]:
    lon_f, lat_f = _num(lon), _num(lat)
    if lon_f is not None and abs(lon_f - 181.0) < 1e-6:
        lon_f = None
    if lat_f is not None and abs(lat_f - 91.0) < 1e-6:
        lat_f = None
    if lon_f is not None and not -180.0 <= lon_f <= 180.0:
        raise OutOfRange(f"longitude {lon_f} outside -180..180")
    if lat_f is not None and not -90.0 <= lat_f <= 90.0:
        raise OutOfRange(f"latitude {lat_f} outside -90..90")
    if lon_f is None or lat_f is None:
        return None, None
    return lon_f, lat_f


def position_values(
    msg_type: int,
    *,
    lon: Any,
    lat: Any,
    speed: Any = None,
    course: Any = None,
    heading: Any = None,
    status: Any = None,
) -> dict:
    """Position fields in tracker units from decoded values of message ``msg_type``.

    SOG in knots (102.3 for types 1-3/18/19, 63 for type 27 and 1023 for type 9 mean "not
    available"), COG in degrees (360, or 511 for type 27, "not available"), true heading in
    degrees (511 "not available").
    """
    lon_f, lat_f = _lon_lat(lon, lat)
    sog = _num(speed)
    if sog is not None:
        unavailable = {27: 63.0, 9: 1023.0}.get(msg_type, 102.3)
        if sog >= unavailable - 1e-6 or sog < 0:
            sog = None
    cog = _num(course)
    if cog is not None and not 0.0 <= cog < 360.0:
        cog = None
    hdg = _num(heading)
    if hdg is not None and not 0.0 <= hdg < 360.0:
        hdg = None
    nav = _num(status)
    nav_status = None if nav is None or int(nav) == _NAV_STATUS_UNDEFINED else int(nav)
    return {
        "lon": lon_f,
        "lat": lat_f,
        "sog_kn": sog,
        "cog_deg": cog,
        "heading_deg": hdg,
        "nav_status": nav_status,
    }


def _dim(value: Any) -> int | None:
    number = _num(value)
    if number is None or number <= 0:
        return None
    return int(number)


def static_values(
    *,
    imo: Any = None,
    name: Any = None,
    callsign: Any = None,
    ship_type: Any = None,
    to_bow: Any = None,
    to_stern: Any = None,
    to_port: Any = None,
    to_starboard: Any = None,
    draught: Any = None,
    destination: Any = None,
    eta: str | None = None,
) -> dict:
    """Static fields in tracker units; zeros that AIS uses for "not available" become ``None``.

    Length and beam in metres are the sums of the reference-point distances when both are given.
    """
    imo_n = _num(imo)
    ship = _num(ship_type)
    bow, stern, port, stbd = _dim(to_bow), _dim(to_stern), _dim(to_port), _dim(to_starboard)
    draught_f = _num(draught)
    return {
        "imo": int(imo_n) if imo_n and imo_n > 0 else None,
        "name": clean_text(name),
        "callsign": clean_text(callsign),
        "ship_type": int(ship) if ship else None,
        "to_bow": bow,
        "to_stern": stern,
        "to_port": port,
        "to_starboard": stbd,
        "length_m": float(bow + stern) if bow is not None and stern is not None else None,
        "beam_m": float(port + stbd) if port is not None and stbd is not None else None,
        "draught_m": draught_f if draught_f and draught_f > 0 else None,
        "destination": clean_text(destination),
        "eta": eta,
    }
