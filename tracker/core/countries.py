"""Country names to ISO 3166-1 alpha-2 codes, for flags given by lists, AIS MIDs and analysts.

Lists write flags as "Russia", "Russian Federation", "RU" or "Korea, North"; the ITU MID table
writes "Korea (Republic of)" or "Azores - Portugal". Everything is compared as alpha-2 codes.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["country_code"]

# Names pycountry does not resolve on its own (short, older or list-specific forms).
_ALIASES = {
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "north korea": "KP",
    "korea north": "KP",
    "dprk": "KP",
    "democratic peoples republic of korea": "KP",
    "korea democratic peoples republic of": "KP",
    "south korea": "KR",
    "korea south": "KR",
    "korea republic of": "KR",
    "korea": "KR",
    "turkey": "TR",
    "vietnam": "VN",
    "viet nam": "VN",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "laos": "LA",
    "lao peoples democratic republic": "LA",
    "argentine republic": "AR",
    "gabonese republic": "GA",
    "togolese republic": "TG",
    "kyrgyz republic": "KG",
    "slovak republic": "SK",
    "swaziland": "SZ",
    "the former yugoslav republic of macedonia": "MK",
    "macedonia": "MK",
    "cape verde": "CV",
    "cabo verde": "CV",
    "czech republic": "CZ",
    "micronesia": "FM",
    "cote divoire": "CI",
    "ivory coast": "CI",
    "congo": "CG",
    "republic of the congo": "CG",
    "congo republic of the": "CG",
    "democratic republic of the congo": "CD",
    "congo democratic republic of the": "CD",
    "drc": "CD",
    "state of palestine": "PS",
    "palestine": "PS",
    "vatican city state": "VA",
    "vatican": "VA",
    "brunei": "BN",
    "united kingdom": "GB",
    "united kingdom of great britain and northern ireland": "GB",
    "uk": "GB",
    "great britain": "GB",
    "united states": "US",
    "usa": "US",
    "united states of america": "US",
    "alaska": "US",
    "anilles bonaire sint eustatius and saba": "BQ",
    "antilles bonaire sint eustatius and saba": "BQ",
    "netherlands antilles": "BQ",
    "azores": "PT",
    "madeira": "PT",
    "ascension island": "SH",
    "adelie land": "TF",
    "crozet archipelago": "TF",
    "kerguelen islands": "TF",
    "saint paul and amsterdam islands": "TF",
    "guiana": "GF",
    "french guiana": "GF",
    "pitcairn island": "PN",
    "wallis and futuna islands": "WF",
    "taiwan": "TW",
    "hong kong": "HK",
    "macao": "MO",
    "macau": "MO",
    "reunion": "RE",
    "guadeloupe": "GP",
    "martinique": "MQ",
    "saint helena": "SH",
    "saint pierre and miquelon": "PM",
    "christmas island indian ocean": "CX",
    "falkland islands malvinas": "FK",
    "falkland islands": "FK",
    "the gambia": "GM",
    "gambia the": "GM",
    "bahamas the": "BS",
    "the bahamas": "BS",
    "burma": "MM",
    "east timor": "TL",
    "st kitts and nevis": "KN",
    "st vincent and the grenadines": "VC",
    "st lucia": "LC",
    "sao tome and principe": "ST",
    "eswatini": "SZ",
    "turkiye": "TR",
}


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("&", " and "))
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def _lookup(name: str) -> str | None:
    import pycountry

    key = _key(name)
    if not key:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    if len(key) == 2 and key.isalpha():
        found = pycountry.countries.get(alpha_2=key.upper())
        return found.alpha_2 if found else None
    if len(key) == 3 and key.isalpha():
        found = pycountry.countries.get(alpha_3=key.upper())
        if found:
            return found.alpha_2
    try:
        return pycountry.countries.lookup(name.strip()).alpha_2
    except LookupError:
        pass
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value and _key(value) == key:
                return country.alpha_2
    return None


def country_code(name: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for a country name or code, or None when unknown.

    Understands ITU forms ("Guinea (Republic of)", "Azores - Portugal": the territory first,
    then the parent state), list forms ("Russia", "Korea, North") and codes ("RU", "RUS").
    """
    if name is None:
        return None
    text = str(name).strip()
    if not text or text.lower() in {"nan", "-0-", "unknown", "none"}:
        return None
    parts = [p.strip() for p in re.split(r"\s+-\s+", text) if p.strip()]
    for part in parts:
        for candidate in (part, re.sub(r"\s*\(.*?\)\s*", " ", part).strip()):
            code = _lookup(candidate)
            if code:
                return code
    return None
