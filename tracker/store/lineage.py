"""Lineage kept compactly: the raw input text of stored messages, in compressed blocks.

Every stored position and static report keeps where it came from in its own row
(``input_id``, ``line``, ``line_end``; NULL ``line_end``: one line) and its raw text in a
``raw_blocks`` row: the text of the messages one ingest batch stored, zlib-compressed. So the
exact input sentences can be shown after the input file is gone (``tracker lineage``,
``tracker vessels show --raw``). Repeats of a stored transmission and messages that are neither
a position nor a static report are counted in ``ingest_runs``, not kept.

Block format (``data``; version byte, then a zlib stream of UTF-8 text)::

    b"\\x01" + zlib("<n>" RS "<line deltas>" RS "<spans>" RS raw_1 RS raw_2 ... RS raw_n)

RS is U+001E; deltas (each line minus the one before, the first from 0) and spans
(``line_end - line``) are comma-separated decimal integers. Raw text is stored by
:func:`tracker.core.text.escape_raw`, which writes every C0 control other than tab, line
feed and carriage return as visible ``\\x1e``-style text, so U+001E never occurs in it and the
split is unambiguous; a raw text that does hold one (a reader that did not escape) is escaped
the same way before it is stored. Multi-part messages keep their fragments' lines joined by
``"\\n"``. A block's ``first_line``/``last_line`` bound its lines; blocks of one input may
overlap (a multi-part message completed in a later batch), so a look-up tries each block
whose range holds the line.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracker.core.errors import InputError
from tracker.core.text import xml_text
from tracker.store.engine import Store
from tracker.store.tables import ingest_runs, positions, raw_blocks, static_reports

__all__ = [
    "BLOCK_VERSION",
    "ZLIB_LEVEL",
    "block_row",
    "decode_block",
    "encode_block",
    "first_last_fix",
    "raw_lineage",
    "raw_lines",
    "raw_text",
    "stored_messages",
    "vessel_mmsis",
    "vessel_raw",
]

#: First byte of every block: the layout described in the module docstring.
BLOCK_VERSION = 1
#: zlib level of the blocks, chosen by measurement on the AISHub sample (80,565 stored
#: messages, 50.0 bytes of raw text each, blocks of 5,000, one core of the 2-core dev box):
#: level 1 gives 25.6 bytes a message at 1.55 M messages/s, level 3 24.4 at 1.18 M/s, level 6
#: 23.0 at 0.59 M/s, level 9 22.5 at 0.20 M/s. Level 1: 2.6 bytes more a message than level 6
#: (under 2 % of the 150-byte budget) for 2.6x the speed, where ingest speed is the tighter aim.
ZLIB_LEVEL = 1
_RS = "\x1e"
_IN_CHUNK = 500


def _ints(values: Iterable[int]) -> str:
    return ",".join(map(str, values))


def _line_ends(starts: np.ndarray, line_ends: Sequence[int | None]) -> np.ndarray:
    try:
        return np.asarray(line_ends, dtype=np.int64).reshape(starts.shape)
    except TypeError:  # None among them: that message is on one line
        pairs = zip(starts.tolist(), line_ends, strict=True)
        return np.array([s if e is None else e for s, e in pairs], dtype=np.int64)


def encode_block(
    lines: Sequence[int], line_ends: Sequence[int | None], raws: Sequence[str]
) -> bytes:
    """One ``raw_blocks.data`` value: the messages at 1-based input ``lines`` (spanning to
    ``line_ends``; ``None`` = one line), with their raw text ``raws`` as
    :func:`tracker.core.text.escape_raw` made it (fragments of a multi-part message joined by
    ``"\\n"``). Any order; a line given twice keeps its last text. A raw text holding the record
    separator U+001E (not escaped by its reader) has its control characters escaped here."""
    n = len(lines)
    if len(line_ends) != n or len(raws) != n:
        raise ValueError(
            f"encode_block: {n} lines, {len(line_ends)} line ends, {len(raws)} raw texts"
        )
    starts = np.asarray(lines, dtype=np.int64).reshape(n)
    ends = _line_ends(starts, line_ends)
    if n and (starts.min() < 1 or (ends < starts).any()):
        raise ValueError("encode_block: lines are 1-based and every line_end >= its line")
    try:
        body = _RS.join(raws)
    except TypeError:  # None or a non-text value among them
        body = _RS.join("" if r is None else str(r) for r in raws)
    if body.count(_RS) != max(n - 1, 0):
        body = _RS.join(xml_text(r) for r in raws)
    head = (str(n), _ints(np.diff(starts, prepend=0).tolist()), _ints((ends - starts).tolist()))
    payload = _RS.join((*head, body)).encode("utf-8", "surrogatepass")
    return bytes((BLOCK_VERSION,)) + zlib.compress(payload, ZLIB_LEVEL)


def decode_block(data: bytes) -> dict[int, tuple[int, str]]:
    """The messages of a block: input line -> (last line, raw text)."""
    data = bytes(data)
    if not data or data[0] != BLOCK_VERSION:
        raise ValueError(f"raw block of unknown layout (first byte {data[:1]!r})")
    text = zlib.decompress(data[1:]).decode("utf-8", "surrogatepass")
    head, deltas, spans, body = text.split(_RS, 3)
    n = int(head)
    if n == 0:
        return {}
    starts = np.cumsum(np.array(deltas.split(","), dtype=np.int64))
    ends = starts + np.array(spans.split(","), dtype=np.int64)
    texts = body.split(_RS)
    if len(texts) != n or len(starts) != n or len(ends) != n:
        raise ValueError(f"corrupt raw block: {n} messages announced")
    return dict(zip(starts.tolist(), zip(ends.tolist(), texts, strict=True), strict=True))


def block_row(
    input_id: int, lines: Sequence[int], line_ends: Sequence[int | None], raws: Sequence[str]
) -> dict[str, Any]:
    """The ``raw_blocks`` row of one batch's stored messages: ``first_line`` the least line,
    ``last_line`` the greatest line end, ``data`` from :func:`encode_block`."""
    if not len(lines):
        raise ValueError("block_row: a block holds at least one message")
    starts = np.asarray(lines, dtype=np.int64).reshape(len(lines))
    return {
        "input_id": int(input_id),
        "first_line": int(starts.min()),
        "last_line": int(_line_ends(starts, line_ends).max()),
        "messages": len(lines),
        "data": encode_block(lines, line_ends, raws),
    }


# --- reading ------------------------------------------------------------------------------


#: The index (input_id, first_line, last_line) walked backwards: the nearest block first, no sort.
_NEAREST_FIRST = (
    raw_blocks.c.first_line.desc(),
    raw_blocks.c.last_line.desc(),
    raw_blocks.c.id.desc(),
)


class _Blocks:
    """Decoded blocks of one connection, each read and decompressed at most once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.decoded: dict[int, dict[int, tuple[int, str]]] = {}
        self.by_input: dict[int, list[int]] = {}

    def _load(self, block_id: int, data: bytes, input_id: int) -> dict[int, tuple[int, str]]:
        if block_id not in self.decoded:
            self.decoded[block_id] = decode_block(data)
            self.by_input.setdefault(input_id, []).append(block_id)
        return self.decoded[block_id]

    def _fetch(self, stmt) -> list[tuple[int, bytes]]:
        return [(int(i), d) for i, d in self.conn.execute(stmt)]

    def get(self, input_id: int, line: int) -> tuple[int, str] | None:
        """(last line, raw text) of the stored message at ``line`` of ``input_id``."""
        for block_id in self.by_input.get(input_id, ()):
            hit = self.decoded[block_id].get(line)
            if hit is not None:
                return hit
        rb = raw_blocks.c
        nearest = (
            sa.select(rb.id, rb.data)
            .where(rb.input_id == input_id, rb.first_line <= line, rb.last_line >= line)
            .order_by(*_NEAREST_FIRST)
        )
        # the nearest block almost always holds the line; overlapping ones are tried after it
        for block_id, data in self._fetch(nearest.limit(1)):
            hit = self._load(block_id, data, input_id).get(line)
            if hit is not None:
                return hit
        ids = sa.select(rb.id).where(
            rb.input_id == input_id, rb.first_line <= line, rb.last_line >= line
        )
        for (block_id,) in self.conn.execute(ids.order_by(*_NEAREST_FIRST)):
            if int(block_id) in self.decoded:
                continue
            data = self.conn.execute(sa.select(rb.data).where(rb.id == block_id)).scalar_one()
            hit = self._load(int(block_id), data, input_id).get(line)
            if hit is not None:
                return hit
        return None


