"""Read list files as text: plain or gzip, UTF-8 with a Windows-1252 fallback, 0x1A trimmed."""

from __future__ import annotations

from pathlib import Path

from tracker.core.errors import InputError
from tracker.sources.ais.textio import read_capped

__all__ = ["find_beside", "read_text"]


def read_text(path: str | Path) -> str:
    """The whole file as text (gzip opened by content; OFAC's trailing 0x1A removed).

    Capped at ``$TRACKER_MAX_TEXT_FILE_BYTES`` and the gzip limits (one InputError line)."""
    data = read_capped(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.rstrip("\x1a\r\n \t") + "\n"


def find_beside(path: str | Path, name: str) -> Path | None:
    """``name`` or ``name.gz`` in the folder of ``path`` (case-insensitive), or None.

    A sidecar must be a regular file inside that folder: a symlink leading out of it (to
    ``/etc/passwd``, ``/dev/zero``, ...) or to a non-file raises :class:`InputError`."""
    folder = Path(path).parent
    wanted = {name.lower(), f"{name.lower()}.gz"}
    for candidate in sorted(folder.iterdir()):
        if candidate.name.lower() in wanted:
            target = candidate.resolve()
            if candidate.is_symlink() and target.parent != folder.resolve():
                raise InputError(
                    f"{candidate}: a symlink out of the list's folder (to {target}); "
                    "copy the file there instead"
                )
            if not target.is_file():
                raise InputError(f"{candidate}: not a regular file")
            return candidate
    return None


def require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    return path
