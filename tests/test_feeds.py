"""Live feeds against real peers on loopback (port 0), each bounded in time."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from aisutil import lineage_entries
from pyais.encode import encode_dict

from tracker.core.records import BadRecord
from tracker.sources.ais.feeds import RX_TIME, open_feed
from tracker.sources.ais.records import AISMessage
from tracker.store import open_store
from tracker.store.ingest import begin_feed_run, ingest_ais_file, ingest_messages
from tracker.store.tables import ingest_runs, positions, static_reports

KYST = "ais/kystverket/Ais1000Lines.nm4"
LIMIT_S = 20.0


def _deadline(limit: float = LIMIT_S):
    end = time.monotonic() + limit
    return lambda: time.monotonic() > end


def _keys(store) -> tuple[set[str], set[str]]:
    with store.engine.connect() as conn:
        pos = set(conn.execute(sa.select(positions.c.key)).scalars())
        stat = set(conn.execute(sa.select(static_reports.c.key)).scalars())
    return pos, stat


def _collect(feed, *, done) -> list:
    timed_out = _deadline()
    items = list(feed.items(until=lambda: done() or timed_out()))
    assert not timed_out(), (
        f"feed did not deliver in {LIMIT_S}s: {feed.status}, {feed.status.received} lines"
    )
    return items


def test_tcp_feed_survives_a_dropped_connection_and_stores_each_message_once(shared_file, tmp_path):
    path = shared_file(KYST)
    lines = [line for line in path.read_bytes().split(b"\n") if line.strip()]
    cut, resume = 500, 450  # drop after line 500, come back re-sending from line 450
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(LIMIT_S)
    port = server.getsockname()[1]
    sent = {"lines": 0, "connections": 0}

    def serve():
        for n, chunk in enumerate((lines[:cut], lines[resume:])):
            conn, _ = server.accept()
            sent["connections"] += 1
            conn.sendall(b"\r\n".join(chunk) + b"\r\n")
            sent["lines"] += len(chunk)
            if n == 0:
                conn.close()  # the peer drops mid-stream
            else:
                time.sleep(LIMIT_S)  # stays connected (the feed stops first)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    feed = open_feed(f"tcp://127.0.0.1:{port}", session="t1")
    total = cut + len(lines) - resume
    items = _collect(feed, done=lambda: feed.status.received >= total)
    server.close()
    assert sent["connections"] == 2 and feed.status.connections == 2
    messages = [i for i in items if isinstance(i, AISMessage)]
    assert len(messages) > 500
    # line = message sequence in the session, across the reconnection
    assert max(m.line_end for m in messages) <= total

    live = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    input_id = begin_feed_run(live, url=feed.url, session=feed.session)
    ingest_messages(live, items, input_id=input_id, batch_size=100)
    oracle = open_store(f"sqlite:///{tmp_path / 'file.db'}")
    ingest_ais_file(oracle, path)
    live_pos, live_static = _keys(live)
    file_pos, file_static = _keys(oracle)
    assert len(file_pos) > 500 and len(file_static) > 50
    assert live_pos == file_pos and live_static == file_static
    with live.engine.connect() as conn:
        run = conn.execute(sa.select(ingest_runs)).mappings().one()
        assert run["path"] == f"tcp://127.0.0.1:{port} session t1"
        assert conn.execute(sa.select(sa.func.count()).select_from(positions)).scalar() == len(
            file_pos
        )
    kept = lineage_entries(live.engine)
    assert len(kept) == len(file_pos | file_static)  # every stored message's text
    assert all(raw.startswith("\\") for _sha, _line, _end, raw in kept)  # as received: no prefix


def _nmea(mmsi: int, lon: float, lat: float, **extra) -> str:
    return encode_dict(
        {"msg_type": 1, "mmsi": mmsi, "lon": lon, "lat": lat, "second": 60, **extra},
        talker_id="AI",
    )[0]


def test_udp_feed_gives_untimed_messages_the_reception_time(tmp_path):
    feed = open_feed("udp://127.0.0.1:0", session="u1")
    sentences = [_nmea(999000001 + i, 5.0 + i / 100, 60.0) for i in range(20)]
    sentences.append("!AIVDM,1,1,,A,garbage,0*00")  # bad checksum: quarantined
    before = datetime.now(UTC)

    def send():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(0, len(sentences), 3):  # several sentences a datagram
            sock.sendto("\r\n".join(sentences[i : i + 3]).encode(), ("127.0.0.1", feed.bound_port))
            time.sleep(0.01)
        sock.close()

    out: list = []
    timed_out = _deadline()
    started = threading.Event()

    def until():
        if not started.is_set() and feed.bound_port:
            started.set()
            threading.Thread(target=send, daemon=True).start()
        return feed.status.received >= len(sentences) or timed_out()

    out = list(feed.items(until=until))
    after = datetime.now(UTC)
    assert not timed_out()
    messages = [i for i in out if isinstance(i, AISMessage)]
    bad = [i for i in out if isinstance(i, BadRecord)]
    assert sorted(m.mmsi for m in messages) == [999000001 + i for i in range(20)]
    assert all(before <= m.ts <= after and not m.ts_assumed for m in messages)
    assert all(m.source == RX_TIME for m in messages)
    assert all(m.raw.startswith("!AIVD") for m in messages)
    assert len(bad) == 1 and "checksum" in bad[0].reason and bad[0].path.startswith("udp://")


def test_tcp_listener_takes_lines_from_clients():
    feed = open_feed("tcp-listen://127.0.0.1:0", session="l1")
    sentences = [_nmea(999000100 + i, 4.0, 59.0 + i / 100) for i in range(5)]

    def client():
        with socket.create_connection(("127.0.0.1", feed.bound_port), timeout=5) as sock:
            sock.sendall(("\n".join(sentences) + "\n").encode())

    started = threading.Event()
    timed_out = _deadline()

    def until():
        if not started.is_set() and feed.bound_port:
            started.set()
            threading.Thread(target=client, daemon=True).start()
        return feed.status.received >= len(sentences) or timed_out()

    items = list(feed.items(until=until))
    assert not timed_out()
    assert sorted(i.mmsi for i in items) == [999000100 + i for i in range(5)]


def _aisstream_message(mmsi: int, ts: str | None) -> dict:
    meta = {"MMSI": mmsi, "ShipName": "TEST (FICTITIOUS)", "latitude": 60.1, "longitude": 5.2}
    if ts:
        meta["time_utc"] = ts
    return {
        "MessageType": "PositionReport",
        "MetaData": meta,
        "Message": {
            "PositionReport": {
                "UserID": mmsi,
                "MessageID": 1,
                "Latitude": 60.1,
                "Longitude": 5.2,
                "Sog": 10.5,
                "Cog": 90.0,
                "TrueHeading": 91,
                "NavigationalStatus": 0,
            }
        },
    }


def test_websocket_feed_subscribes_and_reads_aisstream_json(monkeypatch):
    from websockets.sync.server import serve

    monkeypatch.setenv("AISSTREAM_API_KEY", "test-key-123")
    subscriptions: list[dict] = []
    frames = [
        json.dumps(_aisstream_message(999000201, "2026-11-01 10:00:00.123456 +0000 UTC")),
        json.dumps(_aisstream_message(999000202, None)),  # no time: reception time
        "{not json",
    ]
    rounds = {"n": 0}

    def handler(ws):
        subscriptions.append(json.loads(ws.recv(timeout=5)))
        rounds["n"] += 1
        if rounds["n"] == 1:
            ws.send(frames[0])
            return  # the server drops the first connection
        for frame in frames[1:]:
            ws.send(frame)
        time.sleep(3)

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        feed = open_feed(
            f"ws://127.0.0.1:{port}/v0/stream?bbox=59,4,61,6&mmsi=999000201,999000202",
            session="w1",
        )
        items = _collect(feed, done=lambda: feed.status.received >= 3)
        server.shutdown()
    assert feed.url == f"ws://127.0.0.1:{port}/v0/stream"
    assert subscriptions[0] == {
        "APIKey": "test-key-123",
        "BoundingBoxes": [[[59.0, 4.0], [61.0, 6.0]]],
        "FiltersShipMMSI": ["999000201", "999000202"],
    }
    assert len(subscriptions) == 2  # it came back after the drop
    messages = {i.mmsi: i for i in items if isinstance(i, AISMessage)}
    assert set(messages) == {999000201, 999000202}
    assert messages[999000201].ts == datetime(2026, 11, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert messages[999000201].position["sog_kn"] == 10.5
    assert messages[999000202].source.endswith(RX_TIME) and not messages[999000202].ts_assumed
    assert [i.line for i in items if isinstance(i, BadRecord)] == [3]


def test_wss_without_api_key_is_refused(monkeypatch):
    from tracker.core.errors import InputError

    monkeypatch.delenv("AISSTREAM_API_KEY", raising=False)
    with pytest.raises(InputError, match="AISSTREAM_API_KEY"):
        open_feed("wss://stream.aisstream.io/v0/stream").subscription()


def test_file_feed_follows_a_growing_file_across_rotation(tmp_path):
    log = tmp_path / "ais.nmea"
    first = [_nmea(999000300 + i, 3.0, 58.0 + i / 100) for i in range(10)]
    second = [_nmea(999000400 + i, 3.5, 58.0 + i / 100) for i in range(10)]
    log.write_text("\n".join(first[:5]) + "\n")
    feed = open_feed(f"file://{log}", session="f1")

    def writer():
        time.sleep(0.5)
        with log.open("a") as fh:  # grows
            fh.write("\n".join(first[5:]) + "\n")
        time.sleep(0.5)
        os.rename(log, tmp_path / "ais.nmea.1")  # rotated
        time.sleep(0.3)
        log.write_text("\n".join(second) + "\n")

    threading.Thread(target=writer, daemon=True).start()
    items = _collect(feed, done=lambda: feed.status.received >= 20)
    mmsis = sorted(i.mmsi for i in items if isinstance(i, AISMessage))
    assert mmsis == sorted([999000300 + i for i in range(10)] + [999000400 + i for i in range(10)])
    assert [i.line for i in items] == list(range(1, 21))


def test_feed_that_stays_down_says_so():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    feed = open_feed(f"tcp://127.0.0.1:{port}", session="d1", max_backoff=0.5)
    timed_out = _deadline(3)
    list(feed.items(until=lambda: feed.status.state == "down" or timed_out()))
    assert re.search(r"refused", feed.status.error or "", re.I)
