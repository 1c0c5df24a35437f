"""The one place that checks text values where they enter tracker.

Policy (the same for every reader):

- **Field values** (names, call signs, notes, URLs, list entries, ...) go through
  :func:`check_text`. Line breaks, tabs and other whitespace collapse to single spaces; any
  other control character (C0 ``\\x00``-``\\x1f``, DEL, C1 ``\\x80``-``\\x9f``), a lone
  surrogate or a non-character (U+FFFE, U+FFFF) raises :class:`TextProblem`, whose message
  names the field, the character and its position: the reader quarantines the record with
  that reason. Such a value never reaches the database (PostgreSQL refuses NUL in text; XML
  exports cannot carry it), and is never silently altered into something else.
- **Raw input** kept for lineage and quarantine (the offending line itself) goes through
  :func:`escape_raw`: every such character is written visibly as ``\\x00`` / ``\\x1b`` /
  ``\\u2028``-style escapes (a backslash already in the text is kept as it is), and the text is
  cut at :data:`MAX_RAW_CHARS` with a note of how much was left out. The quarantine shows what
  came in; the store never holds a byte PostgreSQL would refuse.
- **Output** to XML/KML/HTML: :func:`xml_text` escapes the same way (the value is then
  well-formed once XML-escaped, whatever the input).
"""

from __future__ import annotations

import re

from tracker.core.config import MAX_TEXT_CHARS

__all__ = [
    "MAX_RAW_CHARS",
    "TextProblem",
    "bad_char",
    "check_text",
    "escape_raw",
    "xml_text",
]

#: Raw lines kept in quarantine/lineage are cut at this many characters.
MAX_RAW_CHARS = 4000

#: Characters never stored in a field: C0 controls except whitespace handled by split(),
#: DEL, C1 controls, lone surrogates, the non-characters U+FFFE/U+FFFF.
_BAD = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
#: Everything escaped in raw text and XML output (whitespace controls too, except tab/newline).
_ESCAPE = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

_SPACES = re.compile("[\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")
_CUT_NOTE = re.compile(r" \.\.\. \[\d+ more characters\]$")
_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL"}


class TextProblem(ValueError):
    """A text value holds a character tracker does not store (the message says which)."""


def _describe(char: str) -> str:
    code = ord(char)
    name = _NAMES.get(code)
    if 0xD800 <= code <= 0xDFFF:
        name = "lone surrogate"
    return f"U+{code:04X}" + (f" {name}" if name else "")


def bad_char(text: str) -> str | None:
    """Description of the first character of ``text`` no field may hold, or None."""
    match = _BAD.search(text)
    return None if match is None else f"{_describe(match.group())} at character {match.start() + 1}"


def check_text(
    value: object, what: str, *, max_chars: int = MAX_TEXT_CHARS, collapse: bool = True
) -> str | None:
    """``value`` as a clean one-line string (whitespace runs -> one space, or with
    ``collapse=False`` each line break/tab -> one space, inner runs kept), ``None`` if empty.

    Raises :class:`TextProblem` ("vessel_name contains a control character U+0000 NUL at
    character 5") for a value holding a character listed in the module docstring, or longer than
    ``max_chars``.
    """
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    text = str(value)
    problem = bad_char(text)
    if problem is not None:
        raise TextProblem(f"{what} contains a control character {problem}")
    text = " ".join(text.split()) if collapse else _SPACES.sub(" ", text).strip()
    if len(text) > max_chars:
        raise TextProblem(f"{what} is {len(text)} characters long (at most {max_chars})")
    return text or None


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_raw(value: object, *, max_chars: int = MAX_RAW_CHARS) -> str:
    """Raw input text made safe to store and show: control characters written as ``\\xNN``,
    cut at ``max_chars`` with ``... [N more characters]``. Bytes are read as UTF-8 (invalid
    bytes escaped as ``\\xNN`` too)."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        extra = max(0, len(value) - max_chars * 4)
        text = bytes(value[: max_chars * 4]).decode("utf-8", "backslashreplace")
    else:
        text, extra = str(value), 0
        if _CUT_NOTE.search(text) and len(text) <= max_chars + 40:
            return _ESCAPE.sub(_escape, text)  # already made safe (idempotent)
    if len(text) > max_chars:
        extra += len(text) - max_chars
        text = text[:max_chars]
    text = _ESCAPE.sub(_escape, text)
    if extra:
        text += f" ... [{extra} more characters]"
    return text


def xml_text(value: object) -> str:
    """``value`` as text that is legal in XML 1.0 (and one-line safe in HTML) once escaped:
    control characters written as ``\\xNN``. Use before ``xml.sax.saxutils.escape``."""
    if value is None:
        return ""
    return _ESCAPE.sub(_escape, str(value))