def _connection(conn_or_store: Connection | Store):
    if isinstance(conn_or_store, Store):
        return conn_or_store.engine.connect()
    return _Borrowed(conn_or_store)


class _Borrowed:
    """A connection given by the caller: used as a context manager without closing it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc) -> None:
        return None


def raw_lines(
    conn_or_store: Connection | Store, wanted: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, str]]:
    """(last line, raw text) of the stored messages at ``(input_id, line)`` pairs; pairs with
    no stored message are left out."""
    out: dict[tuple[int, int], tuple[int, str]] = {}
    with _connection(conn_or_store) as conn:
        blocks = _Blocks(conn)
        for input_id, line in sorted({(int(i), int(n)) for i, n in wanted}):
            hit = blocks.get(input_id, line)
            if hit is not None:
                out[(input_id, line)] = hit
    return out


def raw_text(conn_or_store: Connection | Store, input_id: int, line: int) -> str | None:
    """The raw input text of the message stored from ``line`` of input ``input_id`` (its
    fragments' lines joined by ``"\\n"``), or None when no stored message starts there."""
    hit = raw_lines(conn_or_store, [(input_id, line)]).get((int(input_id), int(line)))
    return None if hit is None else hit[1]


def _table(table: sa.Table | str) -> sa.Table:
    if isinstance(table, sa.Table):
        return table
    tables = {"positions": positions, "static_reports": static_reports}
    if table not in tables:
        raise ValueError(f"raw_lineage: table is positions or static_reports, not {table!r}")
    return tables[table]


LINEAGE_COLUMNS = ["id", "input_id", "input_path", "sha256", "line", "line_end", "raw"]


def raw_lineage(store: Store, table: sa.Table | str, ids: Iterable[int]) -> pd.DataFrame:
    """Lineage of stored rows ``ids`` of ``table`` (``positions`` or ``static_reports``):
    ``id, input_id, input_path, sha256, line, line_end`` (``line_end`` = ``line`` for one
    line) and ``raw``, the input text (None when none is kept), one row per id found, by id."""
    t = _table(table)
    wanted = sorted({int(i) for i in ids})
    rows: list[tuple] = []
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), _IN_CHUNK):
            stmt = (
                sa.select(
                    t.c.id,
                    t.c.input_id,
                    ingest_runs.c.path,
                    ingest_runs.c.sha256,
                    t.c.line,
                    sa.func.coalesce(t.c.line_end, t.c.line),
                )
                .select_from(t.outerjoin(ingest_runs, ingest_runs.c.id == t.c.input_id))
                .where(t.c.id.in_(wanted[start : start + _IN_CHUNK]))
            )
            rows += [tuple(r) for r in conn.execute(stmt)]
        keys = [(r[1], r[4]) for r in rows if r[1] is not None and r[4] is not None]
        found = raw_lines(conn, keys)
    records = [
        (*r[:6], found.get((r[1], r[4]), (None, None))[1] if r[1] is not None else None)
        for r in sorted(rows)
    ]
    frame = pd.DataFrame(records, columns=LINEAGE_COLUMNS)
    for column in ("id", "input_id", "line", "line_end"):
        frame[column] = frame[column].astype("Int64")
    return frame


