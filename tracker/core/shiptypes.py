"""AIS ship and cargo type codes (ITU-R M.1371-5, table 53): the raw number and its label.

tracker stores the number as broadcast (0-255; pyais' enum would collapse reserved codes such
as 66 into 65, or 38 into 0) and shows the label beside it. Codes with no meaning are labelled
``reserved``; 0 is ``not available``.
"""

from __future__ import annotations

__all__ = ["SHIP_TYPE_LABELS", "ship_type_label"]

_SECOND_DIGIT = {
    0: "all ships of this type",
    1: "hazardous category A",
    2: "hazardous category B",
    3: "hazardous category C",
    4: "hazardous category D",
    9: "no additional information",
}
_FAMILIES = {
    2: "wing in ground",
    4: "high-speed craft",
    6: "passenger",
    7: "cargo",
    8: "tanker",
    9: "other",
}
_SPECIAL = {
    30: "fishing",
    31: "towing",
    32: "towing, length > 200 m or breadth > 25 m",
    33: "dredging or underwater operations",
    34: "diving operations",
    35: "military operations",
    36: "sailing",
    37: "pleasure craft",
    50: "pilot vessel",
    51: "search and rescue vessel",
    52: "tug",
    53: "port tender",
    54: "anti-pollution equipment",
    55: "law enforcement",
    56: "spare (local vessel)",
    57: "spare (local vessel)",
    58: "medical transport",
    59: "noncombatant ship (RR Resolution No. 18)",
}


def _build() -> dict[int, str]:
    labels = {0: "not available"}
    for code in range(1, 100):
        tens, unit = divmod(code, 10)
        if code in _SPECIAL:
            labels[code] = _SPECIAL[code]
        elif tens in _FAMILIES:
            detail = _SECOND_DIGIT.get(unit, "reserved")
            labels[code] = f"{_FAMILIES[tens]}, {detail}"
        else:
            labels[code] = "reserved"
    return labels


#: Code (0-99) -> label.
SHIP_TYPE_LABELS: dict[int, str] = _build()


def ship_type_label(code: int | None) -> str | None:
    """Label of an AIS ship type code (``"cargo, hazardous category A"`` for 71,
    ``"reserved"`` for 9, 38, 100-255); ``None`` when ``code`` is None."""
    if code is None:
        return None
    return SHIP_TYPE_LABELS.get(int(code), "reserved")
