"""Remove one stored sighting (``tracker sightings remove ID``): by its key or numeric id.

A sighting stored with a wrong value (before tracker checked dates and ranges on import, a
row dated 9999-12-31 could be stored and then break ``sightings link``, ``map`` and
``export``) can be taken out without touching anything else.
"""

from __future__ import annotations

import sqlalchemy as sa

from tracker.core.errors import InputError
from tracker.store.engine import Store
from tracker.store.sightings import sightings
from tracker.store.writes import write_transaction

__all__ = ["remove_sighting"]


def remove_sighting(store: Store, ident: str | int) -> dict:
    """Delete the sighting whose key (``id:...``, a 32-hex hash, or the analyst's id without
    ``id:``) or numeric row id is ``ident``; return what was removed (key, time, source).

    Raises :class:`InputError` when no sighting matches, or when ``ident`` matches more than
    one (nothing is removed then).
    """
    text = str(ident).strip()
    if not text:
        raise InputError("give the id or key of the sighting to remove")
    conditions = [sightings.c.key == text, sightings.c.key == f"id:{text}"]
    if text.isdigit() and len(text) < 19:
        conditions.append(sightings.c.id == int(text))

    def work(conn) -> dict:
        found = conn.execute(
            sa.select(sightings.c.id, sightings.c.key, sightings.c.time, sightings.c.source).where(
                sa.or_(*conditions)
            )
        ).all()
        if not found:
            raise InputError(f"no stored sighting has the id or key {text!r}")
        if len(found) > 1:
            keys = ", ".join(row.key for row in found)
            raise InputError(f"{text!r} matches {len(found)} sightings ({keys}); give the key")
        row = found[0]
        conn.execute(sa.delete(sightings).where(sightings.c.id == row.id))
        return {"id": row.id, "key": row.key, "time": row.time, "source": row.source}

    return write_transaction(store.engine, work)
