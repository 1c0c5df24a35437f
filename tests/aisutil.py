"""Test helpers for AIS: pyais as the oracle, store row counts, project-made fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from pyais.stream import FileReaderStream

from tracker.sources.ais.records import POSITION_TYPES, STATIC_TYPES
from tracker.sources.ais.synth import sail, track_to_nmea, write_nmea

TABLES = ("ingest_runs", "positions", "static_reports", "vessels", "raw_blocks", "quarantine")
ASSUMED = datetime(2020, 1, 1, tzinfo=UTC)

#: Every real NMEA recording and whether it needs an assumed time.
REAL_NMEA = {
    "ais/pyais/nmea_data_sample.txt": True,
    "ais/pyais/mixed.txt": True,
    "ais/pyais/messages.ais": True,
    "ais/pyais/timestamped.ais": True,
    "ais/kystverket/Ais1000Lines.nm4": False,
    "ais/aisdb/test_data_20211101.nm4": False,
    "ais/aisdb/test_data_201201.nmea": False,
    "ais/libais/test.aivdm": False,
}


def _checksums_valid(raw: bytes) -> bool:
    """Every sentence's own checksum (between the delimiter and ``*hh``, trailing fields ignored)."""
    for sentence in raw.split(b"\n"):
        start = max(sentence.find(b"!"), 0)
        star = sentence.find(b"*", start)
        given = sentence[star + 1 : star + 3]
        if star < 0 or len(given) != 2:
            return False
        computed = 0
        for byte in sentence[start + 1 : star]:
            computed ^= byte
        if f"{computed:02X}" != given.decode("ascii", "replace").upper():
            return False
    return True


#: ITU-R M.1371-5 Annex 8: bit at which the last field tracker stores ends, per message type
#: (1-3: time stamp; 4: latitude; 5: draught; 9: time stamp; 18: time stamp; 19: dimensions;
#: 21: dimensions; 27: course over ground). A shorter payload lacks some of those fields.
ITU_FIELD_END = {1: 143, 2: 143, 3: 143, 4: 134, 5: 302, 9: 134, 18: 139, 19: 301, 21: 249, 27: 94}


def payload_bits(msg) -> int:
    """Bits in a pyais message's payload (six per character, less the fill bits)."""
    return len(msg.payload) * 6 - msg.fill_bits


def pyais_kinds(path: Path) -> tuple[int, int, int]:
    """(position messages, static messages, messages that are both: type 19) that pyais
    decodes from a file, counted as :func:`pyais_counts` says."""
    positions = statics = both = 0
    for msg in FileReaderStream(str(path)):
        if not _checksums_valid(msg.raw):
            continue
        try:
            decoded = msg.decode()
        except Exception:  # noqa: BLE001 - pyais raises several kinds; tracker quarantines them
            continue
        kind = decoded.msg_type
        if payload_bits(msg) < ITU_FIELD_END.get(kind, 0):
            continue
        if kind in POSITION_TYPES:
            lon, lat = decoded.lon, decoded.lat
            lon_bad = lon is not None and abs(lon) > 180 and lon != 181
            lat_bad = lat is not None and abs(lat) > 90 and lat != 91
            if lon_bad or lat_bad:
                continue
            positions += 1
        if kind in STATIC_TYPES:
            statics += 1
        both += kind in POSITION_TYPES and kind in STATIC_TYPES
    return positions, statics, both


def pyais_counts(path: Path) -> tuple[int, int]:
    """(position messages, static messages) that pyais decodes from a file.

    Counted as tracker should store them: checksum-valid sentences only, messages whose
    coordinates lie outside the valid range (not the 91/181 "not available" marks) left out,
    and payloads too short to hold every stored field (ITU-R M.1371 lengths) left out.
    """
    positions, statics, _both = pyais_kinds(path)
    return positions, statics