# --- a vessel's stored messages -----------------------------------------------------------


def vessel_mmsis(store: Store, ident: str | int) -> list[int]:
    """MMSIs meant by ``ident``: a 9-digit MMSI, a 7-digit IMO (or ``IMO1234567``: every MMSI
    that broadcast it), else a broadcast name (case and spacing aside: every MMSI that sent a
    static report with that name). Raises :class:`InputError` for a name nobody broadcast."""
    from tracker.store.ais import resolve_vessel

    text = str(ident).strip()
    if text.upper().removeprefix("IMO").strip().isdigit():
        return resolve_vessel(store, text)
    name = " ".join(text.upper().split())
    if not name:
        raise InputError("expected an MMSI, an IMO number or a vessel name, found nothing")
    s = static_reports
    stmt = sa.select(s.c.mmsi).where(sa.func.upper(s.c.name) == name).distinct()
    with store.engine.connect() as conn:
        found = sorted(int(m) for m in conn.execute(stmt).scalars())
    if not found:
        raise InputError(
            f"no stored static report names a vessel {ident!r} (give its MMSI or IMO number)"
        )
    return found


MESSAGE_COLUMNS = [
    "ts",
    "ts_assumed",
    "kind",
    "mmsi",
    "msg_type",
    "input_id",
    "input_path",
    "sha256",
    "line",
    "line_end",
    "raw",
    "position_id",
    "static_id",
]


def _rows_of(table: sa.Table, mmsis: Sequence[int], since, until, limit: int | None):
    stmt = sa.select(
        table.c.id,
        table.c.key,
        table.c.ts,
        table.c.ts_assumed,
        table.c.mmsi,
        table.c.msg_type,
        sa.func.coalesce(table.c.input_id, 0),
        sa.func.coalesce(table.c.line, 0),
    ).where(table.c.mmsi.in_([int(m) for m in mmsis]))
    if since is not None:
        stmt = stmt.where(table.c.ts >= since)
    if until is not None:
        stmt = stmt.where(table.c.ts <= until)
    # the order of the merged list: time, then input and line, then row id
    stmt = stmt.order_by(
        table.c.ts, sa.func.coalesce(table.c.input_id, 0), sa.func.coalesce(table.c.line, 0)
    ).order_by(table.c.id)
    return stmt.limit(limit) if limit is not None else stmt


