"""Read list files as text: plain or gzip, UTF-8 with a Windows-1252 fallback, 0x1A trimmed."""

from __future__ import annotations

from pathlib import Path

from tracker.core.errors import InputError
from tracker.sources.ais.textio import open_binary

__all__ = ["find_beside", "read_text"]


def read_text(path: str | Path) -> str:
    """The whole file as text (gzip opened by content; OFAC's trailing 0x1A removed)."""
    with open_binary(path) as fh:
        data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.rstrip("\x1a\r\n \t") + "\n"


def find_beside(path: str | Path, name: str) -> Path | None:
    """``name`` or ``name.gz`` in the folder of ``path`` (case-insensitive), or None."""
    folder = Path(path).parent
    wanted = {name.lower(), f"{name.lower()}.gz"}
    for candidate in sorted(folder.iterdir()):
        if candidate.name.lower() in wanted:
            return candidate
    return None


def require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    return path