def lineage_entries(engine: sa.Engine) -> list[tuple[str, int, int, str]]:
    """Every message kept in the raw blocks, decoded: ``(input sha256, line, line_end, raw)``,
    sorted (however the ingest cut its batches into blocks)."""
    from tracker.store.lineage import decode_block
    from tracker.store.tables import ingest_runs, raw_blocks

    out = []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ingest_runs.c.sha256, raw_blocks.c.data).join(
                ingest_runs, ingest_runs.c.id == raw_blocks.c.input_id
            )
        ).all()
    for sha, data in rows:
        out += [(sha, line, end, raw) for line, (end, raw) in decode_block(data).items()]
    return sorted(out)


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Row count of every AIS table; for ``raw_blocks`` the number of messages whose raw text
    the blocks hold (the lineage entries), not of blocks, which depend on batching."""
    with engine.connect() as conn:
        out = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in TABLES
            if t != "raw_blocks"
        }
    out["raw_blocks"] = len(lineage_entries(engine))
    return out


def store_snapshot(engine: sa.Engine) -> dict[str, list]:
    """The data content of every AIS table, without surrogate ids and wall-clock times, read
    through the table types (the values, however SQLite or PostgreSQL keep them); lineage as
    the (line, line_end, raw) of every message the raw blocks hold."""
    from tracker.store.tables import ingest_runs, positions, quarantine, static_reports, vessels

    def cols(table, names):
        return [table.c[n] for n in names.split()]

    p, s, q, r = positions, static_reports, quarantine, ingest_runs
    queries = {
        "positions": sa.select(
            *cols(
                p,
                "key mmsi ts ts_assumed lon lat sog_kn cog_deg heading_deg nav_status msg_type"
                " source line line_end",
            )
        ).order_by(p.c.key),
        "static_reports": sa.select(
            *cols(s, "key mmsi ts imo name callsign ship_type length_m destination line line_end")
        ).order_by(s.c.key),
        "vessels": sa.select(
            *cols(vessels, "mmsi first_seen last_seen positions statics")
        ).order_by(vessels.c.mmsi),
        "quarantine": sa.select(*cols(q, "key source line reason raw")).order_by(q.c.key),
        "ingest_runs": sa.select(
            *cols(r, "sha256 status read positions statics quarantined")
        ).order_by(r.c.sha256),
    }
    with engine.connect() as conn:
        out = {name: [tuple(row) for row in conn.execute(q)] for name, q in queries.items()}
    out["lineage"] = [entry[1:] for entry in lineage_entries(engine)]
    return out


def stored_with_raw(engine: sa.Engine) -> list[dict]:
    """Every stored position and static report with its raw text from the blocks: dicts of
    ``table, id, key, mmsi, msg_type, sha256, line, line_end, raw`` (``raw`` None when no
    block holds it), positions first, by id."""
    from tracker.store.tables import ingest_runs, positions, static_reports

    kept = {(sha, line): (end, raw) for sha, line, end, raw in lineage_entries(engine)}
    out = []
    with engine.connect() as conn:
        for table in (positions, static_reports):
            rows = conn.execute(
                sa.select(
                    table.c.id,
                    table.c.key,
                    table.c.mmsi,
                    table.c.msg_type,
                    ingest_runs.c.sha256,
                    table.c.line,
                    table.c.line_end,
                )
                .join(ingest_runs, ingest_runs.c.id == table.c.input_id)
                .order_by(table.c.id)
            ).all()
            for rid, key, mmsi, msg_type, sha, line, line_end in rows:
                end, raw = kept.get((sha, line), (None, None))
                out.append(
                    {
                        "table": table.name,
                        "id": rid,
                        "key": key,
                        "mmsi": mmsi,
                        "msg_type": msg_type,
                        "sha256": sha,
                        "line": line,
                        "line_end": line_end if line_end is not None else line,
                        "block_line_end": end,
                        "raw": raw,
                    }
                )
    return out


def fictitious_fleet_nmea(
    path: Path, *, vessels: int = 3, hours: int = 6, every_min: int = 10
) -> Path:
    """NMEA for a few fictitious ships (MMSI 999000001.., names 'TEST VESSEL n (FICTITIOUS)')."""
    lines: list[str] = []
    start = datetime(2025, 5, 20, tzinfo=UTC)
    for i in range(vessels):
        lon0, lat0 = -20.0 + i * 0.5, 8.0 + i * 0.2
        speed = 10.0 + i
        distance_deg = speed * hours / 60.0
        track = sail(
            [(lon0, lat0), (lon0 + distance_deg, lat0)],
            start=start,
            speed_kn=speed,
            report_every=timedelta(minutes=every_min),
        )
        lines += track_to_nmea(
            track,
            mmsi=999000001 + i,
            name=f"TEST VESSEL {i + 1}",
            callsign=f"TEST{i + 1}",
            station=f"rx{i}",
        )
    return write_nmea(path, lines)


def aisstream_lines(frames, *, limit: int | None = None) -> list[str]:
    """aisstream.io-shaped JSON lines built from decoded positions and static reports."""
    out = []
    for row in frames.positions.head(limit).itertuples():
        msg = {
            "MessageType": "PositionReport",
            "MetaData": {
                "MMSI": int(row.mmsi),
                "latitude": row.lat,
                "longitude": row.lon,
                "time_utc": row.ts.strftime("%Y-%m-%d %H:%M:%S.%f") + "123 +0000 UTC",
            },
            "Message": {
                "PositionReport": {
                    "UserID": int(row.mmsi),
                    "MessageID": int(row.msg_type),
                    "Latitude": row.lat,
                    "Longitude": row.lon,
                    "Sog": 102.3 if pd.isna(row.sog_kn) else row.sog_kn,
                    "Cog": 360 if pd.isna(row.cog_deg) else row.cog_deg,
                    "TrueHeading": 511,
                    "NavigationalStatus": 0,
                }
            },
        }
        out.append(json.dumps(msg))
    for row in frames.statics.head(limit).itertuples():
        msg = {
            "MessageType": "ShipStaticData",
            "MetaData": {
                "MMSI": int(row.mmsi),
                "time_utc": row.ts.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
            },
            "Message": {
                "ShipStaticData": {
                    "UserID": int(row.mmsi),
                    "MessageID": 5,
                    "Name": "" if pd.isna(row.name) else row.name,
                    "CallSign": "" if pd.isna(row.callsign) else row.callsign,
                    "ImoNumber": 0 if pd.isna(row.imo) else int(row.imo),
                    "Type": 70,
                    "Dimension": {"A": 50, "B": 50, "C": 8, "D": 8},
                    "Destination": "CONAKRY",
                    "Eta": {"Month": 5, "Day": 29, "Hour": 6, "Minute": 0},
                }
            },
        }
        out.append(json.dumps(msg))
    return out
