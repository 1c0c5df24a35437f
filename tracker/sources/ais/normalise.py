"""Turn decoded AIS values into tracker's units, with "not available" values as ``None``.

AIS marks missing values with sentinels (latitude 91, longitude 181, SOG 102.3 kn, COG 360,
heading 511, ...); these become ``None`` and are never stored as numbers. Coordinates, speeds
and dimensions outside their physical range (:mod:`tracker.core.config`: length <= 600 m, beam
<= 100 m, draught <= 30 m, SOG below the "not available" value) raise :class:`OutOfRange`,
which readers turn into a quarantined record. Dimensions of 0 (AIS and NOAA's "not
available") are ``None``. Ship type codes are kept as the raw number 0-255 (0 -> ``None``);
see :mod:`tracker.core.shiptypes` for labels. Text goes through
:func:`tracker.core.text.check_text` (a control character raises ``TextProblem``).
"""

from __future__ import annotations

import math
from typing import Any

from tracker.core.config import MAX_BEAM_M, MAX_DRAUGHT_M, MAX_LENGTH_M
from tracker.core.text import check_text

__all__ = [
    "OutOfRange",
    "clean_text",
    "measure",
    "position_values",
    "ship_type_code",
    "static_values",
]

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


def clean_text(value: Any, what: str = "text") -> str | None:
    """AIS six-bit text without padding ``@`` and spaces; ``None`` when empty.

    Raises :class:`~tracker.core.text.TextProblem` for a control character (see
    :mod:`tracker.core.text`)."""
    if value is None:
        return None
    return check_text(str(value).replace("@", " "), what, max_chars=200, collapse=False)


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
        if abs(sog - unavailable) < 1e-6:
            sog = None
        elif not 0.0 <= sog < unavailable:
            raise OutOfRange(f"SOG {sog:g} kn outside 0..{unavailable - 0.1:g}")
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


def _dim(value: Any, what: str = "dimension") -> int | None:
    number = _num(value)
    if number is None or number == 0:
        return None
    if not 0 < number <= 1000:
        raise OutOfRange(f"{what} {number:g} m outside 0..1000")
    return int(number)


def measure(value: Any, what: str, high: float) -> float | None:
    """A length/beam/draught in metres: 0 or empty -> ``None`` ("not available"); negative,
    infinite or above ``high`` -> :class:`OutOfRange`."""
    number = _num(value)
    if number is None or number == 0:
        return None
    if not 0 < number <= high:
        raise OutOfRange(f"{what} {number:g} m outside 0..{high:g}")
    return number


def ship_type_code(value: Any) -> int | None:
    """The raw AIS ship type number 0-255 (0 -> ``None``); anything else -> :class:`OutOfRange`."""
    number = _num(value)
    if number is None or number == 0:
        return None
    if number != int(number) or not 0 < number <= 255:
        raise OutOfRange(f"ship type {number:g} is not a code 1-255")
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
    bow, stern = _dim(to_bow, "to_bow"), _dim(to_stern, "to_stern")
    port, stbd = _dim(to_port, "to_port"), _dim(to_starboard, "to_starboard")
    length = float(bow + stern) if bow is not None and stern is not None else None
    beam = float(port + stbd) if port is not None and stbd is not None else None
    return {
        "imo": int(imo_n) if imo_n and 0 < imo_n < 2**31 else None,
        "name": clean_text(name, "name"),
        "callsign": clean_text(callsign, "call sign"),
        "ship_type": ship_type_code(ship_type),
        "to_bow": bow,
        "to_stern": stern,
        "to_port": port,
        "to_starboard": stbd,
        "length_m": measure(length, "length", MAX_LENGTH_M),
        "beam_m": measure(beam, "beam", MAX_BEAM_M),
        "draught_m": measure(draught, "draught", MAX_DRAUGHT_M),
        "destination": clean_text(destination, "destination"),
        "eta": clean_text(eta, "ETA"),
    }