def stored_messages(
    store: Store,
    mmsis: Sequence[int],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The stored messages of ``mmsis`` (UTC ``since``/``until`` inclusive), oldest first, at
    most ``limit``, each with its lineage: columns :data:`MESSAGE_COLUMNS`; ``kind`` is
    ``position``, ``static`` or ``position+static`` (type 19 is stored in both tables)."""
    with store.engine.connect() as conn:
        pos = conn.execute(_rows_of(positions, mmsis, since, until, limit)).all()
        sta = conn.execute(_rows_of(static_reports, mmsis, since, until, limit)).all()
    merged: dict[int, dict] = {}
    for kind, rows in (("position", pos), ("static", sta)):
        for row_id, key, ts, assumed, mmsi, msg_type, input_id, line in rows:
            entry = merged.get(key)
            if entry is None:
                entry = merged[key] = {
                    "_at": (ts, int(input_id), int(line)),
                    "ts": ts,
                    "ts_assumed": bool(assumed),
                    "kind": kind,
                    "mmsi": int(mmsi),
                    "msg_type": int(msg_type),
                    "position_id": None,
                    "static_id": None,
                }
            else:
                entry["kind"] = "position+static"
            entry[f"{kind}_id"] = int(row_id)
    chosen = sorted(
        merged.values(),
        key=lambda e: (*e.pop("_at"), e["position_id"] or 0, e["static_id"] or 0),
    )
    if limit is not None:
        chosen = chosen[:limit]
    if not chosen:
        return pd.DataFrame(columns=MESSAGE_COLUMNS)
    pos_ids = [e["position_id"] for e in chosen if e["position_id"] is not None]
    sta_ids = [e["static_id"] for e in chosen if e["static_id"] is not None]
    lin = pd.concat(
        [
            raw_lineage(store, positions, pos_ids).assign(_t="position"),
            raw_lineage(store, static_reports, sta_ids).assign(_t="static"),
        ],
        ignore_index=True,
    )
    by_row = {(r["_t"], int(r["id"])): r for r in lin.to_dict("records")}
    records = []
    for e in chosen:
        ref = ("position", e["position_id"]) if e["position_id"] is not None else None
        ref = ref or ("static", e["static_id"])
        lineage = by_row.get(ref, {})
        records.append(
            {
                **e,
                **{
                    c: lineage.get(c)
                    for c in ("input_id", "input_path", "sha256", "line", "line_end", "raw")
                },
            }
        )
    frame = pd.DataFrame(records, columns=MESSAGE_COLUMNS)
    for column in ("input_id", "line", "line_end", "position_id", "static_id"):
        frame[column] = frame[column].astype("Int64")
    return frame


def first_last_fix(store: Store, mmsis: Sequence[int]) -> tuple[int | None, int | None, int]:
    """Position ids of the first and last fix of ``mmsis`` (by UTC time, then id; None
    without a fix) and how many fixes they have."""
    wanted = [int(m) for m in mmsis]
    if not wanted:
        return None, None, 0
    p = positions
    with store.engine.connect() as conn:
        first = conn.execute(
            sa.select(p.c.id).where(p.c.mmsi.in_(wanted)).order_by(p.c.ts, p.c.id).limit(1)
        ).scalar()
        last = conn.execute(
            sa.select(p.c.id)
            .where(p.c.mmsi.in_(wanted))
            .order_by(p.c.ts.desc(), p.c.id.desc())
            .limit(1)
        ).scalar()
        count = conn.execute(sa.select(sa.func.count()).where(p.c.mmsi.in_(wanted))).scalar()
    return first, last, int(count or 0)


def vessel_raw(store: Store, mmsis: Sequence[int]) -> dict[str, Any]:
    """Lineage with raw text of what ``tracker vessels show`` prints of ``mmsis``: ``first``
    and ``last``, the first and last fix (dicts of :data:`LINEAGE_COLUMNS`, None without a
    fix), and ``statics``, one row per static report in the order of
    :func:`tracker.store.ais.read_static_reports` (MMSI, time, id)."""
    wanted = [int(m) for m in mmsis]
    s = static_reports
    first, last, _count = first_last_fix(store, wanted)
    with store.engine.connect() as conn:
        static_ids = list(
            conn.execute(
                sa.select(s.c.id).where(s.c.mmsi.in_(wanted)).order_by(s.c.mmsi, s.c.ts, s.c.id)
            ).scalars()
        )
    ends = raw_lineage(store, positions, [i for i in (first, last) if i is not None])
    by_id = {int(r["id"]): r for r in ends.to_dict("records")}
    statics = raw_lineage(store, static_reports, static_ids).set_index("id")
    statics = statics.reindex(static_ids).reset_index()
    return {
        "first": by_id.get(first) if first is not None else None,
        "last": by_id.get(last) if last is not None else None,
        "statics": statics,
    }
