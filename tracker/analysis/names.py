"""Ship-name normalisation for matching: case, punctuation, M/V-style prefixes, Cyrillic and
transliteration variants ("SIYANIE SEVERA", "Сияние Севера", "SIJANIE SEVERA" agree)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["match_key", "normalise_name", "printable", "printable_json"]

_CYRILLIC = dict(
    zip(
        "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
        [
            "A",
            "B",
            "V",
            "G",
            "D",
            "E",
            "E",
            "ZH",
            "Z",
            "I",
            "Y",
            "K",
            "L",
            "M",
            "N",
            "O",
            "P",
            "R",
            "S",
            "T",
            "U",
            "F",
            "KH",
            "TS",
            "CH",
            "SH",
            "SHCH",
            "",
            "Y",
            "",
            "E",
            "YU",
            "YA",
        ],
        strict=True,
    )
)
# Hull-type prefixes broadcast or listed in front of names: M/V, MV, M.V., M/T, MT, S/S, SS...
_PREFIX = re.compile(
    r"^(?:M\s*[/.]?\s*[VTY]|S\s*[/.]?\s*[ST]|R\s*/\s*V|F\s*/\s*V|MV|MT|MY|SS|RV|FV|TB|HSC|LPG|LNG)\.?\s+(?=\S)"
)
# Transliteration variants folded to one spelling (applied to the whole upper-case key).
_FOLD = [
    ("SHCH", "SH"),
    ("SCH", "SH"),
    ("TCH", "CH"),
    ("KH", "H"),
    ("ZH", "J"),
    ("TS", "C"),
    ("TZ", "C"),
    ("YA", "IA"),
    ("JA", "IA"),
    ("YU", "IU"),
    ("JU", "IU"),
    ("YE", "E"),
    ("JE", "E"),
    ("YO", "IO"),
    ("Y", "I"),
    ("W", "V"),
    ("PH", "F"),
    ("Q", "K"),
    ("X", "KS"),
]


def normalise_name(name: object) -> str:
    """Upper-case ASCII name without prefixes like M/V, punctuation or repeated spaces.

    "M/V Baltic-Leader" -> "BALTIC LEADER"; "Сияние Севера" -> "SIYANIE SEVERA".
    """
    if name is None or (isinstance(name, float) and name != name):
        return ""
    text = "".join(_CYRILLIC.get(ch, ch) for ch in str(name).upper())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.replace("&", " AND ").replace("@", " ")
    text = _PREFIX.sub("", " ".join(text.split()))
    text = re.sub(r"[^A-Z0-9]+", " ", text)
    return " ".join(text.split())


def match_key(name: object) -> str:
    """The key fuzzy matching compares: the normalised name with transliteration folded."""
    key = normalise_name(name)
    for old, new in _FOLD:
        key = key.replace(old, new)
    return key


_UNSAFE = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def printable(value: object) -> str:
    """``value`` as text safe to print on a terminal: control, format (bidi overrides,
    zero-width), separator and private-use characters become ``\\x1b``-style escapes.

    AIS names and list text are hostile: "EVIL\\x1b[2J" must not clear the analyst's screen.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    if text.isprintable() and text.isascii():
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _UNSAFE else ch for ch in text)


def printable_json(text: str) -> str:
    """A JSON document (from ``json.dumps(..., ensure_ascii=False)``) with the characters
    :func:`printable` escapes written as JSON ``\\u`` escapes (``\\u202e``): the same JSON value, but no raw
    DEL, C1 control, bidi override or line separator reaches the terminal."""
    return "".join(
        _json_escape(ch) if ord(ch) >= 0x7F and unicodedata.category(ch) in _UNSAFE else ch
        for ch in text
    )
