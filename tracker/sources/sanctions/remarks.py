"""Identifiers and aliases written in free-text remarks (OFAC "Remarks", UN/EU comments)."""

from __future__ import annotations

import re

__all__ = ["aliases_in", "callsigns_in", "flags_in", "imos_in", "mmsis_in"]

_IMO = re.compile(r"\bIMO(?:\s+(?:number|No\.?))?[\s:#]*(\d{4,9})\b", re.IGNORECASE)
_MMSI = re.compile(r"\bMMSI(?:\s+(?:number|No\.?))?[\s:#]*(\d{9})\b", re.IGNORECASE)
_CALLSIGN = re.compile(r"\b(?:Other\s+)?Vessel\s+Call\s+Sign\s+([A-Z0-9]{3,9})\b", re.IGNORECASE)
_FLAG = re.compile(r"\b(?:Former|Other)\s+Vessel\s+Flag\s+([^;.]+)", re.IGNORECASE)
_ALIAS = re.compile(r"\b(?:a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s+'([^']+)'", re.IGNORECASE)


def imos_in(text: str | None) -> list[int]:
    """IMO numbers in ``text`` ("Vessel Registration Identification IMO 9357391",
    "Identification Number IMO 9339301", "IMO: 9220639"), in order, without repeats."""
    return list(dict.fromkeys(int(m) for m in _IMO.findall(_s(text))))


def mmsis_in(text: str | None) -> list[int]:
    """MMSIs in ``text`` ("MMSI 572450210")."""
    return list(dict.fromkeys(int(m) for m in _MMSI.findall(_s(text))))


def callsigns_in(text: str | None) -> list[str]:
    """Call signs named in ``text`` ("Other Vessel Call Sign 9LY2345")."""
    return list(dict.fromkeys(m.upper() for m in _CALLSIGN.findall(_s(text))))


def flags_in(text: str | None) -> list[str]:
    """Former/other flags named in ``text`` ("Former Vessel Flag Tanzania")."""
    return list(dict.fromkeys(m.strip() for m in _FLAG.findall(_s(text))))


def aliases_in(text: str | None) -> list[str]:
    """Names given as a.k.a./f.k.a./n.k.a. 'NAME' in ``text``."""
    return list(dict.fromkeys(m.strip() for m in _ALIAS.findall(_s(text))))


def _s(text: object) -> str:
    return text if isinstance(text, str) else ""
