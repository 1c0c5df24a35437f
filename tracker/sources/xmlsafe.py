"""Parse XML safely (sanctions lists, GPX, KML): defusedxml refuses entity expansion and DTDs."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from tracker.core.errors import InputError
from tracker.sources.ais.textio import open_binary

__all__ = ["parse_xml", "strip_ns"]


def parse_xml(path: str | Path) -> Element:
    """The root element of ``path`` (gzip accepted); unsafe or broken XML is an InputError."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        with open_binary(path) as fh:
            return SafeET.parse(fh, forbid_dtd=False, forbid_entities=True).getroot()
    except DefusedXmlException as exc:
        raise InputError(
            f"{path}: refused unsafe XML ({type(exc).__name__}: entity declarations are not allowed)"
        ) from exc
    except SafeET.ParseError as exc:
        raise InputError(f"{path}: line {exc.position[0]}: not well-formed XML ({exc})") from exc


def strip_ns(root: Element) -> Element:
    """Remove ``{namespace}`` prefixes from tags in place (EU and OFAC XML use namespaces)."""
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root
